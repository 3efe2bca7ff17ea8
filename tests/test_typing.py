"""The installed package's type stubs: present, current, true to the runtime.

* every compiled module has a .pyi beside it, and py.typed is installed;
* cmaxfam/__init__.pyi is what tools/make_stubs.py writes;
* every stub signature has the runtime's parameter names, kinds and default values
  (``python -m mypy.stubtest cmaxfam`` checks names and kinds, but not the default values
  of overloads);
* ``python -m mypy.stubtest cmaxfam`` passes;
* mypy --strict accepts tests/typing/usage.py (assert_type on the inferred types) and
  reports exactly the marked errors in tests/typing/fail.py;
* usage.py run for real: each asserted type is the type of the value at run time.
"""
from __future__ import annotations

import ast
import importlib.machinery
import importlib.util
import inspect
import os
import re
import runpy
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

import cmaxfam

ROOT = Path(__file__).resolve().parent.parent
TYPING = Path(__file__).resolve().parent / "typing"
PKG = Path(cmaxfam.__file__).resolve().parent
STUB = PKG / "__init__.pyi"


def _has_mypy():
    return importlib.util.find_spec("mypy") is not None


needs_mypy = pytest.mark.skipif(not _has_mypy(), reason="mypy is not installed (pip install .[test])")


def test_stubs_are_installed_for_every_compiled_module():
    assert (PKG / "py.typed").is_file()
    assert STUB.is_file()
    compiled = [f.name.split(".")[0] for f in (PKG / "_cy").iterdir()
                if f.name.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))]
    assert len(compiled) >= 6, compiled
    missing = [m for m in compiled if not (PKG / "_cy" / f"{m}.pyi").is_file()]
    assert not missing, f"compiled modules without a stub: {missing}"


def test_stub_is_what_the_generator_writes():
    spec = importlib.util.spec_from_file_location("make_stubs", ROOT / "tools" / "make_stubs.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    assert STUB.read_text() == gen.render(), \
        "cmaxfam/__init__.pyi is stale: run python tools/make_stubs.py and reinstall"


def _stub_functions():
    """name -> list of ast.FunctionDef (one per overload) of the installed stub."""
    funcs = {}
    for node in ast.parse(STUB.read_text()).body:
        if isinstance(node, ast.FunctionDef):
            funcs.setdefault(node.name, []).append(node)
    return funcs


def _stub_params(fn):
    """[(name, kind, default node or None)] of a stub def."""
    a = fn.args
    pos = a.posonlyargs + a.args
    pos_defaults = [None] * (len(pos) - len(a.defaults)) + list(a.defaults)
    out = [(p.arg, inspect.Parameter.POSITIONAL_OR_KEYWORD, d) for p, d in zip(pos, pos_defaults)]
    out += [(p.arg, inspect.Parameter.KEYWORD_ONLY, d) for p, d in zip(a.kwonlyargs, a.kw_defaults)]
    assert a.vararg is None and a.kwarg is None and not a.posonlyargs, fn.name
    return out


def test_stub_signatures_match_the_runtime():
    funcs = _stub_functions()
    assert sorted(funcs) == sorted(cmaxfam.__all__)
    for name, overloads in funcs.items():
        runtime = inspect.signature(getattr(cmaxfam, name)).parameters
        given = set()                       # runtime defaults that some overload states
        for fn in overloads:
            params = _stub_params(fn)
            where = f"{name} (stub line {fn.lineno})"
            assert [p[0] for p in params] == list(runtime), where
            for pname, kind, default in params:
                rp = runtime[pname]
                # an overload may make a positional parameter keyword-only (a required
                # Literal[True] flag after optional positionals), never the reverse
                assert kind == rp.kind or (kind == inspect.Parameter.KEYWORD_ONLY
                                           and rp.kind == inspect.Parameter.POSITIONAL_OR_KEYWORD), \
                    f"{where}: {pname} is {kind}, runtime {rp.kind}"
                if default is not None:
                    value = ast.literal_eval(default)
                    assert rp.default is not inspect.Parameter.empty, f"{where}: {pname} has no default"
                    assert repr(value) == repr(rp.default), \
                        f"{where}: {pname} = {value!r}, runtime {rp.default!r}"
                    given.add(pname)
        missing = {p for p, rp in runtime.items() if rp.default is not inspect.Parameter.empty} - given
        assert not missing, f"{name}: no overload gives the default of {sorted(missing)}"


def _env():
    env = dict(os.environ)
    env.pop("MYPYPATH", None)
    env.pop("PYTHONPATH", None)             # the installed package, not a source tree
    return env


@needs_mypy
def test_stubtest(tmp_path):
    r = subprocess.run([sys.executable, "-m", "mypy.stubtest", "cmaxfam",
                        "--mypy-config-file", str(ROOT / "pyproject.toml"),
                        "--allowlist", str(TYPING / "stubtest-allowlist.txt"),
                        "--ignore-unused-allowlist"],
                       cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-8000:] + r.stderr[-2000:]
    assert "Success" in r.stdout


_ERROR = re.compile(r"^(?P<path>.+?):(?P<line>\d+): error: .*\[(?P<code>[a-z-]+)\]$")


@needs_mypy
def test_mypy_on_typed_usage(tmp_path):
    usage, fail = TYPING / "usage.py", TYPING / "fail.py"
    config = tmp_path / "mypy.ini"
    config.write_text("[mypy]\n")
    r = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--config-file", str(config),
                        "--cache-dir", str(tmp_path / "cache"), "--no-pretty", "--no-error-summary",
                        "--show-error-codes", str(usage), str(fail)],
                       cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=300)
    errors = {}
    for line in r.stdout.splitlines():
        m = _ERROR.match(line)
        if m:
            errors.setdefault((Path(m["path"]).name, int(m["line"])), set()).add(m["code"])
    assert r.returncode in (0, 1), r.stdout[-4000:] + r.stderr[-4000:]
    assert not [k for k in errors if k[0] == "usage.py"], r.stdout
    expected = {}
    for i, text in enumerate(fail.read_text().splitlines(), 1):
        m = re.search(r"# E: ([a-z-]+)", text)
        if m:
            expected[("fail.py", i)] = m[1]
    assert len(expected) >= 10
    got = {k: v for k, v in errors.items() if k[0] == "fail.py"}
    assert set(got) == set(expected), r.stdout
    for k, code in expected.items():
        assert code in got[k], f"fail.py:{k[1]}: expected [{code}], got {got[k]}"


def test_typed_usage_holds_at_run_time(capsys):
    """usage.py's assert_type, run for real, checks each value's actual type."""
    ns = runpy.run_path(str(TYPING / "usage.py"), run_name="typed_usage")
    capsys.readouterr()                     # show_config's output
    matches = ns["_matches"]
    # the run-time check can fail
    assert matches(np.zeros(2, np.float32), NDArray[np.float32])
    assert not matches(np.zeros(2, np.float32), NDArray[np.float64])
    assert not matches(np.float32(1.0), np.float64)
    assert not matches(np.float64(1.0), NDArray[np.float64])
    assert matches(np.float64(1.0), np.float64 | NDArray[np.float64])
    assert not matches((np.zeros(1),), tuple[NDArray[Any], NDArray[Any]])
    assert matches(np.zeros(1, np.int64), NDArray[Any])
