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
    """Print the build and runtime configuration: the instruction-set path in use.

    One line per item: the cmaxfam version; ``isa_active``, the instruction-set path the
    compiled kernels run (``baseline`` SSE2, ``avx2`` AVX2+FMA, or ``avx512``
    F/BW/DQ/VL); ``isa_detected``, the best one the CPU and operating system support;
    ``isa_paths``, the paths compiled into this build; then the Python and NumPy
    versions and the machine.

    Returns
    -------
    None
        The configuration is printed to standard output.

    See Also
    --------
    numpy.show_config : The same for NumPy.

    Notes
    -----
    The path is chosen once, at import, from what the CPU and the operating system
    support (never ``-march=native``: the same wheel runs everywhere).  The environment
    variable ``CMAXFAM_ISA`` (``baseline``, ``avx2`` or ``avx512``), set before the
    import, forces a lower path; the paths agree to a few units in the last place.

    Examples
    --------
    >>> import cmaxfam as cmf
    >>> cmf.show_config()  # doctest: +ELLIPSIS
          cmaxfam: ...
       isa_active: ...
     isa_detected: ...
        isa_paths: [...]
           python: ...
            numpy: ...
          machine: ...
    """
    for k, v in config().items():
        print(f"{k:>13}: {v}")
