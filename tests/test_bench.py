"""The benchmark engine (cmaxfam._bench) and its scripts: a smoke run on tiny arrays that
checks the structure of the rows, the markdown and the JSON, and that every
implementation's result agrees with cmaxfam's; the target bookkeeping on hand-made rows;
the "n/a" path of a cmaxfam function without ``n_threads``.  Timings are not checked."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

import cmaxfam as cmf
from cmaxfam import _bench as B, _plumbing

BENCH_DIR = Path(__file__).resolve().parent.parent / "benchmarks"
FAST = dict(quick=True, min_time=1e-3, repeat_time=2e-4, slow_repeats=1)
ROW_KEYS = {"op", "shape", "axis", "dtype", "impl", "threads", "median_s", "ns_per_element",
            "ratio_to_copyto", "ratio_to_fastest_peer", "fastest_peer", "peak_extra_bytes",
            "agrees", "repeats", "spread"}


def _load(name):
    path = BENCH_DIR / f"{name}.py"
    if not path.exists():  # pragma: no cover - an installed-only layout
        pytest.skip(f"{path} is not here")
    spec = importlib.util.spec_from_file_location(f"_bench_script_{name}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def smoke():
    """Every op of the full matrix on a tiny shape (both dtypes) and along axis 0 of
    another (float32), at 1 and 2 threads, against every peer that imports.  Returns the
    rows and the (shape, axis, dtype) cases."""
    rows = B.run(B.FULL_OPS, (((12, 40), -1),), B.DTYPES, threads=(1, 2), **FAST)
    rows += B.run(B.FULL_OPS, (((40, 12), 0),), ("float32",), threads=(1, 2), **FAST)
    cases = [((12, 40), -1, d) for d in B.DTYPES] + [((40, 12), 0, "float32")]
    return rows, cases


def test_smoke_rows(smoke):
    rows, cases = smoke
    assert rows and all(ROW_KEYS <= set(r) for r in rows)
    blocks = {}
    for r in rows:
        blocks.setdefault((r["op"], tuple(r["shape"]), r["axis"], r["dtype"], r["threads"]),
                          {})[r["impl"]] = r
    # every case at every thread count: copyto and cmaxfam (this cmaxfam has n_threads)
    want = {(op, s, a, d, t) for op in B.FULL_OPS for s, a, d in cases for t in (1, 2)}
    assert set(blocks) == want
    for key, g in blocks.items():
        op, shape, axis, dtype, t = key
        assert {"copyto", "cmaxfam"} <= set(g), key
        assert g["copyto"]["ratio_to_copyto"] == 1.0
        # NumPy and SciPy have no threads: only in the first block; cmaxfam_alloc too
        if t == 2:
            assert not {"numpy", "scipy", "cmaxfam_alloc"} & set(g), key
        else:
            assert "cmaxfam_alloc" in g, key
            assert ("numpy" in g) is B._peer_serves("numpy", op), key
        for name, r in g.items():
            assert r["median_s"] > 0 and r["repeats"] >= 1
            assert np.isclose(r["ns_per_element"], r["median_s"] / np.prod(shape) * 1e9)
            if name == "copyto":
                assert r["agrees"] is None
            else:
                # every implementation computes what cmaxfam computes (at either thread count)
                assert r["agrees"] is True, (name, key)
        c = g["cmaxfam"]
        if c["fastest_peer"] is not None:
            peers = {p: g[p]["median_s"] for p in B.PEERS if p in g}
            if t == 2:   # the unthreaded peers count with their 1-thread time
                first = blocks[(op, shape, axis, dtype, 1)]
                peers.update({p: first[p]["median_s"] for p in ("numpy", "scipy")
                              if p in first})
            assert c["fastest_peer"] == min(peers, key=peers.get)
            assert np.isclose(c["ratio_to_fastest_peer"], c["median_s"] / min(peers.values()))


def test_smoke_targets(smoke):
    rows, _ = smoke
    cm = {(r["op"], tuple(r["shape"]), r["axis"], r["dtype"], r["threads"]): r
          for r in rows if r["impl"] == "cmaxfam"}
    for (op, shape, axis, dtype, t), r in cm.items():
        if t == 1 and dtype == "float32":
            assert r["target"] == B.target_for(op, shape, axis, dtype)
            assert r["meets_target"] is (None if r["target"] is None
                                         else r["ratio_to_copyto"] <= r["target"])
            assert r["f64_over_f32"] is None
        elif t == 1:   # (float64 only at axis -1, where float32 is there too)
            q = r["median_s"] / cm[(op, shape, axis, "float32", 1)]["median_s"]
            assert np.isclose(r["f64_over_f32"], q)
            assert r["meets_f64_target"] is (q <= B.F64_TARGET)
            assert r["target"] is None
        else:
            assert np.isclose(r["speedup_vs_1_thread"],
                              cm[(op, shape, axis, dtype, 1)]["median_s"] / r["median_s"])


def test_smoke_markdown_and_json(smoke, tmp_path):
    rows, _ = smoke
    text = B.format_markdown(rows)
    table = [ln for ln in text.splitlines() if ln.startswith("|")]
    head = [h.strip() for h in table[0].strip("|").split("|")]
    assert head[:8] == ["op", "shape", "axis", "dtype", "threads", "copyto µs", "cmaxfam µs",
                        "cmaxfam/copyto"]
    assert "target (issue 6)" in head and "fastest peer/cmaxfam" in head
    assert "numpy/cmaxfam" in head
    blocks = {(r["op"], tuple(r["shape"]), r["axis"], r["dtype"], r["threads"]) for r in rows}
    assert len(table) == 2 + len(blocks)
    assert all(ln.count("|") == table[0].count("|") for ln in table)
    assert "RESULTS DISAGREE" not in text
    assert "≠" not in "\n".join(table)
    # the f64 and thread targets show up in their rows
    assert any("f64/f32" in ln and "| float64 | 1 |" in ln for ln in table)
    assert any("vs 1t" in ln and "| 2 |" in ln for ln in table)

    doc = B.report_json(rows, quick=True, threads=(1, 2))
    path = tmp_path / "bench.json"
    path.write_text(json.dumps(doc))
    back = json.loads(path.read_text())
    assert {"machine", "targets", "n_threads_supported", "rows", "threads_scaling",
            "quick", "threads"} <= set(back)
    assert back["threads"] == [1, 2]
    assert back["n_threads_supported"] == {op: True for op in B.FULL_OPS}
    assert len(back["rows"]) == len(rows)
    assert {t["op"] for t in back["targets"]["issue_6"]} >= {"softmax", "logsumexp", "entmax@*"}


def test_target_for():
    assert B.target_for("softmax", (4096, 1024), -1, "float32") == 1.2
    assert B.target_for("log_softmax", (1024, 4096), 0, "float32") == 1.5
    assert B.target_for("softmax", (1024, 4096), -1, "float32") is None
    assert B.target_for("softmax", (4096, 1024), -1, "float64") is None
    assert B.target_for("logsumexp", (16384, 128), -1, "float32") == 0.8
    assert B.target_for("entmax@1.7", (16, 262144), -1, "float32") == 10
    assert B.target_for("entmax_vjp@1.7", (16, 262144), -1, "float32") is None
    assert B.target_for("softmax", (4096, 1024), -1, "float32", B.EARLIER_TARGETS) == 2.0


def test_summarize_hand_made_rows():
    def row(dtype, t, s, impl="cmaxfam"):
        return {"op": "softmax", "shape": [4096, 1024], "axis": -1, "dtype": dtype,
                "impl": impl, "threads": t, "median_s": s, "ratio_to_copyto": s / 1e-3,
                "peak_extra_bytes": None, "agrees": None, "spread": 0.0}
    rows = [row("float32", 1, 1.1e-3), row("float64", 1, 2.5e-3), row("float32", 2, 0.5e-3),
            row("float64", 2, 2.0e-3)]
    rows += [row(r["dtype"], r["threads"], 1e-3, "copyto") for r in rows]
    B.summarize(rows)
    f32, f64, f32t2, f64t2, cp = rows[:5]
    assert f32["target"] == 1.2 and f32["meets_target"] is True
    assert f64["target"] is None and np.isclose(f64["f64_over_f32"], 2.5 / 1.1)
    assert f64["meets_f64_target"] is False
    assert np.isclose(f32t2["speedup_vs_1_thread"], 2.2) and f32t2["target"] is None
    assert np.isclose(f64t2["speedup_vs_1_thread"], 1.25)
    assert "target" not in cp
    lines = B.format_markdown(rows, legend=False).splitlines()
    assert "≤1.2 ✓" in lines[2] and "f64/f32 2.27 ≤2 ✗" in lines[3]
    assert "×2.20 vs 1t ≥1.7 ✓" in lines[4] and "×1.25 vs 1t ≥1.7 ✗" in lines[5]


def test_without_n_threads_is_na(monkeypatch):
    """A cmaxfam whose function has no n_threads: 1 thread runs, more is "n/a"."""
    real = cmf.softmax

    def softmax(x, axis=-1, *, out=None):
        return real(x, axis, out=out)

    monkeypatch.setattr(cmf, "softmax", softmax)
    assert not B.accepts_n_threads(softmax) and B.accepts_n_threads(real)
    rows = B.run(("softmax",), (((8, 16), -1),), ("float32",), threads=(1, 2),
                 peers=("numpy",), **FAST)
    impls = {(r["impl"], r["threads"]) for r in rows}
    assert impls == {("copyto", 1), ("cmaxfam", 1), ("cmaxfam_alloc", 1), ("numpy", 1),
                     ("copyto", 2)}
    line = B.format_markdown(rows, legend=False).splitlines()[3]
    assert "| 2 |" in line and "n/a" in line
    assert B.report_json(rows)["n_threads_supported"] == {"softmax": False}
    scaling = B.threads_scaling(("softmax",), (16, 8), baseline=False, repeat_s=1e-3,
                                repeats=1, quick=True)
    assert scaling[0]["n_threads_speedup"] is None
    assert "n/a" in B.format_threads_scaling(scaling)


def test_threads_scaling_structure():
    rows = B.threads_scaling(("softmax", "logsumexp"), (64, 32), quick=True, repeat_s=2e-3,
                             repeats=2)
    assert [(r["impl"], r["op"]) for r in rows] == [("cmaxfam", "softmax"),
                                                    ("cmaxfam", "logsumexp"),
                                                    ("copyto", "copyto"),
                                                    ("sha256", "sha256")]
    for r in rows:
        assert r["py_threads"] == 2 and r["calls_per_s_1"] > 0 and r["calls_per_s_n"] > 0
        assert np.isclose(r["py_threads_ratio"], r["calls_per_s_n"] / r["calls_per_s_1"])
        if r["impl"] == "cmaxfam":
            assert r["meets_py_threads_target"] is (r["py_threads_ratio"] >= B.PY_THREADS_TARGET)
            assert np.isclose(r["n_threads_speedup"], r["n_threads_1_s"] / r["n_threads_n_s"])
        else:
            assert r["meets_py_threads_target"] is None and r["n_threads_speedup"] is None
    text = B.format_threads_scaling(rows)
    assert len([ln for ln in text.splitlines() if ln.startswith("|")]) == 2 + len(rows)
    assert "np.copyto (memory ceiling)" in text and "hashlib.sha256 (CPU ceiling)" in text


def test_compare_cli(tmp_path, capsys):
    compare = _load("compare")
    out = tmp_path / "r.json"
    assert compare.main(["--quick", "--ops", "softmax,softmax_cross_entropy", "--shapes",
                         "16x8,8x16@0", "--dtypes", "float32", "--threads", "1,2",
                         "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "## Results" in text and "| softmax_cross_entropy | 8x16 | 0 | float32 | 2 |" in text
    doc = json.loads(out.read_text())
    assert doc["threads"] == [1, 2] and doc["full"] is False and doc["threads_scaling"] is None
    assert {r["threads"] for r in doc["rows"]} == {1, 2}
    with pytest.raises(SystemExit):
        compare.main(["--threads", "0"])


def test_asv_classes():
    asv = _load("bench_asv")
    assert len(asv.SHAPES) == len(B.SHAPES) and "1024x4096@0" in asv.SHAPES
    ops = asv.Ops()
    for op in asv.Ops.params[0]:
        for nt in (1, 2):
            ops.setup(op, "24x10", "float64", nt)
            ops.time_cmaxfam(op, "24x10", "float64", nt)
            ops.time_copyto(op, "24x10", "float64", nt)
    th = asv.PythonThreads()
    th.shape, th.calls = (16, 8), 2
    for n in (1, 2):
        th.setup("softmax", n)
        assert len(th.fns) == n
        th.time_threads("softmax", n)


def test_scaling_shapes_stream_and_stay_in_cache():
    # one shape streams from memory (> 8 MiB an array) and is split by n_threads=2, one
    # stays in cache (<= 1 MiB an array)
    sizes = [int(np.prod(s)) * 4 for s in B.SCALING_SHAPES]
    assert max(sizes) >= max(8 << 20, _plumbing.MIN_PARALLEL_BYTES)
    assert min(sizes) <= 1 << 20


def test_compute_floor_structure():
    rows = B.compute_floor(("softmax", "softmax_vjp"), [((64, 300), -1), ((300, 64), 0)],
                           cache_bytes=4096, quick=True)
    assert [(r["op"], r["axis"]) for r in rows] == [("softmax", -1), ("softmax", 0),
                                                    ("softmax_vjp", -1), ("softmax_vjp", 0)]
    for r in rows:
        # fewer slices of the same length, at most cache_bytes (but at least one slice)
        ax = r["axis"] % 2
        assert r["cache_shape"][ax] == r["shape"][ax]
        assert np.prod(r["cache_shape"]) * 4 <= max(4096, r["shape"][ax] * 4)
        assert r["copyto_ns"] > 0 and r["full_ns"] > 0 and r["cache_ns"] >= 0
        assert r["overhead_us"] > 0
    text = B.format_compute_floor(rows)
    assert text.count("\n| softmax") == 4 and "in cache/copyto" in text


def test_in_cache_shape_keeps_the_slice_length():
    assert B._in_cache_shape((4096, 1024), -1, 4, 128 << 10) == (32, 1024)
    assert B._in_cache_shape((1024, 4096), 0, 4, 128 << 10) == (1024, 32)
    assert B._in_cache_shape((16, 262144), -1, 4, 128 << 10) == (1, 262144)
    assert B._in_cache_shape((8, 9, 10), 1, 8, 1000) == (8, 9, 1)     # 576 bytes


def test_small_calls_structure():
    rows = B.small_calls(("softmax", "sigmoid", "softmax_cross_entropy+grad"), ((1, 8), (3, 5)),
                         quick=True)
    assert [(r["op"], r["shape"]) for r in rows] == [
        ("softmax", (1, 8)), ("sigmoid", (1, 8)), ("softmax_cross_entropy+grad", (1, 8)),
        ("softmax", (3, 5)), ("sigmoid", (3, 5)), ("softmax_cross_entropy+grad", (3, 5))]
    for r in rows:
        assert r["us"]["cmaxfam"] > 0
        assert ("scipy" in r["us"]) == (B._import_peer("scipy") is not None and r["op"] != "softmax_cross_entropy+grad")
    text = B.format_small_calls(rows)
    assert text.count("\n| softmax |") == 2 and "fastest peer / cmaxfam" in text
