/* cmf_math.h: branch-free polynomial elementary functions for the hot loops.
 *
 * Everything here is `static inline`, uses no libm and no global state, and is written
 * so that GCC/Clang vectorise the loops that call it (selects instead of branches, bit
 * casts through memcpy, integer shifts instead of float->int conversions, which are
 * undefined for NaN).  NaN propagates through every function.
 *
 *   cmf_expm_f32/f64(x)   exp(x) for x <= 0 (x may be -inf or NaN).  Results below the
 *                         smallest normal number are flushed to 0.  f32: XNNPACK's
 *                         rr2-p5 (<= 1.98 ULP; the AVX-512 vector form is a table one,
 *                         see below); f64: a 16-entry table of 2^(j/16) + degree-7
 *                         Taylor (<= 0.57 ULP measured).
 *   cmf_log1pu_f32/f64(u) log(1 + u) for u in [0, 1] (atanh series, <= 2 ULP).
 *   cmf_expm1m_f32/f64(x) expm1(x) for x <= 0.
 *   cmf_log_f64(x), cmf_log1p_f64(v)  log and log1p in double.
 *   cmf_uniform_open_f64(r), cmf_gumbel_f64(r)  U(0, 1) (open) and Gumbel(0, 1) variates
 *                         from a 64-bit random draw r.
 */
#ifndef CMF_MATH_H
#define CMF_MATH_H

#include <stdint.h>
#include <string.h>

static inline uint32_t cmf_bits_f32(float x) { uint32_t u; memcpy(&u, &x, 4); return u; }
static inline float cmf_from_bits_f32(uint32_t u) { float x; memcpy(&x, &u, 4); return x; }
static inline uint64_t cmf_bits_f64(double x) { uint64_t u; memcpy(&u, &x, 8); return u; }
static inline double cmf_from_bits_f64(uint64_t u) { double x; memcpy(&x, &u, 8); return x; }

/* c ? a : 0 as bit operations (c is 0 or 1): vectorisers take it where they refuse a
 * select whose value is also compared. */
static inline float cmf_keep_f32(int c, float a) { return cmf_from_bits_f32(cmf_bits_f32(a) & (0u - (uint32_t)c)); }
static inline double cmf_keep_f64(int c, double a) { return cmf_from_bits_f64(cmf_bits_f64(a) & (0u - (uint64_t)c)); }

/* The constants of the AVX-512 vector exp (cmf_simd.h): exp(x) = 2^e 2^(j/32) e^r for
 * x = (32 e + j) ln 2 / 32 + r, a table of 2^(j/32) (one two-register permute) and a degree-3
 * polynomial: 7 multiplies instead of rr2-p5's 9, <= 1.49 ULP measured over every float32 in
 * [-87.34, 0].  Only the vector form: a scalar table lookup that the compiler vectorises
 * becomes a gather (measured: sigmoid 2x slower), so cmf_expm_f32 stays rr2-p5 everywhere. */
#if defined(__AVX512F__) && defined(__AVX512DQ__) && defined(__AVX512BW__) && defined(__AVX512VL__)
/* 2^(j/32), j = 0..31, rounded to float */
static const float cmf_exp2_32_f32[32] = {
    0x1.000000p+0f, 0x1.059b0ep+0f, 0x1.0b5586p+0f, 0x1.11301ep+0f, 0x1.172b84p+0f, 0x1.1d4874p+0f,
    0x1.2387a6p+0f, 0x1.29e9e0p+0f, 0x1.306fe0p+0f, 0x1.371a74p+0f, 0x1.3dea64p+0f, 0x1.44e086p+0f,
    0x1.4bfdaep+0f, 0x1.5342b6p+0f, 0x1.5ab07ep+0f, 0x1.6247ecp+0f, 0x1.6a09e6p+0f, 0x1.71f75ep+0f,
    0x1.7a1148p+0f, 0x1.82589ap+0f, 0x1.8ace54p+0f, 0x1.93737cp+0f, 0x1.9c4918p+0f, 0x1.a5503cp+0f,
    0x1.ae89fap+0f, 0x1.b7f770p+0f, 0x1.c199bep+0f, 0x1.cb720ep+0f, 0x1.d5818ep+0f, 0x1.dfc974p+0f,
    0x1.ea4afap+0f, 0x1.f50766p+0f
};
#define CMF_EXPM_F32_MAGIC 0x1.8p23f          /* 1.5 * 2^23: k = round(x 32 / ln 2) in the low bits */
#define CMF_EXPM_F32_L32E 0x1.715476p+5f      /* 32 / ln 2 */
#define CMF_EXPM_F32_LN2HI (-0x1.62e000p-6f)  /* -ln 2 / 32 in 12 bits: k * hi exact */
#define CMF_EXPM_F32_LN2LO (-0x1.0bfbe8p-20f)
#define CMF_EXPM_F32_C1 1.0f                  /* e^r - 1 ~ r (c1 + r (c2 + c3 r)), |r| <= ln 2 / 64 */
#define CMF_EXPM_F32_C2 0.5f                  /* (Taylor: the truncation, r^4 / 24 < 6e-10, is */
#define CMF_EXPM_F32_C3 0x1.555556p-3f        /* far below the roundings) */
#define CMF_EXPM_F32_CUTOFF (-0x1.5D589Ep6f)  /* below: result is not a normal float */
#endif

/* exp(x), x <= 0: XNNPACK's rr2-p5 (<= 1.98 ULP with FMA contraction; 2.04 without, for
 * results below 1e-37, where t * s is subnormal) */
static inline float cmf_expm_f32(float x)
{
    const float magic = 0x1.8000FEp23f;          /* 1.5*2^23 + 127: round and bias */
    const float log2e = 0x1.715476p+0f;
    const float mln2_hi = -0x1.62E400p-1f;
    const float mln2_lo = -0x1.7F7D1Cp-20f;
    const float c5 = 0x1.0F9F9Cp-7f, c4 = 0x1.573A1Ap-5f, c3 = 0x1.555A80p-3f;
    const float c2 = 0x1.FFFDC6p-2f, c1 = 0x1.FFFFF6p-1f;
    const float cutoff = -0x1.5D589Ep6f;         /* below: result is not a normal float */
    float n = x * log2e + magic;
    float s = cmf_from_bits_f32(cmf_bits_f32(n) << 23);  /* 2^round(x log2e) */
    n -= magic;
    float t = n * mln2_hi + x;
    t = n * mln2_lo + t;
    float p = c5 * t + c4;
    p = p * t + c3;
    p = p * t + c2;
    p = p * t + c1;
    t *= s;
    float f = t * p + s;
    return x < cutoff ? 0.0f : f;
}

/* 2^(j/16), j = 0..15, as hi + lo (hi rounded to double, lo = the rest rounded): the table
 * of cmf_expm_f64 and of its vector forms */
static const double cmf_exp2_16[16] = {
    0x1.0000000000000p+0, 0x1.0b5586cf9890fp+0, 0x1.172b83c7d517bp+0, 0x1.2387a6e756238p+0,
    0x1.306fe0a31b715p+0, 0x1.3dea64c123422p+0, 0x1.4bfdad5362a27p+0, 0x1.5ab07dd485429p+0,
    0x1.6a09e667f3bcdp+0, 0x1.7a11473eb0187p+0, 0x1.8ace5422aa0dbp+0, 0x1.9c49182a3f090p+0,
    0x1.ae89f995ad3adp+0, 0x1.c199bdd85529cp+0, 0x1.d5818dcfba487p+0, 0x1.ea4afa2a490dap+0
};
static const double cmf_exp2_16_lo[16] = {
    0x0.0p+0, 0x1.8a62e4adc610bp-54, -0x1.19041b9d78a76p-55, 0x1.9b07eb6c70573p-54,
    0x1.6f46ad23182e4p-55, 0x1.ada0911f09ebcp-55, 0x1.d4397afec42e2p-56, 0x1.6324c054647adp-54,
    -0x1.bdd3413b26456p-54, -0x1.41577ee04992fp-55, 0x1.6e9f156864b27p-54, 0x1.c7c46b071f2bep-56,
    0x1.7a1cd345dcc81p-54, 0x1.11065895048ddp-55, 0x1.2ed02d75b3707p-55, -0x1.e9c23179c2893p-54
};
#define CMF_EXPM_F64_MAGIC (0x1.8p52 + 16.0 * 1023.0)   /* round, and bias 2^e's exponent */
#define CMF_EXPM_F64_L16E 0x1.71547652b82fep+4          /* 16 / ln 2 */
#define CMF_EXPM_F64_LN2HI (-0x1.62e42fefa0000p-5)      /* -ln 2 / 16 in 37 bits: k * hi exact */
#define CMF_EXPM_F64_LN2LO (-0x1.cf79abc9e3b3ap-44)
#define CMF_EXPM_F64_CUTOFF (-0x1.6232bdd7abcd2p9)      /* log(DBL_MIN) */

/* exp(x), x <= 0: x = (16 e + j) ln2 / 16 + r with |r| <= ln2 / 32, so exp(x) =
 * 2^e 2^(j/16) e^r; e^r - 1 by Taylor to degree 7 (truncation < 2e-18), 2^(j/16) from the
 * table as hi + lo: 0.57 ULP at most, measured against expl over 2e7 arguments in
 * [-708, 0].  The rounded k = 16 e + j is left by the magic constant in the low bits of n,
 * biased by 16 * 1023 so that k << 48 holds e + 1023 in the exponent field and j below. */
static inline double cmf_expm_f64(double x)
{
    const double magic = CMF_EXPM_F64_MAGIC;
    double n = x * CMF_EXPM_F64_L16E + magic;
    uint64_t b = cmf_bits_f64(n);
    double s = cmf_from_bits_f64((b << 48) & UINT64_C(0x7ff0000000000000));
    n -= magic;
    double r = n * CMF_EXPM_F64_LN2HI + x;
    r = n * CMF_EXPM_F64_LN2LO + r;
    double q = r * (1.0 / 5040.0) + 1.0 / 720.0;
    q = q * r + 1.0 / 120.0;
    q = q * r + 1.0 / 24.0;
    q = q * r + 1.0 / 6.0;
    q = q * r + 0.5;
    q = q * r + 1.0;
    double p = q * r;
    double t = cmf_exp2_16[b & 15], tl = cmf_exp2_16_lo[b & 15];
    double f = ((t * p + tl) + t) * s;
    return x < CMF_EXPM_F64_CUTOFF ? 0.0 : f;
}

/* log(1+u) for u in [0, 1]: log1p(u) = 2 atanh(u / (2 + u)); for u > sqrt(2) - 1 use
 * log1p(u) = log 2 + log1p((u - 1) / 2) so that |s| <= 0.1716. */
static inline float cmf_log1pu_f32(float u)
{
    int big = u > 0.41421356f;
    float v = big ? (u - 1.0f) * 0.5f : u;
    float s = v / (2.0f + v);
    float s2 = s * s;
    float p = 1.0f / 11.0f;
    p = p * s2 + 1.0f / 9.0f;
    p = p * s2 + 1.0f / 7.0f;
    p = p * s2 + 1.0f / 5.0f;
    p = p * s2 + 1.0f / 3.0f;
    float r = 2.0f * s + 2.0f * s * s2 * p;
    return big ? r + 0x1.62e430p-1f : r;
}

/* 2 atanh(s) = log((1 + s) / (1 - s)) for |s| <= 0.1716 (degree-23 odd series). */
static inline double cmf_2atanh_f64(double s)
{
    double s2 = s * s;
    double p = 1.0 / 23.0;
    p = p * s2 + 1.0 / 21.0;
    p = p * s2 + 1.0 / 19.0;
    p = p * s2 + 1.0 / 17.0;
    p = p * s2 + 1.0 / 15.0;
    p = p * s2 + 1.0 / 13.0;
    p = p * s2 + 1.0 / 11.0;
    p = p * s2 + 1.0 / 9.0;
    p = p * s2 + 1.0 / 7.0;
    p = p * s2 + 1.0 / 5.0;
    p = p * s2 + 1.0 / 3.0;
    return 2.0 * s + 2.0 * s * s2 * p;
}

static inline double cmf_log1pu_f64(double u)
{
    int big = u > 0.41421356237309503;
    double v = big ? (u - 1.0) * 0.5 : u;
    double r = cmf_2atanh_f64(v / (2.0 + v));
    return big ? r + 0x1.62e42fefa39efp-1 : r;
}

/* expm1(x) for x <= 0: Taylor series near 0, exp(x) - 1 below -0.5. */
static inline float cmf_expm1m_f32(float x)
{
    float p = 1.0f / 362880.0f;
    p = p * x + 1.0f / 40320.0f;
    p = p * x + 1.0f / 5040.0f;
    p = p * x + 1.0f / 720.0f;
    p = p * x + 1.0f / 120.0f;
    p = p * x + 1.0f / 24.0f;
    p = p * x + 1.0f / 6.0f;
    p = p * x + 0.5f;
    float small = x + x * x * p;
    float large = cmf_expm_f32(x) - 1.0f;
    return x > -0.5f ? small : large;
}

static inline double cmf_expm1m_f64(double x)
{
    double p = 1.0 / 1307674368000.0;        /* 1/15! */
    p = p * x + 1.0 / 87178291200.0;
    p = p * x + 1.0 / 6227020800.0;
    p = p * x + 1.0 / 479001600.0;
    p = p * x + 1.0 / 39916800.0;
    p = p * x + 1.0 / 3628800.0;
    p = p * x + 1.0 / 362880.0;
    p = p * x + 1.0 / 40320.0;
    p = p * x + 1.0 / 5040.0;
    p = p * x + 1.0 / 720.0;
    p = p * x + 1.0 / 120.0;
    p = p * x + 1.0 / 24.0;
    p = p * x + 1.0 / 6.0;
    p = p * x + 0.5;
    double small = x + x * x * p;
    double large = cmf_expm_f64(x) - 1.0;
    return x > -0.5 ? small : large;
}


/* log(x) for finite x > 0 (normal), in double: x = 2^k m with m in [sqrt(1/2), sqrt(2)),
 * log m = 2 atanh(f / (2 + f)), f = m - 1 (<= 1.5 ULP).  Only 32-bit integer operations,
 * so that loops over lanes vectorise on every x86-64 level.  NaN propagates. */
static inline double cmf_log_f64(double x)
{
    uint64_t u = cmf_bits_f64(x);
    uint32_t hi = (uint32_t)(u >> 32);
    hi += 0x3ff00000u - 0x3fe6a09eu;                 /* k from the biased exponent */
    int32_t k = (int32_t)(hi >> 20) - 0x3ff;
    hi = (hi & 0x000fffffu) + 0x3fe6a09eu;           /* m in [sqrt(1/2), sqrt(2)) */
    double m = cmf_from_bits_f64(((uint64_t)hi << 32) | (u & 0xffffffffu));
    double f = m - 1.0;
    double dk = (double)k;
    double r = cmf_2atanh_f64(f / (2.0 + f));
    r = dk * 0x1.62e42fefa3800p-1 + (r + dk * 0x1.ef35793c76730p-45);
    return x != x ? x : r;
}

/* log1p(v) for v >= 0 in double, accurate for tiny v: log(w) * v / (w - 1), w = 1 + v. */
static inline double cmf_log1p_f64(double v)
{
    double w = 1.0 + v;
    double d = w - 1.0;
    double l = cmf_log_f64(w);
    return d == 0.0 ? v : l * (v / d);
}

/* A uniform variate strictly inside (0, 1) from the top 52 bits of a 64-bit draw r:
 * u = (k + 1/2) 2^-52 with k = r >> 12, so 2^-53 <= u <= 1 - 2^-53, every value exact.
 * (Not 53 bits: (k + 1/2) 2^-53 needs 54 significant bits once k >= 2^52 and rounds, to
 * exactly 1.0 for k = 2^53 - 1, where -log(-log u) would be +inf.)  Built from the bits as
 * (1 + k 2^-52) - 1 + 2^-53, both steps exact, so that loops vectorise without a
 * uint64 -> double conversion. */
static inline double cmf_uniform_open_f64(uint64_t r)
{
    double d = cmf_from_bits_f64(UINT64_C(0x3ff0000000000000) | (r >> 12));
    return (d - 1.0) + 0x1p-53;
}

/* A Gumbel(0, 1) variate -log(-log u) from a 64-bit draw (cmf_uniform_open_f64): both
 * logarithms see normal arguments (u >= 2^-53, -log u >= 2^-53 (1 - 2^-54)), so the
 * result is finite, in [-3.61, 36.74]. */
static inline double cmf_gumbel_f64(uint64_t r)
{
    return -cmf_log_f64(-cmf_log_f64(cmf_uniform_open_f64(r)));
}

#endif
