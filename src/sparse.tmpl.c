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

/* sparsemax: Michelot's iteration from the lower bound tau = -1 (the maximum alone has
 * mass 1): tau <- (sum_{z > tau} z - 1) / #{z > tau} increases monotonically and stops
 * when the support no longer changes.  Exact: tau is the support's closed form. */
static void S(sparsemax_row)(ptrdiff_t n, const T *x, T *y, const uint8_t *mk, T it, double *n_iter)
{
    T m = S(max_row)(n, x, mk);
    if (!S(is_finite)(m)) {
        S(softmax_special)(n, x, 1, y, 1, mk, 1, m, 0);
        if (n_iter) *n_iter = 0;
        return;
    }
    if (S(any_nan)(n, x, mk)) {
        S(fill_nan)(n, y, mk);
        if (n_iter) *n_iter = 0;
        return;
    }
    double tau = -1.0;
    int iter = 0;
    for (;;) {
        const T tt = (T)tau;
        double sum = 0.0, cnt = 0.0;
        ptrdiff_t k = 0;
        /* masked sum and count of z > tau: T lanes over blocks, double across blocks;
         * selects of T only, so that every ISA vectorises it */
        while (k + CMF_LANES <= n) {
            const ptrdiff_t kend = n - k > CMF_BLOCK ? k + CMF_BLOCK : n;
            T sa[CMF_LANES], ca[CMF_LANES];
            for (int j = 0; j < CMF_LANES; j++) { sa[j] = 0; ca[j] = 0; }
            if (mk)
                for (; k + CMF_LANES <= kend; k += CMF_LANES)
                    for (int j = 0; j < CMF_LANES; j++) {
                        T z = mk[k + j] ? (x[k + j] - m) * it : NINF_S;
                        sa[j] += z > tt ? z : (T)0;
                        ca[j] += z > tt ? (T)1 : (T)0;
                    }
            else
                for (; k + CMF_LANES <= kend; k += CMF_LANES)
                    for (int j = 0; j < CMF_LANES; j++) {
                        T z = (x[k + j] - m) * it;
                        sa[j] += z > tt ? z : (T)0;
                        ca[j] += z > tt ? (T)1 : (T)0;
                    }
            double sb = 0.0, cb = 0.0;
            for (int j = 0; j < CMF_LANES; j++) { sb += (double)sa[j]; cb += (double)ca[j]; }
            sum += sb;
            cnt += cb;
        }
        for (; k < n; k++) {
            T z = (!mk || mk[k]) ? (x[k] - m) * it : NINF_S;
            sum += z > tt ? (double)z : 0.0;
            cnt += z > tt ? 1.0 : 0.0;
        }
        double tn = (sum - 1.0) / cnt;
        iter++;
        if (!(tn > tau) || iter > 200) break;   /* support stable: tau is exact */
        tau = tn;
    }
    const T tt = (T)tau;
    for (ptrdiff_t k = 0; k < n; k++) {
        T z = (x[k] - m) * it;
        T p = z - tt;
        p = p > 0 ? p : (T)0;
        y[k] = (!mk || mk[k]) ? p : (T)0;
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
    if (alpha == 2.0) { S(sparsemax_row)(n, x, y, mk, it, n_iter); return; }
    T m = S(max_row)(n, x, mk);
    if (!S(is_finite)(m)) {
        S(softmax_special)(n, x, 1, y, 1, mk, 1, m, 0);
        if (n_iter) *n_iter = 0;
        return;
    }
    if (S(any_nan)(n, x, mk)) {
        S(fill_nan)(n, y, mk);
        if (n_iter) *n_iter = 0;
        return;
    }
    const double am1 = alpha - 1.0, beta = 1.0 / am1;
    const T sc = (T)((double)it * am1) > 0 ? (T)((double)it * am1) : (T)0;
    /* compact the entries that can be in the support (z > -1) */
    ptrdiff_t na = 0, live = 0;
    for (ptrdiff_t k = 0; k < n; k++) {
        if (mk && !mk[k]) continue;
        live++;
        T z = (x[k] - m) * sc;
        if (z > (T)-1) scratch[na++] = z;
    }
    const T *za = scratch;
    double lo = -1.0, hi = -exp((1.0 - alpha) * log((double)live));
    if (hi < lo) hi = lo;
    double tau = lo;
    const double tol = (sizeof(T) == 4 ? 1e-7 : 4e-16);
    /* |sum p - 1| below the rounding of the sum itself: tau cannot get better */
    const double ftol = (sizeof(T) == 4 ? 0x1p-24 : 0x1p-52) * (4.0 + sqrt((double)na));
    int iter = 0;
    for (; iter < 100;) {
        double f = -1.0, d1 = 0.0, d2 = 0.0;
        {
            double fa[CMF_LANES], ga[CMF_LANES], ha[CMF_LANES];
            for (int j = 0; j < CMF_LANES; j++) fa[j] = ga[j] = ha[j] = 0.0;
            ptrdiff_t k = 0;
            if (beta == 2.0)
                for (; k + CMF_LANES <= na; k += CMF_LANES)
                    for (int j = 0; j < CMF_LANES; j++) {
                        double u = (double)za[k + j] - tau;
                        u = u > 0 ? u : 0.0;
                        fa[j] += u * u;
                        ga[j] += u;
                        ha[j] += u > 0 ? 1.0 : 0.0;
                    }
            else
                for (; k + CMF_LANES <= na; k += CMF_LANES)
                    for (int j = 0; j < CMF_LANES; j++) {
                        double u = (double)za[k + j] - tau;
                        double uu = u > 0 ? u : 1.0;
                        double pb = S(powu)(uu, beta);
                        double r = 1.0 / uu;
                        pb = u > 0 ? pb : 0.0;
                        fa[j] += pb;
                        ga[j] += pb * r;
                        ha[j] += pb * r * r;
                    }
            for (; k < na; k++) {
                double u = (double)za[k] - tau;
                if (!(u > 0)) continue;
                double pb = beta == 2.0 ? u * u : S(powu)(u, beta);
                f += pb;
                d1 += pb / u;
                d2 += pb / (u * u);
            }
            for (int j = 0; j < CMF_LANES; j++) { f += fa[j]; d1 += ga[j]; d2 += ha[j]; }
        }
        iter++;
        if (fabs(f) <= ftol) break;
        if (f > 0) lo = tau; else hi = tau;
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
    /* p = (z - tau)_+^beta, renormalised so that it sums to 1 */
    double tot = 0.0;
    {
        double ta[CMF_LANES];
        for (int j = 0; j < CMF_LANES; j++) ta[j] = 0.0;
        ptrdiff_t k = 0;
        if (!mk) {
            if (beta == 2.0)
                for (; k + CMF_LANES <= n; k += CMF_LANES)
                    for (int j = 0; j < CMF_LANES; j++) {
                        double u = (double)((x[k + j] - m) * sc) - tau;
                        u = u > 0 ? u : 0.0;
                        y[k + j] = (T)(u * u);
                        ta[j] += u * u;
                    }
            else
                for (; k + CMF_LANES <= n; k += CMF_LANES)
                    for (int j = 0; j < CMF_LANES; j++) {
                        double u = (double)((x[k + j] - m) * sc) - tau;
                        double p = S(powu)(u > 0 ? u : 1.0, beta);
                        p = u > 0 ? p : 0.0;
                        y[k + j] = (T)p;
                        ta[j] += p;
                    }
        }
        for (; k < n; k++) {
            T z = (x[k] - m) * sc;
            double u = (double)z - tau;
            double p = (u > 0 && (!mk || mk[k])) ? (beta == 2.0 ? u * u : S(powu)(u, beta)) : 0.0;
            y[k] = (T)p;
            tot += p;
        }
        for (int j = 0; j < CMF_LANES; j++) tot += ta[j];
    }
    const T r = (T)(1.0 / tot);
    for (ptrdiff_t k = 0; k < n; k++) y[k] *= r;
    if (n_iter) *n_iter = iter;
}

static void S(sparsemax_rowfn)(S(row) *a)
{
    S(sparsemax_row)(a->n, a->in[0], a->out[0], a->mask, a->it, NULL);
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
    c.scratch = 1;
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
            double s = (EXPR);                                                \
            s = yk > 0 ? s : (yk == 0 ? 0.0 : yk);                            \
            sv_[k + j] = (T)s;                                                \
            sa[j] += s;                                                       \
            va[j] += s == 0 ? 0.0 : s * (double)v[k + j];                     \
        }
    if (e == 0.0) CMF_S_LOOP(1.0)
    else if (e == 1.0) CMF_S_LOOP(yk)
    else if (e == 0.5) CMF_S_LOOP(sqrt(yk > 0 ? yk : 0.0))
    else if (e > 0) CMF_S_LOOP(S(powu)(yk > 0 && yk < 1 ? yk : 1.0, e))
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
        r[k] = s == 0 ? (T)0 : (T)(s * ((double)v[k] - q) * it);
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
