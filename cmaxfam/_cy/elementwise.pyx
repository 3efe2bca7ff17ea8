# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: freethreading_compatible=True
"""Compiled entry points of the elementwise members (sigmoid, log_sigmoid, softplus).

Private: 3-D views from cmaxfam._plumbing; the temperature is a float64 array of the same
shape (broadcast, stride 0 where it repeats).  `op` is 0 sigmoid, 1 log_sigmoid, 2 softplus.
"""
from cmaxfam._cy.kernels cimport *
from cmaxfam._cy._common cimport floating, view, absent, geom, check, init_isa, common_call, scalar_view
cimport numpy as cnp

cnp.import_array()
init_isa()


cdef cmf_status _run(const cmf_geom *g, cmf_arr x, cmf_arr v, cmf_arr t, cmf_arr y, int op, bint f32,
                     bint d) noexcept nogil:
    """op (0 sigmoid, 1 log_sigmoid, 2 softplus) of x into y, or with ``d`` its derivative
    from the forward output x times v."""
    if not d:
        if f32:
            return (cmf_sigmoid_f32(g, x, t, y) if op == 0 else
                    cmf_log_sigmoid_f32(g, x, t, y) if op == 1 else cmf_softplus_f32(g, x, t, y))
        return (cmf_sigmoid_f64(g, x, t, y) if op == 0 else
                cmf_log_sigmoid_f64(g, x, t, y) if op == 1 else cmf_softplus_f64(g, x, t, y))
    if f32:
        return (cmf_sigmoid_vjp_f32(g, x, v, t, y) if op == 0 else
                cmf_log_sigmoid_vjp_f32(g, x, v, t, y) if op == 1 else cmf_softplus_vjp_f32(g, x, v, t, y))
    return (cmf_sigmoid_vjp_f64(g, x, v, t, y) if op == 0 else
            cmf_log_sigmoid_vjp_f64(g, x, v, t, y) if op == 1 else cmf_softplus_vjp_f64(g, x, v, t, y))


def elementwise_common(x, v, temperature, out, n_threads, int op):
    """sigmoid, log_sigmoid or softplus of x (v None), or its derivative from the forward
    output x times v (x and v twins), of the common call, checked and run without Python
    in between (_common.common_call): the result, or None for any other call."""
    cdef cmf_geom g
    cdef cmf_arr xa, va, ya
    cdef double tv
    cdef cmf_status st
    if op < 0 or op > 2:
        raise ValueError("op")
    r = common_call(x, v, -1, temperature, out, n_threads, True, &g, &xa, &va, &ya, &tv)
    if r is None:
        return None
    cdef cmf_arr ta = scalar_view(&tv)
    cdef bint f32 = cnp.PyArray_TYPE(<cnp.ndarray>x) == cnp.NPY_FLOAT, d = v is not None
    with nogil:
        st = _run(&g, xa, va, ta, ya, op, f32, d)
    check(st)
    return r


def elementwise_slices(const floating[:, :, :] x, const double[:, :, :] t, floating[:, :, :] out,
                       int op):
    cdef cmf_geom g = geom(x.shape)
    cdef cmf_arr xa = view(&x[0, 0, 0], x.strides, sizeof(floating))
    cdef cmf_arr ta = view(&t[0, 0, 0], t.strides, sizeof(double))
    cdef cmf_arr ya = view(&out[0, 0, 0], out.strides, sizeof(floating))
    cdef cmf_status st
    if op < 0 or op > 2:
        raise ValueError("op")
    with nogil:
        st = _run(&g, xa, absent(), ta, ya, op, floating is float, False)
    check(st)


def elementwise_d_slices(const floating[:, :, :] y, const floating[:, :, :] v,
                         const double[:, :, :] t, floating[:, :, :] out, int op):
    """Derivative from the forward output y times v (the vjp and the jvp coincide)."""
    cdef cmf_geom g = geom(y.shape)
    cdef cmf_arr ya = view(&y[0, 0, 0], y.strides, sizeof(floating))
    cdef cmf_arr va = view(&v[0, 0, 0], v.strides, sizeof(floating))
    cdef cmf_arr ta = view(&t[0, 0, 0], t.strides, sizeof(double))
    cdef cmf_arr ra = view(&out[0, 0, 0], out.strides, sizeof(floating))
    cdef cmf_status st
    if op < 0 or op > 2:
        raise ValueError("op")
    with nogil:
        st = _run(&g, ya, va, ta, ra, op, floating is float, True)
    check(st)
