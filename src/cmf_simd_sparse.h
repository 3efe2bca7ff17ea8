/* cmf_simd_sparse.h: the blocks of the sparse family's threshold passes that compilers do
 * not vectorise (a stream compaction and its inverse), as small static-inline functions
 * for float and double.  AVX-512 uses the register forms of vcompressps / vexpandps (the
 * memory forms are microcoded on Zen 4) with full-width stores; AVX2 a permutation looked
 * up from the lane mask; anything else plain C (branch-free: store, then advance when
 * taken).  Every path keeps the order of the entries and computes the same z, so the
 * results do not depend on the path beyond the rounding of later sums.
 *
 *   cmf_sp_compact_*(n, x, m, sc, lo, z, zs, nan)  z_k = (x_k - m) * sc for k < n into z
 *       (which may be x itself), and the z_k > lo in order into zs[0..count); returns
 *       count; *nan |= (some x_k is NaN).  zs needs room for n values (full-width stores
 *       never pass the entries already read).  The later passes read z, not x: a product
 *       recomputed there could be contracted into an FMA with what follows, and differ.
 *   cmf_sp_filter_*(n, z, d, lo)    the z_k >= lo, in order, into d (which may be z);
 *       returns how many.
 *   cmf_sp_sums_*(n, z, t, sh, r)   over the z_k > t, with u = z_k - sh (in double):
 *       r[0] = count, r[1] = sum u, r[2] = sum u^2 and r[3] = min u (+inf if none); r[2]
 *       and r[3] only when `quad` (the threshold passes of sparsemax and 1.5-entmax).
 *   cmf_sp_dsums_*(n, y, v, kind, pl, s, r)   the first pass of the sparse VJPs: s_k = 1, y_k,
 *       sqrt(y_k) or the next entry of pl (kind 0, 1, 2, 3: pl holds s for the y_k > 0 in
 *       order) where y_k > 0, y_k where it is NaN, else 0, into s;
 *       r[0] = sum s, r[1] = sum of s v where s != 0 (T lanes over blocks of 256 entries,
 *       double across blocks).
 *   cmf_sp_logu_f32(u)              log u for u in (0, 1] (Cephes' logf polynomial, no
 *       division; plain C for the vectoriser; about 1 ULP).
 *   cmf_sp_strip16_*(n, y, ldy, tau, quad, r)   the column kernels' pass over a strip of 16
 *       lanes (lane j: y[q * ldy + j], q < n) against thresholds tau[16]: r[0..16) count,
 *       r[16..32) sum u, r[32..48) sum u^2, r[48..64) min u over the z > tau[j] (u = z - tau[j]
 *       when `quad`, else z), r[64..80) the number of NaN.
 *   cmf_sp_step16(quad, first, n, state, iters, tau, r)   one step of the 16 lanes whose
 *       state is 0 from those sums (sparsemax: Michelot's; 1.5-entmax: the exact closed
 *       form, else Newton / Jensen), as the row kernels' steps; returns whether a lane
 *       goes on.  State: 0 iterating, 1 settled, 3 NaN, 4 stuck (rounding).
 *   cmf_sp_transpose_*(nr, nc, src, lds, dst, ldd)   dst[j * ldd + i] = src[i * lds + j] for
 *       i < nr, j < nc (16x16 / 8x8 register transposes, scalar edges).
 *   cmf_sp_expand_*(n, z, y, lo, pc)   the inverse: y_k = pc[j] for the j-th k with z_k >= lo,
 *       0 elsewhere (y may be z).  pc needs room for n values (it is read full-width).
 */
#ifndef CMF_SIMD_SPARSE_H
#define CMF_SIMD_SPARSE_H

#include <stddef.h>
#include <stdint.h>
#include "cmf_simd.h"
#include "cmf_math.h"

#if defined(__AVX512F__) && defined(__AVX512VL__) && defined(__AVX512DQ__) && defined(__AVX512BW__)
#define CMF_SP_AVX512 1
#elif defined(__AVX2__)
#define CMF_SP_AVX2 1
#endif

#if defined(CMF_SP_AVX512) || defined(CMF_SP_AVX2)
#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>
#define CMF_SP_POPCNT(v) ((ptrdiff_t)__popcnt((unsigned)(v)))
#else
#define CMF_SP_POPCNT(v) ((ptrdiff_t)__builtin_popcount((unsigned)(v)))   /* popcnt: implied by -mavx2 */
#endif
#endif

#if defined(CMF_SP_AVX2)
/* lane permutations for a lane mask c, as 3-bit lane indices packed from bit 0: c8 / c4
 * gather the taken lanes of 8 floats / 4 doubles (as 8 32-bit halves) to the front, e8 /
 * e4 send the front entries back to the taken lanes (generated, not edited by hand) */
static const uint32_t cmf_sp_lut_c8[256] = {
    0x00000000u, 0x00000000u, 0x00000001u, 0x00000008u, 0x00000002u, 0x00000010u, 0x00000011u, 0x00000088u,
    0x00000003u, 0x00000018u, 0x00000019u, 0x000000c8u, 0x0000001au, 0x000000d0u, 0x000000d1u, 0x00000688u,
    0x00000004u, 0x00000020u, 0x00000021u, 0x00000108u, 0x00000022u, 0x00000110u, 0x00000111u, 0x00000888u,
    0x00000023u, 0x00000118u, 0x00000119u, 0x000008c8u, 0x0000011au, 0x000008d0u, 0x000008d1u, 0x00004688u,
    0x00000005u, 0x00000028u, 0x00000029u, 0x00000148u, 0x0000002au, 0x00000150u, 0x00000151u, 0x00000a88u,
    0x0000002bu, 0x00000158u, 0x00000159u, 0x00000ac8u, 0x0000015au, 0x00000ad0u, 0x00000ad1u, 0x00005688u,
    0x0000002cu, 0x00000160u, 0x00000161u, 0x00000b08u, 0x00000162u, 0x00000b10u, 0x00000b11u, 0x00005888u,
    0x00000163u, 0x00000b18u, 0x00000b19u, 0x000058c8u, 0x00000b1au, 0x000058d0u, 0x000058d1u, 0x0002c688u,
    0x00000006u, 0x00000030u, 0x00000031u, 0x00000188u, 0x00000032u, 0x00000190u, 0x00000191u, 0x00000c88u,
    0x00000033u, 0x00000198u, 0x00000199u, 0x00000cc8u, 0x0000019au, 0x00000cd0u, 0x00000cd1u, 0x00006688u,
    0x00000034u, 0x000001a0u, 0x000001a1u, 0x00000d08u, 0x000001a2u, 0x00000d10u, 0x00000d11u, 0x00006888u,
    0x000001a3u, 0x00000d18u, 0x00000d19u, 0x000068c8u, 0x00000d1au, 0x000068d0u, 0x000068d1u, 0x00034688u,
    0x00000035u, 0x000001a8u, 0x000001a9u, 0x00000d48u, 0x000001aau, 0x00000d50u, 0x00000d51u, 0x00006a88u,
    0x000001abu, 0x00000d58u, 0x00000d59u, 0x00006ac8u, 0x00000d5au, 0x00006ad0u, 0x00006ad1u, 0x00035688u,
    0x000001acu, 0x00000d60u, 0x00000d61u, 0x00006b08u, 0x00000d62u, 0x00006b10u, 0x00006b11u, 0x00035888u,
    0x00000d63u, 0x00006b18u, 0x00006b19u, 0x000358c8u, 0x00006b1au, 0x000358d0u, 0x000358d1u, 0x001ac688u,
    0x00000007u, 0x00000038u, 0x00000039u, 0x000001c8u, 0x0000003au, 0x000001d0u, 0x000001d1u, 0x00000e88u,
    0x0000003bu, 0x000001d8u, 0x000001d9u, 0x00000ec8u, 0x000001dau, 0x00000ed0u, 0x00000ed1u, 0x00007688u,
    0x0000003cu, 0x000001e0u, 0x000001e1u, 0x00000f08u, 0x000001e2u, 0x00000f10u, 0x00000f11u, 0x00007888u,
    0x000001e3u, 0x00000f18u, 0x00000f19u, 0x000078c8u, 0x00000f1au, 0x000078d0u, 0x000078d1u, 0x0003c688u,
    0x0000003du, 0x000001e8u, 0x000001e9u, 0x00000f48u, 0x000001eau, 0x00000f50u, 0x00000f51u, 0x00007a88u,
    0x000001ebu, 0x00000f58u, 0x00000f59u, 0x00007ac8u, 0x00000f5au, 0x00007ad0u, 0x00007ad1u, 0x0003d688u,
    0x000001ecu, 0x00000f60u, 0x00000f61u, 0x00007b08u, 0x00000f62u, 0x00007b10u, 0x00007b11u, 0x0003d888u,
    0x00000f63u, 0x00007b18u, 0x00007b19u, 0x0003d8c8u, 0x00007b1au, 0x0003d8d0u, 0x0003d8d1u, 0x001ec688u,
    0x0000003eu, 0x000001f0u, 0x000001f1u, 0x00000f88u, 0x000001f2u, 0x00000f90u, 0x00000f91u, 0x00007c88u,
    0x000001f3u, 0x00000f98u, 0x00000f99u, 0x00007cc8u, 0x00000f9au, 0x00007cd0u, 0x00007cd1u, 0x0003e688u,
    0x000001f4u, 0x00000fa0u, 0x00000fa1u, 0x00007d08u, 0x00000fa2u, 0x00007d10u, 0x00007d11u, 0x0003e888u,
    0x00000fa3u, 0x00007d18u, 0x00007d19u, 0x0003e8c8u, 0x00007d1au, 0x0003e8d0u, 0x0003e8d1u, 0x001f4688u,
    0x000001f5u, 0x00000fa8u, 0x00000fa9u, 0x00007d48u, 0x00000faau, 0x00007d50u, 0x00007d51u, 0x0003ea88u,
    0x00000fabu, 0x00007d58u, 0x00007d59u, 0x0003eac8u, 0x00007d5au, 0x0003ead0u, 0x0003ead1u, 0x001f5688u,
    0x00000facu, 0x00007d60u, 0x00007d61u, 0x0003eb08u, 0x00007d62u, 0x0003eb10u, 0x0003eb11u, 0x001f5888u,
    0x00007d63u, 0x0003eb18u, 0x0003eb19u, 0x001f58c8u, 0x0003eb1au, 0x001f58d0u, 0x001f58d1u, 0x00fac688u,
};
static const uint32_t cmf_sp_lut_e8[256] = {
    0x00000000u, 0x00249248u, 0x00249240u, 0x00492488u, 0x00249200u, 0x00492448u, 0x00492440u, 0x006db688u,
    0x00249000u, 0x00492248u, 0x00492240u, 0x006db488u, 0x00492200u, 0x006db448u, 0x006db440u, 0x00924688u,
    0x00248000u, 0x00491248u, 0x00491240u, 0x006da488u, 0x00491200u, 0x006da448u, 0x006da440u, 0x00923688u,
    0x00491000u, 0x006da248u, 0x006da240u, 0x00923488u, 0x006da200u, 0x00923448u, 0x00923440u, 0x00b6c688u,
    0x00240000u, 0x00489248u, 0x00489240u, 0x006d2488u, 0x00489200u, 0x006d2448u, 0x006d2440u, 0x0091b688u,
    0x00489000u, 0x006d2248u, 0x006d2240u, 0x0091b488u, 0x006d2200u, 0x0091b448u, 0x0091b440u, 0x00b64688u,
    0x00488000u, 0x006d1248u, 0x006d1240u, 0x0091a488u, 0x006d1200u, 0x0091a448u, 0x0091a440u, 0x00b63688u,
    0x006d1000u, 0x0091a248u, 0x0091a240u, 0x00b63488u, 0x0091a200u, 0x00b63448u, 0x00b63440u, 0x00dac688u,
    0x00200000u, 0x00449248u, 0x00449240u, 0x00692488u, 0x00449200u, 0x00692448u, 0x00692440u, 0x008db688u,
    0x00449000u, 0x00692248u, 0x00692240u, 0x008db488u, 0x00692200u, 0x008db448u, 0x008db440u, 0x00b24688u,
    0x00448000u, 0x00691248u, 0x00691240u, 0x008da488u, 0x00691200u, 0x008da448u, 0x008da440u, 0x00b23688u,
    0x00691000u, 0x008da248u, 0x008da240u, 0x00b23488u, 0x008da200u, 0x00b23448u, 0x00b23440u, 0x00d6c688u,
    0x00440000u, 0x00689248u, 0x00689240u, 0x008d2488u, 0x00689200u, 0x008d2448u, 0x008d2440u, 0x00b1b688u,
    0x00689000u, 0x008d2248u, 0x008d2240u, 0x00b1b488u, 0x008d2200u, 0x00b1b448u, 0x00b1b440u, 0x00d64688u,
    0x00688000u, 0x008d1248u, 0x008d1240u, 0x00b1a488u, 0x008d1200u, 0x00b1a448u, 0x00b1a440u, 0x00d63688u,
    0x008d1000u, 0x00b1a248u, 0x00b1a240u, 0x00d63488u, 0x00b1a200u, 0x00d63448u, 0x00d63440u, 0x00fac688u,
    0x00000000u, 0x00249248u, 0x00249240u, 0x00492488u, 0x00249200u, 0x00492448u, 0x00492440u, 0x006db688u,
    0x00249000u, 0x00492248u, 0x00492240u, 0x006db488u, 0x00492200u, 0x006db448u, 0x006db440u, 0x00924688u,
    0x00248000u, 0x00491248u, 0x00491240u, 0x006da488u, 0x00491200u, 0x006da448u, 0x006da440u, 0x00923688u,
    0x00491000u, 0x006da248u, 0x006da240u, 0x00923488u, 0x006da200u, 0x00923448u, 0x00923440u, 0x00b6c688u,
    0x00240000u, 0x00489248u, 0x00489240u, 0x006d2488u, 0x00489200u, 0x006d2448u, 0x006d2440u, 0x0091b688u,
    0x00489000u, 0x006d2248u, 0x006d2240u, 0x0091b488u, 0x006d2200u, 0x0091b448u, 0x0091b440u, 0x00b64688u,
    0x00488000u, 0x006d1248u, 0x006d1240u, 0x0091a488u, 0x006d1200u, 0x0091a448u, 0x0091a440u, 0x00b63688u,
    0x006d1000u, 0x0091a248u, 0x0091a240u, 0x00b63488u, 0x0091a200u, 0x00b63448u, 0x00b63440u, 0x00dac688u,
    0x00200000u, 0x00449248u, 0x00449240u, 0x00692488u, 0x00449200u, 0x00692448u, 0x00692440u, 0x008db688u,
    0x00449000u, 0x00692248u, 0x00692240u, 0x008db488u, 0x00692200u, 0x008db448u, 0x008db440u, 0x00b24688u,
    0x00448000u, 0x00691248u, 0x00691240u, 0x008da488u, 0x00691200u, 0x008da448u, 0x008da440u, 0x00b23688u,
    0x00691000u, 0x008da248u, 0x008da240u, 0x00b23488u, 0x008da200u, 0x00b23448u, 0x00b23440u, 0x00d6c688u,
    0x00440000u, 0x00689248u, 0x00689240u, 0x008d2488u, 0x00689200u, 0x008d2448u, 0x008d2440u, 0x00b1b688u,
    0x00689000u, 0x008d2248u, 0x008d2240u, 0x00b1b488u, 0x008d2200u, 0x00b1b448u, 0x00b1b440u, 0x00d64688u,
    0x00688000u, 0x008d1248u, 0x008d1240u, 0x00b1a488u, 0x008d1200u, 0x00b1a448u, 0x00b1a440u, 0x00d63688u,
    0x008d1000u, 0x00b1a248u, 0x00b1a240u, 0x00d63488u, 0x00b1a200u, 0x00d63448u, 0x00d63440u, 0x00fac688u,
};
static const uint32_t cmf_sp_lut_c4[16] = {
    0x00208208u, 0x00208208u, 0x0020821au, 0x00208688u, 0x0020822cu, 0x00208b08u, 0x00208b1au, 0x0022c688u,
    0x0020823eu, 0x00208f88u, 0x00208f9au, 0x0023e688u, 0x00208facu, 0x0023eb08u, 0x0023eb1au, 0x00fac688u,
};
static const uint32_t cmf_sp_lut_e4[16] = {
    0x00208208u, 0x0069a688u, 0x0069a208u, 0x00b2c688u, 0x00688208u, 0x00b1a688u, 0x00b1a208u, 0x00fac688u,
    0x00208208u, 0x0069a688u, 0x0069a208u, 0x00b2c688u, 0x00688208u, 0x00b1a688u, 0x00b1a208u, 0x00fac688u,
};


static inline __m256i cmf_sp_perm(uint32_t packed)
{
    return _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32((int)packed),
                                              _mm256_setr_epi32(0, 3, 6, 9, 12, 15, 18, 21)),
                            _mm256_set1_epi32(7));
}
#endif

static inline ptrdiff_t cmf_sp_compact_f32(ptrdiff_t n, const float *x, float m, float sc, float lo,
                                           float *z_all, float *zs, int *nan)
{
    ptrdiff_t k = 0, na = 0;
    int bad = 0;
#if defined(CMF_SP_AVX512)
    const __m512 vm = _mm512_set1_ps(m), vs = _mm512_set1_ps(sc), vl = _mm512_set1_ps(lo);
    __mmask16 nn = 0;
    for (; k + 16 <= n; k += 16) {
        const __m512 v = _mm512_loadu_ps(x + k);
        const __m512 z = _mm512_mul_ps(_mm512_sub_ps(v, vm), vs);
        const __mmask16 c = _mm512_cmp_ps_mask(z, vl, _CMP_GT_OQ);
        nn |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
        _mm512_storeu_ps(z_all + k, z);
        _mm512_storeu_ps(zs + na, _mm512_maskz_compress_ps(c, z));
        na += CMF_SP_POPCNT(c);
    }
    bad = nn != 0;
#elif defined(CMF_SP_AVX2)
    const __m256 vm = _mm256_set1_ps(m), vs = _mm256_set1_ps(sc), vl = _mm256_set1_ps(lo);
    __m256 nn = _mm256_setzero_ps();
    for (; k + 8 <= n; k += 8) {
        const __m256 v = _mm256_loadu_ps(x + k);
        const __m256 z = _mm256_mul_ps(_mm256_sub_ps(v, vm), vs);
        const int c = _mm256_movemask_ps(_mm256_cmp_ps(z, vl, _CMP_GT_OQ));
        nn = _mm256_or_ps(nn, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
        _mm256_storeu_ps(z_all + k, z);
        _mm256_storeu_ps(zs + na, _mm256_permutevar8x32_ps(z, cmf_sp_perm(cmf_sp_lut_c8[c])));
        na += CMF_SP_POPCNT(c);
    }
    bad = _mm256_movemask_ps(nn) != 0;
#endif
    for (; k < n; k++) {
        const float v = x[k], z = (v - m) * sc;
        z_all[k] = z;
        zs[na] = z;
        na += z > lo;
        bad |= v != v;
    }
    *nan |= bad;
    return na;
}

static inline ptrdiff_t cmf_sp_compact_f64(ptrdiff_t n, const double *x, double m, double sc, double lo,
                                           double *z_all, double *zs, int *nan)
{
    ptrdiff_t k = 0, na = 0;
    int bad = 0;
#if defined(CMF_SP_AVX512)
    const __m512d vm = _mm512_set1_pd(m), vs = _mm512_set1_pd(sc), vl = _mm512_set1_pd(lo);
    __mmask8 nn = 0;
    for (; k + 8 <= n; k += 8) {
        const __m512d v = _mm512_loadu_pd(x + k);
        const __m512d z = _mm512_mul_pd(_mm512_sub_pd(v, vm), vs);
        const __mmask8 c = _mm512_cmp_pd_mask(z, vl, _CMP_GT_OQ);
        nn |= _mm512_cmp_pd_mask(v, v, _CMP_UNORD_Q);
        _mm512_storeu_pd(z_all + k, z);
        _mm512_storeu_pd(zs + na, _mm512_maskz_compress_pd(c, z));
        na += CMF_SP_POPCNT(c);
    }
    bad = nn != 0;
#elif defined(CMF_SP_AVX2)
    const __m256d vm = _mm256_set1_pd(m), vs = _mm256_set1_pd(sc), vl = _mm256_set1_pd(lo);
    __m256d nn = _mm256_setzero_pd();
    for (; k + 4 <= n; k += 4) {
        const __m256d v = _mm256_loadu_pd(x + k);
        const __m256d z = _mm256_mul_pd(_mm256_sub_pd(v, vm), vs);
        const int c = _mm256_movemask_pd(_mm256_cmp_pd(z, vl, _CMP_GT_OQ));
        nn = _mm256_or_pd(nn, _mm256_cmp_pd(v, v, _CMP_UNORD_Q));
        _mm256_storeu_pd(z_all + k, z);
        const __m256 zp = _mm256_permutevar8x32_ps(_mm256_castpd_ps(z), cmf_sp_perm(cmf_sp_lut_c4[c]));
        _mm256_storeu_pd(zs + na, _mm256_castps_pd(zp));
        na += CMF_SP_POPCNT(c);
    }
    bad = _mm256_movemask_pd(nn) != 0;
#endif
    for (; k < n; k++) {
        const double v = x[k], z = (v - m) * sc;
        z_all[k] = z;
        zs[na] = z;
        na += z > lo;
        bad |= v != v;
    }
    *nan |= bad;
    return na;
}

static inline ptrdiff_t cmf_sp_filter_f32(ptrdiff_t n, const float *z, float *d, float lo)
{
    ptrdiff_t k = 0, na = 0;
#if defined(CMF_SP_AVX512)
    const __m512 vl = _mm512_set1_ps(lo);
    for (; k + 16 <= n; k += 16) {
        const __m512 v = _mm512_loadu_ps(z + k);
        const __mmask16 c = _mm512_cmp_ps_mask(v, vl, _CMP_GE_OQ);
        _mm512_storeu_ps(d + na, _mm512_maskz_compress_ps(c, v));
        na += CMF_SP_POPCNT(c);
    }
#elif defined(CMF_SP_AVX2)
    const __m256 vl = _mm256_set1_ps(lo);
    for (; k + 8 <= n; k += 8) {
        const __m256 v = _mm256_loadu_ps(z + k);
        const int c = _mm256_movemask_ps(_mm256_cmp_ps(v, vl, _CMP_GE_OQ));
        _mm256_storeu_ps(d + na, _mm256_permutevar8x32_ps(v, cmf_sp_perm(cmf_sp_lut_c8[c])));
        na += CMF_SP_POPCNT(c);
    }
#endif
    for (; k < n; k++) {
        const float v = z[k];
        d[na] = v;
        na += v >= lo;
    }
    return na;
}

static inline ptrdiff_t cmf_sp_filter_f64(ptrdiff_t n, const double *z, double *d, double lo)
{
    ptrdiff_t k = 0, na = 0;
#if defined(CMF_SP_AVX512)
    const __m512d vl = _mm512_set1_pd(lo);
    for (; k + 8 <= n; k += 8) {
        const __m512d v = _mm512_loadu_pd(z + k);
        const __mmask8 c = _mm512_cmp_pd_mask(v, vl, _CMP_GE_OQ);
        _mm512_storeu_pd(d + na, _mm512_maskz_compress_pd(c, v));
        na += CMF_SP_POPCNT(c);
    }
#elif defined(CMF_SP_AVX2)
    const __m256d vl = _mm256_set1_pd(lo);
    for (; k + 4 <= n; k += 4) {
        const __m256d v = _mm256_loadu_pd(z + k);
        const int c = _mm256_movemask_pd(_mm256_cmp_pd(v, vl, _CMP_GE_OQ));
        const __m256 vp = _mm256_permutevar8x32_ps(_mm256_castpd_ps(v), cmf_sp_perm(cmf_sp_lut_c4[c]));
        _mm256_storeu_pd(d + na, _mm256_castps_pd(vp));
        na += CMF_SP_POPCNT(c);
    }
#endif
    for (; k < n; k++) {
        const double v = z[k];
        d[na] = v;
        na += v >= lo;
    }
    return na;
}

static inline void cmf_sp_sums_f32(ptrdiff_t n, const float *z, double t, double sh, int quad, double r[4])
{
    ptrdiff_t k = 0;
    double c = 0.0, s1 = 0.0, s2 = 0.0, um = INFINITY;
#if defined(CMF_SP_AVX512)
    const __m512d vt = _mm512_set1_pd(t), vs = _mm512_set1_pd(sh), zero = _mm512_setzero_pd();
    const __m512d one = _mm512_set1_pd(1.0);
    __m512d ca = zero, ua = zero, qa = zero, ma = _mm512_set1_pd(INFINITY);
    __m512d cb = zero, ub = zero, qb = zero, mb = ma;       /* the upper halves: no chain */
    for (; k < n; k += 16) {
        const ptrdiff_t rem = n - k;
        const __mmask16 lm = rem >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << rem) - 1u);
        const __m512 v = _mm512_maskz_loadu_ps(lm, z + k);
        const __m512d z0 = _mm512_cvtps_pd(_mm512_castps512_ps256(v));
        const __m512d z1 = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
        const __mmask8 m0 = _mm512_cmp_pd_mask(z0, vt, _CMP_GT_OQ) & (__mmask8)lm;
        const __mmask8 m1 = _mm512_cmp_pd_mask(z1, vt, _CMP_GT_OQ) & (__mmask8)(lm >> 8);
        const __m512d u0 = _mm512_sub_pd(z0, vs), u1 = _mm512_sub_pd(z1, vs);
        ca = _mm512_mask_add_pd(ca, m0, ca, one);
        ua = _mm512_mask_add_pd(ua, m0, ua, u0);
        cb = _mm512_mask_add_pd(cb, m1, cb, one);
        ub = _mm512_mask_add_pd(ub, m1, ub, u1);
        if (quad) {
            qa = _mm512_mask3_fmadd_pd(u0, u0, qa, m0);
            ma = _mm512_mask_min_pd(ma, m0, ma, u0);
            qb = _mm512_mask3_fmadd_pd(u1, u1, qb, m1);
            mb = _mm512_mask_min_pd(mb, m1, mb, u1);
        }
    }
    c = _mm512_reduce_add_pd(_mm512_add_pd(ca, cb));
    s1 = _mm512_reduce_add_pd(_mm512_add_pd(ua, ub));
    s2 = _mm512_reduce_add_pd(_mm512_add_pd(qa, qb));
    um = _mm512_reduce_min_pd(_mm512_min_pd(ma, mb));
#else
#if defined(CMF_SP_AVX2)
    const __m256d vt = _mm256_set1_pd(t), vs = _mm256_set1_pd(sh), zero = _mm256_setzero_pd();
    const __m256d one = _mm256_set1_pd(1.0), inf = _mm256_set1_pd(INFINITY);
    __m256d ca = zero, ua = zero, qa = zero, ma = inf;
    for (; k + 4 <= n; k += 4) {
        const __m256d zv = _mm256_cvtps_pd(_mm_loadu_ps(z + k));
        const __m256d on = _mm256_cmp_pd(zv, vt, _CMP_GT_OQ);
        const __m256d u = _mm256_sub_pd(zv, vs);
        const __m256d uk = _mm256_and_pd(on, u);
        ca = _mm256_add_pd(ca, _mm256_and_pd(on, one));
        ua = _mm256_add_pd(ua, uk);
        if (quad) {
            qa = _mm256_fmadd_pd(uk, uk, qa);
            ma = _mm256_min_pd(ma, _mm256_blendv_pd(inf, u, on));
        }
    }
    double b[4][4];
    _mm256_storeu_pd(b[0], ca); _mm256_storeu_pd(b[1], ua); _mm256_storeu_pd(b[2], qa); _mm256_storeu_pd(b[3], ma);
    for (int j = 0; j < 4; j++) {
        c += b[0][j]; s1 += b[1][j]; s2 += b[2][j];
        um = b[3][j] < um ? b[3][j] : um;
    }
#endif
    for (; k < n; k++) {
        const double u = (double)z[k] - sh;
        if ((double)z[k] > t) { c += 1.0; s1 += u; s2 += u * u; um = u < um ? u : um; }
    }
#endif
    r[0] = c; r[1] = s1; r[2] = s2; r[3] = um;
}

static inline void cmf_sp_sums_f64(ptrdiff_t n, const double *z, double t, double sh, int quad, double r[4])
{
    ptrdiff_t k = 0;
    double c = 0.0, s1 = 0.0, s2 = 0.0, um = INFINITY;
#if defined(CMF_SP_AVX512)
    const __m512d vt = _mm512_set1_pd(t), vs = _mm512_set1_pd(sh), zero = _mm512_setzero_pd();
    const __m512d one = _mm512_set1_pd(1.0);
    __m512d ca = zero, ua = zero, qa = zero, ma = _mm512_set1_pd(INFINITY);
    for (; k < n; k += 8) {
        const ptrdiff_t rem = n - k;
        const __mmask8 lm = rem >= 8 ? (__mmask8)0xFF : (__mmask8)((1u << rem) - 1u);
        const __m512d zv = _mm512_maskz_loadu_pd(lm, z + k);
        const __mmask8 m = _mm512_cmp_pd_mask(zv, vt, _CMP_GT_OQ) & lm;
        const __m512d u = _mm512_sub_pd(zv, vs);
        ca = _mm512_mask_add_pd(ca, m, ca, one);
        ua = _mm512_mask_add_pd(ua, m, ua, u);
        if (quad) {
            qa = _mm512_mask3_fmadd_pd(u, u, qa, m);
            ma = _mm512_mask_min_pd(ma, m, ma, u);
        }
    }
    c = _mm512_reduce_add_pd(ca);
    s1 = _mm512_reduce_add_pd(ua);
    s2 = _mm512_reduce_add_pd(qa);
    um = _mm512_reduce_min_pd(ma);
#else
#if defined(CMF_SP_AVX2)
    const __m256d vt = _mm256_set1_pd(t), vs = _mm256_set1_pd(sh), zero = _mm256_setzero_pd();
    const __m256d one = _mm256_set1_pd(1.0), inf = _mm256_set1_pd(INFINITY);
    __m256d ca = zero, ua = zero, qa = zero, ma = inf;
    for (; k + 4 <= n; k += 4) {
        const __m256d zv = _mm256_loadu_pd(z + k);
        const __m256d on = _mm256_cmp_pd(zv, vt, _CMP_GT_OQ);
        const __m256d u = _mm256_sub_pd(zv, vs);
        const __m256d uk = _mm256_and_pd(on, u);
        ca = _mm256_add_pd(ca, _mm256_and_pd(on, one));
        ua = _mm256_add_pd(ua, uk);
        if (quad) {
            qa = _mm256_fmadd_pd(uk, uk, qa);
            ma = _mm256_min_pd(ma, _mm256_blendv_pd(inf, u, on));
        }
    }
    double b[4][4];
    _mm256_storeu_pd(b[0], ca); _mm256_storeu_pd(b[1], ua); _mm256_storeu_pd(b[2], qa); _mm256_storeu_pd(b[3], ma);
    for (int j = 0; j < 4; j++) {
        c += b[0][j]; s1 += b[1][j]; s2 += b[2][j];
        um = b[3][j] < um ? b[3][j] : um;
    }
#endif
    for (; k < n; k++) {
        const double u = z[k] - sh;
        if (z[k] > t) { c += 1.0; s1 += u; s2 += u * u; um = u < um ? u : um; }
    }
#endif
    r[0] = c; r[1] = s1; r[2] = s2; r[3] = um;
}

static inline void cmf_sp_dsums_f32(ptrdiff_t n, const float *y, const float *v, int kind, const float *pl, float *s,
                                    double r[2])
{
    ptrdiff_t k = 0, j = 0;
    double ss = 0.0, sv = 0.0;
#if defined(CMF_SP_AVX512)
    const __m512 zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1.0f);
    while (k < n) {
        const ptrdiff_t kend = n - k > 256 ? k + 256 : n;
        __m512 sa = zero, va = zero;
        for (; k < kend; k += 16) {
            const ptrdiff_t rem = kend - k;
            const __mmask16 lm = rem >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << rem) - 1u);
            const __m512 yv = _mm512_maskz_loadu_ps(lm, y + k), vv = _mm512_maskz_loadu_ps(lm, v + k);
            const __mmask16 gt = _mm512_cmp_ps_mask(yv, zero, _CMP_GT_OQ);
            const __mmask16 nan = _mm512_cmp_ps_mask(yv, yv, _CMP_UNORD_Q);
            __m512 sk = kind == 0 ? _mm512_maskz_mov_ps(gt, one)
                      : kind == 1 ? _mm512_maskz_mov_ps(gt, yv)
                      : kind == 2 ? _mm512_maskz_sqrt_ps(gt, yv)
                      : _mm512_maskz_expand_ps(gt, _mm512_maskz_loadu_ps((__mmask16)((1u << CMF_SP_POPCNT(gt)) - 1u), pl + j));
            if (kind == 3) j += CMF_SP_POPCNT(gt);
            sk = _mm512_mask_mov_ps(sk, nan, yv);
            _mm512_mask_storeu_ps(s + k, lm, sk);
            sa = _mm512_add_ps(sa, sk);
            va = _mm512_mask3_fmadd_ps(sk, vv, va, gt | nan);
        }
        ss += _mm512_reduce_add_pd(_mm512_add_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(sa)),
              _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(sa), 1)))));
        sv += _mm512_reduce_add_pd(_mm512_add_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(va)),
              _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(va), 1)))));
    }
#else
#if defined(CMF_SP_AVX2)
    const __m256 zero = _mm256_setzero_ps(), one = _mm256_set1_ps(1.0f);
    while (k + 8 <= n) {
        const ptrdiff_t kend = n - k > 256 ? k + 256 : n;
        __m256 sa = zero, va = zero;
        for (; k + 8 <= kend; k += 8) {
            const __m256 yv = _mm256_loadu_ps(y + k), vv = _mm256_loadu_ps(v + k);
            const __m256 gt = _mm256_cmp_ps(yv, zero, _CMP_GT_OQ);
            const __m256 nan = _mm256_cmp_ps(yv, yv, _CMP_UNORD_Q);
            __m256 sk = kind == 0 ? _mm256_and_ps(gt, one)
                      : kind == 1 ? _mm256_and_ps(gt, yv)
                      : kind == 2 ? _mm256_and_ps(gt, _mm256_sqrt_ps(yv))
                      : _mm256_and_ps(gt, _mm256_permutevar8x32_ps(_mm256_loadu_ps(pl + j),
                                          cmf_sp_perm(cmf_sp_lut_e8[_mm256_movemask_ps(gt)])));
            if (kind == 3) j += CMF_SP_POPCNT(_mm256_movemask_ps(gt));
            sk = _mm256_blendv_ps(sk, yv, nan);
            _mm256_storeu_ps(s + k, sk);
            sa = _mm256_add_ps(sa, sk);
            va = _mm256_add_ps(va, _mm256_and_ps(_mm256_or_ps(gt, nan), _mm256_mul_ps(sk, vv)));
        }
        float b[2][8];
        _mm256_storeu_ps(b[0], sa);
        _mm256_storeu_ps(b[1], va);
        for (int j = 0; j < 8; j++) { ss += (double)b[0][j]; sv += (double)b[1][j]; }
    }
#endif
    for (; k < n; k++) {
        const float yk = y[k];
        const float sk = yk > 0 ? (kind == 0 ? 1.0f : kind == 1 ? yk : kind == 2 ? sqrtf(yk) : pl[j++])
                                : (yk != yk ? yk : 0.0f);
        s[k] = sk;
        ss += (double)sk;
        sv += sk != 0 ? (double)(sk * v[k]) : 0.0;
    }
#endif
    r[0] = ss;
    r[1] = sv;
}

static inline void cmf_sp_dsums_f64(ptrdiff_t n, const double *y, const double *v, int kind, const double *pl, double *s,
                                    double r[2])
{
    ptrdiff_t k = 0, j = 0;
    double ss = 0.0, sv = 0.0;
#if defined(CMF_SP_AVX512)
    const __m512d zero = _mm512_setzero_pd(), one = _mm512_set1_pd(1.0);
    __m512d sa = zero, va = zero;
    for (; k < n; k += 8) {
        const ptrdiff_t rem = n - k;
        const __mmask8 lm = rem >= 8 ? (__mmask8)0xFF : (__mmask8)((1u << rem) - 1u);
        const __m512d yv = _mm512_maskz_loadu_pd(lm, y + k), vv = _mm512_maskz_loadu_pd(lm, v + k);
        const __mmask8 gt = _mm512_cmp_pd_mask(yv, zero, _CMP_GT_OQ);
        const __mmask8 nan = _mm512_cmp_pd_mask(yv, yv, _CMP_UNORD_Q);
        __m512d sk = kind == 0 ? _mm512_maskz_mov_pd(gt, one)
                   : kind == 1 ? _mm512_maskz_mov_pd(gt, yv)
                   : kind == 2 ? _mm512_maskz_sqrt_pd(gt, yv)
                   : _mm512_maskz_expand_pd(gt, _mm512_maskz_loadu_pd((__mmask8)((1u << CMF_SP_POPCNT(gt)) - 1u), pl + j));
        if (kind == 3) j += CMF_SP_POPCNT(gt);
        sk = _mm512_mask_mov_pd(sk, nan, yv);
        _mm512_mask_storeu_pd(s + k, lm, sk);
        sa = _mm512_add_pd(sa, sk);
        va = _mm512_mask3_fmadd_pd(sk, vv, va, gt | nan);
    }
    ss = _mm512_reduce_add_pd(sa);
    sv = _mm512_reduce_add_pd(va);
#else
#if defined(CMF_SP_AVX2)
    const __m256d zero = _mm256_setzero_pd(), one = _mm256_set1_pd(1.0);
    __m256d sa = zero, va = zero;
    for (; k + 4 <= n; k += 4) {
        const __m256d yv = _mm256_loadu_pd(y + k), vv = _mm256_loadu_pd(v + k);
        const __m256d gt = _mm256_cmp_pd(yv, zero, _CMP_GT_OQ);
        const __m256d nan = _mm256_cmp_pd(yv, yv, _CMP_UNORD_Q);
        __m256d sk = kind == 0 ? _mm256_and_pd(gt, one)
                   : kind == 1 ? _mm256_and_pd(gt, yv)
                   : kind == 2 ? _mm256_and_pd(gt, _mm256_sqrt_pd(yv))
                   : _mm256_and_pd(gt, _mm256_castps_pd(_mm256_permutevar8x32_ps(_mm256_castpd_ps(_mm256_loadu_pd(pl + j)),
                                       cmf_sp_perm(cmf_sp_lut_e4[_mm256_movemask_pd(gt)]))));
        if (kind == 3) j += CMF_SP_POPCNT(_mm256_movemask_pd(gt));
        sk = _mm256_blendv_pd(sk, yv, nan);
        _mm256_storeu_pd(s + k, sk);
        sa = _mm256_add_pd(sa, sk);
        va = _mm256_add_pd(va, _mm256_and_pd(_mm256_or_pd(gt, nan), _mm256_mul_pd(sk, vv)));
    }
    double b[2][4];
    _mm256_storeu_pd(b[0], sa);
    _mm256_storeu_pd(b[1], va);
    for (int j = 0; j < 4; j++) { ss += b[0][j]; sv += b[1][j]; }
#endif
    for (; k < n; k++) {
        const double yk = y[k];
        const double sk = yk > 0 ? (kind == 0 ? 1.0 : kind == 1 ? yk : kind == 2 ? sqrt(yk) : pl[j++])
                                 : (yk != yk ? yk : 0.0);
        s[k] = sk;
        ss += sk;
        sv += sk != 0 ? sk * v[k] : 0.0;
    }
#endif
    r[0] = ss;
    r[1] = sv;
}

static inline float cmf_sp_logu_f32(float u)
{
    const uint32_t b = cmf_bits_f32(u);
    float e = (float)(int32_t)((b >> 23) & 0xffu) - 126.0f;
    float m = cmf_from_bits_f32((b & 0x007fffffu) | 0x3f000000u);     /* [0.5, 1) */
    const int lo = m < 0.70710678f;
    e = lo ? e - 1.0f : e;
    const float x = lo ? m + m - 1.0f : m - 1.0f;
    const float z = x * x;
    float p = 7.0376836292e-2f;
    p = p * x - 1.1514610310e-1f;
    p = p * x + 1.1676998740e-1f;
    p = p * x - 1.2420140846e-1f;
    p = p * x + 1.4249322787e-1f;
    p = p * x - 1.6668057665e-1f;
    p = p * x + 2.0000714765e-1f;
    p = p * x - 2.4999993993e-1f;
    p = p * x + 3.3333331174e-1f;
    float y = x * (z * p);
    y += -2.12194440e-4f * e;
    y += -0.5f * z;
    return (x + y) + 0.693359375f * e;
}

static inline void cmf_sp_strip16_f32(ptrdiff_t n, const float *y, ptrdiff_t ldy, const double *tau, int quad,
                                      double r[80])
{
#if defined(CMF_SP_AVX512)
    const __m512d zero = _mm512_setzero_pd(), one = _mm512_set1_pd(1.0), inf = _mm512_set1_pd(INFINITY);
    const __m512d t0 = _mm512_loadu_pd(tau), t1 = _mm512_loadu_pd(tau + 8);
    const __m512d h0 = quad ? t0 : zero, h1 = quad ? t1 : zero;
    __m512d c0 = zero, c1 = zero, a0 = zero, a1 = zero, q0 = zero, q1 = zero, m0 = inf, m1 = inf, n0 = zero, n1 = zero;
    for (ptrdiff_t q = 0; q < n; q++) {
        const __m512 v = _mm512_loadu_ps(y + q * ldy);
        const __m512d z0 = _mm512_cvtps_pd(_mm512_castps512_ps256(v));
        const __m512d z1 = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
        const __mmask8 k0 = _mm512_cmp_pd_mask(z0, t0, _CMP_GT_OQ), k1 = _mm512_cmp_pd_mask(z1, t1, _CMP_GT_OQ);
        const __m512d u0 = _mm512_sub_pd(z0, h0), u1 = _mm512_sub_pd(z1, h1);
        c0 = _mm512_mask_add_pd(c0, k0, c0, one);
        c1 = _mm512_mask_add_pd(c1, k1, c1, one);
        a0 = _mm512_mask_add_pd(a0, k0, a0, u0);
        a1 = _mm512_mask_add_pd(a1, k1, a1, u1);
        if (quad) {
            q0 = _mm512_mask3_fmadd_pd(u0, u0, q0, k0);
            q1 = _mm512_mask3_fmadd_pd(u1, u1, q1, k1);
            m0 = _mm512_mask_min_pd(m0, k0, m0, u0);
            m1 = _mm512_mask_min_pd(m1, k1, m1, u1);
        }
        n0 = _mm512_mask_add_pd(n0, _mm512_cmp_pd_mask(z0, z0, _CMP_UNORD_Q), n0, one);
        n1 = _mm512_mask_add_pd(n1, _mm512_cmp_pd_mask(z1, z1, _CMP_UNORD_Q), n1, one);
    }
    _mm512_storeu_pd(r, c0); _mm512_storeu_pd(r + 8, c1);
    _mm512_storeu_pd(r + 16, a0); _mm512_storeu_pd(r + 24, a1);
    _mm512_storeu_pd(r + 32, q0); _mm512_storeu_pd(r + 40, q1);
    _mm512_storeu_pd(r + 48, m0); _mm512_storeu_pd(r + 56, m1);
    _mm512_storeu_pd(r + 64, n0); _mm512_storeu_pd(r + 72, n1);
#else
    for (int j = 0; j < 16; j++) { r[j] = r[16 + j] = r[32 + j] = r[64 + j] = 0.0; r[48 + j] = INFINITY; }
    for (ptrdiff_t q = 0; q < n; q++)
        for (int j = 0; j < 16; j++) {
            const double z = (double)y[q * ldy + j], u = quad ? z - tau[j] : z;
            if (z > tau[j]) {
                r[j] += 1.0; r[16 + j] += u; r[32 + j] += u * u;
                r[48 + j] = u < r[48 + j] ? u : r[48 + j];
            }
            r[64 + j] += z != z ? 1.0 : 0.0;
        }
#endif
}

static inline void cmf_sp_strip16_f64(ptrdiff_t n, const double *y, ptrdiff_t ldy, const double *tau, int quad,
                                      double r[80])
{
#if defined(CMF_SP_AVX512)
    const __m512d zero = _mm512_setzero_pd(), one = _mm512_set1_pd(1.0), inf = _mm512_set1_pd(INFINITY);
    const __m512d t0 = _mm512_loadu_pd(tau), t1 = _mm512_loadu_pd(tau + 8);
    const __m512d h0 = quad ? t0 : zero, h1 = quad ? t1 : zero;
    __m512d c0 = zero, c1 = zero, a0 = zero, a1 = zero, q0 = zero, q1 = zero, m0 = inf, m1 = inf, n0 = zero, n1 = zero;
    for (ptrdiff_t q = 0; q < n; q++) {
        const __m512d z0 = _mm512_loadu_pd(y + q * ldy), z1 = _mm512_loadu_pd(y + q * ldy + 8);
        const __mmask8 k0 = _mm512_cmp_pd_mask(z0, t0, _CMP_GT_OQ), k1 = _mm512_cmp_pd_mask(z1, t1, _CMP_GT_OQ);
        const __m512d u0 = _mm512_sub_pd(z0, h0), u1 = _mm512_sub_pd(z1, h1);
        c0 = _mm512_mask_add_pd(c0, k0, c0, one);
        c1 = _mm512_mask_add_pd(c1, k1, c1, one);
        a0 = _mm512_mask_add_pd(a0, k0, a0, u0);
        a1 = _mm512_mask_add_pd(a1, k1, a1, u1);
        if (quad) {
            q0 = _mm512_mask3_fmadd_pd(u0, u0, q0, k0);
            q1 = _mm512_mask3_fmadd_pd(u1, u1, q1, k1);
            m0 = _mm512_mask_min_pd(m0, k0, m0, u0);
            m1 = _mm512_mask_min_pd(m1, k1, m1, u1);
        }
        n0 = _mm512_mask_add_pd(n0, _mm512_cmp_pd_mask(z0, z0, _CMP_UNORD_Q), n0, one);
        n1 = _mm512_mask_add_pd(n1, _mm512_cmp_pd_mask(z1, z1, _CMP_UNORD_Q), n1, one);
    }
    _mm512_storeu_pd(r, c0); _mm512_storeu_pd(r + 8, c1);
    _mm512_storeu_pd(r + 16, a0); _mm512_storeu_pd(r + 24, a1);
    _mm512_storeu_pd(r + 32, q0); _mm512_storeu_pd(r + 40, q1);
    _mm512_storeu_pd(r + 48, m0); _mm512_storeu_pd(r + 56, m1);
    _mm512_storeu_pd(r + 64, n0); _mm512_storeu_pd(r + 72, n1);
#else
    for (int j = 0; j < 16; j++) { r[j] = r[16 + j] = r[32 + j] = r[64 + j] = 0.0; r[48 + j] = INFINITY; }
    for (ptrdiff_t q = 0; q < n; q++)
        for (int j = 0; j < 16; j++) {
            const double z = y[q * ldy + j], u = quad ? z - tau[j] : z;
            if (z > tau[j]) {
                r[j] += 1.0; r[16 + j] += u; r[32 + j] += u * u;
                r[48 + j] = u < r[48 + j] ? u : r[48 + j];
            }
            r[64 + j] += z != z ? 1.0 : 0.0;
        }
#endif
}

static inline int cmf_sp_step16(int quad, int first, double n, double *state, double *iters, double *tau,
                                const double *r)
{
#if defined(CMF_SP_AVX512)
    const __m512d zero = _mm512_setzero_pd(), one = _mm512_set1_pd(1.0);
    const __m512d three = _mm512_set1_pd(3.0), four = _mm512_set1_pd(4.0), lim = _mm512_set1_pd(quad ? 64.0 : n + 1.0);
    __mmask8 more = 0;
    for (int h = 0; h < 16; h += 8) {
        const __m512d st = _mm512_loadu_pd(state + h), t0 = _mm512_loadu_pd(tau + h);
        const __m512d it0 = _mm512_loadu_pd(iters + h), it1 = _mm512_add_pd(it0, one);
        const __m512d c = _mm512_loadu_pd(r + h), s1 = _mm512_loadu_pd(r + 16 + h);
        const __mmask8 live = _mm512_cmp_pd_mask(st, zero, _CMP_EQ_OQ);
        const __mmask8 nan = first ? _mm512_cmp_pd_mask(_mm512_loadu_pd(r + 64 + h), zero, _CMP_GT_OQ) : 0;
        __m512d ntau, nst;
        if (!quad) {
            const __m512d tn = _mm512_div_pd(_mm512_sub_pd(s1, one), c);
            const __mmask8 adv = _mm512_cmp_pd_mask(tn, t0, _CMP_GT_OQ) & _mm512_cmp_pd_mask(it1, lim, _CMP_LE_OQ);
            ntau = _mm512_mask_blend_pd(adv, t0, tn);
            nst = _mm512_mask_blend_pd(adv, one, zero);
        } else {
            const __m512d s2 = _mm512_loadu_pd(r + 32 + h), um = _mm512_loadu_pd(r + 48 + h);
            const __m512d rc = _mm512_div_pd(one, c), mu = _mm512_mul_pd(s1, rc);
            const __m512d e2 = _mm512_sub_pd(s2, one);
            const __m512d d = _mm512_fnmadd_pd(e2, rc, _mm512_mul_pd(mu, mu));
            const __m512d t1 = _mm512_sub_pd(mu, _mm512_sqrt_pd(_mm512_max_pd(d, zero)));
            const __mmask8 fin = _mm512_cmp_pd_mask(d, zero, _CMP_GE_OQ) & _mm512_cmp_pd_mask(um, t1, _CMP_GE_OQ);
            const __m512d tn = _mm512_add_pd(t0, _mm512_div_pd(_mm512_max_pd(e2, zero), _mm512_add_pd(s1, s1)));
            const __m512d tj = _mm512_sub_pd(_mm512_add_pd(t0, mu), _mm512_sqrt_pd(rc));
            const __m512d t2 = _mm512_max_pd(tn, tj);
            const __mmask8 prog = _mm512_cmp_pd_mask(t2, t0, _CMP_GT_OQ) & _mm512_cmp_pd_mask(it1, lim, _CMP_LT_OQ);
            ntau = _mm512_mask_blend_pd(fin, _mm512_mask_blend_pd(prog, t0, t2), _mm512_add_pd(t0, t1));
            nst = _mm512_mask_blend_pd(fin, _mm512_mask_blend_pd(prog, four, zero), one);
        }
        nst = _mm512_mask_blend_pd(nan, nst, three);
        _mm512_storeu_pd(tau + h, _mm512_mask_blend_pd(live, t0, ntau));
        _mm512_storeu_pd(state + h, _mm512_mask_blend_pd(live, st, nst));
        _mm512_storeu_pd(iters + h, _mm512_mask_blend_pd(live & (__mmask8)~nan, it0, it1));
        more |= live & _mm512_cmp_pd_mask(nst, zero, _CMP_EQ_OQ);
    }
    return more != 0;
#else
    int more = 0;
    for (int j = 0; j < 16; j++) {
        if (state[j] != 0.0) continue;
        if (first && r[64 + j] > 0) { state[j] = 3.0; continue; }
        const double t0 = tau[j], it1 = iters[j] + 1.0, c = r[j], s1 = r[16 + j];
        iters[j] = it1;
        if (!quad) {
            const double tn = (s1 - 1.0) / c;
            if (tn > t0 && it1 <= n + 1.0) { tau[j] = tn; more = 1; }
            else state[j] = 1.0;
        } else {
            const double s2 = r[32 + j], um = r[48 + j];
            const double mu = s1 / c, d = mu * mu - (s2 - 1.0) / c;
            const double t1 = mu - sqrt(d > 0 ? d : 0.0);
            if (d >= 0 && um >= t1) { tau[j] = t0 + t1; state[j] = 1.0; continue; }
            const double tn = t0 + (s2 > 1.0 ? s2 - 1.0 : 0.0) / (2.0 * s1);
            const double tj = t0 + mu - sqrt(1.0 / c);
            const double t2 = tn > tj ? tn : tj;
            if (t2 > t0 && it1 < 64.0) { tau[j] = t2; more = 1; }
            else state[j] = 4.0;
        }
    }
    return more;
#endif
}

#if defined(CMF_SP_AVX512)
static inline void cmf_sp_tr16_f32(const float *src, ptrdiff_t lds, float *dst, ptrdiff_t ldd)
{
    __m512 r[16], t[16];
    for (int i = 0; i < 16; i++) r[i] = _mm512_loadu_ps(src + i * lds);
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; i++) {
        r[4 * i] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(1, 0, 1, 0));
        r[4 * i + 1] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(3, 2, 3, 2));
        r[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(1, 0, 1, 0));
        r[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int k = 0; k < 4; k++) {
        t[k] = _mm512_shuffle_f32x4(r[k], r[4 + k], 0x88);
        t[4 + k] = _mm512_shuffle_f32x4(r[k], r[4 + k], 0xDD);
        t[8 + k] = _mm512_shuffle_f32x4(r[8 + k], r[12 + k], 0x88);
        t[12 + k] = _mm512_shuffle_f32x4(r[8 + k], r[12 + k], 0xDD);
    }
    for (int k = 0; k < 4; k++) {
        r[k] = _mm512_shuffle_f32x4(t[k], t[8 + k], 0x88);
        r[8 + k] = _mm512_shuffle_f32x4(t[k], t[8 + k], 0xDD);
        r[4 + k] = _mm512_shuffle_f32x4(t[4 + k], t[12 + k], 0x88);
        r[12 + k] = _mm512_shuffle_f32x4(t[4 + k], t[12 + k], 0xDD);
    }
    for (int i = 0; i < 16; i++) _mm512_storeu_ps(dst + i * ldd, r[i]);
}
static inline void cmf_sp_tr8_f64(const double *src, ptrdiff_t lds, double *dst, ptrdiff_t ldd)
{
    __m512d r[8], t[8];
    for (int i = 0; i < 8; i++) r[i] = _mm512_loadu_pd(src + i * lds);
    for (int i = 0; i < 4; i++) {
        t[2 * i] = _mm512_unpacklo_pd(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_pd(r[2 * i], r[2 * i + 1]);
    }
    for (int k = 0; k < 2; k++) {
        r[k] = _mm512_shuffle_f64x2(t[k], t[2 + k], 0x88);
        r[2 + k] = _mm512_shuffle_f64x2(t[k], t[2 + k], 0xDD);
        r[4 + k] = _mm512_shuffle_f64x2(t[4 + k], t[6 + k], 0x88);
        r[6 + k] = _mm512_shuffle_f64x2(t[4 + k], t[6 + k], 0xDD);
    }
    for (int k = 0; k < 2; k++) {
        t[k] = _mm512_shuffle_f64x2(r[k], r[4 + k], 0x88);
        t[4 + k] = _mm512_shuffle_f64x2(r[k], r[4 + k], 0xDD);
        t[2 + k] = _mm512_shuffle_f64x2(r[2 + k], r[6 + k], 0x88);
        t[6 + k] = _mm512_shuffle_f64x2(r[2 + k], r[6 + k], 0xDD);
    }
    for (int i = 0; i < 8; i++) _mm512_storeu_pd(dst + i * ldd, t[i]);
}
#endif
#if defined(CMF_SP_AVX512) || defined(CMF_SP_AVX2)
static inline void cmf_sp_tr8_f32(const float *src, ptrdiff_t lds, float *dst, ptrdiff_t ldd)
{
    __m256 r[8], t[8];
    for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(src + i * lds);
    for (int i = 0; i < 4; i++) {
        t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 2; i++) {
        r[4 * i] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(1, 0, 1, 0));
        r[4 * i + 1] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(3, 2, 3, 2));
        r[4 * i + 2] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(1, 0, 1, 0));
        r[4 * i + 3] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int k = 0; k < 4; k++) {
        t[k] = _mm256_permute2f128_ps(r[k], r[4 + k], 0x20);
        t[4 + k] = _mm256_permute2f128_ps(r[k], r[4 + k], 0x31);
    }
    for (int i = 0; i < 8; i++) _mm256_storeu_ps(dst + i * ldd, t[i]);
}
static inline void cmf_sp_tr4_f64(const double *src, ptrdiff_t lds, double *dst, ptrdiff_t ldd)
{
    __m256d r[4], t[4];
    for (int i = 0; i < 4; i++) r[i] = _mm256_loadu_pd(src + i * lds);
    t[0] = _mm256_unpacklo_pd(r[0], r[1]); t[1] = _mm256_unpackhi_pd(r[0], r[1]);
    t[2] = _mm256_unpacklo_pd(r[2], r[3]); t[3] = _mm256_unpackhi_pd(r[2], r[3]);
    r[0] = _mm256_permute2f128_pd(t[0], t[2], 0x20); r[1] = _mm256_permute2f128_pd(t[1], t[3], 0x20);
    r[2] = _mm256_permute2f128_pd(t[0], t[2], 0x31); r[3] = _mm256_permute2f128_pd(t[1], t[3], 0x31);
    for (int i = 0; i < 4; i++) _mm256_storeu_pd(dst + i * ldd, r[i]);
}
#endif

static inline void cmf_sp_transpose_f32(ptrdiff_t nr, ptrdiff_t nc, const float *src, ptrdiff_t lds, float *dst,
                                        ptrdiff_t ldd)
{
#if defined(CMF_SP_AVX512)
    const ptrdiff_t W = 16;
#elif defined(CMF_SP_AVX2)
    const ptrdiff_t W = 8;
#else
    const ptrdiff_t W = 1;
#endif
    const ptrdiff_t nr0 = nr - nr % W, nc0 = nc - nc % W;
    /* tiles in the order that walks the array with the longer rows along its rows (each
     * of its lines used at once; a power-of-two row spacing keeps lines in few cache sets) */
    const int rows_outer = lds >= ldd;
    for (ptrdiff_t a = 0; a < (rows_outer ? nr0 : nc0); a += W)
        for (ptrdiff_t b = 0; b < (rows_outer ? nc0 : nr0); b += W) {
            const ptrdiff_t i0 = rows_outer ? a : b, j0 = rows_outer ? b : a;
#if defined(CMF_SP_AVX512) || defined(CMF_SP_AVX2)
            if (rows_outer && i0 + 2 * W <= nr0)   /* the next rows of a far-strided input */
                for (ptrdiff_t q = 0; q < W; q++)
                    _mm_prefetch((const char *)(src + (i0 + W + q) * lds + j0), _MM_HINT_T0);
#endif
#if defined(CMF_SP_AVX512)
            cmf_sp_tr16_f32(src + i0 * lds + j0, lds, dst + j0 * ldd + i0, ldd);
#elif defined(CMF_SP_AVX2)
            cmf_sp_tr8_f32(src + i0 * lds + j0, lds, dst + j0 * ldd + i0, ldd);
#else
            dst[j0 * ldd + i0] = src[i0 * lds + j0];
#endif
        }
    for (ptrdiff_t i = nr0; i < nr; i++)            /* the edges */
        for (ptrdiff_t j = 0; j < nc; j++) dst[j * ldd + i] = src[i * lds + j];
    for (ptrdiff_t i = 0; i < nr0; i++)
        for (ptrdiff_t j = nc0; j < nc; j++) dst[j * ldd + i] = src[i * lds + j];
}

static inline void cmf_sp_transpose_f64(ptrdiff_t nr, ptrdiff_t nc, const double *src, ptrdiff_t lds, double *dst,
                                        ptrdiff_t ldd)
{
#if defined(CMF_SP_AVX512)
    const ptrdiff_t W = 8;
#elif defined(CMF_SP_AVX2)
    const ptrdiff_t W = 4;
#else
    const ptrdiff_t W = 1;
#endif
    const ptrdiff_t nr0 = nr - nr % W, nc0 = nc - nc % W;
    /* tiles in the order that walks the array with the longer rows along its rows (each
     * of its lines used at once; a power-of-two row spacing keeps lines in few cache sets) */
    const int rows_outer = lds >= ldd;
    for (ptrdiff_t a = 0; a < (rows_outer ? nr0 : nc0); a += W)
        for (ptrdiff_t b = 0; b < (rows_outer ? nc0 : nr0); b += W) {
            const ptrdiff_t i0 = rows_outer ? a : b, j0 = rows_outer ? b : a;
#if defined(CMF_SP_AVX512) || defined(CMF_SP_AVX2)
            if (rows_outer && i0 + 2 * W <= nr0)   /* the next rows of a far-strided input */
                for (ptrdiff_t q = 0; q < W; q++)
                    _mm_prefetch((const char *)(src + (i0 + W + q) * lds + j0), _MM_HINT_T0);
#endif
#if defined(CMF_SP_AVX512)
            cmf_sp_tr8_f64(src + i0 * lds + j0, lds, dst + j0 * ldd + i0, ldd);
#elif defined(CMF_SP_AVX2)
            cmf_sp_tr4_f64(src + i0 * lds + j0, lds, dst + j0 * ldd + i0, ldd);
#else
            dst[j0 * ldd + i0] = src[i0 * lds + j0];
#endif
        }
    for (ptrdiff_t i = nr0; i < nr; i++)            /* the edges */
        for (ptrdiff_t j = 0; j < nc; j++) dst[j * ldd + i] = src[i * lds + j];
    for (ptrdiff_t i = 0; i < nr0; i++)
        for (ptrdiff_t j = nc0; j < nc; j++) dst[j * ldd + i] = src[i * lds + j];
}

static inline void cmf_sp_expand_f32(ptrdiff_t n, const float *z, float *y, float lo, const float *pc)
{
    ptrdiff_t k = 0, j = 0;
#if defined(CMF_SP_AVX512)
    const __m512 vl = _mm512_set1_ps(lo);
    for (; k + 16 <= n; k += 16) {
        const __mmask16 c = _mm512_cmp_ps_mask(_mm512_loadu_ps(z + k), vl, _CMP_GE_OQ);
        _mm512_storeu_ps(y + k, _mm512_maskz_expand_ps(c, _mm512_loadu_ps(pc + j)));
        j += CMF_SP_POPCNT(c);
    }
#elif defined(CMF_SP_AVX2)
    const __m256 vl = _mm256_set1_ps(lo);
    for (; k + 8 <= n; k += 8) {
        const __m256 on = _mm256_cmp_ps(_mm256_loadu_ps(z + k), vl, _CMP_GE_OQ);
        const int c = _mm256_movemask_ps(on);
        const __m256 p = _mm256_permutevar8x32_ps(_mm256_loadu_ps(pc + j), cmf_sp_perm(cmf_sp_lut_e8[c]));
        _mm256_storeu_ps(y + k, _mm256_and_ps(p, on));
        j += CMF_SP_POPCNT(c);
    }
#endif
    for (; k < n; k++) {
        const int on = z[k] >= lo;
        y[k] = on ? pc[j] : 0.0f;
        j += on;
    }
}

static inline void cmf_sp_expand_f64(ptrdiff_t n, const double *z, double *y, double lo, const double *pc)
{
    ptrdiff_t k = 0, j = 0;
#if defined(CMF_SP_AVX512)
    const __m512d vl = _mm512_set1_pd(lo);
    for (; k + 8 <= n; k += 8) {
        const __mmask8 c = _mm512_cmp_pd_mask(_mm512_loadu_pd(z + k), vl, _CMP_GE_OQ);
        _mm512_storeu_pd(y + k, _mm512_maskz_expand_pd(c, _mm512_loadu_pd(pc + j)));
        j += CMF_SP_POPCNT(c);
    }
#elif defined(CMF_SP_AVX2)
    const __m256d vl = _mm256_set1_pd(lo);
    for (; k + 4 <= n; k += 4) {
        const __m256d on = _mm256_cmp_pd(_mm256_loadu_pd(z + k), vl, _CMP_GE_OQ);
        const int c = _mm256_movemask_pd(on);
        const __m256 p = _mm256_permutevar8x32_ps(_mm256_castpd_ps(_mm256_loadu_pd(pc + j)),
                                                  cmf_sp_perm(cmf_sp_lut_e4[c]));
        _mm256_storeu_pd(y + k, _mm256_and_pd(_mm256_castps_pd(p), on));
        j += CMF_SP_POPCNT(c);
    }
#endif
    for (; k < n; k++) {
        const int on = z[k] >= lo;
        y[k] = on ? pc[j] : 0.0;
        j += on;
    }
}

#endif
