/* softmax.tmpl.c: softmax, log_softmax, argmax, logsumexp, softmax_mean and their
 * derivatives, written once for T = float / double (see cmf_template.h).
 *
 * Special values (SPEC section 3), decided here once:
 *   - masked entries (mask == 0) are ignored: probability 0 (log: -inf);
 *   - NaN among the unmasked entries makes every unmasked output NaN;
 *   - +inf entries share the mass equally, finite entries get 0;
 *   - unmasked entries all -inf: NaN (normalisers), -inf (logsumexp, softmax_mean);
 *   - every entry masked (or n == 0): zeros (softmax), -inf (log_softmax, logsumexp,
 *     softmax_mean).
 * The max is taken ignoring NaN, so a NaN reaches the output through the sum of exps
 * without a test in the hot loops; non-finite maxima take a scalar path.
 */

#define NINF ((T)-INFINITY)
/* the largest finite T */
#define TMAX_SM ((T)(sizeof(T) == 4 ? FLT_MAX : DBL_MAX))

static int S(is_finite)(T v) { return v - v == 0; }

/* ---------- contiguous single-slice building blocks (vectorisable) ---------- */

#ifdef CMF_VEC
/* The unmasked row passes with the vector primitives of cmf_simd.h (AVX2 / AVX-512
 * paths); the plain-C loops below are the baseline path and take the masked rows. */

/* two vectors per iteration of the exp loops for float; one for double, whose exp keeps
 * more constants live (two at a time spill the accumulators to the stack) */
#define CMF_UNROLL2 (sizeof(T) == 4)

/* max over x[0..n), NaN ignored (maxps keeps the accumulator), -inf for n == 0 */
static T S(vmax_row)(ptrdiff_t n, const T *x)
{
    const V ninf = VSET1(-INFINITY);
    V a0 = ninf, a1 = ninf, a2 = ninf, a3 = ninf;
    ptrdiff_t k = 0;
    for (; k + 4 * VN <= n; k += 4 * VN) {
        a0 = VMAXPS(VLD(x + k), a0);
        a1 = VMAXPS(VLD(x + k + VN), a1);
        a2 = VMAXPS(VLD(x + k + 2 * VN), a2);
        a3 = VMAXPS(VLD(x + k + 3 * VN), a3);
    }
    for (; k + VN <= n; k += VN) a0 = VMAXPS(VLD(x + k), a0);
    if (k < n) a1 = VMAXPS(VLDT(x + k, n - k, ninf), a1);
    return (T)VHMAX(VMAXPS(VMAXPS(a0, a1), VMAXPS(a2, a3)));
}

/* Where the next slice of a C-contiguous batch lies, x + n, when the compute-bound exp
 * passes should prefetch it for the next slice's max pass (a prefetch never faults, so
 * it does not matter that x + n may not be a slice); 0 for slices shorter than
 * CMF_PF_NEXT bytes, whose stream the hardware prefetcher already follows, and longer
 * than CMF_PF_NEXT_MAX, which would not stay in L2 until read (interleaved A/B through
 * Python on a busy machine: 256 x 16384 float32 softmax, log_softmax and logsumexp about
 * 5-10% faster; 4096 x 1024 up to 15% slower with it, 16 x 262144 no faster). */
#ifndef CMF_PF_NEXT
#define CMF_PF_NEXT 16384
#define CMF_PF_NEXT_MAX 262144
/* prefetch element k of the next slice (an address, not a pointer: it may lie past the array) */
#define CMF_PF_NEXT_AT(nx, k) CMF_PREFETCHR((const void *)((nx) + (uintptr_t)(k) * sizeof(T)))
#endif
static uintptr_t S(next_slice)(ptrdiff_t n, const T *x)
{
    const ptrdiff_t b = n * (ptrdiff_t)sizeof(T);
    return b >= CMF_PF_NEXT && b <= CMF_PF_NEXT_MAX ? (uintptr_t)x + (uintptr_t)b : 0;
}

/* sum_k exp((x_k - m) * it), stored to y when `store`: T lanes within blocks of CMF_BLOCK
 * elements, double across blocks.  The tail is loaded as -inf (exp 0).  `scaled` == 0
 * skips the product with it == 1 (exact either way). */
static CMF_INLINE double S(vexpsum_impl)(ptrdiff_t n, const T *x, T *y, T m, T it, const int store,
                                         const int scaled, T *pfw)
{
    const V vm = VSET1(m), vit = VSET1(it), ninf = VSET1(-INFINITY), zero = VSET1(0);
    const uintptr_t nx = S(next_slice)(n, x);
    VDACC tot = VDZERO();
    ptrdiff_t k = 0;
    while (k < n) {
        const ptrdiff_t kend = n - k > CMF_BLOCK ? k + CMF_BLOCK : n;
        V a0 = zero, a1 = zero;
        for (; CMF_UNROLL2 && k + 2 * VN <= kend; k += 2 * VN) {
            V z0 = VSUB(VLD(x + k), vm), z1 = VSUB(VLD(x + k + VN), vm);
            if (scaled) { z0 = VMUL(z0, vit); z1 = VMUL(z1, vit); }
            const V e0 = VEXPM(z0), e1 = VEXPM(z1);
            if (store) { VST(y + k, e0); VST(y + k + VN, e1); }
            a0 = VADD(a0, e0);
            a1 = VADD(a1, e1);
            if (pfw) { CMF_PREFETCHW(pfw + k); CMF_PREFETCHW(pfw + k + VN); }
            if (nx) { CMF_PF_NEXT_AT(nx, k); CMF_PF_NEXT_AT(nx, k + VN); }
        }
        for (; k < kend; k += VN) {
            const ptrdiff_t r = kend - k;
            V z = VSUB(r >= VN ? VLD(x + k) : VLDT(x + k, r, ninf), vm);
            if (scaled) z = VMUL(z, vit);
            const V e = VEXPM(z);
            if (store) { if (r >= VN) VST(y + k, e); else VSTT(y + k, r, e); }
            a0 = VADD(a0, e);
            if (pfw) CMF_PREFETCHW(pfw + k);
        }
        VDADD(&tot, VADD(a0, a1));
    }
    return VDSUM(tot);
}

/* stores to y when given; else, when pfw is given, prefetches it for writing (the output
 * that a later pass writes: its misses then overlap this pass's arithmetic) */
static double S(vexpsum_row)(ptrdiff_t n, const T *x, T *y, T m, T it, T *pfw)
{
    if (y) return it == 1 ? S(vexpsum_impl)(n, x, y, m, it, 1, 0, NULL) : S(vexpsum_impl)(n, x, y, m, it, 1, 1, NULL);
    if (pfw) return it == 1 ? S(vexpsum_impl)(n, x, y, m, it, 0, 0, pfw) : S(vexpsum_impl)(n, x, y, m, it, 0, 1, pfw);
    return it == 1 ? S(vexpsum_impl)(n, x, y, m, it, 0, 0, NULL) : S(vexpsum_impl)(n, x, y, m, it, 0, 1, NULL);
}

/* y[k] *= r */
static void S(vscale_row)(ptrdiff_t n, T *y, T r)
{
    const V vr = VSET1(r);
    ptrdiff_t k = 0;
    for (; k + 2 * VN <= n; k += 2 * VN) {
        VST(y + k, VMUL(VLD(y + k), vr));
        VST(y + k + VN, VMUL(VLD(y + k + VN), vr));
    }
    for (; k + VN <= n; k += VN) VST(y + k, VMUL(VLD(y + k), vr));
    if (k < n) VSTT(y + k, n - k, VMUL(VLDT(y + k, n - k, vr), vr));
}

/* logsumexp's sums: c = the number of z_k == 0 (the maxima, whose exp is exactly 1) and
 * s = the sum of the other exps, z = (x - m) * it; T lanes within blocks of CMF_BLOCK
 * elements, double across blocks */
static CMF_INLINE void S(vlse_impl)(ptrdiff_t n, const T *x, T m, T it, double *c, double *s, const int scaled)
{
    const uintptr_t nx = S(next_slice)(n, x);
    const V vm = VSET1(m), vit = VSET1(it), ninf = VSET1(-INFINITY), zero = VSET1(0);
    VDACC ct = VDZERO(), st = VDZERO();
    ptrdiff_t k = 0;
    while (k < n) {
        const ptrdiff_t kend = n - k > CMF_BLOCK ? k + CMF_BLOCK : n;
        V c0 = zero, c1 = zero, s0 = zero, s1 = zero;
        for (; CMF_UNROLL2 && k + 2 * VN <= kend; k += 2 * VN) {
            V z0 = VSUB(VLD(x + k), vm), z1 = VSUB(VLD(x + k + VN), vm);
            if (scaled) { z0 = VMUL(z0, vit); z1 = VMUL(z1, vit); }
            VTOPACC(&c0, &s0, z0, VEXPM(z0));
            VTOPACC(&c1, &s1, z1, VEXPM(z1));
            if (nx) { CMF_PF_NEXT_AT(nx, k); CMF_PF_NEXT_AT(nx, k + VN); }
        }
        for (; k < kend; k += VN) {
            const ptrdiff_t r = kend - k;
            V z = VSUB(r >= VN ? VLD(x + k) : VLDT(x + k, r, ninf), vm);
            if (scaled) z = VMUL(z, vit);
            VTOPACC(&c0, &s0, z, VEXPM(z));
        }
        VDADD(&ct, VADD(c0, c1));
        VDADD(&st, VADD(s0, s1));
    }
    *c = VDSUM(ct);
    *s = VDSUM(st);
}

/* y[k] = (x[k] - m) * it - ls (`scaled` == 0: it == 1, (x[k] - m) - ls, the same bits) */
static CMF_INLINE void S(vlogout_impl)(ptrdiff_t n, const T *x, T *y, T m, T it, T ls, const int scaled)
{
    const V vm = VSET1(m), vit = VSET1(it), vls = VSET1(ls);
    ptrdiff_t k = 0;
#define CMF_LOGOUT(z) (scaled ? VFMS((z), vit, vls) : VSUB((z), vls))
    for (; k + 2 * VN <= n; k += 2 * VN) {
        VST(y + k, CMF_LOGOUT(VSUB(VLD(x + k), vm)));
        VST(y + k + VN, CMF_LOGOUT(VSUB(VLD(x + k + VN), vm)));
    }
    for (; k + VN <= n; k += VN) VST(y + k, CMF_LOGOUT(VSUB(VLD(x + k), vm)));
    if (k < n) VSTT(y + k, n - k, CMF_LOGOUT(VSUB(VLDT(x + k, n - k, vm), vm)));
#undef CMF_LOGOUT
}
static void S(vlogout_row)(ptrdiff_t n, const T *x, T *y, T m, T it, T ls)
{
    if (it == 1) S(vlogout_impl)(n, x, y, m, it, ls, 0);
    else S(vlogout_impl)(n, x, y, m, it, ls, 1);
}
#endif

static T S(max_row)(ptrdiff_t n, const T *CMF_RESTRICT x, const uint8_t *CMF_RESTRICT mk)
{
#ifdef CMF_VEC
    if (!mk) return S(vmax_row)(n, x);
#endif
    if (!mk) return MAXC(n, x);
    T acc[CMF_LANES];
    for (int j = 0; j < CMF_LANES; j++) acc[j] = NINF;
    ptrdiff_t k = 0;
    for (; k + CMF_LANES <= n; k += CMF_LANES)
        for (int j = 0; j < CMF_LANES; j++) {
            T v = mk[k + j] ? x[k + j] : NINF;
            acc[j] = v > acc[j] ? v : acc[j];
        }
    T m = NINF;
    for (int j = 0; j < CMF_LANES; j++) m = acc[j] > m ? acc[j] : m;
    for (; k < n; k++) {
        T v = mk[k] ? x[k] : NINF;
        m = v > m ? v : m;
    }
    return m;
}

/* sum_k exp((x_k - m) * it) over unmasked k, also stored to y (0 where masked) when
 * `store`.  T lanes within blocks of CMF_BLOCK elements, double across blocks.  `store`
 * and `masked` are constants at every call site, so each combination compiles to its
 * own branch-free loop. */
static CMF_INLINE double S(expsum_impl)(ptrdiff_t n, const T *x, T *y, const uint8_t *mk, T m, T it,
                                        const int store, const int masked)
{
    double tot = 0.0;
    ptrdiff_t k = 0;
    while (k + CMF_LANES <= n) {
        const ptrdiff_t kend = n - k > CMF_BLOCK ? k + CMF_BLOCK : n;
        T acc[CMF_LANES];
        for (int j = 0; j < CMF_LANES; j++) acc[j] = 0;
        for (; k + CMF_LANES <= kend; k += CMF_LANES)
            for (int j = 0; j < CMF_LANES; j++) {
                T e = EXPM((x[k + j] - m) * it);
                if (masked) e = mk[k + j] ? e : (T)0;
                if (store) y[k + j] = e;
                acc[j] += e;
            }
        double b = 0.0;
        for (int j = 0; j < CMF_LANES; j++) b += (double)acc[j];
        tot += b;
    }
    for (; k < n; k++) {
        T e = EXPM((x[k] - m) * it);
        if (masked) e = mk[k] ? e : (T)0;
        if (store) y[k] = e;
        tot += (double)e;
    }
    return tot;
}

static double S(expsum_row)(ptrdiff_t n, const T *x, T *y, const uint8_t *mk, T m, T it)
{
#ifdef CMF_VEC
    if (!mk) return S(vexpsum_row)(n, x, y, m, it, NULL);
#endif
    if (y)
        return mk ? S(expsum_impl)(n, x, y, mk, m, it, 1, 1) : S(expsum_impl)(n, x, y, mk, m, it, 1, 0);
    return mk ? S(expsum_impl)(n, x, y, mk, m, it, 0, 1) : S(expsum_impl)(n, x, y, mk, m, it, 0, 0);
}

/* Any slice whose maximum is not finite, or that is fully masked: scalar, strided. */
static void S(softmax_special)(ptrdiff_t n, const T *x, ptrdiff_t sx, T *y, ptrdiff_t sy,
                               const uint8_t *mk, ptrdiff_t sm, T m, int lg)
{
    ptrdiff_t live = 0, ninf = 0;
    int nan = 0;
    for (ptrdiff_t k = 0; k < n; k++) {
        if (mk && !mk[k * sm]) continue;
        T v = x[k * sx];
        live++;
        nan |= v != v;
        ninf += v == (T)INFINITY;
    }
    const T zero = lg ? NINF : (T)0;
    T hit;
    if (live == 0) hit = zero;                       /* fully masked */
    else if (nan || m == NINF) hit = (T)NAN;         /* NaN, or all -inf */
    else hit = lg ? (T)(-logl((long double)ninf)) : (T)(1.0 / (double)ninf);
    for (ptrdiff_t k = 0; k < n; k++) {
        T v = x[k * sx];
        int on = !mk || mk[k * sm];
        T out;
        if (!on) out = zero;
        else if (live == 0 || nan || m == NINF) out = hit;
        else out = v == (T)INFINITY ? hit : zero;
        y[k * sy] = out;
    }
}

/* The sum of exps in the order of the column kernels (T sums over blocks of
 * CMF_BLOCK / CMF_LANES elements, one element after the other, then double; the same
 * exps), stored to y when given.  For slices short enough that S(run) may hand them to a
 * column kernel: such a slice gets the same bits through the row kernel (entmax's alpha = 1
 * slices are softmax bit for bit, whichever driver runs softmax). */
static double S(expsum_seq)(ptrdiff_t n, const T *x, T *y, const uint8_t *mk, T m, T it)
{
    enum { KB = CMF_BLOCK / CMF_LANES };
    T e[KB];
    double s = 0.0;
    for (ptrdiff_t k0 = 0; k0 < n; k0 += KB) {
        const ptrdiff_t nk = n - k0 < KB ? n - k0 : KB;
#ifdef CMF_VEC
        if (!mk) {
            const V vm = VSET1(m), vit = VSET1(it), ninf = VSET1(-INFINITY);
            for (ptrdiff_t kk = 0; kk < nk; kk += VN) {
                V z = VSUB(S(vldn)(x + k0 + kk, nk - kk, ninf), vm);
                if (it != 1) z = VMUL(z, vit);
                S(vstn)(e + kk, nk - kk, VEXPM(z));
            }
        } else
#endif
        for (ptrdiff_t kk = 0; kk < nk; kk++) {
            T v = EXPM((x[k0 + kk] - m) * it);
            e[kk] = (!mk || mk[k0 + kk]) ? v : (T)0;
        }
        T acc = 0;
        for (ptrdiff_t kk = 0; kk < nk; kk++) acc += e[kk];
        if (y) memcpy(y + k0, e, (size_t)nk * sizeof(T));
        s += (double)acc;
    }
    return s;
}

static void S(softmax_row)(ptrdiff_t n, const T *x, T *y, const uint8_t *CMF_RESTRICT mk, T it, int lg)
{
    T m = S(max_row)(n, x, mk);
    if (!S(is_finite)(m)) {
        S(softmax_special)(n, x, 1, y, 1, mk, 1, m, lg);
        return;
    }
    const int seq = n < CMF_SHORT_SLICE;
    if (!lg) {
        double s = seq ? S(expsum_seq)(n, x, y, mk, m, it) : S(expsum_row)(n, x, y, mk, m, it);
        T r = (T)(1.0 / s);
        ptrdiff_t k = 0;
        if (mk)
            for (; k < n; k++) y[k] = mk[k] ? y[k] * r : (T)0;
        else
#ifdef CMF_VEC
            S(vscale_row)(n, y, r);
#else
            for (; k < n; k++) y[k] *= r;
#endif
    } else {
        double s;
#ifdef CMF_VEC
        if (!seq && !mk) s = S(vexpsum_row)(n, x, NULL, m, it, y);
        else
#endif
        s = seq ? S(expsum_seq)(n, x, NULL, mk, m, it) : S(expsum_row)(n, x, NULL, mk, m, it);
        T ls = (T)cmf_log_f64(s);
#ifdef CMF_VEC
        if (!mk) { S(vlogout_row)(n, x, y, m, it, ls); return; }
#endif
        if (mk)
            for (ptrdiff_t k = 0; k < n; k++) y[k] = mk[k] ? (x[k] - m) * it - ls : NINF;
        else
            for (ptrdiff_t k = 0; k < n; k++) y[k] = (x[k] - m) * it - ls;
    }
}

/* ---------- column kernel: B <= CMF_COLS slices side by side (lane j = slice j) ----------
 * element k of slice j is x[k * ldx + j].  Used directly on a C-contiguous array reduced
 * along a non-last axis, and on tiles gathered from short or strided slices. */
static void S(softmax_strided)(ptrdiff_t n, const T *x, ptrdiff_t sx, T *y, ptrdiff_t sy,
                               const uint8_t *mk, ptrdiff_t sm, T it, int lg)
{
    T m = NINF;
    for (ptrdiff_t k = 0; k < n; k++) {
        T v = (!mk || mk[k * sm]) ? x[k * sx] : NINF;
        m = v > m ? v : m;
    }
    if (!S(is_finite)(m)) {
        S(softmax_special)(n, x, sx, y, sy, mk, sm, m, lg);
        return;
    }
    double s = 0.0;
    for (ptrdiff_t k = 0; k < n; k++) {
        T e = EXPM((x[k * sx] - m) * it);
        if (mk && !mk[k * sm]) e = 0;
        s += (double)e;
    }
    T r = (T)(1.0 / s), ls = (T)cmf_log_f64(s);
    for (ptrdiff_t k = 0; k < n; k++) {
        int on = !mk || mk[k * sm];
        T z = (x[k * sx] - m) * it;
        y[k * sy] = lg ? (on ? z - ls : NINF) : (on ? EXPM(z) * r : (T)0);
    }
}

#ifdef CMF_VEC
/* The column passes with the vector primitives: lanes j..j+VN of B side by side, rows k in
 * blocks of CMF_BLOCK / CMF_LANES (per-lane state in registers within a block, so that
 * a block of rows is read from L1 once per lane vector).  Tail lanes (B % VN) are masked:
 * each lane takes the same arithmetic wherever it sits, so results do not depend on how
 * slices are grouped into tiles or blocks.  When the rows are far apart (a non-last axis
 * read in place) each pass streams them CMF_ROW_GROUP at a time, the lane state loaded
 * once for the group and the rows added in order (the same arithmetic; measured: the
 * lane arrays reloaded for every row cost ~0.4x np.copyto of a 1024 x 4096 call). */
#ifndef CMF_ROW_GROUP
#define CMF_ROW_GROUP 4
#endif
static void S(vcols_max)(ptrdiff_t n, ptrdiff_t B, const T *x, ptrdiff_t ldx, T *m)
{
    const ptrdiff_t KB = CMF_BLOCK / CMF_LANES;
    const V ninf = VSET1(-INFINITY);
    for (ptrdiff_t j = 0; j < B; j += VN) S(vstn)(m + j, B - j, ninf);
    if (CMF_ROW_ORDER(ldx)) {
        for (ptrdiff_t k = 0; k < n; k += CMF_ROW_GROUP) {
            const ptrdiff_t nr = n - k < CMF_ROW_GROUP ? n - k : CMF_ROW_GROUP;
            for (ptrdiff_t j = 0; j < B; j += VN) {
                const ptrdiff_t r = B - j;
                V a = S(vldn)(m + j, r, ninf);
                for (ptrdiff_t kk = 0; kk < CMF_ROW_GROUP; kk++)
                    if (kk < nr) a = VMAXPS(S(vldn)(x + (k + kk) * ldx + j, r, ninf), a);
                S(vstn)(m + j, r, a);
            }
        }
        return;
    }
    for (ptrdiff_t k0 = 0; k0 < n; k0 += KB) {
        const ptrdiff_t k1 = n - k0 > KB ? k0 + KB : n;
        for (ptrdiff_t j = 0; j < B; j += VN) {
            const ptrdiff_t r = B - j;
            V a0 = S(vldn)(m + j, r, ninf), a1 = ninf;
            ptrdiff_t k = k0;
            for (; k + 2 <= k1; k += 2) {
                a0 = VMAXPS(S(vldn)(x + k * ldx + j, r, ninf), a0);
                a1 = VMAXPS(S(vldn)(x + (k + 1) * ldx + j, r, ninf), a1);
            }
            if (k < k1) a0 = VMAXPS(S(vldn)(x + k * ldx + j, r, ninf), a0);
            S(vstn)(m + j, r, VMAXPS(a0, a1));
        }
    }
}

/* s[j] += sum_k exp((x[k, j] - m[j]) * it[j]), T lanes within a block of rows, double
 * across blocks; the exps stored to y when `store` */
static CMF_INLINE void S(vcols_expsum)(ptrdiff_t n, ptrdiff_t B, const T *x, ptrdiff_t ldx, T *y,
                                       ptrdiff_t ldy, const T *m, const T *it, double *s, T *acc,
                                       const int store, const int scaled)
{
    const ptrdiff_t KB = CMF_BLOCK / CMF_LANES;
    const V ninf = VSET1(-INFINITY), zero = VSET1(0), one = VSET1(1);
    if (CMF_ROW_ORDER(ldx)) {       /* the same sums, rows streamed, lane sums in acc[] */
        for (ptrdiff_t k0 = 0; k0 < n; k0 += KB) {
            const ptrdiff_t k1 = n - k0 > KB ? k0 + KB : n;
            for (ptrdiff_t j = 0; j < B; j += VN) S(vstn)(acc + j, B - j, zero);
            for (ptrdiff_t k = k0; k < k1; k += CMF_ROW_GROUP) {
                const ptrdiff_t nr = k1 - k < CMF_ROW_GROUP ? k1 - k : CMF_ROW_GROUP;
                for (ptrdiff_t j = 0; j < B; j += VN) {
                    const ptrdiff_t r = B - j;
                    const V vm = S(vldn)(m + j, r, zero), vit = scaled ? S(vldn)(it + j, r, one) : one;
                    V a = S(vldn)(acc + j, r, zero);
                    for (ptrdiff_t kk = 0; kk < CMF_ROW_GROUP; kk++)
                        if (kk < nr) {
                            V z = VSUB(S(vldn)(x + (k + kk) * ldx + j, r, ninf), vm);
                            if (scaled) z = VMUL(z, vit);
                            const V e = VEXPM(z);
                            if (store) S(vstn)(y + (k + kk) * ldy + j, r, e);
                            a = VADD(a, e);
                        }
                    S(vstn)(acc + j, r, a);
                }
            }
            for (ptrdiff_t j = 0; j < B; j += VN) VDADDST(s + j, B - j, S(vldn)(acc + j, B - j, zero));
        }
        return;
    }
    for (ptrdiff_t k0 = 0; k0 < n; k0 += KB) {
        const ptrdiff_t k1 = n - k0 > KB ? k0 + KB : n;
        for (ptrdiff_t j = 0; j < B; j += VN) {
            const ptrdiff_t r = B - j;
            const V vm = S(vldn)(m + j, r, zero), vit = scaled ? S(vldn)(it + j, r, one) : one;
            V acc = zero;
            for (ptrdiff_t k = k0; k < k1; k++) {
                V z = VSUB(S(vldn)(x + k * ldx + j, r, ninf), vm);
                if (scaled) z = VMUL(z, vit);
                const V e = VEXPM(z);
                if (store) S(vstn)(y + k * ldy + j, r, e);
                acc = VADD(acc, e);
            }
            VDADDST(s + j, r, acc);
        }
    }
}

/* Two per-lane sums over the rows, T lanes within blocks of CMF_BLOCK / CMF_LANES rows,
 * added to s0[j], s1[j] (double) after each block (a0, a1: B T's of scratch):
 *   CMF_SUM_LSE  s0 = the count of z == 0, s1 = the sum of exp(z) - [z == 0], with
 *                z = (x - m[j]) * it[j] (logsumexp's sums);
 *   CMF_SUM_DOT  s0 = the sum of x * v (s1 untouched).
 * Rows one after another (state in memory) when far apart, else a block of rows per lane
 * vector (state in registers): the same arithmetic. */
#ifndef CMF_SUM_LSE
#define CMF_SUM_LSE 0
#define CMF_SUM_DOT 1
#endif
static CMF_INLINE void S(vcols_sums)(const int op, ptrdiff_t n, ptrdiff_t B, const T *x, ptrdiff_t ldx,
                                     const T *v, ptrdiff_t ldv, const T *m, const T *it, double *s0,
                                     double *s1, T *a0, T *a1, const int scaled)
{
    const ptrdiff_t KB = CMF_BLOCK / CMF_LANES;
    const V ninf = VSET1(-INFINITY), zero = VSET1(0), one = VSET1(1);
#define CMF_SUM_STEP(xk, vk, c0, c1, vm, vit)                                                   \
    do {                                                                                         \
        if (op == CMF_SUM_LSE) {                                                                 \
            V z_ = VSUB(xk, vm);                                                                 \
            if (scaled) z_ = VMUL(z_, vit);                                                      \
            const V t_ = VIS0(z_);                                                               \
            c0 = VADD(c0, t_);                                                                   \
            c1 = VADD(c1, VSUB(VEXPM(z_), t_));                                                  \
        } else {                                                                                 \
            c0 = VFMA(xk, vk, c0);                                                               \
        }                                                                                        \
    } while (0)
    const int lse = op == CMF_SUM_LSE;
    if (CMF_ROW_ORDER(ldx)) {
        for (ptrdiff_t k0 = 0; k0 < n; k0 += KB) {
            const ptrdiff_t k1 = n - k0 > KB ? k0 + KB : n;
            for (ptrdiff_t j = 0; j < B; j += VN) { S(vstn)(a0 + j, B - j, zero); if (lse) S(vstn)(a1 + j, B - j, zero); }
            for (ptrdiff_t k = k0; k < k1; k += CMF_ROW_GROUP) {
                const ptrdiff_t nr = k1 - k < CMF_ROW_GROUP ? k1 - k : CMF_ROW_GROUP;
                for (ptrdiff_t j = 0; j < B; j += VN) {
                    const ptrdiff_t r = B - j;
                    V c0 = S(vldn)(a0 + j, r, zero), c1 = lse ? S(vldn)(a1 + j, r, zero) : zero;
                    const V vm = lse ? S(vldn)(m + j, r, zero) : zero;
                    const V vit = lse && scaled ? S(vldn)(it + j, r, one) : one;
                    for (ptrdiff_t kk = 0; kk < CMF_ROW_GROUP; kk++)
                        if (kk < nr) {
                            const V xk = S(vldn)(x + (k + kk) * ldx + j, r, lse ? ninf : zero);
                            const V vk = lse ? zero : S(vldn)(v + (k + kk) * ldv + j, r, zero);
                            CMF_SUM_STEP(xk, vk, c0, c1, vm, vit);
                        }
                    S(vstn)(a0 + j, r, c0);
                    if (lse) S(vstn)(a1 + j, r, c1);
                }
            }
            for (ptrdiff_t j = 0; j < B; j += VN) {
                VDADDST(s0 + j, B - j, S(vldn)(a0 + j, B - j, zero));
                if (lse) VDADDST(s1 + j, B - j, S(vldn)(a1 + j, B - j, zero));
            }
        }
        return;
    }
    for (ptrdiff_t k0 = 0; k0 < n; k0 += KB) {
        const ptrdiff_t k1 = n - k0 > KB ? k0 + KB : n;
        for (ptrdiff_t j = 0; j < B; j += VN) {
            const ptrdiff_t r = B - j;
            const V vm = lse ? S(vldn)(m + j, r, zero) : zero;
            const V vit = lse && scaled ? S(vldn)(it + j, r, one) : one;
            V c0 = zero, c1 = zero;
            for (ptrdiff_t k = k0; k < k1; k++) {
                const V xk = S(vldn)(x + k * ldx + j, r, lse ? ninf : zero);
                const V vk = lse ? zero : S(vldn)(v + k * ldv + j, r, zero);
                CMF_SUM_STEP(xk, vk, c0, c1, vm, vit);
            }
            VDADDST(s0 + j, r, c0);
            if (lse) VDADDST(s1 + j, r, c1);
        }
    }
#undef CMF_SUM_STEP
}

/* any it[j] != 1 (then the products are needed; with 1 they are exact no-ops) */
static int S(lanes_scaled)(ptrdiff_t B, const T *it)
{
    int sc = 0;
    for (ptrdiff_t j = 0; j < B; j++) sc |= it[j] != 1;
    return sc;
}
#endif

/* s[j] += sum_k exp((x[k, j] - m[j]) * it[j]) (T lanes over blocks of rows, then double);
 * stores the exps to y when `store`. */
static CMF_INLINE void S(cols_expsum)(ptrdiff_t n, ptrdiff_t B, const T *x, ptrdiff_t ldx, T *y,
                                      ptrdiff_t ldy, const uint8_t *mk, ptrdiff_t ldm, const T *m,
                                      const T *it, double *s, T *acc, const int store, const int masked)
{
#ifdef CMF_VEC
    if (!masked) {
        if (S(lanes_scaled)(B, it)) S(vcols_expsum)(n, B, x, ldx, y, ldy, m, it, s, acc, store, 1);
        else S(vcols_expsum)(n, B, x, ldx, y, ldy, m, it, s, acc, store, 0);
        return;
    }
#endif
    const ptrdiff_t KB = CMF_BLOCK / CMF_LANES;
    for (ptrdiff_t k0 = 0; k0 < n; k0 += KB) {
        const ptrdiff_t k1 = n - k0 > KB ? k0 + KB : n;
        for (ptrdiff_t j = 0; j < B; j++) acc[j] = 0;
        ptrdiff_t k = k0;
        for (; k < k1; k++) {
            const T *xk = x + k * ldx;
            T *yk = y + k * ldy;
            const uint8_t *mkk = mk + k * ldm;
            for (ptrdiff_t j = 0; j < B; j++) {
                T e = EXPM((xk[j] - m[j]) * it[j]);
                if (masked) e = mkk[j] ? e : (T)0;
                if (store) yk[j] = e;
                acc[j] += e;
            }
        }
        for (ptrdiff_t j = 0; j < B; j++) s[j] += (double)acc[j];
    }
}

/* m[j] = the maximum of lane j over its unmasked entries (-inf when none) */
static void S(cols_max)(ptrdiff_t n, ptrdiff_t B, const T *x, ptrdiff_t ldx, const uint8_t *mk,
                        ptrdiff_t ldm, T *m)
{
#ifdef CMF_VEC
    if (!mk) { S(vcols_max)(n, B, x, ldx, m); return; }
#endif
    for (ptrdiff_t j = 0; j < B; j++) m[j] = NINF;
    for (ptrdiff_t k = 0; k < n; k++) {
        const T *xk = x + k * ldx;
        if (mk) {
            const uint8_t *mkk = mk + k * ldm;
            for (ptrdiff_t j = 0; j < B; j++) {
                T v = mkk[j] ? xk[j] : NINF;
                m[j] = v > m[j] ? v : m[j];
            }
        } else {
            VMAX(B, m, xk);
        }
    }
}

/* Lanes of a column kernel with a non-finite maximum (rare) are copied aside before the
 * kernel runs (its input and output may be one array), computed with the others under a
 * harmless shift of 0, then redone from the copy: the other lanes' results do not depend
 * on their neighbours.  A record: nsp lane indices, their maxima, their inputs. */
typedef struct {
    ptrdiff_t nsp, *lane;
    T *m, *x;
} S(special_lanes);

/* returns 0 when out of memory (nothing set aside) */
static int S(set_aside)(ptrdiff_t n, ptrdiff_t B, const T *x, ptrdiff_t ldx, T *m, S(special_lanes) *sp)
{
    ptrdiff_t nsp = 0;
    for (ptrdiff_t j = 0; j < B; j++) nsp += !S(is_finite)(m[j]);
    sp->nsp = nsp;
    sp->lane = NULL;
    sp->m = sp->x = NULL;
    if (!nsp) return 1;
    char *buf = (char *)malloc((size_t)nsp * (sizeof(ptrdiff_t) + (size_t)(n + 1) * sizeof(T)));
    if (!buf) return 0;
    sp->lane = (ptrdiff_t *)buf;
    sp->m = (T *)(sp->lane + nsp);
    sp->x = sp->m + nsp;
    for (ptrdiff_t j = 0, q = 0; j < B; j++) {
        if (S(is_finite)(m[j])) continue;
        for (ptrdiff_t k = 0; k < n; k++) sp->x[q * n + k] = x[k * ldx + j];
        sp->lane[q] = j;
        sp->m[q++] = m[j];
        m[j] = 0;
    }
    return 1;
}

static void S(softmax_cols_redo)(ptrdiff_t n, T *y, ptrdiff_t ldy, const uint8_t *mk, ptrdiff_t ldm,
                                 S(special_lanes) *sp, int lg)
{
    if (!sp->lane) return;
    for (ptrdiff_t q = 0; q < sp->nsp; q++) {
        const ptrdiff_t j = sp->lane[q];
        S(softmax_special)(n, sp->x + q * n, 1, y + j, ldy, mk ? mk + j : NULL, ldm, sp->m[q], lg);
    }
    free(sp->lane);
}

#ifdef CMF_VEC
/* A non-last axis read in place (rows far apart, no mask): two passes over memory instead
 * of three, each streaming whole rows (with 4 KiB pages, walking narrow columns of a large
 * array misses the TLB on every row: L2-sized panels of lanes measured 2-3x slower).
 * Pass 1 takes the rows a block of CMF_BLOCK / CMF_LANES at a time: the lanes' maxima
 * are raised to the block's and their sums rescaled in double to the new maxima
 * (VRESCALE: only lanes whose maximum rose, a few times per lane on random data), then
 * the block's exps (its rows again, from L2) are summed in T lanes and added to the
 * double sums, while the next block's maxima are taken (its rows from memory, so the
 * loads hide behind the exps).  Pass 2 writes each output from x and its lane's final
 * maximum and sum.  Against the three passes of the tiles' kernel (maxima; exps stored
 * and summed; y scaled in place) x is read twice and y never; softmax computes its exps
 * twice.  Rows go CMF_ROW_GROUP to a lane vector, as in the passes above.  An entry's
 * arithmetic is that of the tiles but for the rounding of its sum (a few ULP); a
 * non-last axis read in place always comes here, whatever the cut of its lanes or the
 * thread that runs them. */
static CMF_INLINE V S(vcols_out)(V xk, V vm, V vit, V vr, const int lg, const int scaled)
{
    V z = VSUB(xk, vm);
    if (lg) return scaled ? VFMS(z, vit, vr) : VSUB(z, vr);
    if (scaled) z = VMUL(z, vit);
    return VMUL(VEXPM(z), vr);
}

static CMF_INLINE void S(softmax_cols_online)(ptrdiff_t n, ptrdiff_t B, const T *x, ptrdiff_t ldx,
                                              T *y, ptrdiff_t ldy, const T *it, const int lg,
                                              double *ws, const int scaled)
{
    enum { RR = CMF_ROW_GROUP };
    const ptrdiff_t KB = CMF_BLOCK / CMF_LANES;
    const V ninf = VSET1(-INFINITY), zero = VSET1(0), one = VSET1(1), lowest = VSET1(-TMAX_SM);
    double *s = ws;
    T *m = (T *)(ws + B), *r = (T *)(ws + 2 * B), *acc = (T *)(ws + 3 * B), *sh = (T *)(ws + 4 * B);
    T *mx = (T *)(ws + 5 * B);                      /* the next block's maxima */
    for (ptrdiff_t j = 0; j < B; j++) { s[j] = 0.0; m[j] = NINF; }
    for (ptrdiff_t j = 0; j < B; j += VN) S(vstn)(mx + j, B - j, ninf);
    for (ptrdiff_t k = 0; k < (n < KB ? n : KB); k++)      /* block 0's maxima */
        for (ptrdiff_t j = 0; j < B; j += VN) {
            const ptrdiff_t q = B - j;
            S(vstn)(mx + j, q, VMAXPS(S(vldn)(x + k * ldx + j, q, ninf), S(vldn)(mx + j, q, ninf)));
        }
    for (ptrdiff_t k0 = 0; k0 < n; k0 += KB) {
        const ptrdiff_t k1 = n - k0 > KB ? k0 + KB : n;
        for (ptrdiff_t j = 0; j < B; j += VN) {      /* raise the maxima, rescale the sums */
            const ptrdiff_t q = B - j;
            const V mo = S(vldn)(m + j, q, ninf), mn = VMAXPS(S(vldn)(mx + j, q, ninf), mo);
            VRESCALE(s + j, q, mo, mn, scaled ? S(vldn)(it + j, q, one) : one);
            S(vstn)(m + j, q, mn);
            /* the shift: the lowest finite T for a maximum of -inf (exp(-inf - it) = 0) */
            S(vstn)(sh + j, q, VMAXPS(mn, lowest));
            S(vstn)(acc + j, q, zero);
            S(vstn)(mx + j, q, ninf);
        }
        for (ptrdiff_t k = k0; k < k1; k += RR) {   /* the block's exps, the next one's maxima */
            const ptrdiff_t nr = k1 - k < RR ? k1 - k : RR, kn = k + KB;
            const ptrdiff_t nn = kn >= n ? 0 : n - kn < RR ? n - kn : RR;
            for (ptrdiff_t j = 0; j < B; j += VN) {
                const ptrdiff_t q = B - j;
                const V vs = S(vldn)(sh + j, q, zero), vit = scaled ? S(vldn)(it + j, q, one) : one;
                V a = S(vldn)(acc + j, q, zero), b = S(vldn)(mx + j, q, ninf);
                for (ptrdiff_t kk = 0; kk < RR; kk++) {
                    if (kk < nr) {
                        V z = VSUB(S(vldn)(x + (k + kk) * ldx + j, q, ninf), vs);
                        if (scaled) z = VMUL(z, vit);
                        a = VADD(a, VEXPM(z));
                    }
                    if (kk < nn) b = VMAXPS(S(vldn)(x + (kn + kk) * ldx + j, q, ninf), b);
                }
                S(vstn)(acc + j, q, a);
                S(vstn)(mx + j, q, b);
            }
        }
        for (ptrdiff_t j = 0; j < B; j += VN) VDADDST(s + j, B - j, S(vldn)(acc + j, B - j, zero));
    }
    S(special_lanes) sp;
    if (!S(set_aside)(n, B, x, ldx, m, &sp)) {
        for (ptrdiff_t j = 0; j < B; j++) S(softmax_strided)(n, x + j, ldx, y + j, ldy, NULL, 0, it[j], lg);
        return;
    }
    if (lg)
        for (ptrdiff_t j = 0; j < B; j++) r[j] = (T)cmf_log_f64(s[j]);
    else
        for (ptrdiff_t j = 0; j < B; j++) r[j] = (T)(1.0 / s[j]);
    for (ptrdiff_t k = 0; k < n; k += RR) {                /* the output */
        const ptrdiff_t nr = n - k < RR ? n - k : RR;
        for (ptrdiff_t j = 0; j < B; j += VN) {
            const ptrdiff_t q = B - j;
            const V vm = S(vldn)(m + j, q, zero), vr = S(vldn)(r + j, q, zero);
            const V vit = scaled ? S(vldn)(it + j, q, one) : one;
            V xk[RR];
            for (ptrdiff_t kk = 0; kk < RR; kk++)
                xk[kk] = kk < nr ? S(vldn)(x + (k + kk) * ldx + j, q, zero) : zero;
            for (ptrdiff_t kk = 0; kk < RR; kk++)
                if (kk < nr) S(vstn)(y + (k + kk) * ldy + j, q, S(vcols_out)(xk[kk], vm, vit, vr, lg, scaled));
        }
    }
    S(softmax_cols_redo)(n, y, ldy, NULL, 0, &sp, lg);
}
#endif

static void S(softmax_cols)(ptrdiff_t n, ptrdiff_t B, const T *x, ptrdiff_t ldx, T *y,
                            ptrdiff_t ldy, const uint8_t *mk, ptrdiff_t ldm, const T *it, int lg,
                            double *ws)
{
#ifdef CMF_VEC
    if (!mk && CMF_ROW_ORDER(ldx)) {
        const int sc = S(lanes_scaled)(B, it);
        if (lg) sc ? S(softmax_cols_online)(n, B, x, ldx, y, ldy, it, 1, ws, 1)
                   : S(softmax_cols_online)(n, B, x, ldx, y, ldy, it, 1, ws, 0);
        else sc ? S(softmax_cols_online)(n, B, x, ldx, y, ldy, it, 0, ws, 1)
                : S(softmax_cols_online)(n, B, x, ldx, y, ldy, it, 0, ws, 0);
        return;
    }
#endif
    double *s = ws;
    T *m = (T *)(ws + B), *r = (T *)(ws + 2 * B), *acc = (T *)(ws + 3 * B);
    S(cols_max)(n, B, x, ldx, mk, ldm, m);
    S(special_lanes) sp;
    if (!S(set_aside)(n, B, x, ldx, m, &sp)) {
        /* out of memory: every lane on its own, each read before it is written */
        for (ptrdiff_t j = 0; j < B; j++)
            S(softmax_strided)(n, x + j, ldx, y + j, ldy, mk ? mk + j : NULL, ldm, it[j], lg);
        return;
    }
    for (ptrdiff_t j = 0; j < B; j++) s[j] = 0.0;
    if (lg)
        mk ? S(cols_expsum)(n, B, x, ldx, y, ldy, mk, ldm, m, it, s, acc, 0, 1)
           : S(cols_expsum)(n, B, x, ldx, y, ldy, mk, ldm, m, it, s, acc, 0, 0);
    else
        mk ? S(cols_expsum)(n, B, x, ldx, y, ldy, mk, ldm, m, it, s, acc, 1, 1)
           : S(cols_expsum)(n, B, x, ldx, y, ldy, mk, ldm, m, it, s, acc, 1, 0);
    if (lg)
        for (ptrdiff_t j = 0; j < B; j++) r[j] = (T)cmf_log_f64(s[j]);
    else
        for (ptrdiff_t j = 0; j < B; j++) r[j] = (T)(1.0 / s[j]);
#ifdef CMF_VEC
    if (!mk) {
        const V zero = VSET1(0), one = VSET1(1);
        for (ptrdiff_t k = 0; k < n; k++) {
            const T *xk = x + k * ldx;
            T *yk = y + k * ldy;
            for (ptrdiff_t j = 0; j < B; j += VN) {
                const ptrdiff_t q = B - j;
                if (lg)
                    S(vstn)(yk + j, q, VFMS(VSUB(S(vldn)(xk + j, q, zero), S(vldn)(m + j, q, zero)),
                                            S(vldn)(it + j, q, one), S(vldn)(r + j, q, zero)));
                else
                    S(vstn)(yk + j, q, VMUL(S(vldn)(yk + j, q, zero), S(vldn)(r + j, q, zero)));
            }
        }
        S(softmax_cols_redo)(n, y, ldy, mk, ldm, &sp, lg);
        return;
    }
#endif
    for (ptrdiff_t k = 0; k < n; k++) {
        const T *xk = x + k * ldx;
        T *yk = y + k * ldy;
        const uint8_t *mkk = mk ? mk + k * ldm : NULL;
        if (lg) {
            if (mkk)
                for (ptrdiff_t j = 0; j < B; j++) yk[j] = mkk[j] ? (xk[j] - m[j]) * it[j] - r[j] : NINF;
            else
                for (ptrdiff_t j = 0; j < B; j++) yk[j] = (xk[j] - m[j]) * it[j] - r[j];
        } else {
            if (mkk)
                for (ptrdiff_t j = 0; j < B; j++) yk[j] = mkk[j] ? yk[j] * r[j] : (T)0;
            else
                for (ptrdiff_t j = 0; j < B; j++) yk[j] *= r[j];
        }
    }
    S(softmax_cols_redo)(n, y, ldy, mk, ldm, &sp, lg);
}

static void S(softmax_rowfn)(S(row) *a) { S(softmax_row)(a->n, a->in[0], a->out[0], a->mask, a->it, 0); }
static void S(log_softmax_rowfn)(S(row) *a) { S(softmax_row)(a->n, a->in[0], a->out[0], a->mask, a->it, 1); }
static void S(softmax_colfn_any)(const S(cols) *k, int lg)
{
    S(softmax_cols)(k->n, k->B, k->in[0], k->ldi[0], k->out, k->ldo, k->mask, k->ldm, k->it, lg, k->ws);
}
static void S(softmax_colfn)(const S(cols) *k) { S(softmax_colfn_any)(k, 0); }
static void S(log_softmax_colfn)(const S(cols) *k) { S(softmax_colfn_any)(k, 1); }

#ifdef CMF_VEC
/* VN short slices (2 <= n <= VN entries each: rows[jj], or base + jj * stride when rows
 * is NULL) loaded and transposed in registers: c[k] holds entry k of every slice (past
 * n: -inf, or when `full` whatever follows each slice in memory, read unmasked: masked
 * loads cost ~6 plain ones on Zen 4); when `part`, c[k] past n are left undefined (the
 * transpose skips what feeds only them: softmax's rows kernel 6% faster, while gcc's
 * registers for logsumexp's came out 11% slower).  Returns the slices' maxima (NaN ignored). */
static CMF_INLINE V S(vshort_load)(ptrdiff_t n, const T *const *rows, const T *base, ptrdiff_t stride, V *c,
                                   int full, const int part)
{
    const V ninf = VSET1(-INFINITY);
    if (n == VN || full)
        for (int jj = 0; jj < VN; jj++) c[jj] = VLD(rows ? rows[jj] : base + jj * stride);
    else
        for (int jj = 0; jj < VN; jj++) c[jj] = VLDT(rows ? rows[jj] : base + jj * stride, n, ninf);
    if (part) VTRP(c, VN, n);
    else VTR(c);
    V m = ninf;
    for (int k = 0; k < VN; k++)
        if (k < n) m = VMAXPS(c[k], m);
    return m;
}

/* the sums over k < n of exp((c[k] - m) * it) (the product only when `scaled`), T lanes
 * in the order of the column kernels; the exps replace c[k] when `store` */
static CMF_INLINE V S(vshort_expsum)(ptrdiff_t n, V *c, V m, V vit, const int scaled, const int store)
{
    V acc = VSET1(0);
    CMF_UNROLL_VN
    for (int k = 0; k < VN; k++)
        if (k < n) {
            V z = VSUB(c[k], m);
            if (scaled) z = VMUL(z, vit);
            const V e = VEXPM(z);
            if (store) c[k] = e;
            acc = VADD(acc, e);
        }
    return acc;
}

/* the VN rows q..q+VN of a matrix of R rows of n entries at row stride sx can each be
 * read VN entries long (S(vshort_load)'s `full`) without leaving the matrix's memory */
static CMF_INLINE int S(rows_full)(ptrdiff_t q, ptrdiff_t R, ptrdiff_t n, ptrdiff_t sx)
{
    return sx > 0 && (q + VN - 1) * sx + VN <= (R - 1) * sx + n;
}
#endif

#ifdef CMF_VEC
/* Short contiguous slices (2 <= n <= VN, no mask, one temperature): VN slices at a time
 * in registers, loaded and transposed (vector k holds element k of VN slices), normalised
 * lane by lane, transposed back and stored; no tile, no per-slice loop.  The arithmetic
 * of each lane is that of S(softmax_cols) (same sums in the same order, same log), so a
 * slice gets the same bits whether it comes here or through a tile (strided output).  A group with a
 * non-finite maximum goes through the row kernel slice by slice (its inputs are all read
 * before any output is written, so x and y may be the same array). */
static void S(softmax_short)(const cmf_geom *g, cmf_arr xa, cmf_arr ya, T it, int lg)
{
    const ptrdiff_t n = g->n, NI = g->n_inner, ns = g->n_outer * NI;
    const T *x = (const T *)xa.p;
    T *y = (T *)ya.p;
    const V vit = VSET1(it);
    const int scaled = it != 1;
    ptrdiff_t o = 0, i = 0;
    for (ptrdiff_t q0 = 0; q0 < ns; q0 += VN) {
        const ptrdiff_t nj = ns - q0 < VN ? ns - q0 : VN;
        const T *xr[VN];
        T *yr[VN];
        if (NI == 1 && nj == VN) {        /* rows of a matrix */
            for (int jj = 0; jj < VN; jj++) {
                xr[jj] = x + (q0 + jj) * xa.so;
                yr[jj] = y + (q0 + jj) * ya.so;
            }
            o += VN;
        } else {
            for (int jj = 0; jj < VN; jj++) {
                if (jj < nj) {
                    xr[jj] = x + o * xa.so + i * xa.si;
                    yr[jj] = y + o * ya.so + i * ya.si;
                    if (++i == NI) { i = 0; o++; }
                } else {              /* a lane past the last slice repeats the first one */
                    xr[jj] = xr[0];
                    yr[jj] = NULL;
                }
            }
        }
        V c[VN];
        const V m = S(vshort_load)(n, xr, NULL, 0, c, 0, 0);
        if (VNONFIN(m)) {
            for (ptrdiff_t jj = 0; jj < nj; jj++) S(softmax_row)(n, xr[jj], yr[jj], NULL, it, lg);
            continue;
        }
        /* (this loop written out: through S(vshort_expsum), with lg a variable or two
         * inlined copies, measured 6-7% slower here) */
        V acc = VSET1(0);
        CMF_UNROLL_VN
        for (int k = 0; k < VN; k++)
            if (k < n) {
                V z = VSUB(c[k], m);
                if (scaled) z = VMUL(z, vit);
                const V e = VEXPM(z);
                if (!lg) c[k] = e;        /* log_softmax keeps x for its output */
                acc = VADD(acc, e);
            }
        T sl[VN];
        VST(sl, acc);
        if (lg)
            for (int jj = 0; jj < VN; jj++) sl[jj] = (T)cmf_log_f64((double)sl[jj]);
        else
            for (int jj = 0; jj < VN; jj++) sl[jj] = (T)(1.0 / (double)sl[jj]);
        const V r = VLD(sl);
        for (int k = 0; k < VN; k++)
            if (k < n) c[k] = lg ? VFMS(VSUB(c[k], m), vit, r) : VMUL(c[k], r);
        VTRP(c, n, VN);
        if (n == VN)
            for (int jj = 0; jj < VN; jj++) { if (jj < nj) VST(yr[jj], c[jj]); }
        else
            for (int jj = 0; jj < VN; jj++) { if (jj < nj) VSTT(yr[jj], n, c[jj]); }
    }
}
#endif

#ifdef CMF_VEC
/* softmax of the rows of a matrix of short rows (2 <= n <= VN, rows back to back: row q
 * at x + q * n), VN rows at a time as S(softmax_short) but with unmasked loads and
 * stores: each row is read VN entries long (while that stays in the matrix) and written
 * VN entries long in ascending order, the entries past n landing in the next rows before
 * their own stores (the group's inputs are all read by then, so x may be y); the rows
 * whose VN entries would reach past the group take masked stores.  Each entry's arithmetic is that of
 * S(softmax_short) and S(softmax_cols).  Returns the number of rows done (whole groups). */
static ptrdiff_t S(softmax_short_rows)(ptrdiff_t R, ptrdiff_t n, const T *x, T *y, T it)
{
    const V vit = VSET1(it);
    const int scaled = it != 1;
    ptrdiff_t q0 = 0;
    for (; q0 + VN <= R && S(rows_full)(q0, R, n, n); q0 += VN) {
        const T *xg = x + q0 * n;
        T *yg = y + q0 * n;
        V c[VN];
        const V m = S(vshort_load)(n, NULL, xg, n, c, 1, 1);
        if (VNONFIN(m)) {
            for (int jj = 0; jj < VN; jj++) S(softmax_row)(n, xg + jj * n, yg + jj * n, NULL, it, 0);
            continue;
        }
        T sl[VN];
        VST(sl, S(vshort_expsum)(n, c, m, vit, scaled, 1));
        for (int jj = 0; jj < VN; jj++) sl[jj] = (T)(1.0 / (double)sl[jj]);
        const V r = VLD(sl);
        for (int k = 0; k < VN; k++)
            if (k < n) c[k] = VMUL(c[k], r);
        VTRP(c, n, VN);
        for (int jj = 0; jj < VN; jj++) {
            if (jj * n + VN <= VN * n) VST(yg + jj * n, c[jj]);
            else S(vstn)(yg + jj * n, n, c[jj]);
        }
    }
    return q0;
}

/* log_softmax of the rows of a matrix of short rows (2 <= n <= VN, rows back to back:
 * row q at x + q * n), CMF_LSB_GROUPS groups of VN rows at a time: per group the rows
 * are transposed in registers, their maxima and sums of exps kept; then the logs of all
 * the batch's sums at once (one vector loop with room for the latency of the log), and
 * the output written in the rows' own layout, each entry's maximum and log-sum moved to
 * its lane by a permute (no transpose back).  Each entry's arithmetic is that of
 * S(softmax_short) and S(softmax_cols).  Returns the number of rows done (whole batches).
 * (8 groups: log_softmax of 10-entry float32 rows 3% faster than with 4, logsumexp 1%.) */
#define CMF_LSB_GROUPS 8
/* rows of the row kernel per group of the batched logs / reciprocals (logsumexp, softmax,
 * log_softmax); for the softmaxes, rows of at most CMF_LSM_ROW_BYTES, so that the group's
 * rows are still in L2 for its output pass (measured float32 log_softmax: 16384 x 128
 * 1280 -> 800 us, 100000 x 48 6330 -> 2900, 4096 x 1024 the same, 256 x 16384 25 % slower,
 * hence the limit) */
#define CMF_LSM_GROUP 16
#define CMF_LSM_ROW_BYTES 8192
/* VN rows of n entries back to back are n vectors: entry l of vector q is in row
 * idx[q][l] = (q VN + l) / n (the permute that takes per-row values to the entries) */
static void S(row_lanes)(ptrdiff_t n, int32_t idx[VN][VN])
{
    for (ptrdiff_t q = 0; q < n; q++)
        for (int l = 0; l < VN; l++) idx[q][l] = (int32_t)((q * VN + l) / n);
}
static ptrdiff_t S(log_softmax_short_rows)(ptrdiff_t R, ptrdiff_t n, const T *x, T *y, T it)
{
    enum { G = CMF_LSB_GROUPS };
    const V vit = VSET1(it);
    const int scaled = it != 1;
    int32_t idx[VN][VN];
    S(row_lanes)(n, idx);
    T mb[G * VN], sb[G * VN];
    ptrdiff_t q0 = 0;
    for (; q0 + G * VN <= R; q0 += G * VN) {
        int special[G];
        for (int gg = 0; gg < G; gg++) {
            V c[VN];
            const V m = S(vshort_load)(n, NULL, x + (q0 + gg * VN) * n, n, c, S(rows_full)(q0 + gg * VN, R, n, n), 0);
            special[gg] = VNONFIN(m);
            VST(mb + gg * VN, m);
            VST(sb + gg * VN, S(vshort_expsum)(n, c, m, vit, scaled, 0));
        }
        for (int j = 0; j < G * VN; j++) sb[j] = (T)cmf_log_f64((double)sb[j]);
        for (int gg = 0; gg < G; gg++) {
            const T *xg = x + (q0 + gg * VN) * n;
            T *yg = y + (q0 + gg * VN) * n;
            if (special[gg]) {
                for (int jj = 0; jj < VN; jj++) S(softmax_row)(n, xg + jj * n, yg + jj * n, NULL, it, 1);
                continue;
            }
            const V m = VLD(mb + gg * VN), r = VLD(sb + gg * VN);
            for (ptrdiff_t q = 0; q < n; q++)
                VST(yg + q * VN, VFMS(VSUB(VLD(xg + q * VN), VPERM(m, idx[q])), vit, VPERM(r, idx[q])));
        }
    }
    return q0;
}
#endif

#ifdef CMF_VEC
/* softmax (lg: log_softmax) of the rows that the row kernel takes (contiguous, at least
 * CMF_SHORT_SLICE long, at any row strides; no mask, one temperature), CMF_LSM_GROUP rows
 * at a time: each row's maximum and sum (softmax: its exps stored) as S(softmax_row)
 * computes them, the group's reciprocals or logs in one vector loop instead of a scalar
 * division or log per row, then each row's output pass (the group's rows are still in
 * L1/L2).  Rows with a non-finite maximum go through S(softmax_row) itself (their input is
 * untouched until then, in place too); every row gets its bits.  Returns the number of
 * rows done (whole groups). */
static ptrdiff_t S(softmax_mid_rows)(ptrdiff_t R, ptrdiff_t n, const T *x, ptrdiff_t sx, T *y,
                                     ptrdiff_t sy, T it, const int lg)
{
    enum { G = CMF_LSM_GROUP };
    double sm[G];
    T mb[G], ls[G];
    ptrdiff_t q0 = 0;
    for (; q0 + G <= R; q0 += G) {
        for (int j = 0; j < G; j++) {
            const T *xr = x + (q0 + j) * sx;
            T *yr = y + (q0 + j) * sy;
            mb[j] = S(vmax_row)(n, xr);
            sm[j] = !S(is_finite)(mb[j]) ? 1.0 : lg ? S(vexpsum_row)(n, xr, NULL, mb[j], it, yr)
                                                     : S(vexpsum_row)(n, xr, yr, mb[j], it, NULL);
        }
        if (lg)
            for (int j = 0; j < G; j++) ls[j] = (T)cmf_log_f64(sm[j]);      /* vectorised */
        else
            for (int j = 0; j < G; j++) ls[j] = (T)(1.0 / sm[j]);
        for (int j = 0; j < G; j++) {
            const T *xr = x + (q0 + j) * sx;
            T *yr = y + (q0 + j) * sy;
            if (!S(is_finite)(mb[j])) S(softmax_row)(n, xr, yr, NULL, it, lg);
            else if (lg) S(vlogout_row)(n, xr, yr, mb[j], it, ls[j]);
            else S(vscale_row)(n, yr, ls[j]);
        }
    }
    return q0;
}
#endif

static cmf_status S(softmax_any)(const cmf_geom *g, cmf_arr x, cmf_arr t, cmf_arr mask, cmf_arr y, int lg)
{
#ifdef CMF_VEC
    if (g->n >= 2 && g->n <= VN && x.sa == 1 && y.sa == 1 && !mask.p && (!t.p || (t.so == 0 && t.si == 0))
        && g->n_outer >= 0 && g->n_inner >= 0) {
        const T it = S(inv_temperature)(t.p ? *(const double *)t.p : 1.0);
        cmf_geom rest = *g;
        if (g->n_inner == 1 && x.so == g->n && y.so == g->n) {
            /* rows back to back: whole batches by the batched kernels, the rest below */
            const ptrdiff_t done = (lg ? S(log_softmax_short_rows) : S(softmax_short_rows))(
                g->n_outer, g->n, (const T *)x.p, (T *)y.p, it);
            rest.n_outer -= done;
            x.p = (char *)x.p + done * g->n * (ptrdiff_t)sizeof(T);
            y.p = (char *)y.p + done * g->n * (ptrdiff_t)sizeof(T);
        }
        S(softmax_short)(&rest, x, y, it, lg);
        return CMF_OK;
    }
    cmf_geom rest = *g;
    if (g->n >= CMF_SHORT_SLICE && g->n * (ptrdiff_t)sizeof(T) <= CMF_LSM_ROW_BYTES && g->n_inner == 1 &&
        g->n_outer >= CMF_LSM_GROUP && x.sa == 1 && y.sa == 1 && !mask.p && (!t.p || (t.so == 0 && t.si == 0))) {
        /* whole groups of rows here, the rest through the row kernel */
        const ptrdiff_t done = S(softmax_mid_rows)(g->n_outer, g->n, (const T *)x.p, x.so, (T *)y.p, y.so,
                                                   S(inv_temperature)(t.p ? *(const double *)t.p : 1.0), lg);
        if (done == g->n_outer) return CMF_OK;
        rest.n_outer -= done;
        x.p = (T *)x.p + done * x.so;
        y.p = (T *)y.p + done * y.so;
    }
    g = &rest;
#endif
    S(call) c;
    memset(&c, 0, sizeof c);
    c.nin = 1; c.in[0] = x; c.nout = 1; c.out = y; c.mask = mask; c.t = t;
    return S(run)(g, &c, lg ? S(log_softmax_rowfn) : S(softmax_rowfn),
                  lg ? S(log_softmax_colfn) : S(softmax_colfn));
}

cmf_status FN(softmax)(const cmf_geom *g, cmf_arr x, cmf_arr t, cmf_arr mask, cmf_arr y)
{
    return S(softmax_any)(g, x, t, mask, y, 0);
}

cmf_status FN(log_softmax)(const cmf_geom *g, cmf_arr x, cmf_arr t, cmf_arr mask, cmf_arr y)
{
    return S(softmax_any)(g, x, t, mask, y, 1);
}

/* ---------- derivatives of softmax / log_softmax (row kernels for the driver) ---------- */

#ifdef CMF_VEC
/* sum_k y_k v_k (prod), or sum_k v_k: four T-lane accumulators within blocks of CMF_BLOCK
 * elements, double across blocks */
static CMF_INLINE double S(vdot_impl)(ptrdiff_t n, const T *y, const T *v, const int prod)
{
    const V zero = VSET1(0);
    VDACC tot = VDZERO();
    ptrdiff_t k = 0;
#define CMF_DOT_TERM(acc, off, ry, rv) acc = prod ? VFMA(ry(y + k + (off)), rv(v + k + (off)), acc) \
                                               : VADD(acc, rv(v + k + (off)))
    while (k < n) {
        const ptrdiff_t kend = n - k > CMF_BLOCK ? k + CMF_BLOCK : n;
        V a0 = zero, a1 = zero, a2 = zero, a3 = zero;
        for (; k + 4 * VN <= kend; k += 4 * VN) {
            CMF_DOT_TERM(a0, 0, VLD, VLD);
            CMF_DOT_TERM(a1, VN, VLD, VLD);
            CMF_DOT_TERM(a2, 2 * VN, VLD, VLD);
            CMF_DOT_TERM(a3, 3 * VN, VLD, VLD);
        }
        for (; k < kend; k += VN) {
            const ptrdiff_t r = kend - k;
#define CMF_LDR(p) (r >= VN ? VLD(p) : VLDT(p, r, zero))
            CMF_DOT_TERM(a0, 0, CMF_LDR, CMF_LDR);
#undef CMF_LDR
        }
        VDADD(&tot, VADD(VADD(a0, a1), VADD(a2, a3)));
    }
#undef CMF_DOT_TERM
    return VDSUM(tot);
}
static double S(vdot_row)(ptrdiff_t n, const T *y, const T *v) { return S(vdot_impl)(n, y, v, 1); }
static double S(vsum_row)(ptrdiff_t n, const T *v) { return S(vdot_impl)(n, NULL, v, 0); }

/* r = y (v - d) it, 0 where y == 0; `scaled` == 0 skips the product with it == 1 (exact) */
static CMF_INLINE void S(vvjp_out)(ptrdiff_t n, const T *y, const T *v, T *r, T d, T it, const int scaled)
{
    const V vd = VSET1(d), vit = VSET1(it), zero = VSET1(0);
    ptrdiff_t k = 0;
    for (; k + VN <= n; k += VN) {
        const V yk = VLD(y + k);
        V o = VMUL(yk, VSUB(VLD(v + k), vd));
        if (scaled) o = VMUL(o, vit);
        VST(r + k, VKEEPNZ(yk, o));
    }
    if (k < n) {
        const V yk = VLDT(y + k, n - k, zero);
        V o = VMUL(yk, VSUB(VLDT(v + k, n - k, zero), vd));
        if (scaled) o = VMUL(o, vit);
        VSTT(r + k, n - k, VKEEPNZ(yk, o));
    }
}
#endif

#ifdef CMF_VEC
/* one row of softmax's VJP: r = y (v - <y, v>) it */
static CMF_INLINE void S(vvjp_row)(ptrdiff_t n, const T *y, const T *v, T *r, T it)
{
    const T dd = (T)S(vdot_row)(n, y, v);
    if (it == 1) S(vvjp_out)(n, y, v, r, dd, it, 0);
    else S(vvjp_out)(n, y, v, r, dd, it, 1);
}
#endif

/* softmax: J = (diag(y) - y y^T) / t is symmetric, so vjp and jvp are one kernel:
 * r = y * (v - <y, v>) / t.  Masked entries have y = 0 and get r = 0. */
static void S(softmax_vjp_rowfn)(S(row) *a)
{
    const ptrdiff_t n = a->n;
    const T *CMF_RESTRICT y = a->in[0], *v = a->in[1];
    T *r = a->out[0];
#ifdef CMF_VEC
    S(vvjp_row)(n, y, v, r, a->it);
    return;
#endif
    double acc[CMF_LANES];
    for (int j = 0; j < CMF_LANES; j++) acc[j] = 0.0;
    ptrdiff_t k = 0;
    for (; k + CMF_LANES <= n; k += CMF_LANES)
        for (int j = 0; j < CMF_LANES; j++) acc[j] += (double)y[k + j] * (double)v[k + j];
    double d = 0.0;
    for (int j = 0; j < CMF_LANES; j++) d += acc[j];
    for (; k < n; k++) d += (double)y[k] * (double)v[k];
    const T dd = (T)d, it = a->it;
    for (k = 0; k < n; k++) r[k] = y[k] == 0 ? (T)0 : y[k] * (v[k] - dd) * it;
}

/* log_softmax vjp: r = (v - p * sum(v)) / t with p = exp(y), sums over unmasked entries;
 * jvp: r = (v - <p, v>) / t.  Masked entries get 0. */
static void S(log_softmax_d_row)(S(row) *a, int jvp)
{
    const ptrdiff_t n = a->n;
    const T *CMF_RESTRICT y = a->in[0], *v = a->in[1];
    const uint8_t *mk = a->mask;
    T *r = a->out[0];
#ifdef CMF_VEC
    if (!jvp && !mk) {
        /* the VJP of a slice without a mask: vector sums and exps (float32 256 x 128 in
         * cache: 19.8 -> 8.5 us a call, 256 x 10 6.7 -> 3.6) */
        const V dd = VSET1((T)S(vsum_row)(n, v)), vit = VSET1(a->it);
        ptrdiff_t k = 0;
        for (; k + VN <= n; k += VN)
            VST(r + k, VMUL(VSUB(VLD(v + k), VMUL(VEXPM(VLD(y + k)), dd)), vit));
        if (k < n) {
            const V ninf = VSET1(-INFINITY), zero = VSET1(0);
            VSTT(r + k, n - k, VMUL(VSUB(VLDT(v + k, n - k, zero), VMUL(VEXPM(VLDT(y + k, n - k, ninf)), dd)), vit));
        }
        return;
    }
#endif
    double acc[CMF_LANES];
    for (int j = 0; j < CMF_LANES; j++) acc[j] = 0.0;
    ptrdiff_t k = 0;
    for (; k + CMF_LANES <= n; k += CMF_LANES)
        for (int j = 0; j < CMF_LANES; j++) {
            T w = jvp ? EXPM(y[k + j]) * v[k + j] : v[k + j];
            if (mk) w = mk[k + j] ? w : (T)0;
            acc[j] += (double)w;
        }
    double d = 0.0;
    for (int j = 0; j < CMF_LANES; j++) d += acc[j];
    for (; k < n; k++) {
        T w = jvp ? EXPM(y[k]) * v[k] : v[k];
        if (!mk || mk[k]) d += (double)w;
    }
    const T dd = (T)d, it = a->it;
    if (jvp)
        for (k = 0; k < n; k++) r[k] = (!mk || mk[k]) ? (v[k] - dd) * it : (T)0;
    else
        for (k = 0; k < n; k++) r[k] = (!mk || mk[k]) ? (v[k] - EXPM(y[k]) * dd) * it : (T)0;
}
static void S(log_softmax_vjp_rowfn)(S(row) *a) { S(log_softmax_d_row)(a, 0); }
static void S(log_softmax_jvp_rowfn)(S(row) *a) { S(log_softmax_d_row)(a, 1); }

static cmf_status S(slice_op)(const cmf_geom *g, cmf_arr in0, cmf_arr in1, cmf_arr t, cmf_arr mask,
                              cmf_arr out, S(rowfn) fn)
{
    S(call) c;
    memset(&c, 0, sizeof c);
    c.nin = 2; c.in[0] = in0; c.in[1] = in1;
    c.nout = 1; c.out = out;
    c.mask = mask; c.t = t;
    return S(drive)(g, &c, fn);
}

static void S(softmax_vjp_colfn)(const S(cols) *c)
{
    const ptrdiff_t n = c->n, B = c->B;
    const T *y = c->in[0], *v = c->in[1];
    T *r = c->out;
    double *d = c->ws;
    T *acc = (T *)(c->ws + B), *dd = (T *)(c->ws + 2 * B);
    const ptrdiff_t KB = CMF_BLOCK / CMF_LANES;
    for (ptrdiff_t j = 0; j < B; j++) d[j] = 0.0;
#ifdef CMF_VEC
    S(vcols_sums)(CMF_SUM_DOT, n, B, y, c->ldi[0], v, c->ldi[1], NULL, NULL, d, NULL, acc, NULL, 0);
    for (ptrdiff_t j = 0; j < B; j++) dd[j] = (T)d[j];
    {
        const V zero = VSET1(0), one = VSET1(1);
        for (ptrdiff_t k = 0; k < n; k++) {
            const T *yk = y + k * c->ldi[0], *vk = v + k * c->ldi[1];
            T *rk = r + k * c->ldo;
            for (ptrdiff_t j = 0; j < B; j += VN) {
                const ptrdiff_t q = B - j;
                const V yv = S(vldn)(yk + j, q, zero);
                const V w = VMUL(VMUL(yv, VSUB(S(vldn)(vk + j, q, zero), S(vldn)(dd + j, q, zero))),
                                 S(vldn)(c->it + j, q, one));
                S(vstn)(rk + j, q, VKEEPNZ(yv, w));
            }
        }
    }
    (void)KB;
    return;
#endif
    for (ptrdiff_t k0 = 0; k0 < n; k0 += KB) {
        const ptrdiff_t k1 = n - k0 > KB ? k0 + KB : n;
        for (ptrdiff_t j = 0; j < B; j++) acc[j] = 0;
        for (ptrdiff_t k = k0; k < k1; k++) {
            const T *yk = y + k * c->ldi[0], *vk = v + k * c->ldi[1];
            for (ptrdiff_t j = 0; j < B; j++) acc[j] += yk[j] * vk[j];
        }
        for (ptrdiff_t j = 0; j < B; j++) d[j] += (double)acc[j];
    }
    for (ptrdiff_t j = 0; j < B; j++) dd[j] = (T)d[j];
    for (ptrdiff_t k = 0; k < n; k++) {
        const T *yk = y + k * c->ldi[0], *vk = v + k * c->ldi[1];
        T *rk = r + k * c->ldo;
        for (ptrdiff_t j = 0; j < B; j++) rk[j] = yk[j] == 0 ? (T)0 : yk[j] * (vk[j] - dd[j]) * c->it[j];
    }
}

#ifdef CMF_VEC
/* softmax VJP of a matrix of short rows (2 <= n <= VN, rows back to back in y, v and r,
 * one temperature): VN rows at a time, y and v transposed in registers for the dot
 * products, then r written in the rows' layout with each entry's <y, v> moved to its lane
 * by a permute (no tile, no transpose back).  Each entry's arithmetic is that of
 * S(softmax_vjp_colfn).  Returns the number of rows done (whole groups of VN). */
static ptrdiff_t S(softmax_vjp_short_rows)(ptrdiff_t R, ptrdiff_t n, const T *y, const T *v, T *r, T it)
{
    const V zero = VSET1(0), vit = VSET1(it);
    int32_t idx[VN][VN];
    S(row_lanes)(n, idx);
    ptrdiff_t q0 = 0;
    for (; q0 + VN <= R; q0 += VN) {
        const T *yg = y + q0 * n, *vg = v + q0 * n;
        T *rg = r + q0 * n;
        V a[VN], b[VN];
        if (n == VN)
            for (int jj = 0; jj < VN; jj++) { a[jj] = VLD(yg + jj * n); b[jj] = VLD(vg + jj * n); }
        else
            for (int jj = 0; jj < VN; jj++) { a[jj] = VLDT(yg + jj * n, n, zero); b[jj] = VLDT(vg + jj * n, n, zero); }
        VTR(a);
        VTR(b);
        V acc = zero;
        for (int k = 0; k < VN; k++)
            if (k < n) acc = VFMA(a[k], b[k], acc);
        T dl[VN];
        VST(dl, acc);
        for (int jj = 0; jj < VN; jj++) dl[jj] = (T)(0.0 + (double)dl[jj]);
        const V dd = VLD(dl);
        for (ptrdiff_t q = 0; q < n; q++) {
            const V yq = VLD(yg + q * VN);
            const V w = VMUL(VMUL(yq, VSUB(VLD(vg + q * VN), VPERM(dd, idx[q]))), vit);
            VST(rg + q * VN, VKEEPNZ(yq, w));
        }
    }
    return q0;
}
#endif

#ifdef CMF_VEC
/* softmax's VJP / JVP on rows the row kernel takes (contiguous, CMF_SHORT_SLICE entries or
 * more, at any row strides; one temperature) in one loop without the driver: each row's
 * arithmetic is S(softmax_vjp_rowfn)'s (the same bits).  (float32 256 x 128 in cache: 7.9
 * -> 4.7 us a call, 6.0 through the driver's loop for slices in place; doing 4, 8 or 16
 * rows' products first gained nothing.) */
static void S(softmax_vjp_rows)(ptrdiff_t R, ptrdiff_t n, const T *y, ptrdiff_t sy, const T *v, ptrdiff_t sv,
                                T *r, ptrdiff_t sr, T it)
{
    for (ptrdiff_t q = 0; q < R; q++) S(vvjp_row)(n, y + q * sy, v + q * sv, r + q * sr, it);
}
#endif

static cmf_status S(softmax_d)(const cmf_geom *g, cmf_arr y, cmf_arr v, cmf_arr t, cmf_arr r)
{
#ifdef CMF_VEC
    if (g->n >= 2 && g->n <= VN && g->n_inner == 1 && g->n_outer >= VN && y.sa == 1 && v.sa == 1 &&
        r.sa == 1 && y.so == g->n && v.so == g->n && r.so == g->n && (!t.p || (t.so == 0 && t.si == 0))) {
        /* rows back to back: whole groups here, the rest through the column kernel */
        const ptrdiff_t done = S(softmax_vjp_short_rows)(g->n_outer, g->n, (const T *)y.p, (const T *)v.p,
                                                         (T *)r.p, S(inv_temperature)(t.p ? *(const double *)t.p : 1.0));
        cmf_geom rest = *g;
        rest.n_outer -= done;
        if (!rest.n_outer) return CMF_OK;
        const ptrdiff_t off = done * g->n * (ptrdiff_t)sizeof(T);
        y.p = (char *)y.p + off;
        v.p = (char *)v.p + off;
        r.p = (char *)r.p + off;
        S(call) c;
        memset(&c, 0, sizeof c);
        c.nin = 2; c.in[0] = y; c.in[1] = v; c.nout = 1; c.out = r; c.t = t;
        return S(run)(&rest, &c, S(softmax_vjp_rowfn), S(softmax_vjp_colfn));
    }
    if (g->n >= CMF_SHORT_SLICE && g->n_inner == 1 && y.sa == 1 && v.sa == 1 && r.sa == 1 &&
        (!t.p || (t.so == 0 && t.si == 0))) {
        S(softmax_vjp_rows)(g->n_outer, g->n, (const T *)y.p, y.so, (const T *)v.p, v.so, (T *)r.p, r.so,
                            S(inv_temperature)(t.p ? *(const double *)t.p : 1.0));
        return CMF_OK;
    }
#endif
    S(call) c;
    memset(&c, 0, sizeof c);
    c.nin = 2; c.in[0] = y; c.in[1] = v; c.nout = 1; c.out = r; c.t = t;
    return S(run)(g, &c, S(softmax_vjp_rowfn), S(softmax_vjp_colfn));
}

cmf_status FN(softmax_vjp)(const cmf_geom *g, cmf_arr y, cmf_arr v, cmf_arr t, cmf_arr r)
{
    return S(softmax_d)(g, y, v, t, r);
}
cmf_status FN(softmax_jvp)(const cmf_geom *g, cmf_arr y, cmf_arr v, cmf_arr t, cmf_arr r)
{
    return S(softmax_d)(g, y, v, t, r);
}
cmf_status FN(log_softmax_vjp)(const cmf_geom *g, cmf_arr y, cmf_arr v, cmf_arr t, cmf_arr mask, cmf_arr r)
{
    return S(slice_op)(g, y, v, t, mask, r, S(log_softmax_vjp_rowfn));
}
cmf_status FN(log_softmax_jvp)(const cmf_geom *g, cmf_arr y, cmf_arr v, cmf_arr t, cmf_arr mask, cmf_arr r)
{
    return S(slice_op)(g, y, v, t, mask, r, S(log_softmax_jvp_rowfn));
}

/* ---------- argmax ---------- */
static void S(argmax_rowfn)(S(row) *a)
{
    const ptrdiff_t n = a->n;
    const T *x = a->in[0];
    const uint8_t *mk = a->mask;
    ptrdiff_t first = -1, nanat = -1;
    int nan = 0;
    for (ptrdiff_t k = 0; k < n; k++) nan |= (!mk || mk[k]) && x[k] != x[k];
    T m = S(max_row)(n, x, mk);
    for (ptrdiff_t k = 0; k < n; k++) {
        if (mk && !mk[k]) continue;
        if (first < 0) first = k;
        if (nan && x[k] != x[k]) { nanat = k; break; }
        if (!nan && x[k] == m) { first = k; break; }
    }
    int code = CMF_SLICE_OK;
    ptrdiff_t idx = first;
    if (first < 0) code = CMF_SLICE_EMPTY;
    else if (nan) { code = CMF_SLICE_NAN; idx = nanat; }
    else if (m == NINF) code = CMF_SLICE_ALL_NEGINF;
    a->sout[0] = (double)idx;
    a->sout[1] = (double)code;
}

cmf_status FN(argmax)(const cmf_geom *g, cmf_arr x, cmf_arr mask, cmf_arr idx, cmf_arr code)
{
    S(call) c;
    memset(&c, 0, sizeof c);
    c.nin = 1; c.in[0] = x; c.mask = mask;
    c.nsout = 2; c.sout[0] = idx; c.sout[1] = code;
    return S(drive)(g, &c, S(argmax_rowfn));
}

/* ---------- logsumexp: lse = t * log sum_i b_i exp(x_i / t) ----------
 * The entries equal to the maximum are summed apart (c) from the rest (s), so that
 * lse = m + t (log c + log1p(s / c)) keeps the tiny terms (scipy gh-18295).  Entries with
 * b == 0 are ignored like masked ones (as scipy does). */
static void S(lse_rowfn)(S(row) *a)
{
    const ptrdiff_t n = a->n;
    const T *x = a->in[0], *b = a->in[1];
    const uint8_t *mk = a->mask;
    const T it = a->it;
    T m;
    if (!b) {
        m = S(max_row)(n, x, mk);
    } else {
        m = NINF;
        for (ptrdiff_t k = 0; k < n; k++) {
            T v = ((!mk || mk[k]) && b[k] != 0) ? x[k] : NINF;
            m = v > m ? v : m;
        }
    }
    double lse, sign = 1.0;
    if (!S(is_finite)(m)) {
        double cinf = 0.0;
        int nan = 0, live = 0;
        for (ptrdiff_t k = 0; k < n; k++) {
            if ((mk && !mk[k]) || (b && b[k] == 0)) continue;
            live = 1;
            nan |= x[k] != x[k] || (b && b[k] != b[k]);
            if (x[k] == (T)INFINITY) cinf += b ? (double)b[k] : 1.0;
        }
        if (nan) { lse = NAN; sign = NAN; }
        else if (!live || m == NINF) { lse = -INFINITY; sign = 0.0; }
        else if (cinf == 0.0 || cinf != cinf) { lse = NAN; sign = NAN; }
        else { lse = INFINITY; sign = cinf > 0 ? 1.0 : -1.0; }
        if (!live) sign = 0.0;
        a->sout[0] = lse; a->sout[1] = sign;
        return;
    }
    double c = 0.0, s = 0.0;
    ptrdiff_t k = 0;
#ifdef CMF_VEC
    if (!b && !mk) {
        if (it == 1) S(vlse_impl)(n, x, m, it, &c, &s, 0);
        else S(vlse_impl)(n, x, m, it, &c, &s, 1);
        k = n;
    }
#else
    if (!b && !mk) {
        /* T lanes over blocks of CMF_BLOCK elements, double across blocks */
        while (k + CMF_LANES <= n) {
            const ptrdiff_t kend = n - k > CMF_BLOCK ? k + CMF_BLOCK : n;
            T ca[CMF_LANES], sa[CMF_LANES];
            for (int j = 0; j < CMF_LANES; j++) { ca[j] = 0; sa[j] = 0; }
            for (; k + CMF_LANES <= kend; k += CMF_LANES)
                for (int j = 0; j < CMF_LANES; j++) {
                    T z = (x[k + j] - m) * it;
                    T e = EXPM(z);
                    T top = z == 0 ? (T)1 : (T)0;   /* then e == 1 exactly */
                    ca[j] += top;
                    sa[j] += e - top;
                }
            double cb = 0.0, sb = 0.0;
            for (int j = 0; j < CMF_LANES; j++) { cb += (double)ca[j]; sb += (double)sa[j]; }
            c += cb;
            s += sb;
        }
    }
#endif
    for (; k < n; k++) {
        if ((mk && !mk[k]) || (b && b[k] == 0)) continue;
        T z = (x[k] - m) * it;
        double w = b ? (double)b[k] : 1.0;
        double e = (double)EXPM(z);
        if (z == 0) c += w;
        else s += w * e;
    }
    double tot = c + s, ls;
    if (c >= 1 && tot > 0) ls = cmf_log1p_f64((c - 1.0) + s);
    else if (c > 0 && tot > 0) ls = log(c) + log1p(s / c);
    else ls = log(fabs(tot));
    sign = tot > 0 ? 1.0 : (tot < 0 ? -1.0 : (tot == 0 ? 0.0 : NAN));
    lse = (double)m + a->t * ls;
    if (ls == -INFINITY) lse = -INFINITY;
    a->sout[0] = lse;
    a->sout[1] = sign;
}

/* lanes = slices; no weights, no mask (those go through the row kernel) */
static void S(lse_colfn)(const S(cols) *c)
{
    const ptrdiff_t n = c->n, B = c->B, ld = c->ldi[0];
    const T *x = c->in[0];
    double *cc = c->ws, *ss = c->ws + B;
    T *m = (T *)(c->ws + 2 * B), *ca = (T *)(c->ws + 3 * B), *sa = (T *)(c->ws + 4 * B);
    S(cols_max)(n, B, x, ld, NULL, 0, m);
    for (ptrdiff_t j = 0; j < B; j++) { cc[j] = 0.0; ss[j] = 0.0; }
#ifdef CMF_VEC
    {
        /* the lanes with a non-finite maximum get a harmless shift; redone below */
        T *mm = (T *)(c->ws + 5 * B);
        for (ptrdiff_t j = 0; j < B; j++) mm[j] = S(is_finite)(m[j]) ? m[j] : (T)0;
        const int scaled = S(lanes_scaled)(B, c->it);
        if (scaled) S(vcols_sums)(CMF_SUM_LSE, n, B, x, ld, NULL, 0, mm, c->it, cc, ss, ca, sa, 1);
        else S(vcols_sums)(CMF_SUM_LSE, n, B, x, ld, NULL, 0, mm, c->it, cc, ss, ca, sa, 0);
    }
#else
    const ptrdiff_t KB = CMF_BLOCK / CMF_LANES;
    for (ptrdiff_t k0 = 0; k0 < n; k0 += KB) {
        const ptrdiff_t k1 = n - k0 > KB ? k0 + KB : n;
        for (ptrdiff_t j = 0; j < B; j++) { ca[j] = 0; sa[j] = 0; }
        for (ptrdiff_t k = k0; k < k1; k++) {
            const T *xk = x + k * ld;
            for (ptrdiff_t j = 0; j < B; j++) {
                T z = (xk[j] - m[j]) * c->it[j];
                T e = EXPM(z);
                T top = z == 0 ? (T)1 : (T)0;   /* then e == 1 exactly */
                ca[j] += top;
                sa[j] += e - top;
            }
        }
        for (ptrdiff_t j = 0; j < B; j++) { cc[j] += (double)ca[j]; ss[j] += (double)sa[j]; }
    }
#endif
    for (ptrdiff_t j = 0; j < B; j++) {
        double ls = cmf_log1p_f64((cc[j] - 1.0) + ss[j]);
        c->sout[0][j] = (double)m[j] + c->t[j] * ls;
        c->sout[1][j] = 1.0;
    }
    for (ptrdiff_t j = 0; j < B; j++) {
        if (S(is_finite)(m[j])) continue;
        int nan = 0;
        for (ptrdiff_t k = 0; k < n; k++) nan |= x[k * ld + j] != x[k * ld + j];
        c->sout[0][j] = nan ? NAN : (double)m[j];
        c->sout[1][j] = nan ? NAN : (m[j] == NINF ? 0.0 : 1.0);
    }
}

#ifdef CMF_VEC
/* logsumexp of the rows of a matrix of short rows (2 <= n <= VN, contiguous rows at any
 * row stride, no weights, no mask, one temperature): CMF_LSB_GROUPS groups of VN rows at
 * a time, each transposed in registers for its maxima and logsumexp's two sums (as
 * S(vcols_sums)), then the log1p of the whole batch in one vector loop.  Each row's
 * arithmetic is that of S(lse_colfn).  Returns the number of rows done (whole batches). */
static ptrdiff_t S(lse_short_rows)(ptrdiff_t R, ptrdiff_t n, const T *x, ptrdiff_t sx, T it, double t,
                                   double *lse, ptrdiff_t sl, double *sign, ptrdiff_t ss)
{
    enum { G = CMF_LSB_GROUPS };
    const V zero = VSET1(0), vit = VSET1(it);
    const int scaled = it != 1;
    T mb[G * VN], cb[G * VN], sb[G * VN];
    double ls[G * VN];
    ptrdiff_t q0 = 0;
    for (; q0 + G * VN <= R; q0 += G * VN) {
        int special = 0;
        for (int gg = 0; gg < G; gg++) {
            V c[VN];
            V m = S(vshort_load)(n, NULL, x + (q0 + gg * VN) * sx, sx, c, S(rows_full)(q0 + gg * VN, R, n, sx), 0);
            VST(mb + gg * VN, m);
            if (VNONFIN(m)) {         /* a harmless shift for those lanes; redone below */
                special = 1;
                T mm[VN];
                for (int jj = 0; jj < VN; jj++) mm[jj] = S(is_finite)(mb[gg * VN + jj]) ? mb[gg * VN + jj] : (T)0;
                m = VLD(mm);
            }
            V c0 = zero, c1 = zero;
            CMF_UNROLL_VN
            for (int k = 0; k < VN; k++)
                if (k < n) {
                    V z = VSUB(c[k], m);
                    if (scaled) z = VMUL(z, vit);
                    const V t0 = VIS0(z);
                    c0 = VADD(c0, t0);
                    c1 = VADD(c1, VSUB(VEXPM(z), t0));
                }
            VST(cb + gg * VN, c0);
            VST(sb + gg * VN, c1);
        }
        for (int j = 0; j < G * VN; j++)      /* vectorised */
            ls[j] = cmf_log1p_f64(((0.0 + (double)cb[j]) - 1.0) + (0.0 + (double)sb[j]));
        for (int j = 0; j < G * VN; j++) {
            const ptrdiff_t q = q0 + j;
            lse[q * sl] = (double)mb[j] + t * ls[j];
            if (sign) sign[q * ss] = 1.0;
        }
        for (int j = 0; special && j < G * VN; j++) {
            if (S(is_finite)(mb[j])) continue;
            const ptrdiff_t q = q0 + j;
            int nan = 0;
            for (ptrdiff_t k = 0; k < n; k++) nan |= x[q * sx + k] != x[q * sx + k];
            lse[q * sl] = nan ? NAN : (double)mb[j];
            if (sign) sign[q * ss] = nan ? NAN : (mb[j] == NINF ? 0.0 : 1.0);
        }
    }
    return q0;
}
#endif

#ifdef CMF_VEC
/* logsumexp of the rows that the row kernel takes (contiguous, at least CMF_SHORT_SLICE
 * long, at any row stride; no weights, no mask, one temperature), CMF_LSM_GROUP rows at a
 * time: each row's maximum and sums as S(lse_rowfn) computes them, then the log1p of the
 * group's sums in one vector loop instead of a scalar log per row (16384 x 128 float32:
 * 1435 -> 855 us).  Rows with a non-finite maximum or a NaN sum go through S(lse_rowfn)
 * itself; every row gets S(lse_rowfn)'s bits (tests/test_kernel_paths.py: cuts of the rows
 * move rows between the two).  Returns the number of rows done (whole groups). */
static void S(lse_rowfn)(S(row) *a);
static ptrdiff_t S(lse_mid_rows)(ptrdiff_t R, ptrdiff_t n, const T *x, ptrdiff_t sx, T it, double t,
                                 double *lse, ptrdiff_t sl, double *sign, ptrdiff_t ss)
{
    enum { G = CMF_LSM_GROUP };
    double cc[G], sm[G], ls[G];
    T mb[G];
    ptrdiff_t q0 = 0;
    for (; q0 + G <= R; q0 += G) {
        int special = 0;
        for (int j = 0; j < G; j++) {
            const T *xr = x + (q0 + j) * sx;
            const T m = S(vmax_row)(n, xr);
            double c = 1.0, sv = 0.0;
            if (S(is_finite)(m)) {
                if (it == 1) S(vlse_impl)(n, xr, m, it, &c, &sv, 0);
                else S(vlse_impl)(n, xr, m, it, &c, &sv, 1);
            }
            mb[j] = m;
            cc[j] = c;
            sm[j] = sv;
            special |= !S(is_finite)(m) || sv != sv;
        }
        for (int j = 0; j < G; j++)                 /* vectorised */
            ls[j] = cmf_log1p_f64((cc[j] - 1.0) + sm[j]);
        for (int j = 0; j < G; j++) {
            const ptrdiff_t q = q0 + j;
            lse[q * sl] = (double)mb[j] + t * ls[j];
            if (sign) sign[q * ss] = 1.0;
        }
        for (int j = 0; special && j < G; j++) {
            if (S(is_finite)(mb[j]) && sm[j] == sm[j]) continue;
            S(row) r;
            memset(&r, 0, sizeof r);
            r.n = n;
            r.in[0] = x + (q0 + j) * sx;
            r.it = it;
            r.t = t;
            S(lse_rowfn)(&r);
            lse[(q0 + j) * sl] = r.sout[0];
            if (sign) sign[(q0 + j) * ss] = r.sout[1];
        }
    }
    return q0;
}
#endif

cmf_status FN(logsumexp)(const cmf_geom *g, cmf_arr x, cmf_arr b, cmf_arr t, cmf_arr mask,
                         cmf_arr lse, cmf_arr sign)
{
#ifdef CMF_VEC
    /* rows (one temperature, no weights, no mask): short ones in batches transposed in
     * registers, those of the row kernel in groups with their logs batched; whole batches
     * or groups here, the rest through the column or row kernel (sign: optional) */
    const int shortr = g->n >= 2 && g->n <= VN && g->n_outer >= CMF_LSB_GROUPS * VN;
    const int midr = g->n >= CMF_SHORT_SLICE && g->n_outer >= CMF_LSM_GROUP;
    if ((shortr || midr) && g->n_inner == 1 && x.sa == 1 && !b.p && !mask.p && lse.p &&
        (!t.p || (t.so == 0 && t.si == 0))) {
        const double t0 = t.p ? *(const double *)t.p : 1.0;
        const ptrdiff_t done = (shortr ? S(lse_short_rows) : S(lse_mid_rows))(
            g->n_outer, g->n, (const T *)x.p, x.so, S(inv_temperature)(t0), t0, (double *)lse.p, lse.so,
            (double *)sign.p, sign.so);
        if (done == g->n_outer) return CMF_OK;
        cmf_geom rest = *g;
        rest.n_outer -= done;
        x.p = (T *)x.p + done * x.so;
        lse.p = (double *)lse.p + done * lse.so;
        if (sign.p) sign.p = (double *)sign.p + done * sign.so;
        S(call) c;
        memset(&c, 0, sizeof c);
        c.nin = 1; c.in[0] = x; c.t = t;
        c.nsout = 2; c.sout[0] = lse; c.sout[1] = sign;
        return S(run)(&rest, &c, S(lse_rowfn), S(lse_colfn));
    }
#endif
    S(call) c;
    memset(&c, 0, sizeof c);
    c.nin = b.p ? 2 : 1; c.in[0] = x; c.in[1] = b; c.mask = mask; c.t = t;
    c.nsout = 2; c.sout[0] = lse; c.sout[1] = sign;
    return S(run)(g, &c, S(lse_rowfn), (b.p || mask.p) ? NULL : S(lse_colfn));
}

/* d lse / d x_i = sign * b_i * exp((x_i - lse) / t), evaluated as
 * sign * b_i * exp((x_i - m) / t) * exp((m - lse) / t) so that the polynomial exp only
 * sees arguments <= 0.  sin = {lse, sign, cotangent}. */
static void S(lse_d_row)(S(row) *a, int jvp)
{
    const ptrdiff_t n = a->n;
    const T *x = a->in[0], *b = a->in[1], *v = a->in[2];
    const uint8_t *mk = a->mask;
    const T it = a->it;
    const double lse = a->sin[0], sgn = a->sin[1], gv = jvp ? 1.0 : a->sin[2];
    T *r = a->out[0];
    T m = NINF;
    for (ptrdiff_t k = 0; k < n; k++) {
        T u = ((!mk || mk[k]) && (!b || b[k] != 0)) ? x[k] : NINF;
        m = u > m ? u : m;
    }
    double dot = 0.0;
    if (lse != lse || sgn != sgn) {
        for (ptrdiff_t k = 0; k < n; k++) if (!jvp) r[k] = (T)NAN;
        dot = NAN;
    } else if (m == NINF || lse == -INFINITY) {
        for (ptrdiff_t k = 0; k < n; k++) if (!jvp) r[k] = 0;
    } else if (m == (T)INFINITY) {
        double cinf = 0.0;
        for (ptrdiff_t k = 0; k < n; k++)
            if ((!mk || mk[k]) && x[k] == (T)INFINITY) cinf += b ? (double)b[k] : 1.0;
        for (ptrdiff_t k = 0; k < n; k++) {
            int on = (!mk || mk[k]) && x[k] == (T)INFINITY;
            double p = on ? (b ? (double)b[k] : 1.0) / cinf : 0.0;
            if (jvp) dot += on ? p * (double)v[k] : 0.0;
            else r[k] = (T)(gv * p);
        }
    } else {
        const double scale = sgn * gv * exp(((double)m - lse) * a->it);
        for (ptrdiff_t k = 0; k < n; k++) {
            int on = (!mk || mk[k]);
            double p = (double)EXPM((x[k] - m) * it) * scale;
            if (b) p *= (double)b[k];
            p = on ? p : 0.0;
            if (jvp) dot += p == 0 ? 0.0 : p * (double)v[k];
            else r[k] = (T)p;
        }
    }
    a->sout[0] = dot;
}
static void S(lse_vjp_rowfn)(S(row) *a) { S(lse_d_row)(a, 0); }
static void S(lse_jvp_rowfn)(S(row) *a) { S(lse_d_row)(a, 1); }

cmf_status FN(logsumexp_vjp)(const cmf_geom *g, cmf_arr x, cmf_arr b, cmf_arr t, cmf_arr mask,
                             cmf_arr lse, cmf_arr sign, cmf_arr v, cmf_arr r)
{
    S(call) c;
    memset(&c, 0, sizeof c);
    c.nin = 2; c.in[0] = x; c.in[1] = b; c.mask = mask; c.t = t;
    c.nout = 1; c.out = r;
    c.nsin = 3; c.sin[0] = lse; c.sin[1] = sign; c.sin[2] = v;
    return S(drive)(g, &c, S(lse_vjp_rowfn));
}

cmf_status FN(logsumexp_jvp)(const cmf_geom *g, cmf_arr x, cmf_arr b, cmf_arr t, cmf_arr mask,
                             cmf_arr lse, cmf_arr sign, cmf_arr v, cmf_arr r)
{
    S(call) c;
    memset(&c, 0, sizeof c);
    c.nin = 3; c.in[0] = x; c.in[1] = b; c.in[2] = v; c.mask = mask; c.t = t;
    c.nsin = 2; c.sin[0] = lse; c.sin[1] = sign;
    c.nsout = 1; c.sout[0] = r;
    return S(drive)(g, &c, S(lse_jvp_rowfn));
}

/* ---------- softmax_mean f = <x, softmax(x / t)> ---------- */
static void S(softmax_mean_rowfn)(S(row) *a)
{
    const ptrdiff_t n = a->n;
    const T *x = a->in[0];
    const uint8_t *mk = a->mask;
    const T it = a->it;
    T m = S(max_row)(n, x, mk);
    if (!S(is_finite)(m)) {
        int nan = 0, live = 0;
        for (ptrdiff_t k = 0; k < n; k++)
            if (!mk || mk[k]) { live = 1; nan |= x[k] != x[k]; }
        a->sout[0] = nan ? NAN : (live ? (double)m : -INFINITY);
        return;
    }
    double sacc[CMF_LANES], aacc[CMF_LANES];
    for (int j = 0; j < CMF_LANES; j++) sacc[j] = aacc[j] = 0.0;
    ptrdiff_t k = 0;
    if (!mk)
        for (; k + CMF_LANES <= n; k += CMF_LANES)
            for (int j = 0; j < CMF_LANES; j++) {
                T e = EXPM((x[k + j] - m) * it);
                double d = (double)x[k + j] - (double)m;
                sacc[j] += (double)e;
                aacc[j] += e > 0 ? (double)e * d : 0.0;
            }
    for (; k < n; k++) {
        if (mk && !mk[k]) continue;
        T e = EXPM((x[k] - m) * it);
        double d = (double)x[k] - (double)m;
        sacc[0] += (double)e;
        aacc[0] += e > 0 ? (double)e * d : 0.0;
    }
    double s = 0.0, acc = 0.0;
    for (int j = 0; j < CMF_LANES; j++) { s += sacc[j]; acc += aacc[j]; }
    a->sout[0] = (double)m + acc / s;
}

cmf_status FN(softmax_mean)(const cmf_geom *g, cmf_arr x, cmf_arr t, cmf_arr mask, cmf_arr f)
{
    S(call) c;
    memset(&c, 0, sizeof c);
    c.nin = 1; c.in[0] = x; c.mask = mask; c.t = t;
    c.nsout = 1; c.sout[0] = f;
    return S(drive)(g, &c, S(softmax_mean_rowfn));
}

/* df/dx_i = p_i (1 + (x_i - f) / t); p from the softmax kernel (so every special value
 * is handled once); terms with p_i == 0 are 0 (never 0 * inf). */
static void S(softmax_mean_d_row)(S(row) *a, int jvp)
{
    const ptrdiff_t n = a->n;
    const T *x = a->in[0], *v = a->in[1];
    const double f = a->sin[0], gv = jvp ? 1.0 : a->sin[1];
    const double it = 1.0 / a->t;
    T *p = jvp ? a->scratch : a->out[0];
    S(softmax_row)(n, x, p, a->mask, a->it, 0);
    double dot = 0.0;
    for (ptrdiff_t k = 0; k < n; k++) {
        double d = (double)x[k] == f ? 0.0 : (double)x[k] - f;
        double w = p[k] == 0 ? 0.0 : (double)p[k] * (1.0 + d * it);
        if (jvp) dot += w == 0 ? 0.0 : w * (double)v[k];
        else p[k] = (T)(gv * w);
    }
    a->sout[0] = dot;
}
static void S(softmax_mean_vjp_rowfn)(S(row) *a) { S(softmax_mean_d_row)(a, 0); }
static void S(softmax_mean_jvp_rowfn)(S(row) *a) { S(softmax_mean_d_row)(a, 1); }

cmf_status FN(softmax_mean_vjp)(const cmf_geom *g, cmf_arr x, cmf_arr t, cmf_arr mask, cmf_arr f,
                                cmf_arr v, cmf_arr r)
{
    S(call) c;
    memset(&c, 0, sizeof c);
    c.nin = 1; c.in[0] = x; c.mask = mask; c.t = t;
    c.nout = 1; c.out = r;
    c.nsin = 2; c.sin[0] = f; c.sin[1] = v;
    return S(drive)(g, &c, S(softmax_mean_vjp_rowfn));
}

cmf_status FN(softmax_mean_jvp)(const cmf_geom *g, cmf_arr x, cmf_arr t, cmf_arr mask, cmf_arr f,
                                cmf_arr v, cmf_arr r)
{
    S(call) c;
    memset(&c, 0, sizeof c);
    c.nin = 2; c.in[0] = x; c.in[1] = v; c.mask = mask; c.t = t;
    c.nsin = 1; c.sin[0] = f;
    c.nsout = 1; c.sout[0] = r;
    c.scratch = 1;
    return S(drive)(g, &c, S(softmax_mean_jvp_rowfn));
}

#undef NINF
#undef TMAX_SM
