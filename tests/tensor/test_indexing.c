/* Indexing: index_select, gather, scatter family, advanced indexing, index_put_, masked_select,
 * nonzero; each against naive index math on f64 values, over all layouts, several dtypes, 0-size,
 * negative indices, duplicates, placement rules and every error path. */
#include "../common/testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const ct_dtype data_dtypes[] = {CT_F32, CT_F64, CT_I64, CT_I32, CT_F16, CT_BF16, CT_U8, CT_BOOL};
#define NDT (sizeof data_dtypes / sizeof data_dtypes[0])

/* Row-major offset of coord in shape. */
static int64_t rm(const int64_t *shape, int nd, const int64_t *c) {
    int64_t off = 0;
    for (int d = 0; d < nd; d++) off = off * shape[d] + c[d];
    return off;
}

/* Advances c in row-major order; false after the last coordinate. */
static bool next_coord(int64_t *c, const int64_t *shape, int nd) {
    for (int d = nd - 1; d >= 0; d--) {
        if (++c[d] < shape[d]) return true;
        c[d] = 0;
    }
    return false;
}

/* A tensor of dtype holding vals (given as int64), laid out as layout: same logical values. */
static ct_tensor *index_tensor(const int64_t *vals, ct_shape shape, ct_dtype dtype, tu_layout layout) {
    ct_tensor *x = ct_from_data(vals, shape, CT_I64);
    ct_shape base = shape;
    int nd = shape.ndim;
    if (layout == TU_TRANSPOSED && nd >= 2) base.d[nd - 1] = shape.d[nd - 2], base.d[nd - 2] = shape.d[nd - 1];
    else if (layout == TU_STEPPED && nd >= 1) base.d[nd - 1] *= 2;
    else if (layout == TU_OFFSET && nd >= 1) base.d[0] += 1;
    ct_tensor *v = ct_full(base, 99, .dtype = dtype);
    if (layout == TU_TRANSPOSED && nd >= 2) v = ct_transpose(v, -1, -2);
    else if (layout == TU_STEPPED && nd >= 1) v = ct_slice(v, -1, 0, CT_END, 2);
    else if (layout == TU_OFFSET && nd >= 1) v = ct_narrow(v, 0, 1, shape.d[0]);
    assert_non_null(ct_copy_(v, x));
    return v;
}

static int64_t rand_int(uint64_t *rng, int64_t lo, int64_t hi) {
    return (int64_t)floor(tu_uniform(rng, (double)lo, (double)hi));
}

/* The reference's view of dtype arithmetic: values as stored, sums cast back. */
static double cast_like(double v, ct_dtype dt) { return dt == CT_BOOL ? v != 0 : v; }

/* Sums are rounded to the dtype in the op and not in the f64 reference. */
static double sum_rtol(ct_dtype dt) { return dt == CT_F16 || dt == CT_BF16 ? 1e-2 : dt == CT_F32 ? 1e-6 : 0; }

static void gather_matches_reference(void **state) {
    (void)state;
    uint64_t rng = 1;
    ct_shape ts = CT_SHAPE(3, 4, 5);
    for (size_t di = 0; di < NDT; di++)
        for (int layout = 0; layout < TU_NUM_LAYOUTS; layout++)
            for (int dim = -3; dim < 3; dim++) CT_SCOPE {
                    int wd = dim < 0 ? dim + 3 : dim;
                    ct_tensor *t = tu_random(&rng, ts, data_dtypes[di], (tu_layout)layout, -50, 50);
                    ct_shape is = ts;
                    for (int d = 0; d < 3; d++)
                        is.d[d] = d == wd ? rand_int(&rng, 1, 7) : rand_int(&rng, 1, ts.d[d] + 1);
                    int64_t vals[256], n = tu_numel(is);
                    for (int64_t i = 0; i < n; i++) vals[i] = rand_int(&rng, 0, ts.d[wd]);
                    ct_tensor *index = index_tensor(vals, is, CT_I64, (tu_layout)((layout + 1) % TU_NUM_LAYOUTS));
                    ct_tensor *out = ct_gather(t, dim, index);
                    assert_non_null(out);
                    assert_int_equal(ct_dtype_of(out), data_dtypes[di]);
                    double *tv = tu_values(t), want[256];
                    int64_t c[3] = {0}, i = 0;
                    do {
                        int64_t s[3] = {c[0], c[1], c[2]};
                        s[wd] = vals[i];
                        want[i++] = tv[rm(ts.d, 3, s)];
                    } while (next_coord(c, is.d, 3));
                    tu_assert_values(out, is, want, 0, 0);
                }
}

static void index_select_matches_reference(void **state) {
    (void)state;
    uint64_t rng = 2;
    ct_shape ts = CT_SHAPE(3, 4, 5);
    for (size_t di = 0; di < NDT; di++)
        for (int layout = 0; layout < TU_NUM_LAYOUTS; layout++)
            for (int dim = -1; dim < 3; dim++) CT_SCOPE {
                    int wd = dim < 0 ? dim + 3 : dim;
                    ct_tensor *t = tu_random(&rng, ts, data_dtypes[di], (tu_layout)layout, -50, 50);
                    int64_t m = rand_int(&rng, 0, 8), vals[8]; /* duplicates likely, m = 0 allowed */
                    for (int64_t i = 0; i < m; i++) vals[i] = rand_int(&rng, 0, ts.d[wd]);
                    ct_dtype idt = layout % 2 ? CT_I32 : CT_I64;
                    ct_tensor *index = index_tensor(vals, CT_SHAPE(m), idt, (tu_layout)((layout + 2) % TU_NUM_LAYOUTS));
                    ct_tensor *out = ct_index_select(t, dim, index);
                    ct_shape os = ts;
                    os.d[wd] = m;
                    double *tv = tu_values(t), want[512];
                    int64_t c[3] = {0}, i = 0;
                    if (m > 0) do {
                            int64_t s[3] = {c[0], c[1], c[2]};
                            s[wd] = vals[c[wd]];
                            want[i++] = tv[rm(ts.d, 3, s)];
                        } while (next_coord(c, os.d, 3));
                    tu_assert_values(out, os, want, 0, 0);
                }
    /* 0-d: a scalar with a one-element index stays 0-d. */
    ct_tensor *s = ct_scalar_tensor(3.5);
    tu_assert_values(ct_index_select(s, 0, ct_zeros(CT_SHAPE(1), .dtype = CT_I64)), CT_SHAPE(), (double[]){3.5}, 0, 0);
    tu_assert_values(ct_gather(s, 0, ct_zeros(CT_SHAPE(), .dtype = CT_I64)), CT_SHAPE(), (double[]){3.5}, 0, 0);
    tu_assert_values(ct_gather(s, -1, ct_zeros(CT_SHAPE(2), .dtype = CT_I64)), CT_SHAPE(2), (double[]){3.5, 3.5}, 0, 0);
}

/* Index of shape `is` along dim wd of ts; unique along dim within each fiber when `unique`. */
static void scatter_indices(uint64_t *rng, ct_shape ts, ct_shape is, int wd, bool unique, int64_t *vals) {
    int64_t c[3] = {0}, i = 0;
    do {
        if (c[wd] == 0 && unique) { /* a fresh partial permutation for this fiber */
            int64_t perm[16];
            for (int64_t k = 0; k < ts.d[wd]; k++) perm[k] = k;
            for (int64_t k = ts.d[wd] - 1; k > 0; k--) {
                int64_t r = rand_int(rng, 0, k + 1), tmp = perm[k];
                perm[k] = perm[r], perm[r] = tmp;
            }
            for (int64_t k = 0; k < is.d[wd]; k++) {
                int64_t cc[3] = {c[0], c[1], c[2]};
                cc[wd] = k;
                vals[rm(is.d, 3, cc)] = perm[k];
            }
        }
        if (!unique) vals[i] = rand_int(rng, 0, ts.d[wd]);
        i++;
    } while (next_coord(c, is.d, 3));
}

static void scatter_matches_reference(void **state) {
    (void)state;
    uint64_t rng = 3;
    ct_shape ts = CT_SHAPE(3, 4, 5);
    for (size_t di = 0; di < NDT; di++)
        for (int layout = 0; layout < TU_NUM_WRITABLE_LAYOUTS; layout++)
            for (int dim = -1; dim < 3; dim++)
                for (int mode = 0; mode < 3; mode++) CT_SCOPE { /* scatter, scatter_add, scatter value */
                        ct_dtype dt = data_dtypes[di];
                        int wd = dim < 0 ? dim + 3 : dim;
                        bool add = mode == 1;
                        ct_tensor *t = tu_random(&rng, ts, dt, (tu_layout)layout, 0, 5);
                        ct_shape is = ts, ss;
                        for (int d = 0; d < 3; d++)
                            is.d[d] = d == wd && add ? rand_int(&rng, 1, 9) : rand_int(&rng, 1, ts.d[d] + 1);
                        ss = is;
                        for (int d = 0; d < 3; d++) ss.d[d] += rand_int(&rng, 0, 2); /* src may be larger */
                        int64_t vals[512];
                        scatter_indices(&rng, ts, is, wd, !add, vals);
                        ct_tensor *index = index_tensor(vals, is, CT_I64, (tu_layout)((layout + 3) % TU_NUM_LAYOUTS));
                        ct_tensor *src = tu_random(&rng, ss, dt, (tu_layout)((layout + 1) % TU_NUM_LAYOUTS), 0, 5);
                        double *tv = tu_values(t), *sv = tu_values(src), want[64];
                        memcpy(want, tv, sizeof(double) * 60);
                        int64_t c[3] = {0}, i = 0;
                        do {
                            int64_t dst[3] = {c[0], c[1], c[2]};
                            dst[wd] = vals[i++];
                            double v = mode == 2 ? cast_like(7, dt) : sv[rm(ss.d, 3, c)];
                            double *w = &want[rm(ts.d, 3, dst)];
                            *w = cast_like(add ? *w + v : v, dt);
                        } while (next_coord(c, is.d, 3));
                        ct_tensor *out = mode == 0 ? ct_scatter(t, dim, index, src)
                                         : mode == 1 ? ct_scatter_add(t, dim, index, src)
                                                     : ct_scatter_value(t, dim, index, 7);
                        double rtol = add ? sum_rtol(dt) : 0;
                        tu_assert_values(out, ts, want, rtol, 0);
                        tu_assert_values(t, ts, tv, 0, 0); /* out of place leaves t alone */
                        if (mode == 2) continue;
                        ct_tensor *r = add ? ct_scatter_add_(t, dim, index, src) : ct_scatter_(t, dim, index, src);
                        assert_ptr_equal(r, t);
                        tu_assert_values(t, ts, want, rtol, 0);
                    }
}

static void scatter_add_duplicates_and_empty(void **state) {
    (void)state;
    ct_tensor *t = ct_zeros(CT_SHAPE(3), .dtype = CT_F64);
    ct_tensor *idx = ct_from_data((int64_t[]){0, 2, 0, 0, 2}, CT_SHAPE(5), CT_I64);
    ct_tensor *src = ct_from_data((double[]){1, 2, 3, 4, 5}, CT_SHAPE(5), CT_F64);
    tu_assert_values(ct_scatter_add_(t, 0, idx, src), CT_SHAPE(3), (double[]){8, 0, 7}, 0, 0);
    /* Empty index: nothing changes, and size checks are skipped as in PyTorch. */
    ct_tensor *e = ct_zeros(CT_SHAPE(0, 5), .dtype = CT_I64);
    ct_tensor *m = ct_ones(CT_SHAPE(2, 2));
    tu_assert_values(ct_gather(m, 0, e), CT_SHAPE(0, 5), NULL, 0, 0);
    tu_assert_values(ct_scatter(m, 0, e, ct_zeros(CT_SHAPE(0, 5))), CT_SHAPE(2, 2), (double[]){1, 1, 1, 1}, 0, 0);
    tu_assert_values(ct_index_select(m, 1, ct_zeros(CT_SHAPE(0), .dtype = CT_I64)), CT_SHAPE(2, 0), NULL, 0, 0);
    tu_assert_values(ct_index_select(ct_zeros(CT_SHAPE(0, 3)), 1, ct_zeros(CT_SHAPE(2), .dtype = CT_I32)),
                     CT_SHAPE(0, 2), NULL, 0, 0);
    /* Scattering from t into itself reads the old values. */
    ct_tensor *a = ct_from_data((float[]){1, 2, 3}, CT_SHAPE(3), CT_F32);
    ct_scatter_(a, 0, ct_from_data((int64_t[]){1, 2, 0}, CT_SHAPE(3), CT_I64), a);
    tu_assert_values(a, CT_SHAPE(3), (double[]){3, 1, 2}, 0, 0);
}

static int64_t wrap(int64_t v, int64_t n) { return v < 0 ? v + n : v; }

/* t[i] (negative indices), t[:, i, j] (adjacent: B in place), t[i, :, j] (separated: B first). */
static void index_placement_matches_reference(void **state) {
    (void)state;
    uint64_t rng = 4;
    const ct_dtype dts[] = {CT_F32, CT_I64, CT_F16, CT_BOOL};
    ct_shape ts = CT_SHAPE(3, 4, 5, 2);
    for (int di = 0; di < 4; di++)
        for (int layout = 0; layout < TU_NUM_LAYOUTS; layout++) CT_SCOPE {
                ct_tensor *t = tu_random(&rng, ts, dts[di], (tu_layout)layout, -9, 9);
                double *tv = tu_values(t), want[512];
                int64_t iv[6], jv[3];
                for (int k = 0; k < 6; k++) iv[k] = rand_int(&rng, -3, 3);
                for (int k = 0; k < 3; k++) jv[k] = rand_int(&rng, -4, 4);
                ct_dtype idt = layout % 2 ? CT_I32 : CT_I64;
                tu_layout il = (tu_layout)((layout + 1) % TU_NUM_LAYOUTS);
                /* t[i] with i of shape (2, 3): result (2, 3, 4, 5, 2). */
                ct_tensor *i23 = index_tensor(iv, CT_SHAPE(2, 3), idt, il);
                int64_t n = 0;
                for (int p = 0; p < 6; p++)
                    for (int r = 0; r < 40; r++) want[n++] = tv[wrap(iv[p], 3) * 40 + r];
                tu_assert_values(ct_index(t, CT_TENSORS(i23)), CT_SHAPE(2, 3, 4, 5, 2), want, 0, 0);
                /* t[:, i, j] with i (2, 1) on dim 1 and j (3,) on dim 2: result (3, 2, 3, 2). */
                ct_tensor *i21 = index_tensor(iv, CT_SHAPE(2, 1), idt, il);
                ct_tensor *j3 = index_tensor(jv, CT_SHAPE(3), CT_I64, il);
                n = 0;
                for (int a = 0; a < 3; a++)
                    for (int p = 0; p < 2; p++)
                        for (int q = 0; q < 3; q++)
                            for (int d = 0; d < 2; d++)
                                want[n++] = tv[rm(ts.d, 4, (int64_t[]){a, wrap(iv[p], 4), wrap(jv[q], 5), d})];
                tu_assert_values(ct_index(t, CT_TENSORS(NULL, i21, j3)), CT_SHAPE(3, 2, 3, 2), want, 0, 0);
                /* t[i, :, j] with i (2, 1) on dim 0, j (3,) on dim 2: separated, result (2, 3, 4, 2). */
                n = 0;
                for (int p = 0; p < 2; p++)
                    for (int q = 0; q < 3; q++)
                        for (int b = 0; b < 4; b++)
                            for (int d = 0; d < 2; d++)
                                want[n++] = tv[rm(ts.d, 4, (int64_t[]){wrap(iv[p], 3), b, wrap(jv[q], 5), d})];
                tu_assert_values(ct_index(t, CT_TENSORS(i21, NULL, j3)), CT_SHAPE(2, 3, 4, 2), want, 0, 0);
                /* All slices: a copy. */
                ct_tensor *copy = ct_index(t, CT_TENSORS(NULL, NULL));
                tu_assert_values(copy, ts, tv, 0, 0);
                assert_false(ct_shares_storage(copy, t));
            }
}

static void index_with_masks_matches_reference(void **state) {
    (void)state;
    uint64_t rng = 5;
    ct_shape ts = CT_SHAPE(3, 4, 5);
    for (int layout = 0; layout < TU_NUM_LAYOUTS; layout++) CT_SCOPE {
            ct_tensor *t = tu_random(&rng, ts, CT_F64, (tu_layout)layout, -1, 1);
            ct_tensor *m01 = tu_random(&rng, CT_SHAPE(3, 4), CT_BOOL, (tu_layout)((layout + 1) % 4), 0, 1);
            ct_tensor *m12 = tu_random(&rng, CT_SHAPE(4, 5), CT_BOOL, (tu_layout)((layout + 2) % 4), 0, 1);
            double *tv = tu_values(t), *a = tu_values(m01), *b = tu_values(m12), want[128];
            /* t[mask over dims 0, 1]: (n, 5) in row-major order of the mask. */
            int64_t n = 0, rows = 0;
            for (int r = 0; r < 12; r++)
                if (a[r] != 0)
                    for (int k = 0; k < 5; k++, rows += k == 5) want[n++] = tv[r * 5 + k];
            tu_assert_values(ct_index(t, CT_TENSORS(m01)), CT_SHAPE(rows, 5), want, 0, 0);
            /* t[:, mask over dims 1, 2]: (3, n). */
            int64_t cnt = 0;
            for (int r = 0; r < 20; r++) cnt += b[r] != 0;
            n = 0;
            for (int i = 0; i < 3; i++)
                for (int r = 0; r < 20; r++)
                    if (b[r] != 0) want[n++] = tv[i * 20 + r];
            tu_assert_values(ct_index(t, CT_TENSORS(NULL, m12)), CT_SHAPE(3, cnt), want, 0, 0);
            /* A mask and an integer index broadcast together: t[[0, 2], :, mask5] with 2 true entries. */
            ct_tensor *m5 = ct_from_data((bool[]){false, true, false, false, true}, CT_SHAPE(5), CT_BOOL);
            ct_tensor *i2 = ct_from_data((int64_t[]){0, -1}, CT_SHAPE(2), CT_I64);
            n = 0;
            for (int p = 0; p < 2; p++)
                for (int b1 = 0; b1 < 4; b1++) want[n++] = tv[(p ? 2 : 0) * 20 + b1 * 5 + (p ? 4 : 1)];
            tu_assert_values(ct_index(t, CT_TENSORS(i2, NULL, m5)), CT_SHAPE(2, 4), want, 0, 0);
        }
    /* 0-d bool entries add a dim of size 1 (true) or 0 (false). */
    ct_tensor *s = ct_scalar_tensor(2.5);
    tu_assert_values(ct_index(s, CT_TENSORS(ct_full(CT_SHAPE(), 1, .dtype = CT_BOOL))), CT_SHAPE(1), (double[]){2.5}, 0,
                     0);
    tu_assert_values(ct_index(s, CT_TENSORS(ct_zeros(CT_SHAPE(), .dtype = CT_BOOL))), CT_SHAPE(0), NULL, 0, 0);
    ct_tensor *m = ct_arange(0, 6, 1, .dtype = CT_F32);
    m = ct_view(m, CT_SHAPE(2, 3));
    tu_assert_values(ct_index(m, CT_TENSORS(NULL, ct_full(CT_SHAPE(), 1, .dtype = CT_BOOL))), CT_SHAPE(2, 1, 3),
                     (double[]){0, 1, 2, 3, 4, 5}, 0, 0);
    /* 0-size: empty index tensors and indexing a dim of size 0 with an empty index. */
    tu_assert_values(ct_index(m, CT_TENSORS(ct_zeros(CT_SHAPE(0), .dtype = CT_I64))), CT_SHAPE(0, 3), NULL, 0, 0);
    tu_assert_values(ct_index(ct_zeros(CT_SHAPE(2, 0)), CT_TENSORS(NULL, ct_zeros(CT_SHAPE(0), .dtype = CT_I64))),
                     CT_SHAPE(2, 0), NULL, 0, 0);
    tu_assert_values(ct_index(ct_zeros(CT_SHAPE(2, 0)), CT_TENSORS(ct_zeros(CT_SHAPE(2, 0), .dtype = CT_BOOL))),
                     CT_SHAPE(0), NULL, 0, 0);
    /* An int index on a 0-d int tensor removes the dim, like t[1]. */
    tu_assert_values(ct_index(m, CT_TENSORS(ct_scalar_tensor(1, .dtype = CT_I64))), CT_SHAPE(3), (double[]){3, 4, 5}, 0,
                     0);
}

static void index_put_matches_reference(void **state) {
    (void)state;
    uint64_t rng = 6;
    const ct_dtype dts[] = {CT_F32, CT_F64, CT_I64, CT_F16, CT_I32};
    for (int di = 0; di < 5; di++)
        for (int layout = 0; layout < TU_NUM_WRITABLE_LAYOUTS; layout++)
            for (int acc = 0; acc < 2; acc++) CT_SCOPE {
                    ct_dtype dt = dts[di];
                    ct_tensor *t = tu_random(&rng, CT_SHAPE(4, 5), dt, (tu_layout)layout, 0, 8);
                    double *tv = tu_values(t), want[20];
                    memcpy(want, tv, sizeof want);
                    /* t[i, j] (+)= v: duplicates when accumulating, distinct pairs otherwise. */
                    int64_t iv[6], jv[6];
                    for (int k = 0; k < 6; k++) {
                        iv[k] = acc ? rand_int(&rng, -4, 4) : (k % 4) - (k % 2 ? 4 : 0);
                        jv[k] = acc ? rand_int(&rng, 0, 2) : k % 5;
                    }
                    ct_tensor *v = tu_random(&rng, CT_SHAPE(6), dt, (tu_layout)((layout + 1) % 4), 0, 8);
                    double *vv = tu_values(v);
                    for (int k = 0; k < 6; k++) {
                        double *w = &want[wrap(iv[k], 4) * 5 + jv[k]];
                        *w = acc ? *w + vv[k] : vv[k];
                    }
                    ct_tensor *it = index_tensor(iv, CT_SHAPE(6), CT_I64, (tu_layout)((layout + 2) % 4));
                    ct_tensor *jt = index_tensor(jv, CT_SHAPE(6), CT_I32, (tu_layout)((layout + 3) % 4));
                    assert_ptr_equal(ct_index_put_(t, CT_TENSORS(it, jt), v, acc), t);
                    tu_assert_values(t, CT_SHAPE(4, 5), want, acc ? sum_rtol(dt) : 0, 0);
                    /* t[:, [1, 3, 1]] (+)= row of values broadcast over dim 0. */
                    ct_tensor *cols = ct_from_data((int64_t[]){1, 3, acc ? 1 : -1}, CT_SHAPE(3), CT_I64);
                    ct_tensor *row = ct_from_data((double[]){1, 2, 3}, CT_SHAPE(1, 3), CT_F64);
                    row = ct_to_dtype(row, dt);
                    for (int r = 0; r < 4; r++) {
                        int64_t cs[3] = {1, 3, acc ? 1 : 4};
                        for (int k = 0; k < 3; k++) want[r * 5 + cs[k]] = (acc ? want[r * 5 + cs[k]] : 0) + k + 1;
                    }
                    ct_index_put_(t, CT_TENSORS(NULL, cols), row, acc);
                    tu_assert_values(t, CT_SHAPE(4, 5), want, acc ? sum_rtol(dt) : 0, 0);
                }
    /* t[mask] = Python number (converted), and values read from t itself see the old values. */
    ct_tensor *t = ct_from_data((float[]){1, -2, 3, -4}, CT_SHAPE(4), CT_F32);
    ct_tensor *mask = ct_from_data((bool[]){false, true, false, true}, CT_SHAPE(4), CT_BOOL);
    tu_assert_values(ct_index_put_(t, CT_TENSORS(mask), ct_scalar(0.5), false), CT_SHAPE(4), (double[]){1, 0.5, 3, 0.5},
                     0, 0);
    ct_tensor *rev = ct_from_data((int64_t[]){3, 2, 1, 0}, CT_SHAPE(4), CT_I64);
    tu_assert_values(ct_index_put_(t, CT_TENSORS(rev), t, false), CT_SHAPE(4), (double[]){0.5, 3, 0.5, 1}, 0, 0);
    /* Empty indices write nothing. */
    tu_assert_values(ct_index_put_(t, CT_TENSORS(ct_zeros(CT_SHAPE(0), .dtype = CT_I64)), ct_scalar(9), true),
                     CT_SHAPE(4), (double[]){0.5, 3, 0.5, 1}, 0, 0);
}

static void masked_select_and_nonzero_match_reference(void **state) {
    (void)state;
    uint64_t rng = 7;
    for (size_t di = 0; di < NDT; di++)
        for (int layout = 0; layout < TU_NUM_LAYOUTS; layout++) CT_SCOPE {
                ct_tensor *t = tu_random(&rng, CT_SHAPE(3, 4), data_dtypes[di], (tu_layout)layout, -1, 2);
                ct_tensor *m = tu_random(&rng, CT_SHAPE(4), CT_BOOL, (tu_layout)((layout + 1) % 4), 0, 1);
                ct_tensor *m2 = tu_random(&rng, CT_SHAPE(3, 4), CT_BOOL, (tu_layout)((layout + 2) % 4), 0, 1);
                double *tv = tu_values(t), *mv = tu_values(m), *m2v = tu_values(m2), want[64];
                int64_t n = 0;
                for (int r = 0; r < 12; r++)
                    if (mv[r % 4] != 0) want[n++] = tv[r];
                tu_assert_values(ct_masked_select(t, m), CT_SHAPE(n), want, 0, 0);
                n = 0;
                for (int r = 0; r < 12; r++)
                    if (m2v[r] != 0) want[n++] = tv[r];
                tu_assert_values(ct_masked_select(t, m2), CT_SHAPE(n), want, 0, 0);
                /* nonzero: (n, 2) row-major coordinates. */
                n = 0;
                for (int r = 0; r < 12; r++)
                    if (tv[r] != 0) want[n++] = r / 4, want[n++] = r % 4;
                ct_tensor *nz = ct_nonzero(t);
                assert_int_equal(ct_dtype_of(nz), CT_I64);
                tu_assert_values(nz, CT_SHAPE(n / 2, 2), want, 0, 0);
            }
    /* The mask broadcasts t too, and a 0-d pair gives 1 or 0 elements. */
    ct_tensor *col = ct_from_data((int32_t[]){5, 6}, CT_SHAPE(2, 1), CT_I32);
    ct_tensor *m = ct_from_data((bool[]){true, false, true}, CT_SHAPE(3), CT_BOOL);
    tu_assert_values(ct_masked_select(col, m), CT_SHAPE(4), (double[]){5, 5, 6, 6}, 0, 0);
    tu_assert_values(ct_masked_select(ct_scalar_tensor(4), ct_full(CT_SHAPE(), 1, .dtype = CT_BOOL)), CT_SHAPE(1),
                     (double[]){4}, 0, 0);
    tu_assert_values(ct_masked_select(ct_zeros(CT_SHAPE(2, 0)), ct_ones(CT_SHAPE(0), .dtype = CT_BOOL)), CT_SHAPE(0),
                     NULL, 0, 0);
    /* nonzero: NaN counts, -0.0 does not; 0-d and 0-size shapes. */
    ct_tensor *f = ct_from_data((float[]){0, NAN, -0.0f, 1}, CT_SHAPE(4), CT_F32);
    tu_assert_values(ct_nonzero(f), CT_SHAPE(2, 1), (double[]){1, 3}, 0, 0);
    tu_assert_values(ct_nonzero(ct_scalar_tensor(3)), CT_SHAPE(1, 0), NULL, 0, 0);
    tu_assert_values(ct_nonzero(ct_scalar_tensor(0)), CT_SHAPE(0, 0), NULL, 0, 0);
    tu_assert_values(ct_nonzero(ct_zeros(CT_SHAPE(2, 0))), CT_SHAPE(0, 2), NULL, 0, 0);
}

/* Large enough to run on several threads: results must be identical for 1 and 2 threads. */
static void results_do_not_depend_on_threads(void **state) {
    (void)state;
    uint64_t rng = 8;
    ct_tensor *t = tu_random(&rng, CT_SHAPE(256, 300), CT_F32, TU_TRANSPOSED, -1, 1);
    ct_tensor *idx = tu_random(&rng, CT_SHAPE(256, 300), CT_I64, TU_STEPPED, 0, 256);
    ct_tensor *rows = tu_random(&rng, CT_SHAPE(400), CT_I64, TU_CONTIGUOUS, -256, 256);
    ct_tensor *res[2][3];
    int saved = ct_get_num_threads();
    for (int k = 0; k < 2; k++) {
        ct_set_num_threads(k + 1);
        res[k][0] = ct_gather(t, 0, idx);
        res[k][1] = ct_index(t, CT_TENSORS(rows));
        res[k][2] = ct_scatter_add(ct_zeros(CT_SHAPE(256, 300)), 0, idx, t);
    }
    ct_set_num_threads(saved);
    for (int j = 0; j < 3; j++) {
        assert_non_null(res[0][j]);
        int64_t n = ct_numel(res[0][j]);
        assert_int_equal(n, ct_numel(res[1][j]));
        assert_memory_equal(ct_data_ptr(res[0][j]), ct_data_ptr(res[1][j]), (size_t)n * sizeof(float));
    }
}

static void errors_follow_pytorch(void **state) {
    (void)state;
    ct_tensor *t = ct_zeros(CT_SHAPE(2, 2));
    ct_tensor *i22 = ct_zeros(CT_SHAPE(2, 2), .dtype = CT_I64);
    ct_tensor *bad5 = ct_from_data((int64_t[]){5, 0}, CT_SHAPE(1, 2), CT_I64);
    ct_tensor *neg = ct_from_data((int64_t[]){-1, 0}, CT_SHAPE(1, 2), CT_I64);
    /* gather */
    assert_null(ct_gather(t, 0, ct_zeros(CT_SHAPE(2, 2), .dtype = CT_I32)));
    tu_assert_error(CT_ERR_DTYPE, "gather(): Expected dtype int64 for index");
    assert_null(ct_gather(t, 0, ct_zeros(CT_SHAPE(2), .dtype = CT_I64)));
    tu_assert_error(CT_ERR_SHAPE, "Index tensor must have the same number of dimensions as input tensor");
    assert_null(ct_gather(t, 0, ct_zeros(CT_SHAPE(2, 3), .dtype = CT_I64)));
    tu_assert_error(CT_ERR_SHAPE, "Size does not match at dimension 1 expected index [2, 3] to be smaller than self "
                                  "[2, 2] apart from dimension 0");
    assert_null(ct_gather(t, 0, bad5));
    tu_assert_error(CT_ERR_INDEX, "gather: index 5 is out of bounds for dimension 0 with size 2");
    assert_null(ct_gather(t, 1, neg));
    tu_assert_error(CT_ERR_INDEX, "gather: index -1 is out of bounds for dimension 1 with size 2");
    assert_null(ct_gather(t, -3, i22));
    tu_assert_error(CT_ERR_INDEX, "Dimension out of range (expected to be in range of [-2, 1], but got -3)");
    assert_null(ct_gather(NULL, 0, i22));
    tu_assert_error(CT_ERR_NULL, "gather");
    /* index_select */
    assert_null(ct_index_select(t, 0, ct_from_data((int64_t[]){5}, CT_SHAPE(1), CT_I64)));
    tu_assert_error(CT_ERR_INDEX, "index_select: index 5 is out of bounds for dimension 0 with size 2");
    assert_null(ct_index_select(t, 1, ct_from_data((int32_t[]){-1}, CT_SHAPE(1), CT_I32)));
    tu_assert_error(CT_ERR_INDEX, "index -1 is out of bounds for dimension 1 with size 2");
    assert_null(ct_index_select(t, 0, i22));
    tu_assert_error(CT_ERR_SHAPE, "index_select(): Index is supposed to be a vector");
    assert_null(ct_index_select(t, 0, ct_zeros(CT_SHAPE(1))));
    tu_assert_error(CT_ERR_DTYPE, "index_select(): Expected dtype int32 or int64 for index");
    assert_null(ct_index_select(ct_scalar_tensor(1), 0, ct_zeros(CT_SHAPE(2), .dtype = CT_I64)));
    tu_assert_error(CT_ERR_SHAPE, "Index to scalar can have only 1 value, got 2 value(s)");
    assert_null(ct_index_select(t, 2, ct_zeros(CT_SHAPE(1), .dtype = CT_I64)));
    tu_assert_error(CT_ERR_INDEX, "Dimension out of range");
    /* scatter family */
    assert_null(ct_scatter(t, 0, ct_zeros(CT_SHAPE(2, 3), .dtype = CT_I64), ct_zeros(CT_SHAPE(2, 3))));
    tu_assert_error(CT_ERR_SHAPE,
                    "Expected index [2, 3] to be smaller than self [2, 2] apart from dimension 0 and to be "
                    "smaller size than src [2, 3]");
    assert_null(ct_scatter_add_(t, 0, i22, ct_zeros(CT_SHAPE(1, 3))));
    tu_assert_error(CT_ERR_SHAPE, "smaller size than src [1, 3]");
    assert_null(ct_scatter_value(t, 1, ct_zeros(CT_SHAPE(3, 2), .dtype = CT_I64), 1));
    tu_assert_error(CT_ERR_SHAPE,
                    "scatter(): Expected index [3, 2] to be smaller than self [2, 2] apart from dimension 1");
    assert_null(ct_scatter(t, 0, i22, ct_zeros(CT_SHAPE(2, 2), .dtype = CT_F64)));
    tu_assert_error(CT_ERR_DTYPE, "scatter(): Expected self.dtype to be equal to src.dtype");
    assert_null(ct_scatter_add(t, 0, ct_zeros(CT_SHAPE(2, 2), .dtype = CT_I32), t));
    tu_assert_error(CT_ERR_DTYPE, "scatter_add(): Expected dtype int64 for index");
    assert_null(ct_scatter_(t, 0, ct_zeros(CT_SHAPE(2), .dtype = CT_I64), t));
    tu_assert_error(CT_ERR_SHAPE, "Index tensor must have the same number of dimensions as self tensor");
    assert_null(ct_scatter_(t, 0, i22, ct_zeros(CT_SHAPE(4))));
    tu_assert_error(CT_ERR_SHAPE, "Index tensor must have the same number of dimensions as src tensor");
    assert_null(ct_scatter_(t, 0, bad5, t));
    tu_assert_error(CT_ERR_INDEX, "scatter: index 5 is out of bounds for dimension 0 with size 2");
    assert_null(ct_scatter_add_(t, 1, neg, t));
    tu_assert_error(CT_ERR_INDEX, "scatter_add: index -1 is out of bounds for dimension 1 with size 2");
    assert_null(ct_scatter_value(t, 0, bad5, 1));
    tu_assert_error(CT_ERR_INDEX, "index 5 is out of bounds");
    assert_null(ct_scatter(t, 0, i22, NULL));
    tu_assert_error(CT_ERR_NULL, "scatter");
    tu_assert_values(t, CT_SHAPE(2, 2), (double[]){0, 0, 0, 0}, 0, 0); /* failed in-place ops wrote nothing */
    /* advanced indexing */
    ct_tensor *i5 = ct_from_data((int64_t[]){5}, CT_SHAPE(1), CT_I64);
    assert_null(ct_index(t, CT_TENSORS(i5)));
    tu_assert_error(CT_ERR_INDEX, "index: index 5 is out of bounds for dimension 0 with size 2");
    assert_null(ct_index(t, CT_TENSORS(ct_from_data((int64_t[]){-3}, CT_SHAPE(1), CT_I64))));
    tu_assert_error(CT_ERR_INDEX, "index -3 is out of bounds for dimension 0 with size 2");
    assert_null(ct_index(t, CT_TENSORS(NULL, ct_from_data((int32_t[]){0, 7}, CT_SHAPE(2), CT_I32))));
    tu_assert_error(CT_ERR_INDEX, "index 7 is out of bounds for dimension 1 with size 2");
    assert_null(ct_index(t, CT_TENSORS(ct_zeros(CT_SHAPE(1)))));
    tu_assert_error(CT_ERR_DTYPE, "indexing with dtype Float is not supported, use int64 or bool");
    assert_null(ct_index(t, CT_TENSORS(ct_zeros(CT_SHAPE(1), .dtype = CT_F16))));
    tu_assert_error(CT_ERR_DTYPE, "indexing with dtype Half is not supported");
    ct_tensor *i0 = ct_zeros(CT_SHAPE(1), .dtype = CT_I64);
    assert_null(ct_index(t, CT_TENSORS(i0, i0, i0)));
    tu_assert_error(CT_ERR_INDEX, "too many indices for tensor of dimension 2");
    assert_null(ct_index(t, CT_TENSORS(i0, ct_ones(CT_SHAPE(2, 2), .dtype = CT_BOOL))));
    tu_assert_error(CT_ERR_INDEX, "too many indices for tensor of dimension 2");
    assert_null(ct_index(t, CT_TENSORS(ct_ones(CT_SHAPE(3), .dtype = CT_BOOL))));
    tu_assert_error(CT_ERR_SHAPE, "The shape of the mask [3] at index 0 does not match the shape of the indexed tensor "
                                  "[2, 2] at index 0");
    assert_null(ct_index(t, CT_TENSORS(NULL, ct_ones(CT_SHAPE(3), .dtype = CT_BOOL))));
    tu_assert_error(CT_ERR_SHAPE, "at index 0 does not match the shape of the indexed tensor [2, 2] at index 1");
    assert_null(
        ct_index(t, CT_TENSORS(ct_zeros(CT_SHAPE(2), .dtype = CT_I64), ct_zeros(CT_SHAPE(3), .dtype = CT_I64))));
    tu_assert_error(CT_ERR_SHAPE,
                    "shape mismatch: indexing tensors could not be broadcast together with shapes [2], [3]");
    assert_null(ct_index(ct_zeros(CT_SHAPE(2, 0)), CT_TENSORS(NULL, i0)));
    tu_assert_error(CT_ERR_INDEX, "index 0 is out of bounds for dimension 1 with size 0");
    assert_null(ct_index(NULL, CT_TENSORS(i0)));
    tu_assert_error(CT_ERR_NULL, "index");
    /* A NULL entry while an error is pending is a failed call's result, not ':'. */
    ct_error(CT_ERR_ARG, "earlier failure");
    assert_null(ct_index(t, CT_TENSORS(NULL, i0)));
    tu_assert_error(CT_ERR_ARG, "earlier failure");
    /* index_put_ */
    assert_null(ct_index_put_(t, CT_TENSORS(i0), ct_ones(CT_SHAPE(3)), false));
    tu_assert_error(CT_ERR_SHAPE,
                    "shape mismatch: value tensor of shape [3] cannot be broadcast to indexing result of shape [1, 2]");
    assert_null(ct_index_put_(t, CT_TENSORS(i0), ct_ones(CT_SHAPE(2), .dtype = CT_F64), false));
    tu_assert_error(CT_ERR_DTYPE, "Index put requires the source and destination dtypes match, got Float for the "
                                  "destination and Double for the source.");
    assert_null(ct_index_put_(t, CT_TENSORS(i5), ct_ones(CT_SHAPE(2)), true));
    tu_assert_error(CT_ERR_INDEX, "index_put_: index 5 is out of bounds for dimension 0 with size 2");
    assert_null(ct_index_put_(t, CT_TENSORS(i0), NULL, true));
    tu_assert_error(CT_ERR_NULL, "index_put_");
    tu_assert_values(t, CT_SHAPE(2, 2), (double[]){0, 0, 0, 0}, 0, 0);
    /* masked_select and nonzero */
    assert_null(ct_masked_select(t, ct_ones(CT_SHAPE(2))));
    tu_assert_error(CT_ERR_DTYPE, "masked_select: expected BoolTensor or ByteTensor for mask");
    assert_null(ct_masked_select(t, ct_ones(CT_SHAPE(3), .dtype = CT_BOOL)));
    tu_assert_error(CT_ERR_SHAPE,
                    "The size of tensor a (2) must match the size of tensor b (3) at non-singleton dimension 1");
    assert_null(ct_masked_select(NULL, t));
    tu_assert_error(CT_ERR_NULL, "masked_select");
    assert_null(ct_nonzero(NULL));
    tu_assert_error(CT_ERR_NULL, "nonzero");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gather_matches_reference),
        cmocka_unit_test(index_select_matches_reference),
        cmocka_unit_test(scatter_matches_reference),
        cmocka_unit_test(scatter_add_duplicates_and_empty),
        cmocka_unit_test(index_placement_matches_reference),
        cmocka_unit_test(index_with_masks_matches_reference),
        cmocka_unit_test(index_put_matches_reference),
        cmocka_unit_test(masked_select_and_nonzero_match_reference),
        cmocka_unit_test(results_do_not_depend_on_threads),
        cmocka_unit_test(errors_follow_pytorch),
    };
    return TU_RUN("indexing", tests);
}
