/* elementwise.tmpl.c: the two-class members of the family, with temperature t:
 *   sigmoid(x)     = softmax([x, 0] / t)[0]     = 1 / (1 + exp(-x / t))
 *   log_sigmoid(x) = log_softmax([x, 0] / t)[0] = min(z, 0) - log1p(exp(-|z|)),  z = x / t
 *   softplus(x)    = logsumexp([x, 0]; t)       = max(x, 0) + t log1p(exp(-|z|))
 * Branch-free, exp only of non-positive arguments, so nothing overflows.  Their
 * derivatives are computed from the forward output:
 *   sigmoid'     = y (1 - y) / t
 *   log_sigmoid' = (1 - sigmoid(z)) / t = -expm1(y) / t
 *   softplus'    = sigmoid(z) = -expm1(-y / t)
 * The temperature array is float64 with full strides (broadcasting allowed). */

enum { S(EW_SIGMOID), S(EW_LOG_SIGMOID), S(EW_SOFTPLUS), S(EW_D_SIGMOID), S(EW_D_LOG_SIGMOID),
       S(EW_D_SOFTPLUS) };

static inline T S(ew_one)(int op, T x, T v, T it, T t)
{
    switch (op) {
    case S(EW_SIGMOID): {
        T z = x * it;
        T a = z < 0 ? z : -z;              /* -|z| (NaN stays NaN) */
        T e = EXPM(a);
        T s = (T)1 / ((T)1 + e);
        return z >= 0 ? s : e * s;
    }
    case S(EW_LOG_SIGMOID): {
        T z = x * it;
        T a = z < 0 ? z : -z;
        T e = EXPM(a);
        T lo = z < 0 ? z : (T)0;
        if (z != z) lo = z;
        return lo - LOG1PU(e);
    }
    case S(EW_SOFTPLUS): {
        /* max(x, 0) + t log1p(exp(-|x| / t)): finite whenever the result is, even when
         * x / t overflows */
        T z = x * it;
        T a = z < 0 ? z : -z;
        T e = EXPM(a);
        T hi = x > 0 ? x : (T)0;
        if (x != x) hi = x;
        return hi + t * LOG1PU(e);
    }
    case S(EW_D_SIGMOID):
        return x == 0 || x == 1 ? (T)0 * v : v * x * ((T)1 - x) * it;
    case S(EW_D_LOG_SIGMOID):
        return v * (-EXPM1M(x)) * it;
    default: /* S(EW_D_SOFTPLUS) */
        return v * (-EXPM1M(-x * it));
    }
}

static cmf_status S(ew_drive)(const cmf_geom *g, cmf_arr xa, cmf_arr va, cmf_arr ta, cmf_arr ya, int op)
{
    const ptrdiff_t n = g->n, NO = g->n_outer, NI = g->n_inner;
    if (n < 0 || NO < 0 || NI < 0) return CMF_EINVAL;
    const T *x = (const T *)xa.p, *v = (const T *)va.p;
    const double *t = (const double *)ta.p;
    T *y = (T *)ya.p;
    for (ptrdiff_t o = 0; o < NO; o++)
        for (ptrdiff_t i = 0; i < NI; i++) {
            const T *xs = x + o * xa.so + i * xa.si;
            const T *vs = v ? v + o * va.so + i * va.si : NULL;
            T *ys = y + o * ya.so + i * ya.si;
            const double *ts = t ? t + o * ta.so + i * ta.si : NULL;
            if (xa.sa == 1 && ya.sa == 1 && (!v || va.sa == 1) && (!t || ta.sa == 0)) {
                double tt = ts ? *ts : 1.0;
                T it = S(inv_temperature)(tt), tv = (T)tt;
                /* one switch per slice: each loop below is a plain vectorisable map */
                switch (op) {
                case S(EW_SIGMOID):
                    for (ptrdiff_t k = 0; k < n; k++) ys[k] = S(ew_one)(S(EW_SIGMOID), xs[k], 0, it, tv);
                    break;
                case S(EW_LOG_SIGMOID):
                    for (ptrdiff_t k = 0; k < n; k++) ys[k] = S(ew_one)(S(EW_LOG_SIGMOID), xs[k], 0, it, tv);
                    break;
                case S(EW_SOFTPLUS):
                    for (ptrdiff_t k = 0; k < n; k++) ys[k] = S(ew_one)(S(EW_SOFTPLUS), xs[k], 0, it, tv);
                    break;
                case S(EW_D_SIGMOID):
                    for (ptrdiff_t k = 0; k < n; k++) ys[k] = S(ew_one)(S(EW_D_SIGMOID), xs[k], vs[k], it, tv);
                    break;
                case S(EW_D_LOG_SIGMOID):
                    for (ptrdiff_t k = 0; k < n; k++) ys[k] = S(ew_one)(S(EW_D_LOG_SIGMOID), xs[k], vs[k], it, tv);
                    break;
                default:
                    for (ptrdiff_t k = 0; k < n; k++) ys[k] = S(ew_one)(S(EW_D_SOFTPLUS), xs[k], vs[k], it, tv);
                }
            } else {
                for (ptrdiff_t k = 0; k < n; k++) {
                    double tt = ts ? ts[k * ta.sa] : 1.0;
                    ys[k * ya.sa] = S(ew_one)(op, xs[k * xa.sa], vs ? vs[k * va.sa] : 0,
                                              S(inv_temperature)(tt), (T)tt);
                }
            }
        }
    return CMF_OK;
}

cmf_status FN(sigmoid)(const cmf_geom *g, cmf_arr x, cmf_arr t, cmf_arr y)
{
    cmf_arr none = {0};
    return S(ew_drive)(g, x, none, t, y, S(EW_SIGMOID));
}
cmf_status FN(log_sigmoid)(const cmf_geom *g, cmf_arr x, cmf_arr t, cmf_arr y)
{
    cmf_arr none = {0};
    return S(ew_drive)(g, x, none, t, y, S(EW_LOG_SIGMOID));
}
cmf_status FN(softplus)(const cmf_geom *g, cmf_arr x, cmf_arr t, cmf_arr y)
{
    cmf_arr none = {0};
    return S(ew_drive)(g, x, none, t, y, S(EW_SOFTPLUS));
}
cmf_status FN(sigmoid_vjp)(const cmf_geom *g, cmf_arr y, cmf_arr v, cmf_arr t, cmf_arr r)
{
    return S(ew_drive)(g, y, v, t, r, S(EW_D_SIGMOID));
}
cmf_status FN(log_sigmoid_vjp)(const cmf_geom *g, cmf_arr y, cmf_arr v, cmf_arr t, cmf_arr r)
{
    return S(ew_drive)(g, y, v, t, r, S(EW_D_LOG_SIGMOID));
}
cmf_status FN(softplus_vjp)(const cmf_geom *g, cmf_arr y, cmf_arr v, cmf_arr t, cmf_arr r)
{
    return S(ew_drive)(g, y, v, t, r, S(EW_D_SOFTPLUS));
}
