"""airspeed-velocity (asv) style benchmark classes over the same cases as compare.py.

asv (https://asv.readthedocs.io) discovers the ``time_*`` methods of these classes, calls
``setup`` with each combination of ``params`` and times the method; without asv, each
method is a plain call (``tests/test_bench.py`` runs them once on small arrays).  The
arrays and callables come from the engine, ``cmaxfam._bench.make_case``, so these time
exactly what ``benchmarks/compare.py`` times (cmaxfam with a preallocated ``out=``, and
``np.copyto`` on the same array as the memory floor); the peer comparison is
compare.py's job.  A case this cmaxfam cannot run (``n_threads`` > 1 without the keyword)
raises NotImplementedError in ``setup``, which asv reports as skipped.
"""
import threading

from cmaxfam import _bench as B


def _shape_axis(text):
    """'4096x1024' -> ((4096, 1024), -1); '1024x4096@0' -> ((1024, 4096), 0)."""
    dims, _, ax = text.partition("@")
    return tuple(int(d) for d in dims.split("x")), int(ax) if ax else -1


SHAPES = ["x".join(map(str, s)) + ("" if a == -1 else f"@{a}") for s, a in B.SHAPES]


class Ops:
    """Every op of ``compare.py --full`` at the six shapes, both dtypes, 1 and 2 threads."""
    params = (list(B.FULL_OPS), SHAPES, list(B.DTYPES), [1, 2])
    param_names = ["op", "shape", "dtype", "n_threads"]
    timeout = 120

    def setup(self, op, shape, dtype, n_threads):
        s, ax = _shape_axis(shape)
        impls, _ = B.make_case(op, s, ax, dtype, peers=(), with_alloc=False,
                               n_threads=n_threads)
        if "cmaxfam" not in impls:
            raise NotImplementedError(f"this cmaxfam has no n_threads for {op}")
        self.cmaxfam, self.copyto = impls["cmaxfam"], impls["copyto"]

    def time_cmaxfam(self, op, shape, dtype, n_threads):
        self.cmaxfam()

    def time_copyto(self, op, shape, dtype, n_threads):
        self.copyto()


class PythonThreads:
    """N Python threads, each calling the op ``calls`` times on its own 4096x1024 float32
    arrays (the GIL is released in the kernels: 2 threads should take about as long as 1
    on 2 cores)."""
    params = (list(B.SCALING_OPS), [1, 2])
    param_names = ["op", "py_threads"]
    calls = 10
    shape = (4096, 1024)

    def setup(self, op, py_threads):
        self.fns = [B.make_case(op, self.shape, -1, "float32", peers=(), with_alloc=False,
                                seed=100 + i)[0]["cmaxfam"] for i in range(py_threads)]

    def time_threads(self, op, py_threads):
        ths = [threading.Thread(target=lambda f=f: [f() for _ in range(self.calls)])
               for f in self.fns]
        for th in ths:
            th.start()
        for th in ths:
            th.join()
