"""Summarise GCC's vectorisation report of the kernels: which loops of each kernel file
were vectorised, per instruction-set path.

    pip install . -C cmake.define.CMAXFAM_VEC_REPORT=ON -C build-dir=build-vec
    python benchmarks/vec_report.py build-vec [--missed]

For each ISA path (baseline = SSE2, avx2, avx512) and each template file, prints the
number of loops vectorised and, with ``--missed``, the source lines of the loops that were
not (the reductions written as lane arrays and the exp loops should be vectorised on
every path; a scalar fallback loop or a loop over a few slices need not be).
"""
from __future__ import annotations

import argparse
import collections
import pathlib
import re

LINE = re.compile(r"^(?P<file>[^:]+\.[ch]):(?P<line>\d+):\d+: (?P<kind>optimized|missed): (?P<msg>.*)$")


def summarise(build_dir, missed=False):
    rows = []
    for isa in ("baseline", "avx2", "avx512"):
        path = pathlib.Path(build_dir) / f"vec-{isa}.txt"
        if not path.exists():
            continue
        done, miss = collections.defaultdict(set), collections.defaultdict(set)
        for raw in path.read_text(errors="replace").splitlines():
            m = LINE.match(raw)
            if not m:
                continue
            f, ln = pathlib.Path(m["file"]).name, int(m["line"])
            if m["kind"] == "optimized" and "loop vectorized" in m["msg"]:
                done[f].add(ln)
            elif m["kind"] == "missed" and "couldn't vectorize loop" in m["msg"]:
                miss[f].add(ln)
        for f in sorted(set(done) | set(miss)):
            not_done = sorted(miss[f] - done[f])
            rows.append((isa, f, len(done[f]), not_done))
    for isa, f, n, not_done in rows:
        extra = f"  not vectorised at lines {not_done}" if missed and not_done else ""
        print(f"{isa:9s} {f:22s} {n:4d} loops vectorised{extra}")
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("build_dir")
    ap.add_argument("--missed", action="store_true", help="list the loops that were not vectorised")
    args = ap.parse_args(argv)
    if not summarise(args.build_dir, args.missed):
        raise SystemExit(f"no vec-*.txt in {args.build_dir}: build with -C cmake.define.CMAXFAM_VEC_REPORT=ON")


if __name__ == "__main__":
    main()
