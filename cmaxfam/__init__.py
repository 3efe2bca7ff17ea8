"""cmaxfam: the max family for NumPy.

argmax and its smooth relatives (softmax, log_softmax, logsumexp, softmax_mean, sigmoid,
log_sigmoid, softplus), each with its vector-Jacobian and Jacobian-vector products,
computed by a compiled C core over float32/float64 arrays of any layout, with the GIL
released.
"""
from importlib.metadata import PackageNotFoundError as _PNF, version as _version

from ._config import show_config
from ._elementwise import (log_sigmoid, log_sigmoid_jvp, log_sigmoid_vjp, sigmoid, sigmoid_jvp,
                           sigmoid_vjp, softplus, softplus_jvp, softplus_vjp)
from ._normalizers import (argmax, log_softmax, log_softmax_jacobian, log_softmax_jvp,
                           log_softmax_vjp, softmax, softmax_jacobian, softmax_jvp, softmax_vjp)
from ._reductions import (logsumexp, logsumexp_jvp, logsumexp_vjp, softmax_mean, softmax_mean_jvp,
                          softmax_mean_vjp)

try:
    __version__ = _version("cmaxfam")
except _PNF:  # pragma: no cover - running from a source tree without metadata
    __version__ = "0+unknown"

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
]
