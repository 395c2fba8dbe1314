/* nn.init: bounds and moments of every initializer over large tensors, the gains table and fans
 * against PyTorch's values, orthogonality (and the diag(R) sign convention) for wide, tall and
 * conv-shaped weights, truncated-normal bounds and moments against the closed forms, writes through
 * non-contiguous views, leaves that require grad staying leaves, reproducibility under
 * ct_manual_seed, and every error path with PyTorch's message. */
#include "../common/testutil.h"

#include <string.h>

/* cmocka 1.1 has no assert_double_equal. */
#define assert_near(got, want, tol)                                                               \
    do {                                                                                          \
        double g_ = (got), w_ = (want);                                                           \
        if (!(fabs(g_ - w_) <= (tol))) fail_msg("%s = %.17g, want %.17g", #got, g_, w_);          \
    } while (0)

/* Mean, standard deviation and largest |x| of t's elements (computed in double). */
typedef struct moments {
    double mean, std, min, max;
} moments;

static moments moments_of(const ct_tensor *t) {
    double *v = tu_values(t);
    int64_t n = ct_numel(t);
    moments m = {0, 0, INFINITY, -INFINITY};
    for (int64_t i = 0; i < n; i++) {
        m.mean += v[i];
        m.min = fmin(m.min, v[i]);
        m.max = fmax(m.max, v[i]);
    }
    m.mean /= (double)n;
    for (int64_t i = 0; i < n; i++) m.std += (v[i] - m.mean) * (v[i] - m.mean);
    m.std = sqrt(m.std / (double)(n - 1));
    return m;
}

static void assert_close(double got, double want, double rel, const char *what) {
    if (!(fabs(got - want) <= rel * fabs(want)))
        fail_msg("%s: got %.6g, want %.6g within %.1f%%", what, got, want, 100 * rel);
}

/* A fresh parameter-like leaf requiring grad. */
static ct_tensor *param(ct_shape shape, ct_dtype dtype) {
    return ct_requires_grad_(ct_empty(shape, .dtype = dtype), true);
}

/* ---- plain fills ------------------------------------------------------------------------------- */

static void test_uniform_and_normal_moments(void **state) {
    (void)state;
    for (int d = 0; d < 2; d++) {
        ct_dtype dtype = d ? CT_F64 : CT_F32;
        ct_tensor *t = param(CT_SHAPE(400, 500), dtype);
        assert_ptr_equal(ct_init_uniform_(t), t);
        moments m = moments_of(t);
        assert_true(m.min >= 0 && m.max < 1);
        assert_close(m.mean, 0.5, 0.01, "uniform_ default mean");
        assert_close(m.std, sqrt(1.0 / 12), 0.01, "uniform_ default std");

        ct_init_uniform_(t, .a = -3, .b = 5);
        m = moments_of(t);
        assert_true(m.min >= -3 && m.max < 5 && m.min < -2.99 && m.max > 4.99);
        assert_close(m.mean, 1, 0.02, "uniform_ mean");
        assert_close(m.std, 8 / sqrt(12.0), 0.01, "uniform_ std");

        assert_ptr_equal(ct_init_normal_(t), t);
        m = moments_of(t);
        assert_true(fabs(m.mean) < 0.01);
        assert_close(m.std, 1, 0.01, "normal_ default std");

        ct_init_normal_(t, .mean = 2, .std = 0.25);
        m = moments_of(t);
        assert_close(m.mean, 2, 0.005, "normal_ mean");
        assert_close(m.std, 0.25, 0.01, "normal_ std");
    }
}

/* constant_, zeros_, ones_, eye_ through every writable layout land in the right elements. */
static void test_constant_zeros_ones_eye(void **state) {
    (void)state;
    uint64_t rng = 11;
    for (int layout = 0; layout < TU_NUM_WRITABLE_LAYOUTS; layout++) CT_SCOPE {
        ct_tensor *t = tu_random(&rng, CT_SHAPE(3, 5), CT_F32, (tu_layout)layout, -1, 1);
        double want[15];
        for (int i = 0; i < 15; i++) want[i] = 0.5;
        assert_ptr_equal(ct_init_constant_(t, 0.5), t);
        tu_assert_values(t, CT_SHAPE(3, 5), want, 0, 0);
        for (int i = 0; i < 15; i++) want[i] = 1;
        ct_init_ones_(t);
        tu_assert_values(t, CT_SHAPE(3, 5), want, 0, 0);
        for (int i = 0; i < 15; i++) want[i] = 0;
        ct_init_zeros_(t);
        tu_assert_values(t, CT_SHAPE(3, 5), want, 0, 0);
        ct_init_constant_(t, 7);
        assert_ptr_equal(ct_init_eye_(t), t);
        for (int i = 0; i < 15; i++) want[i] = i / 5 == i % 5;
        tu_assert_values(t, CT_SHAPE(3, 5), want, 0, 0);
        /* tall */
        ct_tensor *u = tu_random(&rng, CT_SHAPE(5, 3), CT_F64, (tu_layout)layout, -1, 1);
        ct_init_eye_(u);
        for (int i = 0; i < 15; i++) want[i] = i / 3 == i % 3;
        tu_assert_values(u, CT_SHAPE(5, 3), want, 0, 0);
    }
    /* integer tensors take constants; empty tensors are fine */
    ct_tensor *i = ct_init_constant_(ct_empty(CT_SHAPE(4), .dtype = CT_I64), 3);
    tu_assert_values(i, CT_SHAPE(4), (double[]){3, 3, 3, 3}, 0, 0);
    assert_non_null(ct_init_eye_(ct_empty(CT_SHAPE(0, 3))));
    assert_non_null(ct_init_ones_(ct_empty(CT_SHAPE(0))));
}

/* ---- gains and fans ------------------------------------------------------------------------------ */

static void test_gain_table(void **state) {
    (void)state;
    /* torch.nn.init.calculate_gain, torch 1.13 */
    static const struct {
        ct_nonlinearity nl;
        double want;
    } table[] = {
        {CT_NL_LINEAR, 1},
        {CT_NL_CONV1D, 1},
        {CT_NL_CONV2D, 1},
        {CT_NL_CONV3D, 1},
        {CT_NL_CONV_TRANSPOSE1D, 1},
        {CT_NL_CONV_TRANSPOSE2D, 1},
        {CT_NL_CONV_TRANSPOSE3D, 1},
        {CT_NL_SIGMOID, 1},
        {CT_NL_TANH, 1.6666666666666667},
        {CT_NL_RELU, 1.4142135623730951},
        {CT_NL_LEAKY_RELU, 1.4141428569978354},
        {CT_NL_SELU, 0.75},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        assert_near(ct_calculate_gain(table[i].nl), table[i].want, 1e-15);
    assert_near(ct_calculate_gain(CT_NL_LEAKY_RELU, .param = 0.2), 1.3867504905630728, 1e-15);
    assert_near(ct_calculate_gain(CT_NL_LEAKY_RELU, .param = 0), sqrt(2.0), 1e-15);
    assert_near(ct_calculate_gain(CT_NL_LEAKY_RELU, .param = sqrt(5.0)), sqrt(1.0 / 3), 1e-15);
    assert_near(ct_calculate_gain(CT_NL_RELU, .param = 0.2), sqrt(2.0), 1e-15); /* param ignored */
    assert_true(ct_ok());
}

static void test_fans(void **state) {
    (void)state;
    int64_t fi = -1, fo = -1;
    assert_true(ct_calculate_fan_in_and_fan_out(ct_empty(CT_SHAPE(4, 3)), &fi, &fo));
    assert_int_equal(fi, 3);
    assert_int_equal(fo, 4);
    assert_true(ct_calculate_fan_in_and_fan_out(ct_empty(CT_SHAPE(8, 4, 3, 5)), &fi, &fo));
    assert_int_equal(fi, 60);
    assert_int_equal(fo, 120);
    assert_true(ct_calculate_fan_in_and_fan_out(ct_empty(CT_SHAPE(6, 2, 7)), &fi, &fo));
    assert_int_equal(fi, 14);
    assert_int_equal(fo, 42);
    /* a transposed view: sizes, not strides, decide */
    assert_true(ct_calculate_fan_in_and_fan_out(ct_t(ct_empty(CT_SHAPE(4, 3))), &fi, &fo));
    assert_int_equal(fi, 4);
    assert_int_equal(fo, 3);
}

/* ---- variance scaling ------------------------------------------------------------------------- */

static void test_xavier(void **state) {
    (void)state;
    for (int d = 0; d < 2; d++) {
        ct_dtype dtype = d ? CT_F64 : CT_F32;
        /* conv weight: fan_in = 32 * 25, fan_out = 128 * 25 */
        ct_tensor *w = param(CT_SHAPE(128, 32, 5, 5), dtype);
        for (int g = 0; g < 2; g++) {
            double gain = g ? 2.5 : 1;
            double bound = gain * sqrt(6.0 / (800 + 3200));
            assert_ptr_equal(ct_init_xavier_uniform_(w, .gain = gain), w);
            moments m = moments_of(w);
            /* the bound is exactly respected and nearly reached */
            assert_true(m.min >= -bound && m.max <= bound);
            assert_true(m.min < -0.995 * bound && m.max > 0.995 * bound);
            assert_close(m.std, bound / sqrt(3.0), 0.02, "xavier_uniform_ std");
            assert_true(fabs(m.mean) < 0.02 * bound);

            double std = gain * sqrt(2.0 / (800 + 3200));
            assert_ptr_equal(ct_init_xavier_normal_(w, .gain = gain), w);
            m = moments_of(w);
            assert_close(m.std, std, 0.02, "xavier_normal_ std");
            assert_true(fabs(m.mean) < 0.02 * std);
        }
    }
    /* Linear weight [out, in] */
    ct_tensor *lin = param(CT_SHAPE(300, 700), CT_F32);
    ct_init_xavier_uniform_(lin);
    moments m = moments_of(lin);
    double bound = sqrt(6.0 / 1000);
    assert_true(m.min >= -bound && m.max <= bound);
    assert_close(m.std, bound / sqrt(3.0), 0.01, "xavier_uniform_ linear std");
}

static void test_kaiming(void **state) {
    (void)state;
    ct_tensor *w = param(CT_SHAPE(128, 64, 3, 3), CT_F32); /* fan_in 576, fan_out 1152 */
    /* defaults: a = 0, fan_in, leaky_relu -> gain sqrt(2) */
    double std = sqrt(2.0) / sqrt(576.0), bound = sqrt(3.0) * std;
    assert_ptr_equal(ct_init_kaiming_uniform_(w), w);
    moments m = moments_of(w);
    assert_true(m.min >= -bound && m.max <= bound && m.max > 0.99 * bound);
    assert_close(m.std, std, 0.02, "kaiming_uniform_ default std");
    assert_ptr_equal(ct_init_kaiming_normal_(w), w);
    m = moments_of(w);
    assert_close(m.std, std, 0.02, "kaiming_normal_ default std");

    /* nn.Linear's reset_parameters: a = sqrt(5) gives bound 1 / sqrt(fan_in) */
    ct_tensor *lin = param(CT_SHAPE(256, 400), CT_F64);
    ct_init_kaiming_uniform_(lin, .a = sqrt(5.0));
    m = moments_of(lin);
    bound = 1 / sqrt(400.0);
    assert_true(m.min >= -bound - 1e-15 && m.max <= bound + 1e-15 && m.max > 0.99 * bound);
    assert_close(m.std, bound / sqrt(3.0), 0.02, "kaiming_uniform_ a=sqrt(5) std");

    /* fan_out with relu, and tanh */
    ct_init_kaiming_normal_(w, .mode = CT_FAN_OUT, .nonlinearity = CT_NL_RELU);
    m = moments_of(w);
    assert_close(m.std, sqrt(2.0 / 1152), 0.02, "kaiming_normal_ fan_out relu std");
    ct_init_kaiming_uniform_(w, .mode = CT_FAN_OUT, .nonlinearity = CT_NL_TANH);
    m = moments_of(w);
    bound = sqrt(3.0) * (5.0 / 3) / sqrt(1152.0);
    assert_true(m.min >= -bound && m.max <= bound);
    assert_close(m.std, bound / sqrt(3.0), 0.02, "kaiming_uniform_ fan_out tanh std");

    /* zero-element tensors are left alone, even with fewer than 2 dims (PyTorch warns) */
    ct_log_set_level(CT_LOG_ERROR);
    ct_tensor *e = ct_empty(CT_SHAPE(0));
    assert_ptr_equal(ct_init_kaiming_uniform_(e), e);
    assert_ptr_equal(ct_init_kaiming_normal_(ct_empty(CT_SHAPE(0, 4))) != NULL, true);
    ct_log_set_level(CT_LOG_INFO);
    assert_true(ct_ok());
    /* xavier on an empty 2-D tensor is a no-op too */
    assert_non_null(ct_init_xavier_uniform_(ct_empty(CT_SHAPE(0, 0))));
}

/* ---- orthogonal ---------------------------------------------------------------------------------- */

/* Asserts a (rows x rows) == gain^2 I within tol. */
static void assert_identity(const ct_tensor *a, int64_t n, double scale, double tol) {
    double *want = test_malloc(sizeof(double) * (size_t)(n * n));
    for (int64_t i = 0; i < n * n; i++) want[i] = i / n == i % n ? scale : 0;
    tu_assert_values(a, CT_SHAPE(n, n), want, 0, tol);
    test_free(want);
}

static void test_orthogonal(void **state) {
    (void)state;
    static const struct {
        ct_shape shape;
        int64_t rows, cols;
    } cases[] = {
        {CT_SHAPE(20, 50), 20, 50},       /* wide: rows orthonormal */
        {CT_SHAPE(50, 20), 50, 20},       /* tall: columns orthonormal */
        {CT_SHAPE(33, 33), 33, 33},       /* square */
        {CT_SHAPE(8, 2, 3, 3), 8, 18},    /* conv weight, flattened to [8, 18] */
        {CT_SHAPE(40, 2, 2, 1), 40, 4},   /* tall conv */
        {CT_SHAPE(1, 7), 1, 7},           /* one row: a unit vector */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (int d = 0; d < 2; d++) CT_SCOPE {
            ct_dtype dtype = d ? CT_F64 : CT_F32;
            double tol = d ? 1e-12 : 1e-5;
            for (int g = 0; g < 2; g++) {
                double gain = g ? 3 : 1;
                ct_tensor *w = param(cases[c].shape, dtype);
                assert_ptr_equal(ct_init_orthogonal_(w, .gain = gain), w);
                ct_tensor *m = ct_to_dtype(ct_reshape(ct_detach(w), CT_SHAPE(cases[c].rows, cases[c].cols)), CT_F64);
                int64_t k = cases[c].rows < cases[c].cols ? cases[c].rows : cases[c].cols;
                ct_tensor *gram = cases[c].rows < cases[c].cols ? ct_mm(m, ct_t(m)) : ct_mm(ct_t(m), m);
                assert_identity(gram, k, gain * gain, tol * gain * gain);
            }
        }
    }
}

/* orthogonal_ is the Q of the QR decomposition of the normal draw it makes, with R's diagonal
 * made positive: reproduce the draw with the same seed and check Q^T G is upper triangular with a
 * positive diagonal (tall), and W G^T likewise (wide, where G^T = W^T R). */
static void test_orthogonal_is_q_of_the_draw(void **state) {
    (void)state;
    static const int64_t shapes[][2] = {{30, 12}, {12, 30}, {16, 16}};
    for (int s = 0; s < 3; s++) {
        int64_t rows = shapes[s][0], cols = shapes[s][1];
        ct_manual_seed(1234 + s);
        ct_tensor *g = ct_randn(CT_SHAPE(rows, cols), .dtype = CT_F64);
        ct_manual_seed(1234 + s);
        ct_tensor *w = ct_init_orthogonal_(ct_empty(CT_SHAPE(rows, cols), .dtype = CT_F64));
        ct_tensor *r = rows >= cols ? ct_mm(ct_t(w), g) : ct_mm(w, ct_t(g));
        int64_t k = rows >= cols ? cols : rows;
        double *v = tu_values(r);
        for (int64_t i = 0; i < k; i++) {
            assert_true(v[i * k + i] > 0);
            for (int64_t j = 0; j < i; j++)
                if (fabs(v[i * k + j]) > 1e-10) fail_msg("R[%lld][%lld] = %g below the diagonal", (long long)i, (long long)j, v[i * k + j]);
        }
    }
}

/* ---- truncated normal ------------------------------------------------------------------------- */

/* Mean and std of N(mu, sigma^2) truncated to [a, b] (closed forms with the normal pdf/cdf). */
static void trunc_moments(double mu, double sigma, double a, double b, double *mean, double *std) {
    double al = (a - mu) / sigma, be = (b - mu) / sigma;
    double pa = isinf(al) ? 0 : exp(-al * al / 2) / sqrt(2 * M_PI), pb = isinf(be) ? 0 : exp(-be * be / 2) / sqrt(2 * M_PI);
    double z = (erf(be / sqrt(2.0)) - erf(al / sqrt(2.0))) / 2;
    double ta = isinf(al) ? 0 : al * pa, tb = isinf(be) ? 0 : be * pb;
    *mean = mu + sigma * (pa - pb) / z;
    *std = sigma * sqrt(1 + (ta - tb) / z - ((pa - pb) / z) * ((pa - pb) / z));
}

static void test_trunc_normal(void **state) {
    (void)state;
    static const struct {
        double mean, std, a, b;
    } cases[] = {
        {0, 1, -2, 2},          /* the defaults */
        {0, 1, 0, INFINITY},    /* half normal */
        {1, 0.5, 0, 2},         /* shifted, scaled */
        {0, 0.02, -0.04, 0.04}, /* ViT-style */
        {0, 1, 1, 3},           /* one-sided tail window */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (int d = 0; d < 2; d++) CT_SCOPE {
            ct_tensor *t = param(CT_SHAPE(300, 400), d ? CT_F64 : CT_F32);
            ct_tensor *r = c == 0 ? ct_init_trunc_normal_(t)
                                  : ct_init_trunc_normal_(t, .mean = cases[c].mean, .std = cases[c].std,
                                                          .a = cases[c].a, .b = cases[c].b);
            assert_ptr_equal(r, t);
            moments m = moments_of(t);
            assert_true(m.min >= cases[c].a && m.max <= cases[c].b);
            double mean, std;
            trunc_moments(cases[c].mean, cases[c].std, cases[c].a, cases[c].b, &mean, &std);
            if (!(fabs(m.mean - mean) <= 0.01 * std)) fail_msg("trunc_normal_ case %zu mean %g, want %g", c, m.mean, mean);
            assert_close(m.std, std, 0.01, "trunc_normal_ std");
        }
    }
}

static void count_warning(ct_log_level level, const char *message, void *user) {
    if (level == CT_LOG_WARN && strstr(message, (const char *)((void **)user)[0])) (*(int *)((void **)user)[1])++;
}

/* PyTorch's warnings: trunc_normal_ with the mean more than 2 std outside [a, b], kaiming_* on a
 * zero-element tensor. */
static void test_warnings(void **state) {
    (void)state;
    int n = 0;
    void *user[2] = {"mean is more than 2 std from [a, b] in nn.init.trunc_normal_", &n};
    ct_log_set_handler(count_warning, user);
    ct_tensor *t = ct_empty(CT_SHAPE(100));
    ct_init_trunc_normal_(t, .mean = 5);
    assert_int_equal(n, 1);
    moments m = moments_of(t);
    assert_true(m.min >= -2 && m.max <= 2); /* still within [a, b] */
    ct_init_trunc_normal_(t, .mean = 3.9);   /* within 2 std: no warning */
    assert_int_equal(n, 1);
    user[0] = "kaiming_uniform_: Initializing zero-element tensors is a no-op";
    ct_init_kaiming_uniform_(ct_empty(CT_SHAPE(0, 5)));
    assert_int_equal(n, 2);
    ct_log_set_handler(NULL, NULL);
    assert_true(ct_ok());
}

/* ---- grad mode, views, reproducibility -------------------------------------------------------- */

typedef ct_tensor *(*init_fn)(ct_tensor *t);
static ct_tensor *i_uniform(ct_tensor *t) { return ct_init_uniform_(t, .a = -1, .b = 1); }
static ct_tensor *i_normal(ct_tensor *t) { return ct_init_normal_(t); }
static ct_tensor *i_constant(ct_tensor *t) { return ct_init_constant_(t, 0.25); }
static ct_tensor *i_eye(ct_tensor *t) { return ct_init_eye_(t); }
static ct_tensor *i_xavier_u(ct_tensor *t) { return ct_init_xavier_uniform_(t); }
static ct_tensor *i_xavier_n(ct_tensor *t) { return ct_init_xavier_normal_(t); }
static ct_tensor *i_kaiming_u(ct_tensor *t) { return ct_init_kaiming_uniform_(t); }
static ct_tensor *i_kaiming_n(ct_tensor *t) { return ct_init_kaiming_normal_(t); }
static ct_tensor *i_orthogonal(ct_tensor *t) { return ct_init_orthogonal_(t); }
static ct_tensor *i_trunc(ct_tensor *t) { return ct_init_trunc_normal_(t); }
static const struct {
    const char *name;
    init_fn fn;
    bool random;
} inits[] = {
    {"uniform_", i_uniform, true},       {"normal_", i_normal, true},
    {"constant_", i_constant, false},    {"eye_", i_eye, false},
    {"zeros_", ct_init_zeros_, false},   {"ones_", ct_init_ones_, false},
    {"xavier_uniform_", i_xavier_u, true}, {"xavier_normal_", i_xavier_n, true},
    {"kaiming_uniform_", i_kaiming_u, true}, {"kaiming_normal_", i_kaiming_n, true},
    {"orthogonal_", i_orthogonal, true}, {"trunc_normal_", i_trunc, true},
};
#define N_INITS (sizeof inits / sizeof inits[0])

/* Leaves that require grad are written without being recorded, and stay leaves that require grad
 * with no grad_fn; grad mode is unchanged afterwards; a backward through them works. */
static void test_leaves_requiring_grad(void **state) {
    (void)state;
    for (size_t i = 0; i < N_INITS; i++) CT_SCOPE {
        ct_tensor *p = param(CT_SHAPE(6, 4), CT_F64);
        if (inits[i].fn(p) != p) fail_msg("%s on a leaf requiring grad: %s", inits[i].name, ct_last_error());
        assert_true(ct_is_grad_enabled());
        assert_true(ct_requires_grad(p));
        assert_true(ct_is_leaf(p));
        assert_null(ct_grad_fn_name(p));
        assert_true(ct_backward(ct_sum(ct_mul(p, p))));
        double *g = tu_values(ct_grad(p)), *v = tu_values(p);
        for (int k = 0; k < 24; k++) assert_near(g[k], 2 * v[k], 0);
    }
}

/* Every initializer accepts zero-element tensors (kaiming_* warn, as PyTorch does). */
static void test_empty_tensors(void **state) {
    (void)state;
    ct_log_set_level(CT_LOG_ERROR);
    for (size_t i = 0; i < N_INITS; i++) CT_SCOPE {
        ct_tensor *t = ct_empty(CT_SHAPE(0, 3));
        if (inits[i].fn(t) != t) fail_msg("%s on [0, 3]: %s", inits[i].name, ct_last_error());
        ct_tensor *u = ct_empty(CT_SHAPE(4, 0, 2));
        if (inits[i].fn != i_eye && inits[i].fn(u) != u) fail_msg("%s on [4, 0, 2]: %s", inits[i].name, ct_last_error());
    }
    ct_log_set_level(CT_LOG_INFO);
}

/* Each initializer writes through a transposed or stepped view into its base; elements outside
 * the view keep their values. */
static void test_writes_through_views(void **state) {
    (void)state;
    for (size_t i = 0; i < N_INITS; i++) CT_SCOPE {
        ct_tensor *base = ct_full(CT_SHAPE(5, 12), 99.0);
        ct_tensor *view = ct_slice(ct_t(base), 0, 0, CT_END, 2); /* [6, 5], strides (2, 12) */
        if (inits[i].fn(view) != view) fail_msg("%s on a view: %s", inits[i].name, ct_last_error());
        double *b = tu_values(base);
        int changed = 0;
        for (int r = 0; r < 5; r++)
            for (int c = 0; c < 12; c++) {
                if (c % 2) assert_near(b[r * 12 + c], 99.0, 0);
                else changed += b[r * 12 + c] != 99.0;
            }
        assert_int_equal(changed, 30);
        if (inits[i].fn == i_orthogonal) { /* the view itself is orthogonal: [6, 5] tall */
            ct_tensor *m = ct_to_dtype(view, CT_F64);
            assert_identity(ct_mm(ct_t(m), m), 5, 1, 1e-5);
        }
    }
}

static void test_reproducible_with_manual_seed(void **state) {
    (void)state;
    for (size_t i = 0; i < N_INITS; i++) CT_SCOPE {
        if (!inits[i].random) continue;
        ct_tensor *a = ct_empty(CT_SHAPE(16, 9)), *b = ct_empty(CT_SHAPE(16, 9)), *c = ct_empty(CT_SHAPE(16, 9));
        ct_manual_seed(42);
        inits[i].fn(a);
        inits[i].fn(c); /* the generator moved on: different values */
        ct_manual_seed(42);
        inits[i].fn(b);
        double *va = tu_values(a);
        tu_assert_values(b, CT_SHAPE(16, 9), va, 0, 0);
        double *vc = tu_values(c);
        int same = 0;
        for (int k = 0; k < 144; k++) same += va[k] == vc[k];
        if (same > 2) fail_msg("%s: %d of 144 values repeat without reseeding", inits[i].name, same);
    }
}

/* ---- errors ---------------------------------------------------------------------------------- */

static void test_errors(void **state) {
    (void)state;
    ct_tensor *v = ct_empty(CT_SHAPE(5));
    const char *fan = "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions";
    int64_t fi, fo;
    assert_false(ct_calculate_fan_in_and_fan_out(v, &fi, &fo));
    tu_assert_error(CT_ERR_SHAPE, fan);
    assert_null(ct_init_xavier_uniform_(v));
    tu_assert_error(CT_ERR_SHAPE, "xavier_uniform_: Fan in and fan out can not be computed");
    assert_null(ct_init_xavier_normal_(ct_scalar_tensor(1)));
    tu_assert_error(CT_ERR_SHAPE, fan);
    assert_null(ct_init_kaiming_uniform_(v));
    tu_assert_error(CT_ERR_SHAPE, "kaiming_uniform_: Fan in and fan out");
    assert_null(ct_init_kaiming_normal_(v));
    tu_assert_error(CT_ERR_SHAPE, fan);

    assert_null(ct_init_eye_(ct_empty(CT_SHAPE(2, 2, 2))));
    tu_assert_error(CT_ERR_SHAPE, "eye_: Only tensors with 2 dimensions are supported");
    assert_null(ct_init_eye_(v));
    tu_assert_error(CT_ERR_SHAPE, "Only tensors with 2 dimensions are supported");
    assert_null(ct_init_orthogonal_(v));
    tu_assert_error(CT_ERR_SHAPE, "orthogonal_: Only tensors with 2 or more dimensions are supported");

    assert_true(isnan(ct_calculate_gain((ct_nonlinearity)99)));
    tu_assert_error(CT_ERR_ARG, "calculate_gain: Unsupported nonlinearity 99");
    assert_null(ct_init_kaiming_uniform_(ct_empty(CT_SHAPE(3, 3)), .nonlinearity = (ct_nonlinearity)-2));
    tu_assert_error(CT_ERR_ARG, "Unsupported nonlinearity -2");
    assert_null(ct_init_kaiming_normal_(ct_empty(CT_SHAPE(3, 3)), .mode = (ct_fan_mode)5));
    tu_assert_error(CT_ERR_ARG, "kaiming_normal_: Mode 5 not supported, please use one of");

    /* the underlying draws' errors */
    ct_tensor *ints = ct_zeros(CT_SHAPE(3, 3), .dtype = CT_I64);
    assert_null(ct_init_uniform_(ints));
    tu_assert_error(CT_ERR_DTYPE, "\"check_uniform_bounds\" not implemented for 'Long'");
    assert_null(ct_init_xavier_uniform_(ints));
    tu_assert_error(CT_ERR_DTYPE, "\"check_uniform_bounds\" not implemented for 'Long'");
    assert_null(ct_init_trunc_normal_(ints));
    tu_assert_error(CT_ERR_DTYPE, "\"check_uniform_bounds\" not implemented for 'Long'");
    assert_null(ct_init_orthogonal_(ints));
    tu_assert_error(CT_ERR_DTYPE, "not implemented for 'Long'");
    assert_null(ct_init_normal_(ct_empty(CT_SHAPE(2)), .std = -1));
    tu_assert_error(CT_ERR_ARG, "normal expects std >= 0.0, but found std -1");
    assert_null(ct_init_uniform_(ct_empty(CT_SHAPE(2)), .a = 2, .b = 1));
    tu_assert_error(CT_ERR_ARG, "expects to return a [from, to) range, but found from=2 > to=1");
    /* an expanded tensor cannot be written element by element */
    assert_null(ct_init_normal_(ct_expand(ct_zeros(CT_SHAPE(1, 3)), CT_SHAPE(4, 3))));
    assert_false(ct_ok());
    ct_clear_error();

    /* NULL inputs propagate, keeping the first error */
    ct_error(CT_ERR_INDEX, "earlier failure");
    assert_null(ct_init_uniform_(NULL));
    assert_null(ct_init_normal_(NULL));
    assert_null(ct_init_constant_(NULL, 1));
    assert_null(ct_init_zeros_(NULL));
    assert_null(ct_init_ones_(NULL));
    assert_null(ct_init_eye_(NULL));
    assert_null(ct_init_xavier_uniform_(NULL));
    assert_null(ct_init_xavier_normal_(NULL));
    assert_null(ct_init_kaiming_uniform_(NULL));
    assert_null(ct_init_kaiming_normal_(NULL));
    assert_null(ct_init_orthogonal_(NULL));
    assert_null(ct_init_trunc_normal_(NULL));
    assert_false(ct_calculate_fan_in_and_fan_out(NULL, &fi, &fo));
    tu_assert_error(CT_ERR_INDEX, "earlier failure");
    assert_null(ct_init_orthogonal_(NULL));
    tu_assert_error(CT_ERR_NULL, "orthogonal_: argument 1 is NULL");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uniform_and_normal_moments),
        cmocka_unit_test(test_constant_zeros_ones_eye),
        cmocka_unit_test(test_gain_table),
        cmocka_unit_test(test_fans),
        cmocka_unit_test(test_xavier),
        cmocka_unit_test(test_kaiming),
        cmocka_unit_test(test_orthogonal),
        cmocka_unit_test(test_orthogonal_is_q_of_the_draw),
        cmocka_unit_test(test_trunc_normal),
        cmocka_unit_test(test_warnings),
        cmocka_unit_test(test_leaves_requiring_grad),
        cmocka_unit_test(test_empty_tensors),
        cmocka_unit_test(test_writes_through_views),
        cmocka_unit_test(test_reproducible_with_manual_seed),
        cmocka_unit_test(test_errors),
    };
    return TU_RUN("nn_init", tests);
}
