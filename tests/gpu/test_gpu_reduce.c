/* CUDA reductions, softmax, scans, indexing and the fused cross-entropy against the CPU on the
 * same values, on non-contiguous inputs (views taken on each device of the same data). */
#include "../common/testutil.h"
#include "../../tensor/native_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Asserts the device result d (moved to the CPU) equals the CPU result c within rtol/atol. */
static void assert_same(const char *what, const ct_tensor *c, const ct_tensor *d, double rtol, double atol) {
    if (!c || !d) fail_msg("%s failed: %s", what, ct_last_error());
    ct_tensor *h = ct_to(d, CT_CPU);
    assert_non_null(h);
    ct_shape cs = ct_shape_of(c), hs = ct_shape_of(h);
    assert_int_equal(cs.ndim, hs.ndim);
    for (int i = 0; i < cs.ndim; i++) assert_int_equal(cs.d[i], hs.d[i]);
    assert_int_equal(ct_dtype_of(c), ct_dtype_of(h));
    double *a = tu_values(c), *b = tu_values(h);
    int64_t n = ct_numel(c);
    for (int64_t i = 0; i < n; i++) {
        bool both_nan = isnan(a[i]) && isnan(b[i]);
        if (!both_nan && !(fabs(a[i] - b[i]) <= atol + rtol * fabs(a[i])) && a[i] != b[i])
            fail_msg("%s: element %lld: cpu %.17g cuda %.17g", what, (long long)i, a[i], b[i]);
    }
}

/* The same values on both devices, seen through a transposing view (dims reversed). */
typedef struct pair {
    ct_tensor *cpu, *gpu;
} pair;

static pair random_pair(uint64_t *st, ct_shape shape, ct_dtype dtype, double lo, double hi) {
    ct_shape rev = {.ndim = shape.ndim};
    for (int i = 0; i < shape.ndim; i++) rev.d[i] = shape.d[shape.ndim - 1 - i];
    ct_tensor *base = tu_random(st, rev, dtype, TU_CONTIGUOUS, lo, hi);
    ct_tensor *dev = ct_to(base, CT_CUDA(0));
    assert_non_null(dev);
    pair p = {base, dev};
    if (shape.ndim >= 2) {
        ct_dims perm = {.ndim = shape.ndim};
        for (int i = 0; i < shape.ndim; i++) perm.d[i] = shape.ndim - 1 - i;
        p.cpu = ct_permute(base, perm);
        p.gpu = ct_permute(dev, perm);
    }
    return p;
}

static void reductions(void **state) {
    (void)state;
    uint64_t st = 1;
    const ct_dtype dtypes[] = {CT_F32, CT_F64, CT_BF16, CT_F16};
    for (size_t di = 0; di < sizeof dtypes / sizeof *dtypes; di++) {
        ct_dtype dt = dtypes[di];
        /* CUDA accumulates f32 in float (per-thread shares of at most a few hundred terms, then a
         * tree), the CPU in double: for these lengths (up to 55,500 terms) the float sums stay
         * well within 1e-5 relative */
        double rtol = dt == CT_F32 ? 1e-5 : dt == CT_F64 ? 1e-12 : 1e-2, atol = dt == CT_F32 || dt == CT_F64 ? 1e-6 : 1e-2;
        pair x = random_pair(&st, CT_SHAPE(5, 37, 300), dt, 0.5, 2);
        const ct_dims dimsets[] = {CT_DIMS(), CT_DIMS(0), CT_DIMS(1), CT_DIMS(2), CT_DIMS(0, 2), CT_DIMS(-1, 1)};
        for (size_t k = 0; k < sizeof dimsets / sizeof *dimsets; k++) {
            for (int keep = 0; keep < 2; keep++) {
                ct_reduce_opts o = {.dim = dimsets[k], .keepdim = keep, .dtype = CT_DTYPE_DEFAULT, .correction = 1,
                                    .p = 2};
                assert_same("sum", ct_sum_opt(x.cpu, o), ct_sum_opt(x.gpu, o), rtol, atol);
                assert_same("mean", ct_mean_opt(x.cpu, o), ct_mean_opt(x.gpu, o), rtol, atol);
                assert_same("amax", ct_amax_opt(x.cpu, o), ct_amax_opt(x.gpu, o), 0, 0);
                assert_same("amin", ct_amin_opt(x.cpu, o), ct_amin_opt(x.gpu, o), 0, 0);
                assert_same("var", ct_var_opt(x.cpu, o), ct_var_opt(x.gpu, o), rtol, atol);
                assert_same("std", ct_std_opt(x.cpu, o), ct_std_opt(x.gpu, o), rtol, atol);
                assert_same("norm", ct_norm_opt(x.cpu, o), ct_norm_opt(x.gpu, o), rtol, atol);
                assert_same("logsumexp", ct_logsumexp_opt(x.cpu, o), ct_logsumexp_opt(x.gpu, o), rtol, atol);
                assert_same("all", ct_all_opt(x.cpu, o), ct_all_opt(x.gpu, o), 0, 0);
                assert_same("any", ct_any_opt(x.cpu, o), ct_any_opt(x.gpu, o), 0, 0);
            }
        }
        /* an f64 result accumulates in double on the device as well: the CPU's sum to 1e-12 */
        if (dt == CT_F32)
            for (int d = 0; d < 3; d++)
                assert_same("sum to f64", ct_sum(x.cpu, .dim = CT_DIMS(d), .dtype = CT_F64),
                            ct_sum(x.gpu, .dim = CT_DIMS(d), .dtype = CT_F64), 1e-12, 0);
        for (int d = 0; d < 3; d++) {
            ct_tensor *ic = NULL, *ig = NULL;
            assert_same("max_dim", ct_max_dim(x.cpu, d, false, &ic), ct_max_dim(x.gpu, d, false, &ig), 0, 0);
            assert_same("max_dim indices", ic, ig, 0, 0);
            assert_same("argmin", ct_argmin(x.cpu, .dim = CT_DIMS(d)), ct_argmin(x.gpu, .dim = CT_DIMS(d)), 0, 0);
        }
    }
    /* int64: exact sums and products, integer extremes with first-index ties */
    pair xi = random_pair(&st, CT_SHAPE(7, 65, 3), CT_I64, -3, 4);
    for (int d = 0; d < 3; d++) {
        ct_reduce_opts o = {.dim = CT_DIMS(d), .dtype = CT_DTYPE_DEFAULT};
        assert_same("sum i64", ct_sum_opt(xi.cpu, o), ct_sum_opt(xi.gpu, o), 0, 0);
        assert_same("prod i64", ct_prod_opt(xi.cpu, o), ct_prod_opt(xi.gpu, o), 0, 0);
        assert_same("argmax i64", ct_argmax(xi.cpu, .dim = CT_DIMS(d)), ct_argmax(xi.gpu, .dim = CT_DIMS(d)), 0, 0);
    }
    /* NaN propagates through max with its first index; empty sums are 0 */
    ct_tensor *nan = ct_from_data((float[]){1, NAN, 3, NAN, 9, 2}, CT_SHAPE(2, 3), CT_F32);
    ct_tensor *ic = NULL, *ig = NULL;
    assert_same("max nan", ct_max_dim(nan, 1, false, &ic), ct_max_dim(ct_to(nan, CT_CUDA(0)), 1, false, &ig), 0, 0);
    assert_same("max nan idx", ic, ig, 0, 0);
    ct_tensor *empty = ct_zeros(CT_SHAPE(3, 0));
    assert_same("sum empty", ct_sum(empty, .dim = CT_DIMS(1)), ct_sum(ct_to(empty, CT_CUDA(0)), .dim = CT_DIMS(1)), 0, 0);
}

static void softmax_and_scans(void **state) {
    (void)state;
    uint64_t st = 2;
    const ct_dtype dtypes[] = {CT_F32, CT_F64, CT_BF16, CT_F16};
    for (size_t di = 0; di < sizeof dtypes / sizeof *dtypes; di++) {
        ct_dtype dt = dtypes[di];
        /* f32 atol: log_softmax = x - logsumexp(x) subtracts values up to ~16 in magnitude, so a
         * result near 0 carries f32's absolute error of those operands (~2e-6), not a relative one */
        double rtol = dt == CT_F32 ? 1e-5 : dt == CT_F64 ? 1e-12 : 2e-2,
               atol = dt == CT_F32 ? 2e-6 : dt == CT_F64 ? 1e-7 : 1e-2;
        pair x = random_pair(&st, CT_SHAPE(6, 4, 1030), dt, -8, 8);
        for (int d = -1; d < 3; d++) {
            assert_same("softmax", ct_softmax(x.cpu, d), ct_softmax(x.gpu, d), rtol, atol);
            assert_same("log_softmax", ct_log_softmax(x.cpu, d), ct_log_softmax(x.gpu, d), rtol, atol);
        }
        /* dense rows: the vectorized path */
        ct_tensor *dense = ct_contiguous(x.cpu);
        assert_same("softmax dense", ct_softmax(dense, -1), ct_softmax(ct_to(dense, CT_CUDA(0)), -1), rtol, atol);
    }
    pair x = random_pair(&st, CT_SHAPE(5, 40), CT_F32, 0.5, 1.5);
    for (int d = 0; d < 2; d++) {
        assert_same("cumsum", ct_cumsum(x.cpu, d), ct_cumsum(x.gpu, d), 1e-5, 1e-6);
        assert_same("cumprod", ct_cumprod(x.cpu, d), ct_cumprod(x.gpu, d), 1e-5, 1e-30);
    }
    pair xi = random_pair(&st, CT_SHAPE(5, 40), CT_I32, -9, 9);
    assert_same("cumsum i32", ct_cumsum(xi.cpu, 1), ct_cumsum(xi.gpu, 1), 0, 0);
}

/* The largest |value| of t (0 for an empty one), for tolerances relative to a result's scale. */
static double max_abs(const ct_tensor *t) {
    double m = 0, *v = tu_values(t);
    for (int64_t i = 0; i < ct_numel(t); i++) m = fmax(m, fabs(v[i]));
    return m;
}

/* [rows, n] with the same values on both devices, laid out alike on each: dense, offset by one
 * element with rows n + 1 apart (no row 16-byte aligned but by chance), or transposed (the rows
 * strided). */
static pair view_pair(uint64_t *st, int64_t rows, int64_t n, ct_dtype dt, tu_layout layout, double lo, double hi) {
    if (layout == TU_TRANSPOSED) {
        ct_tensor *base = tu_random(st, CT_SHAPE(n, rows), dt, TU_CONTIGUOUS, lo, hi);
        return (pair){ct_transpose(base, 0, 1), ct_transpose(ct_to(base, CT_CUDA(0)), 0, 1)};
    }
    if (layout == TU_OFFSET) {
        ct_tensor *base = tu_random(st, CT_SHAPE(rows, n + 1), dt, TU_CONTIGUOUS, lo, hi);
        return (pair){ct_narrow(base, 1, 1, n), ct_narrow(ct_to(base, CT_CUDA(0)), 1, 1, n)};
    }
    ct_tensor *base = tu_random(st, CT_SHAPE(rows, n), dt, TU_CONTIGUOUS, lo, hi);
    return (pair){base, ct_to(base, CT_CUDA(0))};
}

/* Every kernel shape of softmax_cuda.cu, forward and the fused backward, against the CPU:
 * warp rows held as 16-byte vectors (n a multiple of the vector, aligned) or element by element
 * (odd n, offset views, strided rows), the f64 warp limit (512) and one past it, block rows with
 * and without the shared-memory row cache (5000; 50304 needs the opt-in above 48 KiB), rows that
 * alternate between aligned and not (1030 f32 is 4120 bytes), and rows along an earlier dim. */
static void softmax_kernel_shapes(void **state) {
    (void)state;
    uint64_t st = 6;
    const ct_dtype dtypes[] = {CT_F32, CT_F64, CT_BF16, CT_F16};
    const int64_t lens[] = {1, 33, 64, 512, 513, 1024, 1030, 5000, 50304};
    const tu_layout layouts[] = {TU_CONTIGUOUS, TU_OFFSET, TU_TRANSPOSED};
    for (size_t di = 0; di < sizeof dtypes / sizeof *dtypes; di++) {
        ct_dtype dt = dtypes[di];
        bool half = dt == CT_BF16 || dt == CT_F16;
        double rtol = dt == CT_F32 ? 1e-5 : dt == CT_F64 ? 1e-12 : 2e-2, atol = dt == CT_F32 || dt == CT_F64 ? 1e-7 : 1e-2;
        for (size_t li = 0; li < sizeof lens / sizeof *lens; li++) {
            int64_t n = lens[li], rows = n > 5000 ? 3 : 9;
            for (size_t lay = 0; lay < sizeof layouts / sizeof *layouts; lay++) CT_SCOPE {
                if (layouts[lay] == TU_TRANSPOSED && n > 1030) break; /* strided rows: the short ones suffice */
                pair x = view_pair(&st, rows, n, dt, layouts[lay], -8, 8);
                pair g = view_pair(&st, rows, n, dt, layouts[(lay + 1) % 3], -1, 1);
                for (int log = 0; log < 2; log++) {
                    char what[96];
                    snprintf(what, sizeof what, "%s %s n=%lld %s", log ? "log_softmax" : "softmax", ct_dtype_name(dt),
                             (long long)n, tu_layout_names[layouts[lay]]);
                    ct_tensor *yc = log ? ct_log_softmax(x.cpu, 1) : ct_softmax(x.cpu, 1);
                    ct_tensor *yd = log ? ct_log_softmax(x.gpu, 1) : ct_softmax(x.gpu, 1);
                    assert_same(what, yc, yd, rtol, atol);
                    /* the backward from the same y on both devices */
                    ct_tensor *dxc = ct__softmax_backward(g.cpu, yc, 1, log);
                    ct_tensor *dxd = ct__softmax_backward(g.gpu, ct_to(yc, CT_CUDA(0)), -1, log);
                    strcat(what, " backward");
                    assert_same(what, dxc, dxd, rtol, (half ? 1e-2 : dt == CT_F32 ? 1e-6 : 1e-12) * max_abs(dxc));
                }
            }
        }
    }
    /* rows along every dim of 3-d tensors: strided rows of the backward, short (warp) and long (block) */
    const ct_shape shapes[] = {CT_SHAPE(300, 6, 5), CT_SHAPE(2, 2000, 3)};
    pair g;
    for (int si = 0; si < 2; si++) {
        pair x = random_pair(&st, shapes[si], CT_F32, -4, 4);
        g = random_pair(&st, shapes[si], CT_F32, -1, 1);
        for (int d = 0; d < 3; d++)
            for (int log = 0; log < 2; log++) {
                ct_tensor *yc = log ? ct_log_softmax(x.cpu, d) : ct_softmax(x.cpu, d);
                assert_same("softmax along a dim", yc, log ? ct_log_softmax(x.gpu, d) : ct_softmax(x.gpu, d), 1e-5, 1e-7);
                ct_tensor *dxc = ct__softmax_backward(g.cpu, yc, d, log);
                assert_same("softmax backward along a dim", dxc,
                            ct__softmax_backward(g.gpu, ct_to(yc, CT_CUDA(0)), d, log), 1e-5, 1e-6 * max_abs(dxc));
            }
    }
    /* both operands on one device */
    assert_null(ct__softmax_backward(g.cpu, ct_to(g.cpu, CT_CUDA(0)), 0, false));
    tu_assert_error(CT_ERR_DEVICE, "softmax_backward: Expected all tensors to be on the same device");
}

/* backward of softmax / log_softmax / sum on both devices: the .grad of the leaves agree */
static void softmax_gradients(void **state) {
    (void)state;
    uint64_t st = 3;
    const int64_t lens[] = {33, 1024, 5000}; /* warp rows (element-wise, vectors) and block rows */
    for (size_t li = 0; li < sizeof lens / sizeof *lens; li++) CT_SCOPE {
    ct_tensor *base = tu_random(&st, CT_SHAPE(7, lens[li]), CT_F32, TU_CONTIGUOUS, -3, 3);
    ct_tensor *w = tu_random(&st, CT_SHAPE(7, lens[li]), CT_F32, TU_CONTIGUOUS, -1, 1);
    for (int which = 0; which < 2; which++) {
        ct_tensor *xc = ct_requires_grad_(ct_clone(base), true);
        ct_tensor *xg = ct_requires_grad_(ct_to(base, CT_CUDA(0)), true);
        ct_tensor *yc = which ? ct_log_softmax(xc, 1) : ct_softmax(xc, 1);
        ct_tensor *yg = which ? ct_log_softmax(xg, 1) : ct_softmax(xg, 1);
        if (!ct_backward(ct_sum(ct_mul(yc, w)))) fail_msg("cpu backward: %s", ct_last_error());
        if (!ct_backward(ct_sum(ct_mul(yg, ct_to(w, CT_CUDA(0)))))) fail_msg("cuda backward: %s", ct_last_error());
        assert_same(which ? "log_softmax grad" : "softmax grad", ct_grad(xc), ct_grad(xg), 1e-5,
                    1e-6 * max_abs(ct_grad(xc)));
    }
    }
}

static void indexing(void **state) {
    (void)state;
    uint64_t st = 4;
    pair x = random_pair(&st, CT_SHAPE(6, 9), CT_F32, -1, 1);
    ct_tensor *idx = ct_from_data((int64_t[]){5, 0, 3, 3, 1}, CT_SHAPE(5), CT_I64);
    ct_tensor *idx_g = ct_to(idx, CT_CUDA(0));
    assert_same("index_select", ct_index_select(x.cpu, 0, idx), ct_index_select(x.gpu, 0, idx_g), 0, 0);
    assert_same("index_select 1", ct_index_select(x.cpu, 1, idx), ct_index_select(x.gpu, 1, idx_g), 0, 0);
    ct_tensor *gi = tu_random(&st, CT_SHAPE(6, 4), CT_I64, TU_CONTIGUOUS, 0, 8.99);
    ct_tensor *gi_g = ct_to(gi, CT_CUDA(0));
    assert_same("gather", ct_gather(x.cpu, 1, gi), ct_gather(x.gpu, 1, gi_g), 0, 0);
    pair src = random_pair(&st, CT_SHAPE(6, 4), CT_F32, -1, 1);
    assert_same("scatter_add", ct_scatter_add(x.cpu, 1, gi, src.cpu), ct_scatter_add(x.gpu, 1, gi_g, src.gpu), 1e-6,
                1e-6);
    /* scatter with distinct indices per row: no duplicate races */
    ct_tensor *perm = ct_from_data((int64_t[]){3, 1, 0, 2, 2, 0, 1, 3}, CT_SHAPE(2, 4), CT_I64);
    assert_same("scatter", ct_scatter(x.cpu, 1, perm, src.cpu), ct_scatter(x.gpu, 1, ct_to(perm, CT_CUDA(0)), src.gpu),
                0, 0);
    ct_tensor *mask_c = ct_gt(x.cpu, ct_scalar(0)), *mask_g = ct_to(mask_c, CT_CUDA(0));
    assert_same("masked_select", ct_masked_select(x.cpu, mask_c), ct_masked_select(x.gpu, mask_g), 0, 0);
    assert_same("nonzero", ct_nonzero(mask_c), ct_nonzero(mask_g), 0, 0);
    assert_same("index", ct_index(x.cpu, CT_TENSORS(idx)), ct_index(x.gpu, CT_TENSORS(idx_g)), 0, 0);
    /* index_put_ with accumulate and duplicate indices */
    ct_tensor *vals = tu_random(&st, CT_SHAPE(5, 9), CT_F32, TU_CONTIGUOUS, -1, 1);
    ct_tensor *dc = ct_zeros(CT_SHAPE(6, 9)), *dg = ct_zeros(CT_SHAPE(6, 9), .device = CT_CUDA(0));
    assert_non_null(ct_index_put_(dc, CT_TENSORS(idx), vals, true));
    assert_non_null(ct_index_put_(dg, CT_TENSORS(idx_g), ct_to(vals, CT_CUDA(0)), true));
    assert_same("index_put_ accumulate", dc, dg, 1e-6, 1e-6);
    /* out-of-range indices are errors naming the index */
    ct_tensor *bad = ct_to(ct_from_data((int64_t[]){1, 12, 2}, CT_SHAPE(3), CT_I64), CT_CUDA(0));
    assert_null(ct_index_select(x.gpu, 0, bad));
    tu_assert_error(CT_ERR_INDEX, "index 12 is out of bounds for dimension 0 with size 6");
    assert_null(ct_index(x.gpu, CT_TENSORS(bad)));
    tu_assert_error(CT_ERR_INDEX, "index 12 is out of bounds");
}

static void cross_entropy(void **state) {
    (void)state;
    uint64_t st = 5;
    const ct_dtype dtypes[] = {CT_F32, CT_F64, CT_BF16};
    for (size_t di = 0; di < sizeof dtypes / sizeof *dtypes; di++) {
        ct_dtype dt = dtypes[di];
        double tol = dt == CT_BF16 ? 2e-2 : dt == CT_F32 ? 1e-5 : 1e-12;
        ct_tensor *x = tu_random(&st, CT_SHAPE(16, 1003), dt, TU_CONTIGUOUS, -4, 4);
        ct_tensor *t = tu_random(&st, CT_SHAPE(16), CT_I64, TU_CONTIGUOUS, 0, 1002.99);
        t = ct_index_put_(t, CT_TENSORS(ct_from_data((int64_t[]){3, 9}, CT_SHAPE(2), CT_I64)),
                          ct_scalar_tensor(-100, .dtype = CT_I64), false);
        const double smoothing[] = {0, 0.1};
        const ct_reduction reds[] = {CT_REDUCTION_MEAN, CT_REDUCTION_SUM, CT_REDUCTION_NONE};
        for (int si = 0; si < 2; si++) {
            for (int ri = 0; ri < 3; ri++) {
                ct_tensor *xc = ct_requires_grad_(ct_clone(x), true);
                ct_tensor *xg = ct_requires_grad_(ct_to(x, CT_CUDA(0)), true);
                ct_tensor *lc = ct_cross_entropy(xc, t, .reduction = reds[ri], .label_smoothing = smoothing[si]);
                ct_tensor *lg = ct_cross_entropy(xg, ct_to(t, CT_CUDA(0)), .reduction = reds[ri],
                                                 .label_smoothing = smoothing[si]);
                assert_same("cross_entropy", lc, lg, tol, tol);
                if (!ct_backward(ct_sum(lc)) || !ct_backward(ct_sum(lg))) fail_msg("backward: %s", ct_last_error());
                assert_same("cross_entropy grad", ct_grad(xc), ct_grad(xg), tol, tol * 1e-2);
            }
        }
    }
    /* spatial targets: [N, C, d] */
    ct_tensor *x = tu_random(&st, CT_SHAPE(3, 5, 7), CT_F32, TU_CONTIGUOUS, -2, 2);
    ct_tensor *t = tu_random(&st, CT_SHAPE(3, 7), CT_I64, TU_CONTIGUOUS, 0, 4.99);
    assert_same("cross_entropy spatial", ct_cross_entropy(x, t, .label_smoothing = 0.2),
                ct_cross_entropy(ct_to(x, CT_CUDA(0)), ct_to(t, CT_CUDA(0)), .label_smoothing = 0.2), 1e-5, 1e-6);
    /* the mean over int32 targets with some ignored, its divisor counted on the device; all
     * ignored: 0/0 = nan on both */
    ct_tensor *x2 = tu_random(&st, CT_SHAPE(6, 5), CT_F32, TU_CONTIGUOUS, -2, 2), *x2g = ct_to(x2, CT_CUDA(0));
    ct_tensor *t2 = ct_from_data((int32_t[]){4, -100, 0, 2, -100, 1}, CT_SHAPE(6), CT_I32);
    assert_same("cross_entropy mean i32", ct_cross_entropy(x2, t2), ct_cross_entropy(x2g, ct_to(t2, CT_CUDA(0))), 1e-6,
                1e-7);
    ct_tensor *none = ct_full(CT_SHAPE(6), 3, .dtype = CT_I64);
    assert_same("cross_entropy all ignored", ct_cross_entropy(x2, none, .ignore_index = 3),
                ct_cross_entropy(x2g, ct_to(none, CT_CUDA(0)), .ignore_index = 3), 0, 0);
    /* an out-of-range target is an error on the CPU; on CUDA (not read back) its row is NaN in
     * the loss and the gradient, the other rows as the CPU's */
    ct_tensor *bad = ct_from_data((int64_t[]){4, 7, 0, 2, 3, 1}, CT_SHAPE(6), CT_I64);
    assert_null(ct_cross_entropy(x2, bad));
    tu_assert_error(CT_ERR_INDEX, "Target 7 is out of bounds");
    ct_tensor *xr = ct_requires_grad_(ct_clone(x2g), true);
    ct_tensor *lr = ct_cross_entropy(xr, ct_to(bad, CT_CUDA(0)), .reduction = CT_REDUCTION_NONE);
    if (!lr || !ct_backward(ct_sum(lr))) fail_msg("cross_entropy with a bad target: %s", ct_last_error());
    ct_tensor *ok = ct_from_data((int64_t[]){4, 0, 0, 2, 3, 1}, CT_SHAPE(6), CT_I64);
    ct_tensor *xo = ct_requires_grad_(ct_clone(x2), true);
    ct_tensor *lo = ct_cross_entropy(xo, ok, .reduction = CT_REDUCTION_NONE);
    assert_true(ct_backward(ct_sum(lo)));
    double *lv = tu_values(ct_to(lr, CT_CPU)), *lw = tu_values(lo);
    double *gv = tu_values(ct_to(ct_grad(xr), CT_CPU)), *gw = tu_values(ct_grad(xo));
    for (int r = 0; r < 6; r++) {
        if (r == 1) assert_true(isnan(lv[r]));
        else assert_true(fabs(lv[r] - lw[r]) <= 1e-5 * fabs(lw[r]) + 1e-6);
        for (int c = 0; c < 5; c++) {
            double a = gv[r * 5 + c], b = gw[r * 5 + c];
            if (r == 1) assert_true(isnan(a));
            else assert_true(fabs(a - b) <= 1e-5 * fabs(b) + 1e-7);
        }
    }
}

/* embedding: a transposed weight and transposed indices (duplicates, the padding row), int64 and
 * int32; the weight gradient from a non-contiguous incoming gradient */
static void embedding(void **state) {
    (void)state;
    uint64_t st = 6;
    ct_tensor *ib = ct_from_data((int64_t[]){0, 2, 5, 10, 2, 2, 7, 0, 3, 9, 2, 10}, CT_SHAPE(4, 3), CT_I64);
    ct_tensor *ib32 = ct_to_dtype(ib, CT_I32);
    ct_tensor *ic = ct_transpose(ib, 0, 1), *ig = ct_transpose(ct_to(ib, CT_CUDA(0)), 0, 1);
    ct_tensor *ic32 = ct_transpose(ib32, 0, 1), *ig32 = ct_transpose(ct_to(ib32, CT_CUDA(0)), 0, 1);
    const ct_dtype dtypes[] = {CT_F32, CT_F64, CT_BF16};
    for (size_t di = 0; di < sizeof dtypes / sizeof *dtypes; di++) {
        ct_dtype dt = dtypes[di];
        double tol = dt == CT_BF16 ? 1e-2 : dt == CT_F32 ? 1e-5 : 1e-12;
        pair w = random_pair(&st, CT_SHAPE(11, 7), dt, -1, 1);
        pair g = random_pair(&st, CT_SHAPE(3, 4, 7), dt, -1, 1);
        const int64_t paddings[] = {-1, 2, -1};
        for (int pi = 0; pi < 3; pi++) {
            int64_t pad = paddings[pi];
            ct_tensor *ic2 = pi == 2 ? ic32 : ic, *ig2 = pi == 2 ? ig32 : ig;
            assert_same("embedding", ct_embedding(ic2, w.cpu, .padding_idx = pad),
                        ct_embedding(ig2, w.gpu, .padding_idx = pad), 0, 0);
            ct_tensor *wc = ct_contiguous(w.cpu), *wg = ct_to(wc, CT_CUDA(0)); /* leaves on both devices */
            ct_requires_grad_(wc, true);
            ct_requires_grad_(wg, true);
            if (!ct_backward(ct_embedding(ic2, wc, .padding_idx = pad), .gradient = g.cpu) ||
                !ct_backward(ct_embedding(ig2, wg, .padding_idx = pad), .gradient = g.gpu))
                fail_msg("embedding backward: %s", ct_last_error());
            assert_same("embedding grad", ct_grad(wc), ct_grad(wg), tol, tol);
        }
    }
    /* no indices: an empty result */
    ct_tensor *none = ct_to(ct_zeros(CT_SHAPE(0), .dtype = CT_I64), CT_CUDA(0));
    pair w = random_pair(&st, CT_SHAPE(11, 7), CT_F32, -1, 1);
    assert_same("embedding empty", ct_embedding(ct_to(none, CT_CPU), w.cpu), ct_embedding(none, w.gpu), 0, 0);
    /* out-of-range indices are errors naming the first bad one */
    ct_tensor *bad = ct_to(ct_from_data((int64_t[]){1, 12, -1}, CT_SHAPE(3), CT_I64), CT_CUDA(0));
    assert_null(ct_embedding(bad, w.gpu));
    tu_assert_error(CT_ERR_INDEX, "index out of range in self: index 12 is out of bounds for 11 embeddings");
    bad = ct_to(ct_from_data((int64_t[]){1, -1, 12}, CT_SHAPE(3), CT_I64), CT_CUDA(0));
    assert_null(ct_embedding(bad, w.gpu));
    tu_assert_error(CT_ERR_INDEX, "index -1 is out of bounds for 11 embeddings");
}

/* flip: every dim set of a transposed 3-d view, element sizes 1, 2, 4 and 8; empty tensors */
static void flip(void **state) {
    (void)state;
    uint64_t st = 7;
    const ct_dtype dtypes[] = {CT_F32, CT_F16, CT_I64, CT_BOOL};
    const ct_dims dimsets[] = {CT_DIMS(), CT_DIMS(0), CT_DIMS(1), CT_DIMS(-1), CT_DIMS(0, 2), CT_DIMS(2, 1, 0)};
    for (size_t di = 0; di < sizeof dtypes / sizeof *dtypes; di++) {
        pair x = random_pair(&st, CT_SHAPE(3, 5, 33), dtypes[di], -4, 4);
        for (size_t k = 0; k < sizeof dimsets / sizeof *dimsets; k++)
            assert_same("flip", ct_flip(x.cpu, dimsets[k]), ct_flip(x.gpu, dimsets[k]), 0, 0);
    }
    ct_tensor *empty = ct_zeros(CT_SHAPE(3, 0));
    assert_same("flip empty", ct_flip(empty, CT_DIMS(0)), ct_flip(ct_to(empty, CT_CUDA(0)), CT_DIMS(0)), 0, 0);
}

/* Column reductions (dim 0 of a dense [N, C], dims 0 and 1 of [B, N, C]): the column-tile path
 * with fewer outputs than a warp (lanes share columns), partial tiles, one row range per block and
 * rows split over several blocks (a second folding pass). */
static void column_reductions(void **state) {
    (void)state;
    uint64_t st = 8;
    const ct_shape shapes[] = {CT_SHAPE(8192, 10), CT_SHAPE(40, 33), CT_SHAPE(64, 5000), CT_SHAPE(2053, 3000),
                               CT_SHAPE(33, 7), CT_SHAPE(4, 1000, 12)};
    const ct_dtype dtypes[] = {CT_F32, CT_F64, CT_BF16};
    for (size_t si = 0; si < sizeof shapes / sizeof *shapes; si++) {
        for (size_t di = 0; di < sizeof dtypes / sizeof *dtypes; di++) {
            ct_dtype dt = dtypes[di];
            double rtol = dt == CT_F32 ? 1e-5 : dt == CT_F64 ? 1e-12 : 1e-2, atol = dt == CT_BF16 ? 1e-2 : 1e-6;
            ct_tensor *x = tu_random(&st, shapes[si], dt, TU_CONTIGUOUS, 0.5, 2), *xg = ct_to(x, CT_CUDA(0));
            ct_dims dims = shapes[si].ndim == 3 ? CT_DIMS(0, 1) : CT_DIMS(0);
            for (int keep = 0; keep < 2; keep++) {
                ct_reduce_opts o = {.dim = dims, .keepdim = keep, .dtype = CT_DTYPE_DEFAULT, .correction = 1, .p = 2};
                assert_same("column sum", ct_sum_opt(x, o), ct_sum_opt(xg, o), rtol, atol);
                assert_same("column mean", ct_mean_opt(x, o), ct_mean_opt(xg, o), rtol, atol);
                assert_same("column amax", ct_amax_opt(x, o), ct_amax_opt(xg, o), 0, 0);
                assert_same("column var", ct_var_opt(x, o), ct_var_opt(xg, o), rtol, atol);
                assert_same("column norm", ct_norm_opt(x, o), ct_norm_opt(xg, o), rtol, atol);
                assert_same("column logsumexp", ct_logsumexp_opt(x, o), ct_logsumexp_opt(xg, o), rtol, atol);
            }
        }
    }
    /* integers: exact sums, and the first index of ties across slots and row ranges */
    ct_tensor *xi = tu_random(&st, CT_SHAPE(3000, 12), CT_I64, TU_CONTIGUOUS, -3, 4), *xig = ct_to(xi, CT_CUDA(0));
    assert_same("column sum i64", ct_sum(xi, .dim = CT_DIMS(0)), ct_sum(xig, .dim = CT_DIMS(0)), 0, 0);
    assert_same("column argmax i64", ct_argmax(xi, .dim = CT_DIMS(0)), ct_argmax(xig, .dim = CT_DIMS(0)), 0, 0);
    ct_tensor *ic = NULL, *ig = NULL;
    assert_same("column min", ct_min_dim(xi, 0, false, &ic), ct_min_dim(xig, 0, false, &ig), 0, 0);
    assert_same("column min indices", ic, ig, 0, 0);
    /* the same reduction twice gives the same bits (a fixed order) */
    ct_tensor *xf = ct_to(tu_random(&st, CT_SHAPE(8192, 10), CT_F32, TU_CONTIGUOUS, -1, 1), CT_CUDA(0));
    assert_same("column sum repeat", ct_to(ct_sum(xf, .dim = CT_DIMS(0)), CT_CPU), ct_sum(xf, .dim = CT_DIMS(0)), 0, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reductions),       cmocka_unit_test(softmax_and_scans), cmocka_unit_test(softmax_kernel_shapes),
        cmocka_unit_test(softmax_gradients),
        cmocka_unit_test(indexing),         cmocka_unit_test(cross_entropy),    cmocka_unit_test(embedding),
        cmocka_unit_test(flip),             cmocka_unit_test(column_reductions),
    };
    return TU_RUN_GPU("gpu_reduce", tests);
}
