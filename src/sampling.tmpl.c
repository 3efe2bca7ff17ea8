/* sampling.tmpl.c: Gumbel noise (gumbel_softmax) and Gumbel-max sampling
 * (sample_categorical), written once for T = float / double (see cmf_template.h).
 *
 * Random words come from the caller's generator through a cmf_rng (cmaxfam.h); the caller
 * holds the generator's lock for the whole call.  The stream is consumed in one fixed
 * order that does not depend on the memory layout: slices in C order of
 * (n_outer, n_inner), and within a slice the elements in order along the axis, one word
 * per element (masked and -inf entries included, so the stream does not depend on the
 * mask either).  sample_categorical draws the n_samples samples of a slice one after the
 * other, a full slice of n words each, before it moves to the next slice.
 *
 * Each word becomes a Gumbel(0, 1) variate in double (cmf_gumbel_f64: u strictly inside
 * (0, 1), two polynomial logs), through a small stream buffer that the kernels read in
 * order: blocks of words (calls through the function pointer), then one loop over the
 * block that the compiler vectorises, whatever the slices' length (short rows share a
 * block).  The buffer never draws more words than the call needs, so the generator ends
 * exactly where the draws end.
 */

#define CMF_RNG_BLOCK 256

typedef struct {
    const cmf_rng *rng;
    ptrdiff_t left;                  /* words the call still has to draw */
    ptrdiff_t pos, len;              /* g[pos..len) not yet taken */
    uint64_t bits[CMF_RNG_BLOCK];
    double g[CMF_RNG_BLOCK];
} S(gstream);

static void S(gs_init)(S(gstream) *s, const cmf_rng *rng, ptrdiff_t total)
{
    s->rng = rng;
    s->left = total;
    s->pos = s->len = 0;
}

/* the next *got (1 <= *got <= want) Gumbel(0, 1) variates of the stream, want >= 1 */
static const double *S(gs_take)(S(gstream) *s, ptrdiff_t want, ptrdiff_t *got)
{
    if (s->pos == s->len) {
        const ptrdiff_t nb = s->left < CMF_RNG_BLOCK ? s->left : CMF_RNG_BLOCK;
        uint64_t *CMF_RESTRICT bits = s->bits;
        double *CMF_RESTRICT g = s->g;
        for (ptrdiff_t j = 0; j < nb; j++) bits[j] = s->rng->next_uint64(s->rng->state);
        for (ptrdiff_t j = 0; j < nb; j++) g[j] = cmf_gumbel_f64(bits[j]);
        s->left -= nb;
        s->pos = 0;
        s->len = nb;
    }
    const ptrdiff_t avail = s->len - s->pos;
    *got = want < avail ? want : avail;
    const double *p = s->g + s->pos;
    s->pos += *got;
    return p;
}

/* noise = g (when noise.p) and y = x + g (when y.p; computed in T, so that it is exactly
 * what x + noise gives), with g rounded to T.  y may be x itself (same strides). */
cmf_status FN(gumbel_noise)(const cmf_geom *g, const cmf_rng *rng, cmf_arr x, cmf_arr noise, cmf_arr y)
{
    ptrdiff_t n = g->n, NO = g->n_outer, NI = g->n_inner;
    if (n < 0 || NO < 0 || NI < 0 || !rng || (y.p && !x.p)) return CMF_EINVAL;
    /* slices back to back in memory (C-contiguous rows along the last axis): one long
     * slice, drawn in the same order, without per-row overhead */
    if (NI == 1 && (!x.p || (x.sa == 1 && x.so == n)) && (!noise.p || (noise.sa == 1 && noise.so == n))
        && (!y.p || (y.sa == 1 && y.so == n))) {
        n *= NO;
        NO = 1;
    }
    S(gstream) gs;
    S(gs_init)(&gs, rng, NO * NI * n);
    for (ptrdiff_t o = 0; o < NO; o++)
        for (ptrdiff_t i = 0; i < NI; i++) {
            const T *xs = x.p ? (const T *)x.p + o * x.so + i * x.si : NULL;
            T *ns = noise.p ? (T *)noise.p + o * noise.so + i * noise.si : NULL;
            T *ys = y.p ? (T *)y.p + o * y.so + i * y.si : NULL;
            for (ptrdiff_t k0 = 0, nb; k0 < n; k0 += nb) {
                const double *CMF_RESTRICT gd = S(gs_take)(&gs, n - k0, &nb);
                if (ns) {
                    T *d = ns + k0 * noise.sa;
                    if (noise.sa == 1)
                        for (ptrdiff_t j = 0; j < nb; j++) d[j] = (T)gd[j];
                    else
                        for (ptrdiff_t j = 0; j < nb; j++) d[j * noise.sa] = (T)gd[j];
                }
                if (ys) {
                    const T *s = xs + k0 * x.sa;
                    T *d = ys + k0 * y.sa;
                    if (x.sa == 1 && y.sa == 1)
                        for (ptrdiff_t j = 0; j < nb; j++) d[j] = s[j] + (T)gd[j];
                    else
                        for (ptrdiff_t j = 0; j < nb; j++) d[j * y.sa] = s[j * x.sa] + (T)gd[j];
                }
            }
        }
    return CMF_OK;
}

/* Gumbel-max: idx = argmax_k over unmasked k of (x_k - m) / t + g_k, m the slice's max
 * (so nothing overflows, whatever t), in double; n_samples samples per slice, written
 * idx.sa apart.  +inf entries: the argmax of g among them (uniform over the +inf
 * classes); -inf and masked entries are never chosen.  First, before any draw, every
 * slice is checked: a NaN among its unmasked entries, or no unmasked entry above -inf
 * (n == 0 included), returns CMF_EDOMAIN with nothing drawn or written; n_samples == 0
 * only checks. */
cmf_status FN(sample_categorical)(const cmf_geom *g, const cmf_rng *rng, cmf_arr x, cmf_arr t,
                                  cmf_arr mask, ptrdiff_t n_samples, cmf_arr idx)
{
    const ptrdiff_t n = g->n, NO = g->n_outer, NI = g->n_inner;
    if (n < 0 || NO < 0 || NI < 0 || n_samples < 0 || !rng) return CMF_EINVAL;
    if (NO == 0 || NI == 0) return CMF_OK;
    const ptrdiff_t sa = x.sa, sm = mask.sa;
    T *mx = (T *)malloc((size_t)(NO * NI) * sizeof(T));   /* every slice's max */
    if (!mx) return CMF_ENOMEM;
    int bad = 0;
    for (ptrdiff_t o = 0, q = 0; o < NO; o++)
        for (ptrdiff_t i = 0; i < NI; i++, q++) {
            const T *xs = (const T *)x.p + o * x.so + i * x.si;
            const uint8_t *ms = mask.p ? (const uint8_t *)mask.p + o * mask.so + i * mask.si : NULL;
            T m = (T)-INFINITY;
            int nan = 0;
            for (ptrdiff_t k = 0; k < n; k++) {
                const int on = !ms || ms[k * sm];
                const T v = xs[k * sa];
                nan |= on && v != v;
                const T u = on ? v : (T)-INFINITY;
                m = u > m ? u : m;
            }
            bad |= nan || m == (T)-INFINITY;
            mx[q] = m;
        }
    if (bad) {
        free(mx);
        return CMF_EDOMAIN;
    }
    S(gstream) gs;
    const ptrdiff_t words = NO * NI * n;           /* per sample; the total saturates */
    S(gs_init)(&gs, rng, n_samples && words > PTRDIFF_MAX / n_samples ? PTRDIFF_MAX : words * n_samples);
    for (ptrdiff_t o = 0, q = 0; o < NO && n_samples; o++)
        for (ptrdiff_t i = 0; i < NI; i++, q++) {
            const T *xs = (const T *)x.p + o * x.so + i * x.si;
            const uint8_t *ms = mask.p ? (const uint8_t *)mask.p + o * mask.so + i * mask.si : NULL;
            int64_t *dst = (int64_t *)idx.p + o * idx.so + i * idx.si;
            double it = 1.0 / (t.p ? ((const double *)t.p)[o * t.so + i * t.si] : 1.0);
            it = it < DBL_MAX ? it : DBL_MAX;            /* (x - m) * it: 0 stays 0 */
            const int pinf = mx[q] == (T)INFINITY;
            const double md = (double)mx[q];
            for (ptrdiff_t s = 0; s < n_samples; s++) {
                double best = -INFINITY;
                ptrdiff_t bi = -1;
                for (ptrdiff_t k0 = 0, nb; k0 < n; k0 += nb) {
                    const double *gd = S(gs_take)(&gs, n - k0, &nb);
                    for (ptrdiff_t j = 0; j < nb; j++) {
                        const ptrdiff_t k = k0 + j;
                        const double v = (double)xs[k * sa];
                        const double z = pinf ? (v == INFINITY ? 0.0 : -INFINITY) : (v - md) * it;
                        const double key = (!ms || ms[k * sm]) ? z + gd[j] : -INFINITY;
                        if (key > best) { best = key; bi = k; }
                    }
                }
                dst[s * idx.sa] = (int64_t)bi;
            }
        }
    free(mx);
    return CMF_OK;
}
