"""The compiled modules of cmaxfam (Cython over the C core in src/).

In a source checkout this directory holds only the .pyx sources.  When the package is
imported from there (``python -m cmaxfam`` run in the repository root after
``pip install .`` puts the current directory first on ``sys.path``), the compiled
modules are taken from the installed copy of the package instead.
"""
import importlib.machinery as _machinery
import os as _os
import sys as _sys


def _has_extensions(d):
    try:
        return any(f.endswith(tuple(_machinery.EXTENSION_SUFFIXES)) for f in _os.listdir(d))
    except OSError:
        return False


def _installed_dir():
    here = _os.path.dirname(_os.path.abspath(__file__))
    if _has_extensions(here):
        return None
    for entry in _sys.path:
        d = _os.path.abspath(_os.path.join(entry or _os.getcwd(), "cmaxfam", "_cy"))
        if d != here and _has_extensions(d):
            return d
    return None


_d = _installed_dir()
if _d is not None:
    __path__.append(_d)
del _d
