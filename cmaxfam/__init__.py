"""cmaxfam: the max family for NumPy.

argmax and its smooth and sparse relatives (softmax, log_softmax, logsumexp, softmax_mean,
sigmoid, log_sigmoid, softplus, sparsemax, entmax, smoothed_max, the entropies), each with its
vector-Jacobian and Jacobian-vector products, their Fenchel-Young losses, and the random
members (gumbel_softmax, sample_categorical),
computed by a compiled C core over float32/float64 arrays of any layout, with the GIL
released.  Every public function has a numpydoc docstring (``help(cmaxfam.softmax)``)
with the formula, the special values and the numerical method.

Examples
--------
>>> import numpy as np
>>> import cmaxfam as cmf
>>> x = np.array([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]], dtype=np.float32)
>>> cmf.softmax(x).round(3)
array([[0.09 , 0.245, 0.665],
       [0.333, 0.333, 0.333]], dtype=float32)
>>> cmf.sparsemax([0.5, 1.0, -1.0])
array([0.25, 0.75, 0.  ])
>>> loss, grad = cmf.softmax_cross_entropy(x, [2, 0], return_grad=True)
>>> grad.shape, grad.dtype
((2, 3), dtype('float32'))
"""
from ._config import show_config
from ._elementwise import (log_sigmoid, log_sigmoid_jvp, log_sigmoid_vjp, sigmoid, sigmoid_jvp,
                           sigmoid_vjp, softplus, softplus_jvp, softplus_vjp)
from ._normalizers import (argmax, log_softmax, log_softmax_jacobian, log_softmax_jvp,
                           log_softmax_vjp, softmax, softmax_jacobian, softmax_jvp, softmax_vjp)
from ._reductions import (logsumexp, logsumexp_jvp, logsumexp_vjp, softmax_mean, softmax_mean_jvp,
                          softmax_mean_vjp)
from ._sparse import (entmax, entmax15, entmax15_jacobian, entmax15_jvp, entmax15_vjp, entmax_jacobian,
                      entmax_jvp, entmax_vjp, sparsemax, sparsemax_jacobian, sparsemax_jvp, sparsemax_vjp)
from ._losses import (distillation_loss, entmax_loss, softmax_cross_entropy, softmax_layer_grad,
                      sparsemax_loss)
from ._entropies import (gini_entropy, shannon_entropy, smoothed_max, smoothed_max_jvp, smoothed_max_vjp,
                         tsallis_entropy)
from ._sampling import (gumbel_softmax, gumbel_softmax_jacobian, gumbel_softmax_jvp, gumbel_softmax_vjp,
                        sample_categorical)



def __getattr__(name):
    # __version__ comes from the installed package's metadata, looked up on first use:
    # importlib.metadata costs more to import than the rest of cmaxfam (on top of NumPy)
    # and most programs never ask (tests/test_packaging.py keeps `import cmaxfam` lean).
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version
        try:
            v = version("cmaxfam")
        except PackageNotFoundError:  # pragma: no cover - a source tree without metadata
            v = "0+unknown"
        globals()["__version__"] = v
        return v
    raise AttributeError(f"module 'cmaxfam' has no attribute {name!r}")


__all__ = [
    "show_config",
    "argmax", "softmax", "log_softmax",
    "softmax_vjp", "softmax_jvp", "softmax_jacobian",
    "log_softmax_vjp", "log_softmax_jvp", "log_softmax_jacobian",
    "logsumexp", "logsumexp_vjp", "logsumexp_jvp",
    "softmax_mean", "softmax_mean_vjp", "softmax_mean_jvp",
    "sigmoid", "sigmoid_vjp", "sigmoid_jvp",
    "log_sigmoid", "log_sigmoid_vjp", "log_sigmoid_jvp",
    "softplus", "softplus_vjp", "softplus_jvp",
    "sparsemax", "sparsemax_vjp", "sparsemax_jvp", "sparsemax_jacobian",
    "entmax15", "entmax15_vjp", "entmax15_jvp", "entmax15_jacobian",
    "entmax", "entmax_vjp", "entmax_jvp", "entmax_jacobian",
    "smoothed_max", "smoothed_max_vjp", "smoothed_max_jvp",
    "shannon_entropy", "gini_entropy", "tsallis_entropy",
    "softmax_cross_entropy", "sparsemax_loss", "entmax_loss", "distillation_loss",
    "softmax_layer_grad",
    "gumbel_softmax", "gumbel_softmax_vjp", "gumbel_softmax_jvp", "gumbel_softmax_jacobian",
    "sample_categorical",
]
