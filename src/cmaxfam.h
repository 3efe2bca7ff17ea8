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
    CMF_EINVAL = 2,   /* inconsistent geometry (a bug in the caller) */
    CMF_EDOMAIN = 3   /* an input the op cannot take (sample_categorical: a slice with NaN
                         or nothing to draw); nothing was written */
} cmf_status;

typedef struct {
    ptrdiff_t n_outer, n, n_inner;
} cmf_geom;

/* An array viewed through a cmf_geom.  p == NULL means "not given". */
typedef struct {
    void *p;
    ptrdiff_t so, sa, si;   /* element strides: outer, axis, inner */
} cmf_arr;

/* A source of random 64-bit words: the sampling kernels call next_uint64(state) once per
 * draw, in a fixed order (see sampling.tmpl.c), and never keep it.  Filled by the caller
 * (cmaxfam: from a NumPy bit generator, bitgen_t's state and next_uint64), who also holds
 * whatever lock the generator needs for the duration of the call. */
typedef struct {
    void *state;
    uint64_t (*next_uint64)(void *state);
} cmf_rng;

/* Per-slice status codes written by cmf_argmax_*. */
enum { CMF_SLICE_OK = 0, CMF_SLICE_NAN = 1, CMF_SLICE_ALL_NEGINF = 2, CMF_SLICE_EMPTY = 3 };

/* Every kernel, for f32 and f64 (see cmf_ops.def for the list and signatures):
 *   normalisers   softmax, log_softmax: x, temperature t (per slice), mask (uint8) -> y
 *   derivatives   *_vjp / *_jvp: forward output y (or input x), (co)tangent v -> r
 *   argmax        idx (float64 per slice; -1 when fully masked), code (CMF_SLICE_*)
 *   logsumexp     b: optional weights; lse and sign per slice
 *   softmax_mean  f = <x, softmax(x/t)> per slice
 *   elementwise   sigmoid, log_sigmoid, softplus; t is float64 with full strides
 *   sparse        sparsemax; entmax (alpha per slice, float64; alpha 1 and 2 are softmax and
 *                 sparsemax exactly; n_iter: root-finder iterations per slice, optional);
 *                 entmax_vjp from the output (vjp == jvp)
 *   losses        fy_loss: the Fenchel-Young loss of softmax/sparsemax/entmax (alpha per
 *                 slice) against a class label per slice (float64; < 0: ignored) or a
 *                 target distribution y (like x; p == NULL for labels), with label
 *                 smoothing eps per slice; loss per slice (float64) and, when grad.p is
 *                 given, the gradient (p - q) / t scaled by gscale per slice
 *   sampling      gumbel_noise: Gumbel(0, 1) noise g from rng (noise = g and/or y = x + g);
 *                 sample_categorical: Gumbel-max samples, n_samples per slice, idx int64
 *                 (its axis stride is the stride between samples)
 * The public names dispatch to the best instruction set found at cmf_select_isa(). */
#define CMF_OP(name, params, args) \
    cmf_status cmf_##name##_f32 params; \
    cmf_status cmf_##name##_f64 params;
#include "cmf_ops.def"
#undef CMF_OP

/* Instruction-set paths. */
enum { CMF_ISA_BASELINE = 0, CMF_ISA_AVX2 = 1, CMF_ISA_AVX512 = 2 };
/* The best path this CPU and OS support (CPUID + XGETBV). */
int cmf_detect_isa(void);
/* Select the path for every later call: min(requested, detected); returns it.  Call once,
 * at import, before any kernel runs. */
int cmf_select_isa(int requested);
/* The selected path. */
int cmf_active_isa(void);

#ifdef __cplusplus
}
#endif
#endif
