# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: freethreading_compatible=True
"""Compiled entry point of the Fenchel-Young losses (softmax cross-entropy, sparsemax and
entmax losses, distillation).

Private: every argument is a 3-D (outer, n, inner) view prepared and validated by the
Python layer (cmaxfam._losses); the kernel runs with the GIL released.
"""
from cmaxfam._cy.kernels cimport *
from cmaxfam._cy._common cimport floating, view, absent, geom, check, init_isa

init_isa()


def fy_loss_slices(const floating[:, :, :] x, const floating[:, :, :] y, floating[:, :, :] grad,
                   const double[:, :, :] t, const double[:, :, :] alpha,
                   const unsigned char[:, :, :] mask, const double[:, :, :] label,
                   const double[:, :, :] gscale, const double[:, :, :] eps, double[:, :, :] loss):
    """Loss per slice into ``loss``; gradient into ``grad`` unless it is None.  ``y`` (a
    target distribution) or ``label`` (class per slice, < 0 ignored) may be None."""
    cdef cmf_geom g = geom(x.shape)
    cdef cmf_arr xa = view(&x[0, 0, 0], x.strides, sizeof(floating))
    cdef cmf_arr ya = absent() if y is None else view(&y[0, 0, 0], y.strides, sizeof(floating))
    cdef cmf_arr ga = absent() if grad is None else view(&grad[0, 0, 0], grad.strides, sizeof(floating))
    cdef cmf_arr ta = view(&t[0, 0, 0], t.strides, sizeof(double))
    cdef cmf_arr aa = view(&alpha[0, 0, 0], alpha.strides, sizeof(double))
    cdef cmf_arr ma = absent() if mask is None else view(&mask[0, 0, 0], mask.strides, 1)
    cdef cmf_arr la = absent() if label is None else view(&label[0, 0, 0], label.strides, sizeof(double))
    cdef cmf_arr sa = view(&gscale[0, 0, 0], gscale.strides, sizeof(double))
    cdef cmf_arr ea = view(&eps[0, 0, 0], eps.strides, sizeof(double))
    cdef cmf_arr lo = view(&loss[0, 0, 0], loss.strides, sizeof(double))
    cdef cmf_status st
    with nogil:
        if floating is float:
            st = cmf_fy_loss_f32(&g, xa, ya, ta, aa, ma, la, sa, ea, lo, ga)
        else:
            st = cmf_fy_loss_f64(&g, xa, ya, ta, aa, ma, la, sa, ea, lo, ga)
    check(st)
