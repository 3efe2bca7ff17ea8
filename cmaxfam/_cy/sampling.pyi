# Stub of the compiled module cmaxfam/_cy/sampling.pyx (private: called only by
# cmaxfam._sampling and the tests).  ``chunks`` are the tuples of 3-D views made by
# cmaxfam._plumbing.slice_views; float32 or float64 views, int64 sample indices.
from typing import TypeAlias

import numpy as np
from numpy.typing import NDArray

__test__: dict[str, str]  # Cython's doctest table (empty)

_Floats: TypeAlias = NDArray[np.float32] | NDArray[np.float64]

def gumbel_noise_slices(
    bitgen: np.random.BitGenerator,
    chunks: list[tuple[_Floats | None, _Floats | None, _Floats | None]],
) -> None: ...
def gumbel_noise_from_words(bits: NDArray[np.uint64], noise: _Floats) -> None: ...
def sample_categorical_slices(
    bitgen: np.random.BitGenerator,
    chunks: list[tuple[_Floats, NDArray[np.float64], NDArray[np.uint8] | None, NDArray[np.int64]]],
    n_samples: int,
    sample_stride: int,
) -> bool: ...
