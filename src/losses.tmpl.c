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
#define NINF_L ((T)-INFINITY)

/* scratch rows: p when there is no gradient row, then the sparse kernels' candidates */
#ifndef CMF_LOSS_SCRATCH
#define CMF_LOSS_SCRATCH (CMF_CAND_SCRATCH + 1)
#endif

static inline double S(h_term)(double q, double alpha)
{
    if (!(q > 0)) return q != q ? q : 0.0;
    if (alpha == 1.0) return -q * cmf_log_f64(q);
    if (alpha == 2.0) return 0.5 * q * (1.0 - q);
    if (alpha == 1.5) return q * (1.0 - sqrt(q)) * (4.0 / 3.0);
    const double a1 = alpha - 1.0;
    return -q * cmf_expm1m_f64(a1 * cmf_log_f64(q < 1.0 ? q : 1.0)) / (alpha * a1);
}

/* z = (x - m) * it in double (a float32 difference cannot overflow there; a float64 one
 * that does is taken as x * it - m * it, each finite) */
static inline double S(zdiff)(T x, T m, T it)
{
    const double d = (double)x - (double)m, itd = (double)it;
    return d - d == 0 ? d * itd : (double)x * itd - (double)m * itd;
}

/* sum over the included entries of z_k = (x_k - m) * it (vectorisable) */
static double S(zsum_row)(ptrdiff_t n, const T *x, const uint8_t *mk, T m, T it)
{
    double acc[CMF_LANES];
    for (int j = 0; j < CMF_LANES; j++) acc[j] = 0.0;
    ptrdiff_t k = 0;
    for (; k + CMF_LANES <= n; k += CMF_LANES)
        for (int j = 0; j < CMF_LANES; j++) {
            double z = S(zdiff)(x[k + j], m, it);
            acc[j] += mk ? cmf_keep_f64(mk[k + j] != 0, z) : z;
        }
    double s = 0.0;
    for (int j = 0; j < CMF_LANES; j++) s += acc[j];
    for (; k < n; k++) {
        double z = S(zdiff)(x[k], m, it);
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
    const double zl = lab_on ? S(zdiff)(x[lab], m, it) : -INFINITY;
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
        if (c == 0.0) {
            const T rs = (T)((double)it * gs / s);
            if (mk)                       /* excluded entries: 0 even when s is NaN */
                for (ptrdiff_t k = 0; k < n; k++) gr[k] = mk[k] ? gr[k] * rs : (T)0;
            else
#ifdef CMF_VEC
                S(vscale_row)(n, gr, rs);
#else
                for (ptrdiff_t k = 0; k < n; k++) gr[k] *= rs;
#endif
        } else if (mk)
            for (ptrdiff_t k = 0; k < n; k++) gr[k] = (gr[k] * r - (mk[k] ? cq : (T)0)) * sc;
        else
            for (ptrdiff_t k = 0; k < n; k++) gr[k] = (gr[k] * r - cq) * sc;
        gr[lab] -= (T)((1.0 - eps) * (double)it * gs);
    }
    return loss;
}

/* The sparse losses on a class label (alpha > 1, a finite maximum, no NaN), fused: the
 * normaliser's candidate pass leaves z' = (x - m) (alpha - 1) / t in the row `p`, and the
 * threshold is found on the candidates as by sparsemax / entmax; <p, z> + H(p) is summed
 * over the candidates alone (p = 0 elsewhere), each p_k the value the normaliser writes,
 * with z = z' / (alpha - 1) (the same z' for the label's term, so that a prediction equal
 * to the target costs exactly 0); then one pass writes the gradient (p - q) t^-1 gscale
 * from z' (none without a gradient row).  Returns 0 (nothing written that matters) when
 * the slice holds a NaN: the general path then takes it. */
static int S(fy_sparse_label_row)(ptrdiff_t n, const T *x, T *p, T *gr, const uint8_t *mk, T m, T it,
                                  double alpha, ptrdiff_t lab, double eps, double gs, T *scratch,
                                  double *loss)
{
    const double am1 = alpha - 1.0, beta = 1.0 / am1, zk = alpha == 2.0 ? 1.0 : beta;
    const T sc = alpha == 2.0 ? it : ((T)((double)it * am1) > 0 ? (T)((double)it * am1) : (T)0);
    T *zs = scratch, *zb = scratch + n;
    const ptrdiff_t na = S(sp_cands)(n, x, p, mk, m, sc, zs);
    if (na < 0) return 0;
    const int lab_on = !mk || mk[lab];
    const ptrdiff_t nl = S(count_mask)(n, mk);
    const double c = eps != 0.0 ? eps / (double)nl : 0.0;
    const T zlab_t = p[lab];
    /* <q, z> + H(q) */
    /* (z' of an entry far below the maximum may have overflowed: z from x, in double) */
    const double zl = !lab_on ? -INFINITY
                      : S(is_finite)(zlab_t) ? (double)zlab_t * zk : S(zdiff)(x[lab], m, it);
    double qz;
    if (eps == 0.0) {
        qz = zl;                                          /* H(one-hot) = 0 */
    } else {
        const double ql = 1.0 - eps + (lab_on ? c : 0.0);
        const double hq = S(h_term)(ql, alpha) + (double)(lab_on ? nl - 1 : nl) * S(h_term)(c, alpha);
        const double lt = eps == 1.0 ? 0.0 : (1.0 - eps) * zl;
        qz = lt + c * S(zsum_row)(n, x, mk, m, it) + hq;
    }
    /* the threshold, and <p, z> + H(p) over the candidates */
    int iter;
    double pz = 0.0;
    T plab;                                               /* p at the label */
    T th = 0, tl = 0, r = 1;
    if (alpha == 2.0) {
        const double tau = S(sparsemax_tau)(na, zs, &iter);
        S(sp_split)(tau, &th, &tl);
        for (ptrdiff_t j = 0; j < na; j++) {
            T u = (zs[j] - th) - tl;
            u = u > 0 ? u : (T)0;
            const double pk = (double)u;
            pz += pk * (double)zs[j] + 0.5 * pk * (1.0 - pk);
        }
        const T u = (zlab_t - th) - tl;
        plab = lab_on && u > 0 ? u : (T)0;
    } else if (beta == 2.0) {
        ptrdiff_t nact;
        const double tau = S(entmax15_tau)(na, zs, &iter, &nact);
        r = (T)(1.0 / S(quad_total)(nact, zs, tau));
        S(sp_split)(tau, &th, &tl);
        for (ptrdiff_t j = 0; j < nact; j++) {
            T u = (zs[j] - th) - tl;
            u = u > 0 ? u : (T)0;
            const double pk = (double)(u * u * r);
            pz += pk * (double)zs[j] * 2.0 + S(h_term)(pk, 1.5);
        }
        T u = (zlab_t - th) - tl;
        u = lab_on && u > 0 ? u : (T)0;
        plab = u * u * r;
    } else {
        ptrdiff_t nact;
        T *za, lo_t;
        const double tau = S(entmax_tau)(na, zs, zb, n, alpha, nl, &iter, &za, &nact, &lo_t);
        T *pc = za == zs ? zb : zs;
        S(entmax_cand_p)(S(sp_pad)(nact, za, n), za, pc, tau, beta);
        for (ptrdiff_t j = 0; j < nact; j++) {
            const double pk = (double)pc[j];
            if (pk > 0) pz += pk * (double)za[j] * zk + S(h_term)(pk, alpha);
        }
        if (gr) S(sp_expand)(n, p, mk, lo_t, pc);
        plab = gr ? p[lab] : 0;
    }
    *loss = pz - qz;
    if (gr) {
        /* gr = (p - c [included]) t^-1 gscale; the label's entry in double */
        const T s = (T)((double)it * gs), cs = (T)c;
        if (alpha == 2.0 || beta == 2.0) {
            const int quad = beta == 2.0;
            if (mk) {
                for (ptrdiff_t k = 0; k < n; k++) {
                    T u = (gr[k] - th) - tl;
                    u = u > 0 ? u : (T)0;
                    const T pk = quad ? u * u * r : u;
                    gr[k] = mk[k] ? (pk - cs) * s : (T)0;
                }
            } else if (quad) {
                for (ptrdiff_t k = 0; k < n; k++) {
                    T u = (gr[k] - th) - tl;
                    u = u > 0 ? u : (T)0;
                    gr[k] = (u * u * r - cs) * s;
                }
            } else {
                for (ptrdiff_t k = 0; k < n; k++) {
                    T u = (gr[k] - th) - tl;
                    u = u > 0 ? u : (T)0;
                    gr[k] = (u - cs) * s;
                }
            }
        } else if (mk) {
            for (ptrdiff_t k = 0; k < n; k++) gr[k] = mk[k] ? (gr[k] - cs) * s : (T)0;
        } else {
            for (ptrdiff_t k = 0; k < n; k++) gr[k] = (gr[k] - cs) * s;
        }
        const double ql = 1.0 - eps + (lab_on ? c : 0.0);
        gr[lab] = (T)(((double)plab - ql) * ((double)it * gs));
    }
    return 1;
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
    /* nothing to predict (every entry excluded or -inf): p = 0, so that a target there
     * gives +inf with the finite gradient -q / t (no NaN) */
    if (m == NINF_L) memset(p, 0, (size_t)n * sizeof(T));
    const double sc = (double)it * gs;
    double pz = 0.0, qz = 0.0;              /* <p, z> + H(p) and <q, z> + H(q) */
    for (ptrdiff_t k = 0; k < n; k++) {
        const int on = !mk || mk[k];
        /* z relative to the maximum; with +inf entries, the +inf entries are the only
         * finite ones (the limit of the loss as they grow) */
        double z;
        if (!on) z = -INFINITY;
        else if (fin) z = S(zdiff)(x[k], m, it);
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
    if ((!dist && !(label >= 0)) || gs == 0.0) {   /* ignored, or weight 0: not in the value */
        a->sout[0] = 0.0;
        if (gr) memset(gr, 0, (size_t)n * sizeof(T));
        return;
    }
    const ptrdiff_t lab = dist ? -1 : (ptrdiff_t)label;
    const T m = S(max_row)(n, x, mk);
    double loss;
    if (!dist && alpha == 1.0 && S(is_finite)(m)) {
        loss = S(xent_label_row)(n, x, gr, mk, m, a->it, lab, eps, gs);
    } else if (!dist && alpha > 1.0 && S(is_finite)(m) &&
               S(fy_sparse_label_row)(n, x, gr ? gr : a->scratch, gr, mk, m, a->it, alpha, lab, eps, gs,
                                      gr ? a->scratch : a->scratch + n, &loss)) {
        /* done */
    } else {
        T *p = gr ? gr : a->scratch;
        T *scr = gr ? a->scratch : a->scratch + n;
        loss = S(fy_general_row)(n, x, y, p, gr, mk, m, a->it, alpha, lab, eps, gs, scr);
    }
    /* >= 0 in exact arithmetic: clamp the rounding (NaN kept) */
    a->sout[0] = loss < 0 ? 0.0 : loss;
}

static void S(fy_label_rowfn)(S(row) *a) { S(fy_row)(a, 0); }

/* One lane of a column tile through the row kernel (rare: a lane with a non-finite
 * maximum): gathered into contiguous rows, computed, the gradient scattered back. */
static void S(fy_lane)(const S(cols) *k, ptrdiff_t j, int *failed)
{
    const ptrdiff_t n = k->n;
    T *buf = (T *)malloc((size_t)(n * (2 + CMF_LOSS_SCRATCH) + 1) * sizeof(T));
    uint8_t *mb = (uint8_t *)malloc((size_t)n + 1);
    if (!buf || !mb) { free(buf); free(mb); *failed = 1; return; }
    S(row) r;
    memset(&r, 0, sizeof r);
    r.n = n;
    for (ptrdiff_t q = 0; q < n; q++) buf[q] = k->in[0][q * k->ldi[0] + j];
    if (k->mask)
        for (ptrdiff_t q = 0; q < n; q++) mb[q] = k->mask[q * k->ldm + j];
    r.in[0] = buf;
    r.out[0] = k->out ? buf + n : NULL;
    r.mask = k->mask ? mb : NULL;
    r.scratch = buf + 2 * n;
    r.it = k->it[j];
    r.t = k->t[j];
    for (int a = 0; a < 4; a++) r.sin[a] = k->sin[a][j];
    S(fy_row)(&r, 0);
    k->sout[0][j] = r.sout[0];
    if (k->out)
        for (ptrdiff_t q = 0; q < n; q++) k->out[q * k->ldo + j] = buf[n + q];
    free(buf);
    free(mb);
}

/* Softmax cross-entropy on class labels, B slices side by side (short or strided slices,
 * or a non-last class axis): the passes of S(xent_label_row) vectorised across the
 * slices.  Lanes: sin = {alpha (1 here), label, gscale, eps}; sout[0] = loss.  The
 * gradient goes to k->out when there is one (else exps are not stored). */
static void S(xent_colfn)(const S(cols) *k)
{
    const ptrdiff_t n = k->n, B = k->B, ldx = k->ldi[0], ldo = k->ldo, ldm = k->ldm;
    const T *x = k->in[0];
    const uint8_t *mk = k->mask;
    T *gr = k->out;
    const double *lab = k->sin[1], *gs = k->sin[2], *eps = k->sin[3];
    double *s = k->ws, *loss = k->sout[0];
    T *m = (T *)(k->ws + B), *r = (T *)(k->ws + 2 * B), *acc = (T *)(k->ws + 3 * B);
    S(cols_max)(n, B, x, ldx, mk, ldm, m);
    /* lanes with a non-finite maximum (or ignored) get a harmless shift here and are
     * redone (or zeroed) below */
    int special = 0;
    for (ptrdiff_t j = 0; j < B; j++) {
        const int sp = !S(is_finite)(m[j]) && lab[j] >= 0 && gs[j] != 0.0;
        special |= sp;
        if (!S(is_finite)(m[j])) m[j] = 0;
        s[j] = 0.0;
    }
    if (gr) {
        if (mk) S(cols_expsum)(n, B, x, ldx, gr, ldo, mk, ldm, m, k->it, s, acc, 1, 1);
        else S(cols_expsum)(n, B, x, ldx, gr, ldo, mk, ldm, m, k->it, s, acc, 1, 0);
    } else {
        if (mk) S(cols_expsum)(n, B, x, ldx, gr, ldo, mk, ldm, m, k->it, s, acc, 0, 1);
        else S(cols_expsum)(n, B, x, ldx, gr, ldo, mk, ldm, m, k->it, s, acc, 0, 0);
    }
    int smooth = 0;
    for (ptrdiff_t j = 0; j < B; j++) smooth |= eps[j] != 0.0;
    double *cz = k->ws + 4 * B, *cq = k->ws + 5 * B;   /* sum of z, smoothing mass */
    if (smooth) {
        for (ptrdiff_t j = 0; j < B; j++) cz[j] = 0.0;
        ptrdiff_t nl_all = n;
        for (ptrdiff_t q = 0; q < n; q++) {
            const T *xq = x + q * ldx;
            const uint8_t *mq = mk ? mk + q * ldm : NULL;
            for (ptrdiff_t j = 0; j < B; j++) {
                double z = S(zdiff)(xq[j], m[j], k->it[j]);
                cz[j] += (!mq || mq[j]) ? z : 0.0;
            }
        }
        for (ptrdiff_t j = 0; j < B; j++) {
            ptrdiff_t nl = nl_all;
            if (mk) { nl = 0; for (ptrdiff_t q = 0; q < n; q++) nl += mk[q * ldm + j] != 0; }
            cq[j] = eps[j] / (double)nl;
            /* cz[j] becomes eps-weighted: sum_q c z_q + H(q) */
            const ptrdiff_t l = (ptrdiff_t)(lab[j] >= 0 ? lab[j] : 0);
            const int on = !mk || mk[l * ldm + j];
            const double ql = 1.0 - eps[j] + (on ? cq[j] : 0.0);
            cz[j] = cq[j] * cz[j] + S(h_term)(ql, 1.0) + (double)(on ? nl - 1 : nl) * S(h_term)(cq[j], 1.0);
        }
    }
    for (ptrdiff_t j = 0; j < B; j++) {          /* vectorised: log and reciprocal */
        r[j] = (T)(1.0 / s[j]);
        s[j] = cmf_log_f64(s[j]);
    }
    for (ptrdiff_t j = 0; j < B; j++) {
        const ptrdiff_t l = (ptrdiff_t)(lab[j] >= 0 ? lab[j] : 0);
        const int on = !mk || mk[l * ldm + j];
        const double zl = on ? S(zdiff)(x[l * ldx + j], m[j], k->it[j]) : -INFINITY;
        const double e = smooth ? eps[j] : 0.0;
        const double lt = e == 1.0 ? 0.0 : (1.0 - e) * zl;
        double L = s[j] - lt - (smooth && e != 0.0 ? cz[j] : 0.0);
        loss[j] = L < 0 ? 0.0 : L;
        if (!smooth) cq[j] = 0.0;
    }
    if (gr) {
        T *sc = acc, *cqt = (T *)(k->ws + 4 * B);           /* cz is no longer needed */
        for (ptrdiff_t j = 0; j < B; j++) { sc[j] = (T)((double)k->it[j] * gs[j]); cqt[j] = (T)cq[j]; }
        for (ptrdiff_t q = 0; q < n; q++) {
            T *gq = gr + q * ldo;
            const uint8_t *mq = mk ? mk + q * ldm : NULL;
            if (mq)
                for (ptrdiff_t j = 0; j < B; j++) gq[j] = mq[j] ? (gq[j] * r[j] - cqt[j]) * sc[j] : (T)0;
            else
                for (ptrdiff_t j = 0; j < B; j++) gq[j] = (gq[j] * r[j] - cqt[j]) * sc[j];
        }
        for (ptrdiff_t j = 0; j < B; j++) {
            const ptrdiff_t l = (ptrdiff_t)(lab[j] >= 0 ? lab[j] : 0);
            const double e = smooth ? eps[j] : 0.0;
            gr[l * ldo + j] -= (T)((1.0 - e) * (double)k->it[j] * gs[j]);
        }
    }
    for (ptrdiff_t j = 0; j < B; j++) {
        if (lab[j] < 0 || gs[j] == 0.0) {     /* ignored, or weight 0 */
            loss[j] = 0.0;
            if (gr) for (ptrdiff_t q = 0; q < n; q++) gr[q * ldo + j] = 0;
        }
    }
    if (special) {
        int failed = 0;
        for (ptrdiff_t j = 0; j < B; j++) {
            /* the column kernel's shift was 0 for these lanes: recompute them exactly */
            const T *xj = x + j;
            T mj = NINF_L;
            for (ptrdiff_t q = 0; q < n; q++) {
                T v = (!mk || mk[q * ldm + j]) ? xj[q * ldx] : NINF_L;
                mj = v > mj ? v : mj;
            }
            if (!S(is_finite)(mj) && lab[j] >= 0 && gs[j] != 0.0) S(fy_lane)(k, j, &failed);
        }
        if (failed) for (ptrdiff_t j = 0; j < B; j++) loss[j] = NAN;   /* out of memory */
    }
}
/* The sparse losses (alpha = 2 or 1.5 for every slice) on class labels, B short slices
 * side by side: p by the sparse normalisers' column kernel (into the gradient tile, or a
 * scratch one), then per lane <p, z> + H(p) over the entries, the label's terms and the
 * gradient as S(fy_sparse_label_row) computes them for a row.  A lane the column kernel
 * did not solve itself (a non-finite maximum, a NaN, rounding) is redone by the row
 * kernel (S(fy_lane)). */
static void S(fy_sparse_cols)(const S(cols) *k, double alpha)
{
    const ptrdiff_t n = k->n, ldx = k->ldi[0], ldm = k->ldm;
    const int quad = alpha != 2.0;
    const double zk = quad ? 2.0 : 1.0, zsc = quad ? 0.5 : 1.0;   /* z = z' zk, sc = it zsc */
    const double *lab = k->sin[1], *gsl = k->sin[2], *epl = k->sin[3];
    T *pbuf = NULL;
    ptrdiff_t ldp = k->ldo;
    if (!k->out) {
        ldp = CMF_SP_CB;
        pbuf = (T *)malloc((size_t)(n * CMF_SP_CB + 1) * sizeof(T));
        if (!pbuf) { for (ptrdiff_t j = 0; j < k->B; j++) k->sout[0][j] = NAN; return; }
    }
    int failed = 0;
    for (ptrdiff_t j0 = 0; j0 < k->B; j0 += CMF_SP_CB) {
        const ptrdiff_t B = k->B - j0 < CMF_SP_CB ? k->B - j0 : CMF_SP_CB;
        const T *x = k->in[0] + j0;
        const uint8_t *mk = k->mask ? k->mask + j0 : NULL;
        const T *it = k->it + j0;
        T *P = k->out ? k->out + j0 : pbuf;
        double lanes[3 * CMF_SP_CB], pz[CMF_SP_CB], zs[CMF_SP_CB], nl[CMF_SP_CB], ql[CMF_SP_CB];
        T sc[CMF_SP_CB], mm[CMF_SP_CB], sT[CMF_SP_CB], cT[CMF_SP_CB], plab[CMF_SP_CB];
        S(sparse_block)(n, B, x, ldx, P, ldp, mk, ldm, it, NULL, alpha, lanes);
        int smooth = 0;
        for (ptrdiff_t j = 0; j < B; j++) {
            pz[j] = zs[j] = nl[j] = 0.0;
            sc[j] = (T)((double)it[j] * zsc);
            mm[j] = lanes[j] == 1.0 ? (T)lanes[2 * B + j] : (T)0;
            smooth |= epl[j0 + j] != 0.0;
        }
        /* <p, z> + H(p) (p = 0: no term), and for label smoothing sum z and the count */
        for (ptrdiff_t q = 0; q < n; q++) {
            const T *xq = x + q * ldx, *pq = P + q * ldp;
            const uint8_t *mq = mk ? mk + q * ldm : NULL;
            for (ptrdiff_t j = 0; j < B; j++) {
                const double pd = (double)pq[j], z = (double)((xq[j] - mm[j]) * sc[j]) * zk;
                const double h = quad ? pd * (1.0 - sqrt(pd > 0 ? pd : 0.0)) * (4.0 / 3.0) : 0.5 * pd * (1.0 - pd);
                pz[j] += pd > 0 ? pd * z + h : 0.0;
            }
            if (smooth)
                for (ptrdiff_t j = 0; j < B; j++) {
                    const int on = !mq || mq[j];
                    zs[j] += on ? S(zdiff)(xq[j], mm[j], it[j]) : 0.0;
                    nl[j] += on ? 1.0 : 0.0;
                }
        }
        for (ptrdiff_t j = 0; j < B; j++) {
            const double lb = lab[j0 + j], gs = gsl[j0 + j], eps = smooth ? epl[j0 + j] : 0.0;
            sT[j] = (T)((double)it[j] * gs);
            cT[j] = 0;
            ql[j] = 0.0;
            plab[j] = 0;
            if (!(lb >= 0) || gs == 0.0 || lanes[j] != 1.0) continue;   /* (below) */
            const ptrdiff_t l = (ptrdiff_t)lb;
            const int on = !mk || mk[l * ldm + j];
            const T zl_t = (x[l * ldx + j] - mm[j]) * sc[j];
            const double zl = !on ? -INFINITY : S(is_finite)(zl_t) ? (double)zl_t * zk : S(zdiff)(x[l * ldx + j], mm[j], it[j]);
            const double c = eps != 0.0 ? eps / nl[j] : 0.0;
            double qz;
            ql[j] = 1.0 - eps + (on ? c : 0.0);
            if (eps == 0.0) {
                qz = zl;                                       /* H(one-hot) = 0 */
            } else {
                const double hq = S(h_term)(ql[j], alpha) + (on ? nl[j] - 1.0 : nl[j]) * S(h_term)(c, alpha);
                qz = (eps == 1.0 ? 0.0 : (1.0 - eps) * zl) + c * zs[j] + hq;
            }
            const double L = pz[j] - qz;
            k->sout[0][j0 + j] = L < 0 ? 0.0 : L;
            cT[j] = (T)c;
            plab[j] = P[l * ldp + j];
        }
        if (k->out) {
            for (ptrdiff_t q = 0; q < n; q++) {
                T *pq = P + q * ldp;
                const uint8_t *mq = mk ? mk + q * ldm : NULL;
                if (mq)
                    for (ptrdiff_t j = 0; j < B; j++) pq[j] = mq[j] ? (pq[j] - cT[j]) * sT[j] : (T)0;
                else
                    for (ptrdiff_t j = 0; j < B; j++) pq[j] = (pq[j] - cT[j]) * sT[j];
            }
        }
        for (ptrdiff_t j = 0; j < B; j++) {
            const double lb = lab[j0 + j], gs = gsl[j0 + j];
            if (!(lb >= 0) || gs == 0.0) {                    /* ignored, or weight 0 */
                k->sout[0][j0 + j] = 0.0;
                if (k->out) for (ptrdiff_t q = 0; q < n; q++) P[q * ldp + j] = 0;
            } else if (lanes[j] != 1.0) {
                S(fy_lane)(k, j0 + j, &failed);
            } else if (k->out) {
                P[(ptrdiff_t)lb * ldp + j] = (T)(((double)plab[j] - ql[j]) * ((double)it[j] * gs));
            }
        }
    }
    free(pbuf);
    if (failed) for (ptrdiff_t j = 0; j < k->B; j++) k->sout[0][j] = NAN;   /* out of memory */
}
static void S(fy_sparsemax_colfn)(const S(cols) *k) { S(fy_sparse_cols)(k, 2.0); }
static void S(fy_entmax15_colfn)(const S(cols) *k) { S(fy_sparse_cols)(k, 1.5); }

static void S(fy_dist_rowfn)(S(row) *a) { S(fy_row)(a, 1); }

#ifdef CMF_VEC
/* Softmax cross-entropy on class labels for short contiguous slices (2 <= n <= VN, no
 * mask, one temperature, no label smoothing): VN slices at a time in registers, as
 * S(softmax_short) does (loaded, transposed: vector k holds entry k of VN slices), the
 * exps, their sums, the loss per lane and the gradient (p - e_y) it gs transposed back
 * and stored; no tile.  Each lane's arithmetic is that of S(xent_colfn) (same exps and
 * sums, the label's term subtracted from the gradient after the scaling), so a slice gets
 * the same bits as through a tile.  A lane with a non-finite maximum goes through the row
 * kernel, as S(xent_colfn) sends it. */
static void S(xent_short)(const cmf_geom *g, cmf_arr xa, cmf_arr ga, T it, double t, cmf_arr la,
                          cmf_arr gsa, cmf_arr lossa)
{
    const ptrdiff_t n = g->n, NI = g->n_inner, ns = g->n_outer * NI;
    const T *x = (const T *)xa.p;
    T *gr = (T *)ga.p;
    const double *lab = (const double *)la.p, *gsp = (const double *)gsa.p;
    double *loss = (double *)lossa.p;
    const V zero = VSET1(0), vit = VSET1(it);
    const int scaled = it != 1;
    ptrdiff_t o = 0, i = 0;
    for (ptrdiff_t q0 = 0; q0 < ns; q0 += VN) {
        const ptrdiff_t nj = ns - q0 < VN ? ns - q0 : VN;
        const T *xr[VN];
        T *gq[VN];
        double lj[VN], gj[VN], *lo[VN];
        if (NI == 1 && nj == VN) {        /* rows of a matrix */
            for (int jj = 0; jj < VN; jj++) {
                xr[jj] = x + (q0 + jj) * xa.so;
                gq[jj] = gr ? gr + (q0 + jj) * ga.so : NULL;
                lj[jj] = lab[(q0 + jj) * la.so];
                gj[jj] = gsp[(q0 + jj) * gsa.so];
                lo[jj] = loss + (q0 + jj) * lossa.so;
            }
            o += VN;
        } else
        for (int jj = 0; jj < VN; jj++) {
            if (jj < nj) {
                xr[jj] = x + o * xa.so + i * xa.si;
                gq[jj] = gr ? gr + o * ga.so + i * ga.si : NULL;
                lj[jj] = lab[o * la.so + i * la.si];
                gj[jj] = gsp[o * gsa.so + i * gsa.si];
                lo[jj] = loss + o * lossa.so + i * lossa.si;
                if (++i == NI) { i = 0; o++; }
            } else {              /* a lane past the last slice repeats the first one */
                xr[jj] = xr[0];
                gq[jj] = NULL;
                lj[jj] = lj[0];
                gj[jj] = gj[0];
                lo[jj] = NULL;
            }
        }
        V c[VN];
        V m = S(vshort_load)(n, xr, NULL, 0, c, 0, 0);
        T mv[VN], sl[VN], rl[VN], scl[VN], labt[VN], keep[VN];
        VST(mv, m);
        /* lanes with a non-finite maximum: a harmless shift here, then redone by the row
         * kernel (unless ignored or of weight 0: loss 0 and gradient 0 like the others) */
        int special = 0, redo[VN];
        for (int jj = 0; jj < VN; jj++) {
            redo[jj] = 0;
            if (S(is_finite)(mv[jj])) continue;
            special = 1;
            mv[jj] = 0;
            redo[jj] = jj < nj && lj[jj] >= 0 && gj[jj] != 0.0;
        }
        if (special) m = VLD(mv);
        VST(sl, S(vshort_expsum)(n, c, m, vit, scaled, 1));
        T xl[VN];
        double lv[VN];
        for (int jj = 0; jj < VN; jj++) {
            const ptrdiff_t l = (ptrdiff_t)(lj[jj] >= 0 ? lj[jj] : 0);
            xl[jj] = xr[jj][l];
            labt[jj] = (T)l;
        }
        for (int jj = 0; jj < VN; jj++) {      /* vectorised: reciprocal, log, the loss */
            const double sd = (double)sl[jj];
            rl[jj] = (T)(1.0 / sd);
            const double L = cmf_log_f64(sd) - S(zdiff)(xl[jj], mv[jj], it);
            const int on = lj[jj] >= 0 && gj[jj] != 0.0;
            lv[jj] = !on ? 0.0 : L < 0 ? 0.0 : L;
            scl[jj] = (T)((double)it * gj[jj]);
            keep[jj] = (T)on;
        }
        for (int jj = 0; jj < nj; jj++) *lo[jj] = lv[jj];
        if (gr) {
            const V r = VLD(rl), sc = VLD(scl);
            for (int k = 0; k < VN; k++)
                if (k < n) c[k] = VMUL(VMUL(c[k], r), sc);
            VTR(c);
            /* the label's entry less it gs, after the rounded product (as S(xent_colfn)
             * does in memory; here past the transpose, so no product can be fused in) */
            T iota[VN];
            for (int k = 0; k < VN; k++) iota[k] = (T)k;
            const V vio = VLD(iota);
            for (int jj = 0; jj < nj; jj++) {
                if (special && redo[jj]) continue;
                const V gj_ = keep[jj] != 0
                    ? VSUB(c[jj], VKEEPNZ(VIS0(VSUB(vio, VSET1(labt[jj]))), VSET1(scl[jj])))
                    : zero;
                if (n == VN) VST(gq[jj], gj_);
                else VSTT(gq[jj], n, gj_);
            }
        }
        if (special) {
            for (int jj = 0; jj < nj; jj++) {
                if (!redo[jj]) continue;
                T scratch[VN * (1 + CMF_LOSS_SCRATCH)];
                S(row) r;
                memset(&r, 0, sizeof r);
                r.n = n;
                r.in[0] = xr[jj];
                r.out[0] = gq[jj];
                r.scratch = scratch;
                r.it = it;
                r.t = t;
                r.sin[0] = 1.0; r.sin[1] = lj[jj]; r.sin[2] = gj[jj]; r.sin[3] = 0.0;
                S(fy_row)(&r, 0);
                *lo[jj] = r.sout[0];
            }
        }
    }
}
#endif

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
    /* class labels and alpha = 1 for every slice: short or strided slices go through the
     * column kernel (the row kernel for long contiguous ones) */
    const int xent = !y.p && alpha.p && alpha.so == 0 && alpha.si == 0 && *(const double *)alpha.p == 1.0;
#ifdef CMF_VEC
    if (xent && g->n >= 2 && g->n <= VN && x.sa == 1 && (!grad.p || grad.sa == 1) && !mask.p &&
        (!t.p || (t.so == 0 && t.si == 0)) && eps.p && eps.so == 0 && eps.si == 0 &&
        *(const double *)eps.p == 0.0 && label.p && gscale.p && loss.p) {
        const double t0 = t.p ? *(const double *)t.p : 1.0;
        S(xent_short)(g, x, grad, S(inv_temperature)(t0), t0, label, gscale, loss);
        return CMF_OK;
    }
#endif
    if (xent) return S(run)(g, &c, S(fy_label_rowfn), S(xent_colfn));
    /* the sparse losses on labels, one alpha of 2 or 1.5: short slices side by side */
    const int one = !y.p && alpha.p && alpha.so == 0 && alpha.si == 0;
    const double a0 = one ? *(const double *)alpha.p : 0.0;
    if (one && g->n < 48 && (a0 == 2.0 || a0 == 1.5))
        return S(run)(g, &c, S(fy_label_rowfn), a0 == 2.0 ? S(fy_sparsemax_colfn) : S(fy_entmax15_colfn));
    return S(drive)(g, &c, y.p ? S(fy_dist_rowfn) : S(fy_label_rowfn));
}

#undef NINF_L
