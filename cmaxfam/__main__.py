"""``python -m cmaxfam``: the seeds' worked examples computed by cmaxfam, then a short
speed table against NumPy, SciPy, PyTorch and scikit-learn (those installed).
``python -m cmaxfam --no-bench`` skips the table.  ``python -m cmaxfam plot [--out PATH]``
draws seed 001's figures instead (needs matplotlib: ``pip install "cmaxfam[plot]"``)."""
from __future__ import annotations

import sys

import numpy as np

import cmaxfam as cmf


def _fmt(a, digits=4):
    return np.array2string(np.asarray(a, dtype=np.float64), precision=digits, suppress_small=False,
                           floatmode="maxprec")


def examples():
    print("cmaxfam", cmf.__version__, "- the max family for NumPy")
    print(f"kernels: {cmf._config.config()['isa_active']} path "
          f"(CPU supports {cmf._config.config()['isa_detected']})\n")

    print("1. softmax turns scores into probabilities (seed 002)")
    print("   softmax([1, 2, 3])          =", _fmt(cmf.softmax([1.0, 2.0, 3.0]), 3))
    print("   softmax([1, 2, 5])          =", _fmt(cmf.softmax([1.0, 2.0, 5.0]), 3))
    print("   softmax([1000, 2000, 3000]) =", _fmt(cmf.softmax([1000.0, 2000.0, 3000.0]), 3),
          "  (max-shifted: no overflow, no NaN)")
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(np.array([1000.0, 2000.0, 3000.0]))
        naive = e / e.sum()
    print("   the naive exp(x)/sum(exp(x))    =", _fmt(naive, 3), "\n")

    print("2. softmax and logsumexp at three scales (seed 003): LSE approximates max")
    print("   only when the scores are spread out")
    for x in ([1.0, 2.0, 3.0, 4.0], [10.0, 20.0, 30.0, 40.0], [0.1, 0.2, 0.3, 0.4]):
        p = cmf.softmax(x)
        print(f"   x = {str(x):22s} softmax = {np.array2string(p, precision=4, floatmode='maxprec')}"
              f"  LSE = {float(cmf.logsumexp(x)):.4f}  max = {max(x)}")
    print()

    print("3. temperature: z = [3, 2, 1] (seed 001); t > 1 flattens, t < 1 sharpens")
    z = [3.0, 2.0, 1.0]
    for t in (100.0, 10.0, 1.0, 0.5, 0.1, 0.01):
        print(f"   t = {t:<6} softmax(z / t) = {_fmt(cmf.softmax(z, temperature=t), 4)}")
    print()

    print("4. the two-class case: softmax([y, 0])[0] = sigmoid(y), logsumexp([y, 0]) = softplus(y)")
    for y in (-2.0, 0.0, 3.0):
        print(f"   y = {y:5}: softmax([y, 0])[0] = {float(cmf.softmax([y, 0.0])[0]):.6f}"
              f"  sigmoid(y) = {float(cmf.sigmoid(y)):.6f}"
              f"  logsumexp([y, 0]) = {float(cmf.logsumexp([y, 0.0])):.6f}"
              f"  softplus(y) = {float(cmf.softplus(y)):.6f}")
    print()

    print("5. 'good' and 'bad' softmax (seed 003): logsumexp >= max >= softmax_mean")
    x = [1.0, 2.0, 3.0, 4.0]
    print(f"   x = {x}: logsumexp = {float(cmf.logsumexp(x)):.4f}, max = {max(x)}, "
          f"softmax_mean = {float(cmf.softmax_mean(x)):.4f}")
    print()

    print("6. the softmax Jacobian dy_i/dx_j = y_i (delta_ij - y_j) (seed 000), at x = [1, 2, 3]")
    y = cmf.softmax([1.0, 2.0, 3.0])
    for row in cmf.softmax_jacobian(y):
        print("   ", _fmt(row, 4))
    print()


def sparse_examples():
    print("7. argmax + entropy = softmax / sparsemax / entmax (seed 001): the first")
    print("   coordinate of each on the input [t, 0]")
    ts = (-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0)
    print("   t            " + " ".join(f"{t:>6}" for t in ts))
    rows = [("argmax", lambda x: cmf.argmax(x)), ("softmax", lambda x: cmf.softmax(x)),
            ("entmax 1.25", lambda x: cmf.entmax(x, 1.25)), ("entmax15", lambda x: cmf.entmax15(x)),
            ("sparsemax", lambda x: cmf.sparsemax(x)), ("entmax 4", lambda x: cmf.entmax(x, 4.0))]
    for name, f in rows:
        vals = [float(f(np.array([t, 0.0]))[0]) for t in ts]
        print(f"   {name:<12} " + " ".join(f"{v:6.3f}" for v in vals))
    x = np.array([1.0, 0.8, 0.1, -1.0])
    print(f"   on x = {x.tolist()}: softmax {_fmt(cmf.softmax(x), 3)}, entmax15 {_fmt(cmf.entmax15(x), 3)},"
          f" sparsemax {_fmt(cmf.sparsemax(x), 3)}  (exact zeros)")
    print(f"   smoothed max of x (alpha 1, 1.5, 2): {float(cmf.smoothed_max(x)):.4f},"
          f" {float(cmf.smoothed_max(x, 1.5)):.4f}, {float(cmf.smoothed_max(x, 2)):.4f}  (max = {x.max()})")
    print()


def loss_examples():
    print("8. cross-entropy and its gradient P - Y (seeds 001, 002), fused in one pass")
    x = np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 5.0]])
    loss, grad = cmf.softmax_cross_entropy(x, [2, 0], reduction="none", return_grad=True)
    for i in range(2):
        print(f"   x = {x[i].tolist()}, label {[2, 0][i]}: loss = logsumexp(x) - x_y = {loss[i]:.4f},"
              f" gradient = softmax - onehot = {_fmt(grad[i], 4)}")
    print(f"   a label 1000 below the rest: loss = {float(cmf.softmax_cross_entropy([[0.0, -1000.0]], [1])):.1f}"
          "  (no log(0) = -inf)")
    z = np.array([[1.5, 1.0, 0.2]])
    print(f"   on z = {z[0].tolist()} with label 0: cross-entropy {float(cmf.softmax_cross_entropy(z, [0])):.4f},"
          f" entmax-1.5 loss {float(cmf.entmax_loss(z, [0])):.4f},"
          f" sparsemax loss {float(cmf.sparsemax_loss(z, [0])):.4f}")
    print("   (the sparse losses are exactly 0 once the label's margin is large enough: 1 for sparsemax)")
    s, t = np.array([[1.0, 2.0, 3.0]]), np.array([[3.0, 2.0, 1.0]])
    print(f"   distillation T^2 KL(softmax(teacher/T) || softmax(student/T)), student {s[0].tolist()},"
          f" teacher {t[0].tolist()}:")
    print("   " + ", ".join(f"T={T:g}: {float(cmf.distillation_loss(s, t, temperature=T)):.4f}" for T in (1.0, 4.0, 16.0)))
    print()


def sampling_examples():
    print("9. Gumbel-softmax (seed 001): z = [3, 2, 1] at T = 0.01, 100 samples (rng seed 0).")
    print("   Each sample is almost one-hot, at a draw from softmax(z): not always class 0")
    z = np.array([3.0, 2.0, 1.0])
    y = cmf.gumbel_softmax(np.tile(z, (100, 1)), temperature=0.01, rng=0)   # = 100 calls
    top = np.bincount(y.argmax(-1), minlength=3)
    print("   class                     " + " ".join(f"{k:>6}" for k in range(3)))
    print("   on top, of 100 samples    " + " ".join(f"{c:>6}" for c in top))
    print("   softmax(z) x 100          " + " ".join(f"{100 * p:6.1f}" for p in cmf.softmax(z)))
    print()


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "plot":
        from ._plot import main as plot_main
        return plot_main(argv[1:])
    examples()
    sparse_examples()
    loss_examples()
    sampling_examples()
    if "--no-bench" in argv:
        return 0
    try:
        from ._bench import short_table
    except ImportError:  # pragma: no cover
        return 0
    print("10. speed: median time relative to np.copyto of the same array, one thread, against")
    print("    the peers that are installed, and the thread scaling of softmax (issue 6's targets)")
    print(short_table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
