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

#define NINF_S ((T)-INFINITY)

/* Any NaN among the included entries?  (The maximum ignores NaN, and so do the threshold
 * passes: z > tau is false for NaN, so it must be looked for.)  A vectorised count. */
static int S(any_nan)(ptrdiff_t n, const T *x, const uint8_t *mk)
{
    T acc[CMF_LANES];
    for (int j = 0; j < CMF_LANES; j++) acc[j] = 0;
    ptrdiff_t k = 0;
    for (; k + CMF_LANES <= n; k += CMF_LANES)
        for (int j = 0; j < CMF_LANES; j++) {
            T v = x[k + j];
            acc[j] += (v != v && (!mk || mk[k + j])) ? (T)1 : (T)0;
        }
    int nan = 0;
    for (int j = 0; j < CMF_LANES; j++) nan |= acc[j] != 0;
    for (; k < n; k++) nan |= x[k] != x[k] && (!mk || mk[k]);
    return nan;
}

/* A slice with NaN: NaN where included, 0 where masked (as softmax). */
static void S(fill_nan)(ptrdiff_t n, T *y, const uint8_t *mk)
{
    for (ptrdiff_t k = 0; k < n; k++) y[k] = (!mk || mk[k]) ? (T)NAN : (T)0;
}

/* The slice's maximum into *m; when the slice has no finite answer of the threshold
 * kind (a non-finite maximum, a NaN, every entry masked) its output is written here, as
 * softmax's, and 1 is returned. */
static int S(sparse_special)(ptrdiff_t n, const T *x, T *y, const uint8_t *mk, T *m, double *n_iter)
{
    *m = S(max_row)(n, x, mk);
    if (!S(is_finite)(*m)) S(softmax_special)(n, x, 1, y, 1, mk, 1, *m, 0);
    else if (S(any_nan)(n, x, mk)) S(fill_nan)(n, y, mk);
    else return 0;
    if (n_iter) *n_iter = 0;
    return 1;
}

/* The entries that can be in the support (z = (x - max) * sc > -1, included): their z
 * into zs and their positions into idx; returns how many.  Branch-free (store, then
 * advance when taken): one pass, the only one over the whole slice besides max, the
 * NaN check and the output. */
static ptrdiff_t S(candidates)(ptrdiff_t n, const T *x, const uint8_t *mk, T m, T sc, T *zs, ptrdiff_t *idx)
{
    ptrdiff_t na = 0;
    for (ptrdiff_t k = 0; k < n; k++) {
        T z = (x[k] - m) * sc;
        zs[na] = z;
        idx[na] = k;
        na += (z > (T)-1) & (!mk || mk[k]);
    }
    return na;
}

/* Scratch for a row kernel with candidates: n values of T, then n indices. */
#ifndef CMF_CAND_SCRATCH   /* (the same text for either T; losses.tmpl.c uses it too) */
#define CMF_CAND_SCRATCH (1 + (int)((sizeof(ptrdiff_t) + sizeof(T) - 1) / sizeof(T)) + 1)
#endif
static ptrdiff_t *S(cand_idx)(T *scratch, ptrdiff_t n)
{
    uintptr_t p = (uintptr_t)(scratch + n);
    p = (p + sizeof(ptrdiff_t) - 1) & ~(uintptr_t)(sizeof(ptrdiff_t) - 1);
    return (ptrdiff_t *)p;
}

/* sparsemax: Michelot's iteration from the lower bound tau = -1 (the maximum alone has
 * mass 1): tau <- (sum_{z > tau} z - 1) / #{z > tau} increases monotonically and stops
 * when the support no longer changes; exact (tau is the support's closed form).  It runs
 * on the candidates z > -1 only. */
static void S(sparsemax_row)(ptrdiff_t n, const T *x, T *y, const uint8_t *mk, T it, T *scratch,
                             double *n_iter)
{
    T m;
    if (S(sparse_special)(n, x, y, mk, &m, n_iter)) return;
    T *zs = scratch;
    ptrdiff_t *idx = S(cand_idx)(scratch, n);
    const ptrdiff_t na = S(candidates)(n, x, mk, m, it, zs, idx);
    double tau = -1.0;
    int iter = 0;
    for (;;) {
        double sum = 0.0, cnt = 0.0;
        for (ptrdiff_t k = 0; k < na; k++) {
            int on = (double)zs[k] > tau;
            sum += cmf_keep_f64(on, (double)zs[k]);
            cnt += cmf_keep_f64(on, 1.0);
        }
        double tn = (sum - 1.0) / cnt;
        iter++;
        if (!(tn > tau) || iter > 200) break;   /* support stable: tau is exact */
        tau = tn;
    }
    memset(y, 0, (size_t)n * sizeof(T));
    for (ptrdiff_t k = 0; k < na; k++) {
        double p = (double)zs[k] - tau;
        y[idx[k]] = (T)cmf_keep_f64(p > 0, p);
    }
    if (n_iter) *n_iter = iter;
}

/* u^beta for u in (0, 1], beta > 0 (exp of a non-positive argument) */
static inline double S(powu)(double u, double beta)
{
    return (double)cmf_expm_f64(beta * cmf_log_f64(u));
}

/* alpha-entmax for 1 < alpha, alpha != 2, on the active set.  f(tau) = sum (z - tau)_+^beta
 * - 1, beta = 1/(alpha-1), is decreasing on the bracket [lo, hi] = [-1, -m^(1-alpha)]
 * (m the number of live entries).  Halley steps (Newton for alpha > 2, where Halley
 * stalls at the support's edges) from the end where the function's curvature makes them
 * monotone (lo for beta >= 1, hi for beta < 1), falling back to bisection whenever a step
 * leaves the bracket.  beta == 2 (alpha = 1.5) finishes with the exact closed form on
 * the final support.  The active set {z > -1} is compacted once into `scratch`. */
static void S(entmax_row)(ptrdiff_t n, const T *x, T *y, const uint8_t *mk, T it, double alpha,
                          T *scratch, double *n_iter)
{
    if (alpha == 1.0) { S(softmax_row)(n, x, y, mk, it, 0); if (n_iter) *n_iter = 0; return; }
    if (alpha == 2.0) { S(sparsemax_row)(n, x, y, mk, it, scratch, n_iter); return; }
    T m;
    if (S(sparse_special)(n, x, y, mk, &m, n_iter)) return;
    const double am1 = alpha - 1.0, beta = 1.0 / am1;
    const T sc = (T)((double)it * am1) > 0 ? (T)((double)it * am1) : (T)0;
    /* the entries that can be in the support (z > -1), compacted with their positions */
    ptrdiff_t live = 0;
    for (ptrdiff_t k = 0; k < n; k++) live += !mk || mk[k];
    ptrdiff_t *idx = S(cand_idx)(scratch, n);
    ptrdiff_t na = S(candidates)(n, x, mk, m, sc, scratch, idx);
    T *za = scratch;
    double lo = -1.0, hi = -cmf_expm_f64((1.0 - alpha) * cmf_log_f64((double)(live > 0 ? live : 1)));
    if (hi < lo) hi = lo;
    double tau = lo;
    const double tol = (sizeof(T) == 4 ? 1e-7 : 4e-16);
    /* |sum p - 1| below the rounding of the sum itself: tau cannot get better */
    const double ftol = (sizeof(T) == 4 ? 0x1p-24 : 0x1p-52) * (4.0 + sqrt((double)na));
    int iter = 0;
    for (; iter < 100;) {
        double f = -1.0, d1 = 0.0, d2 = 0.0;
        ptrdiff_t k = 0;
        if (na >= CMF_LANES) {   /* lane sums only pay off over many candidates */
            double fa[CMF_LANES], ga[CMF_LANES], ha[CMF_LANES];
            for (int j = 0; j < CMF_LANES; j++) fa[j] = ga[j] = ha[j] = 0.0;
            if (beta == 2.0)
                for (; k + CMF_LANES <= na; k += CMF_LANES)
                    for (int j = 0; j < CMF_LANES; j++) {
                        double u = (double)za[k + j] - tau;
                        int pos = u > 0;
                        u = cmf_keep_f64(pos, u);
                        fa[j] += u * u;
                        ga[j] += u;
                        ha[j] += cmf_keep_f64(pos, 1.0);
                    }
            else
                for (; k + CMF_LANES <= na; k += CMF_LANES)
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
        for (; k < na; k++) {      /* the tail, or every candidate when they are few */
            double u = (double)za[k] - tau;
            if (!(u > 0)) continue;
            double pb = beta == 2.0 ? u * u : S(powu)(u, beta);
            f += pb;
            d1 += pb / u;
            d2 += pb / (u * u);
        }
        iter++;
        if (fabs(f) <= ftol) break;
        if (f > 0) {
            /* the lower end rose: entries at or below it are out of the support for good */
            lo = tau;
            ptrdiff_t w = 0;
            for (ptrdiff_t k = 0; k < na; k++) {
                za[w] = za[k];
                idx[w] = idx[k];
                w += (double)za[k] > lo;
            }
            na = w;
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
        if (dt <= tol * (fabs(tau) > 1e-3 ? fabs(tau) : 1e-3) || hi - lo <= tol * 1e-3) break;
    }
    if (beta == 2.0) {
        /* exact: sum_S (z - tau)^2 = 1 on the support S = {z > tau} */
        for (int rep = 0; rep < 4; rep++) {
            double s1 = 0.0, s2 = 0.0, c = 0.0;
            for (ptrdiff_t k = 0; k < na; k++) {
                double z = (double)za[k];
                if (z > tau) { s1 += z; s2 += z * z; c += 1.0; }
            }
            double mu = s1 / c, d = mu * mu - (s2 - 1.0) / c;
            double tn = mu - sqrt(d > 0 ? d : 0.0);
            if (tn == tau) break;
            tau = tn;
        }
    }
    /* p = (z - tau)_+^beta on the candidates (every other entry is 0), renormalised so
     * that it sums to 1 */
    double tot = 0.0;
    memset(y, 0, (size_t)n * sizeof(T));
    for (ptrdiff_t k = 0; k < na; k++) {
        double u = (double)za[k] - tau;
        int pos = u > 0;
        double uu = cmf_keep_f64(pos, u) + cmf_keep_f64(!pos, 1.0);
        double p = cmf_keep_f64(pos, beta == 2.0 ? uu * uu : S(powu)(uu, beta));
        y[idx[k]] = (T)p;
        tot += p;
    }
    const T r = (T)(1.0 / tot);
    for (ptrdiff_t k = 0; k < na; k++) y[idx[k]] *= r;
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

cmf_status FN(sparsemax)(const cmf_geom *g, cmf_arr x, cmf_arr t, cmf_arr mask, cmf_arr y)
{
    S(call) c;
    memset(&c, 0, sizeof c);
    c.nin = 1; c.in[0] = x; c.nout = 1; c.out = y; c.mask = mask; c.t = t;
    c.scratch = CMF_CAND_SCRATCH;
    return S(run)(g, &c, S(sparsemax_rowfn), NULL);
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
    return S(run)(g, &c, S(entmax_rowfn), NULL);
}

/* derivative from the output: s = y^(2 - alpha) on the support,
 * r = (s v - s <s, v> / sum s) / t; the Jacobian is symmetric (vjp == jvp). */
static void S(entmax_d_rowfn)(S(row) *a)
{
    const ptrdiff_t n = a->n;
    const T *y = a->in[0], *v = a->in[1];
    T *r = a->out[0], *sv_ = a->scratch;      /* s = y^(2-alpha): r may be v itself */
    const double alpha = a->sin[0], e = 2.0 - alpha;
    double ss = 0.0, sv = 0.0;
    /* s = y^(2 - alpha) on the support, kept in r until the second pass */
    double sa[CMF_LANES], va[CMF_LANES];
    for (int j = 0; j < CMF_LANES; j++) sa[j] = va[j] = 0.0;
    ptrdiff_t k = 0;
#define CMF_S_LOOP(EXPR)                                                      \
    for (; k + CMF_LANES <= n; k += CMF_LANES)                                \
        for (int j = 0; j < CMF_LANES; j++) {                                 \
            double yk = (double)y[k + j];                                     \
            double s = cmf_keep_f64(yk > 0, (EXPR)) + cmf_keep_f64(yk != yk, yk); \
            sv_[k + j] = (T)s;                                                \
            sa[j] += s;                                                       \
            va[j] += cmf_keep_f64(s != 0, s * (double)v[k + j]);              \
        }
    if (e == 0.0) CMF_S_LOOP(1.0)
    else if (e == 1.0) CMF_S_LOOP(yk)
    else if (e == 0.5) CMF_S_LOOP(sqrt(cmf_keep_f64(yk > 0, yk)))
    else if (e > 0) CMF_S_LOOP(S(powu)(cmf_keep_f64((yk > 0) & (yk < 1), yk) + cmf_keep_f64(!((yk > 0) & (yk < 1)), 1.0), e))
#undef CMF_S_LOOP
    for (int j = 0; j < CMF_LANES; j++) { ss += sa[j]; sv += va[j]; }
    for (; k < n; k++) {
        double yk = (double)y[k];
        double s;
        if (!(yk > 0)) s = yk != yk ? yk : 0.0;
        else if (e == 0.0) s = 1.0;
        else if (e == 1.0) s = yk;
        else if (e == 0.5) s = sqrt(yk);
        else if (e > 0) s = S(powu)(yk > 1 ? 1 : yk, e);
        else { double q = S(powu)(yk > 1 ? 1 : yk, -e); s = q > 0 ? 1.0 / q : (double)T_MAX; }
        sv_[k] = (T)s;
        ss += s;
        sv += s == 0 ? 0.0 : s * (double)v[k];
    }
    const double q = sv / ss, it = (double)a->it;
    for (k = 0; k < n; k++) {
        double s = (double)sv_[k];
        r[k] = (T)cmf_keep_f64(s != 0, s * ((double)v[k] - q) * it);
    }
}

cmf_status FN(entmax_vjp)(const cmf_geom *g, cmf_arr y, cmf_arr v, cmf_arr t, cmf_arr alpha, cmf_arr r)
{
    S(call) c;
    memset(&c, 0, sizeof c);
    c.nin = 2; c.in[0] = y; c.in[1] = v; c.nout = 1; c.out = r; c.t = t;
    c.nsin = 1; c.sin[0] = alpha;
    c.scratch = 1;
    return S(run)(g, &c, S(entmax_d_rowfn), NULL);
}

#undef NINF_S
