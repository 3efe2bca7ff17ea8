# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: freethreading_compatible=True
"""Compiled entry points of the normalisers (softmax, log_softmax, argmax, sparsemax, entmax).

Private: every argument is a 3-D (outer, n, inner) view prepared and validated by the
Python layer (cmaxfam._plumbing); the kernels run with the GIL released.
"""
from cmaxfam._cy.kernels cimport *
from cmaxfam._cy._common cimport (floating, view, absent, geom, check, init_isa, common_call, common_input,
                                  scalar_view)
cimport numpy as cnp
from libc.math cimport NAN

cnp.import_array()
init_isa()


def normalizer_common(x, axis, temperature, out, n_threads, int op, double alpha=0.0):
    """A normaliser (op 0 softmax, 1 log_softmax, 2 sparsemax, 3 alpha-entmax with
    ``alpha`` > 1, not 2) of the common call, checked and run without Python in between
    (_common.common_call): the result, or None for any other call."""
    cdef cmf_geom g
    cdef cmf_arr xa, ya
    cdef double tv
    cdef cmf_status st
    r = common_call(x, None, axis, temperature, out, n_threads, False, &g, &xa, NULL, &ya, &tv)
    if r is None:
        return None
    cdef cmf_arr ta = scalar_view(&tv), aa = scalar_view(&alpha), ma = absent(), na = absent()
    cdef bint f32 = cnp.PyArray_TYPE(<cnp.ndarray>x) == cnp.NPY_FLOAT
    with nogil:
        if f32:
            if op == 0: st = cmf_softmax_f32(&g, xa, ta, ma, ya)
            elif op == 1: st = cmf_log_softmax_f32(&g, xa, ta, ma, ya)
            elif op == 2: st = cmf_sparsemax_f32(&g, xa, ta, ma, ya)
            else: st = cmf_entmax_f32(&g, xa, ta, aa, ma, ya, na)
        else:
            if op == 0: st = cmf_softmax_f64(&g, xa, ta, ma, ya)
            elif op == 1: st = cmf_log_softmax_f64(&g, xa, ta, ma, ya)
            elif op == 2: st = cmf_sparsemax_f64(&g, xa, ta, ma, ya)
            else: st = cmf_entmax_f64(&g, xa, ta, aa, ma, ya, na)
    check(st)
    return r


def argmax_common(x, axis, temperature, out, n_threads, bint indices):
    """argmax of the common call (_common.common_call; the temperature is only checked),
    without Python in between: the one-hot (x's dtype; NaN over a slice with NaN or only
    -inf, as the general path) or, with ``indices``, the int64 indices of the slices'
    shape (out None); None for any other call."""
    cdef cmf_geom g
    cdef cmf_arr xa, ya
    cdef double tv
    cdef cmf_status st
    cdef cnp.npy_intp j, k, O
    if indices:                                # (no one-hot to allocate)
        if out is not None or not common_input(x, axis, temperature, n_threads, False, &g, &xa, &tv):
            return None
        r = x
    else:
        r = common_call(x, None, axis, temperature, out, n_threads, False, &g, &xa, NULL, &ya, &tv)
        if r is None:
            return None
    O = g.n_outer
    cdef cnp.ndarray a = <cnp.ndarray>x, res = <cnp.ndarray>r
    cdef cnp.npy_intp O2 = 2 * O
    cdef cnp.ndarray ic = cnp.PyArray_EMPTY(1, &O2, cnp.NPY_DOUBLE, 0)
    cdef double *idx = <double *>cnp.PyArray_DATA(ic)
    cdef double *code = idx + O
    cdef cmf_arr ia = scalar_view(idx), ca = scalar_view(code)
    ia.so = ca.so = 1 if O > 1 else 0
    cdef bint f32 = cnp.PyArray_TYPE(a) == cnp.NPY_FLOAT
    cdef Py_ssize_t n = g.n
    cdef float *h32
    cdef double *h64
    cdef long long *ii
    cdef double v
    with nogil:
        st = cmf_argmax_f32(&g, xa, absent(), ia, ca) if f32 else cmf_argmax_f64(&g, xa, absent(), ia, ca)
    check(st)
    if indices:
        res = cnp.PyArray_EMPTY(cnp.PyArray_NDIM(a) - 1, cnp.PyArray_DIMS(a), cnp.NPY_INT64, 0)
        ii = <long long *>cnp.PyArray_DATA(res)
        for j in range(O):
            ii[j] = <long long>idx[j]
        return res
    h32 = <float *>ya.p
    h64 = <double *>ya.p
    with nogil:
        for j in range(O):
            for k in range(n):                  # (x may be the output: written after the kernel)
                if code[j] == CMF_SLICE_OK:
                    v = 1.0 if k == <cnp.npy_intp>idx[j] else 0.0
                elif code[j] == CMF_SLICE_NAN or code[j] == CMF_SLICE_ALL_NEGINF:
                    v = NAN
                else:
                    v = 0.0
                if f32:
                    h32[j * n + k] = <float>v
                else:
                    h64[j * n + k] = v
    return res


def normalizer_d_common(y, v, axis, temperature, out, n_threads, int op, double alpha=0.0):
    """A normaliser's derivative (op 0 softmax vjp, 1 softmax jvp, 2 log_softmax vjp, 3
    log_softmax jvp, 4 entmax vjp == jvp with ``alpha``) of the common call, y and v
    twins: the result, or None for any other call."""
    cdef cmf_geom g
    cdef cmf_arr ya, va, ra
    cdef double tv
    cdef cmf_status st
    r = common_call(y, v, axis, temperature, out, n_threads, False, &g, &ya, &va, &ra, &tv)
    if r is None:
        return None
    cdef cmf_arr ta = scalar_view(&tv), aa = scalar_view(&alpha), ma = absent()
    cdef bint f32 = cnp.PyArray_TYPE(<cnp.ndarray>y) == cnp.NPY_FLOAT
    with nogil:
        if f32:
            if op == 0: st = cmf_softmax_vjp_f32(&g, ya, va, ta, ra)
            elif op == 1: st = cmf_softmax_jvp_f32(&g, ya, va, ta, ra)
            elif op == 2: st = cmf_log_softmax_vjp_f32(&g, ya, va, ta, ma, ra)
            elif op == 3: st = cmf_log_softmax_jvp_f32(&g, ya, va, ta, ma, ra)
            else: st = cmf_entmax_vjp_f32(&g, ya, va, ta, aa, ra)
        else:
            if op == 0: st = cmf_softmax_vjp_f64(&g, ya, va, ta, ra)
            elif op == 1: st = cmf_softmax_jvp_f64(&g, ya, va, ta, ra)
            elif op == 2: st = cmf_log_softmax_vjp_f64(&g, ya, va, ta, ma, ra)
            elif op == 3: st = cmf_log_softmax_jvp_f64(&g, ya, va, ta, ma, ra)
            else: st = cmf_entmax_vjp_f64(&g, ya, va, ta, aa, ra)
    check(st)
    return r


def softmax_slices(const floating[:, :, :] x, floating[:, :, :] out, const double[:, :, :] t,
                   const unsigned char[:, :, :] mask=None, bint log=False):
    cdef cmf_geom g = geom(x.shape)
    cdef cmf_arr xa = view(&x[0, 0, 0], x.strides, sizeof(floating))
    cdef cmf_arr ya = view(&out[0, 0, 0], out.strides, sizeof(floating))
    cdef cmf_arr ta = view(&t[0, 0, 0], t.strides, sizeof(double))
    cdef cmf_arr ma = absent() if mask is None else view(&mask[0, 0, 0], mask.strides, 1)
    cdef cmf_status st
    with nogil:
        if floating is float:
            st = cmf_log_softmax_f32(&g, xa, ta, ma, ya) if log else cmf_softmax_f32(&g, xa, ta, ma, ya)
        else:
            st = cmf_log_softmax_f64(&g, xa, ta, ma, ya) if log else cmf_softmax_f64(&g, xa, ta, ma, ya)
    check(st)


def softmax_d_slices(const floating[:, :, :] y, const floating[:, :, :] v, floating[:, :, :] out,
                     const double[:, :, :] t, const unsigned char[:, :, :] mask=None,
                     bint log=False, bint jvp=False):
    """vjp (jvp=False) or jvp of softmax / log_softmax (log=True) from the forward output."""
    cdef cmf_geom g = geom(y.shape)
    cdef cmf_arr ya = view(&y[0, 0, 0], y.strides, sizeof(floating))
    cdef cmf_arr va = view(&v[0, 0, 0], v.strides, sizeof(floating))
    cdef cmf_arr ra = view(&out[0, 0, 0], out.strides, sizeof(floating))
    cdef cmf_arr ta = view(&t[0, 0, 0], t.strides, sizeof(double))
    cdef cmf_arr ma = absent() if mask is None else view(&mask[0, 0, 0], mask.strides, 1)
    cdef cmf_status st
    with nogil:
        if floating is float:
            if log:
                st = cmf_log_softmax_jvp_f32(&g, ya, va, ta, ma, ra) if jvp else cmf_log_softmax_vjp_f32(&g, ya, va, ta, ma, ra)
            else:
                st = cmf_softmax_jvp_f32(&g, ya, va, ta, ra) if jvp else cmf_softmax_vjp_f32(&g, ya, va, ta, ra)
        else:
            if log:
                st = cmf_log_softmax_jvp_f64(&g, ya, va, ta, ma, ra) if jvp else cmf_log_softmax_vjp_f64(&g, ya, va, ta, ma, ra)
            else:
                st = cmf_softmax_jvp_f64(&g, ya, va, ta, ra) if jvp else cmf_softmax_vjp_f64(&g, ya, va, ta, ra)
    check(st)


def argmax_slices(const floating[:, :, :] x, double[:, :, :] idx, double[:, :, :] code,
                  const unsigned char[:, :, :] mask=None):
    cdef cmf_geom g = geom(x.shape)
    cdef cmf_arr xa = view(&x[0, 0, 0], x.strides, sizeof(floating))
    cdef cmf_arr ia = view(&idx[0, 0, 0], idx.strides, sizeof(double))
    cdef cmf_arr ca = view(&code[0, 0, 0], code.strides, sizeof(double))
    cdef cmf_arr ma = absent() if mask is None else view(&mask[0, 0, 0], mask.strides, 1)
    cdef cmf_status st
    with nogil:
        if floating is float:
            st = cmf_argmax_f32(&g, xa, ma, ia, ca)
        else:
            st = cmf_argmax_f64(&g, xa, ma, ia, ca)
    check(st)


def sparse_slices(const floating[:, :, :] x, floating[:, :, :] out, const double[:, :, :] t,
                  const unsigned char[:, :, :] mask=None, const double[:, :, :] alpha=None,
                  double[:, :, :] n_iter=None):
    """sparsemax (alpha None) or alpha-entmax (alpha per slice); n_iter: iterations."""
    cdef cmf_geom g = geom(x.shape)
    cdef cmf_arr xa = view(&x[0, 0, 0], x.strides, sizeof(floating))
    cdef cmf_arr ya = view(&out[0, 0, 0], out.strides, sizeof(floating))
    cdef cmf_arr ta = view(&t[0, 0, 0], t.strides, sizeof(double))
    cdef cmf_arr ma = absent() if mask is None else view(&mask[0, 0, 0], mask.strides, 1)
    cdef cmf_arr aa = absent() if alpha is None else view(&alpha[0, 0, 0], alpha.strides, sizeof(double))
    cdef cmf_arr na = absent() if n_iter is None else view(&n_iter[0, 0, 0], n_iter.strides, sizeof(double))
    cdef bint sparse = alpha is None
    cdef cmf_status st
    with nogil:
        if floating is float:
            st = cmf_sparsemax_f32(&g, xa, ta, ma, ya) if sparse else cmf_entmax_f32(&g, xa, ta, aa, ma, ya, na)
        else:
            st = cmf_sparsemax_f64(&g, xa, ta, ma, ya) if sparse else cmf_entmax_f64(&g, xa, ta, aa, ma, ya, na)
    check(st)


def entmax_d_slices(const floating[:, :, :] y, const floating[:, :, :] v, floating[:, :, :] out,
                    const double[:, :, :] t, const unsigned char[:, :, :] mask,
                    const double[:, :, :] alpha):
    """vjp == jvp of alpha-entmax from its output (s = y^(2 - alpha) on the support)."""
    cdef cmf_geom g = geom(y.shape)
    cdef cmf_arr ya = view(&y[0, 0, 0], y.strides, sizeof(floating))
    cdef cmf_arr va = view(&v[0, 0, 0], v.strides, sizeof(floating))
    cdef cmf_arr ra = view(&out[0, 0, 0], out.strides, sizeof(floating))
    cdef cmf_arr ta = view(&t[0, 0, 0], t.strides, sizeof(double))
    cdef cmf_arr aa = view(&alpha[0, 0, 0], alpha.strides, sizeof(double))
    cdef cmf_status st
    with nogil:
        if floating is float:
            st = cmf_entmax_vjp_f32(&g, ya, va, ta, aa, ra)
        else:
            st = cmf_entmax_vjp_f64(&g, ya, va, ta, aa, ra)
    check(st)
