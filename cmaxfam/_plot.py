"""``python -m cmaxfam plot``: seed 001's two pictures, every value computed by cmaxfam.

Left, argmax and its smooth and sparse relatives on the two-class input ``[t, 0]``:
the first coordinate of entmax for alpha in {1, 1.25, 1.5, 2, 4} (alpha = 1 is softmax,
i.e. the sigmoid of t; alpha = 2 is sparsemax, clip((t + 1) / 2, 0, 1)), as in Peters et
al. (2019), Fig. 1.  Right, the temperature sweep of the article: softmax(z / T) for
z = [3, 2, 1] as T goes from 100 (nearly uniform) to 0.01 (nearly one-hot).

matplotlib is an optional dependency (``pip install "cmaxfam[plot]"``), imported here
only; ``import cmaxfam`` never imports this module.
"""
from __future__ import annotations

import argparse

import numpy as np

import cmaxfam as cmf

#: the alphas of seed 001's entmax figure, with the names of the special cases
ALPHAS = ((1.0, "softmax"), (1.25, None), (1.5, None), (2.0, "sparsemax"), (4.0, None))
#: the logits of seed 001's temperature animation
Z = (3.0, 2.0, 1.0)
#: the temperatures printed by ``python -m cmaxfam`` (marked on the sweep)
MARKED_T = (100.0, 10.0, 1.0, 0.5, 0.1, 0.01)


def entmax_curves(t):
    """First coordinate of argmax and of entmax (each alpha of :data:`ALPHAS`) on [t, 0].

    Returns a dict ``{label: values}``; every value is computed by cmaxfam (softmax,
    entmax15, sparsemax and entmax for the other alphas), one batch call per curve.
    """
    t = np.asarray(t, dtype=np.float64)
    x = np.stack([t, np.zeros_like(t)], axis=-1)
    funcs = {1.0: cmf.softmax, 1.5: cmf.entmax15, 2.0: cmf.sparsemax}
    curves = {}
    for alpha, name in ALPHAS:
        f = funcs.get(alpha, lambda v, a=alpha: cmf.entmax(v, alpha=a))
        label = f"α = {alpha:g}" + (f" ({name})" if name else "")
        curves[label] = f(x)[:, 0]
    curves["argmax"] = cmf.argmax(x)[:, 0]
    return curves


def temperature_sweep(temperatures):
    """softmax(z / T) for z = :data:`Z`, one row per temperature (cmaxfam's per-slice
    ``temperature``)."""
    temperatures = np.asarray(temperatures, dtype=np.float64)
    z = np.broadcast_to(np.asarray(Z), (temperatures.size, len(Z)))
    return cmf.softmax(z, temperature=temperatures[:, None])


def figure():
    """The figure (a ``matplotlib.figure.Figure``, no pyplot state, no display needed)."""
    try:
        from matplotlib.figure import Figure
    except ImportError as e:  # pragma: no cover - exercised by test_plot with a fake module
        raise ImportError(
            "python -m cmaxfam plot needs matplotlib: pip install \"cmaxfam[plot]\" "
            "(or pip install matplotlib)") from e

    fig = Figure(figsize=(10.0, 3.9), dpi=100, layout="constrained")
    ax, bx = fig.subplots(1, 2, width_ratios=(1.15, 1.0))

    t = np.linspace(-3.0, 3.0, 601)
    curves = entmax_curves(t)
    colors = ("#1f77b4", "#17becf", "#2ca02c", "#ff7f0e", "#d62728")
    for (label, y), c in zip(((k, v) for k, v in curves.items() if k != "argmax"), colors):
        ax.plot(t, y, color=c, lw=1.8, label=label)
    ax.plot(t, curves["argmax"], color="0.35", lw=1.0, ls=":", label="argmax (α → ∞)")
    ax.set(xlim=(-3, 3), ylim=(-0.03, 1.03), xlabel="t",
           ylabel="first coordinate of  f([t, 0])",
           title="softmax, entmax and sparsemax on [t, 0]")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8.5, frameon=False)

    temps = np.logspace(-2, 2, 401)
    p = temperature_sweep(temps)
    for i, c in enumerate(("#1f77b4", "#ff7f0e", "#2ca02c")):
        bx.plot(temps, p[:, i], color=c, lw=1.8, label=f"p{i + 1}  (z{i + 1} = {Z[i]:g})")
    pm = temperature_sweep(MARKED_T)
    for i, c in enumerate(("#1f77b4", "#ff7f0e", "#2ca02c")):
        bx.plot(MARKED_T, pm[:, i], ls="none", marker="o", ms=4, color=c)
    bx.axhline(1 / 3, color="0.5", lw=0.8, ls="--")
    bx.set_xscale("log")
    bx.set(xlim=(0.01, 100), ylim=(-0.03, 1.03), xlabel="temperature T",
           ylabel="softmax(z / T)", title="softmax(z / T) for z = [3, 2, 1]")
    bx.text(0.012, 0.9, "one-hot", fontsize=8.5, color="0.35")
    bx.text(0.012, 0.35, "uniform (1/3)", fontsize=8.5, color="0.35")
    bx.grid(alpha=0.3)
    bx.legend(loc="center right", fontsize=8.5, frameon=False)
    return fig


def save(path):
    """Draw the figure and write it to ``path`` (format from the suffix; PNG by default)."""
    fig = figure()
    # no metadata (matplotlib's version, a date): the same figure gives the same file
    kwargs = {"metadata": {"Software": None}} if str(path).lower().endswith(".png") else {}
    fig.savefig(path, **kwargs)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m cmaxfam plot",
        description="Draw seed 001's figures (entmax on [t, 0]; the temperature sweep of "
                    "softmax([3, 2, 1] / T)) with matplotlib.")
    parser.add_argument("--out", default="max_family.png",
                        help="where to write the picture (default: max_family.png; "
                             "docs/max_family.png is the README's)")
    args = parser.parse_args(argv)
    try:
        save(args.out)
    except ImportError as e:
        parser.exit(2, f"error: {e}\n")
    print(f"wrote {args.out}")
    return 0
