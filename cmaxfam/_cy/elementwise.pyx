# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: freethreading_compatible=True
"""Compiled entry points of the elementwise members (sigmoid, log_sigmoid, softplus).

Private: 3-D views from cmaxfam._plumbing; the temperature is a float64 array of the same
shape (broadcast, stride 0 where it repeats).  `op` is 0 sigmoid, 1 log_sigmoid, 2 softplus.
"""
from cmaxfam._cy.kernels cimport *
from cmaxfam._cy._common cimport floating, view, absent, geom, check, init_isa

init_isa()


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
        if floating is float:
            st = (cmf_sigmoid_f32(&g, xa, ta, ya) if op == 0 else
                  cmf_log_sigmoid_f32(&g, xa, ta, ya) if op == 1 else cmf_softplus_f32(&g, xa, ta, ya))
        else:
            st = (cmf_sigmoid_f64(&g, xa, ta, ya) if op == 0 else
                  cmf_log_sigmoid_f64(&g, xa, ta, ya) if op == 1 else cmf_softplus_f64(&g, xa, ta, ya))
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
        if floating is float:
            st = (cmf_sigmoid_vjp_f32(&g, ya, va, ta, ra) if op == 0 else
                  cmf_log_sigmoid_vjp_f32(&g, ya, va, ta, ra) if op == 1 else cmf_softplus_vjp_f32(&g, ya, va, ta, ra))
        else:
            st = (cmf_sigmoid_vjp_f64(&g, ya, va, ta, ra) if op == 0 else
                  cmf_log_sigmoid_vjp_f64(&g, ya, va, ta, ra) if op == 1 else cmf_softplus_vjp_f64(&g, ya, va, ta, ra))
    check(st)
