# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: freethreading_compatible=True
"""Compiled entry point of the Fenchel-Young losses (softmax cross-entropy, sparsemax and
entmax losses, distillation).

Private: every argument is a 3-D (outer, n, inner) view prepared and validated by the
Python layer (cmaxfam._losses); the kernel runs with the GIL released.
"""
from cmaxfam._cy.kernels cimport *
from cmaxfam._cy._common cimport (floating, view, absent, geom, check, init_isa, common_input, same_lead_dims,
                                  scalar_view)
cimport numpy as cnp

cnp.import_array()
init_isa()


def fy_loss_common(logits, target, axis, temperature, bint mean, bint want_grad, double alpha,
                   n_threads):
    """The kernel part of a loss's common call (_common.common_input for the logits; class
    labels an integer ndarray of the slices' shape, C-contiguous, all in [0, n)), checked
    and run without Python in between: ``(loss, grad)``, the per-slice losses (float64,
    one per slice in C order) and the gradient (None unless ``want_grad``), from the
    general path's arithmetic (gradient scale 1 / the number of slices for ``mean``, no
    smoothing); None for any other call."""
    cdef cmf_geom g
    cdef cmf_arr xa, ga
    cdef double tv, gs, eps = 0.0
    cdef cmf_status st
    cdef cnp.npy_intp j, O
    if not common_input(logits, axis, temperature, n_threads, False, &g, &xa, &tv):
        return None
    cdef cnp.ndarray a = <cnp.ndarray>logits, tg, lab, loss, grad = None
    cdef int nd = cnp.PyArray_NDIM(a)
    if not cnp.PyArray_CheckExact(target):
        return None
    tg = <cnp.ndarray>target
    if not cnp.PyArray_ISINTEGER(tg) or not same_lead_dims(tg, a, nd - 1) or not cnp.PyArray_IS_C_CONTIGUOUS(tg):
        return None
    O = g.n_outer
    lab = cnp.PyArray_Cast(tg, cnp.NPY_DOUBLE)
    cdef double *lp = <double *>cnp.PyArray_DATA(lab)
    cdef double n = <double>g.n
    for j in range(O):
        if not (0.0 <= lp[j] < n):
            return None                       # the general path says which label
    loss = cnp.PyArray_ZEROS(1, &O, cnp.NPY_DOUBLE, 0)
    if want_grad:
        grad = cnp.PyArray_EMPTY(nd, cnp.PyArray_DIMS(a), cnp.PyArray_TYPE(a), 0)
        ga = xa
        ga.p = cnp.PyArray_DATA(grad)
    else:
        ga = absent()
    gs = 1.0 / <double>O if mean else 1.0
    cdef cmf_arr ta = scalar_view(&tv), aa = scalar_view(&alpha), sa = scalar_view(&gs)
    cdef cmf_arr ea = scalar_view(&eps), la = scalar_view(lp), lo = scalar_view(<double *>cnp.PyArray_DATA(loss))
    cdef cmf_arr no = absent()
    la.so = lo.so = 1 if O > 1 else 0
    cdef bint f32 = cnp.PyArray_TYPE(a) == cnp.NPY_FLOAT
    with nogil:
        if f32:
            st = cmf_fy_loss_f32(&g, xa, no, ta, aa, no, la, sa, ea, lo, ga)
        else:
            st = cmf_fy_loss_f64(&g, xa, no, ta, aa, no, la, sa, ea, lo, ga)
    check(st)
    return loss, grad


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
