/* Normalization, dropout, embedding and attention (nn/functional "norm" area): every op against an
 * f64 reference computed by plain loops here, on non-contiguous inputs (all layouts), in f64 and
 * f32; running-stat updates over several steps; gradcheck of every differentiable input; dropout's
 * statistics and reproducibility; embedding's scatter-added gradient with padding; attention with
 * causal, boolean and additive masks; and the error paths with PyTorch's messages. */
#include "../common/testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const ct_dtype float_dtypes[] = {CT_F64, CT_F32};
/* tolerances of a result against the f64 reference */
static double tol_for(ct_dtype dt) { return dt == CT_F64 ? 1e-10 : 2e-5; }
/* The same for a normalization: with the expanded layout (rows repeat) a channel or row may hold
 * equal values, variance 0 and rstd = 1/sqrt(eps) ~ 316, which amplifies f32 rounding of
 * x * rstd - mean * rstd (the form PyTorch's CPU kernels compute too). */
static double norm_tol(ct_dtype dt, int layout) { return dt == CT_F32 && layout == TU_EXPANDED ? 1e-3 : tol_for(dt); }

/* A scope-owned array of n doubles (freed with the scope through a tensor). */
static double *scratch(int64_t n) {
    return (double *)ct_data_ptr(ct_zeros(CT_SHAPE(n > 0 ? n : 1), .dtype = CT_F64));
}

static ct_tensor *checked(ct_tensor *t) {
    if (!t) fail_msg("op failed: %s", ct_last_error());
    return t;
}

/* ---- references ------------------------------------------------------------------------------ */

/* Batch norm of x [N, C, S] (logical order); training: batch stats, running stats (may be NULL)
 * updated with the unbiased variance; eval: running stats normalize. w, b may be NULL. */
static void ref_batch_norm(const double *x, int64_t N, int64_t C, int64_t S, double *rm, double *rv,
                           const double *w, const double *b, bool training, double momentum, double eps, double *y) {
    for (int64_t c = 0; c < C; c++) {
        double mean, var;
        if (training) {
            double s = 0, q = 0, M = (double)(N * S);
            for (int64_t n = 0; n < N; n++)
                for (int64_t i = 0; i < S; i++) s += x[(n * C + c) * S + i];
            mean = s / M;
            for (int64_t n = 0; n < N; n++)
                for (int64_t i = 0; i < S; i++) q += (x[(n * C + c) * S + i] - mean) * (x[(n * C + c) * S + i] - mean);
            var = q / M;
            if (rm) rm[c] = (1 - momentum) * rm[c] + momentum * mean;
            if (rv) rv[c] = (1 - momentum) * rv[c] + momentum * q / (M - 1);
        } else {
            mean = rm[c], var = rv[c];
        }
        for (int64_t n = 0; n < N; n++)
            for (int64_t i = 0; i < S; i++) {
                int64_t j = (n * C + c) * S + i;
                y[j] = (x[j] - mean) / sqrt(var + eps) * (w ? w[c] : 1) + (b ? b[c] : 0);
            }
    }
}

/* Layer norm of x [M, K] rows; w, b [K] or NULL. */
static void ref_layer_norm(const double *x, int64_t M, int64_t K, const double *w, const double *b, double eps,
                           double *y) {
    for (int64_t m = 0; m < M; m++) {
        double s = 0, q = 0;
        for (int64_t k = 0; k < K; k++) s += x[m * K + k];
        double mean = s / (double)K;
        for (int64_t k = 0; k < K; k++) q += (x[m * K + k] - mean) * (x[m * K + k] - mean);
        double rstd = 1 / sqrt(q / (double)K + eps);
        for (int64_t k = 0; k < K; k++)
            y[m * K + k] = (x[m * K + k] - mean) * rstd * (w ? w[k] : 1) + (b ? b[k] : 0);
    }
}

/* ---- batch norm ------------------------------------------------------------------------------ */

static const ct_shape bn_shapes[] = {{2, {6, 3}}, {4, {4, 3, 5, 2}}, {3, {2, 4, 7}}};

/* forward in training and eval, affine on and off, every layout, f64 and f32 */
static void test_batch_norm_forward(void **state) {
    (void)state;
    uint64_t rng = 1;
    for (size_t si = 0; si < sizeof bn_shapes / sizeof *bn_shapes; si++)
        for (int layout = 0; layout < TU_NUM_LAYOUTS; layout++)
            for (size_t di = 0; di < 2; di++)
                for (int training = 0; training < 2; training++)
                    for (int affine = 0; affine < 2; affine++) CT_SCOPE {
                        ct_shape sh = bn_shapes[si];
                        ct_dtype dt = float_dtypes[di];
                        int64_t N = sh.d[0], C = sh.d[1], S = tu_numel(sh) / (N * C);
                        ct_tensor *x = tu_random(&rng, sh, dt, (tu_layout)layout, -3, 3);
                        ct_tensor *w = affine ? tu_random(&rng, CT_SHAPE(C), dt, TU_STEPPED, 0.5, 2) : NULL;
                        ct_tensor *b = affine ? tu_random(&rng, CT_SHAPE(C), dt, TU_CONTIGUOUS, -1, 1) : NULL;
                        ct_tensor *rm = tu_random(&rng, CT_SHAPE(C), dt, TU_CONTIGUOUS, -0.5, 0.5);
                        ct_tensor *rv = tu_random(&rng, CT_SHAPE(C), dt, TU_CONTIGUOUS, 0.5, 2);
                        double *rmv = tu_values(rm), *rvv = tu_values(rv);
                        double *want = scratch(tu_numel(sh));
                        ref_batch_norm(tu_values(x), N, C, S, rmv, rvv, w ? tu_values(w) : NULL,
                                       b ? tu_values(b) : NULL, training, 0.1, 1e-5, want);
                        ct_tensor *y = ct_batch_norm(x, rm, rv, w, b, training);
                        tu_assert_values(y, sh, want, norm_tol(dt, layout), norm_tol(dt, layout));
                        assert_int_equal(ct_dtype_of(y), dt);
                        tu_assert_values(rm, CT_SHAPE(C), rmv, tol_for(dt), tol_for(dt));
                        tu_assert_values(rv, CT_SHAPE(C), rvv, tol_for(dt), tol_for(dt));
                    }
}

/* running stats over several training steps with the default and a custom momentum, compared with
 * the hand-computed recurrence; then eval with the final stats; no running stats at all works */
static void test_batch_norm_running_stats(void **state) {
    (void)state;
    uint64_t rng = 2;
    const double momenta[] = {0.1, 0.3};
    for (int mi = 0; mi < 2; mi++) CT_SCOPE {
        int64_t N = 5, C = 3, S = 4;
        double rm[3] = {0, 0, 0}, rv[3] = {1, 1, 1};
        ct_tensor *rmt = ct_zeros(CT_SHAPE(C)), *rvt = ct_ones(CT_SHAPE(C));
        for (int step = 0; step < 4; step++) {
            ct_tensor *x = tu_random(&rng, CT_SHAPE(N, C, S), CT_F32, TU_TRANSPOSED, -2 + step, 3 + 2 * step);
            double *xv = tu_values(x);
            /* by hand: mean and unbiased variance of each channel */
            for (int64_t c = 0; c < C; c++) {
                double s = 0, q = 0;
                for (int64_t n = 0; n < N; n++)
                    for (int64_t i = 0; i < S; i++) s += xv[(n * C + c) * S + i];
                double mean = s / (N * S);
                for (int64_t n = 0; n < N; n++)
                    for (int64_t i = 0; i < S; i++) q += pow(xv[(n * C + c) * S + i] - mean, 2);
                rm[c] = (1 - momenta[mi]) * rm[c] + momenta[mi] * mean;
                rv[c] = (1 - momenta[mi]) * rv[c] + momenta[mi] * q / (N * S - 1);
            }
            checked(mi == 0 ? ct_batch_norm(x, rmt, rvt, NULL, NULL, true)
                            : ct_batch_norm(x, rmt, rvt, NULL, NULL, true, .momentum = momenta[mi]));
            tu_assert_values(rmt, CT_SHAPE(C), rm, 1e-5, 1e-6);
            tu_assert_values(rvt, CT_SHAPE(C), rv, 1e-5, 1e-6);
        }
        /* eval uses (and keeps) the stats */
        ct_tensor *x = tu_random(&rng, CT_SHAPE(N, C, S), CT_F32, TU_CONTIGUOUS, -2, 2);
        double *want = scratch(N * C * S);
        ref_batch_norm(tu_values(x), N, C, S, rm, rv, NULL, NULL, false, 0.1, 1e-3, want);
        tu_assert_values(ct_batch_norm(x, rmt, rvt, NULL, NULL, false, .eps = 1e-3), CT_SHAPE(N, C, S), want, 1e-5,
                         1e-5);
        tu_assert_values(rmt, CT_SHAPE(C), rm, 1e-5, 1e-6);
        /* training without running stats */
        ref_batch_norm(tu_values(x), N, C, S, NULL, NULL, NULL, NULL, true, 0.1, 1e-5, want);
        tu_assert_values(ct_batch_norm(x, NULL, NULL, NULL, NULL, true), CT_SHAPE(N, C, S), want, 1e-5, 1e-5);
        /* running stats given as a non-contiguous view are written through */
        ct_tensor *buf = ct_zeros(CT_SHAPE(2 * C), .dtype = CT_F64);
        ct_tensor *rmv = ct_slice(buf, 0, 0, CT_END, 2);
        checked(ct_batch_norm(x, rmv, NULL, NULL, NULL, true, .momentum = 1.0));
        double *xv = tu_values(x), m0 = 0;
        for (int64_t n = 0; n < N; n++)
            for (int64_t i = 0; i < S; i++) m0 += xv[n * C * S + i];
        assert_true(fabs(ct_item(ct_select(buf, 0, 0)) - m0 / (N * S)) < 1e-6);
        assert_true(ct_item(ct_select(buf, 0, 1)) == 0);
    }
}

/* gradcheck: x, weight and bias in training and in eval, 2-D and 4-D, affine on and off */
static ct_tensor *bn_train(ct_tensor *const *in, void *user) {
    (void)user;
    int64_t C = ct_shape_of(in[0]).d[1];
    return ct_batch_norm(in[0], ct_zeros(CT_SHAPE(C), .dtype = CT_F64), ct_ones(CT_SHAPE(C), .dtype = CT_F64), in[1],
                         in[2], true);
}
static ct_tensor *bn_train_x(ct_tensor *const *in, void *user) {
    (void)user;
    return ct_batch_norm(in[0], NULL, NULL, NULL, NULL, true, .eps = 1e-3);
}
static ct_tensor *bn_eval(ct_tensor *const *in, void *user) {
    (void)user;
    int64_t C = ct_shape_of(in[0]).d[1];
    ct_tensor *rm = ct_mul_scalar(ct_arange(0, (double)C, 1, .dtype = CT_F64), 0.3);
    ct_tensor *rv = ct_add_scalar(ct_arange(0, (double)C, 1, .dtype = CT_F64), 0.5);
    return ct_batch_norm(in[0], rm, rv, in[1], in[2], false);
}

static void test_batch_norm_gradcheck(void **state) {
    (void)state;
    const tu_grad_case cases[] = {
        {"batch_norm train 2-D", bn_train, NULL, 3, {CT_SHAPE(5, 3), CT_SHAPE(3), CT_SHAPE(3)}, 0, 0},
        {"batch_norm train 4-D", bn_train, NULL, 3, {CT_SHAPE(2, 3, 2, 3), CT_SHAPE(3), CT_SHAPE(3)}, 0, 0},
        {"batch_norm train no affine", bn_train_x, NULL, 1, {CT_SHAPE(3, 2, 4)}, 0, 0},
        {"batch_norm eval 2-D", bn_eval, NULL, 3, {CT_SHAPE(4, 3), CT_SHAPE(3), CT_SHAPE(3)}, 0, 0},
        {"batch_norm eval 4-D", bn_eval, NULL, 3, {CT_SHAPE(2, 3, 2, 2), CT_SHAPE(3), CT_SHAPE(3)}, 0, 0},
    };
    TU_GRADCHECK_TABLE(cases);
    /* grad_fn name, and f32 gradients close to the f64 ones */
    CT_SCOPE {
        uint64_t rng = 3;
        ct_tensor *x64 = ct_requires_grad_(tu_random(&rng, CT_SHAPE(8, 4, 6), CT_F64, TU_CONTIGUOUS, -2, 2), true);
        ct_tensor *w64 = ct_requires_grad_(tu_random(&rng, CT_SHAPE(4), CT_F64, TU_CONTIGUOUS, 0.5, 2), true);
        ct_tensor *x32 = ct_requires_grad_(ct_to_dtype(ct_detach(x64), CT_F32), true);
        ct_tensor *w32 = ct_requires_grad_(ct_to_dtype(ct_detach(w64), CT_F32), true);
        ct_tensor *g = tu_random(&rng, CT_SHAPE(8, 4, 6), CT_F64, TU_CONTIGUOUS, -1, 1);
        ct_tensor *y64 = ct_batch_norm(x64, NULL, NULL, w64, NULL, true);
        assert_string_equal(ct_grad_fn_name(y64), "NativeBatchNormBackward0");
        assert_true(ct_backward(y64, .gradient = g));
        assert_true(ct_backward(ct_batch_norm(x32, NULL, NULL, w32, NULL, true), .gradient = ct_to_dtype(g, CT_F32)));
        tu_assert_values(ct_grad(x32), CT_SHAPE(8, 4, 6), tu_values(ct_grad(x64)), 1e-4, 1e-4);
        tu_assert_values(ct_grad(w32), CT_SHAPE(4), tu_values(ct_grad(w64)), 1e-4, 1e-4);
    }
}

/* large enough to run on several threads: the same result for 1 and many threads */
static void test_norm_thread_independent(void **state) {
    (void)state;
    CT_SCOPE {
        uint64_t rng = 4;
        ct_tensor *x = ct_requires_grad_(tu_random(&rng, CT_SHAPE(64, 8, 33, 17), CT_F32, TU_CONTIGUOUS, -2, 2), true);
        ct_tensor *g = tu_random(&rng, CT_SHAPE(64, 8, 33, 17), CT_F32, TU_CONTIGUOUS, -1, 1);
        ct_tensor *w = ct_requires_grad_(ct_ones(CT_SHAPE(33, 17)), true);
        double *r[2][4];
        int saved = ct_get_num_threads();
        for (int run = 0; run < 2; run++) {
            ct_set_num_threads(run == 0 ? 1 : 8);
            ct_set_grad(x, NULL);
            ct_set_grad(w, NULL);
            ct_tensor *y = ct_batch_norm(x, NULL, NULL, NULL, NULL, true);
            assert_true(ct_backward(y, .gradient = g));
            r[run][0] = tu_values(y);
            r[run][1] = tu_values(ct_grad(x));
            ct_set_grad(x, NULL);
            ct_tensor *z = ct_layer_norm(x, CT_SHAPE(33, 17), w, NULL);
            assert_true(ct_backward(z, .gradient = g));
            r[run][2] = tu_values(z);
            r[run][3] = tu_values(ct_grad(w));
        }
        ct_set_num_threads(saved);
        int64_t n = 64 * 8 * 33 * 17;
        for (int k = 0; k < 4; k++)
            assert_memory_equal(r[0][k], r[1][k], (size_t)(k == 3 ? 33 * 17 : n) * sizeof(double));
    }
}

/* ---- layer norm and group norm --------------------------------------------------------------- */

static void test_layer_norm_forward(void **state) {
    (void)state;
    uint64_t rng = 5;
    const ct_shape xs[] = {{2, {4, 6}}, {3, {2, 3, 5}}, {4, {2, 3, 4, 5}}, {1, {7}}};
    const int ranks[] = {1, 2, 3, 1};
    for (int si = 0; si < 4; si++)
        for (int layout = 0; layout < TU_NUM_LAYOUTS; layout++)
            for (size_t di = 0; di < 2; di++)
                for (int affine = 0; affine < 3; affine++) CT_SCOPE {
                    ct_shape sh = xs[si];
                    ct_dtype dt = float_dtypes[di];
                    ct_shape ns = {.ndim = ranks[si]};
                    memcpy(ns.d, sh.d + sh.ndim - ns.ndim, (size_t)ns.ndim * sizeof *ns.d);
                    int64_t K = tu_numel(ns), M = tu_numel(sh) / K;
                    ct_tensor *x = tu_random(&rng, sh, dt, (tu_layout)layout, -3, 3);
                    ct_tensor *w = affine ? tu_random(&rng, ns, dt, TU_TRANSPOSED, 0.5, 2) : NULL;
                    ct_tensor *b = affine == 1 ? tu_random(&rng, ns, dt, TU_OFFSET, -1, 1) : NULL;
                    double *want = scratch(tu_numel(sh));
                    ref_layer_norm(tu_values(x), M, K, w ? tu_values(w) : NULL, b ? tu_values(b) : NULL, 1e-5, want);
                    tu_assert_values(ct_layer_norm(x, ns, w, b), sh, want, norm_tol(dt, layout), norm_tol(dt, layout));
                }
}

/* group norm reference: groups of C/G channels per sample */
static void ref_group_norm(const double *x, int64_t N, int64_t C, int64_t S, int64_t G, const double *w,
                           const double *b, double eps, double *y) {
    int64_t K = C / G * S;
    ref_layer_norm(x, N * G, K, NULL, NULL, eps, y);
    for (int64_t n = 0; n < N; n++)
        for (int64_t c = 0; c < C; c++)
            for (int64_t s = 0; s < S; s++) {
                int64_t j = (n * C + c) * S + s;
                y[j] = y[j] * (w ? w[c] : 1) + (b ? b[c] : 0);
            }
}

static void test_group_norm_forward(void **state) {
    (void)state;
    uint64_t rng = 6;
    const ct_shape xs[] = {{2, {3, 6}}, {3, {2, 6, 5}}, {4, {2, 4, 3, 2}}};
    const int64_t groups[] = {3, 2, 4, 1};
    for (int si = 0; si < 3; si++)
        for (int gi = 0; gi < 4; gi++)
            for (int layout = 0; layout < TU_NUM_LAYOUTS; layout++)
                for (size_t di = 0; di < 2; di++)
                    for (int affine = 0; affine < 2; affine++) CT_SCOPE {
                        ct_shape sh = xs[si];
                        int64_t G = groups[gi], N = sh.d[0], C = sh.d[1], S = tu_numel(sh) / (N * C);
                        if (C % G) continue;
                        ct_dtype dt = float_dtypes[di];
                        ct_tensor *x = tu_random(&rng, sh, dt, (tu_layout)layout, -3, 3);
                        ct_tensor *w = affine ? tu_random(&rng, CT_SHAPE(C), dt, TU_STEPPED, 0.5, 2) : NULL;
                        ct_tensor *b = affine ? tu_random(&rng, CT_SHAPE(C), dt, TU_CONTIGUOUS, -1, 1) : NULL;
                        double *want = scratch(tu_numel(sh));
                        ref_group_norm(tu_values(x), N, C, S, G, w ? tu_values(w) : NULL, b ? tu_values(b) : NULL,
                                       1e-4, want);
                        tu_assert_values(ct_group_norm(x, G, w, b, .eps = 1e-4), sh, want, norm_tol(dt, layout),
                                         norm_tol(dt, layout));
                    }
}

static ct_tensor *ln_fn(ct_tensor *const *in, void *user) {
    int rank = *(int *)user;
    ct_shape s = ct_shape_of(in[0]), ns = {.ndim = rank};
    memcpy(ns.d, s.d + s.ndim - rank, (size_t)rank * sizeof *ns.d);
    return ct_layer_norm(in[0], ns, in[1], in[2]);
}
static ct_tensor *ln_x(ct_tensor *const *in, void *user) {
    (void)user;
    return ct_layer_norm(in[0], CT_SHAPE(4), NULL, NULL, .eps = 1e-3);
}
static ct_tensor *ln_w(ct_tensor *const *in, void *user) {
    (void)user;
    return ct_layer_norm(in[0], CT_SHAPE(3, 4), in[1], NULL);
}
static ct_tensor *gn_fn(ct_tensor *const *in, void *user) {
    return ct_group_norm(in[0], *(int64_t *)user, in[1], in[2]);
}
static ct_tensor *gn_x(ct_tensor *const *in, void *user) {
    (void)user;
    return ct_group_norm(in[0], 2, NULL, NULL, .eps = 1e-3);
}

static void test_layer_group_norm_gradcheck(void **state) {
    (void)state;
    int r1 = 1, r2 = 2, r3 = 3;
    int64_t g1 = 1, g2 = 2, g4 = 4;
    const tu_grad_case cases[] = {
        {"layer_norm rank 1", ln_fn, &r1, 3, {CT_SHAPE(3, 5), CT_SHAPE(5), CT_SHAPE(5)}, 0, 0},
        {"layer_norm rank 2", ln_fn, &r2, 3, {CT_SHAPE(2, 3, 4), CT_SHAPE(3, 4), CT_SHAPE(3, 4)}, 0, 0},
        {"layer_norm rank 3", ln_fn, &r3, 3, {CT_SHAPE(2, 2, 3, 2), CT_SHAPE(2, 3, 2), CT_SHAPE(2, 3, 2)}, 0, 0},
        {"layer_norm whole", ln_fn, &r2, 3, {CT_SHAPE(3, 4), CT_SHAPE(3, 4), CT_SHAPE(3, 4)}, 0, 0},
        {"layer_norm no affine", ln_x, NULL, 1, {CT_SHAPE(2, 3, 4)}, 0, 0},
        {"layer_norm weight only", ln_w, NULL, 2, {CT_SHAPE(2, 3, 4), CT_SHAPE(3, 4)}, 0, 0},
        {"group_norm 1 group", gn_fn, &g1, 3, {CT_SHAPE(2, 4, 3), CT_SHAPE(4), CT_SHAPE(4)}, 0, 0},
        {"group_norm 2 groups", gn_fn, &g2, 3, {CT_SHAPE(2, 4, 2, 2), CT_SHAPE(4), CT_SHAPE(4)}, 0, 0},
        {"group_norm per channel", gn_fn, &g4, 3, {CT_SHAPE(3, 4, 3), CT_SHAPE(4), CT_SHAPE(4)}, 0, 0},
        {"group_norm no affine", gn_x, NULL, 1, {CT_SHAPE(2, 4, 3)}, 0, 0},
    };
    TU_GRADCHECK_TABLE(cases);
    CT_SCOPE {
        ct_tensor *x = ct_requires_grad_(ct_randn(CT_SHAPE(2, 3)), true);
        assert_string_equal(ct_grad_fn_name(ct_layer_norm(x, CT_SHAPE(3), NULL, NULL)), "NativeLayerNormBackward0");
    }
}

/* ---- dropout --------------------------------------------------------------------------------- */

static void test_dropout_forward(void **state) {
    (void)state;
    CT_SCOPE {
        /* statistics: the kept fraction is about 1 - p, kept values are x / (1 - p) */
        const double ps[] = {0.1, 0.5, 0.8};
        for (int i = 0; i < 3; i++) {
            int64_t n = 1 << 20;
            ct_tensor *x = ct_full(CT_SHAPE(n), 2.0);
            ct_tensor *y = checked(ct_dropout(x, .p = ps[i]));
            double *v = tu_values(y);
            int64_t kept = 0;
            for (int64_t j = 0; j < n; j++) {
                if (v[j] != 0) {
                    kept++;
                    assert_true(fabs(v[j] - 2 / (1 - ps[i])) < 1e-5);
                }
            }
            double frac = (double)kept / (double)n, sd = sqrt(ps[i] * (1 - ps[i]) / (double)n);
            if (fabs(frac - (1 - ps[i])) > 6 * sd) fail_msg("p=%g: kept fraction %g", ps[i], frac);
        }
        /* the same seed gives the same mask, whatever the thread count; another seed differs */
        uint64_t rng = 7;
        ct_tensor *x = tu_random(&rng, CT_SHAPE(300, 257), CT_F32, TU_TRANSPOSED, 1, 2);
        int saved = ct_get_num_threads();
        ct_set_num_threads(1);
        ct_manual_seed(123);
        double *a = tu_values(ct_dropout(x, .p = 0.3));
        ct_set_num_threads(8);
        ct_manual_seed(123);
        double *b = tu_values(ct_dropout(x, .p = 0.3));
        ct_set_num_threads(saved);
        assert_memory_equal(a, b, 300 * 257 * sizeof(double));
        ct_manual_seed(124);
        double *c = tu_values(ct_dropout(x, .p = 0.3));
        assert_true(memcmp(a, c, 300 * 257 * sizeof(double)) != 0);
        /* the result is x * mask / (1 - p) elementwise */
        double *xv = tu_values(x);
        for (int64_t j = 0; j < 300 * 257; j++)
            assert_true(a[j] == 0 || fabs(a[j] - xv[j] / 0.7) < 1e-5 * fabs(a[j]));
        /* p == 0 or eval: x itself; p == 1: zeros; f64 and empty */
        assert_ptr_equal(ct_dropout(x, .p = 0), x);
        assert_ptr_equal(ct_dropout(x, .training = false), x);
        ct_tensor *z = ct_dropout(x, .p = 1);
        tu_assert_values(z, CT_SHAPE(300, 257), scratch(300 * 257), 0, 0);
        ct_tensor *x64 = ct_ones(CT_SHAPE(5, 4), .dtype = CT_F64);
        assert_int_equal(ct_dtype_of(ct_dropout(x64)), CT_F64);
        assert_int_equal(ct_numel(ct_dropout(ct_zeros(CT_SHAPE(0, 3)))), 0);
    }
}

/* backward multiplies by the same mask (and scale); gradcheck with a fixed seed */
static ct_tensor *dropout_seeded(ct_tensor *const *in, void *user) {
    ct_manual_seed(99);
    return ct_dropout(in[0], .p = *(double *)user);
}

static void test_dropout_backward(void **state) {
    (void)state;
    CT_SCOPE {
        uint64_t rng = 8;
        ct_tensor *x = ct_requires_grad_(tu_random(&rng, CT_SHAPE(40, 30), CT_F64, TU_CONTIGUOUS, 1, 2), true);
        ct_tensor *g = tu_random(&rng, CT_SHAPE(40, 30), CT_F64, TU_CONTIGUOUS, -1, 1);
        ct_tensor *y = ct_dropout(x, .p = 0.4);
        assert_true(ct_backward(y, .gradient = g));
        double *yv = tu_values(y), *xv = tu_values(x), *gv = tu_values(g), *dx = tu_values(ct_grad(x));
        for (int64_t j = 0; j < 1200; j++) {
            double mask = yv[j] / xv[j]; /* 0 or 1/(1-p) */
            assert_true(mask == 0 || fabs(mask - 1 / 0.6) < 1e-12);
            assert_true(fabs(dx[j] - gv[j] * mask) < 1e-12);
        }
        /* p == 1: zero gradient, still connected */
        ct_set_grad(x, NULL);
        assert_true(ct_backward(ct_sum(ct_dropout(x, .p = 1))));
        tu_assert_values(ct_grad(x), CT_SHAPE(40, 30), scratch(1200), 0, 0);
    }
    double p3 = 0.3, p0 = 0;
    const tu_grad_case cases[] = {
        {"dropout p=0.3", dropout_seeded, &p3, 1, {CT_SHAPE(4, 5)}, 0, 0},
        {"dropout p=0", dropout_seeded, &p0, 1, {CT_SHAPE(4, 5)}, 0, 0},
    };
    TU_GRADCHECK_TABLE(cases);
}

/* ---- embedding ------------------------------------------------------------------------------- */

static void test_embedding(void **state) {
    (void)state;
    for (size_t di = 0; di < 2; di++) CT_SCOPE {
        ct_dtype dt = float_dtypes[di];
        uint64_t rng = 9;
        ct_tensor *w = ct_requires_grad_(tu_random(&rng, CT_SHAPE(6, 4), dt, TU_TRANSPOSED, -1, 1), true);
        int64_t idx[] = {1, 3, 1, 5, 0, 3};
        ct_dtype idt[] = {CT_I64, CT_I32};
        for (int k = 0; k < 2; k++) {
            ct_set_grad(w, NULL);
            ct_tensor *ind = ct_to_dtype(ct_from_data(idx, CT_SHAPE(2, 3), CT_I64), idt[k]);
            ct_tensor *y = checked(ct_embedding(ind, w, .padding_idx = k == 0 ? 3 : -3));
            assert_string_equal(ct_grad_fn_name(y), "EmbeddingBackward0");
            double *wv = tu_values(w), want[24];
            for (int i = 0; i < 6; i++)
                for (int j = 0; j < 4; j++) want[i * 4 + j] = wv[idx[i] * 4 + j];
            tu_assert_values(y, CT_SHAPE(2, 3, 4), want, 0, 0);
            /* gradient: rows of g added into the rows they came from; row 3 (padding) none */
            ct_tensor *g = tu_random(&rng, CT_SHAPE(2, 3, 4), dt, TU_STEPPED, -1, 1);
            assert_true(ct_backward(y, .gradient = g));
            double *gv = tu_values(g), gw[24] = {0};
            for (int i = 0; i < 6; i++)
                if (idx[i] != 3)
                    for (int j = 0; j < 4; j++) gw[idx[i] * 4 + j] += gv[i * 4 + j];
            tu_assert_values(ct_grad(w), CT_SHAPE(6, 4), gw, tol_for(dt), tol_for(dt));
            assert_int_equal(ct_dtype_of(ct_grad(w)), dt);
        }
        /* no padding: every row gets its gradient; 0-d and empty indices */
        ct_set_grad(w, NULL);
        assert_true(ct_backward(ct_sum(ct_embedding(ct_from_data(idx, CT_SHAPE(6), CT_I64), w))));
        double cnt[24] = {0};
        for (int i = 0; i < 6; i++)
            for (int j = 0; j < 4; j++) cnt[idx[i] * 4 + j] += 1;
        tu_assert_values(ct_grad(w), CT_SHAPE(6, 4), cnt, 0, 0);
        assert_int_equal(ct_shape_of(ct_embedding(ct_scalar_tensor(2, .dtype = CT_I64), w)).ndim, 1);
        assert_int_equal(ct_numel(ct_embedding(ct_zeros(CT_SHAPE(0, 2), .dtype = CT_I64), w)), 0);
    }
}

static ct_tensor *embedding_fn(ct_tensor *const *in, void *user) {
    int64_t idx[] = {2, 0, 2, 4, 1, 1, 4, 3};
    return ct_embedding(ct_from_data(idx, CT_SHAPE(4, 2), CT_I64), in[0], .padding_idx = *(int64_t *)user);
}

static void test_embedding_gradcheck(void **state) {
    (void)state;
    /* with a padding_idx the padding row's analytical gradient is zero by definition, unlike its
     * finite difference, so gradcheck runs without one (test_embedding checks the padded case) */
    int64_t none = -1;
    const tu_grad_case cases[] = {
        {"embedding", embedding_fn, &none, 1, {CT_SHAPE(5, 3)}, 0, 0},
    };
    TU_GRADCHECK_TABLE(cases);
    /* padding_idx -2 names row 3: gradients of the other rows are right, row 3 gets zeros */
    CT_SCOPE {
        int64_t pad = -2;
        ct_tensor *w = ct_requires_grad_(ct_randn(CT_SHAPE(5, 3), .dtype = CT_F64), true);
        assert_true(ct_backward(ct_sum(embedding_fn((ct_tensor *[]){w}, &pad))));
        double want[15] = {0};
        int64_t idx[] = {2, 0, 2, 4, 1, 1, 4, 3};
        for (int i = 0; i < 8; i++)
            if (idx[i] != 3)
                for (int j = 0; j < 3; j++) want[idx[i] * 3 + j] += 1;
        tu_assert_values(ct_grad(w), CT_SHAPE(5, 3), want, 0, 0);
    }
}

/* ---- attention ------------------------------------------------------------------------------- */

/* q [B, L, E], k [B, S, E], v [B, S, Ev]; mask: NULL, bool [L, S] (1 = attend) or additive
 * float [L, S]. */
static void ref_attention(const double *q, const double *k, const double *v, int64_t B, int64_t L, int64_t S,
                          int64_t E, int64_t Ev, bool causal, const double *bool_mask, const double *add_mask,
                          double scale, double *out) {
    double *sc = malloc((size_t)S * sizeof *sc);
    for (int64_t b = 0; b < B; b++)
        for (int64_t i = 0; i < L; i++) {
            double mx = -INFINITY;
            for (int64_t j = 0; j < S; j++) {
                double d = 0;
                for (int64_t e = 0; e < E; e++) d += q[(b * L + i) * E + e] * k[(b * S + j) * E + e];
                d *= scale;
                if (causal && j > i) d = -INFINITY;
                if (bool_mask && !bool_mask[i * S + j]) d = -INFINITY;
                if (add_mask) d += add_mask[i * S + j];
                sc[j] = d;
                if (d > mx) mx = d;
            }
            double z = 0;
            for (int64_t j = 0; j < S; j++) z += sc[j] = exp(sc[j] - mx);
            for (int64_t e = 0; e < Ev; e++) {
                double o = 0;
                for (int64_t j = 0; j < S; j++) o += sc[j] / z * v[(b * S + j) * Ev + e];
                out[(b * L + i) * Ev + e] = o;
            }
        }
    free(sc);
}

static void test_attention_forward(void **state) {
    (void)state;
    for (size_t di = 0; di < 2; di++)
        for (int layout = 0; layout < TU_NUM_LAYOUTS; layout++)
            for (int mode = 0; mode < 5; mode++) CT_SCOPE {
                ct_dtype dt = float_dtypes[di];
                uint64_t rng = 10 + (uint64_t)mode;
                int64_t B = 3, L = 4, S = mode == 1 ? 4 : 5, E = 6, Ev = 3;
                ct_tensor *q = tu_random(&rng, CT_SHAPE(B, L, E), dt, (tu_layout)layout, -1, 1);
                ct_tensor *k = tu_random(&rng, CT_SHAPE(B, S, E), dt, (tu_layout)layout, -1, 1);
                ct_tensor *v = tu_random(&rng, CT_SHAPE(B, S, Ev), dt, (tu_layout)layout, -1, 1);
                double bm[20], *want = scratch(B * L * Ev);
                for (int j = 0; j < 20; j++) bm[j] = (j * 7 % 3) != 0 || j % 5 == 0; /* every row keeps a key */
                ct_tensor *bool_mask = ct_to_dtype(ct_from_data(bm, CT_SHAPE(L, S), CT_F64), CT_BOOL);
                ct_tensor *add_mask = tu_random(&rng, CT_SHAPE(L, S), dt, TU_CONTIGUOUS, -2, 2);
                double *qv = tu_values(q), *kv = tu_values(k), *vv = tu_values(v);
                ct_tensor *y;
                switch (mode) {
                case 0: /* plain */
                    ref_attention(qv, kv, vv, B, L, S, E, Ev, false, NULL, NULL, 1 / sqrt(6.0), want);
                    y = ct_scaled_dot_product_attention(q, k, v, NULL);
                    break;
                case 1: /* causal */
                    ref_attention(qv, kv, vv, B, L, S, E, Ev, true, NULL, NULL, 1 / sqrt(6.0), want);
                    y = ct_scaled_dot_product_attention(q, k, v, NULL, .is_causal = true);
                    break;
                case 2: /* boolean mask */
                    ref_attention(qv, kv, vv, B, L, S, E, Ev, false, bm, NULL, 1 / sqrt(6.0), want);
                    y = ct_scaled_dot_product_attention(q, k, v, bool_mask);
                    break;
                case 3: /* additive mask and a given scale */
                    ref_attention(qv, kv, vv, B, L, S, E, Ev, false, NULL, tu_values(add_mask), 0.7, want);
                    y = ct_scaled_dot_product_attention(q, k, v, add_mask, .scale = 0.7);
                    break;
                default: /* causal with more keys than queries: key j > query i is masked */
                    ref_attention(qv, kv, vv, B, L, S, E, Ev, true, NULL, NULL, 1 / sqrt(6.0), want);
                    y = ct_scaled_dot_product_attention(q, k, v, NULL, .is_causal = true);
                    break;
                }
                tu_assert_values(y, CT_SHAPE(B, L, Ev), want, tol_for(dt), tol_for(dt));
            }
    /* 4-D (batch, heads) with dropout: reproducible with a seed, rows differ from no dropout */
    CT_SCOPE {
        uint64_t rng = 20;
        ct_tensor *q = tu_random(&rng, CT_SHAPE(2, 2, 3, 4), CT_F64, TU_CONTIGUOUS, -1, 1);
        ct_manual_seed(5);
        double *a = tu_values(ct_scaled_dot_product_attention(q, q, q, NULL, .dropout_p = 0.5));
        ct_manual_seed(5);
        double *b = tu_values(ct_scaled_dot_product_attention(q, q, q, NULL, .dropout_p = 0.5));
        assert_memory_equal(a, b, 48 * sizeof(double));
    }
}

static ct_tensor *attn_fn(ct_tensor *const *in, void *user) {
    int mode = *(int *)user;
    if (mode == 0) return ct_scaled_dot_product_attention(in[0], in[1], in[2], NULL);
    if (mode == 1) return ct_scaled_dot_product_attention(in[0], in[1], in[2], NULL, .is_causal = true);
    if (mode == 2) {
        bool m[] = {1, 0, 1, 1, 1, 1, 0, 1, 0};
        return ct_scaled_dot_product_attention(in[0], in[1], in[2], ct_from_data(m, CT_SHAPE(3, 3), CT_BOOL));
    }
    return ct_scaled_dot_product_attention(in[0], in[1], in[2], in[3], .scale = 0.5);
}

static void test_attention_gradcheck(void **state) {
    (void)state;
    int m0 = 0, m1 = 1, m2 = 2, m3 = 3;
    const tu_grad_case cases[] = {
        {"sdpa", attn_fn, &m0, 3, {CT_SHAPE(2, 3, 4), CT_SHAPE(2, 5, 4), CT_SHAPE(2, 5, 2)}, 0, 0},
        {"sdpa causal", attn_fn, &m1, 3, {CT_SHAPE(2, 3, 4), CT_SHAPE(2, 3, 4), CT_SHAPE(2, 3, 2)}, 0, 0},
        {"sdpa bool mask", attn_fn, &m2, 3, {CT_SHAPE(2, 3, 2), CT_SHAPE(2, 3, 2), CT_SHAPE(2, 3, 3)}, 0, 0},
        {"sdpa float mask", attn_fn, &m3, 4, {CT_SHAPE(2, 3, 2), CT_SHAPE(2, 4, 2), CT_SHAPE(2, 4, 3), CT_SHAPE(3, 4)},
         0, 0},
    };
    TU_GRADCHECK_TABLE(cases);
}

/* ---- errors ---------------------------------------------------------------------------------- */

static void test_errors(void **state) {
    (void)state;
    CT_SCOPE {
        ct_tensor *x = ct_randn(CT_SHAPE(4, 3)), *c3 = ct_ones(CT_SHAPE(3)), *c2 = ct_ones(CT_SHAPE(2));
        /* batch norm */
        assert_null(ct_batch_norm(ct_randn(CT_SHAPE(1, 3)), NULL, NULL, NULL, NULL, true));
        tu_assert_error(CT_ERR_ARG, "Expected more than 1 value per channel when training, got input size [1, 3]");
        assert_null(ct_batch_norm(ct_randn(CT_SHAPE(1, 3, 1)), NULL, NULL, NULL, NULL, true));
        tu_assert_error(CT_ERR_ARG, "got input size [1, 3, 1]");
        assert_non_null(ct_batch_norm(ct_randn(CT_SHAPE(1, 3)), c3, c3, NULL, NULL, false));
        assert_null(ct_batch_norm(x, NULL, NULL, NULL, NULL, false));
        tu_assert_error(CT_ERR_ARG, "running_mean must be defined in evaluation mode");
        assert_null(ct_batch_norm(x, c3, NULL, NULL, NULL, false));
        tu_assert_error(CT_ERR_ARG, "running_var must be defined in evaluation mode");
        assert_null(ct_batch_norm(x, ct_zeros(CT_SHAPE(4)), c3, NULL, NULL, false));
        tu_assert_error(CT_ERR_SHAPE, "running_mean should contain 3 elements not 4");
        assert_null(ct_batch_norm(x, NULL, NULL, c2, NULL, true));
        tu_assert_error(CT_ERR_SHAPE, "weight should contain 3 elements not 2");
        assert_null(ct_batch_norm(x, NULL, NULL, NULL, c2, true));
        tu_assert_error(CT_ERR_SHAPE, "bias should contain 3 elements not 2");
        assert_null(ct_batch_norm(x, c3, c2, NULL, NULL, true));
        tu_assert_error(CT_ERR_SHAPE, "running_var should contain 3 elements not 2");
        assert_null(ct_batch_norm(ct_ones(CT_SHAPE(4, 3), .dtype = CT_I64), NULL, NULL, NULL, NULL, true));
        tu_assert_error(CT_ERR_DTYPE, "\"batch_norm\" not implemented for 'Long'");
        assert_null(ct_batch_norm(ct_randn(CT_SHAPE(4)), NULL, NULL, NULL, NULL, true));
        tu_assert_error(CT_ERR_SHAPE, "batch_norm: expected an input of at least 2 dims");
        assert_null(ct_batch_norm(NULL, NULL, NULL, NULL, NULL, true));
        tu_assert_error(CT_ERR_NULL, "batch_norm");
        /* a failed training call leaves the running stats alone */
        ct_tensor *rm = ct_zeros(CT_SHAPE(3));
        assert_null(ct_batch_norm(x, rm, NULL, c2, NULL, true));
        ct_clear_error();
        tu_assert_values(rm, CT_SHAPE(3), (double[]){0, 0, 0}, 0, 0);
        /* layer norm */
        assert_null(ct_layer_norm(ct_randn(CT_SHAPE(2, 3)), CT_SHAPE(4), NULL, NULL));
        tu_assert_error(CT_ERR_SHAPE,
                        "Given normalized_shape=[4], expected input with shape [*, 4], but got input of size[2, 3]");
        assert_null(ct_layer_norm(ct_randn(CT_SHAPE(3)), CT_SHAPE(2, 3), NULL, NULL));
        tu_assert_error(CT_ERR_SHAPE, "expected input with shape [*, 2, 3], but got input of size[3]");
        assert_null(ct_layer_norm(ct_randn(CT_SHAPE(2, 3)), CT_SHAPE(3), ct_ones(CT_SHAPE(4)), NULL));
        tu_assert_error(CT_ERR_SHAPE, "Expected weight to be of same shape as normalized_shape, but got weight of "
                                      "shape [4] and normalized_shape = [3]");
        assert_null(ct_layer_norm(ct_randn(CT_SHAPE(2, 3)), CT_SHAPE(3), NULL, ct_ones(CT_SHAPE(1, 3))));
        tu_assert_error(CT_ERR_SHAPE, "Expected bias to be of same shape as normalized_shape, but got bias of shape "
                                      "[1, 3] and normalized_shape = [3]");
        assert_null(ct_layer_norm(ct_ones(CT_SHAPE(2, 3), .dtype = CT_I64), CT_SHAPE(3), NULL, NULL));
        tu_assert_error(CT_ERR_DTYPE, "\"LayerNormKernelImpl\" not implemented for 'Long'");
        assert_null(ct_layer_norm(ct_randn(CT_SHAPE(2, 3)), CT_SHAPE(), NULL, NULL));
        tu_assert_error(CT_ERR_SHAPE, "Expected normalized_shape to be at least 1-dimensional");
        /* group norm */
        assert_null(ct_group_norm(ct_randn(CT_SHAPE(2, 6, 4)), 4, NULL, NULL));
        tu_assert_error(CT_ERR_SHAPE, "Expected number of channels in input to be divisible by num_groups, but got "
                                      "input of shape [2, 6, 4] and num_groups=4");
        assert_null(ct_group_norm(ct_randn(CT_SHAPE(2, 6, 4)), 3, ct_ones(CT_SHAPE(5)), NULL));
        tu_assert_error(CT_ERR_SHAPE, "Expected weight to be a vector of size equal to the number of channels in "
                                      "input, but got weight of shape [5] and input of shape [2, 6, 4]");
        assert_null(ct_group_norm(ct_randn(CT_SHAPE(2, 6, 4)), 3, NULL, ct_ones(CT_SHAPE(5))));
        tu_assert_error(CT_ERR_SHAPE, "Expected bias to be a vector of size equal to the number of channels");
        assert_null(ct_group_norm(ct_randn(CT_SHAPE(2, 6, 4)), 0, NULL, NULL));
        tu_assert_error(CT_ERR_SHAPE, "num_groups=0");
        /* dropout */
        assert_null(ct_dropout(x, .p = 1.5));
        tu_assert_error(CT_ERR_ARG, "dropout probability has to be between 0 and 1, but got 1.5");
        assert_null(ct_dropout(x, .p = -0.1));
        tu_assert_error(CT_ERR_ARG, "dropout probability has to be between 0 and 1, but got -0.1");
        assert_null(ct_dropout(x, .p = NAN));
        tu_assert_error(CT_ERR_ARG, "dropout probability has to be between 0 and 1");
        assert_null(ct_dropout(ct_ones(CT_SHAPE(3), .dtype = CT_I64)));
        tu_assert_error(CT_ERR_DTYPE, "result type Float can't be cast to the desired output type Long");
        /* embedding */
        ct_tensor *w = ct_randn(CT_SHAPE(5, 2));
        int64_t bad[] = {0, 5}, neg[] = {0, -1};
        assert_null(ct_embedding(ct_from_data(bad, CT_SHAPE(2), CT_I64), w));
        tu_assert_error(CT_ERR_INDEX, "index out of range in self: index 5 is out of bounds for 5 embeddings");
        assert_null(ct_embedding(ct_from_data(neg, CT_SHAPE(2), CT_I64), w));
        tu_assert_error(CT_ERR_INDEX, "index -1 is out of bounds");
        assert_null(ct_embedding(ct_zeros(CT_SHAPE(2)), w));
        tu_assert_error(CT_ERR_DTYPE, "Expected tensor for argument #1 'indices' to have one of the following scalar "
                                      "types: Long, Int; but got Float instead");
        assert_null(ct_embedding(ct_zeros(CT_SHAPE(2), .dtype = CT_I64), w, .padding_idx = 5));
        tu_assert_error(CT_ERR_INDEX, "Padding_idx must be within num_embeddings");
        assert_null(ct_embedding(ct_zeros(CT_SHAPE(2), .dtype = CT_I64), w, .padding_idx = -6));
        tu_assert_error(CT_ERR_INDEX, "Padding_idx must be within num_embeddings");
        assert_null(ct_embedding(ct_zeros(CT_SHAPE(2), .dtype = CT_I64), ct_ones(CT_SHAPE(5))));
        tu_assert_error(CT_ERR_SHAPE, "'weight' must be 2-D");
        /* attention */
        ct_tensor *q = ct_randn(CT_SHAPE(2, 3, 4));
        assert_null(ct_scaled_dot_product_attention(q, q, q, ct_ones(CT_SHAPE(3, 3), .dtype = CT_BOOL),
                                                    .is_causal = true));
        tu_assert_error(CT_ERR_ARG, "Explicit attn_mask should not be set when is_causal=True");
        assert_null(ct_scaled_dot_product_attention(q, ct_randn(CT_SHAPE(2, 3, 5)), q, NULL));
        assert_false(ct_ok());
        ct_clear_error();
        assert_null(ct_scaled_dot_product_attention(ct_randn(CT_SHAPE(4)), q, q, NULL));
        tu_assert_error(CT_ERR_SHAPE, "expected query, key and value of at least 2 dims");
    }
}

/* 16-bit floats compute in f32 and keep their dtype; gradients come back in it */
static void test_half_dtypes(void **state) {
    (void)state;
    const ct_dtype dts[] = {CT_F16, CT_BF16};
    for (int i = 0; i < 2; i++) CT_SCOPE {
        uint64_t rng = 30;
        ct_tensor *x = ct_requires_grad_(tu_random(&rng, CT_SHAPE(4, 3, 5), dts[i], TU_CONTIGUOUS, -2, 2), true);
        double *want = scratch(60);
        ref_batch_norm(tu_values(x), 4, 3, 5, NULL, NULL, NULL, NULL, true, 0.1, 1e-5, want);
        ct_tensor *y = ct_batch_norm(x, NULL, NULL, NULL, NULL, true);
        assert_int_equal(ct_dtype_of(y), dts[i]);
        tu_assert_values(y, CT_SHAPE(4, 3, 5), want, 2e-2, 2e-2);
        ref_layer_norm(tu_values(x), 12, 5, NULL, NULL, 1e-5, want);
        ct_tensor *z = ct_layer_norm(x, CT_SHAPE(5), NULL, NULL);
        assert_int_equal(ct_dtype_of(z), dts[i]);
        tu_assert_values(z, CT_SHAPE(4, 3, 5), want, 2e-2, 2e-2);
        assert_true(ct_backward(ct_sum(ct_mul(ct_add(y, z), x))));
        assert_int_equal(ct_dtype_of(ct_grad(x)), dts[i]);
        ct_tensor *d = ct_dropout(x, .p = 0.25);
        assert_int_equal(ct_dtype_of(d), dts[i]);
        double *dv = tu_values(d), *xv = tu_values(x);
        for (int j = 0; j < 60; j++) assert_true(dv[j] == 0 || fabs(dv[j] - xv[j] / 0.75) <= 1e-2 * fabs(dv[j]));
    }
}

/* 0-size inputs where meaningful */
static void test_empty(void **state) {
    (void)state;
    CT_SCOPE {
        assert_int_equal(ct_numel(checked(ct_batch_norm(ct_zeros(CT_SHAPE(4, 3, 0)), NULL, NULL, NULL, NULL, true))), 0);
        ct_tensor *rm = ct_zeros(CT_SHAPE(3)), *rv = ct_ones(CT_SHAPE(3));
        assert_int_equal(ct_numel(checked(ct_batch_norm(ct_zeros(CT_SHAPE(0, 3)), rm, rv, NULL, NULL, false))), 0);
        ct_tensor *x = ct_requires_grad_(ct_zeros(CT_SHAPE(0, 4)), true);
        ct_tensor *w = ct_requires_grad_(ct_ones(CT_SHAPE(4)), true);
        ct_tensor *y = checked(ct_layer_norm(x, CT_SHAPE(4), w, NULL));
        assert_true(ct_backward(ct_sum(y)));
        tu_assert_values(ct_grad(w), CT_SHAPE(4), (double[]){0, 0, 0, 0}, 0, 0);
        assert_int_equal(ct_numel(checked(ct_group_norm(ct_zeros(CT_SHAPE(0, 4, 2)), 2, NULL, NULL))), 0);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch_norm_forward),
        cmocka_unit_test(test_batch_norm_running_stats),
        cmocka_unit_test(test_batch_norm_gradcheck),
        cmocka_unit_test(test_norm_thread_independent),
        cmocka_unit_test(test_layer_norm_forward),
        cmocka_unit_test(test_group_norm_forward),
        cmocka_unit_test(test_layer_group_norm_gradcheck),
        cmocka_unit_test(test_dropout_forward),
        cmocka_unit_test(test_dropout_backward),
        cmocka_unit_test(test_embedding),
        cmocka_unit_test(test_embedding_gradcheck),
        cmocka_unit_test(test_attention_forward),
        cmocka_unit_test(test_attention_gradcheck),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_half_dtypes),
        cmocka_unit_test(test_empty),
    };
    return TU_RUN("norm", tests);
}
