"""Deliberate type errors: tests/test_typing.py requires mypy to report an error on each
line marked ``# E: <code>`` (with that error code) and on no other line."""
from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from typing_extensions import assert_type

import cmaxfam as cmf

x32: NDArray[np.float32] = np.zeros((2, 3), np.float32)

assert_type(cmf.softmax(x32), NDArray[np.float64])  # E: assert-type
assert_type(cmf.softmax([1.0, 2.0]), NDArray[np.float32])  # E: assert-type
assert_type(cmf.sigmoid(np.float32(1.0)), np.float64)  # E: assert-type
cmf.softmax(x32, temperatur=2.0)  # E: call-overload
cmf.softmax(x32, n_threads="all")  # E: call-overload
cmf.sparsemax(x32, axis=None)  # E: call-overload
cmf.sigmoid(x32, axis=0)  # E: call-overload
cmf.softmax_jacobian(x32, n_threads=2)  # E: call-overload
cmf.logsumexp(x32, return_sign=True).shape  # E: attr-defined
loss: np.float32 = cmf.softmax_cross_entropy(x32, [0, 1], return_grad=True)  # E: assignment
probs: NDArray[np.float32] = cmf.argmax(x32, return_indices=True)  # E: assignment
cmf.sample_categorical(x32, rng=np.random.RandomState(0))  # E: arg-type
