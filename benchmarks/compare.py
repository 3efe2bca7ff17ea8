"""Compare cmaxfam with NumPy, SciPy, PyTorch, the entmax package and scikit-learn, in one process.

    python benchmarks/compare.py [--full] [--quick] [--json out.json] [--sparse]
                                 [--ops softmax,log_softmax,logsumexp,softmax_vjp]
                                 [--dtypes float32,float64] [--shapes 4096x1024,1024x4096@0]
                                 [--threads 1,2] [--threads-scaling] [--rng-routes]
                                 [--floor]

Prints the machine, then a markdown table: for each (op, shape, axis, dtype, threads) the
time of ``np.copyto(out, x)`` on the same array (the memory floor), cmaxfam's time with a
preallocated ``out=``, their ratio against the target of issue 6 (✓/✗), the fastest
peer's time over cmaxfam's, and each peer's time over cmaxfam's (> 1: cmaxfam is faster).
SciPy, PyTorch, entmax and scikit-learn are used only if they import.  The engine is
``cmaxfam._bench``; this script is not part of the timed CI.

``--full`` is issue 6's whole matrix, the command behind the README's table:
forward, VJP and loss + gradient (softmax, log_softmax, logsumexp, softmax_vjp,
softmax_cross_entropy; sparsemax, entmax15, entmax@1.3 and the sparsemax / entmax15 VJPs
against the entmax package; sparsemax_loss and entmax15_loss against its losses) at the
six shapes 100000x10, 16384x128, 4096x1024, 256x16384, 16x262144 and 1024x4096 along
axis 0, float32 and float64, at 1 and 2 threads, then the thread-scaling table (11
minutes on a busy 2-core machine, about 7 minutes of CPU: the entmax package's calls take
up to seconds, so they get one timed repeat, and those of a second or more are timed by
the call whose result is checked).  ``--threads 1,2`` times each case at each
thread count: cmaxfam with ``n_threads=`` (reported "n/a" when the installed cmaxfam has
no such keyword), PyTorch and entmax under ``torch.set_num_threads``, scikit-learn with
``n_threads=``; NumPy and SciPy have no threads and are timed once.
``--threads-scaling`` prints a table of its own: N = 1 and 2 Python threads each calling
cmaxfam on its own float32 arrays (throughput ratio; issue 6 wants ≥ 1.8 on 2
cores), and ``n_threads=2`` against 1 on one call (wants ≥ 1.7), at 4096x1024 (16 MiB an
array: two threads stream 64 MiB from memory) and 256x1024 (1 MiB an array: each
thread's data stays in cache, the GIL-release test proper), with ``np.copyto`` and
``hashlib.sha256`` in Python threads as the memory system's and the CPU's own ceilings
(on a shared machine, the second core may simply not be there).

``--small`` adds the per-call time of small arrays (1x8 and 64x10 float32, no ``out=``)
against SciPy and PyTorch: there the Python around the kernels is most of the time.

``--floor`` adds the compute floor of each case: cmaxfam's ns/element with its data in
cache (the same slices, few enough to stay in L2, less the per-call time of one short
slice) against ``np.copyto`` of the full array.  Where that alone is above a target, no
change to the passes over memory can meet it; only less computation per element can.

Without ``--full``, ``--ops`` takes op names and groups: by default the softmax family
(softmax, log_softmax, logsumexp, softmax_vjp) over the six shapes x float32/float64 at
one thread (under 2 minutes on a busy 2-core machine; ``--quick``: about a minute).
``--sparse`` (the same as ``--ops sparse``) runs the sparse family instead: sparsemax, entmax15,
entmax@1.3, entmax@1.5 and their VJPs (sparsemax_vjp, entmax15_vjp, entmax_vjp@1.3,
entmax_vjp@1.5; any entmax@A / entmax_vjp@A is accepted) at 4096x1024 float32 and float64,
100000x10 and 1024x4096 along axis 0 in float32, against the entmax package (and NumPy's
sort-based sparsemax); under 3 minutes on a 2-core machine.  ``--ops losses`` runs the
losses (loss + gradient) against NumPy, PyTorch, scikit-learn and entmax.  ``--ops
sampling`` runs gumbel_softmax and sample_categorical at 4096x1024 and 100000x10 float32
against NumPy's Gumbel trick (``rng.gumbel`` + the softmax formula / ``np.argmax``) and,
for the sampler, ``Generator.choice`` row by row (timed on a few rows, scaled);
``--rng-routes`` adds a table: drawing through the bit generator's capsule against
materialising the draws in NumPy first.  ``--ops all`` runs every family, each on its own
cases.  ``--shapes`` replaces the cases of every op by shapes x dtypes; ``--dtypes`` alone
keeps the sparse (and sampling) family's cases of those dtypes.
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


def _threads(text):
    try:
        ts = tuple(int(t) for t in text.split(",") if t.strip())
    except ValueError:
        ts = ()
    if not ts or min(ts) < 1:
        raise argparse.ArgumentTypeError(f"expected thread counts >= 1 such as 1,2; got {text!r}")
    return ts


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
                    help="comma-separated op names or groups (all, full, softmax-family, "
                    "sparse, losses, sampling); "
                    f"default: {','.join(B.OPS)}")
    ap.add_argument("--sparse", action="store_true",
                    help="the sparse family on its cases (same as --ops sparse; added to "
                    "--ops when both are given)")
    ap.add_argument("--dtypes", type=_csv(B.DTYPES), default=None,
                    help="default: float32,float64 (the sparse family: its own cases)")
    ap.add_argument("--shapes", type=lambda s: tuple(_shape(t) for t in s.split(",")),
                    default=None, help="e.g. 100000x10,1024x4096@0 (default: the six "
                    "shapes of issue 6; the sparse family, losses, sampling: their own cases)")
    ap.add_argument("--rng-routes", action="store_true",
                    help="also time drawing through the bit generator's capsule against "
                    "materialising the draws in NumPy first (gumbel_softmax's noise)")
    ap.add_argument("--threads", type=_threads, default=None,
                    help="thread counts, e.g. 1,2: cmaxfam's n_threads=, torch.set_num_threads, "
                    "scikit-learn's n_threads= (NumPy/SciPy: 1 thread); default 1 "
                    "(--full: 1,2)")
    ap.add_argument("--full", action="store_true",
                    help="issue 6's whole matrix (ops of 'full' x the six shapes x float32/"
                    "float64 x threads 1,2, then --threads-scaling); --ops/--shapes/--dtypes/"
                    "--threads narrow it")
    ap.add_argument("--threads-scaling", action="store_true",
                    help="also a table of N = 1, 2 Python threads each calling cmaxfam on its "
                    "own data, and n_threads=2 against 1 on one call (4096x1024 and 256x1024 "
                    "float32: streaming from memory, and in cache)")
    ap.add_argument("--small", action="store_true",
                    help="also a table of the per-call time of small arrays (1x8, 64x10 "
                    "float32) against SciPy and PyTorch: the Python around the kernels")
    ap.add_argument("--floor", action="store_true",
                    help="also a table of each kernel's cost with its data in cache (the same "
                    "slices, few enough to stay in L2) against np.copyto of the full array: "
                    "the compute floor, which no change of the passes over memory can beat")
    args = ap.parse_args(argv)
    ops = args.ops
    shapes, threads, slow_repeats = args.shapes, args.threads, B.SLOW_REPEATS
    scaling = args.threads_scaling
    if args.full:
        ops = B.FULL_OPS if ops is None else ops
        shapes = B.SHAPES if shapes is None else shapes
        threads = (1, 2) if threads is None else threads
        slow_repeats = 1      # the entmax package: seconds per call; one sample after warm-up
        scaling = True
    if args.sparse:
        ops = B.SPARSE_OPS if ops is None else B.parse_ops(",".join(ops + B.SPARSE_OPS))
    elif ops is None:
        ops = B.OPS
    threads = (1,) if threads is None else threads

    info = B.machine_info()
    print("## Machine\n")
    for k in ("cpu", "isa", "cores", "usable_cores", "cache", "platform", "python", "cmaxfam",
              "cmaxfam_kernels", "numpy", "scipy", "torch", "entmax", "sklearn"):
        v = info[k]
        print(f"- {k}: {v if v is not None else 'not installed'}")
    peers = B.available_peers()
    print(f"- peers: {', '.join(peers)}\n")

    load0 = _loadavg()
    t0 = time.perf_counter()
    progress = lambda s: print(f"  [{time.perf_counter() - t0:5.1f} s] {s}",  # noqa: E731
                               file=sys.stderr, flush=True)
    rows = B.run(ops, shapes, args.dtypes, threads=threads, quick=args.quick,
                 slow_repeats=slow_repeats, progress=progress)
    print("## Results\n")
    print(B.format_markdown(rows))
    scaling_rows = None
    if scaling:
        scaling_rows = [r for shape in B.SCALING_SHAPES
                        for r in B.threads_scaling(shape=shape, quick=args.quick,
                                                   progress=progress)]
        print("\n## Threads: N Python threads, and n_threads on one call\n")
        print(B.format_threads_scaling(scaling_rows))
    floor_rows = None
    if args.floor:
        floor_rows = []
        for dt in (args.dtypes or ("float32",)):
            floor_rows += B.compute_floor([o for o in ops if not B._is_sampling(o)],
                                          shapes, dt, quick=args.quick, progress=progress)
        print("\n## Compute floor: the kernels with their data in cache\n")
        print(B.format_compute_floor(floor_rows))
    small_rows = None
    if args.small:
        small_rows = B.small_calls(quick=args.quick, progress=progress)
        print("\n## Small calls: microseconds per call\n")
        print(B.format_small_calls(small_rows))
    routes = None
    if args.rng_routes:
        routes = [r for shape in ((4096, 1024), (100000, 10))
                  for r in B.rng_routes(shape, "float32", quick=args.quick)]
        print("\n## Drawing: through the capsule or materialised first\n")
        print(B.format_rng_routes(routes))
    elapsed = time.perf_counter() - t0
    load1 = _loadavg()
    flags = "".join(f", {f}" for f, on in (("--full", args.full), ("--quick", args.quick)) if on)
    print(f"\n({elapsed:.0f} s{flags}; 1-minute load average "
          f"{load0} before, {load1} after, on {info['usable_cores']} cores)")

    if args.json:
        with open(args.json, "w") as f:
            json.dump(B.report_json(rows, info=info, ops=ops, quick=args.quick,
                                    full=args.full, threads=threads, elapsed_s=elapsed,
                                    loadavg_before=load0, loadavg_after=load1,
                                    threads_scaling=scaling_rows, rng_routes=routes,
                                    compute_floor=floor_rows, small_calls=small_rows),
                      f, indent=1, ensure_ascii=False)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
