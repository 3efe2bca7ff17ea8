/* drive.tmpl.c: the generic slice driver.
 *
 * A row kernel sees one slice at a time, contiguous, through a S(row) record.  The
 * driver walks every slice of the (n_outer, n, n_inner) geometry.  Slice arrays whose
 * axis stride is 1 are passed in place; any other layout (axis stride != 1: a non-last
 * axis, negative or non-unit strides) is staged: CMF_COLS slices at a time are gathered
 * into a small contiguous tile, computed there, and scattered back.  Memory per call is
 * O(CMF_COLS * n) per staged array, never the size of the input.
 */

typedef struct {
    ptrdiff_t n;             /* slice length */
    const T *in[3];          /* contiguous slice inputs (NULL if absent) */
    T *out[1];               /* contiguous slice output */
    const uint8_t *mask;     /* contiguous mask or NULL */
    T *scratch;              /* c->scratch * n elements of scratch (when requested) */
    T it;                    /* 1 / temperature, clamped to T_MAX */
    double t;                /* temperature */
    double sin[4];           /* per-slice scalar inputs */
    double sout[2];          /* per-slice scalar outputs */
} S(row);

typedef void (*S(rowfn))(S(row) *r);

/* Describes one call of the driver. */
typedef struct {
    int nin;                 /* number of slice inputs */
    cmf_arr in[3];
    int nout;                /* 0 or 1 slice output */
    cmf_arr out;
    cmf_arr mask;            /* p == NULL: no mask */
    cmf_arr t;               /* per-slice temperature (float64) */
    int nsin, nsout;
    cmf_arr sin[4], sout[2]; /* per-slice scalars (float64) */
    int scratch;             /* the row kernel wants r->scratch: this many n-element rows */
} S(call);

static T S(inv_temperature)(double t)
{
    double it = 1.0 / t;
    return it > (double)T_MAX ? T_MAX : (T)it;
}

#ifdef CMF_VEC
/* lanes j..j+VN of p, or its first r < VN lanes (the others `fill`) */
static CMF_INLINE V S(vldn)(const T *p, ptrdiff_t r, V fill) { return r >= VN ? VLD(p) : VLDT(p, r, fill); }
static CMF_INLINE void S(vstn)(T *p, ptrdiff_t r, V v)
{
    if (r >= VN) VST(p, v);
    else VSTT(p, r, v);
}

/* tile[k * ld + j] = row j [k] (j < B, k < n; contiguous rows: rows[j], or base + j * sj
 * when rows is NULL) by VN x VN blocks transposed in registers.  The tile must have
 * ld >= B rounded up to VN lanes and n rounded up to CMF_LANES rows: whole blocks are
 * written (lanes >= B, rows >= n: junk). */
static void S(vtile_in)(ptrdiff_t n, ptrdiff_t B, const T *const *rows, const T *base, ptrdiff_t sj,
                        T *tile, ptrdiff_t ld)
{
    const V zero = VSET1(0);
    V r[VN];
    for (ptrdiff_t j0 = 0; j0 < B; j0 += VN) {
        const ptrdiff_t nj = B - j0;
        const T *rj[VN];
        for (int jj = 0; jj < VN; jj++)
            rj[jj] = jj >= nj ? NULL : rows ? rows[j0 + jj] : base + (j0 + jj) * sj;
        for (ptrdiff_t k0 = 0; k0 < n; k0 += VN) {
            const ptrdiff_t nk = n - k0;
            if (nj >= VN && nk >= VN)
                for (int jj = 0; jj < VN; jj++) r[jj] = VLD(rj[jj] + k0);
            else if (nj >= VN)
                for (int jj = 0; jj < VN; jj++) r[jj] = VLDT(rj[jj] + k0, nk, zero);
            else
                for (int jj = 0; jj < VN; jj++) r[jj] = jj < nj ? S(vldn)(rj[jj] + k0, nk, zero) : zero;
            VTR(r);
            for (int kk = 0; kk < VN; kk++) VST(tile + (k0 + kk) * ld + j0, r[kk]);
        }
    }
}

/* row j [k] = tile[k * ld + j] (j < B, k < n; rows as for S(vtile_in), the tile padded
 * likewise) */
static void S(vtile_out)(ptrdiff_t n, ptrdiff_t B, T *const *rows, T *base, ptrdiff_t sj,
                         const T *tile, ptrdiff_t ld)
{
    V r[VN];
    for (ptrdiff_t j0 = 0; j0 < B; j0 += VN) {
        const ptrdiff_t nj = B - j0;
        T *rj[VN];
        for (int jj = 0; jj < VN; jj++)
            rj[jj] = jj >= nj ? NULL : rows ? rows[j0 + jj] : base + (j0 + jj) * sj;
        for (ptrdiff_t k0 = 0; k0 < n; k0 += VN) {
            const ptrdiff_t nk = n - k0;
            for (int kk = 0; kk < VN; kk++) r[kk] = VLD(tile + (k0 + kk) * ld + j0);
            VTR(r);
            if (nj >= VN && nk >= VN)
                for (int jj = 0; jj < VN; jj++) VST(rj[jj] + k0, r[jj]);
            else if (nj >= VN)
                for (int jj = 0; jj < VN; jj++) VSTT(rj[jj] + k0, nk, r[jj]);
            else
                for (int jj = 0; jj < VN; jj++)
                    if (jj < nj) S(vstn)(rj[jj] + k0, nk, r[jj]);
        }
    }
}
#endif

static void S(gather)(ptrdiff_t n, ptrdiff_t ld, ptrdiff_t nb, const T *const *base, ptrdiff_t sa, T *tile)
{
    for (ptrdiff_t j = 0; j < nb; j++) {
        const T *src = base[j];
        T *dst = tile + j * ld;
        for (ptrdiff_t k = 0; k < n; k++) dst[k] = src[k * sa];
    }
}

static void S(scatter)(ptrdiff_t n, ptrdiff_t ld, ptrdiff_t nb, T *const *base, ptrdiff_t sa, const T *tile)
{
    for (ptrdiff_t j = 0; j < nb; j++) {
        T *dst = base[j];
        const T *src = tile + j * ld;
        for (ptrdiff_t k = 0; k < n; k++) dst[k * sa] = src[k];
    }
}

static void S(gather_mask)(ptrdiff_t n, ptrdiff_t nb, const uint8_t *const *base, ptrdiff_t sa,
                           uint8_t *tile)
{
    for (ptrdiff_t j = 0; j < nb; j++) {
        const uint8_t *src = base[j];
        uint8_t *dst = tile + j * n;
        for (ptrdiff_t k = 0; k < n; k++) dst[k] = src[k * sa];
    }
}

/* slice (o, i) of a call, its slice pointers set in r: its temperature (when set_t: per
 * slice, or the first slice), its per-slice inputs, the row kernel, its per-slice results */
static CMF_INLINE void S(drive_slice)(const S(call) *c, S(rowfn) fn, S(row) *r, ptrdiff_t o, ptrdiff_t i,
                                      int set_t)
{
    if (set_t) {
        r->t = c->t.p ? ((const double *)c->t.p)[o * c->t.so + i * c->t.si] : 1.0;
        r->it = S(inv_temperature)(r->t);
    }
    for (int a = 0; a < c->nsin; a++)
        r->sin[a] = c->sin[a].p ? ((const double *)c->sin[a].p)[o * c->sin[a].so + i * c->sin[a].si] : 1.0;
    fn(r);
    for (int a = 0; a < c->nsout; a++)
        if (c->sout[a].p) ((double *)c->sout[a].p)[o * c->sout[a].so + i * c->sout[a].si] = r->sout[a];
}

static cmf_status S(drive)(const cmf_geom *g, const S(call) *c, S(rowfn) fn)
{
    const ptrdiff_t n = g->n, nslices = g->n_outer * g->n_inner;
    if (n < 0 || g->n_outer < 0 || g->n_inner < 0) return CMF_EINVAL;
    if (nslices == 0) return CMF_OK;

    int stage_in[3] = {0, 0, 0}, stage_out = 0, stage_mask = 0, any = 0;
    for (int a = 0; a < c->nin; a++) any |= stage_in[a] = (c->in[a].p && c->in[a].sa != 1 && n > 1);
    if (c->nout) any |= stage_out = (c->out.sa != 1 && n > 1);
    if (c->mask.p) any |= stage_mask = (c->mask.sa != 1 && n > 1);
    const ptrdiff_t B = any ? CMF_COLS : 1;
    /* tile rows padded so that rows a power of two long do not all fall in one cache set */
    const ptrdiff_t ld = n + 16;

    /* one allocation for every tile and the scratch row */
    size_t nt = (size_t)(stage_in[0] + stage_in[1] + stage_in[2] + stage_out);
    size_t bytes = nt * (size_t)(B * ld) * sizeof(T) + (size_t)c->scratch * (size_t)n * sizeof(T)
                   + (stage_mask ? (size_t)(B * n) : 0) + 1;
    char *buf = bytes > 1 ? (char *)malloc(bytes) : NULL;    /* (none needed: no allocation) */
    if (bytes > 1 && !buf) return CMF_ENOMEM;
    T *tile_in[3] = {NULL, NULL, NULL}, *tile_out = NULL, *scratch = NULL;
    uint8_t *tile_mask = NULL;
    {
        T *q = (T *)buf;
        for (int a = 0; a < c->nin; a++)
            if (stage_in[a]) { tile_in[a] = q; q += B * ld; }
        if (stage_out) { tile_out = q; q += B * ld; }
        if (c->scratch) { scratch = q; q += c->scratch * n; }
        tile_mask = (uint8_t *)q;
    }

    const T *in_base[3][CMF_COLS];
    T *out_base[CMF_COLS];
    const uint8_t *mask_base[CMF_COLS];
    ptrdiff_t oo[CMF_COLS], ii[CMF_COLS];
    S(row) r;
    memset(&r, 0, sizeof r);
    r.n = n;
    r.scratch = scratch;
    const int t_scalar = !c->t.p || (c->t.so == 0 && c->t.si == 0);

    if (!any) {
        /* every slice in place: one slice after the other, pointers advanced by strides */
        for (ptrdiff_t o = 0; o < g->n_outer; o++)
            for (ptrdiff_t i = 0; i < g->n_inner; i++) {
                for (int a = 0; a < 3; a++)
                    r.in[a] = a < c->nin && c->in[a].p ? (const T *)c->in[a].p + o * c->in[a].so + i * c->in[a].si
                                                       : NULL;
                if (c->nout) r.out[0] = (T *)c->out.p + o * c->out.so + i * c->out.si;
                r.mask = c->mask.p ? (const uint8_t *)c->mask.p + o * c->mask.so + i * c->mask.si : NULL;
                S(drive_slice)(c, fn, &r, o, i, !t_scalar || (o == 0 && i == 0));
            }
        free(buf);
        return CMF_OK;
    }
    for (ptrdiff_t q0 = 0; q0 < nslices; q0 += B) {
        ptrdiff_t nb = nslices - q0 < B ? nslices - q0 : B;
        for (ptrdiff_t j = 0; j < nb; j++) {
            const ptrdiff_t q = q0 + j;
            /* (rows: no division per slice) */
            const ptrdiff_t o = g->n_inner == 1 ? q : q / g->n_inner, i = g->n_inner == 1 ? 0 : q % g->n_inner;
            oo[j] = o; ii[j] = i;
            for (int a = 0; a < c->nin; a++)
                in_base[a][j] = c->in[a].p ? (const T *)c->in[a].p + o * c->in[a].so + i * c->in[a].si
                                           : NULL;
            if (c->nout) out_base[j] = (T *)c->out.p + o * c->out.so + i * c->out.si;
            if (c->mask.p)
                mask_base[j] = (const uint8_t *)c->mask.p + o * c->mask.so + i * c->mask.si;
        }
        /* a tile's slices equally spaced (one outer index, or n_inner == 1): walk memory
         * along the slices for each element (contiguous reads when the inner stride is 1) */
        const int run = oo[0] == oo[nb - 1] || g->n_inner == 1;
        const int run_o = oo[0] == oo[nb - 1];
        for (int a = 0; a < c->nin; a++) {
            if (!stage_in[a]) continue;
            if (run) {
                const ptrdiff_t sj = run_o ? c->in[a].si : c->in[a].so;
                const T *src = in_base[a][0];
                T *dst = tile_in[a];
                for (ptrdiff_t k = 0; k < n; k++) {
                    const T *sk = src + k * c->in[a].sa;
                    for (ptrdiff_t j = 0; j < nb; j++) dst[j * ld + k] = sk[j * sj];
                }
            } else {
                S(gather)(n, ld, nb, in_base[a], c->in[a].sa, tile_in[a]);
            }
        }
        if (stage_mask) S(gather_mask)(n, nb, mask_base, c->mask.sa, tile_mask);

        for (ptrdiff_t j = 0; j < nb; j++) {
            ptrdiff_t o = oo[j], i = ii[j];
            for (int a = 0; a < 3; a++)
                r.in[a] = a < c->nin ? (stage_in[a] ? tile_in[a] + j * ld : in_base[a][j]) : NULL;
            if (c->nout) r.out[0] = stage_out ? tile_out + j * ld : out_base[j];
            r.mask = c->mask.p ? (stage_mask ? tile_mask + j * n : mask_base[j]) : NULL;
            S(drive_slice)(c, fn, &r, o, i, !t_scalar || q0 + j == 0);
        }
        if (stage_out && run) {
            const ptrdiff_t sj = run_o ? c->out.si : c->out.so;
            T *dst = out_base[0];
            for (ptrdiff_t k = 0; k < n; k++) {
                T *dk = dst + k * c->out.sa;
                for (ptrdiff_t j = 0; j < nb; j++) dk[j * sj] = tile_out[j * ld + k];
            }
        } else if (stage_out) {
            S(scatter)(n, ld, nb, out_base, c->out.sa, tile_out);
        }
    }
    free(buf);
    return CMF_OK;
}

/* ---------- the column driver: lanes are slices ----------
 * A column kernel computes B <= CMF_COLS slices at once; element k of lane j of array a
 * is in[a][k * ldi[a] + j].  Used directly (no copy) when the slices are side by side in
 * memory (a non-last axis of a C-ordered array: inner stride 1), and through gathered
 * tiles for short or strided slices, so that one vector loop covers many slices. */
typedef struct {
    ptrdiff_t n, B;
    const T *in[3];
    ptrdiff_t ldi[3];
    T *out;
    ptrdiff_t ldo;
    const uint8_t *mask;     /* NULL: no mask */
    ptrdiff_t ldm;
    const T *it;             /* B lanes: 1 / temperature */
    const double *t;         /* B lanes: temperature */
    const double *sin[4];    /* B lanes of per-slice inputs (the call's nsin of them) */
    double *sout[2];         /* B lanes of per-slice results */
    double *ws;              /* CMF_WS_PER_LANE * B doubles of lane workspace */
} S(cols);

typedef void (*S(colfn))(const S(cols) *k);

static cmf_status S(drive_cols)(const cmf_geom *g, const S(call) *c, S(colfn) fn)
{
    const ptrdiff_t n = g->n, NO = g->n_outer, NI = g->n_inner, ns = NO * NI;
    int direct = NI > 1 && (!c->nout || c->out.si == 1) && (!c->mask.p || c->mask.si == 1);
    for (int a = 0; a < c->nin; a++) direct &= !c->in[a].p || c->in[a].si == 1;
    const ptrdiff_t W = direct ? (NI < CMF_COLS_MAX ? NI : CMF_COLS_MAX) : CMF_COLS;
    /* lane arrays: it (T), t, two per-slice results, the per-slice inputs, and the
     * kernel's workspace */
    char *lanes = (char *)malloc((size_t)W * (sizeof(T) + (3 + 4 + CMF_WS_PER_LANE) * sizeof(double)));
    if (!lanes) return CMF_ENOMEM;
    double *tt = (double *)lanes, *r0 = tt + W, *r1 = r0 + W, *si = r1 + W, *ws = si + 4 * W;
    T *it = (T *)(ws + CMF_WS_PER_LANE * W);
    S(cols) k;
    memset(&k, 0, sizeof k);
    k.n = n;
    k.it = it;
    k.t = tt;
    k.sout[0] = r0;
    k.sout[1] = r1;
    for (int a = 0; a < 4; a++) k.sin[a] = si + a * W;
    k.ws = ws;
    const double *tp = (const double *)c->t.p;
    /* one temperature for every slice (the usual case): one division per call */
    const int t_scalar = !tp || (c->t.so == 0 && c->t.si == 0);
    const double t0 = tp ? tp[0] : 1.0;
    const T it0 = S(inv_temperature)(t0);

    if (direct) {
        for (ptrdiff_t o = 0; o < NO; o++)
            for (ptrdiff_t i0 = 0; i0 < NI; i0 += W) {
                const ptrdiff_t B = NI - i0 < W ? NI - i0 : W;
                k.B = B;
                for (int a = 0; a < c->nin; a++) {
                    k.in[a] = c->in[a].p ? (const T *)c->in[a].p + o * c->in[a].so + i0 : NULL;
                    k.ldi[a] = c->in[a].sa;
                }
                if (c->nout) { k.out = (T *)c->out.p + o * c->out.so + i0; k.ldo = c->out.sa; }
                k.mask = c->mask.p ? (const uint8_t *)c->mask.p + o * c->mask.so + i0 : NULL;
                k.ldm = c->mask.sa;
                for (ptrdiff_t j = 0; j < B; j++) {
                    tt[j] = t_scalar ? t0 : tp[o * c->t.so + (i0 + j) * c->t.si];
                    it[j] = t_scalar ? it0 : S(inv_temperature)(tt[j]);
                }
                for (int a = 0; a < c->nsin; a++) {
                    const double *d = (const double *)c->sin[a].p;
                    for (ptrdiff_t j = 0; j < B; j++)
                        si[a * W + j] = d ? d[o * c->sin[a].so + (i0 + j) * c->sin[a].si] : 1.0;
                }
                fn(&k);
                for (int a = 0; a < c->nsout; a++) {
                    double *d = (double *)c->sout[a].p;
                    if (d)
                        for (ptrdiff_t j = 0; j < B; j++)
                            d[o * c->sout[a].so + (i0 + j) * c->sout[a].si] = k.sout[a][j];
                }
            }
        free(lanes);
        return CMF_OK;
    }

    /* rows rounded up to CMF_LANES: S(vtile_in) / S(vtile_out) move whole blocks */
    const ptrdiff_t tile = (n + CMF_LANES - 1) / CMF_LANES * CMF_LANES * CMF_COLS;
    const int ntiles = c->nin + c->nout;
    char *buf = (char *)malloc((size_t)(ntiles * tile) * sizeof(T) + (c->mask.p ? (size_t)tile : 0) + 1);
    if (!buf) { free(lanes); return CMF_ENOMEM; }
    T *tin[3] = {NULL, NULL, NULL}, *tout = NULL;
    {
        T *q = (T *)buf;
        for (int a = 0; a < c->nin; a++) { tin[a] = q; q += tile; }
        if (c->nout) { tout = q; q += tile; }
        k.mask = c->mask.p ? (const uint8_t *)q : NULL;
    }
    for (int a = 0; a < c->nin; a++) { k.in[a] = c->in[a].p ? tin[a] : NULL; k.ldi[a] = CMF_COLS; }
    k.out = tout;
    k.ldo = CMF_COLS;
    k.ldm = CMF_COLS;
    ptrdiff_t oq[CMF_COLS], iq[CMF_COLS];
    ptrdiff_t o = 0, i = 0;
    if (NI == 1) memset(iq, 0, sizeof iq);
    /* per-slice inputs that are one value for every slice (absent: 1): filled once */
    int sin_const[4] = {0, 0, 0, 0};
    for (int a = 0; a < c->nsin; a++) {
        const double *d = (const double *)c->sin[a].p;
        sin_const[a] = !d || (c->sin[a].so == 0 && c->sin[a].si == 0);
        if (sin_const[a])
            for (ptrdiff_t j = 0; j < CMF_COLS; j++) si[a * W + j] = d ? d[0] : 1.0;
    }
    if (t_scalar)                    /* the same temperature in every lane of every tile */
        for (ptrdiff_t j = 0; j < CMF_COLS; j++) { tt[j] = t0; it[j] = it0; }
    for (ptrdiff_t q0 = 0; q0 < ns; q0 += CMF_COLS) {
        const ptrdiff_t B = ns - q0 < CMF_COLS ? ns - q0 : CMF_COLS;
        k.B = B;
        if (NI == 1) {                /* (iq[] is all 0, set before the loop) */
            for (ptrdiff_t j = 0; j < B; j++) oq[j] = q0 + j;
        } else {
            for (ptrdiff_t j = 0; j < B; j++) {
                oq[j] = o; iq[j] = i;
                if (++i == NI) { i = 0; o++; }
            }
        }
        /* slices of this tile equally spaced in memory?  (A tile is a range of slice
         * numbers: one outer index means consecutive inner ones; a single inner index
         * means consecutive outer ones.) */
        const int run_o = oq[0] == oq[B - 1], run_i = NI == 1;
        for (int a = 0; a < c->nin; a++) {
            if (!c->in[a].p) continue;
            const cmf_arr *A = &c->in[a];
            T *dst = tin[a];
#ifdef CMF_VEC
            if (A->sa == 1) {           /* contiguous slices: transposed in registers */
                const T *first = (const T *)A->p + oq[0] * A->so + iq[0] * A->si;
                if (run_o || run_i) {
                    S(vtile_in)(n, B, NULL, first, run_o ? A->si : A->so, dst, CMF_COLS);
                } else {
                    const T *rows[CMF_COLS];
                    for (ptrdiff_t j = 0; j < B; j++) rows[j] = (const T *)A->p + oq[j] * A->so + iq[j] * A->si;
                    S(vtile_in)(n, B, rows, NULL, 0, dst, CMF_COLS);
                }
                continue;
            }
#endif
            if (run_o || run_i) {
                /* lane index innermost: vector loads along the slices' spacing, contiguous
                 * stores into the tile */
                const ptrdiff_t sj = run_o ? A->si : A->so;
                const T *src = (const T *)A->p + oq[0] * A->so + iq[0] * A->si;
                for (ptrdiff_t kk = 0; kk < n; kk++) {
                    const T *sk = src + kk * A->sa;
                    T *dk = dst + kk * CMF_COLS;
                    for (ptrdiff_t j = 0; j < B; j++) dk[j] = sk[j * sj];
                }
                continue;
            }
            for (ptrdiff_t j = 0; j < B; j++) {
                const T *src = (const T *)A->p + oq[j] * A->so + iq[j] * A->si;
                if (A->sa == 1)
                    for (ptrdiff_t kk = 0; kk < n; kk++) dst[kk * CMF_COLS + j] = src[kk];
                else
                    for (ptrdiff_t kk = 0; kk < n; kk++) dst[kk * CMF_COLS + j] = src[kk * A->sa];
            }
        }
        if (c->mask.p) {
            uint8_t *dst = (uint8_t *)k.mask;
            for (ptrdiff_t j = 0; j < B; j++) {
                const uint8_t *src = (const uint8_t *)c->mask.p + oq[j] * c->mask.so + iq[j] * c->mask.si;
                for (ptrdiff_t kk = 0; kk < n; kk++) dst[kk * CMF_COLS + j] = src[kk * c->mask.sa];
            }
        }
        if (!t_scalar)
            for (ptrdiff_t j = 0; j < B; j++) {
                tt[j] = tp[oq[j] * c->t.so + iq[j] * c->t.si];
                it[j] = S(inv_temperature)(tt[j]);
            }
        for (int a = 0; a < c->nsin; a++) {
            const double *d = (const double *)c->sin[a].p;
            if (sin_const[a]) continue;          /* filled once, before the loop */
            if (NI == 1) {                        /* slice q at d[q * so] */
                const ptrdiff_t so = c->sin[a].so;
                const double *dq = d + q0 * so;
                if (so == 1) memcpy(si + a * W, dq, (size_t)B * sizeof(double));
                else for (ptrdiff_t j = 0; j < B; j++) si[a * W + j] = dq[j * so];
            } else {
                for (ptrdiff_t j = 0; j < B; j++) si[a * W + j] = d[oq[j] * c->sin[a].so + iq[j] * c->sin[a].si];
            }
        }
        fn(&k);
#ifdef CMF_VEC
        if (c->nout && c->out.sa == 1) {
            const cmf_arr *A = &c->out;
            T *first = (T *)A->p + oq[0] * A->so + iq[0] * A->si;
            if (run_o || run_i) {
                S(vtile_out)(n, B, NULL, first, run_o ? A->si : A->so, tout, CMF_COLS);
            } else {
                T *rows[CMF_COLS];
                for (ptrdiff_t j = 0; j < B; j++) rows[j] = (T *)A->p + oq[j] * A->so + iq[j] * A->si;
                S(vtile_out)(n, B, rows, NULL, 0, tout, CMF_COLS);
            }
        } else
#endif
        if (c->nout && (run_o || run_i)) {
            const cmf_arr *A = &c->out;
            const ptrdiff_t sj = run_o ? A->si : A->so;
            T *dst = (T *)A->p + oq[0] * A->so + iq[0] * A->si;
            for (ptrdiff_t kk = 0; kk < n; kk++) {
                T *dk = dst + kk * A->sa;
                const T *sk = tout + kk * CMF_COLS;
                for (ptrdiff_t j = 0; j < B; j++) dk[j * sj] = sk[j];
            }
        } else if (c->nout) {
            const cmf_arr *A = &c->out;
            for (ptrdiff_t j = 0; j < B; j++) {
                T *dst = (T *)A->p + oq[j] * A->so + iq[j] * A->si;
                if (A->sa == 1)
                    for (ptrdiff_t kk = 0; kk < n; kk++) dst[kk] = tout[kk * CMF_COLS + j];
                else
                    for (ptrdiff_t kk = 0; kk < n; kk++) dst[kk * A->sa] = tout[kk * CMF_COLS + j];
            }
        }
        for (int a = 0; a < c->nsout; a++) {
            double *d = (double *)c->sout[a].p;
            if (!d) continue;
            if (NI == 1) {
                const ptrdiff_t so = c->sout[a].so;
                double *dq = d + q0 * so;
                if (so == 1) memcpy(dq, k.sout[a], (size_t)B * sizeof(double));
                else for (ptrdiff_t j = 0; j < B; j++) dq[j * so] = k.sout[a][j];
            } else {
                for (ptrdiff_t j = 0; j < B; j++) d[oq[j] * c->sout[a].so + iq[j] * c->sout[a].si] = k.sout[a][j];
            }
        }
    }
    free(buf);
    free(lanes);
    return CMF_OK;
}

/* Slices at least this long and contiguous run one at a time through the row kernel;
 * anything else goes through the column kernel (when the op has one). */
#define CMF_SHORT_SLICE 48

static cmf_status S(run)(const cmf_geom *g, const S(call) *c, S(rowfn) rowfn, S(colfn) colfn)
{
    if (g->n < 0 || g->n_outer < 0 || g->n_inner < 0) return CMF_EINVAL;
    if (g->n_outer == 0 || g->n_inner == 0) return CMF_OK;
    int contiguous = (!c->nout || c->out.sa == 1) && (!c->mask.p || c->mask.sa == 1);
    for (int a = 0; a < c->nin; a++) contiguous &= !c->in[a].p || c->in[a].sa == 1;
    if (colfn && g->n > 0 &&
        !(contiguous && (g->n >= CMF_SHORT_SLICE || g->n == 1)))
        return S(drive_cols)(g, c, colfn);
    return S(drive)(g, c, rowfn);
}
