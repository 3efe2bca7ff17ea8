"""Every instruction-set path the machine supports computes the same results.

The kernels are compiled for baseline (SSE2), AVX2 and AVX-512 and chosen at import;
CMAXFAM_ISA forces a lower path.  Each path runs in a subprocess on a fixed set of
inputs covering every kernel and every code path (long rows, short rows staged through
tiles, a non-last axis read directly, strided slices, masks, special values), and the
results must agree with the best path to a few ULP.
"""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import cmaxfam

PROBE = r"""
import json, sys
import numpy as np
import cmaxfam as cmf
rng = np.random.default_rng(7)
out = {"isa": cmf._config.config()["isa_active"]}
for dt in ("float32", "float64"):
    cases = [((40, 300), -1), ((300, 7), -1), ((64, 70), 0), ((3, 20, 30), 1)]
    for shape, ax in cases:
        x = (rng.standard_normal(shape) * 4).astype(dt)
        x.flat[::17] = -np.inf
        w = rng.random(shape) > 0.2
        g = rng.standard_normal(shape).astype(dt)
        y = cmf.softmax(x, axis=ax)
        ly = cmf.log_softmax(x, axis=ax)
        lse = cmf.logsumexp(x, axis=ax)
        f = cmf.softmax_mean(x, axis=ax)
        res = {
            "softmax": y, "log_softmax": ly, "softmax_w": cmf.softmax(x, axis=ax, where=w),
            "softmax_t": cmf.softmax(x[..., ::-1], axis=ax, temperature=0.3),
            "softmax_t_direct": cmf.softmax(x, axis=ax, temperature=0.3),
            "log_softmax_t_direct": cmf.log_softmax(x, axis=ax, temperature=0.3),
            "logsumexp": lse, "logsumexp_b": cmf.logsumexp(x, axis=ax, b=np.abs(g)),
            "softmax_mean": f, "softmax_vjp": cmf.softmax_vjp(y, g, axis=ax),
            "log_softmax_vjp": cmf.log_softmax_vjp(ly, g, axis=ax),
            "logsumexp_vjp": cmf.logsumexp_vjp(x, lse, np.ones(lse.shape), axis=ax),
            "softmax_mean_vjp": cmf.softmax_mean_vjp(x, f, np.ones(f.shape), axis=ax),
            "argmax": cmf.argmax(x, axis=ax, return_indices=True),
            "sigmoid": cmf.sigmoid(x), "log_sigmoid": cmf.log_sigmoid(x), "softplus": cmf.softplus(x),
        }
        if hasattr(cmf, "sparsemax"):          # the sparse family (issue 4)
            sp = cmf.sparsemax(x, axis=ax)
            e15 = cmf.entmax15(x, axis=ax)
            ea = cmf.entmax(x, 1.3, axis=ax, temperature=0.7)
            res.update({
                "sparsemax": sp, "sparsemax_w": cmf.sparsemax(x, axis=ax, where=w),
                "entmax15": e15, "entmax_a1.3": ea, "entmax_a1": cmf.entmax(x, 1.0, axis=ax),
                "sparsemax_vjp": cmf.sparsemax_vjp(sp, g, axis=ax),
                "entmax15_vjp": cmf.entmax15_vjp(e15, g, axis=ax),
                "entmax_vjp": cmf.entmax_vjp(ea, g, 1.3, axis=ax, temperature=0.7),
                "entmax_vjp_rows": cmf.entmax_vjp(np.where(np.abs(g) > 2.5, np.nan, ea), g,
                                                  np.resize([2.0, 1.5, 1.3, 1.0], x.shape[:ax % x.ndim] + x.shape[ax % x.ndim + 1:]),
                                                  axis=ax, temperature=0.7),
                "smoothed_max_a1.5": cmf.smoothed_max(x, 1.5, axis=ax),
                "shannon_entropy": cmf.shannon_entropy(y, axis=ax),
            })
        if hasattr(cmf, "gumbel_softmax"):      # the sampling family (issue 5)
            gy, gn = cmf.gumbel_softmax(x, axis=ax, temperature=0.7, where=w, rng=3, return_noise=True)
            res.update({"gumbel_softmax": gy, "gumbel_noise": gn,
                        "sample_categorical": cmf.sample_categorical(x, axis=ax, where=w, size=4, rng=3)})
        # the losses (issue 5): fused cross-entropy rows/columns, the sparse general path
        lab = np.argmax(np.where(w, np.nan_to_num(x, neginf=-1e30), -np.inf), axis=ax)
        q = cmf.softmax(np.nan_to_num(g), axis=ax)
        xf = np.nan_to_num(x, neginf=-50.0)
        for name, f, kw in (("ce", cmf.softmax_cross_entropy, {}), ("sp", cmf.sparsemax_loss, {}),
                            ("e15", cmf.entmax_loss, {"alpha": 1.5}), ("e13", cmf.entmax_loss, {"alpha": 1.3})):
            for tname, tg, extra in (("lab", lab, {"label_smoothing": 0.1, "where": w}), ("dist", q, {})):
                lv, gr = f(xf, tg, ax, reduction="none", return_grad=True, temperature=0.8, **kw, **extra)
                res[f"loss_{name}_{tname}"], res[f"grad_{name}_{tname}"] = lv, gr
        # plain labels (no smoothing, no mask): short slices take the register path
        lv, gr = cmf.softmax_cross_entropy(xf, lab, ax, reduction="none", return_grad=True, temperature=0.8)
        res["loss_ce_plain"], res["grad_ce_plain"] = lv, gr
        for k, v in res.items():
            out[f"{dt}/{shape}/{ax}/{k}"] = np.asarray(v, dtype=np.float64).ravel().tolist()
json.dump(out, sys.stdout)
"""


def _run(isa):
    env = dict(os.environ, CMAXFAM_ISA=isa)
    r = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True,
                       check=True, cwd=os.path.dirname(os.path.abspath(__file__)))
    return json.loads(r.stdout)


def _paths():
    order = ["baseline", "avx2", "avx512"]
    best = cmaxfam._config.config()["isa_detected"]
    return order[: order.index(best) + 1]


@pytest.fixture(scope="module")
def reference():
    return _run("best")


@pytest.mark.parametrize("isa", _paths())
def test_isa_paths_agree(isa, reference):
    got = _run(isa)
    assert got["isa"] == isa
    for key, ref in reference.items():
        if key == "isa":
            continue
        a, b = np.array(got[key]), np.array(ref)
        tol = 1e-5 if key.startswith("float32") else 1e-13
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol, equal_nan=True, err_msg=key)


def test_isa_env_rejects_unknown_names():
    env = dict(os.environ, CMAXFAM_ISA="avx9000")
    r = subprocess.run([sys.executable, "-c", "import cmaxfam"], env=env, capture_output=True,
                       text=True, cwd=os.path.dirname(os.path.abspath(__file__)))
    assert r.returncode != 0 and "CMAXFAM_ISA" in r.stderr


def test_show_config_reports_the_path(capsys):
    cmaxfam.show_config()
    text = capsys.readouterr().out
    assert "isa_active" in text and cmaxfam._config.config()["isa_active"] in text
