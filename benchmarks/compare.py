"""Compare cmaxfam with NumPy, SciPy and PyTorch, in one process.

    python benchmarks/compare.py [--quick] [--json out.json]
                                 [--ops softmax,log_softmax,logsumexp,softmax_vjp]
                                 [--dtypes float32,float64] [--threads 1]

Prints the machine, then a markdown table: for each (op, shape, axis, dtype) the time of
``np.copyto(out, x)`` on the same array (the memory floor), cmaxfam's time with a
preallocated ``out=``, their ratio against the target of the issue (✓/✗), and each
peer's time over cmaxfam's (> 1: cmaxfam is faster).  SciPy and PyTorch are used only if
they import.  The engine is ``cmaxfam._bench``; this script is not part of the timed CI.
Takes about a minute on a 2-core machine (``--quick``: about 15 s).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

from cmaxfam import _bench as B


def _csv(choices):
    def parse(text):
        items = [t.strip() for t in text.split(",") if t.strip()]
        bad = [t for t in items if t not in choices]
        if bad or not items:
            raise argparse.ArgumentTypeError(
                f"expected a comma-separated subset of {','.join(choices)}; got {text!r}")
        return tuple(items)
    return parse


def _shape(text):
    """'4096x1024' (axis -1) or '1024x4096@0' (axis 0)."""
    try:
        dims, _, ax = text.partition("@")
        return tuple(int(d) for d in dims.lower().split("x")), int(ax) if ax else -1
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad shape {text!r}: use e.g. 4096x1024 or 1024x4096@0") from None


def _loadavg():
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except (AttributeError, OSError):
        return "?"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="shorter timings (noisier)")
    ap.add_argument("--json", metavar="PATH", help="also write the rows and machine info as JSON")
    ap.add_argument("--ops", type=_csv(B.OPS), default=B.OPS)
    ap.add_argument("--dtypes", type=_csv(B.DTYPES), default=B.DTYPES)
    ap.add_argument("--shapes", type=lambda s: tuple(_shape(t) for t in s.split(",")),
                    default=B.SHAPES, help="e.g. 100000x10,1024x4096@0 (default: the four "
                    "shapes of the issue)")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads (cmaxfam/NumPy/SciPy are single-threaded); default 1")
    args = ap.parse_args(argv)

    info = B.machine_info()
    print("## Machine\n")
    for k in ("cpu", "isa", "cores", "usable_cores", "cache", "platform", "python", "cmaxfam",
              "cmaxfam_kernels", "numpy", "scipy", "torch"):
        v = info[k]
        print(f"- {k}: {v if v is not None else 'not installed'}")
    peers = B.available_peers()
    print(f"- peers: {', '.join(peers)}\n")

    load0 = _loadavg()
    t0 = time.perf_counter()
    rows = B.run(args.ops, args.shapes, args.dtypes, threads=args.threads, quick=args.quick,
                 progress=lambda s: print(f"  [{time.perf_counter() - t0:5.1f} s] {s}",
                                          file=sys.stderr, flush=True))
    elapsed = time.perf_counter() - t0
    print("## Results\n")
    print(B.format_markdown(rows))
    load1 = _loadavg()
    print(f"\n({elapsed:.0f} s{', --quick' if args.quick else ''}; 1-minute load average "
          f"{load0} before, {load1} after, on {info['usable_cores']} cores)")

    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": info, "quick": args.quick, "threads": args.threads,
                       "elapsed_s": elapsed, "loadavg_before": load0, "loadavg_after": load1,
                       "rows": rows}, f, indent=1, ensure_ascii=False)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
