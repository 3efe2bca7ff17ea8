"""The public docstrings: complete numpydoc, with Examples that run.

Every name in ``cmaxfam.__all__`` has a docstring that numpydoc's validator accepts (for
the checks in NUMPYDOC_CHECKS) and Examples that run as doctests against the installed
package, each in fresh globals (an example imports what it uses); the modules' own
docstrings (and any other docstring in them) run too.
"""
import doctest
import importlib
import re

import pytest

import cmaxfam

FLAGS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
PUBLIC = list(cmaxfam.__all__)
MODULES = ["cmaxfam", "cmaxfam._normalizers", "cmaxfam._reductions", "cmaxfam._elementwise",
           "cmaxfam._sparse", "cmaxfam._entropies", "cmaxfam._losses", "cmaxfam._sampling",
           "cmaxfam._config", "cmaxfam._docstrings"]

# numpydoc's validation codes that every public docstring must pass: all of them but
# YD01 (no generators here).  Listed explicitly, so that a check added by a later numpydoc
# is a decision, not a surprise.
NUMPYDOC_CHECKS = {
    "GL01", "GL02", "GL03", "GL05", "GL06", "GL07", "GL08", "GL09", "GL10",   # layout
    "SS01", "SS02", "SS03", "SS04", "SS05", "SS06",                           # summary
    "ES01",                                                                   # extended summary
    "PR01", "PR02", "PR03", "PR04", "PR05", "PR06", "PR07", "PR08", "PR09", "PR10",  # parameters
    "RT01", "RT02", "RT03", "RT04", "RT05",                                   # returns
    "SA01", "SA02", "SA03", "SA04",                                           # see also
    "EX01",                                                                   # examples
}


def _run(tests):
    """Run doctests; return (examples attempted, failures, the runner's report)."""
    report = []
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    for t in tests:
        runner.run(t, out=report.append)
    res = runner.summarize(verbose=False)
    return res.attempted, res.failed, "".join(report)


@pytest.mark.parametrize("name", PUBLIC)
def test_public_examples_run(name):
    obj = getattr(cmaxfam, name)
    tests = doctest.DocTestFinder(recurse=False).find(obj, f"cmaxfam.{name}", globs={})
    attempted, failed, report = _run(tests)
    assert attempted > 0, f"cmaxfam.{name} has no Examples"
    assert failed == 0, report


@pytest.mark.parametrize("modname", MODULES)
def test_module_docstrings_run(modname):
    """The module docstrings (and any docstring not of a public function, tested above)."""
    mod = importlib.import_module(modname)
    public = {f"{mod.__name__}.{n}" for n in PUBLIC if getattr(cmaxfam, n).__module__ == mod.__name__}
    tests = [t for t in doctest.DocTestFinder().find(mod, mod.__name__, globs={})
             if t.name not in public]
    attempted, failed, report = _run(tests)
    assert failed == 0, report
    if modname == "cmaxfam":
        assert attempted > 0, "the package docstring has no Examples"


def test_every_public_function_is_collected():
    """The per-function doctests above see every public function's own module."""
    for name in PUBLIC:
        obj = getattr(cmaxfam, name)
        assert obj.__module__ in MODULES, (name, obj.__module__)


@pytest.mark.parametrize("name", PUBLIC)
def test_numpydoc_validates(name):
    validate = pytest.importorskip("numpydoc.validate")
    errors = [(code, msg) for code, msg in validate.validate(f"cmaxfam.{name}")["errors"]
              if code in NUMPYDOC_CHECKS]
    assert not errors, errors


_PLACEHOLDER = re.compile(r"^\s*\{\w+(?: \w+)?\}\s*$", re.M)


@pytest.mark.parametrize("name", PUBLIC)
def test_docstring_is_assembled(name):
    """The shared snippets were filled in (cmaxfam/_docstrings.py), every reference cited
    in the text is listed under References and every listed one is cited, and the
    sections every public function documents are there."""
    doc = getattr(cmaxfam, name).__doc__
    assert not _PLACEHOLDER.search(doc), "a placeholder line was left unexpanded"
    assert "{fwd}" not in doc and "{v}" not in doc, "a snippet field was left unfilled"
    cited = set(re.findall(r"\[(\w+)\]_", doc))
    listed = set(re.findall(r"^\s*\.\. \[(\w+)\]", doc, re.M))
    assert cited == listed, (cited, listed)
    sections = ["Returns", "See Also", "Notes", "Examples"]
    if name != "show_config":                     # the one function without parameters
        sections += ["Parameters", "Raises"]
    for section in sections:
        assert f"\n    {section}\n    {'-' * len(section)}\n" in doc, section


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
