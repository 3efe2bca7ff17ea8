# The only extern block of cmaxfam: the C core's public header (src/cmaxfam.h).
from libc.stdint cimport uint8_t, uint64_t, int64_t

cdef extern from "cmaxfam.h" nogil:
    ctypedef enum cmf_status:
        CMF_OK
        CMF_ENOMEM
        CMF_EINVAL
        CMF_EDOMAIN

    enum:
        CMF_SLICE_OK
        CMF_SLICE_NAN
        CMF_SLICE_ALL_NEGINF
        CMF_SLICE_EMPTY

    int cmf_detect_isa()
    int cmf_select_isa(int requested)
    int cmf_active_isa()

    ctypedef struct cmf_geom:
        Py_ssize_t n_outer
        Py_ssize_t n
        Py_ssize_t n_inner

    ctypedef struct cmf_arr:
        void *p
        Py_ssize_t so
        Py_ssize_t sa
        Py_ssize_t si

    ctypedef struct cmf_rng:
        void *state
        uint64_t (*next_uint64)(void *state) noexcept nogil

    cmf_status cmf_softmax_f32(const cmf_geom *g, cmf_arr x, cmf_arr t, cmf_arr mask, cmf_arr y)
    cmf_status cmf_softmax_f64(const cmf_geom *g, cmf_arr x, cmf_arr t, cmf_arr mask, cmf_arr y)
    cmf_status cmf_log_softmax_f32(const cmf_geom *g, cmf_arr x, cmf_arr t, cmf_arr mask, cmf_arr y)
    cmf_status cmf_log_softmax_f64(const cmf_geom *g, cmf_arr x, cmf_arr t, cmf_arr mask, cmf_arr y)
    cmf_status cmf_softmax_vjp_f32(const cmf_geom *g, cmf_arr y, cmf_arr v, cmf_arr t, cmf_arr r)
    cmf_status cmf_softmax_vjp_f64(const cmf_geom *g, cmf_arr y, cmf_arr v, cmf_arr t, cmf_arr r)
    cmf_status cmf_softmax_jvp_f32(const cmf_geom *g, cmf_arr y, cmf_arr v, cmf_arr t, cmf_arr r)
    cmf_status cmf_softmax_jvp_f64(const cmf_geom *g, cmf_arr y, cmf_arr v, cmf_arr t, cmf_arr r)
    cmf_status cmf_log_softmax_vjp_f32(const cmf_geom *g, cmf_arr y, cmf_arr v, cmf_arr t, cmf_arr mask, cmf_arr r)
    cmf_status cmf_log_softmax_vjp_f64(const cmf_geom *g, cmf_arr y, cmf_arr v, cmf_arr t, cmf_arr mask, cmf_arr r)
    cmf_status cmf_log_softmax_jvp_f32(const cmf_geom *g, cmf_arr y, cmf_arr v, cmf_arr t, cmf_arr mask, cmf_arr r)
    cmf_status cmf_log_softmax_jvp_f64(const cmf_geom *g, cmf_arr y, cmf_arr v, cmf_arr t, cmf_arr mask, cmf_arr r)
    cmf_status cmf_argmax_f32(const cmf_geom *g, cmf_arr x, cmf_arr mask, cmf_arr idx, cmf_arr code)
    cmf_status cmf_argmax_f64(const cmf_geom *g, cmf_arr x, cmf_arr mask, cmf_arr idx, cmf_arr code)
    cmf_status cmf_logsumexp_f32(const cmf_geom *g, cmf_arr x, cmf_arr b, cmf_arr t, cmf_arr mask, cmf_arr lse, cmf_arr sign)
    cmf_status cmf_logsumexp_f64(const cmf_geom *g, cmf_arr x, cmf_arr b, cmf_arr t, cmf_arr mask, cmf_arr lse, cmf_arr sign)
    cmf_status cmf_logsumexp_vjp_f32(const cmf_geom *g, cmf_arr x, cmf_arr b, cmf_arr t, cmf_arr mask, cmf_arr lse, cmf_arr sign, cmf_arr v, cmf_arr r)
    cmf_status cmf_logsumexp_vjp_f64(const cmf_geom *g, cmf_arr x, cmf_arr b, cmf_arr t, cmf_arr mask, cmf_arr lse, cmf_arr sign, cmf_arr v, cmf_arr r)
    cmf_status cmf_logsumexp_jvp_f32(const cmf_geom *g, cmf_arr x, cmf_arr b, cmf_arr t, cmf_arr mask, cmf_arr lse, cmf_arr sign, cmf_arr v, cmf_arr r)
    cmf_status cmf_logsumexp_jvp_f64(const cmf_geom *g, cmf_arr x, cmf_arr b, cmf_arr t, cmf_arr mask, cmf_arr lse, cmf_arr sign, cmf_arr v, cmf_arr r)
    cmf_status cmf_softmax_mean_f32(const cmf_geom *g, cmf_arr x, cmf_arr t, cmf_arr mask, cmf_arr f)
    cmf_status cmf_softmax_mean_f64(const cmf_geom *g, cmf_arr x, cmf_arr t, cmf_arr mask, cmf_arr f)
    cmf_status cmf_softmax_mean_vjp_f32(const cmf_geom *g, cmf_arr x, cmf_arr t, cmf_arr mask, cmf_arr f, cmf_arr v, cmf_arr r)
    cmf_status cmf_softmax_mean_vjp_f64(const cmf_geom *g, cmf_arr x, cmf_arr t, cmf_arr mask, cmf_arr f, cmf_arr v, cmf_arr r)
    cmf_status cmf_softmax_mean_jvp_f32(const cmf_geom *g, cmf_arr x, cmf_arr t, cmf_arr mask, cmf_arr f, cmf_arr v, cmf_arr r)
    cmf_status cmf_softmax_mean_jvp_f64(const cmf_geom *g, cmf_arr x, cmf_arr t, cmf_arr mask, cmf_arr f, cmf_arr v, cmf_arr r)
    cmf_status cmf_sigmoid_f32(const cmf_geom *g, cmf_arr x, cmf_arr t, cmf_arr y)
    cmf_status cmf_sigmoid_f64(const cmf_geom *g, cmf_arr x, cmf_arr t, cmf_arr y)
    cmf_status cmf_log_sigmoid_f32(const cmf_geom *g, cmf_arr x, cmf_arr t, cmf_arr y)
    cmf_status cmf_log_sigmoid_f64(const cmf_geom *g, cmf_arr x, cmf_arr t, cmf_arr y)
    cmf_status cmf_softplus_f32(const cmf_geom *g, cmf_arr x, cmf_arr t, cmf_arr y)
    cmf_status cmf_softplus_f64(const cmf_geom *g, cmf_arr x, cmf_arr t, cmf_arr y)
    cmf_status cmf_sigmoid_vjp_f32(const cmf_geom *g, cmf_arr y, cmf_arr v, cmf_arr t, cmf_arr r)
    cmf_status cmf_sigmoid_vjp_f64(const cmf_geom *g, cmf_arr y, cmf_arr v, cmf_arr t, cmf_arr r)
    cmf_status cmf_log_sigmoid_vjp_f32(const cmf_geom *g, cmf_arr y, cmf_arr v, cmf_arr t, cmf_arr r)
    cmf_status cmf_log_sigmoid_vjp_f64(const cmf_geom *g, cmf_arr y, cmf_arr v, cmf_arr t, cmf_arr r)
    cmf_status cmf_softplus_vjp_f32(const cmf_geom *g, cmf_arr y, cmf_arr v, cmf_arr t, cmf_arr r)
    cmf_status cmf_softplus_vjp_f64(const cmf_geom *g, cmf_arr y, cmf_arr v, cmf_arr t, cmf_arr r)
    cmf_status cmf_sparsemax_f32(const cmf_geom *g, cmf_arr x, cmf_arr t, cmf_arr mask, cmf_arr y)
    cmf_status cmf_sparsemax_f64(const cmf_geom *g, cmf_arr x, cmf_arr t, cmf_arr mask, cmf_arr y)
    cmf_status cmf_entmax_f32(const cmf_geom *g, cmf_arr x, cmf_arr t, cmf_arr alpha, cmf_arr mask, cmf_arr y, cmf_arr n_iter)
    cmf_status cmf_entmax_f64(const cmf_geom *g, cmf_arr x, cmf_arr t, cmf_arr alpha, cmf_arr mask, cmf_arr y, cmf_arr n_iter)
    cmf_status cmf_entmax_vjp_f32(const cmf_geom *g, cmf_arr y, cmf_arr v, cmf_arr t, cmf_arr alpha, cmf_arr r)
    cmf_status cmf_entmax_vjp_f64(const cmf_geom *g, cmf_arr y, cmf_arr v, cmf_arr t, cmf_arr alpha, cmf_arr r)
    cmf_status cmf_fy_loss_f32(const cmf_geom *g, cmf_arr x, cmf_arr y, cmf_arr t, cmf_arr alpha, cmf_arr mask, cmf_arr label, cmf_arr gscale, cmf_arr eps, cmf_arr loss, cmf_arr grad)
    cmf_status cmf_fy_loss_f64(const cmf_geom *g, cmf_arr x, cmf_arr y, cmf_arr t, cmf_arr alpha, cmf_arr mask, cmf_arr label, cmf_arr gscale, cmf_arr eps, cmf_arr loss, cmf_arr grad)
    cmf_status cmf_gumbel_noise_f32(const cmf_geom *g, const cmf_rng *rng, cmf_arr x, cmf_arr noise, cmf_arr y)
    cmf_status cmf_gumbel_noise_f64(const cmf_geom *g, const cmf_rng *rng, cmf_arr x, cmf_arr noise, cmf_arr y)
    cmf_status cmf_sample_categorical_f32(const cmf_geom *g, const cmf_rng *rng, cmf_arr x, cmf_arr t, cmf_arr mask, Py_ssize_t n_samples, cmf_arr idx)
    cmf_status cmf_sample_categorical_f64(const cmf_geom *g, const cmf_rng *rng, cmf_arr x, cmf_arr t, cmf_arr mask, Py_ssize_t n_samples, cmf_arr idx)
