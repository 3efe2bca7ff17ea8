# Stub of the compiled module cmaxfam/_cy/losses.pyx (private: called only by
# cmaxfam._losses).  3-D views: the logits, the target distribution and the gradient share
# one dtype, float32 or float64; the per-slice values are float64 and the mask is uint8.
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

__test__: dict[str, str]  # Cython's doctest table (empty)

_F = TypeVar("_F", np.float32, np.float64)

def fy_loss_slices(x: NDArray[_F], y: NDArray[_F] | None, grad: NDArray[_F] | None,
                   t: NDArray[np.float64], alpha: NDArray[np.float64], mask: NDArray[np.uint8] | None,
                   label: NDArray[np.float64] | None, gscale: NDArray[np.float64],
                   eps: NDArray[np.float64], loss: NDArray[np.float64]) -> None: ...

# The kernel part of a loss's common call, checked and run in C: (per-slice losses, the
# gradient or None), or None for any other call.
def fy_loss_common(logits: object, target: object, axis: object, temperature: object, mean: bool,
                   want_grad: bool, alpha: float,
                   n_threads: object) -> tuple[NDArray[np.float64], np.ndarray | None] | None: ...
