"""``cmaxfam.show_config()``: what was built and what runs."""
from __future__ import annotations

import platform
import sys

import numpy as np

from ._cy import _config as _c


def config():
    """The configuration as a dict: version, instruction-set paths, platform."""
    from . import __version__
    return {
        "cmaxfam": __version__,
        "isa_active": _c.active_isa(),
        "isa_detected": _c.detected_isa(),
        "isa_paths": list(_c.ISA_NAMES),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "machine": platform.machine(),
    }


def show_config():
    """Print the configuration (the instruction-set path in use, and what the CPU offers).

    The path can be lowered with the environment variable ``CMAXFAM_ISA`` (``baseline``,
    ``avx2``, ``avx512``) set before import.
    """
    for k, v in config().items():
        print(f"{k:>13}: {v}")
