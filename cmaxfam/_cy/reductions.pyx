# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: freethreading_compatible=True
"""Compiled entry points of the reductions (logsumexp, softmax_mean) and their derivatives.

Private: 3-D (outer, n, inner) views from cmaxfam._plumbing; per-slice arrays are float64
views of the same shape whose axis stride is ignored.  The GIL is released in the kernels.
"""
from cmaxfam._cy.kernels cimport *
from cmaxfam._cy._common cimport (floating, view, absent, geom, check, init_isa, common_input,
                                  common_per_slice_out, scalar_view, to_f32)
cimport numpy as cnp

cnp.import_array()
init_isa()


def logsumexp_common(x, axis, temperature, out, n_threads):
    """logsumexp of the common call (_common.common_input; no b, where, keepdims or
    return_sign; out None or common_per_slice_out's), checked and run without Python in
    between: the value (a NumPy scalar for 1-d x) or out, or None for any other call.  As
    the general path, the kernel writes float64 values, rounded to float32 for float32 x."""
    cdef cmf_geom g
    cdef cmf_arr xa
    cdef double tv
    cdef cmf_status st
    cdef Py_ssize_t j
    cdef cnp.npy_intp O
    if not common_input(x, axis, temperature, n_threads, False, &g, &xa, &tv):
        return None
    cdef cnp.ndarray a = <cnp.ndarray>x, o
    cdef int nd = cnp.PyArray_NDIM(a)
    cdef bint f32 = cnp.PyArray_TYPE(a) == cnp.NPY_FLOAT
    if out is None:
        o = cnp.PyArray_EMPTY(nd - 1, cnp.PyArray_DIMS(a), cnp.PyArray_TYPE(a), 0)
    else:
        r = common_per_slice_out(out, x)
        if r is None:
            return None
        o = <cnp.ndarray>r
    O = g.n_outer
    cdef cnp.ndarray lse = o if not f32 else cnp.PyArray_EMPTY(1, &O, cnp.NPY_DOUBLE, 0)
    cdef double *lp = <double *>cnp.PyArray_DATA(lse)
    cdef float *op = <float *>cnp.PyArray_DATA(o)
    cdef cmf_arr ta = scalar_view(&tv), la = scalar_view(lp), ab = absent()
    la.so = 1 if O > 1 else 0
    with nogil:
        if f32:
            st = cmf_logsumexp_f32(&g, xa, ab, ta, ab, la, ab)
            if st == CMF_OK:
                for j in range(O):
                    op[j] = to_f32(lp[j])
        else:
            st = cmf_logsumexp_f64(&g, xa, ab, ta, ab, la, ab)
    check(st)
    if out is not None:
        return out
    return o[()] if nd == 1 else o              # (PyArray_Return would steal o's reference)


def logsumexp_slices(const floating[:, :, :] x, const floating[:, :, :] b, const double[:, :, :] t,
                     const unsigned char[:, :, :] mask, double[:, :, :] lse, double[:, :, :] sign=None):
    cdef cmf_geom g = geom(x.shape)
    cdef cmf_arr xa = view(&x[0, 0, 0], x.strides, sizeof(floating))
    cdef cmf_arr ba = absent() if b is None else view(&b[0, 0, 0], b.strides, sizeof(floating))
    cdef cmf_arr ta = view(&t[0, 0, 0], t.strides, sizeof(double))
    cdef cmf_arr ma = absent() if mask is None else view(&mask[0, 0, 0], mask.strides, 1)
    cdef cmf_arr la = view(&lse[0, 0, 0], lse.strides, sizeof(double))
    cdef cmf_arr sa = absent() if sign is None else view(&sign[0, 0, 0], sign.strides, sizeof(double))
    cdef cmf_status st
    with nogil:
        if floating is float:
            st = cmf_logsumexp_f32(&g, xa, ba, ta, ma, la, sa)
        else:
            st = cmf_logsumexp_f64(&g, xa, ba, ta, ma, la, sa)
    check(st)


def logsumexp_d_slices(const floating[:, :, :] x, const floating[:, :, :] b, const double[:, :, :] t,
                       const unsigned char[:, :, :] mask, const double[:, :, :] lse,
                       const double[:, :, :] sign, const floating[:, :, :] v_slice,
                       const double[:, :, :] v_scalar, floating[:, :, :] r_slice,
                       double[:, :, :] r_scalar):
    """vjp (v_scalar -> r_slice) when r_slice is given, else jvp (v_slice -> r_scalar)."""
    cdef cmf_geom g = geom(x.shape)
    cdef cmf_arr xa = view(&x[0, 0, 0], x.strides, sizeof(floating))
    cdef cmf_arr ba = absent() if b is None else view(&b[0, 0, 0], b.strides, sizeof(floating))
    cdef cmf_arr ta = view(&t[0, 0, 0], t.strides, sizeof(double))
    cdef cmf_arr ma = absent() if mask is None else view(&mask[0, 0, 0], mask.strides, 1)
    cdef cmf_arr la = view(&lse[0, 0, 0], lse.strides, sizeof(double))
    cdef cmf_arr sa = view(&sign[0, 0, 0], sign.strides, sizeof(double))
    cdef bint vjp = r_slice is not None
    cdef cmf_arr va, ra
    if vjp:
        va = view(&v_scalar[0, 0, 0], v_scalar.strides, sizeof(double))
        ra = view(&r_slice[0, 0, 0], r_slice.strides, sizeof(floating))
    else:
        va = view(&v_slice[0, 0, 0], v_slice.strides, sizeof(floating))
        ra = view(&r_scalar[0, 0, 0], r_scalar.strides, sizeof(double))
    cdef cmf_status st
    with nogil:
        if floating is float:
            st = cmf_logsumexp_vjp_f32(&g, xa, ba, ta, ma, la, sa, va, ra) if vjp else cmf_logsumexp_jvp_f32(&g, xa, ba, ta, ma, la, sa, va, ra)
        else:
            st = cmf_logsumexp_vjp_f64(&g, xa, ba, ta, ma, la, sa, va, ra) if vjp else cmf_logsumexp_jvp_f64(&g, xa, ba, ta, ma, la, sa, va, ra)
    check(st)


def softmax_mean_slices(const floating[:, :, :] x, const double[:, :, :] t,
                        const unsigned char[:, :, :] mask, double[:, :, :] f):
    cdef cmf_geom g = geom(x.shape)
    cdef cmf_arr xa = view(&x[0, 0, 0], x.strides, sizeof(floating))
    cdef cmf_arr ta = view(&t[0, 0, 0], t.strides, sizeof(double))
    cdef cmf_arr ma = absent() if mask is None else view(&mask[0, 0, 0], mask.strides, 1)
    cdef cmf_arr fa = view(&f[0, 0, 0], f.strides, sizeof(double))
    cdef cmf_status st
    with nogil:
        if floating is float:
            st = cmf_softmax_mean_f32(&g, xa, ta, ma, fa)
        else:
            st = cmf_softmax_mean_f64(&g, xa, ta, ma, fa)
    check(st)


def softmax_mean_d_slices(const floating[:, :, :] x, const double[:, :, :] t,
                          const unsigned char[:, :, :] mask, const double[:, :, :] f,
                          const floating[:, :, :] v_slice, const double[:, :, :] v_scalar,
                          floating[:, :, :] r_slice, double[:, :, :] r_scalar):
    """vjp (v_scalar -> r_slice) when r_slice is given, else jvp (v_slice -> r_scalar)."""
    cdef cmf_geom g = geom(x.shape)
    cdef cmf_arr xa = view(&x[0, 0, 0], x.strides, sizeof(floating))
    cdef cmf_arr ta = view(&t[0, 0, 0], t.strides, sizeof(double))
    cdef cmf_arr ma = absent() if mask is None else view(&mask[0, 0, 0], mask.strides, 1)
    cdef cmf_arr fa = view(&f[0, 0, 0], f.strides, sizeof(double))
    cdef bint vjp = r_slice is not None
    cdef cmf_arr va, ra
    if vjp:
        va = view(&v_scalar[0, 0, 0], v_scalar.strides, sizeof(double))
        ra = view(&r_slice[0, 0, 0], r_slice.strides, sizeof(floating))
    else:
        va = view(&v_slice[0, 0, 0], v_slice.strides, sizeof(floating))
        ra = view(&r_scalar[0, 0, 0], r_scalar.strides, sizeof(double))
    cdef cmf_status st
    with nogil:
        if floating is float:
            st = cmf_softmax_mean_vjp_f32(&g, xa, ta, ma, fa, va, ra) if vjp else cmf_softmax_mean_jvp_f32(&g, xa, ta, ma, fa, va, ra)
        else:
            st = cmf_softmax_mean_vjp_f64(&g, xa, ta, ma, fa, va, ra) if vjp else cmf_softmax_mean_jvp_f64(&g, xa, ta, ma, fa, va, ra)
    check(st)
