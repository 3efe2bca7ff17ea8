/* sparse.tmpl.c: sparsemax, 1.5-entmax and alpha-entmax with their derivatives, written
 * once for T = float / double (see cmf_template.h).  Included after softmax.tmpl.c, whose
 * special-value handling they share: masked entries are ignored, NaN gives NaN, +inf
 * entries share the mass equally, an all -inf slice gives NaN, a fully masked one zeros.
 *
 * Every slice is shifted by its maximum first (z = (alpha - 1) (x - max) / t <= 0, so
 * max z = 0): huge magnitudes and large offsets lose no precision, and the threshold tau
 * of p = [z - tau]_+^(1/(alpha-1)) lies in the bracket [-1, -n^(1-alpha)].
 * No sort: the threshold is found by passes over the slice (masked sums), each
 * vectorisable, in a handful of iterations.
 */

#include "cmf_simd_sparse.h"
#define NINF_S ((T)-INFINITY)
#ifndef CMF_SP_SQRT
#define CMF_SP_SQRT(v) (sizeof(T) == 4 ? (T)sqrtf((float)(v)) : (T)sqrt((double)(v)))
#endif
#ifndef SPC
#define SPC(name) CMF_CAT3(cmf_sp_, name, CMF_CAT(_, SFX))   /* cmf_simd_sparse.h, this T */
#endif

/* ---- the passes of cmf_simd_sparse.h, completed: its vector loop, then the rest here
 * (the plain-C path where there is no vector loop) ---- */

/* z_k = (x_k - m) sc into z_all (may be x); the z_k > lo in order into zs; returns how
 * many; *nan |= (an x_k is NaN).  Branch-free: store, then advance when taken. */
static ptrdiff_t S(sp_compact)(ptrdiff_t n, const T *x, T m, T sc, T lo, T *z_all, T *zs, int *nan)
{
    ptrdiff_t na = 0;
    int bad = 0;
    ptrdiff_t k = SPC(compact_v)(n, x, m, sc, lo, z_all, zs, &na, &bad);
    for (; k < n; k++) {
        const T v = x[k], z = (v - m) * sc;
        z_all[k] = z;
        zs[na] = z;
        na += z > lo;
        bad |= v != v;
    }
    *nan |= bad;
    return na;
}

/* the z_k >= lo, in order, into d (may be z); returns how many */
static ptrdiff_t S(sp_filter)(ptrdiff_t n, const T *z, T *d, T lo)
{
    ptrdiff_t na = 0;
    ptrdiff_t k = SPC(filter_v)(n, z, d, lo, &na);
    for (; k < n; k++) {
        const T v = z[k];
        d[na] = v;
        na += v >= lo;
    }
    return na;
}

/* y_k = pc[j++] where z_k >= lo, else 0 (y may be z) */
static void S(sp_expand_to)(ptrdiff_t n, const T *z, T *y, T lo, const T *pc)
{
    ptrdiff_t j = 0;
    ptrdiff_t k = SPC(expand_v)(n, z, y, lo, pc, &j);
    for (; k < n; k++) {
        const int on = z[k] >= lo;
        y[k] = on ? pc[j] : (T)0;
        j += on;
    }
}

/* over the z_k > t, u = z_k - sh: r = {count, sum u, sum u^2, min u} (the last two when
 * `quad`); the rest branch-free in 4 lanes */
static void S(sp_sums)(ptrdiff_t n, const T *z, double t, double sh, int quad, double r[4])
{
    r[0] = r[1] = r[2] = 0.0;
    r[3] = INFINITY;
    if (n <= 8) {                   /* a few candidates (short slices): no vector set-up */
        for (ptrdiff_t k = 0; k < n; k++) {
            const double zz = (double)z[k], u = zz - sh;
            const int on = zz > t;
            const double uk = cmf_keep_f64(on, u);
            r[0] += cmf_keep_f64(on, 1.0);
            r[1] += uk;
            r[2] += uk * uk;
            r[3] = on && u < r[3] ? u : r[3];
        }
        if (!quad) { r[2] = 0.0; r[3] = INFINITY; }
        return;
    }
    ptrdiff_t k = SPC(sums_v)(n, z, t, sh, quad, r);
    double cl[4] = {0, 0, 0, 0}, al[4] = {0, 0, 0, 0}, ql[4] = {0, 0, 0, 0};
    double ml[4] = {INFINITY, INFINITY, INFINITY, INFINITY};
    for (; k < n; k += 4)
        for (int j = 0; j < 4; j++) {
            const int in = k + j < n;
            const double zz = in ? (double)z[k + j] : (double)NINF_S, u = zz - sh;
            const int on = zz > t;
            const double uk = cmf_keep_f64(on, u);
            cl[j] += cmf_keep_f64(on, 1.0);
            al[j] += uk;
            ql[j] += uk * uk;
            ml[j] = on && u < ml[j] ? u : ml[j];
        }
    for (int j = 0; j < 4; j++) {
        r[0] += cl[j]; r[1] += al[j];
        if (quad) { r[2] += ql[j]; r[3] = ml[j] < r[3] ? ml[j] : r[3]; }
    }
}

/* The sparse VJPs' support {y_k > 0 or NaN} gathered (cmf_sp_vgather_v_*): y_k, v_k in
 * order into yl, vl, the lane masks of groups of 16 entries into mb; returns how many */
static ptrdiff_t S(sp_vgather)(ptrdiff_t n, const T *y, const T *v, T *yl, T *vl, uint16_t *mb)
{
    ptrdiff_t na = 0;
    for (ptrdiff_t k = SPC(vgather_v)(n, y, v, yl, vl, mb, &na); k < n; k += 16) {
        const ptrdiff_t e = n - k < 16 ? n : k + 16;
        unsigned c = 0;
        for (ptrdiff_t q = k; q < e; q++) {
            const T yk = y[q];
            if ((yk > 0) | (yk != yk)) {
                yl[na] = yk;
                vl[na++] = v[q];
                c |= 1u << (q - k);
            }
        }
        mb[k >> 4] = (uint16_t)c;
    }
    return na;
}

/* its inverse: r_k = res[j++] on the gathered entries, 0 elsewhere */
static void S(sp_vscatter)(ptrdiff_t n, const uint16_t *mb, const T *res, T *r)
{
    ptrdiff_t j = 0;
    for (ptrdiff_t k = SPC(vscatter_v)(n, mb, res, r, &j); k < n; k += 16) {
        const unsigned c = mb[k >> 4];
        const ptrdiff_t e = n - k < 16 ? n : k + 16;
        for (ptrdiff_t q = k; q < e; q++) {
            const int on = (c >> (q - k)) & 1u;
            r[q] = on ? res[j] : (T)0;
            j += on;
        }
    }
}

/* dst[j * ldd + i] = src[i * lds + j] (i < nr, j < nc): whole VN x VN blocks transposed in
 * registers (cmf_simd.h), in the order that walks the array with the longer rows along
 * its rows (each line used at once: a power-of-two row spacing keeps lines in few cache
 * sets), the edges scalar */
static void S(sp_transpose)(ptrdiff_t nr, ptrdiff_t nc, const T *src, ptrdiff_t lds, T *dst, ptrdiff_t ldd)
{
    ptrdiff_t nr0 = 0, nc0 = 0;
#ifdef CMF_VEC
    nr0 = nr - nr % VN;
    nc0 = nc - nc % VN;
    const int rows_outer = lds >= ldd;
    for (ptrdiff_t a = 0; a < (rows_outer ? nr0 : nc0); a += VN)
        for (ptrdiff_t b = 0; b < (rows_outer ? nc0 : nr0); b += VN) {
            const ptrdiff_t i0 = rows_outer ? a : b, j0 = rows_outer ? b : a;
            if (rows_outer && i0 + 2 * VN <= nr0)   /* the next rows of a far-strided input */
                for (ptrdiff_t q = 0; q < VN; q++)
                    _mm_prefetch((const char *)(src + (i0 + VN + q) * lds + j0), _MM_HINT_T0);
            V r[VN];
            for (ptrdiff_t q = 0; q < VN; q++) r[q] = VLD(src + (i0 + q) * lds + j0);
            VTR(r);
            for (ptrdiff_t q = 0; q < VN; q++) VST(dst + (j0 + q) * ldd + i0, r[q]);
        }
#endif
    for (ptrdiff_t i = nr0; i < nr; i++)
        for (ptrdiff_t j = 0; j < nc; j++) dst[j * ldd + i] = src[i * lds + j];
    for (ptrdiff_t i = 0; i < nr0; i++)
        for (ptrdiff_t j = nc0; j < nc; j++) dst[j * ldd + i] = src[i * lds + j];
}


/* A slice with NaN: NaN where included, 0 where masked (as softmax). */
static void S(fill_nan)(ptrdiff_t n, T *y, const uint8_t *mk)
{
    for (ptrdiff_t k = 0; k < n; k++) y[k] = (!mk || mk[k]) ? (T)NAN : (T)0;
}

/* Scratch rows (n values of T each) of a row kernel with candidates: the candidates, and
 * the root finder's shrinking active set (later the candidates' outputs). */
#ifndef CMF_CAND_SCRATCH   /* (the same text for either T; losses.tmpl.c uses it too) */
#define CMF_CAND_SCRATCH 2
#endif

/* The start of every sparse row kernel: the slice's maximum into *m, z = (x - m) * sc into
 * y (the output row, which may be x itself: every later pass reads z there), and the
 * entries that can be in the support, z > -1 (included ones), compacted in order into zs;
 * returns how many (at least 1: the maximum).  A slice with no finite answer of the
 * threshold kind (a non-finite maximum, a NaN, every entry masked) gets its output here,
 * as softmax's, and -1 is returned.  Besides this pass and the maximum, only the output
 * pass reads the whole slice: the root finders run on the candidates.  S(sp_cands) is the
 * pass alone, for a known finite maximum (-1: an included NaN; nothing else written). */
static ptrdiff_t S(sp_cands)(ptrdiff_t n, const T *x, T *y, const uint8_t *mk, T m, T sc, T *zs)
{
    int nan = 0;
    ptrdiff_t na = 0;
    if (!mk) {
        na = S(sp_compact)(n, x, m, sc, (T)-1, y, zs, &nan);
    } else {
        for (ptrdiff_t k = 0; k < n; k++) {   /* branch-free: store, then advance when taken */
            const T v = x[k], z = (v - m) * sc;
            const int on = mk[k] != 0;
            y[k] = z;
            zs[na] = z;
            na += (z > (T)-1) & on;
            nan |= (v != v) & on;
        }
    }
    return nan ? -1 : na;
}

static ptrdiff_t S(sp_prep)(ptrdiff_t n, const T *x, T *y, const uint8_t *mk, T sc, T *zs, T *m)
{
    *m = S(max_row)(n, x, mk);
    if (!S(is_finite)(*m)) {
        S(softmax_special)(n, x, 1, y, 1, mk, 1, *m, 0);
        return -1;
    }
    const ptrdiff_t na = S(sp_cands)(n, x, y, mk, *m, sc, zs);
    if (na < 0) S(fill_nan)(n, y, mk);
    return na;
}

/* tau as T hi + lo (lo = 0 for double): z - hi - lo is z - tau rounded once near the
 * support's edge (z - hi is exact there), within an ULP elsewhere */
static void S(sp_split)(double tau, T *hi, T *lo)
{
    *hi = (T)tau;
    *lo = (T)(tau - (double)*hi);
}

/* Output of sparsemax, in place over z: y = [z - tau]_+ (0 where masked). */
static void S(sp_out_lin)(ptrdiff_t n, T *CMF_RESTRICT y, const uint8_t *CMF_RESTRICT mk, double tau)
{
    T th, tl;
    S(sp_split)(tau, &th, &tl);
    if (mk)
        for (ptrdiff_t k = 0; k < n; k++) {
            const T u = (y[k] - th) - tl;
            y[k] = (mk[k] && u > 0) ? u : (T)0;
        }
    else
        for (ptrdiff_t k = 0; k < n; k++) {
            const T u = (y[k] - th) - tl;
            y[k] = u > 0 ? u : (T)0;
        }
}

/* Output of 1.5-entmax, in place over z: y = [z - tau]_+^2 r (0 where masked). */
static void S(sp_out_quad)(ptrdiff_t n, T *CMF_RESTRICT y, const uint8_t *CMF_RESTRICT mk, double tau, T r)
{
    T th, tl;
    S(sp_split)(tau, &th, &tl);
    if (mk)
        for (ptrdiff_t k = 0; k < n; k++) {
            T u = (y[k] - th) - tl;
            u = (mk[k] && u > 0) ? u : (T)0;
            y[k] = u * u * r;
        }
    else
        for (ptrdiff_t k = 0; k < n; k++) {
            T u = (y[k] - th) - tl;
            u = u > 0 ? u : (T)0;
            y[k] = u * u * r;
        }
}

/* Michelot's iteration on the candidates from the lower bound tau = -1 (the maximum alone
 * has mass 1): tau <- (sum_{z > tau} z - 1) / #{z > tau} increases monotonically and stops
 * when the support no longer changes (the support shrinks at every other step, so at most
 * na + 1 steps); exact (tau is the support's closed form).  Sums in double lanes. */
/* the root finders' state, advanced one pass at a time by S(sparsemax_step) /
 * S(entmax15_step) (so that rows can take their steps interleaved: S(sparse_mid_rows)) */
typedef struct {
    double tau, ts;
    ptrdiff_t na;
    int iter;
} S(tau_state);

static void S(tau_init)(S(tau_state) *st, ptrdiff_t na)
{
    st->tau = st->ts = -1.0;
    st->na = na;
    st->iter = 0;
}

/* one step of Michelot's iteration; 1 when done (st->tau is then the threshold) */
static int S(sparsemax_step)(const T *zs, S(tau_state) *st)
{
    double r[4];
    S(sp_sums)(st->na, zs, st->tau, 0.0, 0, r);
    const double tn = (r[1] - 1.0) / r[0];
    st->iter++;
    if (!(tn > st->tau) || st->iter > st->na + 1) return 1;   /* support stable: tau is exact */
    st->tau = tn;
    return 0;
}

static double S(sparsemax_tau)(ptrdiff_t na, const T *zs, int *n_iter)
{
    S(tau_state) st;
    S(tau_init)(&st, na);
    while (!S(sparsemax_step)(zs, &st)) {}
    *n_iter = st.iter;
    return st.tau;
}

/* sparsemax of a slice (scratch: CMF_CAND_SCRATCH rows) */
static void S(sparsemax_row)(ptrdiff_t n, const T *x, T *y, const uint8_t *mk, T it, T *scratch,
                             double *n_iter)
{
    T m;
    const ptrdiff_t na = S(sp_prep)(n, x, y, mk, it, scratch, &m);
    if (na < 0) { if (n_iter) *n_iter = 0; return; }
    int iter;
    const double tau = S(sparsemax_tau)(na, scratch, &iter);
    S(sp_out_lin)(n, y, mk, tau);
    if (n_iter) *n_iter = iter;
}

/* 1.5-entmax's threshold on the candidates, exactly: tau solves sum_S (z - tau)^2 = 1 on
 * the support S = {z > tau}.  From a lower bound tau (first -1), one pass over the active
 * set A = {z > tau} (u = z - tau >= 0: count, sum u, sum u^2, min u) gives the closed form
 * tau_A = tau + mean(u) - sqrt(mean(u)^2 - (sum u^2 - 1) / |A|); when every entry of A
 * stays above it, A is the support and tau_A is exact.  Otherwise the next lower bound is
 * the larger of a Newton step on the convex f(tau) = sum (z - tau)_+^2 - 1 from below and
 * Jensen's bound tau + mean(u) - |A|^(-1/2) (mean u^2 >= mean(u)^2); the active set is
 * compacted as it shrinks.  zs is overwritten. */
static int S(entmax15_step)(T *zs, S(tau_state) *st)
{
    const ptrdiff_t na = st->na;
    const double tau = st->tau;
    double r[4];
    S(sp_sums)(na, zs, tau, tau, 1, r);
    const double c = r[0], s1 = r[1], s2 = r[2], um = r[3];
    st->iter++;
    const double mu = s1 / c, d = mu * mu - (s2 - 1.0) / c;
    const double t1 = mu - sqrt(d > 0 ? d : 0.0);
    double ts = tau + t1;
    st->ts = ts;
    if ((d >= 0 && um >= t1) || st->iter >= 64) return 1;   /* the support: exact */
    /* a better lower bound (both are, in exact arithmetic) */
    const double tn = s2 > 1.0 ? tau + (s2 - 1.0) / (2.0 * s1) : tau;
    const double tj = tau + mu - 1.0 / sqrt(c);
    const double t2 = tn > tj ? tn : tj;
    if (!(t2 > tau)) {
        /* tau is the root to this precision (only rounding kept A from passing):
         * settle the support of the closed form itself */
        for (int rep = 0; rep < 4; rep++) {
            double a1 = 0.0, a2 = 0.0, ac = 0.0;
            for (ptrdiff_t q = 0; q < na; q++) {
                const double z = (double)zs[q];
                if (z > ts) { a1 += z; a2 += z * z; ac += 1.0; }
            }
            const double m1 = a1 / ac, dd = m1 * m1 - (a2 - 1.0) / ac;
            const double tn2 = m1 - sqrt(dd > 0 ? dd : 0.0);
            if (tn2 == ts) break;
            ts = tn2;
        }
        st->ts = ts;
        return 1;
    }
    st->tau = t2;
    /* drop the entries left behind (z >= (T)tau keeps every z > tau: no T lies
     * strictly between tau and its rounding) */
    if (c < (double)na) st->na = S(sp_filter)(na, zs, zs, (T)t2);
    return 0;
}

static double S(entmax15_tau)(ptrdiff_t na, T *zs, int *n_iter, ptrdiff_t *na_out)
{
    S(tau_state) st;
    S(tau_init)(&st, na);
    while (!S(entmax15_step)(zs, &st)) {}
    *n_iter = st.iter;
    *na_out = st.na;
    return st.ts;
}

/* u^beta for u in (0, 1], beta > 0 (exp of a non-positive argument) */
static inline double S(powu)(double u, double beta)
{
    return (double)cmf_expm_f64(beta * cmf_log_f64(u));
}

/* Pads a candidate list with -inf (in no support) to a whole number of CMF_LANES, when
 * its row has room, so that the vectorised passes need no scalar tail; returns the padded
 * length (the list itself is still the first na entries). */
static ptrdiff_t S(sp_pad)(ptrdiff_t na, T *za, ptrdiff_t cap)
{
    const ptrdiff_t np = (na + CMF_LANES - 1) / CMF_LANES * CMF_LANES;
    if (np > cap) return na;
    for (ptrdiff_t k = na; k < np; k++) za[k] = NINF_S;
    return np;
}

/* Halley's sums in float lanes (float slices, moderate beta, far from the root): over
 * u = z - tau > 0, r[0] = sum u^beta, r[1] = sum u^(beta-1), r[2] = sum u^(beta-2), each
 * within about 1e-5 relative (float log and exp, float lane sums). */
static void S(powsums_lo)(ptrdiff_t na, const T *za, double tau, double beta, double r[3])
{
    T th, tl;
    S(sp_split)(tau, &th, &tl);
    const float bf = (float)beta;
    float fa[CMF_LANES], ga[CMF_LANES], ha[CMF_LANES];
    for (int j = 0; j < CMF_LANES; j++) fa[j] = ga[j] = ha[j] = 0.0f;
    ptrdiff_t k = 0;
    for (; k + CMF_LANES <= na; k += CMF_LANES)
        for (int j = 0; j < CMF_LANES; j++) {
            const float u = (float)((za[k + j] - th) - tl);
            const int pos = u > 0;
            const float uu = pos ? u : 1.0f;
            const float pb = pos ? cmf_expm_f32(bf * cmf_sp_logu_f32(uu)) : 0.0f;
            const float ru = 1.0f / uu;
            fa[j] += pb;
            ga[j] += pb * ru;
            ha[j] += pb * ru * ru;
        }
    double f = 0.0, g = 0.0, h = 0.0;
    for (int j = 0; j < CMF_LANES; j++) { f += fa[j]; g += ga[j]; h += ha[j]; }
    for (; k < na; k++) {
        const float u = (float)((za[k] - th) - tl);
        if (!(u > 0)) continue;
        const float pb = cmf_expm_f32(bf * cmf_sp_logu_f32(u)), ru = 1.0f / u;
        f += pb;
        g += pb * ru;
        h += pb * ru * ru;
    }
    r[0] = f;
    r[1] = g;
    r[2] = h;
}

/* The least T above -1: the candidates z > -1 are the z >= CMF_SP_ABOVE_M1. */
#define SP_ABOVE_M1 ((T)(-1.0 + (sizeof(T) == 4 ? 0x1p-24 : 0x1p-53)))

/* alpha-entmax for 1 < alpha, alpha != 2, 1.5: the threshold tau of the candidates
 * zs[0..na).  f(tau) = sum (z - tau)_+^beta - 1, beta = 1/(alpha-1), is decreasing on the
 * bracket [lo, hi] = [-1, -live^(1-alpha)] (live: the number of included entries).  For
 * alpha < 2 a few passes of Jensen's lower bound first (plain sums, no powers).  Then
 * Halley steps (Newton for alpha > 2, where Halley stalls at the support's edges) from the
 * end where the function's curvature makes them monotone, falling back to bisection
 * whenever a step leaves the bracket.  The active set (the candidates >= lo as T, a
 * superset of {z > lo}) shrinks into zb as lo rises; on return *za_out / *na_out are the
 * final active set (a superset of the support) and *lo_out its threshold (z >= *lo_out).
 * zs and zb have room for cap values each. */
static double S(entmax_tau)(ptrdiff_t na, T *zs, T *zb, ptrdiff_t cap, double alpha, ptrdiff_t live,
                            int *n_iter, T **za_out, ptrdiff_t *na_out, T *lo_out)
{
    const double beta = 1.0 / (alpha - 1.0);
    T *za = zs, lo_t = SP_ABOVE_M1;
    double lo = -1.0, hi = -cmf_expm_f64((1.0 - alpha) * cmf_log_f64((double)(live > 0 ? live : 1)));
    if (hi < lo) hi = lo;
    double tau = lo;
    const double tol = (sizeof(T) == 4 ? 1e-7 : 4e-16);
    /* |sum p - 1| below the rounding of the sum itself: tau cannot get better */
    const double ftol = (sizeof(T) == 4 ? 0x1p-24 : 0x1p-52) * (4.0 + sqrt((double)na));
    int iter = 0;
#define SP_SHRINK(LO)                                                              \
    do {                                                                           \
        const T nl_ = (T)(LO);                                                     \
        if (nl_ > lo_t) {          /* keeps every z > LO: no T lies between LO and nl_ */ \
            na = S(sp_filter)(na, za, zb, nl_);                                     \
            za = zb;                                                               \
            lo_t = nl_;                                                            \
        }                                                                          \
    } while (0)
    if (alpha < 2.0) {
        /* Jensen's lower bounds first (u^beta is convex): for any set C of entries,
         * sum_C (z - tau)_+^beta >= |C| (mean_C z - tau)_+^beta, so tau + mean(u) -
         * |C|^(1 - alpha) over C = {z > tau} is at most the root.  Passes of plain sums,
         * while they gain much. */
        for (int jp = 0; jp < 2; jp++) {
            double r[4];
            S(sp_sums)(na, za, tau, tau, 0, r);
            iter++;
            const double tj = tau + r[1] / r[0] - cmf_expm_f64((1.0 - alpha) * cmf_log_f64(r[0]));
            if (!(tj > tau && tj <= hi)) break;
            const double gain = tj - tau;
            tau = lo = tj;
            SP_SHRINK(tau);
            if (gain < 0.05 * fabs(tau)) break;
        }
    }
    /* float slices: the first Halley steps on float sums (cheaper by far), until |f| is
     * small; a bracket end moves on such a sum only when its sign is sure, and only the
     * double sums decide convergence */
    int lowp = sizeof(T) == 4 && beta <= 8.0;
    for (; iter < 100;) {
        double f = -1.0, d1 = 0.0, d2 = 0.0;
        ptrdiff_t k = 0;
        const int was_lowp = lowp;
        int sure = 1;
        const ptrdiff_t np = S(sp_pad)(na, za, cap);
        if (lowp) {
            double r[3];
            S(powsums_lo)(np, za, tau, beta, r);
            f = r[0] - 1.0;
            d1 = r[1];
            d2 = r[2];
            k = na;
            lowp = fabs(f) > 1e-3;
            sure = fabs(f) > 1e-4;
        } else if (np >= CMF_LANES) {   /* lane sums only pay off over many candidates */
            double fa[CMF_LANES], ga[CMF_LANES], ha[CMF_LANES];
            for (int j = 0; j < CMF_LANES; j++) fa[j] = ga[j] = ha[j] = 0.0;
            for (; k + CMF_LANES <= np; k += CMF_LANES)
                for (int j = 0; j < CMF_LANES; j++) {
                    double u = (double)za[k + j] - tau;
                    int pos = u > 0;
                    double uu = cmf_keep_f64(pos, u) + cmf_keep_f64(!pos, 1.0);
                    double pb = cmf_keep_f64(pos, S(powu)(uu, beta));
                    double r = 1.0 / uu;
                    fa[j] += pb;
                    ga[j] += pb * r;
                    ha[j] += pb * r * r;
                }
            for (int j = 0; j < CMF_LANES; j++) { f += fa[j]; d1 += ga[j]; d2 += ha[j]; }
        }
        for (; k < np; k++) {      /* the tail, or every candidate when they are few */
            double u = (double)za[k] - tau;
            if (!(u > 0)) continue;
            double pb = S(powu)(u, beta);
            f += pb;
            d1 += pb / u;
            d2 += pb / (u * u);
        }
        iter++;
        if (!was_lowp && fabs(f) <= ftol) break;
        if (!sure) {
            /* (keep the bracket) */
        } else if (f > 0) {
            /* the lower end rose: entries at or below it are out of the support for good */
            lo = tau;
            SP_SHRINK(lo);
        } else {
            hi = tau;
        }
        double fp = -beta * d1, fpp = beta * (beta - 1.0) * d2, step;
        if (alpha < 2.0) step = 2.0 * f * fp / (2.0 * fp * fp - f * fpp);   /* Halley */
        else step = f / fp;                                             /* Newton */
        double tn = tau - step;
        /* safeguard: a step may land on the bracket's ends (the root can be one of them,
         * e.g. tau = -1 when the maximum alone carries the mass), not beyond */
        if (!(tn >= lo && tn <= hi)) tn = 0.5 * (lo + hi);
        const double dt = fabs(tn - tau);
        tau = tn;
        if (!was_lowp && (dt <= tol * (fabs(tau) > 1e-3 ? fabs(tau) : 1e-3) || hi - lo <= tol * 1e-3)) break;
    }
#undef SP_SHRINK
    *n_iter = iter;
    *za_out = za;
    *na_out = na;
    *lo_out = lo_t;
    return tau;
}

/* sum over the candidates of (z - tau)_+^2 (1.5-entmax's normaliser, about 1) */
static double S(quad_total)(ptrdiff_t na, const T *za, double tau)
{
    double acc[CMF_LANES];
    for (int j = 0; j < CMF_LANES; j++) acc[j] = 0.0;
    ptrdiff_t k = 0;
    for (; k + CMF_LANES <= na; k += CMF_LANES)
        for (int j = 0; j < CMF_LANES; j++) {
            double u = (double)za[k + j] - tau;
            u = cmf_keep_f64(u > 0, u);
            acc[j] += u * u;
        }
    double tot = 0.0;
    for (int j = 0; j < CMF_LANES; j++) tot += acc[j];
    for (; k < na; k++) {
        double u = (double)za[k] - tau;
        if (u > 0) tot += u * u;
    }
    return tot;
}

/* alpha-entmax's outputs on an active set za (a superset of the support): p = (z - tau)_+^beta
 * into pc (in za's order), renormalised so that it sums to 1 */
static void S(entmax_cand_p)(ptrdiff_t na, const T *za, T *pc, double tau, double beta)
{
    double tot = 0.0;
    ptrdiff_t k = 0;
    if (sizeof(T) == 4 && beta <= 8.0) {
        /* float slices, moderate beta: float powers (about (beta |log u| + 2) ULP) */
        T th, tl;
        S(sp_split)(tau, &th, &tl);
        const float bf = (float)beta;
        float acc[CMF_LANES];
        for (int j = 0; j < CMF_LANES; j++) acc[j] = 0.0f;
        for (; k + CMF_LANES <= na; k += CMF_LANES)
            for (int j = 0; j < CMF_LANES; j++) {
                const float u = (float)((za[k + j] - th) - tl);
                const int pos = u > 0;
                const float p = pos ? cmf_expm_f32(bf * cmf_sp_logu_f32(pos ? u : 1.0f)) : 0.0f;
                pc[k + j] = (T)p;
                acc[j] += p;
            }
        for (int j = 0; j < CMF_LANES; j++) tot += (double)acc[j];
        for (; k < na; k++) {
            const float u = (float)((za[k] - th) - tl);
            const float p = u > 0 ? cmf_expm_f32(bf * cmf_sp_logu_f32(u)) : 0.0f;
            pc[k] = (T)p;
            tot += (double)p;
        }
    } else {
        double acc[CMF_LANES];
        for (int j = 0; j < CMF_LANES; j++) acc[j] = 0.0;
        for (; k + CMF_LANES <= na; k += CMF_LANES)        /* (lane sums: vectorised) */
            for (int j = 0; j < CMF_LANES; j++) {
                double u = (double)za[k + j] - tau;
                int pos = u > 0;
                double uu = cmf_keep_f64(pos, u) + cmf_keep_f64(!pos, 1.0);
                double p = cmf_keep_f64(pos, S(powu)(uu, beta));
                pc[k + j] = (T)p;
                acc[j] += p;
            }
        for (int j = 0; j < CMF_LANES; j++) tot += acc[j];
        for (; k < na; k++) {
            double u = (double)za[k] - tau;
            double p = u > 0 ? S(powu)(u, beta) : 0.0;
            pc[k] = (T)p;
            tot += p;
        }
    }
    const T r = (T)(1.0 / tot);
    for (k = 0; k < na; k++) pc[k] *= r;
}

/* The active set's outputs pc back to their places: y_k = pc[j] for the j-th k with
 * z_k = y_k >= lo (included), 0 elsewhere (in place over z). */
static void S(sp_expand)(ptrdiff_t n, T *y, const uint8_t *mk, T lo, const T *pc)
{
    if (!mk) {
        S(sp_expand_to)(n, y, y, lo, pc);
        return;
    }
    ptrdiff_t j = 0;
    for (ptrdiff_t k = 0; k < n; k++) {
        const int on = (y[k] >= lo) & (mk[k] != 0);
        y[k] = on ? pc[j] : (T)0;
        j += on;
    }
}

/* alpha-entmax of a slice, 1 <= alpha (scratch: CMF_CAND_SCRATCH rows) */
static void S(entmax_row)(ptrdiff_t n, const T *x, T *y, const uint8_t *mk, T it, double alpha,
                          T *scratch, double *n_iter)
{
    if (alpha == 1.0) { S(softmax_row)(n, x, y, mk, it, 0); if (n_iter) *n_iter = 0; return; }
    if (alpha == 2.0) { S(sparsemax_row)(n, x, y, mk, it, scratch, n_iter); return; }
    const double am1 = alpha - 1.0, beta = 1.0 / am1;
    const T sc = (T)((double)it * am1) > 0 ? (T)((double)it * am1) : (T)0;
    T m, *zs = scratch, *zb = scratch + n, *za;
    /* short slices: candidate rows on the stack, with room for whole vectors (the root
     * finder's passes then run on padded vectors, not in its scalar tails) */
    T loc[4 * CMF_LANES];
    ptrdiff_t cap = n;
    if (n < 2 * CMF_LANES) {
        zs = loc;
        zb = loc + 2 * CMF_LANES;
        cap = 2 * CMF_LANES;
    }
    const ptrdiff_t na = S(sp_prep)(n, x, y, mk, sc, zs, &m);
    if (na < 0) { if (n_iter) *n_iter = 0; return; }
    ptrdiff_t live = n;
    if (mk) { live = 0; for (ptrdiff_t k = 0; k < n; k++) live += mk[k] != 0; }
    int iter;
    ptrdiff_t nact;
    if (beta == 2.0) {
        const double tau = S(entmax15_tau)(na, zs, &iter, &nact);
        S(sp_out_quad)(n, y, mk, tau, (T)(1.0 / S(quad_total)(nact, zs, tau)));
    } else {
        T lo_t;
        const double tau = S(entmax_tau)(na, zs, zb, cap, alpha, live, &iter, &za, &nact, &lo_t);
        T *pc = za == zs ? zb : zs;
        S(entmax_cand_p)(S(sp_pad)(nact, za, cap), za, pc, tau, beta);
        S(sp_expand)(n, y, mk, lo_t, pc);
    }
    if (n_iter) *n_iter = iter;
}

static void S(sparsemax_rowfn)(S(row) *a)
{
    S(sparsemax_row)(a->n, a->in[0], a->out[0], a->mask, a->it, a->scratch, NULL);
}

/* sin[0] = alpha; sout[0] = iterations (when asked) */
static void S(entmax_rowfn)(S(row) *a)
{
    double it_count = 0.0;
    S(entmax_row)(a->n, a->in[0], a->out[0], a->mask, a->it, a->sin[0], a->scratch, &it_count);
    a->sout[0] = it_count;
}

/* ---------- column kernels: sparsemax and 1.5-entmax, B slices side by side ----------
 * (S(cols): element k of lane j at x[k * ldx + j]; short or strided slices gathered into
 * tiles by the column driver, a non-last axis read in place.)  Every lane runs the row
 * kernel's iteration on its own, each pass vectorised across the lanes, in blocks of
 * CMF_SP_CB lanes that stay in L2 between passes; a lane's result never depends on the
 * other lanes (a lane that has converged keeps its threshold), so neither the grouping nor
 * the threads matter.  Pass 1 stores z = (x - m) sc in the output (every later pass reads
 * z there: no recomputed product is contracted into an FMA), with the first sums; then one
 * pass per step of the slowest lane of the block; then the output in place.  A lane with a
 * non-finite maximum is computed by the row kernel from a copy taken before anything is
 * written; a NaN lane gets NaN (0 where masked); a lane that does not settle (rounding) is
 * redone by the row kernel on its stored z. */
#define CMF_SP_CB 128

/* lane j of a column block through the row kernel: from xin (x, or the stored z with the
 * scale that keeps it: it = 1 / (alpha - 1)), into ybuf (n values); needs 4n + n bytes */
#define CMF_SP_LANE_STACK 48     /* lanes of up to this many entries: buffers on the stack */
static int S(sp_lane_row)(ptrdiff_t n, const uint8_t *mk, ptrdiff_t ldm, ptrdiff_t j, const T *xin, ptrdiff_t ldx,
                          T it, double alpha, T *ybuf, double *n_iter)
{
    T sbuf[CMF_SP_LANE_STACK * (1 + CMF_CAND_SCRATCH)];
    uint8_t smb[CMF_SP_LANE_STACK];
    const int small = n <= CMF_SP_LANE_STACK;
    T *buf = small ? sbuf : (T *)malloc((size_t)(n * (1 + CMF_CAND_SCRATCH) + 1) * sizeof(T));
    uint8_t *mb = !mk ? NULL : small ? smb : (uint8_t *)malloc((size_t)n + 1);
    if (!buf || (mk && !mb)) {
        if (!small) { free(buf); free(mb); }
        return 0;
    }
    for (ptrdiff_t q = 0; q < n; q++) buf[q] = xin[q * ldx + j];
    if (mb)
        for (ptrdiff_t q = 0; q < n; q++) mb[q] = mk[q * ldm + j];
    S(entmax_row)(n, buf, ybuf, mb, it, alpha, buf + n, n_iter);
    if (!small) { free(buf); free(mb); }
    return 1;
}

/* The lanes j < B with state[j] == 2 through the row kernel, from x as it is now (alpha,
 * or each lane's al[j] when al is given), each into row slot[j] of the buffer returned
 * (NULL when there is none); a lane whose row kernel could not be had gets state 3 (NaN);
 * the iterations into iters[j] when iters is given. */
static T *S(sp_lanes_apart)(ptrdiff_t n, ptrdiff_t B, const T *x, ptrdiff_t ldx, const uint8_t *mk, ptrdiff_t ldm,
                            const T *itl, double alpha, const double *al, double *state, ptrdiff_t *slot,
                            double *iters)
{
    ptrdiff_t ns = 0;
    for (ptrdiff_t j = 0; j < B; j++) ns += state[j] == 2;
    if (!ns) return NULL;
    T *spec = (T *)malloc((size_t)(ns * n + 1) * sizeof(T));
    ptrdiff_t q = 0;
    for (ptrdiff_t j = 0; j < B; j++)
        if (state[j] == 2) {
            slot[j] = q++;
            if (!spec || !S(sp_lane_row)(n, mk, ldm, j, x, ldx, itl[j], al ? al[j] : alpha, spec + slot[j] * n,
                                         iters ? &iters[j] : NULL))
                state[j] = 3;                  /* out of memory: NaN */
        }
    return spec;
}

/* One pass of a strip of jl <= CMF_SP_SL lanes (lane j: y[q * ldy + j], q < n): over the
 * included z > tau[j], with u = z - tau[j] (1.5-entmax) or z (sparsemax): count, sum u,
 * sum u^2, min u; and the number of included NaN.  Register accumulators: the strip is
 * walked down its rows once per pass. */
#define CMF_SP_SL 16
static CMF_INLINE void S(strip_sums)(ptrdiff_t n, const T *y, ptrdiff_t ldy, const uint8_t *mk, ptrdiff_t ldm,
                                     ptrdiff_t jl, const double *tau, const int quad, double *c, double *s1,
                                     double *s2, double *um, double *nn)
{
    double cc[CMF_SP_SL], a1[CMF_SP_SL], a2[CMF_SP_SL], mm[CMF_SP_SL], na[CMF_SP_SL], tt[CMF_SP_SL];
    for (int j = 0; j < CMF_SP_SL; j++) {
        cc[j] = a1[j] = a2[j] = na[j] = 0.0;
        mm[j] = INFINITY;
        tt[j] = j < jl ? tau[j] : 0.0;
    }
    if (jl == CMF_SP_SL && !mk) {
        for (ptrdiff_t q = 0; q < n; q++) {
            const T *zq = y + q * ldy;
            for (int j = 0; j < CMF_SP_SL; j++) {
                const double z = (double)zq[j];
                const int on = z > tt[j];
                const double u = quad ? z - tt[j] : z;
                const double uk = cmf_keep_f64(on, u);
                cc[j] += cmf_keep_f64(on, 1.0);
                a1[j] += uk;
                a2[j] += uk * uk;
                mm[j] = on && u < mm[j] ? u : mm[j];
                na[j] += cmf_keep_f64(z != z, 1.0);
            }
        }
    } else {
        for (ptrdiff_t q = 0; q < n; q++) {
            const T *zq = y + q * ldy;
            const uint8_t *mq = mk ? mk + q * ldm : NULL;
            for (ptrdiff_t j = 0; j < jl; j++) {
                const double z = (double)zq[j];
                const int incl = !mq || mq[j];
                const int on = (z > tt[j]) & incl;
                const double u = quad ? z - tt[j] : z;
                if (on) {
                    cc[j] += 1.0;
                    a1[j] += u;
                    a2[j] += u * u;
                    mm[j] = u < mm[j] ? u : mm[j];
                }
                na[j] += (z != z) & incl ? 1.0 : 0.0;
            }
        }
    }
    for (ptrdiff_t j = 0; j < jl; j++) {
        c[j] = cc[j]; s1[j] = a1[j]; s2[j] = a2[j]; um[j] = mm[j]; nn[j] = na[j];
    }
}

/* B <= CMF_SP_CB lanes (x may be y).  lanes (when not NULL, 3 B doubles): whether lane j
 * was solved here (1; else its output came from the row kernel or is NaN), its threshold
 * and its maximum m (for the losses). */
static void S(sparse_block)(ptrdiff_t n, ptrdiff_t B, const T *x, ptrdiff_t ldx, T *y, ptrdiff_t ldy,
                            const uint8_t *mk, ptrdiff_t ldm, const T *itl, double *nit, double alpha,
                            double *lanes)
{
    const int quad = alpha != 2.0;             /* 1.5-entmax, else sparsemax */
    const double zk = quad ? 0.5 : 1.0;        /* sc = it (alpha - 1) */
    {
        T m[CMF_SP_CB], sc[CMF_SP_CB], th[CMF_SP_CB], tl[CMF_SP_CB], r[CMF_SP_CB];
        double tau[CMF_SP_CB], c[CMF_SP_CB], s1[CMF_SP_CB], s2[CMF_SP_CB], um[CMF_SP_CB], nn[CMF_SP_CB];
        /* state: 0 iterating, 1 settled, 2 special, 3 NaN, 4 redo (doubles: the steps are
         * lane arrays that vectorise) */
        double state[CMF_SP_CB], iters[CMF_SP_CB];
        ptrdiff_t slot[CMF_SP_CB];                 /* a state-2 or -4 lane's row in spec / redo */
        S(cols_max)(n, B, x, ldx, mk, ldm, m);
        /* lanes with a non-finite maximum: the row kernel, from x as it is now */
        T *spec = NULL;
        ptrdiff_t nspec = 0;
        for (ptrdiff_t j = 0; j < CMF_SP_CB; j++) {     /* (lanes past B: settled) */
            state[j] = 1;
            iters[j] = 0;
            tau[j] = 0.0;
        }
        for (ptrdiff_t j = 0; j < B; j++) {
            state[j] = S(is_finite)(m[j]) ? 0 : 2;
            nspec += state[j] == 2;
            sc[j] = (T)((double)itl[j] * zk);
            if (state[j]) m[j] = 0;
        }
        if (nspec) spec = S(sp_lanes_apart)(n, B, x, ldx, mk, ldm, itl, alpha, NULL, state, slot, NULL);
        /* pass 1: z into y */
        for (ptrdiff_t q = 0; q < n; q++) {
            const T *xq = x + q * ldx;
            T *yq = y + q * ldy;
            for (ptrdiff_t j = 0; j < B; j++) yq[j] = (xq[j] - m[j]) * sc[j];
        }
        /* strips of lanes, each lane on its own until every lane of the strip has settled */
        for (ptrdiff_t s0 = 0; s0 < B; s0 += CMF_SP_SL) {
            const ptrdiff_t jl = B - s0 < CMF_SP_SL ? B - s0 : CMF_SP_SL;
            const T *ys = y + s0;
            const uint8_t *ms = mk ? mk + s0 : NULL;
            for (ptrdiff_t j = s0; j < s0 + jl; j++) tau[j] = -1.0;
            double rs[80];
            for (int pass = 0;; pass++) {
                if (!(jl == CMF_SP_SL && !ms && SPC(strip16_v)(n, ys, ldy, tau + s0, quad, rs))) {
                    S(strip_sums)(n, ys, ldy, ms, ldm, jl, tau + s0, quad, c + s0, s1 + s0, s2 + s0, um + s0, nn + s0);
                    for (ptrdiff_t j = 0; j < CMF_SP_SL; j++) {   /* (lanes past jl: settled) */
                        const int in = j < jl;
                        rs[j] = in ? c[s0 + j] : 1.0;
                        rs[16 + j] = in ? s1[s0 + j] : 1.0;
                        rs[32 + j] = in ? s2[s0 + j] : 1.0;
                        rs[48 + j] = in ? um[s0 + j] : 1.0;
                        rs[64 + j] = in ? nn[s0 + j] : 0.0;
                    }
                }
                if (!cmf_sp_step16(quad, pass == 0, (double)n, state + s0, iters + s0, tau + s0, rs)) break;
            }
            if (quad) {                           /* the normaliser: one more pass */
                S(strip_sums)(n, ys, ldy, ms, ldm, jl, tau + s0, 1, c + s0, s1 + s0, s2 + s0, um + s0, nn + s0);
                for (ptrdiff_t j = s0; j < s0 + jl; j++) r[j] = (T)(1.0 / s2[j]);
            }
        }
        for (ptrdiff_t j = 0; j < B; j++) {
            if (state[j] != 1) tau[j] = 0.0;
            S(sp_split)(tau[j], &th[j], &tl[j]);
            if (!quad) r[j] = 1;
        }
        /* lanes that did not settle: the row kernel on their stored z (before the output
         * pass overwrites it), kept aside */
        T *redo = NULL;
        ptrdiff_t nredo = 0;
        for (ptrdiff_t j = 0; j < B; j++) nredo += state[j] == 4;
        if (nredo) {
            redo = (T *)malloc((size_t)(nredo * n + 1) * sizeof(T));
            ptrdiff_t q = 0;
            for (ptrdiff_t j = 0; j < B; j++)
                if (state[j] == 4) {
                    double it2 = 0.0;
                    slot[j] = q++;
                    if (!redo || !S(sp_lane_row)(n, mk, ldm, j, y, ldy, (T)(1.0 / zk), alpha, redo + slot[j] * n, &it2))
                        state[j] = 3;
                    iters[j] += it2;
                }
        }
        /* the output, in place over z */
        for (ptrdiff_t q = 0; q < n; q++) {
            T *yq = y + q * ldy;
            const uint8_t *mq = mk ? mk + q * ldm : NULL;
            if (mq)
                for (ptrdiff_t j = 0; j < B; j++) {
                    T u = (yq[j] - th[j]) - tl[j];
                    u = (u > 0) & (mq[j] != 0) ? u : (T)0;
                    yq[j] = quad ? u * u * r[j] : u;
                }
            else if (quad)
                for (ptrdiff_t j = 0; j < B; j++) {
                    T u = (yq[j] - th[j]) - tl[j];
                    u = u > 0 ? u : (T)0;
                    yq[j] = u * u * r[j];
                }
            else
                for (ptrdiff_t j = 0; j < B; j++) {
                    const T u = (yq[j] - th[j]) - tl[j];
                    yq[j] = u > 0 ? u : (T)0;
                }
        }
        /* the lanes computed apart */
        for (ptrdiff_t j = 0; j < B; j++) {
            if (state[j] == 2 || state[j] == 4) {
                /* (each by its slot: a lane whose row kernel failed, now NaN, keeps its
                 * slot, so the lanes after it read their own rows) */
                const T *src = (state[j] == 2 ? spec : redo) + slot[j] * n;
                for (ptrdiff_t q = 0; q < n; q++) y[q * ldy + j] = src[q];
            } else if (state[j] == 3) {
                for (ptrdiff_t q = 0; q < n; q++) y[q * ldy + j] = (!mk || mk[q * ldm + j]) ? (T)NAN : (T)0;
                iters[j] = 0;
            }
            if (nit) nit[j] = state[j] == 2 ? 0.0 : iters[j];
            if (lanes) {
                lanes[j] = state[j] == 1 ? 1.0 : 0.0;
                lanes[B + j] = tau[j];
                lanes[2 * B + j] = (double)m[j];
            }
        }
        free(spec);
        free(redo);
    }
}

/* Blocks of CMF_SP_CB lanes.  Lanes far apart in memory (a non-last axis read in place,
 * rows a power of two apart, all in a few cache sets) are copied into a padded tile first,
 * computed there and copied out, so that the passes after the first hit L2. */
/* Long lanes (a non-last axis): groups of 16 lanes transposed into rows (register
 * transposes), the row kernel on each (the same result as for the same values along the
 * last axis), transposed back; alpha, or each lane's al[j] when al is given.  Returns 0
 * when the rows' buffer cannot be had. */
static int S(sparse_cols_rows)(const S(cols) *k, double alpha, const double *al)
{
    /* as many lanes per group as keep the rows within about 512 KiB (at least 16): each
     * row of the input is then read over a long contiguous stretch */
    const ptrdiff_t n = k->n, ldr = n + 16;
    ptrdiff_t G = ((ptrdiff_t)(((size_t)1 << 19) / ((size_t)ldr * sizeof(T))) / 16) * 16;
    G = G < 16 ? 16 : G > 256 ? 256 : G;
    T *R = (T *)malloc(((size_t)(G * ldr) + (size_t)CMF_CAND_SCRATCH * (size_t)n) * sizeof(T)
                       + (k->mask ? (size_t)n : 0) + 1);
    if (!R) return 0;
    T *scr = R + G * ldr;
    uint8_t *mb = k->mask ? (uint8_t *)(scr + CMF_CAND_SCRATCH * n) : NULL;
    for (ptrdiff_t j0 = 0; j0 < k->B; j0 += G) {
        const ptrdiff_t g = k->B - j0 < G ? k->B - j0 : G;
        S(sp_transpose)(n, g, k->in[0] + j0, k->ldi[0], R, ldr);
        for (ptrdiff_t j = 0; j < g; j++) {
            if (mb)
                for (ptrdiff_t q = 0; q < n; q++) mb[q] = k->mask[q * k->ldm + j0 + j];
            double it = 0.0;
            S(entmax_row)(n, R + j * ldr, R + j * ldr, mb, k->it[j0 + j], al ? al[j0 + j] : alpha, scr, &it);
            if (k->sout[0]) k->sout[0][j0 + j] = it;
        }
        S(sp_transpose)(g, n, R, ldr, k->out + j0, k->ldo);
    }
    free(R);
    return 1;
}

static void S(sparse_cols)(const S(cols) *k, double alpha)
{
    const ptrdiff_t n = k->n, ldx = k->ldi[0], ldy = k->ldo, ldm = k->ldm;
    if (n >= 48 && n <= 65536 && S(sparse_cols_rows)(k, alpha, NULL)) return;
    const ptrdiff_t ldt = CMF_SP_CB + 16;
    T *tile = NULL;
    if (ldx > 2 * CMF_SP_CB && (size_t)n * (size_t)ldt * sizeof(T) <= ((size_t)1 << 20))
        tile = (T *)malloc((size_t)n * (size_t)ldt * sizeof(T));
    for (ptrdiff_t j0 = 0; j0 < k->B; j0 += CMF_SP_CB) {
        const ptrdiff_t B = k->B - j0 < CMF_SP_CB ? k->B - j0 : CMF_SP_CB;
        const T *x = k->in[0] + j0;
        T *y = k->out + j0;
        const uint8_t *mk = k->mask ? k->mask + j0 : NULL;
        double *nit = k->sout[0] ? k->sout[0] + j0 : NULL;
        if (!tile) {
            S(sparse_block)(n, B, x, ldx, y, ldy, mk, ldm, k->it + j0, nit, alpha, NULL);
            continue;
        }
        for (ptrdiff_t q = 0; q < n; q++) memcpy(tile + q * ldt, x + q * ldx, (size_t)B * sizeof(T));
        S(sparse_block)(n, B, tile, ldt, tile, ldt, mk, ldm, k->it + j0, nit, alpha, NULL);
        for (ptrdiff_t q = 0; q < n; q++) memcpy(y + q * ldy, tile + q * ldt, (size_t)B * sizeof(T));
    }
    free(tile);
}

static void S(sparsemax_colfn)(const S(cols) *k) { S(sparse_cols)(k, 2.0); }
static void S(entmax15_colfn)(const S(cols) *k) { S(sparse_cols)(k, 1.5); }

/* ---------- column kernel: alpha-entmax for any alpha, short slices side by side ----------
 * The row kernel's root finder (S(entmax_tau): Jensen's bounds, Halley / Newton steps on
 * float then double sums, bisection when a step leaves the bracket, the same stopping
 * rules) run for CMF_EM_CB lanes in lockstep: each pass is one walk down the block's rows,
 * vectorised across the lanes, every lane with its own bracket, threshold, alpha and
 * iteration count.  Every entry is a candidate (no compaction: the slices are short).  In
 * each pass every lane says which sums it wants next (Jensen's, float or double Halley
 * sums, or none: settled); the pass computes each kind some lane wants, and each lane reads
 * its own, so a lane's steps and result never depend on its neighbours (the same bits for
 * any grouping: n_threads, sub-ranges).  The block's z = (x - m)(alpha - 1) / t, with -inf
 * where masked, live in a stack tile whose lanes past B are -inf (whole 16-lane strips, no
 * tails).  Lanes with alpha 1, 1.5 or >= 2 (a per-slice alpha) or a non-finite maximum:
 * the row kernel, from a copy taken before anything is written (x may be y); an included
 * NaN: NaN (0 where masked).  (For alpha > 2 the row kernel is faster: its candidates
 * z > -1 are few, and Newton's steps, up to 20 on some slices, would hold a whole block:
 * float32 4096 x 30 at alpha 3 took 6.6 ms in lanes, 2.5 by rows; at alpha 1.3, 100000 x
 * 10 31 ms in lanes, 56 by rows.) */
#ifndef CMF_EM_CB   /* (the same text for either T) */
#define CMF_EM_CB 64
#define CMF_EM_NMAX 48
#define CMF_EM_SL 16
/* the sums a lane asks for: Jensen's (count and sum of z - tau over z > tau), Halley's on
 * float powers, Halley's on double powers */
enum { CMF_EM_DONE = 0, CMF_EM_JENSEN = 1, CMF_EM_LO = 2, CMF_EM_HI = 4 };
#endif

/* one pass over the tile z (zt[q * CMF_EM_CB + j], q < n, j < B rounded up to a strip):
 * for each lane, over u = z - tau > 0, the sums of `kind` into r[0..3) (Jensen: count, sum
 * u; Halley: sum u^b, sum u^(b-1), sum u^(b-2), float powers of u = (z - th) - tl for
 * CMF_EM_LO, double powers of u = z - tau for CMF_EM_HI); r holds 3 CMF_EM_CB lanes */
static void S(em_pass)(ptrdiff_t n, ptrdiff_t B, const T *zt, const double *tau, const double *beta, int kind,
                       double *r)
{
    for (ptrdiff_t s0 = 0; s0 < B; s0 += CMF_EM_SL) {
        const T *zs = zt + s0;
        if (kind != CMF_EM_JENSEN) {
            /* Halley's sums, float (AT = float: u = (z - th) - tl, float powers) or double
             * (u = z - tau, double powers) */
#define CMF_EM_HALLEY(AT, KEEP, U, POW)                                                       \
    do {                                                                                    \
        AT fa[CMF_EM_SL], ga[CMF_EM_SL], ha[CMF_EM_SL];                                     \
        for (int j = 0; j < CMF_EM_SL; j++) fa[j] = ga[j] = ha[j] = 0;                      \
        for (ptrdiff_t q = 0; q < n; q++) {                                                 \
            const T *zq = zs + q * CMF_EM_CB;                                               \
            for (int j = 0; j < CMF_EM_SL; j++) {                                           \
                const AT u = (U);                                                           \
                const int pos = u > 0;                                                      \
                const AT uu = KEEP(pos, u) + KEEP(!pos, (AT)1);                             \
                const AT pb = KEEP(pos, (POW));                                             \
                const AT ru = (AT)1 / uu;                                                   \
                fa[j] += pb;                                                                \
                ga[j] += pb * ru;                                                           \
                ha[j] += pb * ru * ru;                                                      \
            }                                                                               \
        }                                                                                   \
        for (int j = 0; j < CMF_EM_SL; j++) {                                               \
            r[s0 + j] = fa[j];                                                              \
            r[CMF_EM_CB + s0 + j] = ga[j];                                                  \
            r[2 * CMF_EM_CB + s0 + j] = ha[j];                                              \
        }                                                                                   \
    } while (0)
            T th[CMF_EM_SL], tl[CMF_EM_SL];
            float bf[CMF_EM_SL];
            double ta[CMF_EM_SL], ba[CMF_EM_SL];
            for (int j = 0; j < CMF_EM_SL; j++) {
                ta[j] = tau[s0 + j];
                ba[j] = beta[s0 + j];
                bf[j] = (float)ba[j];
                S(sp_split)(ta[j], &th[j], &tl[j]);
            }
            if (kind == CMF_EM_LO)
                CMF_EM_HALLEY(float, cmf_keep_f32, (float)((zq[j] - th[j]) - tl[j]),
                              cmf_expm_f32(bf[j] * cmf_sp_logu_f32(uu)));
            else
                CMF_EM_HALLEY(double, cmf_keep_f64, (double)zq[j] - ta[j], S(powu)(uu, ba[j]));
#undef CMF_EM_HALLEY
        } else {
            double ca[CMF_EM_SL], sa[CMF_EM_SL], ta[CMF_EM_SL];
            for (int j = 0; j < CMF_EM_SL; j++) {
                ca[j] = sa[j] = 0.0;
                ta[j] = tau[s0 + j];
            }
            for (ptrdiff_t q = 0; q < n; q++) {
                const T *zq = zs + q * CMF_EM_CB;
                for (int j = 0; j < CMF_EM_SL; j++) {
                    const double z = (double)zq[j];
                    const int on = z > ta[j];
                    ca[j] += cmf_keep_f64(on, 1.0);
                    sa[j] += cmf_keep_f64(on, z - ta[j]);
                }
            }
            for (int j = 0; j < CMF_EM_SL; j++) {
                r[s0 + j] = ca[j];
                r[CMF_EM_CB + s0 + j] = sa[j];
            }
        }
    }
}

/* S(entmax_block)'s lanes computed apart into y: state 2, the row kernel's result (row
 * slot[j] of spec); 3, NaN (0 where masked); and every lane's iterations into nit */
static void S(em_apart)(ptrdiff_t n, ptrdiff_t B, T *y, ptrdiff_t ldy, const uint8_t *mk, ptrdiff_t ldm,
                        const double *state, const ptrdiff_t *slot, const T *spec, double *iters, double *nit)
{
    for (ptrdiff_t j = 0; j < B; j++) {
        if (state[j] == 2) {
            const T *src = spec + slot[j] * n;
            for (ptrdiff_t q = 0; q < n; q++) y[q * ldy + j] = src[q];
        } else if (state[j] == 3) {
            for (ptrdiff_t q = 0; q < n; q++) y[q * ldy + j] = (!mk || mk[q * ldm + j]) ? (T)NAN : (T)0;
            iters[j] = 0;
        }
        if (nit) nit[j] = iters[j];
    }
}

/* B <= CMF_EM_CB short slices (n < CMF_EM_NMAX) side by side: lane j's entry q at
 * x[q * ldx + j] (may be y); alpha al[j] and 1 / temperature itl[j] per lane; the
 * iterations into nit when given */
static void S(entmax_block)(ptrdiff_t n, ptrdiff_t B, const T *x, ptrdiff_t ldx, T *y, ptrdiff_t ldy,
                            const uint8_t *mk, ptrdiff_t ldm, const T *itl, const double *al, double *nit)
{
    T zt[CMF_EM_NMAX * CMF_EM_CB], m[CMF_EM_CB], sc[CMF_EM_CB];
    double tau[CMF_EM_CB], lo[CMF_EM_CB], hi[CMF_EM_CB], beta[CMF_EM_CB], ftol[CMF_EM_CB];
    double iters[CMF_EM_CB], nanc[CMF_EM_CB], live[CMF_EM_CB], ncand[CMF_EM_CB];
    int want[CMF_EM_CB], jens[CMF_EM_CB];
    double state[CMF_EM_CB];                                  /* 0 here, 2 row kernel, 3 NaN */
    ptrdiff_t slot[CMF_EM_CB];                                /* a state-2 lane's row in spec */
    const ptrdiff_t Bs = (B + CMF_EM_SL - 1) / CMF_EM_SL * CMF_EM_SL;
    S(cols_max)(n, B, x, ldx, mk, ldm, m);
    ptrdiff_t nspec = 0;
    for (ptrdiff_t j = 0; j < CMF_EM_CB; j++) {
        const int in = j < B;
        const double a = in ? al[j] : 3.0;
        state[j] = in && (!S(is_finite)(m[j]) || !(a > 1.0 && a < 2.0) || a == 1.5) ? 2 : 0;
        nspec += state[j] == 2;
        if (!in || state[j]) m[j] = 0;
        const double am1 = a - 1.0;
        const T s = in ? (T)((double)itl[j] * am1) : (T)1;
        sc[j] = s > 0 ? s : (T)0;
        beta[j] = 1.0 / am1;
        tau[j] = -1.0;
        iters[j] = nanc[j] = live[j] = ncand[j] = 0.0;
    }
    /* the row kernel's lanes, from x as it is now */
    T *spec = S(sp_lanes_apart)(n, B, x, ldx, mk, ldm, itl, 0.0, al, state, slot, iters);
    if (nspec == B) {          /* every lane through the row kernel (alpha > 2): no passes */
        S(em_apart)(n, B, y, ldy, mk, ldm, state, slot, spec, iters, nit);
        free(spec);
        return;
    }
    /* z into the tile (-inf where masked and in the lanes past B); the included NaN, the
     * included entries and the candidates z > -1 counted */
    for (ptrdiff_t q = 0; q < n; q++) {
        const T *xq = x + q * ldx;
        T *zq = zt + q * CMF_EM_CB;
        const uint8_t *mq = mk ? mk + q * ldm : NULL;
        for (ptrdiff_t j = 0; j < B; j++) {
            const T v = xq[j];
            const int incl = !mq || mq[j];
            const T z = incl ? (v - m[j]) * sc[j] : NINF_S;
            zq[j] = z;
            nanc[j] += (v != v) & incl;
            live[j] += incl;
            ncand[j] += z > (T)-1;
        }
        for (ptrdiff_t j = B; j < Bs; j++) zq[j] = NINF_S;
    }
    /* c^(1 - alpha) for a count c of every lane (vectorised: log and exp of each lane),
     * here of the included entries (the bracket's upper end), later of Jensen's sets */
    double ap[CMF_EM_CB], cw[CMF_EM_CB];
    for (ptrdiff_t j = 0; j < CMF_EM_CB; j++) ap[j] = j < B ? al[j] : 3.0;
#define CMF_EM_CPOW(C)                                                                      \
    for (ptrdiff_t j = 0; j < Bs; j++)                                                     \
        cw[j] = cmf_expm_f64((1.0 - ap[j]) * cmf_log_f64((C)[j] > 1.0 ? (C)[j] : 1.0))
    CMF_EM_CPOW(live);
    int any = 0;
    for (ptrdiff_t j = 0; j < CMF_EM_CB; j++) {
        want[j] = CMF_EM_DONE;
        jens[j] = 0;
        lo[j] = hi[j] = -1.0;
        ftol[j] = 0.0;
        if (j >= B || state[j]) continue;
        if (nanc[j] > 0) { state[j] = 3; continue; }
        const double a = al[j], h = -cw[j];
        hi[j] = h < -1.0 ? -1.0 : h;
        ftol[j] = (sizeof(T) == 4 ? 0x1p-24 : 0x1p-52) * (4.0 + sqrt(ncand[j]));
        jens[j] = a < 2.0 ? 2 : 0;                 /* Jensen passes left */
        want[j] = jens[j] ? CMF_EM_JENSEN : sizeof(T) == 4 && beta[j] <= 8.0 ? CMF_EM_LO : CMF_EM_HI;
        any = 1;
    }
    const double tol = (sizeof(T) == 4 ? 1e-7 : 4e-16);
    /* passes until every lane has settled */
    while (any) {
        int kinds = 0;
        for (ptrdiff_t j = 0; j < B; j++) kinds |= want[j];
        double rj[3 * CMF_EM_CB], rl[3 * CMF_EM_CB], rh[3 * CMF_EM_CB];
        if (kinds & CMF_EM_JENSEN) S(em_pass)(n, Bs, zt, tau, beta, CMF_EM_JENSEN, rj);
        if (kinds & CMF_EM_LO) S(em_pass)(n, Bs, zt, tau, beta, CMF_EM_LO, rl);
        if (kinds & CMF_EM_HI) S(em_pass)(n, Bs, zt, tau, beta, CMF_EM_HI, rh);
        if (kinds & CMF_EM_JENSEN) CMF_EM_CPOW(rj);
        any = 0;
        for (ptrdiff_t j = 0; j < B; j++) {
            const int w = want[j];
            if (w == CMF_EM_DONE) continue;
            const double a = al[j], b = beta[j];
            iters[j] += 1.0;
            if (w == CMF_EM_JENSEN) {
                const double c = rj[j], s = rj[CMF_EM_CB + j], t0 = tau[j];
                const double tj = t0 + s / c - cw[j];
                int more = 0;
                if (tj > t0 && tj <= hi[j]) {
                    tau[j] = lo[j] = tj;
                    more = tj - t0 >= 0.05 * fabs(tj) && --jens[j] > 0;
                }
                want[j] = more ? CMF_EM_JENSEN : sizeof(T) == 4 && b <= 8.0 ? CMF_EM_LO : CMF_EM_HI;
                any = 1;
                continue;
            }
            const double *rr = w == CMF_EM_LO ? rl : rh;
            const double f = rr[j] - 1.0, d1 = rr[CMF_EM_CB + j], d2 = rr[2 * CMF_EM_CB + j];
            const int was_lowp = w == CMF_EM_LO;
            const int sure = !was_lowp || fabs(f) > 1e-4;
            const int lowp = was_lowp && fabs(f) > 1e-3;
            if (!was_lowp && fabs(f) <= ftol[j]) { want[j] = CMF_EM_DONE; continue; }
            if (sure) {
                if (f > 0) lo[j] = tau[j];
                else hi[j] = tau[j];
            }
            const double fp = -b * d1, fpp = b * (b - 1.0) * d2;
            const double step = a < 2.0 ? 2.0 * f * fp / (2.0 * fp * fp - f * fpp) : f / fp;
            double tn = tau[j] - step;
            if (!(tn >= lo[j] && tn <= hi[j])) tn = 0.5 * (lo[j] + hi[j]);
            const double dt = fabs(tn - tau[j]);
            tau[j] = tn;
            if ((!was_lowp && (dt <= tol * (fabs(tn) > 1e-3 ? fabs(tn) : 1e-3) || hi[j] - lo[j] <= tol * 1e-3))
                || iters[j] >= 100.0) {
                want[j] = CMF_EM_DONE;
                continue;
            }
            want[j] = lowp ? CMF_EM_LO : CMF_EM_HI;
            any = 1;
        }
    }
#undef CMF_EM_CPOW
    /* the outputs: p = (z - tau)_+^beta (float powers for float slices and beta <= 8, as
     * S(entmax_cand_p)), renormalised to sum 1 */
    double tot[CMF_EM_CB];
    for (ptrdiff_t s0 = 0; s0 < Bs; s0 += CMF_EM_SL) {
        double ta[CMF_EM_SL], ba[CMF_EM_SL], acc[CMF_EM_SL];
        T th[CMF_EM_SL], tl[CMF_EM_SL];
        float bf[CMF_EM_SL];
        int lowp = 0;
        for (int j = 0; j < CMF_EM_SL; j++) {
            const ptrdiff_t jj = s0 + j;
            ta[j] = state[jj] ? 0.0 : tau[jj];
            ba[j] = beta[jj];
            bf[j] = (float)beta[jj];
            acc[j] = 0.0;
            S(sp_split)(ta[j], &th[j], &tl[j]);
            lowp += jj < B && sizeof(T) == 4 && beta[jj] <= 8.0;
        }
        T *zs = zt + s0;
        if (lowp == (B - s0 < CMF_EM_SL ? B - s0 : CMF_EM_SL)) {   /* every lane of the strip */
            for (ptrdiff_t q = 0; q < n; q++) {
                T *zq = zs + q * CMF_EM_CB;
                for (int j = 0; j < CMF_EM_SL; j++) {
                    const float u = (float)((zq[j] - th[j]) - tl[j]);
                    const int pos = u > 0;
                    const float p = pos ? cmf_expm_f32(bf[j] * cmf_sp_logu_f32(pos ? u : 1.0f)) : 0.0f;
                    zq[j] = (T)p;
                    acc[j] += (double)p;
                }
            }
        } else {
            for (ptrdiff_t q = 0; q < n; q++) {
                T *zq = zs + q * CMF_EM_CB;
                for (int j = 0; j < CMF_EM_SL; j++) {
                    const int lp = sizeof(T) == 4 && ba[j] <= 8.0;
                    T p;
                    if (lp) {
                        const float u = (float)((zq[j] - th[j]) - tl[j]);
                        p = u > 0 ? (T)cmf_expm_f32(bf[j] * cmf_sp_logu_f32(u)) : (T)0;
                    } else {
                        const double u = (double)zq[j] - ta[j];
                        p = u > 0 ? (T)S(powu)(u, ba[j]) : (T)0;
                    }
                    zq[j] = p;
                    acc[j] += (double)p;
                }
            }
        }
        for (int j = 0; j < CMF_EM_SL; j++) tot[s0 + j] = acc[j];
    }
    T rc[CMF_EM_CB];
    for (ptrdiff_t j = 0; j < B; j++) rc[j] = (T)(1.0 / tot[j]);
    for (ptrdiff_t q = 0; q < n; q++) {
        const T *zq = zt + q * CMF_EM_CB;
        T *yq = y + q * ldy;
        for (ptrdiff_t j = 0; j < B; j++) yq[j] = zq[j] * rc[j];
    }
    S(em_apart)(n, B, y, ldy, mk, ldm, state, slot, spec, iters, nit);
    free(spec);
}

static void S(entmax_colfn)(const S(cols) *k)
{
    const ptrdiff_t n = k->n;
    const double *al = k->sin[0];
    if (n >= CMF_EM_NMAX) {
        if (!S(sparse_cols_rows)(k, 0.0, al))      /* out of memory: NaN */
            for (ptrdiff_t q = 0; q < n; q++)
                for (ptrdiff_t j = 0; j < k->B; j++)
                    k->out[q * k->ldo + j] = (!k->mask || k->mask[q * k->ldm + j]) ? (T)NAN : (T)0;
        return;
    }
    for (ptrdiff_t j0 = 0; j0 < k->B; j0 += CMF_EM_CB) {
        const ptrdiff_t B = k->B - j0 < CMF_EM_CB ? k->B - j0 : CMF_EM_CB;
        S(entmax_block)(n, B, k->in[0] + j0, k->ldi[0], k->out + j0, k->ldo, k->mask ? k->mask + j0 : NULL,
                        k->ldm, k->it + j0, al + j0, k->sout[0] ? k->sout[0] + j0 : NULL);
    }
}

/* sparsemax (quad = 0) or 1.5-entmax (quad = 1) of rows the row kernel takes (contiguous,
 * at least CMF_SHORT_SLICE entries, at any row strides; no mask, one temperature), as
 * S(sparsemax_row) / S(entmax_row) compute them, but CMF_SPG_GROUP rows at a time with
 * their root finders' steps interleaved: one step of each unsettled row in turn, so that
 * the steps' divisions and square roots (a chain of latencies within a row) overlap
 * across rows.  Each row gets the row kernel's bits.  Returns the number of rows done
 * (whole groups), 0 when the candidates' buffer cannot be had. */
#ifndef CMF_SPG_GROUP
#define CMF_SPG_GROUP 8
#endif
static ptrdiff_t S(sparse_mid_rows)(ptrdiff_t R, ptrdiff_t n, const T *x, ptrdiff_t sx, T *y, ptrdiff_t sy,
                                    T it, const int quad)
{
    enum { G = CMF_SPG_GROUP };
    if (R < G) return 0;
    T *zb = (T *)malloc((size_t)(G * n) * sizeof(T));
    if (!zb) return 0;
    const T sc = quad ? ((T)((double)it * 0.5) > 0 ? (T)((double)it * 0.5) : (T)0) : it;
    S(tau_state) st[G];
    ptrdiff_t q0 = 0;
    for (; q0 + G <= R; q0 += G) {
        int live[G], solved[G], nlive = 0;
        for (int j = 0; j < G; j++) {
            T m;
            const ptrdiff_t na = S(sp_prep)(n, x + (q0 + j) * sx, y + (q0 + j) * sy, NULL, sc, zb + j * n, &m);
            live[j] = solved[j] = na >= 0;          /* (else the output is written: a special row) */
            if (live[j]) S(tau_init)(&st[j], na);
            nlive += live[j];
        }
        while (nlive) {
            for (int j = 0; j < G; j++)
                if (live[j] && (quad ? S(entmax15_step)(zb + j * n, &st[j]) : S(sparsemax_step)(zb + j * n, &st[j]))) {
                    live[j] = 0;
                    nlive--;
                }
        }
        for (int j = 0; j < G; j++) {
            if (!solved[j]) continue;
            T *yr = y + (q0 + j) * sy;
            if (quad) S(sp_out_quad)(n, yr, NULL, st[j].ts, (T)(1.0 / S(quad_total)(st[j].na, zb + j * n, st[j].ts)));
            else S(sp_out_lin)(n, yr, NULL, st[j].tau);
        }
    }
    free(zb);
    return q0;
}

/* the rows of S(sparse_mid_rows) first (when the call has them), the rest as usual */
static cmf_status S(sparse_run)(const cmf_geom *g, const S(call) *c, S(rowfn) rowfn, S(colfn) colfn, int quad)
{
#ifdef CMF_VEC
    const cmf_arr x = c->in[0], y = c->out, t = c->t;
    const int no_iter = !c->nsout || !c->sout[0].p;
    if (no_iter && g->n >= CMF_SHORT_SLICE && g->n_inner == 1 && g->n_outer >= CMF_SPG_GROUP && x.sa == 1 &&
        y.sa == 1 && !c->mask.p && (!t.p || (t.so == 0 && t.si == 0))) {
        const ptrdiff_t done = S(sparse_mid_rows)(g->n_outer, g->n, (const T *)x.p, x.so, (T *)y.p, y.so,
                                                  S(inv_temperature)(t.p ? *(const double *)t.p : 1.0), quad);
        if (done == g->n_outer) return CMF_OK;
        cmf_geom rest = *g;
        rest.n_outer -= done;
        S(call) c2 = *c;
        c2.in[0].p = (T *)x.p + done * x.so;
        c2.out.p = (T *)y.p + done * y.so;
        return S(run)(&rest, &c2, rowfn, colfn);
    }
#endif
    (void)quad;
    return S(run)(g, c, rowfn, colfn);
}

cmf_status FN(sparsemax)(const cmf_geom *g, cmf_arr x, cmf_arr t, cmf_arr mask, cmf_arr y)
{
    S(call) c;
    memset(&c, 0, sizeof c);
    c.nin = 1; c.in[0] = x; c.nout = 1; c.out = y; c.mask = mask; c.t = t;
    c.scratch = CMF_CAND_SCRATCH;
    return S(sparse_run)(g, &c, S(sparsemax_rowfn), S(sparsemax_colfn), 0);
}

cmf_status FN(entmax)(const cmf_geom *g, cmf_arr x, cmf_arr t, cmf_arr alpha, cmf_arr mask,
                      cmf_arr y, cmf_arr n_iter)
{
    S(call) c;
    memset(&c, 0, sizeof c);
    c.nin = 1; c.in[0] = x; c.nout = 1; c.out = y; c.mask = mask; c.t = t;
    c.nsin = 1; c.sin[0] = alpha;
    c.nsout = 1; c.sout[0] = n_iter;
    c.scratch = CMF_CAND_SCRATCH;
    /* short or strided slices go through a column kernel: sparsemax's or 1.5-entmax's
     * for one alpha of 2 or 1.5 for every slice, else alpha-entmax's (one alpha above 2:
     * the row kernel, slice by slice) */
    const int one = alpha.p && alpha.so == 0 && alpha.si == 0;
    const double a0 = one ? *(const double *)alpha.p : 0.0;
    if (one && a0 == 1.5) return S(sparse_run)(g, &c, S(entmax_rowfn), S(entmax15_colfn), 1);
    if (one && a0 == 2.0) return S(run)(g, &c, S(entmax_rowfn), S(sparsemax_colfn));
    return S(run)(g, &c, S(entmax_rowfn), S(entmax_colfn));
}

/* y <- y^e in place for y in (0, 1] (NaN stays), 0 < e < 1 (float powers for float slices: e |log y|
 * < 88, so within about 90 ULP at the very worst, a few ULP for y above 1e-3) */
static void S(pow_list)(ptrdiff_t na, T *yl, double e)
{
    ptrdiff_t k = 0;
    if (sizeof(T) == 4) {
        const float ef = (float)e;
        for (; k + CMF_LANES <= na; k += CMF_LANES)
            for (int j = 0; j < CMF_LANES; j++) {
                const float u = (float)yl[k + j];
                const float p = cmf_expm_f32(ef * cmf_sp_logu_f32(u > 1.0f ? 1.0f : u));
                yl[k + j] = (T)(u != u ? u : p);
            }
        for (; k < na; k++) {
            const float u = (float)yl[k];
            const float p = cmf_expm_f32(ef * cmf_sp_logu_f32(u > 1.0f ? 1.0f : u));
            yl[k] = (T)(u != u ? u : p);
        }
    } else {
        for (; k + CMF_LANES <= na; k += CMF_LANES)
            for (int j = 0; j < CMF_LANES; j++) {
                const double u = (double)yl[k + j];
                const double p = S(powu)(u > 1.0 ? 1.0 : u, e);
                yl[k + j] = (T)(u != u ? u : p);
            }
        for (; k < na; k++) {
            const double u = (double)yl[k];
            const double p = S(powu)(u > 1.0 ? 1.0 : u, e);
            yl[k] = (T)(u != u ? u : p);
        }
    }
}

/* derivative from the output: s = y^(2 - alpha) on the support,
 * r = (s v - s <s, v> / sum s) / t; the Jacobian is symmetric (vjp == jvp).  A NaN in y
 * gives s = NaN there, so q = <s, v> / sum s = NaN and the whole support gets NaN; entries
 * off the support (s = 0) get 0 whatever v holds (r may be v or y itself). */
static void S(entmax_d_rowfn)(S(row) *a)
{
    const ptrdiff_t n = a->n;
    const T *CMF_RESTRICT y = a->in[0], *v = a->in[1];
    T *r = a->out[0], *CMF_RESTRICT sv_ = a->scratch;
    const double alpha = a->sin[0], e = 2.0 - alpha;
    double ss = 0.0, sv = 0.0;
    ptrdiff_t k = 0;
    if (e >= 0.0 && e <= 1.0) {
        /* 1 <= alpha <= 2 (s <= 1): one pass over y and v gathers the support (y_k > 0,
         * or NaN) with its v_k; s, its sums and the result on the gathered entries (in
         * L1); one pass writes r (0 off the support, whatever v holds there). */
        T *yl = a->scratch, *vl = a->scratch + n;
        uint16_t *mb = (uint16_t *)(a->scratch + 2 * n);
        const ptrdiff_t na = S(sp_vgather)(n, y, v, yl, vl, mb);
        if (e == 0.0)
            for (k = 0; k < na; k++) yl[k] = yl[k] != yl[k] ? yl[k] : (T)1;
        else if (e == 0.5)
            for (k = 0; k < na; k++) yl[k] = CMF_SP_SQRT(yl[k]);
        else if (e != 1.0) {
            ptrdiff_t np = (na + CMF_LANES - 1) / CMF_LANES * CMF_LANES;   /* whole vectors */
            if (np > n) np = na;                                           /* (no room) */
            for (k = na; k < np; k++) yl[k] = 1;
            S(pow_list)(np, yl, e);
        }
        /* sum s and sum s v: T lanes over blocks of CMF_BLOCK entries, double across */
        for (k = 0; k < na;) {
            const ptrdiff_t kend = na - k > CMF_BLOCK ? k + CMF_BLOCK : na;
            T sa[CMF_LANES], va[CMF_LANES];
            for (int j = 0; j < CMF_LANES; j++) sa[j] = va[j] = 0;
            for (; k + CMF_LANES <= kend; k += CMF_LANES)
                for (int j = 0; j < CMF_LANES; j++) {
                    const T sk = yl[k + j];
                    sa[j] += sk;
                    va[j] += sk != 0 ? sk * vl[k + j] : (T)0;
                }
            for (; k < kend; k++) {
                const T sk = yl[k];
                sa[0] += sk;
                va[0] += sk != 0 ? sk * vl[k] : (T)0;
            }
            double bs = 0.0, bv = 0.0;
            for (int j = 0; j < CMF_LANES; j++) { bs += (double)sa[j]; bv += (double)va[j]; }
            ss += bs;
            sv += bv;
        }
        const T q = (T)(sv / ss), it = a->it;
        for (k = 0; k < na; k++) {
            const T sk = yl[k];
            yl[k] = sk != 0 ? sk * (vl[k] - q) * it : (T)0;
        }
        S(sp_vscatter)(n, mb, yl, r);
        return;
    }
    {   /* alpha > 2: s = 1 / y^(alpha - 2) may be large */
        double sa[CMF_LANES], va[CMF_LANES];
        for (int j = 0; j < CMF_LANES; j++) sa[j] = va[j] = 0.0;
        if (e > 0)
            for (; k + CMF_LANES <= n; k += CMF_LANES)
                for (int j = 0; j < CMF_LANES; j++) {
                    double yk = (double)y[k + j];
                    double s = cmf_keep_f64(yk > 0, S(powu)(cmf_keep_f64((yk > 0) & (yk < 1), yk)
                                                            + cmf_keep_f64(!((yk > 0) & (yk < 1)), 1.0), e))
                               + cmf_keep_f64(yk != yk, yk);
                    sv_[k + j] = (T)s;
                    sa[j] += s;
                    va[j] += cmf_keep_f64(s != 0, s * (double)v[k + j]);
                }
        for (int j = 0; j < CMF_LANES; j++) { ss += sa[j]; sv += va[j]; }
        for (; k < n; k++) {
            double yk = (double)y[k];
            double s;
            if (!(yk > 0)) s = yk != yk ? yk : 0.0;
            else if (e > 0) s = S(powu)(yk > 1 ? 1 : yk, e);
            else { double q = S(powu)(yk > 1 ? 1 : yk, -e); s = q > 0 ? 1.0 / q : (double)T_MAX; }
            sv_[k] = (T)s;
            ss += s;
            sv += s == 0 ? 0.0 : s * (double)v[k];
        }
    }
    {                                               /* v - q in double */
        const double q = sv / ss, it = (double)a->it;
        for (k = 0; k < n; k++) {
            const double s = (double)sv_[k];
            r[k] = (T)cmf_keep_f64(s != 0, s * ((double)v[k] - q) * it);
        }
    }
}

/* The same for B slices side by side (short or strided slices, a non-last axis read in
 * place), alpha = 2, 1.5 or 1 (s <= 1): pass 1 sums s and s v per lane over the rows (T
 * lanes over blocks of CMF_BLOCK rows, double across blocks), pass 2 writes r with s
 * recomputed from y.  Lane j's sums run over its own entries in the order of the rows, so
 * its result does not depend on the other lanes. */
static void S(entmax_d_colfn)(const S(cols) *k)
{
    const ptrdiff_t n = k->n, B = k->B, ldy = k->ldi[0], ldv = k->ldi[1], ldr = k->ldo;
    const T *y = k->in[0], *v = k->in[1];
    T *r = k->out;
    const double e = 2.0 - k->sin[0][0];
    const int kind = e == 0.0 ? 0 : e == 1.0 ? 1 : 2;
    double *ss = k->ws, *sv = k->ws + B;
    T *as = (T *)(k->ws + 2 * B), *av = (T *)(k->ws + 3 * B), *q = (T *)(k->ws + 4 * B);
    for (ptrdiff_t j = 0; j < B; j++) ss[j] = sv[j] = 0.0;
#define CMF_S_OF(yk) ((yk) > 0 ? (kind == 0 ? (T)1 : kind == 1 ? (yk) : CMF_SP_SQRT(yk)) : ((yk) != (yk) ? (yk) : (T)0))
    for (ptrdiff_t q0 = 0; q0 < n; q0 += CMF_BLOCK) {
        const ptrdiff_t q1 = n - q0 > CMF_BLOCK ? q0 + CMF_BLOCK : n;
        for (ptrdiff_t j = 0; j < B; j++) as[j] = av[j] = 0;
        for (ptrdiff_t qq = q0; qq < q1; qq++) {
            const T *yq = y + qq * ldy, *vq = v + qq * ldv;
            for (ptrdiff_t j = 0; j < B; j++) {
                const T yk = yq[j], s = CMF_S_OF(yk);
                as[j] += s;
                av[j] += s != 0 ? s * vq[j] : (T)0;
            }
        }
        for (ptrdiff_t j = 0; j < B; j++) { ss[j] += (double)as[j]; sv[j] += (double)av[j]; }
    }
    for (ptrdiff_t j = 0; j < B; j++) {
        q[j] = (T)(sv[j] / ss[j]);
        as[j] = k->it[j];
    }
    for (ptrdiff_t qq = 0; qq < n; qq++) {
        const T *yq = y + qq * ldy, *vq = v + qq * ldv;
        T *rq = r + qq * ldr;
        for (ptrdiff_t j = 0; j < B; j++) {
            const T yk = yq[j], s = CMF_S_OF(yk);
            rq[j] = s != 0 ? s * (vq[j] - q[j]) * as[j] : (T)0;
        }
    }
#undef CMF_S_OF
}

cmf_status FN(entmax_vjp)(const cmf_geom *g, cmf_arr y, cmf_arr v, cmf_arr t, cmf_arr alpha, cmf_arr r)
{
    S(call) c;
    memset(&c, 0, sizeof c);
    c.nin = 2; c.in[0] = y; c.in[1] = v; c.nout = 1; c.out = r; c.t = t;
    c.nsin = 1; c.sin[0] = alpha;
    c.scratch = 3;                 /* the gathered y and v, the groups' masks */
    const int one = alpha.p && alpha.so == 0 && alpha.si == 0;
    const double a0 = one ? *(const double *)alpha.p : 0.0;
    if (one && (a0 == 2.0 || a0 == 1.5 || a0 == 1.0)) return S(run)(g, &c, S(entmax_d_rowfn), S(entmax_d_colfn));
    return S(run)(g, &c, S(entmax_d_rowfn), NULL);
}

#undef NINF_S
#undef SP_ABOVE_M1
