"""Checks of the distributions that .ci/run builds.

    python .ci/check_dist.py sdist dist/cmaxfam-X.tar.gz   # run from the repository root
    python .ci/check_dist.py wheel dist/cmaxfam-X-....whl

sdist: the archive holds every file git tracks (when run in a git checkout), and no build
product or cache (compiled modules, generated Cython C files, __pycache__, build/, venvs);
files it holds that git does not track are listed (a dirty tree), not fatal.  Without git
it checks the files the build cannot do without.

wheel: on Linux, ``auditwheel show --json``: the wheel is consistent with a manylinux (or
musllinux) tag and needs no external shared library (an OpenMP runtime, libstdc++, ...),
and the wheel vendors none (no cmaxfam.libs/).  Elsewhere it only lists the wheel.
"""
from __future__ import annotations

import fnmatch
import json
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

# what the build reads: without any of these `pip install <sdist>` fails or is wrong
ESSENTIAL = ["pyproject.toml", "CMakeLists.txt", "README.md", "PKG-INFO", "src/cmaxfam.h",
             "src/cmf_ops.def", "src/kernels.c", "src/dispatch.c", "cmaxfam/__init__.py",
             "cmaxfam/_cy/kernels.pxd", "cmaxfam/_cy/_common.pxd", "cmaxfam/_cy/normalizers.pyx",
             "tests/conftest.py"]
JUNK = ["*.so", "*.pyd", "*.dll", "*.dylib", "*.o", "*.pyc", "*/__pycache__/*", "build/*",
        ".venv*", "cmaxfam/_cy/*.c", "*/.hypothesis/*", ".pytest_cache/*", "*.egg-info/*",
        "dist/*", "wheelhouse/*"]


def fail(msg):
    print(f"check_dist: FAIL: {msg}")
    sys.exit(1)


def check_sdist(path):
    with tarfile.open(path) as tf:
        names = [m.name for m in tf.getmembers() if m.isfile()]
    tops = {n.split("/", 1)[0] for n in names}
    if len(tops) != 1:
        fail(f"{path}: expected one top-level folder, found {sorted(tops)}")
    files = {n.split("/", 1)[1] for n in names}
    junk = sorted(f for f in files if any(fnmatch.fnmatch(f, j) for j in JUNK))
    if junk:
        fail(f"{path} holds build products or caches: {junk}")
    missing = [f for f in ESSENTIAL if f not in files]
    pyx = {f for f in files if f.startswith("cmaxfam/_cy/") and f.endswith((".pyx", ".pxd"))}
    if Path(".git").exists() and shutil.which("git"):
        tracked = set(subprocess.run(["git", "ls-files", "-z"], capture_output=True, check=True,
                                     text=True).stdout.split("\0")) - {""}
        tracked = {f for f in tracked if Path(f).is_file()}   # deleted but not committed
        missing += sorted(tracked - files)
        extra = sorted(files - tracked - {"PKG-INFO"})
        if extra:
            print(f"check_dist: note: {len(extra)} file(s) in the sdist that git does not "
                  f"track (a dirty tree?): {extra}")
        how = f"all {len(tracked)} tracked files"
    else:
        how = "the essential files (no git checkout here)"
    if missing:
        fail(f"{path} lacks {missing}")
    print(f"check_dist: sdist OK: {len(files)} files, {how}, {len(pyx)} Cython sources, "
          f"no build products")


def check_wheel(path):
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
    mods = [n for n in names if re.match(r"cmaxfam/_cy/\w+\..*(so|pyd)$", n)]
    if len(mods) < 6:
        fail(f"{path}: expected the compiled modules in cmaxfam/_cy/, found {mods}")
    vendored = [n for n in names if ".libs/" in n or n.startswith("cmaxfam.libs")]
    if vendored:
        fail(f"{path} vendors shared libraries: {vendored}")
    if not sys.platform.startswith("linux"):
        print(f"check_dist: wheel {Path(path).name}: {len(mods)} compiled modules "
              "(auditwheel runs on Linux only)")
        return
    r = subprocess.run([sys.executable, "-m", "auditwheel", "show", "--json", str(path)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"auditwheel show failed ({r.returncode}): {r.stderr.strip()}")
    info = json.loads(r.stdout)
    if info.get("external_libs"):
        fail(f"auditwheel: the wheel needs external shared libraries: {info['external_libs']}")
    tag = info.get("overall_tag", "")
    if not re.fullmatch(r"(manylinux|musllinux)_\d+_\d+_\w+", tag):
        fail(f"auditwheel: no manylinux/musllinux tag: {info}")
    if info.get("unsupported_isa") or info.get("pyfpe") or info.get("ucs2"):
        fail(f"auditwheel: {info}")
    libs = ", ".join(sorted(info.get("versioned_symbols", {})))
    print(f"check_dist: wheel OK: {Path(path).name} is consistent with {tag}; "
          f"no external library (system: {libs})")


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("sdist", "wheel"):
        sys.exit(__doc__)
    (check_sdist if sys.argv[1] == "sdist" else check_wheel)(sys.argv[2])
