/* losses.tmpl.c: the Fenchel-Young losses of the family, loss and gradient in one visit
 * of each slice, written once for T = float / double (see cmf_template.h).  Included
 * after softmax.tmpl.c and sparse.tmpl.c, whose row kernels it reuses.
 *
 * For the regulariser Omega = -H_alpha (Shannon for alpha = 1, Gini for alpha = 2,
 * Tsallis otherwise) and z = x / t, the loss against a target distribution q is
 *
 *     L = Omega*(z) + Omega(q) - <q, z> = [<p, z> + H(p)] - [<q, z> + H(q)],
 *
 * p = argmax_p <p, z> + H(p) (softmax, sparsemax, entmax): L >= 0, L = 0 iff p = q, and
 * dL/dx = (p - q) / t.  Every inner product is taken on z shifted by the slice's maximum
 * (sum p = sum q = 1, so the shift cancels): nothing overflows, and a term is only formed
 * where its probability is positive, so an excluded or -inf logit never meets a zero
 * probability (no 0 * (-inf) = NaN).  A target with mass on such a logit gives +inf.
 *
 * Targets: a class index per slice (q one-hot; < 0: ignored, loss 0 and gradient 0) or a
 * distribution (an array like x); label smoothing mixes either with the uniform
 * distribution over the slice's included entries: q <- (1 - eps) q + eps / n_included.
 * The gradient is scaled per slice by `gscale` (sample weights and the reduction).
 *
 * Per-slice inputs sin = {alpha, label, gscale, eps}; per-slice output sout[0] = loss.
 */

/* one entry's share of H_alpha(q) = (1 - sum q^alpha) / (alpha (alpha - 1)) (with
 * sum q = 1): -q log q, q (1 - q) / 2, or -q expm1((alpha - 1) log q) / (alpha (alpha - 1)),
 * the last stable as alpha -> 1.  0 for q = 0; NaN propagates. */
/* scratch rows: p when there is no gradient row, then the sparse kernels' candidates */
#ifndef CMF_LOSS_SCRATCH
#define CMF_LOSS_SCRATCH (CMF_CAND_SCRATCH + 1)
#endif

static inline double S(h_term)(double q, double alpha)
{
    if (!(q > 0)) return q != q ? q : 0.0;
    if (alpha == 1.0) return -q * cmf_log_f64(q);
    if (alpha == 2.0) return 0.5 * q * (1.0 - q);
    const double a1 = alpha - 1.0;
    return -q * cmf_expm1m_f64(a1 * cmf_log_f64(q < 1.0 ? q : 1.0)) / (alpha * a1);
}

/* sum over the included entries of z_k = (x_k - m) * it (vectorisable) */
static double S(zsum_row)(ptrdiff_t n, const T *x, const uint8_t *mk, T m, T it)
{
    double acc[CMF_LANES];
    for (int j = 0; j < CMF_LANES; j++) acc[j] = 0.0;
    ptrdiff_t k = 0;
    for (; k + CMF_LANES <= n; k += CMF_LANES)
        for (int j = 0; j < CMF_LANES; j++) {
            double z = (double)((x[k + j] - m) * it);
            acc[j] += mk ? cmf_keep_f64(mk[k + j] != 0, z) : z;
        }
    double s = 0.0;
    for (int j = 0; j < CMF_LANES; j++) s += acc[j];
    for (; k < n; k++) {
        double z = (double)((x[k] - m) * it);
        s += (!mk || mk[k]) ? z : 0.0;
    }
    return s;
}

static ptrdiff_t S(count_mask)(ptrdiff_t n, const uint8_t *mk)
{
    if (!mk) return n;
    ptrdiff_t c = 0;
    for (ptrdiff_t k = 0; k < n; k++) c += mk[k] != 0;
    return c;
}

/* The usual case, fused: alpha = 1, a class label, a finite maximum.  Passes: max; exp
 * (stored into the gradient row when there is one) and its sum; [the sum of z, for label
 * smoothing]; the gradient (p - q) * scale.  L = log sum exp z - <q, z> - H(q). */
static double S(xent_label_row)(ptrdiff_t n, const T *x, T *gr, const uint8_t *mk, T m, T it,
                                ptrdiff_t lab, double eps, double gs)
{
    const double s = S(expsum_row)(n, x, gr, mk, m, it);
    const double ls = cmf_log_f64(s);
    const int lab_on = !mk || mk[lab];
    const double zl = lab_on ? (double)((x[lab] - m) * it) : -INFINITY;
    double loss;
    double c = 0.0;                       /* smoothing mass of each included entry */
    if (eps == 0.0) {
        loss = ls - zl;
    } else {
        const ptrdiff_t nl = S(count_mask)(n, mk);
        c = eps / (double)nl;
        const double ql = 1.0 - eps + (lab_on ? c : 0.0);
        const double hq = S(h_term)(ql, 1.0) + (double)(lab_on ? nl - 1 : nl) * S(h_term)(c, 1.0);
        /* (eps = 1: the label has no weight left, even at a -inf logit) */
        const double lt = eps == 1.0 ? 0.0 : (1.0 - eps) * zl;
        loss = ls - lt - c * S(zsum_row)(n, x, mk, m, it) - hq;
    }
    if (gr) {
        const T r = (T)(1.0 / s), sc = (T)((double)it * gs), cq = (T)c;
        if (mk)
            for (ptrdiff_t k = 0; k < n; k++) gr[k] = (gr[k] * r - (mk[k] ? cq : (T)0)) * sc;
        else
            for (ptrdiff_t k = 0; k < n; k++) gr[k] = (gr[k] * r - cq) * sc;
        gr[lab] -= (T)((1.0 - eps) * (double)it * gs);
    }
    return loss;
}

/* Everything else (a target distribution, alpha != 1, non-finite logits): p computed by
 * the normaliser's row kernel into `p` (the gradient row, or scratch), then one scalar
 * pass for the loss and the gradient. */
static double S(fy_general_row)(ptrdiff_t n, const T *x, const T *y, T *p, T *gr, const uint8_t *mk,
                                T m, T it, double alpha, ptrdiff_t lab, double eps, double gs,
                                T *scratch)
{
    if (alpha == 1.0) S(softmax_row)(n, x, p, mk, it, 0);
    else if (alpha == 2.0) S(sparsemax_row)(n, x, p, mk, it, scratch, NULL);
    else S(entmax_row)(n, x, p, mk, it, alpha, scratch, NULL);
    const ptrdiff_t nl = eps != 0.0 ? S(count_mask)(n, mk) : n;
    const double c = eps != 0.0 ? eps / (double)nl : 0.0;
    const int fin = S(is_finite)(m);
    const double sc = (double)it * gs;
    double pz = 0.0, qz = 0.0;              /* <p, z> + H(p) and <q, z> + H(q) */
    for (ptrdiff_t k = 0; k < n; k++) {
        const int on = !mk || mk[k];
        /* z relative to the maximum; with +inf entries, the +inf entries are the only
         * finite ones (the limit of the loss as they grow) */
        double z;
        if (!on) z = -INFINITY;
        else if (fin) z = (double)((x[k] - m) * it);
        else z = (m == (T)INFINITY && x[k] == (T)INFINITY) ? 0.0 : -INFINITY;
        double q = y ? (double)y[k] : (k == lab ? 1.0 : 0.0);
        if (eps != 0.0) q = (1.0 - eps) * q + (on ? c : 0.0);
        const double pk = (double)p[k];
        if (pk != pk) pz = pk;
        else if (pk > 0) pz += pk * z + S(h_term)(pk, alpha);
        if (q != q) qz = q;
        else if (q > 0) qz += q * z + S(h_term)(q, alpha);
        if (gr) gr[k] = (T)((pk - q) * sc);
    }
    return pz - qz;
}

static void S(fy_row)(S(row) *a, int dist)
{
    const ptrdiff_t n = a->n;
    const T *x = a->in[0], *y = dist ? a->in[1] : NULL;
    T *gr = a->out[0];
    const uint8_t *mk = a->mask;
    const double alpha = a->sin[0], label = a->sin[1], gs = a->sin[2], eps = a->sin[3];
    if (!dist && !(label >= 0)) {          /* ignored */
        a->sout[0] = 0.0;
        if (gr) memset(gr, 0, (size_t)n * sizeof(T));
        return;
    }
    const ptrdiff_t lab = dist ? -1 : (ptrdiff_t)label;
    const T m = S(max_row)(n, x, mk);
    double loss;
    if (!dist && alpha == 1.0 && S(is_finite)(m)) {
        loss = S(xent_label_row)(n, x, gr, mk, m, a->it, lab, eps, gs);
    } else {
        T *p = gr ? gr : a->scratch;
        T *scr = gr ? a->scratch : a->scratch + n;
        loss = S(fy_general_row)(n, x, y, p, gr, mk, m, a->it, alpha, lab, eps, gs, scr);
    }
    /* >= 0 in exact arithmetic: clamp the rounding (NaN kept) */
    a->sout[0] = loss < 0 ? 0.0 : loss;
}

static void S(fy_label_rowfn)(S(row) *a) { S(fy_row)(a, 0); }
static void S(fy_dist_rowfn)(S(row) *a) { S(fy_row)(a, 1); }

cmf_status FN(fy_loss)(const cmf_geom *g, cmf_arr x, cmf_arr y, cmf_arr t, cmf_arr alpha, cmf_arr mask,
                       cmf_arr label, cmf_arr gscale, cmf_arr eps, cmf_arr loss, cmf_arr grad)
{
    S(call) c;
    memset(&c, 0, sizeof c);
    c.nin = y.p ? 2 : 1; c.in[0] = x; c.in[1] = y; c.mask = mask; c.t = t;
    c.nout = grad.p ? 1 : 0; c.out = grad;
    c.nsin = 4; c.sin[0] = alpha; c.sin[1] = label; c.sin[2] = gscale; c.sin[3] = eps;
    c.nsout = 1; c.sout[0] = loss;
    /* scratch: the sparse normalisers' candidates, and p when there is no gradient row */
    c.scratch = CMF_LOSS_SCRATCH;
    return S(drive)(g, &c, y.p ? S(fy_dist_rowfn) : S(fy_label_rowfn));
}
