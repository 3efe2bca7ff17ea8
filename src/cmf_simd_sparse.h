/* cmf_simd_sparse.h: the vector main loops of the sparse family's passes that compilers
 * do not vectorise (stream compaction and its inverse, masked sums), as small static-inline
 * functions for float and double; the scalar tails and the plain-C paths are written once,
 * in sparse.tmpl.c.  Each `_v` function runs its loop over whole vectors from the start
 * and returns how many entries it has done (0 where the instruction set has no such
 * loop), its counts and sums so far through its pointer arguments.  AVX-512 uses the
 * register forms of vcompressps / vexpandps (the memory forms are microcoded on Zen 4)
 * with full-width stores; AVX2 a permutation looked up from the lane mask; SSE2 (the x86
 * baseline) vectorises what it can around a scalar compaction.  Every path keeps the
 * order of the entries and computes the same z, so the results do not depend on the path
 * beyond the rounding of later sums.
 *
 *   cmf_sp_compact_v_*(n, x, m, sc, lo, z, zs, na, nan)  z_k = (x_k - m) * sc into z (which
 *       may be x itself), the z_k > lo in order appended to zs at *na; *nan |= (an x_k is
 *       NaN).  zs needs room for n values (full-width stores never pass the entries already
 *       read).  The later passes read z, not x: a product recomputed there could be
 *       contracted into an FMA with what follows, and differ.
 *   cmf_sp_filter_v_*(n, z, d, lo, na)   the z_k >= lo, in order, appended to d (may be z).
 *   cmf_sp_expand_v_*(n, z, y, lo, pc, j)   the inverse: y_k = pc[j++] where z_k >= lo, else
 *       0 (y may be z); pc is read full-width (room for n values).
 *   cmf_sp_sums_v_*(n, z, t, sh, quad, r)   over the z_k > t, with u = z_k - sh in double:
 *       r[0] += count, r[1] += sum u, and when `quad` r[2] += sum u^2, r[3] = min(r[3], min
 *       u) (the threshold passes of sparsemax and 1.5-entmax).
 *   cmf_sp_vgather_v_*(n, y, v, yl, vl, mb, na)   the sparse VJPs' pass over memory, by
 *       groups of 16 entries: the support {y_k > 0 or NaN} appended in order to yl (y_k)
 *       and vl (v_k) at *na, the group's lane mask into mb[k / 16].  Stops at a group's
 *       start.
 *   cmf_sp_vscatter_v_*(n, mb, res, r, j)   the inverse: r_k = res[(*j)++] on the lanes
 *       of the groups' masks, 0 elsewhere (full-width stores: r is written once, in order).
 *   cmf_sp_strip16_v_*(n, y, ldy, tau, quad, r)   the column kernels' pass over a strip of
 *       16 lanes (lane j: y[q * ldy + j], q < n) against thresholds tau[16]: r[0..16)
 *       count, r[16..32) sum u, r[32..48) sum u^2, r[48..64) min u over the z > tau[j]
 *       (u = z - tau[j] when `quad`, else z), r[64..80) the number of NaN; returns 0
 *       where it has no vector form.
 *   cmf_sp_step16(quad, first, n, state, iters, tau, r)   one step of the 16 lanes whose
 *       state is 0 from those sums (sparsemax: Michelot's; 1.5-entmax: the exact closed
 *       form, else Newton / Jensen), as the row kernels' steps; returns whether a lane
 *       goes on.  State: 0 iterating, 1 settled, 3 NaN, 4 stuck (rounding).
 *   cmf_sp_logu_f32(u)              log u for u in (0, 1] (Cephes' logf polynomial, no
 *       division; plain C for the vectoriser; about 1 ULP).
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


/* ---- stream compaction ---- */

static inline ptrdiff_t cmf_sp_compact_v_f32(ptrdiff_t n, const float *x, float m, float sc, float lo,
                                             float *z_all, float *zs, ptrdiff_t *na_, int *nan)
{
    ptrdiff_t k = 0, na = *na_;
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
    *nan |= nn != 0;
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
    *nan |= _mm256_movemask_ps(nn) != 0;
#elif defined(CMF_HAVE_SSE2)
    /* z and the NaN test in 4 lanes; the compaction itself scalar from the lane mask */
    const __m128 vm = _mm_set1_ps(m), vs = _mm_set1_ps(sc), vl = _mm_set1_ps(lo);
    __m128 nn = _mm_setzero_ps();
    for (; k + 4 <= n; k += 4) {
        const __m128 v = _mm_loadu_ps(x + k);
        const __m128 z = _mm_mul_ps(_mm_sub_ps(v, vm), vs);
        const int c = _mm_movemask_ps(_mm_cmpgt_ps(z, vl));
        nn = _mm_or_ps(nn, _mm_cmpunord_ps(v, v));
        _mm_storeu_ps(z_all + k, z);
        for (int q = 0; q < 4; q++) { zs[na] = z_all[k + q]; na += (c >> q) & 1; }
    }
    *nan |= _mm_movemask_ps(nn) != 0;
#endif
    *na_ = na;
    return k;
}

static inline ptrdiff_t cmf_sp_compact_v_f64(ptrdiff_t n, const double *x, double m, double sc, double lo,
                                             double *z_all, double *zs, ptrdiff_t *na_, int *nan)
{
    ptrdiff_t k = 0, na = *na_;
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
    *nan |= nn != 0;
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
    *nan |= _mm256_movemask_pd(nn) != 0;
#elif defined(CMF_HAVE_SSE2)
    const __m128d vm = _mm_set1_pd(m), vs = _mm_set1_pd(sc), vl = _mm_set1_pd(lo);
    __m128d nn = _mm_setzero_pd();
    for (; k + 2 <= n; k += 2) {
        const __m128d v = _mm_loadu_pd(x + k);
        const __m128d z = _mm_mul_pd(_mm_sub_pd(v, vm), vs);
        const int c = _mm_movemask_pd(_mm_cmpgt_pd(z, vl));
        nn = _mm_or_pd(nn, _mm_cmpunord_pd(v, v));
        _mm_storeu_pd(z_all + k, z);
        for (int q = 0; q < 2; q++) { zs[na] = z_all[k + q]; na += (c >> q) & 1; }
    }
    *nan |= _mm_movemask_pd(nn) != 0;
#endif
    *na_ = na;
    return k;
}

static inline ptrdiff_t cmf_sp_filter_v_f32(ptrdiff_t n, const float *z, float *d, float lo, ptrdiff_t *na_)
{
    ptrdiff_t k = 0, na = *na_;
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
#elif defined(CMF_HAVE_SSE2)
    const __m128 vl = _mm_set1_ps(lo);
    for (; k + 4 <= n; k += 4) {
        const __m128 v = _mm_loadu_ps(z + k);
        const int c = _mm_movemask_ps(_mm_cmpge_ps(v, vl));
        float b[4];
        _mm_storeu_ps(b, v);                       /* (d may be z) */
        for (int q = 0; q < 4; q++) { d[na] = b[q]; na += (c >> q) & 1; }
    }
#endif
    *na_ = na;
    return k;
}

static inline ptrdiff_t cmf_sp_filter_v_f64(ptrdiff_t n, const double *z, double *d, double lo, ptrdiff_t *na_)
{
    ptrdiff_t k = 0, na = *na_;
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
    *na_ = na;
    return k;
}

static inline ptrdiff_t cmf_sp_expand_v_f32(ptrdiff_t n, const float *z, float *y, float lo, const float *pc,
                                            ptrdiff_t *j_)
{
    ptrdiff_t k = 0, j = *j_;
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
    *j_ = j;
    return k;
}

static inline ptrdiff_t cmf_sp_expand_v_f64(ptrdiff_t n, const double *z, double *y, double lo, const double *pc,
                                            ptrdiff_t *j_)
{
    ptrdiff_t k = 0, j = *j_;
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
    *j_ = j;
    return k;
}

/* ---- masked sums ---- */

#if defined(CMF_SP_AVX512)
/* the sums of cmf_sp_sums_v_* for 8 double lanes z (a mask of valid lanes lm) */
static inline void cmf_sp_sums8(__m512d z, __mmask8 lm, __m512d vt, __m512d vs, int quad, __m512d *c, __m512d *a,
                                __m512d *q, __m512d *mn)
{
    const __mmask8 m = _mm512_cmp_pd_mask(z, vt, _CMP_GT_OQ) & lm;
    const __m512d u = _mm512_sub_pd(z, vs);
    *c = _mm512_mask_add_pd(*c, m, *c, _mm512_set1_pd(1.0));
    *a = _mm512_mask_add_pd(*a, m, *a, u);
    if (quad) {
        *q = _mm512_mask3_fmadd_pd(u, u, *q, m);
        *mn = _mm512_mask_min_pd(*mn, m, *mn, u);
    }
}
static inline void cmf_sp_sums_out(double r[4], __m512d c, __m512d a, __m512d q, __m512d mn)
{
    const double m = _mm512_reduce_min_pd(mn);
    r[0] += _mm512_reduce_add_pd(c);
    r[1] += _mm512_reduce_add_pd(a);
    r[2] += _mm512_reduce_add_pd(q);
    r[3] = m < r[3] ? m : r[3];
}
#elif defined(CMF_SP_AVX2)
static inline void cmf_sp_sums4(__m256d z, __m256d vt, __m256d vs, int quad, __m256d *c, __m256d *a, __m256d *q,
                                __m256d *mn)
{
    const __m256d on = _mm256_cmp_pd(z, vt, _CMP_GT_OQ);
    const __m256d uk = _mm256_and_pd(on, _mm256_sub_pd(z, vs));
    *c = _mm256_add_pd(*c, _mm256_and_pd(on, _mm256_set1_pd(1.0)));
    *a = _mm256_add_pd(*a, uk);
    if (quad) {
        *q = _mm256_fmadd_pd(uk, uk, *q);
        *mn = _mm256_min_pd(*mn, _mm256_blendv_pd(_mm256_set1_pd(INFINITY), uk, on));
    }
}
#elif defined(CMF_HAVE_SSE2)
static inline void cmf_sp_sums2(__m128d z, __m128d vt, __m128d vs, int quad, __m128d *c, __m128d *a, __m128d *q,
                                __m128d *mn)
{
    const __m128d on = _mm_cmpgt_pd(z, vt), uk = _mm_and_pd(on, _mm_sub_pd(z, vs));
    *c = _mm_add_pd(*c, _mm_and_pd(on, _mm_set1_pd(1.0)));
    *a = _mm_add_pd(*a, uk);
    if (quad) {
        *q = _mm_add_pd(*q, _mm_mul_pd(uk, uk));
        *mn = _mm_min_pd(*mn, _mm_or_pd(uk, _mm_andnot_pd(on, _mm_set1_pd(INFINITY))));
    }
}
#endif
#if defined(CMF_SP_AVX2) || (defined(CMF_HAVE_SSE2) && !defined(CMF_SP_AVX512))
/* lanes of vector sums into r (as cmf_sp_sums_out) */
static inline void cmf_sp_sums_lanes(double r[4], const double *c, const double *a, const double *q, const double *mn,
                                     int L)
{
    for (int j = 0; j < L; j++) {
        r[0] += c[j]; r[1] += a[j]; r[2] += q[j];
        r[3] = mn[j] < r[3] ? mn[j] : r[3];
    }
}
#endif

static inline ptrdiff_t cmf_sp_sums_v_f32(ptrdiff_t n, const float *z, double t, double sh, int quad, double r[4])
{
    ptrdiff_t k = 0;
#if defined(CMF_SP_AVX512)
    const __m512d vt = _mm512_set1_pd(t), vs = _mm512_set1_pd(sh), zero = _mm512_setzero_pd();
    __m512d ca = zero, ua = zero, qa = zero, ma = _mm512_set1_pd(INFINITY);
    __m512d cb = zero, ub = zero, qb = zero, mb = ma;       /* the upper halves: no chain */
    for (; k < n; k += 16) {                                 /* (the tail: masked loads) */
        const ptrdiff_t rem = n - k;
        const __mmask16 lm = rem >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << rem) - 1u);
        const __m512 v = _mm512_maskz_loadu_ps(lm, z + k);
        cmf_sp_sums8(_mm512_cvtps_pd(_mm512_castps512_ps256(v)), (__mmask8)lm, vt, vs, quad, &ca, &ua, &qa, &ma);
        cmf_sp_sums8(_mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1))),
                     (__mmask8)(lm >> 8), vt, vs, quad, &cb, &ub, &qb, &mb);
    }
    cmf_sp_sums_out(r, _mm512_add_pd(ca, cb), _mm512_add_pd(ua, ub), _mm512_add_pd(qa, qb), _mm512_min_pd(ma, mb));
    k = n;
#elif defined(CMF_SP_AVX2)
    const __m256d vt = _mm256_set1_pd(t), vs = _mm256_set1_pd(sh), zero = _mm256_setzero_pd();
    __m256d ca = zero, ua = zero, qa = zero, ma = _mm256_set1_pd(INFINITY);
    for (; k + 4 <= n; k += 4) cmf_sp_sums4(_mm256_cvtps_pd(_mm_loadu_ps(z + k)), vt, vs, quad, &ca, &ua, &qa, &ma);
    double b[4][4];
    _mm256_storeu_pd(b[0], ca); _mm256_storeu_pd(b[1], ua); _mm256_storeu_pd(b[2], qa); _mm256_storeu_pd(b[3], ma);
    cmf_sp_sums_lanes(r, b[0], b[1], b[2], b[3], 4);
#elif defined(CMF_HAVE_SSE2)
    const __m128d vt = _mm_set1_pd(t), vs = _mm_set1_pd(sh), zero = _mm_setzero_pd();
    __m128d ca = zero, ua = zero, qa = zero, ma = _mm_set1_pd(INFINITY);
    for (; k + 2 <= n; k += 2)
        cmf_sp_sums2(_mm_cvtps_pd(_mm_castsi128_ps(_mm_loadl_epi64((const __m128i *)(z + k)))), vt, vs, quad,
                     &ca, &ua, &qa, &ma);
    double b[4][2];
    _mm_storeu_pd(b[0], ca); _mm_storeu_pd(b[1], ua); _mm_storeu_pd(b[2], qa); _mm_storeu_pd(b[3], ma);
    cmf_sp_sums_lanes(r, b[0], b[1], b[2], b[3], 2);
#endif
    return k;
}

static inline ptrdiff_t cmf_sp_sums_v_f64(ptrdiff_t n, const double *z, double t, double sh, int quad, double r[4])
{
    ptrdiff_t k = 0;
#if defined(CMF_SP_AVX512)
    const __m512d vt = _mm512_set1_pd(t), vs = _mm512_set1_pd(sh), zero = _mm512_setzero_pd();
    __m512d ca = zero, ua = zero, qa = zero, ma = _mm512_set1_pd(INFINITY);
    for (; k < n; k += 8) {
        const ptrdiff_t rem = n - k;
        const __mmask8 lm = rem >= 8 ? (__mmask8)0xFF : (__mmask8)((1u << rem) - 1u);
        cmf_sp_sums8(_mm512_maskz_loadu_pd(lm, z + k), lm, vt, vs, quad, &ca, &ua, &qa, &ma);
    }
    cmf_sp_sums_out(r, ca, ua, qa, ma);
    k = n;
#elif defined(CMF_SP_AVX2)
    const __m256d vt = _mm256_set1_pd(t), vs = _mm256_set1_pd(sh), zero = _mm256_setzero_pd();
    __m256d ca = zero, ua = zero, qa = zero, ma = _mm256_set1_pd(INFINITY);
    for (; k + 4 <= n; k += 4) cmf_sp_sums4(_mm256_loadu_pd(z + k), vt, vs, quad, &ca, &ua, &qa, &ma);
    double b[4][4];
    _mm256_storeu_pd(b[0], ca); _mm256_storeu_pd(b[1], ua); _mm256_storeu_pd(b[2], qa); _mm256_storeu_pd(b[3], ma);
    cmf_sp_sums_lanes(r, b[0], b[1], b[2], b[3], 4);
#elif defined(CMF_HAVE_SSE2)
    const __m128d vt = _mm_set1_pd(t), vs = _mm_set1_pd(sh), zero = _mm_setzero_pd();
    __m128d ca = zero, ua = zero, qa = zero, ma = _mm_set1_pd(INFINITY);
    for (; k + 2 <= n; k += 2) cmf_sp_sums2(_mm_loadu_pd(z + k), vt, vs, quad, &ca, &ua, &qa, &ma);
    double b[4][2];
    _mm_storeu_pd(b[0], ca); _mm_storeu_pd(b[1], ua); _mm_storeu_pd(b[2], qa); _mm_storeu_pd(b[3], ma);
    cmf_sp_sums_lanes(r, b[0], b[1], b[2], b[3], 2);
#endif
    return k;
}

/* ---- the VJPs' support gather and its inverse ---- */

#if defined(CMF_SP_AVX512)
static inline __mmask16 cmf_sp_tailm16(ptrdiff_t rem) { return rem >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << rem) - 1u); }
static inline __mmask16 cmf_sp_popm(unsigned pc) { return (__mmask16)((1u << pc) - 1u); }
#elif defined(CMF_SP_AVX2)
/* lanes of c (8 bits) as an all-ones / zero 32-bit lane mask */
static inline __m256i cmf_sp_bits8(unsigned c)
{
    const __m256i b = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
    return _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32((int)c), b), b);
}
#endif

static inline ptrdiff_t cmf_sp_vgather_v_f32(ptrdiff_t n, const float *y, const float *v, float *yl,
                                             float *vl, uint16_t *mb, ptrdiff_t *na_)
{
    ptrdiff_t k = 0, na = *na_;
#if defined(CMF_SP_AVX512)
    /* branch-free (a branch on y waits for y from memory) */
    const __m512 zero = _mm512_setzero_ps();
    for (; k + 16 <= n; k += 16) {
        const __m512 yv = _mm512_loadu_ps(y + k), vv = _mm512_loadu_ps(v + k);
        const __mmask16 c = _mm512_cmp_ps_mask(yv, zero, _CMP_GT_OQ) | _mm512_cmp_ps_mask(yv, yv, _CMP_UNORD_Q);
        mb[k >> 4] = (uint16_t)c;
        _mm512_storeu_ps(yl + na, _mm512_maskz_compress_ps(c, yv));   /* (na + 16 <= k + 16) */
        _mm512_storeu_ps(vl + na, _mm512_maskz_compress_ps(c, vv));
        na += CMF_SP_POPCNT(c);
    }
    if (k < n) {                                           /* the tail: masked */
        const __mmask16 lm = cmf_sp_tailm16(n - k);
        const __m512 yv = _mm512_maskz_loadu_ps(lm, y + k), vv = _mm512_maskz_loadu_ps(lm, v + k);
        const __mmask16 c = _mm512_cmp_ps_mask(yv, zero, _CMP_GT_OQ) | _mm512_cmp_ps_mask(yv, yv, _CMP_UNORD_Q);
        const __mmask16 pm = cmf_sp_popm((unsigned)CMF_SP_POPCNT(c));
        mb[k >> 4] = (uint16_t)c;
        _mm512_mask_storeu_ps(yl + na, pm, _mm512_maskz_compress_ps(c, yv));
        _mm512_mask_storeu_ps(vl + na, pm, _mm512_maskz_compress_ps(c, vv));
        na += CMF_SP_POPCNT(c);
        k = n;
    }
#elif defined(CMF_SP_AVX2)
    const __m256 zero = _mm256_setzero_ps();
    for (; k + 16 <= n; k += 16) {                   /* (full-width stores stay below k + 16) */
        unsigned cc = 0;
        for (int h = 0; h < 16; h += 8) {
            const __m256 yv = _mm256_loadu_ps(y + k + h), vv = _mm256_loadu_ps(v + k + h);
            const unsigned c = (unsigned)_mm256_movemask_ps(_mm256_or_ps(_mm256_cmp_ps(yv, zero, _CMP_GT_OQ),
                                                                        _mm256_cmp_ps(yv, yv, _CMP_UNORD_Q)));
            const __m256i pm = cmf_sp_perm(cmf_sp_lut_c8[c]);
            _mm256_storeu_ps(yl + na, _mm256_permutevar8x32_ps(yv, pm));
            _mm256_storeu_ps(vl + na, _mm256_permutevar8x32_ps(vv, pm));
            na += CMF_SP_POPCNT(c);
            cc |= c << h;
        }
        mb[k >> 4] = (uint16_t)cc;
    }
#else
    (void)y; (void)v; (void)yl; (void)vl; (void)mb;
#endif
    *na_ = na;
    return k;
}

static inline ptrdiff_t cmf_sp_vgather_v_f64(ptrdiff_t n, const double *y, const double *v, double *yl,
                                             double *vl, uint16_t *mb, ptrdiff_t *na_)
{
    ptrdiff_t k = 0, na = *na_;
#if defined(CMF_SP_AVX512)
    const __m512d zero = _mm512_setzero_pd();
    for (; k < n; k += 16) {                    /* (masked: the stores stay below k + 16) */
        const __mmask16 lm = cmf_sp_tailm16(n - k);
        unsigned cc = 0;
        for (int h = 0; h < 16; h += 8) {
            const __mmask8 lh = (__mmask8)(lm >> h);
            const __m512d yv = _mm512_maskz_loadu_pd(lh, y + k + h), vv = _mm512_maskz_loadu_pd(lh, v + k + h);
            const __mmask8 c = _mm512_cmp_pd_mask(yv, zero, _CMP_GT_OQ) | _mm512_cmp_pd_mask(yv, yv, _CMP_UNORD_Q);
            const __mmask8 pm = (__mmask8)cmf_sp_popm((unsigned)CMF_SP_POPCNT(c));
            _mm512_mask_storeu_pd(yl + na, pm, _mm512_maskz_compress_pd(c, yv));
            _mm512_mask_storeu_pd(vl + na, pm, _mm512_maskz_compress_pd(c, vv));
            na += CMF_SP_POPCNT(c);
            cc |= (unsigned)c << h;
        }
        mb[k >> 4] = (uint16_t)cc;
    }
#elif defined(CMF_SP_AVX2)
    const __m256d zero = _mm256_setzero_pd();
    for (; k + 16 <= n; k += 16) {
        unsigned cc = 0;
        for (int h = 0; h < 16; h += 4) {
            const __m256d yv = _mm256_loadu_pd(y + k + h), vv = _mm256_loadu_pd(v + k + h);
            const unsigned c = (unsigned)_mm256_movemask_pd(_mm256_or_pd(_mm256_cmp_pd(yv, zero, _CMP_GT_OQ),
                                                                        _mm256_cmp_pd(yv, yv, _CMP_UNORD_Q)));
            const __m256i pm = cmf_sp_perm(cmf_sp_lut_c4[c]);
            _mm256_storeu_pd(yl + na, _mm256_castps_pd(_mm256_permutevar8x32_ps(_mm256_castpd_ps(yv), pm)));
            _mm256_storeu_pd(vl + na, _mm256_castps_pd(_mm256_permutevar8x32_ps(_mm256_castpd_ps(vv), pm)));
            na += CMF_SP_POPCNT(c);
            cc |= c << h;
        }
        mb[k >> 4] = (uint16_t)cc;
    }
#else
    (void)y; (void)v; (void)yl; (void)vl; (void)mb;
#endif
    *na_ = na;
    return k;
}

static inline ptrdiff_t cmf_sp_vscatter_v_f32(ptrdiff_t n, const uint16_t *mb, const float *res, float *r, ptrdiff_t *j_)
{
    ptrdiff_t k = 0, j = *j_;
#if defined(CMF_SP_AVX512)
    for (; k < n; k += 16) {
        const __mmask16 c = (__mmask16)mb[k >> 4];
        const unsigned pc = (unsigned)CMF_SP_POPCNT(c);
        const __m512 x = _mm512_maskz_expand_ps(c, _mm512_maskz_loadu_ps(cmf_sp_popm(pc), res + j));
        if (n - k >= 16) _mm512_storeu_ps(r + k, x);
        else _mm512_mask_storeu_ps(r + k, cmf_sp_tailm16(n - k), x);
        j += pc;
    }
#elif defined(CMF_SP_AVX2)
    for (; k + 16 <= n; k += 16) {         /* (res is read full width: it has room) */
        const unsigned cc = mb[k >> 4];
        for (int h = 0; h < 16; h += 8) {
            const unsigned c = (cc >> h) & 0xFFu;
            const __m256 p = _mm256_permutevar8x32_ps(_mm256_loadu_ps(res + j), cmf_sp_perm(cmf_sp_lut_e8[c]));
            _mm256_storeu_ps(r + k + h, _mm256_and_ps(p, _mm256_castsi256_ps(cmf_sp_bits8(c))));
            j += CMF_SP_POPCNT(c);
        }
    }
#else
    (void)mb; (void)res; (void)r;
#endif
    *j_ = j;
    return k;
}

static inline ptrdiff_t cmf_sp_vscatter_v_f64(ptrdiff_t n, const uint16_t *mb, const double *res, double *r, ptrdiff_t *j_)
{
    ptrdiff_t k = 0, j = *j_;
#if defined(CMF_SP_AVX512)
    for (; k < n; k += 16) {
        const unsigned c = mb[k >> 4];
        const __mmask16 lm = cmf_sp_tailm16(n - k);
        const __mmask8 c0 = (__mmask8)c, c1 = (__mmask8)(c >> 8);
        const unsigned p0 = (unsigned)CMF_SP_POPCNT(c0), p1 = (unsigned)CMF_SP_POPCNT(c1);
        const __m512d x0 = _mm512_maskz_expand_pd(c0, _mm512_maskz_loadu_pd((__mmask8)cmf_sp_popm(p0), res + j));
        j += p0;
        const __m512d x1 = _mm512_maskz_expand_pd(c1, _mm512_maskz_loadu_pd((__mmask8)cmf_sp_popm(p1), res + j));
        j += p1;
        if (n - k >= 16) {
            _mm512_storeu_pd(r + k, x0);
            _mm512_storeu_pd(r + k + 8, x1);
        } else {
            _mm512_mask_storeu_pd(r + k, (__mmask8)lm, x0);
            _mm512_mask_storeu_pd(r + k + 8, (__mmask8)(lm >> 8), x1);
        }
    }
#elif defined(CMF_SP_AVX2)
    for (; k + 16 <= n; k += 16) {
        const unsigned cc = mb[k >> 4];
        for (int h = 0; h < 16; h += 4) {
            const unsigned c = (cc >> h) & 0xFu;
            const __m256 p = _mm256_permutevar8x32_ps(_mm256_castpd_ps(_mm256_loadu_pd(res + j)), cmf_sp_perm(cmf_sp_lut_e4[c]));
            const __m256i on = cmf_sp_bits8((c & 1u) * 3u | (c & 2u) * 6u | (c & 4u) * 12u | (c & 8u) * 24u);
            _mm256_storeu_pd(r + k + h, _mm256_castps_pd(_mm256_and_ps(p, _mm256_castsi256_ps(on))));
            j += CMF_SP_POPCNT(c);
        }
    }
#else
    (void)mb; (void)res; (void)r;
#endif
    *j_ = j;
    return k;
}

/* ---- the column kernels' strips ---- */

#if defined(CMF_SP_AVX512)
static inline void cmf_sp_strip_out(double r[80], const __m512d *acc)
{
    for (int i = 0; i < 10; i++) _mm512_storeu_pd(r + 8 * i, acc[i]);
}
/* one row of 16 lanes, as two halves of 8 doubles, into acc = {count, sum u, sum u^2,
 * min u, NaN} x 2 halves (interleaved: acc[2 i + half]) */
static inline void cmf_sp_strip_row(__m512d z0, __m512d z1, __m512d t0, __m512d t1, int quad, __m512d *acc)
{
    const __m512d one = _mm512_set1_pd(1.0), zero = _mm512_setzero_pd();
    const __m512d z[2] = {z0, z1}, t[2] = {t0, t1};
    for (int h = 0; h < 2; h++) {
        const __mmask8 k = _mm512_cmp_pd_mask(z[h], t[h], _CMP_GT_OQ);
        const __m512d u = _mm512_sub_pd(z[h], quad ? t[h] : zero);
        acc[h] = _mm512_mask_add_pd(acc[h], k, acc[h], one);
        acc[2 + h] = _mm512_mask_add_pd(acc[2 + h], k, acc[2 + h], u);
        if (quad) {
            acc[4 + h] = _mm512_mask3_fmadd_pd(u, u, acc[4 + h], k);
            acc[6 + h] = _mm512_mask_min_pd(acc[6 + h], k, acc[6 + h], u);
        }
        acc[8 + h] = _mm512_mask_add_pd(acc[8 + h], _mm512_cmp_pd_mask(z[h], z[h], _CMP_UNORD_Q), acc[8 + h], one);
    }
}
#endif

static inline int cmf_sp_strip16_v_f32(ptrdiff_t n, const float *y, ptrdiff_t ldy, const double *tau, int quad,
                                       double r[80])
{
#if defined(CMF_SP_AVX512)
    const __m512d t0 = _mm512_loadu_pd(tau), t1 = _mm512_loadu_pd(tau + 8), zero = _mm512_setzero_pd();
    __m512d acc[10];
    for (int i = 0; i < 10; i++) acc[i] = i == 6 || i == 7 ? _mm512_set1_pd(INFINITY) : zero;
    for (ptrdiff_t q = 0; q < n; q++) {
        const __m512 v = _mm512_loadu_ps(y + q * ldy);
        cmf_sp_strip_row(_mm512_cvtps_pd(_mm512_castps512_ps256(v)),
                         _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1))),
                         t0, t1, quad, acc);
    }
    cmf_sp_strip_out(r, acc);
    return 1;
#else
    (void)n; (void)y; (void)ldy; (void)tau; (void)quad; (void)r;
    return 0;
#endif
}

static inline int cmf_sp_strip16_v_f64(ptrdiff_t n, const double *y, ptrdiff_t ldy, const double *tau, int quad,
                                       double r[80])
{
#if defined(CMF_SP_AVX512)
    const __m512d t0 = _mm512_loadu_pd(tau), t1 = _mm512_loadu_pd(tau + 8), zero = _mm512_setzero_pd();
    __m512d acc[10];
    for (int i = 0; i < 10; i++) acc[i] = i == 6 || i == 7 ? _mm512_set1_pd(INFINITY) : zero;
    for (ptrdiff_t q = 0; q < n; q++)
        cmf_sp_strip_row(_mm512_loadu_pd(y + q * ldy), _mm512_loadu_pd(y + q * ldy + 8), t0, t1, quad, acc);
    cmf_sp_strip_out(r, acc);
    return 1;
#else
    (void)n; (void)y; (void)ldy; (void)tau; (void)quad; (void)r;
    return 0;
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

#endif
