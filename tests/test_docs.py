"""The Examples in the public docstrings run and print what they say."""
import doctest
import importlib

import pytest

MODULES = ["cmaxfam._normalizers", "cmaxfam._reductions", "cmaxfam._elementwise", "cmaxfam._sparse",
           "cmaxfam._entropies", "cmaxfam._sampling"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    mod = importlib.import_module(name)
    result = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0


def test_main_prints_the_worked_examples(capsys):
    from cmaxfam.__main__ import main

    assert main(["--no-bench"]) == 0
    out = capsys.readouterr().out
    assert "[0.09  0.245 0.665]" in out          # softmax([1, 2, 3]) of seed 002
    assert "LSE = 4.4402" in out                  # seed 003's table
    assert "nan" not in out.split("naive")[0]     # no NaN before the naive formula's line
    # seed 001's Gumbel-softmax: how often each class came out on top in 100 samples
    top = [int(c) for c in out.split("on top, of 100 samples")[1].split("\n")[0].split()]
    assert sum(top) == 100 and top[0] < 100
