/* cmaxfam.h: the C core of cmaxfam.
 *
 * Plain C99: no Python.h, no global mutable state, every function reentrant.
 *
 * Geometry.  Every kernel sees its arrays as (n_outer, n, n_inner) where `n` is the
 * length of the reduced axis ("the slice") and the other two enumerate slices.  Each
 * array carries its own three strides, counted in elements (not bytes), so any layout
 * works without a copy: negative strides, Fortran order, non-contiguous views, and
 * broadcast arrays (stride 0).  Arrays that hold one value per slice (temperatures,
 * reduction outputs, per-slice cotangents) are float64 and ignore their axis stride.
 */
#ifndef CMAXFAM_H
#define CMAXFAM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    CMF_OK = 0,
    CMF_ENOMEM = 1,   /* scratch allocation failed */
    CMF_EINVAL = 2    /* inconsistent geometry (a bug in the caller) */
} cmf_status;

typedef struct {
    ptrdiff_t n_outer, n, n_inner;
} cmf_geom;

/* An array viewed through a cmf_geom.  p == NULL means "not given". */
typedef struct {
    void *p;
    ptrdiff_t so, sa, si;   /* element strides: outer, axis, inner */
} cmf_arr;

/* Per-slice status codes written by cmf_argmax_*. */
enum { CMF_SLICE_OK = 0, CMF_SLICE_NAN = 1, CMF_SLICE_ALL_NEGINF = 2, CMF_SLICE_EMPTY = 3 };

#define CMF_DECLARE(T, SFX)                                                                \
    /* normalisers: x, temperature t (per slice), mask (uint8, optional) -> y */           \
    cmf_status cmf_softmax_##SFX(const cmf_geom *g, cmf_arr x, cmf_arr t, cmf_arr mask,    \
                                 cmf_arr y);                                               \
    cmf_status cmf_log_softmax_##SFX(const cmf_geom *g, cmf_arr x, cmf_arr t,              \
                                     cmf_arr mask, cmf_arr y);                             \
    /* y: forward output; v: cotangent (vjp) or tangent (jvp) -> r */                      \
    cmf_status cmf_softmax_vjp_##SFX(const cmf_geom *g, cmf_arr y, cmf_arr v, cmf_arr t,   \
                                     cmf_arr r);                                           \
    cmf_status cmf_softmax_jvp_##SFX(const cmf_geom *g, cmf_arr y, cmf_arr v, cmf_arr t,   \
                                     cmf_arr r);                                           \
    cmf_status cmf_log_softmax_vjp_##SFX(const cmf_geom *g, cmf_arr y, cmf_arr v,          \
                                         cmf_arr t, cmf_arr mask, cmf_arr r);              \
    cmf_status cmf_log_softmax_jvp_##SFX(const cmf_geom *g, cmf_arr y, cmf_arr v,          \
                                         cmf_arr t, cmf_arr mask, cmf_arr r);              \
    /* argmax: idx (float64 per slice; -1 when fully masked), code (CMF_SLICE_*) */         \
    cmf_status cmf_argmax_##SFX(const cmf_geom *g, cmf_arr x, cmf_arr mask, cmf_arr idx,   \
                                cmf_arr code);                                             \
    /* logsumexp: b optional weights (slice array); lse and sign are per slice */          \
    cmf_status cmf_logsumexp_##SFX(const cmf_geom *g, cmf_arr x, cmf_arr b, cmf_arr t,     \
                                   cmf_arr mask, cmf_arr lse, cmf_arr sign);               \
    /* v per slice (cotangent of lse) -> r slice */                                        \
    cmf_status cmf_logsumexp_vjp_##SFX(const cmf_geom *g, cmf_arr x, cmf_arr b, cmf_arr t, \
                                       cmf_arr mask, cmf_arr lse, cmf_arr sign, cmf_arr v, \
                                       cmf_arr r);                                         \
    /* v slice (tangent of x) -> r per slice */                                            \
    cmf_status cmf_logsumexp_jvp_##SFX(const cmf_geom *g, cmf_arr x, cmf_arr b, cmf_arr t, \
                                       cmf_arr mask, cmf_arr lse, cmf_arr sign, cmf_arr v, \
                                       cmf_arr r);                                         \
    /* softmax_mean f = <x, softmax(x/t)>, per slice */                                    \
    cmf_status cmf_softmax_mean_##SFX(const cmf_geom *g, cmf_arr x, cmf_arr t,             \
                                      cmf_arr mask, cmf_arr f);                            \
    cmf_status cmf_softmax_mean_vjp_##SFX(const cmf_geom *g, cmf_arr x, cmf_arr t,         \
                                          cmf_arr mask, cmf_arr f, cmf_arr v, cmf_arr r);  \
    cmf_status cmf_softmax_mean_jvp_##SFX(const cmf_geom *g, cmf_arr x, cmf_arr t,         \
                                          cmf_arr mask, cmf_arr f, cmf_arr v, cmf_arr r);  \
    /* elementwise: t is a float64 array with full strides (broadcast allowed) */          \
    cmf_status cmf_sigmoid_##SFX(const cmf_geom *g, cmf_arr x, cmf_arr t, cmf_arr y);      \
    cmf_status cmf_log_sigmoid_##SFX(const cmf_geom *g, cmf_arr x, cmf_arr t, cmf_arr y);  \
    cmf_status cmf_softplus_##SFX(const cmf_geom *g, cmf_arr x, cmf_arr t, cmf_arr y);     \
    /* elementwise derivatives from the forward output y: r = v * f'(x) (vjp == jvp) */     \
    cmf_status cmf_sigmoid_vjp_##SFX(const cmf_geom *g, cmf_arr y, cmf_arr v, cmf_arr t,   \
                                     cmf_arr r);                                           \
    cmf_status cmf_log_sigmoid_vjp_##SFX(const cmf_geom *g, cmf_arr y, cmf_arr v,          \
                                         cmf_arr t, cmf_arr r);                            \
    cmf_status cmf_softplus_vjp_##SFX(const cmf_geom *g, cmf_arr y, cmf_arr v, cmf_arr t,  \
                                      cmf_arr r);

CMF_DECLARE(float, f32)
CMF_DECLARE(double, f64)

#undef CMF_DECLARE

#ifdef __cplusplus
}
#endif
#endif
