/* cmf_simd.h: the reductions that compilers do not vectorise reliably (strict-FP max:
 * gcc keeps `a > b ? a : b` scalar), as small static-inline blocks.  SSE2 is the x86-64
 * baseline; the AVX paths are used when the translation unit is compiled for them; other
 * architectures get plain C.  Every max here ignores NaN (maxps returns its second
 * operand when the first is NaN): NaN reaches the outputs through the sums instead. */
#ifndef CMF_SIMD_H
#define CMF_SIMD_H

#include <stddef.h>
#include <math.h>
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

#endif
