"""Shared fixtures for the cmaxfam test suite.

The tests exercise the *installed* package.  ``python -m pytest`` run from the
repository root puts the root on ``sys.path``, where ``cmaxfam/`` is the source tree
without its compiled extension modules; that entry is removed here so that
``import cmaxfam`` finds the installed package (this file never adds the source tree).
"""
from __future__ import annotations

import os
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

_ROOT = Path(__file__).resolve().parent.parent


def _is_root(entry):
    try:
        return Path(entry or os.getcwd()).resolve() == _ROOT
    except OSError:  # pragma: no cover
        return False


if "cmaxfam" not in sys.modules:
    sys.path[:] = [p for p in sys.path if not _is_root(p)]

# hypothesis keeps a cache in its storage directory (default: ./.hypothesis); keep it
# inside tests/ (ignored by git) rather than in whatever directory pytest runs from
os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", str(Path(__file__).parent / ".hypothesis"))

from hypothesis import HealthCheck, settings  # noqa: E402

# The default profile is reproducible (derandomized: the same examples on every run, as CI
# needs); CMAXFAM_HYPOTHESIS_PROFILE=cmaxfam-thorough explores new random examples.
settings.register_profile(
    "cmaxfam",
    deadline=None,
    max_examples=60,
    derandomize=True,
    database=None,            # nothing written outside the test run
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("cmaxfam-thorough", parent=settings.get_profile("cmaxfam"),
                          max_examples=1000, derandomize=False)
settings.load_profile(os.environ.get("CMAXFAM_HYPOTHESIS_PROFILE", "cmaxfam"))


def pytest_report_header(config):
    import cmaxfam
    return f"cmaxfam {cmaxfam.__version__} from {Path(cmaxfam.__file__).parent}"


@pytest.fixture
def rng(request):
    """A generator seeded from the test's id: reproducible, different for every test."""
    return np.random.default_rng(zlib.crc32(request.node.nodeid.encode()))


@pytest.fixture(params=[np.float32, np.float64], ids=["f32", "f64"])
def dtype(request):
    """The two natively computed dtypes."""
    return np.dtype(request.param)
