"""What a wheel user meets first: the version, the cost of ``import cmaxfam``, and which
shared libraries the compiled modules need (issue 7, Wheels)."""
from __future__ import annotations

import importlib.metadata
import json
import re
import shutil
import statistics
import struct
import subprocess
import sys
from pathlib import Path

import pytest

import cmaxfam

ROOT = Path(__file__).resolve().parent.parent


def _pyproject_version():
    path = ROOT / "pyproject.toml"
    if not path.is_file():
        pytest.skip("no pyproject.toml next to tests/ (tests copied without the source tree)")
    text = path.read_text(encoding="utf-8")
    try:
        import tomllib
    except ImportError:  # Python 3.10: the [project] table's version line
        m = re.search(r'^\[project\]\s*$(.*?)^version\s*=\s*"([^"]+)"', text, re.M | re.S)
        assert m, "no version in [project] of pyproject.toml"
        return m.group(2)
    return tomllib.loads(text)["project"]["version"]


def test_version_is_the_package_metadata():
    assert cmaxfam.__version__ == importlib.metadata.version("cmaxfam")
    assert cmaxfam.__version__ == _pyproject_version()
    from cmaxfam import __version__   # the lazy attribute also serves `from ... import`
    assert __version__ == cmaxfam.__version__
    with pytest.raises(AttributeError, match="no_such_name"):
        cmaxfam.no_such_name  # noqa: B018


def _python(code, tmp_path):
    """Run ``code`` in a fresh interpreter, from a directory without the source tree (the
    repository root holds the uncompiled ``cmaxfam/``)."""
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout


# Modules that `import cmaxfam` must not load: the optional dependencies (and anything
# heavy that only a command or an estimator needs), cmaxfam's own modules built on them,
# and importlib.metadata (cmaxfam.__version__ is looked up on first use).
FORBIDDEN_TOP = ("scipy", "sklearn", "matplotlib", "torch", "entmax", "pandas", "PIL")
FORBIDDEN_OWN = ("cmaxfam._bench", "cmaxfam._plot", "cmaxfam.__main__")

_NEW_MODULES = """
import sys, json
import numpy
before = set(sys.modules)
import cmaxfam
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def test_import_loads_no_optional_dependency(tmp_path):
    new = json.loads(_python(_NEW_MODULES, tmp_path))
    assert "cmaxfam" in new and "cmaxfam._cy.normalizers" in new   # the probe works
    heavy = [m for m in new if m.split(".")[0] in FORBIDDEN_TOP]
    assert not heavy, f"import cmaxfam loads {heavy}"
    own = [m for m in new if m in FORBIDDEN_OWN or "sklearn" in m or "estimator" in m]
    assert not own, f"import cmaxfam loads {own}"
    assert "importlib.metadata" not in new


_IMPORT_TIME = """
import time, json
import numpy
t0 = time.perf_counter()
import cmaxfam
t1 = time.perf_counter()
print(json.dumps(t1 - t0))
"""

_IMPORT_TIME_WITH_NUMPY = """
import time, json
t0 = time.perf_counter()
import cmaxfam
t1 = time.perf_counter()
print(json.dumps(t1 - t0))
"""


def test_import_time(tmp_path):
    """`import cmaxfam` costs < 50 ms (median of 7 fresh interpreters), timed inside the
    interpreter around the import statement, NumPy already imported: cmaxfam's own cost
    (its Python modules, the compiled modules, the ISA selection, the docstring assembly:
    about 10 ms on the CI machine, 2 vCPU Zen 4).  The cost with NumPy's import included
    is printed for the record (pytest -s): NumPy's own import (60-190 ms there, depending
    on the load) is paid by every NumPy program and is not cmaxfam's to cut."""
    _python("import cmaxfam", tmp_path)   # warm the page cache and the .pyc files
    own = [json.loads(_python(_IMPORT_TIME, tmp_path)) for _ in range(7)]
    total = [json.loads(_python(_IMPORT_TIME_WITH_NUMPY, tmp_path)) for _ in range(3)]
    ms = statistics.median(own) * 1e3
    print(f"\nimport cmaxfam: {ms:.1f} ms on top of numpy (median of 7); "
          f"{statistics.median(total) * 1e3:.1f} ms including numpy (median of 3)")
    assert ms < 50.0, f"import cmaxfam took {ms:.1f} ms (NumPy already imported): {own}"


# -- the compiled modules' shared-library needs (Linux, ELF) -----------------------------

#: what a manylinux/musllinux extension module may need from the system: the C library,
#: libm and the loader (libpthread/libdl/librt: pre-2.34 glibc; libgcc_s: the compiler's
#: runtime, on every system).  An OpenMP runtime (libgomp), libstdc++, libpython or a
#: vendored library (auditwheel's cmaxfam.libs/) would fail this list.
ALLOWED_NEEDED = re.compile(
    r"^(libc\.so\.6|libm\.so\.6|libpthread\.so\.0|libdl\.so\.2|librt\.so\.1|libgcc_s\.so\.1"
    r"|ld-linux[-\w.]*\.so\.\d|libc\.so|libc\.musl-\w+\.so\.1|ld-musl-\w+\.so\.1)$")


def elf_needed(path):
    """DT_NEEDED entries of an ELF shared object (read through its program headers, as the
    loader does; no external tool)."""
    data = Path(path).read_bytes()
    if data[:4] != b"\x7fELF":
        raise ValueError(f"{path} is not an ELF file")
    is64, end = data[4] == 2, "<" if data[5] == 1 else ">"
    if is64:
        e_phoff, = struct.unpack_from(end + "Q", data, 0x20)
        e_phentsize, e_phnum = struct.unpack_from(end + "HH", data, 0x36)
        ph, dyn = end + "IIQQQQQQ", end + "qQ"        # p_type, p_flags, p_offset, p_vaddr, ..
    else:
        e_phoff, = struct.unpack_from(end + "I", data, 0x1C)
        e_phentsize, e_phnum = struct.unpack_from(end + "HH", data, 0x2A)
        ph, dyn = end + "IIIIIIII", end + "iI"        # p_type, p_offset, p_vaddr, ...
    loads, dynamic = [], None
    for i in range(e_phnum):
        f = struct.unpack_from(ph, data, e_phoff + i * e_phentsize)
        p_type, (p_offset, p_vaddr, p_filesz) = f[0], ((f[2], f[3], f[5]) if is64 else
                                                       (f[1], f[2], f[4]))
        if p_type == 1:          # PT_LOAD
            loads.append((p_vaddr, p_offset, p_filesz))
        elif p_type == 2:        # PT_DYNAMIC
            dynamic = (p_offset, p_filesz)
    if dynamic is None:
        return []
    entries, step = [], struct.calcsize(dyn)
    for off in range(dynamic[0], dynamic[0] + dynamic[1], step):
        tag, val = struct.unpack_from(dyn, data, off)
        if tag == 0:             # DT_NULL
            break
        entries.append((tag, val))
    strtab = next(val for tag, val in entries if tag == 5)             # DT_STRTAB (address)
    base = next(o + strtab - v for v, o, n in loads if v <= strtab < v + n)

    def string(i):
        return data[base + i:data.index(b"\0", base + i)].decode()
    return [string(val) for tag, val in entries if tag == 1]           # DT_NEEDED


def _extension_modules():
    import importlib.machinery
    folder = Path(cmaxfam.__file__).parent / "_cy"
    found = sorted(p for s in importlib.machinery.EXTENSION_SUFFIXES for p in folder.glob("*" + s))
    assert len(found) >= 6, f"compiled modules not found in {folder}: {found}"
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ELF shared objects: Linux")
def test_compiled_modules_need_only_the_c_library():
    for so in _extension_modules():
        needed = elf_needed(so)
        assert any(n.startswith("libc.") for n in needed), (so.name, needed)   # parsed for real
        assert not [n for n in needed if not ALLOWED_NEEDED.match(n)], (so.name, needed)
        if shutil.which("readelf"):      # the parser agrees with binutils where it is present
            out = subprocess.run(["readelf", "-d", str(so)], capture_output=True, text=True).stdout
            assert needed == re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", out)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ELF shared objects: Linux")
def test_needed_check_rejects_an_openmp_or_vendored_library():
    for bad in ("libgomp.so.1", "libomp.so", "libstdc++.so.6", "libpython3.11.so.1.0",
                "libgomp-a34b3233.so.1.0.0", "libcmf_core.so"):
        assert not ALLOWED_NEEDED.match(bad), bad
    # and the check, run on modules that do need more than libc, rejects them: CPython's
    # own extension modules (lib-dynload: _ssl needs libssl, _ctypes libffi, zlib libz, ...
    # when the interpreter links them as shared libraries)
    import os
    dynload = Path(os.__file__).parent / "lib-dynload"
    rejected = {so.name: bad for so in sorted(dynload.glob("*.so"))
                if (bad := [n for n in elf_needed(so) if not ALLOWED_NEEDED.match(n)])}
    if not rejected:
        pytest.skip(f"no module of {dynload} needs a library beyond libc (static build)")
    assert any(n.startswith(("libssl", "libcrypto", "libffi", "libz", "libbz2", "liblzma",
                             "libsqlite3", "libuuid", "libncurses"))
               for bad in rejected.values() for n in bad), rejected
