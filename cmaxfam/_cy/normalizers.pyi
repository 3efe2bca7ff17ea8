# Stub of the compiled module cmaxfam/_cy/normalizers.pyx (private: called only by
# cmaxfam._normalizers, cmaxfam._sparse and cmaxfam._sampling).  Every array is a 3-D
# (outer, n, inner) view; the input and the output share one dtype, float32 or float64
# (the Cython fused type); per-slice parameters are float64 and masks are uint8.
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

__test__: dict[str, str]  # Cython's doctest table (empty)

_F = TypeVar("_F", np.float32, np.float64)

def softmax_slices(x: NDArray[_F], out: NDArray[_F], t: NDArray[np.float64],
                   mask: NDArray[np.uint8] | None = None, log: bool = False) -> None: ...
def softmax_d_slices(y: NDArray[_F], v: NDArray[_F], out: NDArray[_F], t: NDArray[np.float64],
                     mask: NDArray[np.uint8] | None = None, log: bool = False,
                     jvp: bool = False) -> None: ...
def argmax_slices(x: NDArray[_F], idx: NDArray[np.float64], code: NDArray[np.float64],
                  mask: NDArray[np.uint8] | None = None) -> None: ...
def sparse_slices(x: NDArray[_F], out: NDArray[_F], t: NDArray[np.float64],
                  mask: NDArray[np.uint8] | None = None, alpha: NDArray[np.float64] | None = None,
                  n_iter: NDArray[np.float64] | None = None) -> None: ...
def entmax_d_slices(y: NDArray[_F], v: NDArray[_F], out: NDArray[_F], t: NDArray[np.float64],
                    mask: NDArray[np.uint8] | None, alpha: NDArray[np.float64]) -> None: ...

# The common call (a C-contiguous float ndarray along its last axis, a Python scalar
# temperature, one thread, no out or a usable one), checked and run in C: the result, or
# None for any other call.
def normalizer_common(x: object, axis: object, temperature: object, out: object, n_threads: object,
                      op: int, alpha: float = 0.0) -> np.ndarray | None: ...
def normalizer_d_common(y: object, v: object, axis: object, temperature: object, out: object,
                        n_threads: object, op: int, alpha: float = 0.0) -> np.ndarray | None: ...
def argmax_common(x: object, axis: object, temperature: object, out: object, n_threads: object,
                  indices: bool) -> np.ndarray | None: ...
