# Stub of the compiled module cmaxfam/_cy/elementwise.pyx (private: called only by
# cmaxfam._elementwise).  3-D views of one dtype, float32 or float64; the temperature is
# float64; ``op`` is 0 (sigmoid), 1 (log_sigmoid) or 2 (softplus).
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

__test__: dict[str, str]  # Cython's doctest table (empty)

_F = TypeVar("_F", np.float32, np.float64)

def elementwise_slices(x: NDArray[_F], t: NDArray[np.float64], out: NDArray[_F], op: int) -> None: ...
def elementwise_d_slices(y: NDArray[_F], v: NDArray[_F], t: NDArray[np.float64], out: NDArray[_F],
                         op: int) -> None: ...

# The common call (a C-contiguous float ndarray, a Python scalar temperature, one thread,
# no out or a usable one) of the op (v None) or its derivative, checked and run in C: the
# result, or None for any other call.
def elementwise_common(x: object, v: object, temperature: object, out: object, n_threads: object,
                       op: int) -> np.ndarray | None: ...
