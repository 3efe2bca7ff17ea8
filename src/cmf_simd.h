/* cmf_simd.h: the reductions that compilers do not vectorise reliably (strict-FP max:
 * gcc keeps `a > b ? a : b` scalar), as small static-inline blocks.  SSE2 is the x86-64
 * baseline; the AVX paths are used when the translation unit is compiled for them; other
 * architectures get plain C.  Every max here ignores NaN (maxps returns its second
 * operand when the first is NaN): NaN reaches the outputs through the sums instead. */
#ifndef CMF_SIMD_H
#define CMF_SIMD_H

#include <stddef.h>
#include <math.h>
#include "cmf_math.h"
#if defined(__SSE2__) || defined(_M_X64)
#include <immintrin.h>
#define CMF_HAVE_SSE2 1
#endif

/* max over x[0..n) (NaN ignored; -inf for n == 0) */
static inline float cmf_max_f32(ptrdiff_t n, const float *x)
{
    ptrdiff_t k = 0;
    float m = -INFINITY;
#if defined(__AVX__)
    __m256 a0 = _mm256_set1_ps(-INFINITY), a1 = a0, a2 = a0, a3 = a0;
    for (; k + 32 <= n; k += 32) {
        a0 = _mm256_max_ps(_mm256_loadu_ps(x + k), a0);
        a1 = _mm256_max_ps(_mm256_loadu_ps(x + k + 8), a1);
        a2 = _mm256_max_ps(_mm256_loadu_ps(x + k + 16), a2);
        a3 = _mm256_max_ps(_mm256_loadu_ps(x + k + 24), a3);
    }
    a0 = _mm256_max_ps(_mm256_max_ps(a0, a1), _mm256_max_ps(a2, a3));
    __m128 b = _mm_max_ps(_mm256_castps256_ps128(a0), _mm256_extractf128_ps(a0, 1));
    b = _mm_max_ps(b, _mm_movehl_ps(b, b));
    b = _mm_max_ss(b, _mm_shuffle_ps(b, b, 1));
    m = _mm_cvtss_f32(b);
#elif defined(CMF_HAVE_SSE2)
    __m128 a0 = _mm_set1_ps(-INFINITY), a1 = a0, a2 = a0, a3 = a0;
    for (; k + 16 <= n; k += 16) {
        a0 = _mm_max_ps(_mm_loadu_ps(x + k), a0);
        a1 = _mm_max_ps(_mm_loadu_ps(x + k + 4), a1);
        a2 = _mm_max_ps(_mm_loadu_ps(x + k + 8), a2);
        a3 = _mm_max_ps(_mm_loadu_ps(x + k + 12), a3);
    }
    __m128 b = _mm_max_ps(_mm_max_ps(a0, a1), _mm_max_ps(a2, a3));
    b = _mm_max_ps(b, _mm_movehl_ps(b, b));
    b = _mm_max_ss(b, _mm_shuffle_ps(b, b, 1));
    m = _mm_cvtss_f32(b);
#endif
    for (; k < n; k++) m = x[k] > m ? x[k] : m;
    return m;
}

static inline double cmf_max_f64(ptrdiff_t n, const double *x)
{
    ptrdiff_t k = 0;
    double m = -INFINITY;
#if defined(__AVX__)
    __m256d a0 = _mm256_set1_pd(-INFINITY), a1 = a0, a2 = a0, a3 = a0;
    for (; k + 16 <= n; k += 16) {
        a0 = _mm256_max_pd(_mm256_loadu_pd(x + k), a0);
        a1 = _mm256_max_pd(_mm256_loadu_pd(x + k + 4), a1);
        a2 = _mm256_max_pd(_mm256_loadu_pd(x + k + 8), a2);
        a3 = _mm256_max_pd(_mm256_loadu_pd(x + k + 12), a3);
    }
    a0 = _mm256_max_pd(_mm256_max_pd(a0, a1), _mm256_max_pd(a2, a3));
    __m128d b = _mm_max_pd(_mm256_castpd256_pd128(a0), _mm256_extractf128_pd(a0, 1));
    b = _mm_max_sd(b, _mm_unpackhi_pd(b, b));
    m = _mm_cvtsd_f64(b);
#elif defined(CMF_HAVE_SSE2)
    __m128d a0 = _mm_set1_pd(-INFINITY), a1 = a0, a2 = a0, a3 = a0;
    for (; k + 8 <= n; k += 8) {
        a0 = _mm_max_pd(_mm_loadu_pd(x + k), a0);
        a1 = _mm_max_pd(_mm_loadu_pd(x + k + 2), a1);
        a2 = _mm_max_pd(_mm_loadu_pd(x + k + 4), a2);
        a3 = _mm_max_pd(_mm_loadu_pd(x + k + 6), a3);
    }
    __m128d b = _mm_max_pd(_mm_max_pd(a0, a1), _mm_max_pd(a2, a3));
    b = _mm_max_sd(b, _mm_unpackhi_pd(b, b));
    m = _mm_cvtsd_f64(b);
#endif
    for (; k < n; k++) m = x[k] > m ? x[k] : m;
    return m;
}

/* m[j] = max(x[j], m[j]) for j < B (NaN in x ignored) */
static inline void cmf_vmax_f32(ptrdiff_t B, float *m, const float *x)
{
    ptrdiff_t j = 0;
#if defined(__AVX__)
    for (; j + 8 <= B; j += 8)
        _mm256_storeu_ps(m + j, _mm256_max_ps(_mm256_loadu_ps(x + j), _mm256_loadu_ps(m + j)));
#elif defined(CMF_HAVE_SSE2)
    for (; j + 4 <= B; j += 4)
        _mm_storeu_ps(m + j, _mm_max_ps(_mm_loadu_ps(x + j), _mm_loadu_ps(m + j)));
#endif
    for (; j < B; j++) m[j] = x[j] > m[j] ? x[j] : m[j];
}

static inline void cmf_vmax_f64(ptrdiff_t B, double *m, const double *x)
{
    ptrdiff_t j = 0;
#if defined(__AVX__)
    for (; j + 4 <= B; j += 4)
        _mm256_storeu_pd(m + j, _mm256_max_pd(_mm256_loadu_pd(x + j), _mm256_loadu_pd(m + j)));
#elif defined(CMF_HAVE_SSE2)
    for (; j + 2 <= B; j += 2)
        _mm_storeu_pd(m + j, _mm_max_pd(_mm_loadu_pd(x + j), _mm_loadu_pd(m + j)));
#endif
    for (; j < B; j++) m[j] = x[j] > m[j] ? x[j] : m[j];
}


#if defined(_MSC_VER)
#define CMF_VINLINE static __forceinline
#else
#define CMF_VINLINE static inline __attribute__((always_inline))
#endif
/* a condition that is almost never true (a branch the predictor learns) */
#if defined(__GNUC__)
#define CMF_UNLIKELY(c) __builtin_expect(!!(c), 0)
#else
#define CMF_UNLIKELY(c) (c)
#endif
/* unroll the next loop completely: the loops over the VN vectors of a register tile,
 * whose exp bodies gcc leaves rolled otherwise, the tile then kept in memory (measured:
 * softmax of 10-entry float32 rows 14% faster, logsumexp 4%) */
#if defined(__clang__)
#define CMF_UNROLL_VN _Pragma("clang loop unroll(full)")
#elif defined(__GNUC__)
#define CMF_UNROLL_VN _Pragma("GCC unroll 16")
#else
#define CMF_UNROLL_VN
#endif
/* prefetch the cache line at p for writing (W) or reading (R); p need not be valid memory */
#if defined(_MSC_VER)
#define CMF_PREFETCHW(p) _mm_prefetch((const char *)(p), _MM_HINT_T0)
#define CMF_PREFETCHR(p) _mm_prefetch((const char *)(p), _MM_HINT_T0)
#elif defined(__GNUC__)
#define CMF_PREFETCHW(p) __builtin_prefetch((const void *)(p), 1, 3)
#define CMF_PREFETCHR(p) __builtin_prefetch((const void *)(p), 0, 3)
#else
#define CMF_PREFETCHW(p) ((void)0)
#define CMF_PREFETCHR(p) ((void)0)
#endif

/* ---------- vector primitives for the hot row kernels (AVX2+FMA and AVX-512) ----------
 * One small set of operations per instruction set and element type, named
 * cmf_v<op>_f32 / _f64, over the vector type cmf_vec_f32 / cmf_vec_f64 of CMF_VN_f32 /
 * CMF_VN_f64 lanes.  The templates reach them through the V* macros of cmf_template.h and
 * write each vector kernel once (softmax.tmpl.c, losses.tmpl.c).  CMF_VEC is defined when
 * a translation unit has them; the baseline path (SSE2, other architectures) keeps the
 * plain-C loops.  Tails (the last n % lanes elements) are masked loads and stores, never
 * a scalar loop, so every element of a slice takes the same arithmetic.
 *
 * cmf_vexpm: exp(z) for z <= 0 (z may be -inf or NaN).  f64, and f32 on AVX2: the same
 * operations as cmf_expm_f32/f64 (cmf_math.h), so a lane gives the scalar function's result
 * bit for bit (both contract the same products into FMAs).  f32 on AVX-512: a table of
 * 2^(j/32) + degree 3 (<= 1.49 ULP, within ~2 ULP of the scalar rr2-p5); the kernels take
 * the vector form for unmasked slices and the scalar function for masked ones, row and
 * column kernels alike, so a slice gets the same bits wherever it sits.  f64: a table of
 * 2^(j/16) (hi + lo) + degree-7 Taylor (<= 0.57 ULP measured; AVX-512 looks the tables up
 * with one permute each, AVX2 gathers).  Results below the smallest normal number are 0; NaN propagates. */
#if defined(__AVX512F__) && defined(__AVX512DQ__) && defined(__AVX512BW__) && defined(__AVX512VL__)
#define CMF_VEC 512
typedef __m512 cmf_vec_f32;
typedef __m512d cmf_vec_f64;
#define CMF_VN_f32 16
#define CMF_VN_f64 8
CMF_VINLINE __m512 cmf_vset1_f32(float a) { return _mm512_set1_ps(a); }
CMF_VINLINE __m512 cmf_vld_f32(const float *p) { return _mm512_loadu_ps(p); }
CMF_VINLINE void cmf_vst_f32(float *p, __m512 v) { _mm512_storeu_ps(p, v); }
/* the first r (0 < r < 16) lanes from p, the others `fill` */
CMF_VINLINE __m512 cmf_vldt_f32(const float *p, ptrdiff_t r, __m512 fill)
{ return _mm512_mask_loadu_ps(fill, (__mmask16)((1u << r) - 1), p); }
CMF_VINLINE void cmf_vstt_f32(float *p, ptrdiff_t r, __m512 v)
{ _mm512_mask_storeu_ps(p, (__mmask16)((1u << r) - 1), v); }
CMF_VINLINE __m512 cmf_vadd_f32(__m512 a, __m512 b) { return _mm512_add_ps(a, b); }
CMF_VINLINE __m512 cmf_vsub_f32(__m512 a, __m512 b) { return _mm512_sub_ps(a, b); }
CMF_VINLINE __m512 cmf_vmul_f32(__m512 a, __m512 b) { return _mm512_mul_ps(a, b); }
CMF_VINLINE __m512 cmf_vfma_f32(__m512 a, __m512 b, __m512 c) { return _mm512_fmadd_ps(a, b, c); }
CMF_VINLINE __m512 cmf_vfms_f32(__m512 a, __m512 b, __m512 c) { return _mm512_fmsub_ps(a, b, c); }
/* max(a, b) as maxps: b when a is NaN (pass the data first, the accumulator second) */
CMF_VINLINE __m512 cmf_vmax_ps_f32(__m512 a, __m512 b) { return _mm512_max_ps(a, b); }
/* 1 where a == 0, else 0 */
CMF_VINLINE __m512 cmf_vis0_f32(__m512 a)
{ return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(a, _mm512_setzero_ps(), _CMP_EQ_OQ), _mm512_set1_ps(1.0f)); }
/* logsumexp's sums: *c += [z == 0] (the maxima, whose exp is exactly 1), *s += the other e */
CMF_VINLINE void cmf_vtopacc_f32(__m512 *c, __m512 *s, __m512 z, __m512 e)
{
    const __mmask16 top = _mm512_cmp_ps_mask(z, _mm512_setzero_ps(), _CMP_EQ_OQ);
    if (CMF_UNLIKELY(top != 0)) {       /* rare: a maximum */
        *c = _mm512_mask_add_ps(*c, top, *c, _mm512_set1_ps(1.0f));
        *s = _mm512_mask_add_ps(*s, (__mmask16)~top, *s, e);
    } else {
        *s = _mm512_add_ps(*s, e);
    }
}
/* v where a != 0 (or NaN), else 0 */
CMF_VINLINE __m512 cmf_vkeepnz_f32(__m512 a, __m512 v)
{ return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(a, _mm512_setzero_ps(), _CMP_NEQ_UQ), v); }
CMF_VINLINE double cmf_vhsum_f32(__m512 a)
{
    __m512d d = _mm512_add_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(a)),
                              _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(a), 1))));
    return _mm512_reduce_add_pd(d);
}
/* double accumulators of T-lane block sums: flushed once per block, summed once per row */
typedef struct { __m512d lo, hi; } cmf_dacc_f32;
CMF_VINLINE cmf_dacc_f32 cmf_vdzero_f32(void) { cmf_dacc_f32 d = {_mm512_setzero_pd(), _mm512_setzero_pd()}; return d; }
CMF_VINLINE void cmf_vdadd_f32(cmf_dacc_f32 *d, __m512 a)
{
    d->lo = _mm512_add_pd(d->lo, _mm512_cvtps_pd(_mm512_castps512_ps256(a)));
    d->hi = _mm512_add_pd(d->hi, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(a), 1))));
}
CMF_VINLINE double cmf_vdsum_f32(cmf_dacc_f32 d) { return _mm512_reduce_add_pd(_mm512_add_pd(d.lo, d.hi)); }
CMF_VINLINE float cmf_vhmax_f32(__m512 a) { return _mm512_reduce_max_ps(a); }
/* some lane of a is not finite (inf or NaN) */
CMF_VINLINE int cmf_vnonfinite_f32(__m512 a)
{ return _mm512_cmp_ps_mask(_mm512_sub_ps(a, a), _mm512_setzero_ps(), _CMP_NEQ_UQ) != 0; }
/* the table form (constants in cmf_math.h): k = round(z 32 / ln 2) in the low bits of n; the
 * 32-entry table in two registers, looked up by its low 5 bits with one permute; (n << 18)
 * masked to the exponent field is (k >> 5) << 23, added to the entry's bits */
CMF_VINLINE __m512 cmf_vexpm_f32(__m512 z)
{
    const __m512 magic = _mm512_set1_ps(CMF_EXPM_F32_MAGIC);
    __m512 n = _mm512_fmadd_ps(z, _mm512_set1_ps(CMF_EXPM_F32_L32E), magic);
    const __m512i b = _mm512_castps_si512(n);
    const __m512i e = _mm512_and_si512(_mm512_slli_epi32(b, 18), _mm512_set1_epi32((int)0xFF800000u));
    const __m512 t = _mm512_permutex2var_ps(_mm512_loadu_ps(cmf_exp2_32_f32), b, _mm512_loadu_ps(cmf_exp2_32_f32 + 16));
    const __m512 ts = _mm512_castsi512_ps(_mm512_add_epi32(_mm512_castps_si512(t), e));
    n = _mm512_sub_ps(n, magic);
    __m512 r = _mm512_fmadd_ps(n, _mm512_set1_ps(CMF_EXPM_F32_LN2HI), z);
    r = _mm512_fmadd_ps(n, _mm512_set1_ps(CMF_EXPM_F32_LN2LO), r);
    __m512 p = _mm512_fmadd_ps(_mm512_set1_ps(CMF_EXPM_F32_C3), r, _mm512_set1_ps(CMF_EXPM_F32_C2));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(CMF_EXPM_F32_C1));
    const __m512 tr = _mm512_mul_ps(ts, r);
    const __mmask16 ok = _mm512_cmp_ps_mask(z, _mm512_set1_ps(CMF_EXPM_F32_CUTOFF), _CMP_NLT_UQ);
    return _mm512_maskz_fmadd_ps(ok, tr, p, ts);
}

CMF_VINLINE __m512d cmf_vset1_f64(double a) { return _mm512_set1_pd(a); }
CMF_VINLINE __m512d cmf_vld_f64(const double *p) { return _mm512_loadu_pd(p); }
CMF_VINLINE void cmf_vst_f64(double *p, __m512d v) { _mm512_storeu_pd(p, v); }
CMF_VINLINE __m512d cmf_vldt_f64(const double *p, ptrdiff_t r, __m512d fill)
{ return _mm512_mask_loadu_pd(fill, (__mmask8)((1u << r) - 1), p); }
CMF_VINLINE void cmf_vstt_f64(double *p, ptrdiff_t r, __m512d v)
{ _mm512_mask_storeu_pd(p, (__mmask8)((1u << r) - 1), v); }
CMF_VINLINE __m512d cmf_vadd_f64(__m512d a, __m512d b) { return _mm512_add_pd(a, b); }
CMF_VINLINE __m512d cmf_vsub_f64(__m512d a, __m512d b) { return _mm512_sub_pd(a, b); }
CMF_VINLINE __m512d cmf_vmul_f64(__m512d a, __m512d b) { return _mm512_mul_pd(a, b); }
CMF_VINLINE __m512d cmf_vfma_f64(__m512d a, __m512d b, __m512d c) { return _mm512_fmadd_pd(a, b, c); }
CMF_VINLINE __m512d cmf_vfms_f64(__m512d a, __m512d b, __m512d c) { return _mm512_fmsub_pd(a, b, c); }
CMF_VINLINE __m512d cmf_vmax_ps_f64(__m512d a, __m512d b) { return _mm512_max_pd(a, b); }
CMF_VINLINE __m512d cmf_vis0_f64(__m512d a)
{ return _mm512_maskz_mov_pd(_mm512_cmp_pd_mask(a, _mm512_setzero_pd(), _CMP_EQ_OQ), _mm512_set1_pd(1.0)); }
CMF_VINLINE void cmf_vtopacc_f64(__m512d *c, __m512d *s, __m512d z, __m512d e)
{
    const __mmask8 top = _mm512_cmp_pd_mask(z, _mm512_setzero_pd(), _CMP_EQ_OQ);
    *c = _mm512_mask_add_pd(*c, top, *c, _mm512_set1_pd(1.0));
    *s = _mm512_mask_add_pd(*s, (__mmask8)~top, *s, e);
}
CMF_VINLINE __m512d cmf_vkeepnz_f64(__m512d a, __m512d v)
{ return _mm512_maskz_mov_pd(_mm512_cmp_pd_mask(a, _mm512_setzero_pd(), _CMP_NEQ_UQ), v); }
CMF_VINLINE double cmf_vhsum_f64(__m512d a) { return _mm512_reduce_add_pd(a); }
typedef struct { __m512d a; } cmf_dacc_f64;
CMF_VINLINE cmf_dacc_f64 cmf_vdzero_f64(void) { cmf_dacc_f64 d = {_mm512_setzero_pd()}; return d; }
CMF_VINLINE void cmf_vdadd_f64(cmf_dacc_f64 *d, __m512d a) { d->a = _mm512_add_pd(d->a, a); }
CMF_VINLINE double cmf_vdsum_f64(cmf_dacc_f64 d) { return _mm512_reduce_add_pd(d.a); }
CMF_VINLINE double cmf_vhmax_f64(__m512d a) { return _mm512_reduce_max_pd(a); }
CMF_VINLINE int cmf_vnonfinite_f64(__m512d a)
{ return _mm512_cmp_pd_mask(_mm512_sub_pd(a, a), _mm512_setzero_pd(), _CMP_NEQ_UQ) != 0; }
CMF_VINLINE __m512d cmf_vexpm_f64(__m512d z)
{
    const __m512d magic = _mm512_set1_pd(CMF_EXPM_F64_MAGIC);
    __m512d n = _mm512_fmadd_pd(z, _mm512_set1_pd(CMF_EXPM_F64_L16E), magic);
    const __m512i b = _mm512_castpd_si512(n);
    const __m512d s = _mm512_castsi512_pd(_mm512_and_si512(_mm512_slli_epi64(b, 48),
                                                           _mm512_set1_epi64(0x7ff0000000000000LL)));
    n = _mm512_sub_pd(n, magic);
    __m512d r = _mm512_fmadd_pd(n, _mm512_set1_pd(CMF_EXPM_F64_LN2HI), z);
    r = _mm512_fmadd_pd(n, _mm512_set1_pd(CMF_EXPM_F64_LN2LO), r);
    __m512d q = _mm512_fmadd_pd(r, _mm512_set1_pd(1.0 / 5040.0), _mm512_set1_pd(1.0 / 720.0));
    q = _mm512_fmadd_pd(q, r, _mm512_set1_pd(1.0 / 120.0));
    q = _mm512_fmadd_pd(q, r, _mm512_set1_pd(1.0 / 24.0));
    q = _mm512_fmadd_pd(q, r, _mm512_set1_pd(1.0 / 6.0));
    q = _mm512_fmadd_pd(q, r, _mm512_set1_pd(0.5));
    q = _mm512_fmadd_pd(q, r, _mm512_set1_pd(1.0));
    const __m512d p = _mm512_mul_pd(q, r);
    /* the 16-entry tables: one two-register permute each, by the low 4 bits of b */
    const __m512d t = _mm512_permutex2var_pd(_mm512_loadu_pd(cmf_exp2_16), b, _mm512_loadu_pd(cmf_exp2_16 + 8));
    const __m512d tl = _mm512_permutex2var_pd(_mm512_loadu_pd(cmf_exp2_16_lo), b, _mm512_loadu_pd(cmf_exp2_16_lo + 8));
    const __mmask8 ok = _mm512_cmp_pd_mask(z, _mm512_set1_pd(CMF_EXPM_F64_CUTOFF), _CMP_NLT_UQ);
    return _mm512_maskz_mul_pd(ok, _mm512_add_pd(_mm512_fmadd_pd(t, p, tl), t), s);
}

/* sum_k y_k v_k, products and sums in double (f32: each vector widened to two) */
CMF_VINLINE double cmf_vdot_f32(ptrdiff_t n, const float *y, const float *v)
{
    __m512d a0 = _mm512_setzero_pd(), a1 = a0;
    ptrdiff_t k = 0;
    for (; k + 16 <= n; k += 16) {
        const __m512 yk = _mm512_loadu_ps(y + k), vk = _mm512_loadu_ps(v + k);
        a0 = _mm512_fmadd_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(yk)), _mm512_cvtps_pd(_mm512_castps512_ps256(vk)), a0);
        a1 = _mm512_fmadd_pd(_mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(yk), 1))),
                             _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(vk), 1))), a1);
    }
    for (; k + 8 <= n; k += 8)
        a0 = _mm512_fmadd_pd(_mm512_cvtps_pd(_mm256_loadu_ps(y + k)), _mm512_cvtps_pd(_mm256_loadu_ps(v + k)), a0);
    if (k < n) {
        const __mmask8 m = (__mmask8)((1u << (n - k)) - 1);
        a1 = _mm512_fmadd_pd(_mm512_cvtps_pd(_mm256_maskz_loadu_ps(m, y + k)), _mm512_cvtps_pd(_mm256_maskz_loadu_ps(m, v + k)), a1);
    }
    return _mm512_reduce_add_pd(_mm512_add_pd(a0, a1));
}
CMF_VINLINE double cmf_vdot_f64(ptrdiff_t n, const double *y, const double *v)
{
    __m512d a0 = _mm512_setzero_pd(), a1 = a0;
    ptrdiff_t k = 0;
    for (; k + 16 <= n; k += 16) {
        a0 = _mm512_fmadd_pd(_mm512_loadu_pd(y + k), _mm512_loadu_pd(v + k), a0);
        a1 = _mm512_fmadd_pd(_mm512_loadu_pd(y + k + 8), _mm512_loadu_pd(v + k + 8), a1);
    }
    for (; k + 8 <= n; k += 8) a0 = _mm512_fmadd_pd(_mm512_loadu_pd(y + k), _mm512_loadu_pd(v + k), a0);
    if (k < n) {
        const __mmask8 m = (__mmask8)((1u << (n - k)) - 1);
        a1 = _mm512_fmadd_pd(_mm512_maskz_loadu_pd(m, y + k), _mm512_maskz_loadu_pd(m, v + k), a1);
    }
    return _mm512_reduce_add_pd(_mm512_add_pd(a0, a1));
}

/* lane l of the result = lane idx[l] of v (idx: VN int32's in [0, VN)) */
CMF_VINLINE __m512 cmf_vperm_f32(__m512 v, const int32_t *idx)
{ return _mm512_permutexvar_ps(_mm512_loadu_si512((const void *)idx), v); }
CMF_VINLINE __m512d cmf_vperm_f64(__m512d v, const int32_t *idx)
{ return _mm512_permutexvar_pd(_mm512_cvtepu32_epi64(_mm256_loadu_si256((const __m256i *)idx)), v); }

/* in-register transposes of a VN x VN block: r[i] lane j <-> r[j] lane i.  cmf_vtrp:
 * the same when only r[i < ni] hold data and only r[j < nj] are wanted (the others left
 * undefined): float32 on AVX-512 skips the shuffles that feed nothing wanted (10 of 64
 * for a block of 10-entry rows, each way); the other paths transpose it all. */
CMF_VINLINE void cmf_vtrp_f32(__m512 *r, ptrdiff_t ni, ptrdiff_t nj)
{
    __m512 t[16], u[16];
    for (int i = 0; i < 8; i++) {
        if (2 * i >= ni) { t[2 * i] = t[2 * i + 1] = r[0]; continue; }
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int q = 0; q < 4; q++) {
        if (4 * q >= ni) { u[4 * q] = u[4 * q + 1] = u[4 * q + 2] = u[4 * q + 3] = r[0]; continue; }
        const __m512d a = _mm512_castps_pd(t[4 * q]), b = _mm512_castps_pd(t[4 * q + 1]);
        const __m512d c = _mm512_castps_pd(t[4 * q + 2]), d = _mm512_castps_pd(t[4 * q + 3]);
        u[4 * q] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
        u[4 * q + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
        u[4 * q + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
        u[4 * q + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
    }
    for (int c = 0; c < 4; c++) {
        if (c >= nj) break;
        const __m512 v0 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x44), v2 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x44);
        r[c] = _mm512_shuffle_f32x4(v0, v2, 0x88);
        if (4 + c < nj) r[4 + c] = _mm512_shuffle_f32x4(v0, v2, 0xDD);
        if (8 + c >= nj) continue;
        const __m512 v1 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xEE), v3 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xEE);
        r[8 + c] = _mm512_shuffle_f32x4(v1, v3, 0x88);
        if (12 + c < nj) r[12 + c] = _mm512_shuffle_f32x4(v1, v3, 0xDD);
    }
}
CMF_VINLINE void cmf_vtr_f32(__m512 *r) { cmf_vtrp_f32(r, 16, 16); }
CMF_VINLINE void cmf_vtr_f64(__m512d *r)
{
    __m512d t[8];
    for (int i = 0; i < 4; i++) {
        t[2 * i] = _mm512_unpacklo_pd(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_pd(r[2 * i], r[2 * i + 1]);
    }
    for (int c = 0; c < 2; c++) {
        const __m512d v0 = _mm512_shuffle_f64x2(t[c], t[2 + c], 0x44), v1 = _mm512_shuffle_f64x2(t[c], t[2 + c], 0xEE);
        const __m512d v2 = _mm512_shuffle_f64x2(t[4 + c], t[6 + c], 0x44), v3 = _mm512_shuffle_f64x2(t[4 + c], t[6 + c], 0xEE);
        r[c] = _mm512_shuffle_f64x2(v0, v2, 0x88);
        r[2 + c] = _mm512_shuffle_f64x2(v0, v2, 0xDD);
        r[4 + c] = _mm512_shuffle_f64x2(v1, v3, 0x88);
        r[6 + c] = _mm512_shuffle_f64x2(v1, v3, 0xDD);
    }
}
CMF_VINLINE void cmf_vtrp_f64(__m512d *r, ptrdiff_t ni, ptrdiff_t nj) { (void)ni; (void)nj; cmf_vtr_f64(r); }
/* s[0..r) += (double) a[0..r) (0 < r <= lanes) */
CMF_VINLINE void cmf_vdaddst_f32(double *s, ptrdiff_t r, __m512 a)
{
    const __m512d lo = _mm512_cvtps_pd(_mm512_castps512_ps256(a));
    const __m512d hi = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(a), 1)));
    if (r >= 16) {
        _mm512_storeu_pd(s, _mm512_add_pd(_mm512_loadu_pd(s), lo));
        _mm512_storeu_pd(s + 8, _mm512_add_pd(_mm512_loadu_pd(s + 8), hi));
    } else {
        const __mmask16 k = (__mmask16)((1u << r) - 1);
        const __mmask8 k0 = (__mmask8)k, k1 = (__mmask8)(k >> 8);
        _mm512_mask_storeu_pd(s, k0, _mm512_add_pd(_mm512_maskz_loadu_pd(k0, s), lo));
        _mm512_mask_storeu_pd(s + 8, k1, _mm512_add_pd(_mm512_maskz_loadu_pd(k1, s + 8), hi));
    }
}
CMF_VINLINE void cmf_vdaddst_f64(double *s, ptrdiff_t r, __m512d a)
{
    if (r >= 8) _mm512_storeu_pd(s, _mm512_add_pd(_mm512_loadu_pd(s), a));
    else {
        const __mmask8 k = (__mmask8)((1u << r) - 1);
        _mm512_mask_storeu_pd(s, k, _mm512_add_pd(_mm512_maskz_loadu_pd(k, s), a));
    }
}
/* Online sums (a non-last axis' softmax): s[l] *= exp((mo[l] - mn[l]) it[l]) in double,
 * for the lanes l < r whose maximum rose (mn > mo) from a finite mo; the others keep s
 * (0, or NaN, while their maximum is -inf).  Rare after the first rows: tested first. */
CMF_VINLINE void cmf_vrescale_f32(double *s, ptrdiff_t r, __m512 mo, __m512 mn, __m512 it)
{
    __mmask16 k = _mm512_cmp_ps_mask(mn, mo, _CMP_GT_OQ)
                  & _mm512_cmp_ps_mask(mo, _mm512_set1_ps(-INFINITY), _CMP_NEQ_OQ);
    if (r < 16) k &= (__mmask16)((1u << r) - 1);
    if (CMF_UNLIKELY(k != 0)) {
        for (int h = 0; h < 2; h++) {
            const __mmask8 kh = (__mmask8)(k >> (8 * h));
#define CMF_HALF_(v) _mm512_cvtps_pd(h ? _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)) \
                                       : _mm512_castps512_ps256(v))
            const __m512d f = cmf_vexpm_f64(_mm512_mul_pd(_mm512_sub_pd(CMF_HALF_(mo), CMF_HALF_(mn)), CMF_HALF_(it)));
#undef CMF_HALF_
            _mm512_mask_storeu_pd(s + 8 * h, kh, _mm512_mul_pd(_mm512_maskz_loadu_pd(kh, s + 8 * h), f));
        }
    }
}
CMF_VINLINE void cmf_vrescale_f64(double *s, ptrdiff_t r, __m512d mo, __m512d mn, __m512d it)
{
    __mmask8 k = _mm512_cmp_pd_mask(mn, mo, _CMP_GT_OQ) & _mm512_cmp_pd_mask(mo, _mm512_set1_pd(-INFINITY), _CMP_NEQ_OQ);
    if (r < 8) k &= (__mmask8)((1u << r) - 1);
    if (CMF_UNLIKELY(k != 0))
        _mm512_mask_storeu_pd(s, k, _mm512_mul_pd(_mm512_maskz_loadu_pd(k, s),
                                                  cmf_vexpm_f64(_mm512_mul_pd(_mm512_sub_pd(mo, mn), it))));
}

#elif defined(__AVX2__) && defined(__FMA__)
#define CMF_VEC 256
typedef __m256 cmf_vec_f32;
typedef __m256d cmf_vec_f64;
#define CMF_VN_f32 8
#define CMF_VN_f64 4
/* lanes i < r set (all bits) */
CMF_VINLINE __m256i cmf_vtailmask32(ptrdiff_t r)
{ return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)r), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)); }
CMF_VINLINE __m256i cmf_vtailmask64(ptrdiff_t r)
{ return _mm256_cmpgt_epi64(_mm256_set1_epi64x((long long)r), _mm256_setr_epi64x(0, 1, 2, 3)); }
CMF_VINLINE __m256 cmf_vset1_f32(float a) { return _mm256_set1_ps(a); }
CMF_VINLINE __m256 cmf_vld_f32(const float *p) { return _mm256_loadu_ps(p); }
CMF_VINLINE void cmf_vst_f32(float *p, __m256 v) { _mm256_storeu_ps(p, v); }
CMF_VINLINE __m256 cmf_vldt_f32(const float *p, ptrdiff_t r, __m256 fill)
{
    __m256i k = cmf_vtailmask32(r);
    return _mm256_blendv_ps(fill, _mm256_maskload_ps(p, k), _mm256_castsi256_ps(k));
}
CMF_VINLINE void cmf_vstt_f32(float *p, ptrdiff_t r, __m256 v) { _mm256_maskstore_ps(p, cmf_vtailmask32(r), v); }
CMF_VINLINE __m256 cmf_vadd_f32(__m256 a, __m256 b) { return _mm256_add_ps(a, b); }
CMF_VINLINE __m256 cmf_vsub_f32(__m256 a, __m256 b) { return _mm256_sub_ps(a, b); }
CMF_VINLINE __m256 cmf_vmul_f32(__m256 a, __m256 b) { return _mm256_mul_ps(a, b); }
CMF_VINLINE __m256 cmf_vfma_f32(__m256 a, __m256 b, __m256 c) { return _mm256_fmadd_ps(a, b, c); }
CMF_VINLINE __m256 cmf_vfms_f32(__m256 a, __m256 b, __m256 c) { return _mm256_fmsub_ps(a, b, c); }
CMF_VINLINE __m256 cmf_vmax_ps_f32(__m256 a, __m256 b) { return _mm256_max_ps(a, b); }
CMF_VINLINE __m256 cmf_vis0_f32(__m256 a)
{ return _mm256_and_ps(_mm256_cmp_ps(a, _mm256_setzero_ps(), _CMP_EQ_OQ), _mm256_set1_ps(1.0f)); }
CMF_VINLINE void cmf_vtopacc_f32(__m256 *c, __m256 *s, __m256 z, __m256 e)
{
    const __m256 t = cmf_vis0_f32(z);
    *c = _mm256_add_ps(*c, t);
    *s = _mm256_add_ps(*s, _mm256_sub_ps(e, t));
}
CMF_VINLINE __m256 cmf_vkeepnz_f32(__m256 a, __m256 v)
{ return _mm256_and_ps(_mm256_cmp_ps(a, _mm256_setzero_ps(), _CMP_NEQ_UQ), v); }
CMF_VINLINE double cmf_vhsum_f32(__m256 a)
{
    __m256d d = _mm256_add_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(a)), _mm256_cvtps_pd(_mm256_extractf128_ps(a, 1)));
    __m128d h = _mm_add_pd(_mm256_castpd256_pd128(d), _mm256_extractf128_pd(d, 1));
    return _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
}
typedef struct { __m256d lo, hi; } cmf_dacc_f32;
CMF_VINLINE cmf_dacc_f32 cmf_vdzero_f32(void) { cmf_dacc_f32 d = {_mm256_setzero_pd(), _mm256_setzero_pd()}; return d; }
CMF_VINLINE void cmf_vdadd_f32(cmf_dacc_f32 *d, __m256 a)
{
    d->lo = _mm256_add_pd(d->lo, _mm256_cvtps_pd(_mm256_castps256_ps128(a)));
    d->hi = _mm256_add_pd(d->hi, _mm256_cvtps_pd(_mm256_extractf128_ps(a, 1)));
}
CMF_VINLINE double cmf_vhsum4_f64(__m256d a)
{
    __m128d h = _mm_add_pd(_mm256_castpd256_pd128(a), _mm256_extractf128_pd(a, 1));
    return _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
}
CMF_VINLINE double cmf_vdsum_f32(cmf_dacc_f32 d) { return cmf_vhsum4_f64(_mm256_add_pd(d.lo, d.hi)); }
CMF_VINLINE int cmf_vnonfinite_f32(__m256 a)
{ return _mm256_movemask_ps(_mm256_cmp_ps(_mm256_sub_ps(a, a), _mm256_setzero_ps(), _CMP_NEQ_UQ)) != 0; }
CMF_VINLINE float cmf_vhmax_f32(__m256 a)
{
    __m128 b = _mm_max_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    b = _mm_max_ps(b, _mm_movehl_ps(b, b));
    b = _mm_max_ss(b, _mm_shuffle_ps(b, b, 1));
    return _mm_cvtss_f32(b);
}
CMF_VINLINE __m256 cmf_vexpm_f32(__m256 z)
{
    const __m256 magic = _mm256_set1_ps(0x1.8000FEp23f), log2e = _mm256_set1_ps(0x1.715476p+0f);
    __m256 n = _mm256_fmadd_ps(z, log2e, magic);
    __m256 s = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_castps_si256(n), 23));
    n = _mm256_sub_ps(n, magic);
    __m256 t = _mm256_fmadd_ps(n, _mm256_set1_ps(-0x1.62E400p-1f), z);
    t = _mm256_fmadd_ps(n, _mm256_set1_ps(-0x1.7F7D1Cp-20f), t);
    __m256 p = _mm256_fmadd_ps(_mm256_set1_ps(0x1.0F9F9Cp-7f), t, _mm256_set1_ps(0x1.573A1Ap-5f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(0x1.555A80p-3f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(0x1.FFFDC6p-2f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(0x1.FFFFF6p-1f));
    t = _mm256_mul_ps(t, s);
    __m256 f = _mm256_fmadd_ps(t, p, s);
    return _mm256_andnot_ps(_mm256_cmp_ps(z, _mm256_set1_ps(-0x1.5D589Ep6f), _CMP_LT_OQ), f);
}

CMF_VINLINE __m256d cmf_vset1_f64(double a) { return _mm256_set1_pd(a); }
CMF_VINLINE __m256d cmf_vld_f64(const double *p) { return _mm256_loadu_pd(p); }
CMF_VINLINE void cmf_vst_f64(double *p, __m256d v) { _mm256_storeu_pd(p, v); }
CMF_VINLINE __m256d cmf_vldt_f64(const double *p, ptrdiff_t r, __m256d fill)
{
    __m256i k = cmf_vtailmask64(r);
    return _mm256_blendv_pd(fill, _mm256_maskload_pd(p, k), _mm256_castsi256_pd(k));
}
CMF_VINLINE void cmf_vstt_f64(double *p, ptrdiff_t r, __m256d v) { _mm256_maskstore_pd(p, cmf_vtailmask64(r), v); }
CMF_VINLINE __m256d cmf_vadd_f64(__m256d a, __m256d b) { return _mm256_add_pd(a, b); }
CMF_VINLINE __m256d cmf_vsub_f64(__m256d a, __m256d b) { return _mm256_sub_pd(a, b); }
CMF_VINLINE __m256d cmf_vmul_f64(__m256d a, __m256d b) { return _mm256_mul_pd(a, b); }
CMF_VINLINE __m256d cmf_vfma_f64(__m256d a, __m256d b, __m256d c) { return _mm256_fmadd_pd(a, b, c); }
CMF_VINLINE __m256d cmf_vfms_f64(__m256d a, __m256d b, __m256d c) { return _mm256_fmsub_pd(a, b, c); }
CMF_VINLINE __m256d cmf_vmax_ps_f64(__m256d a, __m256d b) { return _mm256_max_pd(a, b); }
CMF_VINLINE __m256d cmf_vis0_f64(__m256d a)
{ return _mm256_and_pd(_mm256_cmp_pd(a, _mm256_setzero_pd(), _CMP_EQ_OQ), _mm256_set1_pd(1.0)); }
CMF_VINLINE void cmf_vtopacc_f64(__m256d *c, __m256d *s, __m256d z, __m256d e)
{
    const __m256d t = cmf_vis0_f64(z);
    *c = _mm256_add_pd(*c, t);
    *s = _mm256_add_pd(*s, _mm256_sub_pd(e, t));
}
CMF_VINLINE __m256d cmf_vkeepnz_f64(__m256d a, __m256d v)
{ return _mm256_and_pd(_mm256_cmp_pd(a, _mm256_setzero_pd(), _CMP_NEQ_UQ), v); }
CMF_VINLINE double cmf_vhsum_f64(__m256d a) { return cmf_vhsum4_f64(a); }
typedef struct { __m256d a; } cmf_dacc_f64;
CMF_VINLINE cmf_dacc_f64 cmf_vdzero_f64(void) { cmf_dacc_f64 d = {_mm256_setzero_pd()}; return d; }
CMF_VINLINE void cmf_vdadd_f64(cmf_dacc_f64 *d, __m256d a) { d->a = _mm256_add_pd(d->a, a); }
CMF_VINLINE double cmf_vdsum_f64(cmf_dacc_f64 d) { return cmf_vhsum4_f64(d.a); }
CMF_VINLINE int cmf_vnonfinite_f64(__m256d a)
{ return _mm256_movemask_pd(_mm256_cmp_pd(_mm256_sub_pd(a, a), _mm256_setzero_pd(), _CMP_NEQ_UQ)) != 0; }
CMF_VINLINE double cmf_vhmax_f64(__m256d a)
{
    __m128d b = _mm_max_pd(_mm256_castpd256_pd128(a), _mm256_extractf128_pd(a, 1));
    return _mm_cvtsd_f64(_mm_max_sd(b, _mm_unpackhi_pd(b, b)));
}
CMF_VINLINE __m256d cmf_vexpm_f64(__m256d z)
{
    const __m256d magic = _mm256_set1_pd(CMF_EXPM_F64_MAGIC);
    __m256d n = _mm256_fmadd_pd(z, _mm256_set1_pd(CMF_EXPM_F64_L16E), magic);
    const __m256i b = _mm256_castpd_si256(n);
    const __m256d s = _mm256_castsi256_pd(_mm256_and_si256(_mm256_slli_epi64(b, 48),
                                                           _mm256_set1_epi64x(0x7ff0000000000000LL)));
    n = _mm256_sub_pd(n, magic);
    __m256d r = _mm256_fmadd_pd(n, _mm256_set1_pd(CMF_EXPM_F64_LN2HI), z);
    r = _mm256_fmadd_pd(n, _mm256_set1_pd(CMF_EXPM_F64_LN2LO), r);
    __m256d q = _mm256_fmadd_pd(r, _mm256_set1_pd(1.0 / 5040.0), _mm256_set1_pd(1.0 / 720.0));
    q = _mm256_fmadd_pd(q, r, _mm256_set1_pd(1.0 / 120.0));
    q = _mm256_fmadd_pd(q, r, _mm256_set1_pd(1.0 / 24.0));
    q = _mm256_fmadd_pd(q, r, _mm256_set1_pd(1.0 / 6.0));
    q = _mm256_fmadd_pd(q, r, _mm256_set1_pd(0.5));
    q = _mm256_fmadd_pd(q, r, _mm256_set1_pd(1.0));
    const __m256d p = _mm256_mul_pd(q, r);
    const __m256i j = _mm256_and_si256(b, _mm256_set1_epi64x(15));
    const __m256d t = _mm256_i64gather_pd(cmf_exp2_16, j, 8), tl = _mm256_i64gather_pd(cmf_exp2_16_lo, j, 8);
    const __m256d f = _mm256_mul_pd(_mm256_add_pd(_mm256_fmadd_pd(t, p, tl), t), s);
    return _mm256_andnot_pd(_mm256_cmp_pd(z, _mm256_set1_pd(CMF_EXPM_F64_CUTOFF), _CMP_LT_OQ), f);
}
CMF_VINLINE double cmf_vdot_f32(ptrdiff_t n, const float *y, const float *v)
{
    __m256d a0 = _mm256_setzero_pd(), a1 = a0;
    ptrdiff_t k = 0;
    for (; k + 8 <= n; k += 8) {
        const __m256 yk = _mm256_loadu_ps(y + k), vk = _mm256_loadu_ps(v + k);
        a0 = _mm256_fmadd_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(yk)), _mm256_cvtps_pd(_mm256_castps256_ps128(vk)), a0);
        a1 = _mm256_fmadd_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(yk, 1)), _mm256_cvtps_pd(_mm256_extractf128_ps(vk, 1)), a1);
    }
    if (k < n) {
        const __m256i m = cmf_vtailmask32(n - k);
        const __m256 yk = _mm256_maskload_ps(y + k, m), vk = _mm256_maskload_ps(v + k, m);
        a0 = _mm256_fmadd_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(yk)), _mm256_cvtps_pd(_mm256_castps256_ps128(vk)), a0);
        a1 = _mm256_fmadd_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(yk, 1)), _mm256_cvtps_pd(_mm256_extractf128_ps(vk, 1)), a1);
    }
    return cmf_vhsum_f64(_mm256_add_pd(a0, a1));
}
CMF_VINLINE double cmf_vdot_f64(ptrdiff_t n, const double *y, const double *v)
{
    __m256d a0 = _mm256_setzero_pd(), a1 = a0;
    ptrdiff_t k = 0;
    for (; k + 8 <= n; k += 8) {
        a0 = _mm256_fmadd_pd(_mm256_loadu_pd(y + k), _mm256_loadu_pd(v + k), a0);
        a1 = _mm256_fmadd_pd(_mm256_loadu_pd(y + k + 4), _mm256_loadu_pd(v + k + 4), a1);
    }
    for (; k + 4 <= n; k += 4) a0 = _mm256_fmadd_pd(_mm256_loadu_pd(y + k), _mm256_loadu_pd(v + k), a0);
    if (k < n) {
        const __m256i m = cmf_vtailmask64(n - k);
        a1 = _mm256_fmadd_pd(_mm256_maskload_pd(y + k, m), _mm256_maskload_pd(v + k, m), a1);
    }
    return cmf_vhsum_f64(_mm256_add_pd(a0, a1));
}
/* lane l of the result = lane idx[l] of v (idx: VN int32's in [0, VN)) */
CMF_VINLINE __m256 cmf_vperm_f32(__m256 v, const int32_t *idx)
{ return _mm256_permutevar8x32_ps(v, _mm256_loadu_si256((const __m256i *)idx)); }
CMF_VINLINE __m256d cmf_vperm_f64(__m256d v, const int32_t *idx)
{
    /* float lanes 2 idx[l], 2 idx[l] + 1 */
    const __m256i t = _mm256_slli_epi64(_mm256_cvtepu32_epi64(_mm_loadu_si128((const __m128i *)idx)), 1);
    const __m256i p = _mm256_add_epi64(_mm256_add_epi64(t, _mm256_slli_epi64(t, 32)), _mm256_set1_epi64x(1LL << 32));
    return _mm256_castps_pd(_mm256_permutevar8x32_ps(_mm256_castpd_ps(v), p));
}
CMF_VINLINE void cmf_vtr_f32(__m256 *r)
{
    __m256 t[8], u[8];
    for (int i = 0; i < 4; i++) {
        t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int q = 0; q < 2; q++) {
        const __m256d a = _mm256_castps_pd(t[4 * q]), b = _mm256_castps_pd(t[4 * q + 1]);
        const __m256d c = _mm256_castps_pd(t[4 * q + 2]), d = _mm256_castps_pd(t[4 * q + 3]);
        u[4 * q] = _mm256_castpd_ps(_mm256_unpacklo_pd(a, c));
        u[4 * q + 1] = _mm256_castpd_ps(_mm256_unpackhi_pd(a, c));
        u[4 * q + 2] = _mm256_castpd_ps(_mm256_unpacklo_pd(b, d));
        u[4 * q + 3] = _mm256_castpd_ps(_mm256_unpackhi_pd(b, d));
    }
    for (int c = 0; c < 4; c++) {
        r[c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x20);
        r[4 + c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x31);
    }
}
CMF_VINLINE void cmf_vtr_f64(__m256d *r)
{
    __m256d t[4];
    t[0] = _mm256_unpacklo_pd(r[0], r[1]);
    t[1] = _mm256_unpackhi_pd(r[0], r[1]);
    t[2] = _mm256_unpacklo_pd(r[2], r[3]);
    t[3] = _mm256_unpackhi_pd(r[2], r[3]);
    for (int c = 0; c < 2; c++) {
        r[c] = _mm256_permute2f128_pd(t[c], t[2 + c], 0x20);
        r[2 + c] = _mm256_permute2f128_pd(t[c], t[2 + c], 0x31);
    }
}
CMF_VINLINE void cmf_vtrp_f32(__m256 *r, ptrdiff_t ni, ptrdiff_t nj) { (void)ni; (void)nj; cmf_vtr_f32(r); }
CMF_VINLINE void cmf_vtrp_f64(__m256d *r, ptrdiff_t ni, ptrdiff_t nj) { (void)ni; (void)nj; cmf_vtr_f64(r); }
CMF_VINLINE void cmf_vdaddst_f32(double *s, ptrdiff_t r, __m256 a)
{
    const __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(a)), hi = _mm256_cvtps_pd(_mm256_extractf128_ps(a, 1));
    if (r >= 8) {
        _mm256_storeu_pd(s, _mm256_add_pd(_mm256_loadu_pd(s), lo));
        _mm256_storeu_pd(s + 4, _mm256_add_pd(_mm256_loadu_pd(s + 4), hi));
    } else {
        const __m256i k0 = cmf_vtailmask64(r), k1 = cmf_vtailmask64(r - 4);
        _mm256_maskstore_pd(s, k0, _mm256_add_pd(_mm256_maskload_pd(s, k0), lo));
        _mm256_maskstore_pd(s + 4, k1, _mm256_add_pd(_mm256_maskload_pd(s + 4, k1), hi));
    }
}
CMF_VINLINE void cmf_vdaddst_f64(double *s, ptrdiff_t r, __m256d a)
{
    if (r >= 4) _mm256_storeu_pd(s, _mm256_add_pd(_mm256_loadu_pd(s), a));
    else {
        const __m256i k = cmf_vtailmask64(r);
        _mm256_maskstore_pd(s, k, _mm256_add_pd(_mm256_maskload_pd(s, k), a));
    }
}
/* online sums: as the AVX-512 form */
CMF_VINLINE void cmf_vrescale_f32(double *s, ptrdiff_t r, __m256 mo, __m256 mn, __m256 it)
{
    __m256i k = _mm256_castps_si256(_mm256_and_ps(_mm256_cmp_ps(mn, mo, _CMP_GT_OQ),
                                                  _mm256_cmp_ps(mo, _mm256_set1_ps(-INFINITY), _CMP_NEQ_OQ)));
    if (r < 8) k = _mm256_and_si256(k, cmf_vtailmask32(r));
    if (CMF_UNLIKELY(!_mm256_testz_si256(k, k))) {
        for (int h = 0; h < 2; h++) {
            const __m256i kh = _mm256_cvtepi32_epi64(h ? _mm256_extracti128_si256(k, 1) : _mm256_castsi256_si128(k));
#define CMF_HALF_(v) _mm256_cvtps_pd(h ? _mm256_extractf128_ps(v, 1) : _mm256_castps256_ps128(v))
            const __m256d f = cmf_vexpm_f64(_mm256_mul_pd(_mm256_sub_pd(CMF_HALF_(mo), CMF_HALF_(mn)), CMF_HALF_(it)));
#undef CMF_HALF_
            _mm256_maskstore_pd(s + 4 * h, kh, _mm256_mul_pd(_mm256_maskload_pd(s + 4 * h, kh), f));
        }
    }
}
CMF_VINLINE void cmf_vrescale_f64(double *s, ptrdiff_t r, __m256d mo, __m256d mn, __m256d it)
{
    __m256i k = _mm256_castpd_si256(_mm256_and_pd(_mm256_cmp_pd(mn, mo, _CMP_GT_OQ),
                                                  _mm256_cmp_pd(mo, _mm256_set1_pd(-INFINITY), _CMP_NEQ_OQ)));
    if (r < 4) k = _mm256_and_si256(k, cmf_vtailmask64(r));
    if (CMF_UNLIKELY(!_mm256_testz_si256(k, k)))
        _mm256_maskstore_pd(s, k, _mm256_mul_pd(_mm256_maskload_pd(s, k),
                                                cmf_vexpm_f64(_mm256_mul_pd(_mm256_sub_pd(mo, mn), it))));
}
#endif

#endif
