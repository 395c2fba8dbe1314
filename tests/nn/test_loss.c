/* Losses of nn.functional: every loss and option against f64 references computed here by plain
 * loops on non-contiguous inputs, in float64 and float32; gradcheck of the input (and of the
 * target where PyTorch differentiates it); PyTorch's error messages; empty and all-ignored edges. */
#include "../common/testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const ct_reduction reductions[] = {CT_REDUCTION_MEAN, CT_REDUCTION_SUM, CT_REDUCTION_NONE};
#define N_REDUCTIONS 3

/* Tolerances of a result against its f64 reference. */
static double rtol_of(ct_dtype dtype) { return dtype == CT_F64 ? 1e-12 : 2e-5; }
static double atol_of(ct_dtype dtype) { return dtype == CT_F64 ? 1e-12 : 2e-5; }

/* Reduces elementwise reference losses as the loss would: none keeps them (shape `shape`), sum
 * adds them, mean divides the sum by `denom`. Then asserts got matches. */
static void assert_reduced(const ct_tensor *got, ct_reduction r, ct_shape shape, const double *elem, int64_t n, double denom,
                           ct_dtype dtype) {
    if (!got) fail_msg("loss failed: %s", ct_last_error());
    assert_int_equal(ct_dtype_of(got), dtype);
    if (r == CT_REDUCTION_NONE) {
        tu_assert_values(got, shape, elem, rtol_of(dtype), atol_of(dtype));
        return;
    }
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += elem[i];
    double want = r == CT_REDUCTION_SUM ? s : s / denom;
    tu_assert_values(got, CT_SHAPE(), &want, rtol_of(dtype), atol_of(dtype));
}

/* An int tensor of `shape` holding vals (row-major) laid out as `layout` (a writable one). */
static ct_tensor *int_tensor(uint64_t *st, const int64_t *vals, ct_shape shape, ct_dtype dtype, tu_layout layout) {
    ct_tensor *src = ct_to_dtype(ct_from_data(vals, shape, CT_I64), dtype);
    if (shape.ndim == 0) return src;
    ct_tensor *t = tu_random(st, shape, dtype, layout, 0, 0);
    return ct_copy_(t, src);
}

/* ---- regression losses ------------------------------------------------------------------------- */

typedef enum { MSE, L1, SMOOTH_L1, HUBER } regression;

static double ref_regression(regression kind, double d, double param) {
    double z = fabs(d);
    switch (kind) {
    case MSE: return d * d;
    case L1: return z;
    case SMOOTH_L1: return param == 0 ? z : z < param ? 0.5 * z * z / param : z - 0.5 * param;
    default: return z < param ? 0.5 * z * z : param * (z - 0.5 * param);
    }
}

static ct_tensor *run_regression(regression kind, const ct_tensor *x, const ct_tensor *t, ct_reduction r, double param) {
    switch (kind) {
    case MSE: return ct_mse_loss(x, t, .reduction = r);
    case L1: return ct_l1_loss(x, t, .reduction = r);
    case SMOOTH_L1: return ct_smooth_l1_loss(x, t, .reduction = r, .beta = param);
    default: return ct_huber_loss(x, t, .reduction = r, .delta = param);
    }
}

static void check_regression(regression kind, double param, ct_dtype dtype) {
    uint64_t st = 7;
    for (int layout = 0; layout < TU_NUM_LAYOUTS; layout++)
        for (int ri = 0; ri < N_REDUCTIONS; ri++) CT_SCOPE {
                double xv[12], tv[12], elem[12];
                ct_tensor *x = tu_random(&st, CT_SHAPE(3, 4), dtype, (tu_layout)layout, -2, 2);
                ct_tensor *t = tu_random(&st, CT_SHAPE(3, 4), dtype, (tu_layout)((layout + 1) % TU_NUM_LAYOUTS), -2, 2);
                ct_copy_to_f64(x, xv, 12), ct_copy_to_f64(t, tv, 12);
                for (int i = 0; i < 12; i++) elem[i] = ref_regression(kind, xv[i] - tv[i], param);
                assert_reduced(run_regression(kind, x, t, reductions[ri], param), reductions[ri], CT_SHAPE(3, 4), elem, 12, 12, dtype);
            }
}

static void test_mse_l1(void **state) {
    (void)state;
    for (int d = 0; d < 2; d++) {
        ct_dtype dtype = d ? CT_F32 : CT_F64;
        check_regression(MSE, 0, dtype);
        check_regression(L1, 0, dtype);
    }
}

static void test_smooth_l1_huber(void **state) {
    (void)state;
    for (int d = 0; d < 2; d++) {
        ct_dtype dtype = d ? CT_F32 : CT_F64;
        check_regression(SMOOTH_L1, 1.0, dtype);
        check_regression(SMOOTH_L1, 0.5, dtype);
        check_regression(SMOOTH_L1, 0.0, dtype);
        check_regression(HUBER, 1.0, dtype);
        check_regression(HUBER, 2.5, dtype);
    }
    /* defaults: beta = delta = 1, mean */
    ct_tensor *x = ct_from_data((double[]){0.5, 3}, CT_SHAPE(2), CT_F64), *t = ct_zeros(CT_SHAPE(2), .dtype = CT_F64);
    double want_smooth = (0.125 + 2.5) / 2, want_huber = (0.125 + 2.5) / 2;
    tu_assert_values(ct_smooth_l1_loss(x, t), CT_SHAPE(), &want_smooth, 1e-15, 0);
    tu_assert_values(ct_huber_loss(x, t), CT_SHAPE(), &want_huber, 1e-15, 0);
}

/* Captures the last logged warning. */
static char last_warning[512];
static void capture_warning(ct_log_level level, const char *message, void *user) {
    (void)user;
    if (level == CT_LOG_WARN) snprintf(last_warning, sizeof last_warning, "%s", message);
}

/* A [3, 1] target broadcasts over a [3, 4] input (PyTorch warns, so does ctorch's log); the mean is
 * over 12 elements, and the mixed f32 input / f64 target promotes to f64. */
static void test_regression_broadcast_and_promotion(void **state) {
    (void)state;
    ct_log_set_handler(capture_warning, NULL);
    uint64_t st = 3;
    ct_tensor *x = tu_random(&st, CT_SHAPE(3, 4), CT_F64, TU_CONTIGUOUS, -2, 2);
    ct_tensor *t = tu_random(&st, CT_SHAPE(3, 1), CT_F64, TU_CONTIGUOUS, -2, 2);
    double *xv = tu_values(x), *tv = tu_values(t), elem[12];
    for (int i = 0; i < 12; i++) elem[i] = (xv[i] - tv[i / 4]) * (xv[i] - tv[i / 4]);
    last_warning[0] = 0;
    assert_reduced(ct_mse_loss(x, t), CT_REDUCTION_MEAN, CT_SHAPE(), elem, 12, 12, CT_F64);
    assert_non_null(strstr(last_warning, "mse_loss: Using a target size (torch.Size([3, 1])) that is different to the input size "
                                         "(torch.Size([3, 4])). This will likely lead to incorrect results due to broadcasting."));
    assert_reduced(ct_mse_loss(x, t, .reduction = CT_REDUCTION_NONE), CT_REDUCTION_NONE, CT_SHAPE(3, 4), elem, 12, 12, CT_F64);
    ct_tensor *y = ct_mse_loss(ct_to_dtype(x, CT_F32), t);
    assert_non_null(y);
    assert_int_equal(ct_dtype_of(y), CT_F64);
    /* empty: mean is nan, sum 0 */
    ct_tensor *e = ct_zeros(CT_SHAPE(0, 5));
    assert_true(isnan(ct_item(ct_mse_loss(e, e))));
    assert_true(ct_item(ct_l1_loss(e, e, .reduction = CT_REDUCTION_SUM)) == 0);
    ct_log_set_handler(NULL, NULL);
}

/* ---- class-index losses ------------------------------------------------------------------------ */

/* Reference nll_loss / cross_entropy over x [N, C, S] (row-major; S the product of the spatial
 * sizes) with targets t [N, S]: elem gets each target's loss (0 where ignored), *denom the mean's
 * denominator (total weight of non-ignored targets, their count without weight). logits: x holds
 * scores (cross_entropy, log_softmax taken here), else log-probabilities (nll_loss). */
static void ref_class(const double *x, int64_t N, int64_t C, int64_t S, const int64_t *t, const double *w, int64_t ignore, double ls,
                      bool logits, double *elem, double *denom) {
    double *logp = malloc((size_t)(C ? C : 1) * sizeof *logp);
    *denom = 0;
    for (int64_t n = 0; n < N; n++)
        for (int64_t s = 0; s < S; s++) {
            double mx = -INFINITY, z = 0;
            for (int64_t c = 0; c < C; c++) logp[c] = x[(n * C + c) * S + s], mx = fmax(mx, logp[c]);
            if (logits) {
                for (int64_t c = 0; c < C; c++) z += exp(logp[c] - mx);
                for (int64_t c = 0; c < C; c++) logp[c] -= mx + log(z);
            }
            int64_t k = t[n * S + s];
            if (k == ignore) {
                elem[n * S + s] = 0;
                continue;
            }
            double wk = w ? w[k] : 1, smooth = 0;
            for (int64_t c = 0; c < C; c++) smooth -= (w ? w[c] : 1) * logp[c];
            elem[n * S + s] = (1 - ls) * -wk * logp[k] + ls / (double)C * smooth;
            *denom += wk;
        }
    free(logp);
}

static const double class_weights[] = {0.5, 2.0, 1.0, 0.25, 3.0, 1.5, 0.75};

typedef struct class_opts {
    bool logits;        /* cross_entropy, else nll_loss */
    ct_dtype tdtype;    /* CT_I64 or CT_I32 */
    bool weighted;      /* class_weights[:C] */
    int64_t ignore;     /* ignore_index */
    double ls;          /* label smoothing (cross_entropy) */
} class_opts;

static ct_tensor *run_class(const class_opts *o, const ct_tensor *x, const ct_tensor *t, const ct_tensor *w, ct_reduction r) {
    if (o->logits)
        return ct_cross_entropy(x, t, .weight = w, .ignore_index = o->ignore, .reduction = r, .label_smoothing = o->ls);
    return ct_nll_loss(x, t, .weight = w, .ignore_index = o->ignore, .reduction = r);
}

/* Checks one loss configuration over every layout of x, each reduction, f64 and f32. tvals holds
 * the targets of input shape xs without its class dim. */
static void check_class(const class_opts *o, ct_shape xs, const int64_t *tvals) {
    int nd = xs.ndim;
    int64_t N = nd == 1 ? 1 : xs.d[0], C = xs.d[nd == 1 ? 0 : 1], S = 1;
    ct_shape ts = {.ndim = nd == 1 ? 0 : nd - 1};
    if (nd > 1) ts.d[0] = N;
    for (int i = 2; i < nd; i++) S *= xs.d[i], ts.d[i - 1] = xs.d[i];
    double *elem = malloc((size_t)(N * S) * sizeof *elem), denom;
    uint64_t st = 11;
    for (int d = 0; d < 2; d++)
        for (int layout = 0; layout < TU_NUM_LAYOUTS; layout++)
            for (int ri = 0; ri < N_REDUCTIONS; ri++) CT_SCOPE {
                    ct_dtype dtype = d ? CT_F32 : CT_F64;
                    ct_tensor *x = tu_random(&st, xs, dtype, (tu_layout)layout, -3, 3);
                    ct_tensor *t = int_tensor(&st, tvals, ts, o->tdtype, (tu_layout)(layout % TU_NUM_WRITABLE_LAYOUTS));
                    ct_tensor *w = o->weighted ? ct_to_dtype(ct_from_data(class_weights, CT_SHAPE(C), CT_F64), dtype) : NULL;
                    ref_class(tu_values(x), N, C, S, tvals, o->weighted ? class_weights : NULL, o->ignore, o->ls, o->logits, elem, &denom);
                    ct_tensor *got = run_class(o, x, t, w, reductions[ri]);
                    if (!got) fail_msg("%s failed: %s", o->logits ? "cross_entropy" : "nll_loss", ct_last_error());
                    assert_reduced(got, reductions[ri], ts, elem, N * S, denom, dtype);
                }
    free(elem);
}

/* Every combination of weight, ignore_index (none hit, some hit, a class index as ignore_index),
 * label smoothing and target dtype on [N, C] inputs. */
static void test_class_2d(void **state) {
    (void)state;
    static const int64_t none_ignored[] = {1, 0, 4, 2, 3, 1};
    static const int64_t some_ignored[] = {1, -100, 4, -100, 3, 0};
    static const int64_t class_ignored[] = {2, 0, 2, 1, 4, 2}; /* ignore_index = 2 */
    for (int logits = 0; logits < 2; logits++)
        for (int weighted = 0; weighted < 2; weighted++)
            for (int lsi = 0; lsi < (logits ? 2 : 1); lsi++) {
                class_opts o = {logits, CT_I64, weighted, -100, lsi ? 0.3 : 0};
                check_class(&o, CT_SHAPE(6, 5), none_ignored);
                check_class(&o, CT_SHAPE(6, 5), some_ignored);
                o.ignore = 2;
                check_class(&o, CT_SHAPE(6, 5), class_ignored);
                o.ignore = -100, o.tdtype = CT_I32;
                check_class(&o, CT_SHAPE(6, 5), some_ignored);
            }
}

/* [N, C, H, W], [N, C, L], [N, C, D, H, W] and [C] with a 0-d target. */
static void test_class_nd(void **state) {
    (void)state;
    int64_t t4[2 * 3 * 2], t3[2 * 4], t5[2 * 2 * 2 * 3], t1[] = {3};
    for (int i = 0; i < 12; i++) t4[i] = i % 5 == 3 ? -100 : (i * 7) % 4;
    for (int i = 0; i < 8; i++) t3[i] = i == 5 ? -100 : (i * 3) % 3;
    for (int i = 0; i < 24; i++) t5[i] = i % 7 == 2 ? -100 : (i * 5) % 2;
    for (int logits = 0; logits < 2; logits++)
        for (int weighted = 0; weighted < 2; weighted++)
            for (int lsi = 0; lsi < (logits ? 2 : 1); lsi++) {
                class_opts o = {logits, CT_I64, weighted, -100, lsi ? 0.2 : 0};
                check_class(&o, CT_SHAPE(2, 4, 3, 2), t4);
                check_class(&o, CT_SHAPE(2, 3, 4), t3);
                check_class(&o, CT_SHAPE(2, 2, 2, 2, 3), t5);
                check_class(&o, CT_SHAPE(5), t1);
            }
}

/* All targets ignored: the mean is 0/0 = nan (PyTorch), the sum 0, each element 0. */
static void test_class_all_ignored(void **state) {
    (void)state;
    uint64_t st = 5;
    ct_tensor *x = tu_random(&st, CT_SHAPE(3, 4), CT_F64, TU_CONTIGUOUS, -2, 2);
    ct_tensor *t = ct_full(CT_SHAPE(3), -100, .dtype = CT_I64);
    ct_tensor *w = ct_from_data(class_weights, CT_SHAPE(4), CT_F64);
    assert_true(isnan(ct_item(ct_cross_entropy(x, t))));
    assert_true(isnan(ct_item(ct_cross_entropy(x, t, .weight = w))));
    assert_true(isnan(ct_item(ct_cross_entropy(x, t, .label_smoothing = 0.1))));
    assert_true(isnan(ct_item(ct_cross_entropy(x, t, .weight = w, .label_smoothing = 0.1))));
    assert_true(isnan(ct_item(ct_nll_loss(x, t))));
    assert_true(ct_item(ct_cross_entropy(x, t, .reduction = CT_REDUCTION_SUM, .label_smoothing = 0.1)) == 0);
    double zeros[3] = {0, 0, 0};
    tu_assert_values(ct_nll_loss(x, t, .weight = w, .reduction = CT_REDUCTION_NONE), CT_SHAPE(3), zeros, 0, 0);
    /* the gradient of the nan mean is nan, of the sum zero */
    ct_tensor *xl = ct_requires_grad_(ct_clone(x), true);
    assert_true(ct_backward(ct_cross_entropy(xl, t, .reduction = CT_REDUCTION_SUM)));
    double gz[12] = {0};
    tu_assert_values(ct_grad(xl), CT_SHAPE(3, 4), gz, 0, 0);
    /* an empty batch: mean nan, sum 0 */
    ct_tensor *e = ct_zeros(CT_SHAPE(0, 4)), *te = ct_zeros(CT_SHAPE(0), .dtype = CT_I64);
    assert_true(isnan(ct_item(ct_cross_entropy(e, te))));
    assert_true(isnan(ct_item(ct_cross_entropy(e, te, .label_smoothing = 0.1))));
    assert_true(ct_item(ct_nll_loss(e, te, .reduction = CT_REDUCTION_SUM)) == 0);
    assert_true(isnan(ct_item(ct_cross_entropy(e, ct_zeros(CT_SHAPE(0, 4))))));
}

/* Values PyTorch 1.13 printed for fixed inputs: the weighted mean with an ignored target and label
 * smoothing (normalized by the non-ignored targets' weights), and the other losses' options. */
static void test_class_known_values(void **state) {
    (void)state;
    ct_tensor *x = ct_from_data((double[]){0.1, -1.2, 0.7, 2.0, 0.3, -0.5, 1.1, 0.0, -0.3, 0.9, 1.5, -2.0}, CT_SHAPE(3, 4), CT_F64);
    ct_tensor *t = ct_from_data((int64_t[]){3, -100, 0}, CT_SHAPE(3), CT_I64);
    ct_tensor *w = ct_from_data((double[]){1, 2, 3, 4}, CT_SHAPE(4), CT_F64);
    /* torch.nn.functional.cross_entropy(x, t, weight=w, label_smoothing=0.2) etc. */
    double want_ce = 1.36837653731059, want_wls = 1.00614550121717, want_ls = 1.49587653731059;
    tu_assert_values(ct_cross_entropy(x, t), CT_SHAPE(), &want_ce, 1e-11, 0);
    tu_assert_values(ct_cross_entropy(x, t, .weight = w, .label_smoothing = 0.2), CT_SHAPE(), &want_wls, 1e-11, 0);
    tu_assert_values(ct_cross_entropy(x, t, .label_smoothing = 0.2), CT_SHAPE(), &want_ls, 1e-11, 0);
    /* the other losses' options on the same numbers */
    ct_tensor *p = ct_from_data((double[]){0.1, 0.2, 0.3, 0.4, 0.5, 0.5, 0, 0, 0.25, 0.25, 0.25, 0.25}, CT_SHAPE(3, 4), CT_F64);
    ct_tensor *x4 = ct_repeat(ct_view(x, CT_SHAPE(1, 4, 3, 1)), CT_SHAPE(2, 1, 1, 1));
    ct_tensor *t4 = ct_from_data((int64_t[]){0, 3, -100, 1, 1, 2}, CT_SHAPE(2, 3, 1), CT_I64);
    ct_tensor *rows = ct_from_data((double[]){0.5, 1, 2}, CT_SHAPE(3, 1), CT_F64);
    struct {
        ct_tensor *got;
        double want;
    } known[] = {
        {ct_cross_entropy(x, p, .weight = w, .label_smoothing = 0.3), 4.25043854490807},
        {ct_cross_entropy(x4, t4, .weight = w, .label_smoothing = 0.1), 1.19247658831863},
        {ct_binary_cross_entropy_with_logits(x, p, .weight = rows, .pos_weight = w), 1.40236447803960},
        {ct_kl_div(ct_sub_scalar(x, 2), p, .reduction = CT_REDUCTION_BATCHMEAN), 0.64523474416217},
        {ct_binary_cross_entropy(ct_sigmoid(x), p, .weight = w), 2.33032921400380},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) tu_assert_values(known[i].got, CT_SHAPE(), &known[i].want, 1e-12, 0);
}

/* Class probabilities: target of the input's shape, smoothed, weighted; mean over rows. */
static void test_cross_entropy_probs(void **state) {
    (void)state;
    static const ct_shape shapes[] = {CT_SHAPE(4, 5), CT_SHAPE(2, 3, 2, 2), CT_SHAPE(5)};
    uint64_t st = 13;
    for (size_t si = 0; si < 3; si++)
        for (int d = 0; d < 2; d++)
            for (int weighted = 0; weighted < 2; weighted++)
                for (int lsi = 0; lsi < 2; lsi++)
                    for (int layout = 0; layout < TU_NUM_LAYOUTS; layout++)
                        for (int ri = 0; ri < N_REDUCTIONS; ri++) CT_SCOPE {
                                ct_shape xs = shapes[si];
                                ct_dtype dtype = d ? CT_F32 : CT_F64;
                                double ls = lsi ? 0.25 : 0;
                                int nd = xs.ndim;
                                int64_t N = nd == 1 ? 1 : xs.d[0], C = xs.d[nd == 1 ? 0 : 1], S = 1;
                                ct_shape rs = {.ndim = nd == 1 ? 0 : nd - 1};
                                if (nd > 1) rs.d[0] = N;
                                for (int i = 2; i < nd; i++) S *= xs.d[i], rs.d[i - 1] = xs.d[i];
                                ct_tensor *x = tu_random(&st, xs, dtype, (tu_layout)layout, -3, 3);
                                ct_tensor *t = tu_random(&st, xs, dtype, (tu_layout)((layout + 2) % TU_NUM_LAYOUTS), 0, 1);
                                ct_tensor *w = weighted ? ct_to_dtype(ct_from_data(class_weights, CT_SHAPE(C), CT_F64), dtype) : NULL;
                                double *xv = tu_values(x), *tv = tu_values(t), elem[64];
                                for (int64_t n = 0; n < N; n++)
                                    for (int64_t s = 0; s < S; s++) {
                                        double mx = -INFINITY, z = 0, acc = 0;
                                        for (int64_t c = 0; c < C; c++) mx = fmax(mx, xv[(n * C + c) * S + s]);
                                        for (int64_t c = 0; c < C; c++) z += exp(xv[(n * C + c) * S + s] - mx);
                                        for (int64_t c = 0; c < C; c++) {
                                            double lp = xv[(n * C + c) * S + s] - mx - log(z);
                                            double tt = tv[(n * C + c) * S + s] * (1 - ls) + ls / (double)C;
                                            acc -= (weighted ? class_weights[c] : 1) * tt * lp;
                                        }
                                        elem[n * S + s] = acc;
                                    }
                                ct_tensor *got = ct_cross_entropy(x, t, .weight = w, .reduction = reductions[ri], .label_smoothing = ls);
                                assert_reduced(got, reductions[ri], rs, elem, N * S, (double)(N * S), dtype);
                            }
}

/* ---- binary losses ----------------------------------------------------------------------------- */

static void test_binary_cross_entropy(void **state) {
    (void)state;
    uint64_t st = 17;
    for (int d = 0; d < 2; d++)
        for (int weighted = 0; weighted < 3; weighted++)
            for (int layout = 0; layout < TU_NUM_LAYOUTS; layout++)
                for (int ri = 0; ri < N_REDUCTIONS; ri++) CT_SCOPE {
                        ct_dtype dtype = d ? CT_F32 : CT_F64;
                        ct_tensor *x = tu_random(&st, CT_SHAPE(3, 4), dtype, (tu_layout)layout, 0.01, 0.99);
                        ct_tensor *t = tu_random(&st, CT_SHAPE(3, 4), dtype, (tu_layout)((layout + 1) % TU_NUM_LAYOUTS), 0, 1);
                        /* weight [4] broadcast over rows, or a full [3, 4] */
                        ct_tensor *w = weighted == 1   ? tu_random(&st, CT_SHAPE(4), dtype, TU_CONTIGUOUS, 0, 2)
                                       : weighted == 2 ? tu_random(&st, CT_SHAPE(3, 4), dtype, TU_STEPPED, 0, 2)
                                                       : NULL;
                        double *xv = tu_values(x), *tv = tu_values(t), *wv = w ? tu_values(w) : NULL, elem[12];
                        for (int i = 0; i < 12; i++) {
                            double wi = weighted == 1 ? wv[i % 4] : weighted == 2 ? wv[i] : 1;
                            elem[i] = -wi * (tv[i] * fmax(log(xv[i]), -100) + (1 - tv[i]) * fmax(log(1 - xv[i]), -100));
                        }
                        ct_tensor *got = ct_binary_cross_entropy(x, t, .weight = w, .reduction = reductions[ri]);
                        assert_reduced(got, reductions[ri], CT_SHAPE(3, 4), elem, 12, 12, dtype);
                    }
    /* logs clamped at -100: certain wrong answers cost 100, and the gradient stays finite */
    ct_tensor *x = ct_requires_grad_(ct_from_data((double[]){0, 1, 0, 1}, CT_SHAPE(4), CT_F64), true);
    ct_tensor *t = ct_from_data((double[]){1, 0, 0, 1}, CT_SHAPE(4), CT_F64);
    double want[] = {100, 100, 0, 0};
    ct_tensor *y = ct_binary_cross_entropy(x, t, .reduction = CT_REDUCTION_NONE);
    tu_assert_values(y, CT_SHAPE(4), want, 0, 0);
    assert_true(ct_backward(ct_sum(y)));
    double *g = tu_values(ct_grad(x));
    for (int i = 0; i < 4; i++) assert_true(isfinite(g[i]));
}

static void test_binary_cross_entropy_with_logits(void **state) {
    (void)state;
    uint64_t st = 19;
    for (int d = 0; d < 2; d++)
        for (int weighted = 0; weighted < 2; weighted++)
            for (int pos = 0; pos < 2; pos++)
                for (int layout = 0; layout < TU_NUM_LAYOUTS; layout++)
                    for (int ri = 0; ri < N_REDUCTIONS; ri++) CT_SCOPE {
                            ct_dtype dtype = d ? CT_F32 : CT_F64;
                            /* logits up to +-60: exp(60) would overflow a naive f32 formula's sum */
                            ct_tensor *x = tu_random(&st, CT_SHAPE(3, 4), dtype, (tu_layout)layout, -60, 60);
                            ct_tensor *t = tu_random(&st, CT_SHAPE(3, 4), dtype, (tu_layout)((layout + 3) % TU_NUM_LAYOUTS), 0, 1);
                            ct_tensor *w = weighted ? tu_random(&st, CT_SHAPE(3, 1), dtype, TU_CONTIGUOUS, 0, 2) : NULL;
                            ct_tensor *pw = pos ? tu_random(&st, CT_SHAPE(4), dtype, TU_STEPPED, 0.5, 3) : NULL;
                            double *xv = tu_values(x), *tv = tu_values(t), *wv = w ? tu_values(w) : NULL, *pv = pw ? tu_values(pw) : NULL;
                            double elem[12];
                            for (int i = 0; i < 12; i++) {
                                /* -log(sigmoid(x)) = max(-x, 0) + log1p(exp(-|x|)) */
                                double nls = fmax(-xv[i], 0) + log1p(exp(-fabs(xv[i])));
                                double p = pv ? pv[i % 4] : 1;
                                elem[i] = (wv ? wv[i / 4] : 1) * ((1 - tv[i]) * xv[i] + (1 + (p - 1) * tv[i]) * nls);
                            }
                            ct_tensor *got = ct_binary_cross_entropy_with_logits(x, t, .weight = w, .pos_weight = pw, .reduction = reductions[ri]);
                            assert_reduced(got, reductions[ri], CT_SHAPE(3, 4), elem, 12, 12, dtype);
                        }
    /* extreme logits in f32: finite, and ~|x| for the wrong sign */
    ct_tensor *x = ct_from_data((float[]){200, -200, 0}, CT_SHAPE(3), CT_F32);
    ct_tensor *t = ct_from_data((float[]){0, 1, 1}, CT_SHAPE(3), CT_F32);
    double want[] = {200, 200, log(2.0)};
    tu_assert_values(ct_binary_cross_entropy_with_logits(x, t, .reduction = CT_REDUCTION_NONE), CT_SHAPE(3), want, 1e-6, 0);
}

/* ---- kl_div ------------------------------------------------------------------------------------ */

static void test_kl_div(void **state) {
    (void)state;
    static const ct_reduction kl_reductions[] = {CT_REDUCTION_MEAN, CT_REDUCTION_SUM, CT_REDUCTION_NONE, CT_REDUCTION_BATCHMEAN};
    uint64_t st = 23;
    for (int d = 0; d < 2; d++)
        for (int log_target = 0; log_target < 2; log_target++)
            for (int layout = 0; layout < TU_NUM_LAYOUTS; layout++)
                for (int ri = 0; ri < 4; ri++) CT_SCOPE {
                        ct_dtype dtype = d ? CT_F32 : CT_F64;
                        ct_reduction r = kl_reductions[ri];
                        ct_tensor *x = tu_random(&st, CT_SHAPE(3, 4), dtype, (tu_layout)layout, -3, 0);
                        ct_tensor *t = log_target ? tu_random(&st, CT_SHAPE(3, 4), dtype, TU_TRANSPOSED, -3, 0)
                                                  : ct_relu(tu_random(&st, CT_SHAPE(3, 4), dtype, TU_TRANSPOSED, -0.3, 1));
                        double *xv = tu_values(x), *tv = tu_values(t), elem[12];
                        for (int i = 0; i < 12; i++)
                            elem[i] = log_target ? exp(tv[i]) * (tv[i] - xv[i]) : (tv[i] == 0 ? 0 : tv[i] * log(tv[i])) - tv[i] * xv[i];
                        ct_tensor *got = ct_kl_div(x, t, .reduction = r, .log_target = log_target);
                        if (r == CT_REDUCTION_BATCHMEAN)
                            assert_reduced(got, CT_REDUCTION_MEAN, CT_SHAPE(), elem, 12, 3, dtype);
                        else
                            assert_reduced(got, r, CT_SHAPE(3, 4), elem, 12, 12, dtype);
                    }
    /* batchmean of a 0-d input is the sum; a zero target contributes 0, also to the gradient */
    ct_tensor *x = ct_scalar_tensor(-0.5, .dtype = CT_F64);
    ct_tensor *t = ct_requires_grad_(ct_scalar_tensor(0, .dtype = CT_F64), true);
    ct_tensor *y = ct_kl_div(x, t, .reduction = CT_REDUCTION_BATCHMEAN);
    double zero = 0;
    tu_assert_values(y, CT_SHAPE(), &zero, 0, 0);
    assert_true(ct_backward(y));
    assert_true(isfinite(ct_item(ct_grad(t))));
}

/* ---- gradients --------------------------------------------------------------------------------- */

typedef struct grad_user {
    int which;
    ct_reduction r;
    const ct_tensor *target; /* class indices */
    const ct_tensor *weight, *pos_weight;
    double param;
    int64_t ignore;
} grad_user;

enum { G_MSE, G_L1, G_SMOOTH, G_HUBER, G_CE, G_NLL, G_CE_PROBS, G_BCE, G_BCE_LOGITS, G_KL, G_KL_LOG };

static ct_tensor *loss_fn(ct_tensor *const *in, void *user) {
    const grad_user *u = user;
    switch (u->which) {
    case G_MSE: return ct_mse_loss(in[0], in[1], .reduction = u->r);
    case G_L1: return ct_l1_loss(in[0], in[1], .reduction = u->r);
    case G_SMOOTH: return ct_smooth_l1_loss(in[0], in[1], .reduction = u->r, .beta = u->param);
    case G_HUBER: return ct_huber_loss(in[0], in[1], .reduction = u->r, .delta = u->param);
    case G_CE:
        return ct_cross_entropy(in[0], u->target, .weight = u->weight, .ignore_index = u->ignore, .reduction = u->r,
                                .label_smoothing = u->param);
    case G_NLL: return ct_nll_loss(in[0], u->target, .weight = u->weight, .ignore_index = u->ignore, .reduction = u->r);
    case G_CE_PROBS: return ct_cross_entropy(in[0], in[1], .weight = u->weight, .reduction = u->r, .label_smoothing = u->param);
    case G_BCE: return ct_binary_cross_entropy(in[0], in[1], .weight = u->weight, .reduction = u->r);
    case G_BCE_LOGITS:
        return ct_binary_cross_entropy_with_logits(in[0], in[1], .weight = u->weight, .pos_weight = u->pos_weight, .reduction = u->r);
    case G_KL: return ct_kl_div(in[0], in[1], .reduction = u->r);
    default: return ct_kl_div(in[0], in[1], .reduction = u->r, .log_target = true);
    }
}

static void test_gradcheck(void **state) {
    (void)state;
    ct_tensor *t2 = ct_from_data((int64_t[]){1, -100, 4, 0}, CT_SHAPE(4), CT_I64);
    ct_tensor *t4 = ct_from_data((int64_t[]){0, 2, -100, 1, 2, 2, 1, 0}, CT_SHAPE(2, 2, 2), CT_I64);
    ct_tensor *t4b = ct_from_data((int64_t[]){0, 2, 2, 1, 2, 0, 1, 0}, CT_SHAPE(2, 2, 2), CT_I64);
    ct_tensor *t0 = ct_scalar_tensor(2, .dtype = CT_I64);
    ct_tensor *w5 = ct_from_data(class_weights, CT_SHAPE(5), CT_F64), *w3 = ct_from_data(class_weights, CT_SHAPE(3), CT_F64);
    ct_tensor *w4 = ct_from_data((double[]){0.5, 1, 2, 1.5}, CT_SHAPE(4), CT_F64);
    for (int ri = 0; ri < N_REDUCTIONS; ri++) {
        ct_reduction r = reductions[ri];
        grad_user u[] = {
            {.which = G_MSE, .r = r},
            {.which = G_L1, .r = r},
            {.which = G_SMOOTH, .r = r, .param = 0.7},
            {.which = G_HUBER, .r = r, .param = 1.3},
            {.which = G_CE, .r = r, .target = t2, .ignore = -100},
            {.which = G_CE, .r = r, .target = t2, .weight = w5, .ignore = -100, .param = 0.3},
            {.which = G_CE, .r = r, .target = t4, .weight = w3, .ignore = -100, .param = 0.1},
            {.which = G_CE, .r = r, .target = t0, .ignore = -100, .param = 0.2},
            {.which = G_NLL, .r = r, .target = t2, .weight = w5, .ignore = -100},
            {.which = G_NLL, .r = r, .target = t4b, .ignore = 2},
            {.which = G_CE_PROBS, .r = r},
            {.which = G_CE_PROBS, .r = r, .weight = w4, .param = 0.4},
            {.which = G_BCE, .r = r},
            {.which = G_BCE, .r = r, .weight = w4},
            {.which = G_BCE_LOGITS, .r = r},
            {.which = G_BCE_LOGITS, .r = r, .weight = w4, .pos_weight = w4},
            {.which = G_KL, .r = r},
            {.which = G_KL_LOG, .r = r},
            {.which = G_CE, .r = r, .target = t4, .ignore = -100, .param = 0.1}, /* the fused kernel, spatial */
        };
        tu_grad_case cases[] = {
            {"mse", loss_fn, &u[0], 2, {CT_SHAPE(3, 4), CT_SHAPE(3, 4)}, 0, 0},
            {"l1", loss_fn, &u[1], 2, {CT_SHAPE(3, 4), CT_SHAPE(3, 4)}, 0, 0},
            {"smooth_l1", loss_fn, &u[2], 2, {CT_SHAPE(3, 4), CT_SHAPE(3, 4)}, 0, 0},
            {"huber", loss_fn, &u[3], 2, {CT_SHAPE(3, 4), CT_SHAPE(3, 4)}, 0, 0},
            {"cross_entropy", loss_fn, &u[4], 1, {CT_SHAPE(4, 5)}, 0, 0},
            {"cross_entropy weighted smoothed", loss_fn, &u[5], 1, {CT_SHAPE(4, 5)}, 0, 0},
            {"cross_entropy 4-d", loss_fn, &u[6], 1, {CT_SHAPE(2, 3, 2, 2)}, 0, 0},
            {"cross_entropy [C]", loss_fn, &u[7], 1, {CT_SHAPE(4)}, 0, 0},
            {"nll_loss weighted", loss_fn, &u[8], 1, {CT_SHAPE(4, 5)}, 0, 0},
            {"nll_loss 4-d", loss_fn, &u[9], 1, {CT_SHAPE(2, 3, 2, 2)}, 0, 0},
            {"cross_entropy probs", loss_fn, &u[10], 2, {CT_SHAPE(3, 4), CT_SHAPE(3, 4)}, 0, 0},
            {"cross_entropy probs weighted", loss_fn, &u[11], 2, {CT_SHAPE(3, 4), CT_SHAPE(3, 4)}, 0, 0},
            {"bce", loss_fn, &u[12], 2, {CT_SHAPE(3, 4), CT_SHAPE(3, 4)}, 0.05, 0.95},
            {"bce weighted", loss_fn, &u[13], 2, {CT_SHAPE(3, 4), CT_SHAPE(3, 4)}, 0.05, 0.95},
            {"bce_with_logits", loss_fn, &u[14], 2, {CT_SHAPE(3, 4), CT_SHAPE(3, 4)}, 0, 0},
            {"bce_with_logits weighted", loss_fn, &u[15], 2, {CT_SHAPE(3, 4), CT_SHAPE(3, 4)}, 0, 0},
            {"kl_div", loss_fn, &u[16], 2, {CT_SHAPE(3, 4), CT_SHAPE(3, 4)}, 0.05, 1},
            {"kl_div log_target", loss_fn, &u[17], 2, {CT_SHAPE(3, 4), CT_SHAPE(3, 4)}, 0, 0},
            {"cross_entropy 4-d smoothed ignored", loss_fn, &u[18], 1, {CT_SHAPE(2, 3, 2, 2)}, 0, 0},
        };
        TU_GRADCHECK_TABLE(cases);
    }
}

/* f32 inputs get f32 losses and f32 gradients close to the f64 ones. */
static void test_f32_gradients(void **state) {
    (void)state;
    uint64_t st = 29;
    ct_tensor *x64 = ct_requires_grad_(tu_random(&st, CT_SHAPE(6, 5), CT_F64, TU_CONTIGUOUS, -3, 3), true);
    ct_tensor *x32 = ct_requires_grad_(ct_to_dtype(ct_detach(x64), CT_F32), true);
    ct_tensor *t = ct_from_data((int64_t[]){1, -100, 4, 2, 0, 3}, CT_SHAPE(6), CT_I64);
    ct_tensor *w = ct_from_data(class_weights, CT_SHAPE(5), CT_F64);
    assert_true(ct_backward(ct_cross_entropy(x64, t, .weight = w, .label_smoothing = 0.1)));
    ct_tensor *y32 = ct_cross_entropy(x32, t, .weight = ct_to_dtype(w, CT_F32), .label_smoothing = 0.1);
    assert_int_equal(ct_dtype_of(y32), CT_F32);
    assert_true(ct_backward(y32));
    assert_int_equal(ct_dtype_of(ct_grad(x32)), CT_F32);
    tu_assert_values(ct_grad(x32), CT_SHAPE(6, 5), tu_values(ct_grad(x64)), 1e-5, 1e-6);
}

/* ---- errors ------------------------------------------------------------------------------------ */

static void test_errors(void **state) {
    (void)state;
    ct_tensor *x = ct_zeros(CT_SHAPE(3, 5)), *t = ct_from_data((int64_t[]){1, 12, 2}, CT_SHAPE(3), CT_I64);
    assert_null(ct_cross_entropy(x, t));
    tu_assert_error(CT_ERR_INDEX, "Target 12 is out of bounds.");
    assert_null(ct_nll_loss(x, ct_from_data((int64_t[]){1, -1, 2}, CT_SHAPE(3), CT_I64)));
    tu_assert_error(CT_ERR_INDEX, "Target -1 is out of bounds.");
    /* -100 is ignored, not out of bounds; with another ignore_index it is */
    assert_non_null(ct_nll_loss(x, ct_from_data((int64_t[]){1, -100, 2}, CT_SHAPE(3), CT_I64)));
    assert_null(ct_nll_loss(x, ct_from_data((int64_t[]){1, -100, 2}, CT_SHAPE(3), CT_I64), .ignore_index = 1));
    tu_assert_error(CT_ERR_INDEX, "Target -100 is out of bounds.");
    assert_null(ct_cross_entropy(x, ct_zeros(CT_SHAPE(2), .dtype = CT_I64)));
    tu_assert_error(CT_ERR_SHAPE, "Expected input batch_size (3) to match target batch_size (2).");
    assert_null(ct_cross_entropy(x, ct_zeros(CT_SHAPE(3, 2), .dtype = CT_I64)));
    tu_assert_error(CT_ERR_SHAPE, "0D or 1D target tensor expected, multi-target not supported");
    assert_null(ct_nll_loss(ct_zeros(CT_SHAPE(5)), ct_zeros(CT_SHAPE(2), .dtype = CT_I64)));
    tu_assert_error(CT_ERR_SHAPE, "size mismatch (got input: [5], target: [2])");
    assert_null(ct_nll_loss(ct_scalar_tensor(1), ct_scalar_tensor(1, .dtype = CT_I64)));
    tu_assert_error(CT_ERR_SHAPE, "Expected 1 or more dimensions (got 0)");
    assert_null(ct_cross_entropy(ct_zeros(CT_SHAPE(2, 3, 4, 5)), ct_zeros(CT_SHAPE(2, 4, 4), .dtype = CT_I64)));
    tu_assert_error(CT_ERR_SHAPE, "size mismatch (got input: [2, 3, 4, 5] , target: [2, 4, 4]");
    assert_null(ct_cross_entropy(ct_zeros(CT_SHAPE(2, 3, 4, 5)), ct_zeros(CT_SHAPE(2, 4), .dtype = CT_I64)));
    tu_assert_error(CT_ERR_SHAPE, "only batches of spatial targets supported (3D tensors) but got targets of dimension: 2");
    assert_null(ct_cross_entropy(ct_zeros(CT_SHAPE(2, 3, 4)), ct_zeros(CT_SHAPE(2, 5), .dtype = CT_I64)));
    tu_assert_error(CT_ERR_SHAPE, "Expected target size [2, 4], got [2, 5]");
    assert_null(ct_cross_entropy(x, ct_zeros(CT_SHAPE(3), .dtype = CT_I64), .weight = ct_ones(CT_SHAPE(4))));
    tu_assert_error(CT_ERR_SHAPE, "weight tensor should be defined either for all 5 classes or no classes but got weight tensor of shape: [4]");
    assert_null(ct_nll_loss(ct_zeros(CT_SHAPE(2, 3, 4)), ct_zeros(CT_SHAPE(2, 4), .dtype = CT_I64), .weight = ct_ones(CT_SHAPE(2))));
    tu_assert_error(CT_ERR_SHAPE, "weight tensor should be defined either for all or no classes");
    assert_null(ct_cross_entropy(x, ct_zeros(CT_SHAPE(3), .dtype = CT_I64), .weight = ct_ones(CT_SHAPE(5), .dtype = CT_F64)));
    tu_assert_error(CT_ERR_DTYPE, "expected scalar type Float but found Double");
    assert_null(ct_cross_entropy(x, ct_zeros(CT_SHAPE(3))));
    tu_assert_error(CT_ERR_DTYPE, "expected scalar type Long but found Float");
    assert_null(ct_cross_entropy(x, ct_zeros(CT_SHAPE(3), .dtype = CT_I64), .label_smoothing = 1.5));
    tu_assert_error(CT_ERR_ARG, "label_smoothing must be between 0.0 and 1.0. Got: 1.5");
    /* probabilities */
    assert_null(ct_cross_entropy(x, ct_zeros(CT_SHAPE(3, 5), .dtype = CT_I64)));
    tu_assert_error(CT_ERR_DTYPE, "Expected floating point type for target with class probabilities, got Long");
    assert_null(ct_cross_entropy(x, ct_zeros(CT_SHAPE(3, 5)), .ignore_index = 1));
    tu_assert_error(CT_ERR_ARG, "ignore_index is not supported for floating point target");
    assert_null(ct_cross_entropy(x, ct_zeros(CT_SHAPE(3, 5)), .weight = ct_ones(CT_SHAPE(4))));
    tu_assert_error(CT_ERR_SHAPE, "weight tensor should be defined either for all 5 classes or no classes but got weight tensor of shape: [4]");
    assert_null(ct_cross_entropy(x, ct_zeros(CT_SHAPE(3, 5)), .label_smoothing = -0.5));
    tu_assert_error(CT_ERR_ARG, "label_smoothing must be between 0.0 and 1.0. Got: -0.5");
    /* reductions */
    assert_null(ct_cross_entropy(x, t, .reduction = CT_REDUCTION_BATCHMEAN));
    tu_assert_error(CT_ERR_ARG, "batchmean is not a valid value for reduction");
    assert_null(ct_mse_loss(x, x, .reduction = (ct_reduction)7));
    tu_assert_error(CT_ERR_ARG, "7 is not a valid value for reduction");
    /* regression */
    ct_log_set_handler(capture_warning, NULL);
    assert_null(ct_mse_loss(x, ct_zeros(CT_SHAPE(3, 2))));
    ct_log_set_handler(NULL, NULL);
    tu_assert_error(CT_ERR_SHAPE, "The size of tensor a (5) must match the size of tensor b (2) at non-singleton dimension 1");
    assert_null(ct_l1_loss(ct_zeros(CT_SHAPE(2), .dtype = CT_I64), ct_zeros(CT_SHAPE(2), .dtype = CT_I64)));
    tu_assert_error(CT_ERR_DTYPE, "not implemented for 'Long'");
    assert_null(ct_smooth_l1_loss(x, x, .beta = -1));
    tu_assert_error(CT_ERR_ARG, "smooth_l1_loss does not support negative values for beta.");
    assert_null(ct_huber_loss(x, x, .delta = 0));
    tu_assert_error(CT_ERR_ARG, "huber_loss does not support non-positive values for delta.");
    /* binary */
    assert_null(ct_binary_cross_entropy(ct_zeros(CT_SHAPE(3)), ct_zeros(CT_SHAPE(2))));
    tu_assert_error(CT_ERR_SHAPE, "Using a target size (torch.Size([2])) that is different to the input size (torch.Size([3])) is deprecated. Please ensure they have the same size.");
    assert_null(ct_binary_cross_entropy(ct_full(CT_SHAPE(2), 1.5), ct_zeros(CT_SHAPE(2))));
    tu_assert_error(CT_ERR_ARG, "all elements of input should be between 0 and 1");
    assert_null(ct_binary_cross_entropy(ct_full(CT_SHAPE(2), NAN), ct_zeros(CT_SHAPE(2))));
    tu_assert_error(CT_ERR_ARG, "all elements of input should be between 0 and 1");
    assert_null(ct_binary_cross_entropy_with_logits(ct_zeros(CT_SHAPE(3)), ct_zeros(CT_SHAPE(2))));
    tu_assert_error(CT_ERR_SHAPE, "Target size (torch.Size([2])) must be the same as input size (torch.Size([3]))");
    assert_null(ct_binary_cross_entropy_with_logits(ct_zeros(CT_SHAPE(3, 2)), ct_zeros(CT_SHAPE(3, 2)), .pos_weight = ct_ones(CT_SHAPE(3))));
    tu_assert_error(CT_ERR_SHAPE, "The size of tensor a (3) must match the size of tensor b (2) at non-singleton dimension 1");
    /* NULL inputs propagate the first error */
    assert_null(ct_cross_entropy(NULL, t));
    tu_assert_error(CT_ERR_NULL, "cross_entropy");
    assert_null(ct_kl_div(x, NULL));
    tu_assert_error(CT_ERR_NULL, "kl_div");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mse_l1),
        cmocka_unit_test(test_smooth_l1_huber),
        cmocka_unit_test(test_regression_broadcast_and_promotion),
        cmocka_unit_test(test_class_2d),
        cmocka_unit_test(test_class_nd),
        cmocka_unit_test(test_class_all_ignored),
        cmocka_unit_test(test_class_known_values),
        cmocka_unit_test(test_cross_entropy_probs),
        cmocka_unit_test(test_binary_cross_entropy),
        cmocka_unit_test(test_binary_cross_entropy_with_logits),
        cmocka_unit_test(test_kl_div),
        cmocka_unit_test(test_gradcheck),
        cmocka_unit_test(test_f32_gradients),
        cmocka_unit_test(test_errors),
    };
    return TU_RUN("loss", tests);
}
