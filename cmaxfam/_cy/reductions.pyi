# Stub of the compiled module cmaxfam/_cy/reductions.pyx (private: called only by
# cmaxfam._reductions).  Every array is a 3-D (outer, n, inner) view; the input, its
# weights and the per-element (co)tangents share one dtype, float32 or float64; the
# per-slice values (lse, sign, f, scalar (co)tangents) are float64 and masks are uint8.
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

__test__: dict[str, str]  # Cython's doctest table (empty)

_F = TypeVar("_F", np.float32, np.float64)

def logsumexp_slices(x: NDArray[_F], b: NDArray[_F] | None, t: NDArray[np.float64],
                     mask: NDArray[np.uint8] | None, lse: NDArray[np.float64],
                     sign: NDArray[np.float64] | None = None) -> None: ...
def logsumexp_d_slices(x: NDArray[_F], b: NDArray[_F] | None, t: NDArray[np.float64],
                       mask: NDArray[np.uint8] | None, lse: NDArray[np.float64],
                       sign: NDArray[np.float64], v_slice: NDArray[_F] | None,
                       v_scalar: NDArray[np.float64] | None, r_slice: NDArray[_F] | None,
                       r_scalar: NDArray[np.float64] | None) -> None: ...
def softmax_mean_slices(x: NDArray[_F], t: NDArray[np.float64], mask: NDArray[np.uint8] | None,
                        f: NDArray[np.float64]) -> None: ...
def softmax_mean_d_slices(x: NDArray[_F], t: NDArray[np.float64], mask: NDArray[np.uint8] | None,
                          f: NDArray[np.float64], v_slice: NDArray[_F] | None,
                          v_scalar: NDArray[np.float64] | None, r_slice: NDArray[_F] | None,
                          r_scalar: NDArray[np.float64] | None) -> None: ...

# The common call of logsumexp, checked and run in C: the value (a NumPy scalar for 1-d
# x) or out, or None for any other call.
def logsumexp_common(x: object, axis: object, temperature: object, out: object,
                     n_threads: object) -> np.ndarray | np.floating | None: ...
