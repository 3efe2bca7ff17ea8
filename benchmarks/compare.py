"""Compare cmaxfam with NumPy, SciPy, PyTorch and the entmax package, in one process.

    python benchmarks/compare.py [--quick] [--json out.json] [--sparse]
                                 [--ops softmax,log_softmax,logsumexp,softmax_vjp]
                                 [--dtypes float32,float64] [--shapes 4096x1024,1024x4096@0]
                                 [--threads 1] [--rng-routes]

Prints the machine, then a markdown table: for each (op, shape, axis, dtype) the time of
``np.copyto(out, x)`` on the same array (the memory floor), cmaxfam's time with a
preallocated ``out=``, their ratio against the target of the issue (✓/✗), and each
peer's time over cmaxfam's (> 1: cmaxfam is faster).  SciPy, PyTorch and entmax are used
only if they import.  The engine is ``cmaxfam._bench``; this script is not part of the
timed CI.

``--ops`` takes op names and groups: by default the softmax family (softmax, log_softmax,
logsumexp, softmax_vjp) over four shapes x float32/float64 (about a minute on a 2-core
machine; ``--quick``: about 15 s).  ``--sparse`` (the same as ``--ops sparse``) runs the
sparse family instead: sparsemax, entmax15, entmax@1.3, entmax@1.5 and their VJPs
(sparsemax_vjp, entmax15_vjp, entmax_vjp@1.3, entmax_vjp@1.5; any entmax@A /
entmax_vjp@A is accepted) at 4096x1024 float32 and float64, 100000x10 and 1024x4096
along axis 0 in float32, against the entmax package (and NumPy's sort-based sparsemax);
under 3 minutes on a 2-core machine.  ``--ops sampling`` runs gumbel_softmax and
sample_categorical at 4096x1024 and 100000x10 float32 against NumPy's Gumbel trick
(``rng.gumbel`` + the softmax formula / ``np.argmax``) and, for the sampler,
``Generator.choice`` row by row (timed on a few rows, scaled); ``--rng-routes`` adds a
table: drawing through the bit generator's capsule against materialising the draws in
NumPy first.  ``--ops all`` runs every family, each on its own cases.  ``--shapes``
replaces the cases of every op by shapes x dtypes; ``--dtypes`` alone keeps the sparse
(and sampling) family's cases of those dtypes.
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


def _ops(text):
    try:
        return B.parse_ops(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


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
    ap.add_argument("--ops", type=_ops, default=None,
                    help="comma-separated op names or groups (all, sparse, softmax-family); "
                    f"default: {','.join(B.OPS)}")
    ap.add_argument("--sparse", action="store_true",
                    help="the sparse family on its cases (same as --ops sparse; added to "
                    "--ops when both are given)")
    ap.add_argument("--dtypes", type=_csv(B.DTYPES), default=None,
                    help="default: float32,float64 (the sparse family: its own cases)")
    ap.add_argument("--shapes", type=lambda s: tuple(_shape(t) for t in s.split(",")),
                    default=None, help="e.g. 100000x10,1024x4096@0 (default: the four "
                    "shapes of the issue; the sparse family: its own cases)")
    ap.add_argument("--rng-routes", action="store_true",
                    help="also time drawing through the bit generator's capsule against "
                    "materialising the draws in NumPy first (gumbel_softmax's noise)")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads (cmaxfam/NumPy/SciPy are single-threaded); default 1")
    args = ap.parse_args(argv)
    ops = args.ops
    if args.sparse:
        ops = B.SPARSE_OPS if ops is None else B.parse_ops(",".join(ops + B.SPARSE_OPS))
    elif ops is None:
        ops = B.OPS

    info = B.machine_info()
    print("## Machine\n")
    for k in ("cpu", "isa", "cores", "usable_cores", "cache", "platform", "python", "cmaxfam",
              "cmaxfam_kernels", "numpy", "scipy", "torch", "entmax"):
        v = info[k]
        print(f"- {k}: {v if v is not None else 'not installed'}")
    peers = B.available_peers()
    print(f"- peers: {', '.join(peers)}\n")

    load0 = _loadavg()
    t0 = time.perf_counter()
    rows = B.run(ops, args.shapes, args.dtypes, threads=args.threads, quick=args.quick,
                 progress=lambda s: print(f"  [{time.perf_counter() - t0:5.1f} s] {s}",
                                          file=sys.stderr, flush=True))
    elapsed = time.perf_counter() - t0
    print("## Results\n")
    print(B.format_markdown(rows))
    routes = None
    if args.rng_routes:
        routes = [r for shape in ((4096, 1024), (100000, 10))
                  for r in B.rng_routes(shape, "float32", quick=args.quick)]
        print("\n## Drawing: through the capsule or materialised first\n")
        print(B.format_rng_routes(routes))
    load1 = _loadavg()
    print(f"\n({elapsed:.0f} s{', --quick' if args.quick else ''}; 1-minute load average "
          f"{load0} before, {load1} after, on {info['usable_cores']} cores)")

    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": info, "ops": list(ops), "quick": args.quick,
                       "threads": args.threads,
                       "elapsed_s": elapsed, "loadavg_before": load0, "loadavg_after": load1,
                       "rows": rows, "rng_routes": routes}, f, indent=1, ensure_ascii=False)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
