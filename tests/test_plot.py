"""``python -m cmaxfam plot``: seed 001's figures.  The curves are cmaxfam's, checked here
against closed forms of the two-class case computed in NumPy float64; the drawing needs
matplotlib (the ``plot`` extra) and is skipped without it."""
from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

from cmaxfam import _plot

ROOT = Path(__file__).resolve().parent.parent
T = np.linspace(-3.0, 3.0, 121)


def _sigmoid(t):
    return 1.0 / (1.0 + np.exp(-t))


def _entmax15_first(t):
    # 1.5-entmax of [t, 0]: p_i = (z_i / 2 - tau)^2 with (t/2 - tau)^2 + tau^2 = 1 while
    # both coordinates are in the support (|t| < 2), so p_1 = ((a + sqrt(2 - a^2)) / 2)^2
    a = np.clip(t / 2, -1, 1)
    return np.where(t >= 2, 1.0, np.where(t <= -2, 0.0, ((a + np.sqrt(2 - a * a)) / 2) ** 2))


def test_entmax_curves_against_closed_forms():
    c = _plot.entmax_curves(T)
    assert list(c) == ["α = 1 (softmax)", "α = 1.25", "α = 1.5", "α = 2 (sparsemax)", "α = 4",
                       "argmax"]
    assert_allclose(c["α = 1 (softmax)"], _sigmoid(T), rtol=1e-14, atol=1e-15)
    assert_allclose(c["α = 2 (sparsemax)"], np.clip((T + 1) / 2, 0, 1), rtol=0, atol=1e-15)
    assert_allclose(c["α = 1.5"], _entmax15_first(T), rtol=0, atol=1e-12)
    assert_allclose(c["argmax"], (T >= 0).astype(float))     # first maximum at t = 0
    # any alpha on [p, 1 - p]: p^(a-1) - (1-p)^(a-1) = (a-1) t inside the support,
    # saturated (0 or 1) at |t| >= 1 / (a - 1)
    for a in (1.25, 1.5, 2.0, 4.0):
        p = c[next(k for k in c if k.startswith(f"α = {a:g}"))]
        inside = np.abs(T) < 1 / (a - 1)
        lhs = p[inside] ** (a - 1) - (1 - p[inside]) ** (a - 1)
        assert_allclose(lhs, (a - 1) * T[inside], rtol=0, atol=1e-9)
        assert_allclose(p[~inside], (T[~inside] > 0).astype(float), rtol=0, atol=0)
    # the curves order as the article says: the larger alpha, the closer to the step
    right = T > 0
    for lo, hi in zip(list(c)[:4], list(c)[1:5]):
        assert np.all(c[hi][right] >= c[lo][right] - 1e-15), (lo, hi)


def test_temperature_sweep_against_the_formula():
    temps = np.array([100.0, 10.0, 1.0, 0.5, 0.1, 0.01])
    p = _plot.temperature_sweep(temps)
    z = np.array([3.0, 2.0, 1.0])
    e = np.exp((z[None, :] - 3.0) / temps[:, None])
    assert_allclose(p, e / e.sum(-1, keepdims=True), rtol=1e-14, atol=1e-300)
    assert p[-1, 0] == pytest.approx(1.0) and np.all(np.abs(p[0] - 1 / 3) < 0.01)


def test_plot_without_matplotlib_says_what_to_install(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)          # import matplotlib fails
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    from cmaxfam.__main__ import main
    with pytest.raises(SystemExit) as e:
        main(["plot", "--out", str(tmp_path / "x.png")])
    assert e.value.code == 2
    assert 'pip install "cmaxfam[plot]"' in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


def _png_size(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_figure_draws_cmaxfam_values():
    pytest.importorskip("matplotlib")
    fig = _plot.figure()
    ax, bx = fig.axes
    lines = {ln.get_label(): ln for ln in ax.lines}
    t = lines["α = 1 (softmax)"].get_xdata()
    assert_allclose(lines["α = 1 (softmax)"].get_ydata(), _sigmoid(t), rtol=1e-14)
    assert_allclose(lines["α = 2 (sparsemax)"].get_ydata(), np.clip((t + 1) / 2, 0, 1), atol=1e-15)
    assert_allclose(lines["α = 1.5"].get_ydata(), _entmax15_first(t), atol=1e-12)
    assert {"α = 1.25", "α = 4", "argmax (α → ∞)"} <= set(lines)
    temps = bx.lines[0].get_xdata()
    e = np.exp(np.array([3.0, 2.0, 1.0])[None, :] / temps[:, None])
    for i in range(3):
        assert_allclose(bx.lines[i].get_ydata(), e[:, i] / e.sum(-1), rtol=1e-13)
    assert bx.get_xscale() == "log"


def test_plot_command_writes_the_png(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "fig" / "max_family.png"
    out.parent.mkdir()
    r = subprocess.run([sys.executable, "-m", "cmaxfam", "plot", "--out", str(out)],
                       cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert f"wrote {out}" in r.stdout
    data = out.read_bytes()
    assert _png_size(data) == (1000, 390)
    assert len(data) < 150_000


def test_readme_embeds_the_committed_figure():
    readme = ROOT / "README.md"
    if not readme.is_file():
        pytest.skip("no README.md next to tests/ (tests copied without the source tree)")
    assert "](docs/max_family.png)" in readme.read_text(encoding="utf-8")
    png = ROOT / "docs" / "max_family.png"
    data = png.read_bytes()
    assert _png_size(data) == (1000, 390) and len(data) < 150_000

