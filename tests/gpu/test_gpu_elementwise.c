/* CUDA elementwise ops, copies and casts, randomness and dropout against the CPU: each op runs on
 * the same values on both devices, with the CUDA inputs laid out non-contiguously on the device
 * (transposed, stepped, offset, broadcast), and the results are compared in float64. */
#include "../common/testutil.h"

#include <math.h>

#define GPU CT_CUDA(0)

static const ct_dtype float_dtypes[] = {CT_F32, CT_F64, CT_F16, CT_BF16};
static const ct_dtype int_dtypes[] = {CT_I64, CT_I32, CT_U8};

/* Relative tolerance of a dtype: f32 1e-5 as the brief asks; 16-bit floats one or two ulps. */
static double rtol_of(ct_dtype dt) {
    return dt == CT_F64 ? 1e-12 : dt == CT_F32 ? 1e-5 : dt == CT_F16 ? 2e-3 : dt == CT_BF16 ? 1.6e-2 : 0;
}

/* The CUDA twin of a CPU tensor in the same logical values but a device layout of its own:
 * contiguous, transposed (last two dims), stepped (every other column of a wider tensor) or
 * offset (a narrow view past the storage's start). */
static ct_tensor *on_gpu(const ct_tensor *x, tu_layout layout) {
    int nd = (int)ct_ndim(x);
    switch (layout) {
    case TU_TRANSPOSED:
        return ct_transpose(ct_to(ct_contiguous(ct_transpose(x, nd - 2, nd - 1)), GPU), nd - 2, nd - 1);
    case TU_STEPPED: {
        ct_tensor *wide = ct_zeros(CT_SHAPE(ct_size(x, 0), 2 * ct_size(x, 1)), .dtype = ct_dtype_of(x), .device = GPU);
        ct_tensor *view = ct_slice(wide, 1, 0, 2 * ct_size(x, 1), 2);
        return ct_copy_(view, x) ? view : NULL;
    }
    case TU_OFFSET: {
        ct_tensor *big = ct_zeros(CT_SHAPE(ct_size(x, 0) + 1, ct_size(x, 1)), .dtype = ct_dtype_of(x), .device = GPU);
        ct_tensor *view = ct_narrow(big, 0, 1, ct_size(x, 0));
        return ct_copy_(view, x) ? view : NULL;
    }
    default: return ct_to(x, GPU);
    }
}

static void assert_same(const ct_tensor *cpu, const ct_tensor *gpu, double rtol, double atol, const char *what) {
    if (!cpu || !gpu) fail_msg("%s: %s", what, ct_last_error());
    assert_true(ct_device_equal(ct_device_of(gpu), GPU));
    assert_int_equal(ct_dtype_of(cpu), ct_dtype_of(gpu));
    ct_tensor *back = ct_to(gpu, CT_CPU);
    print_message("%s\n", what);
    tu_assert_values(back, ct_shape_of(cpu), tu_values(cpu), rtol, atol);
}

/* ---- unary ---- */

typedef ct_tensor *(*unary_fn)(const ct_tensor *);
static ct_tensor *gelu_erf(const ct_tensor *t) { return ct_gelu(t); }
static ct_tensor *gelu_tanh(const ct_tensor *t) { return ct_gelu(t, .approximate = CT_GELU_TANH); }
static ct_tensor *leaky(const ct_tensor *t) { return ct_leaky_relu(t, 0.1); }
static ct_tensor *elu(const ct_tensor *t) { return ct_elu(t, 1.5); }
static ct_tensor *softplus(const ct_tensor *t) { return ct_softplus(t, .beta = 2, .threshold = 3); }
static ct_tensor *clamp(const ct_tensor *t) { return ct_clamp(t, -1, 2); }
static ct_tensor *nan_to_num(const ct_tensor *t) {
    return ct_nan_to_num_opt(ct_log(t), (ct_nan_to_num_opts){.nan = 7, .posinf = NAN, .neginf = -5});
}

typedef struct unary_case {
    const char *name;
    unary_fn fn;
    double lo, hi;
    bool ints; /* also run on integer dtypes */
} unary_case;

static const unary_case unary_cases[] = {
    {"neg", ct_neg, -3, 3, true},         {"abs", ct_abs, -3, 3, true},       {"sign", ct_sign, -3, 3, true},
    {"square", ct_square, -3, 3, true},   {"relu", ct_relu, -3, 3, true},     {"clamp", clamp, -3, 3, true},
    {"floor", ct_floor, -3, 3, false},    {"ceil", ct_ceil, -3, 3, false},    {"round", ct_round, -3, 3, false},
    {"trunc", ct_trunc, -3, 3, false},    {"sqrt", ct_sqrt, 0.1, 4, false},   {"rsqrt", ct_rsqrt, 0.1, 4, false},
    {"reciprocal", ct_reciprocal, 0.5, 4, false}, {"exp", ct_exp, -3, 3, false}, {"log", ct_log, 0.1, 4, false},
    {"log2", ct_log2, 0.1, 4, false},     {"log1p", ct_log1p, -0.5, 3, false}, {"expm1", ct_expm1, -2, 2, false},
    {"sin", ct_sin, -3, 3, false},        {"cos", ct_cos, -3, 3, false},      {"tan", ct_tan, -1, 1, false},
    {"tanh", ct_tanh, -3, 3, false},      {"erf", ct_erf, -2, 2, false},      {"sigmoid", ct_sigmoid, -4, 4, false},
    {"silu", ct_silu, -4, 4, false},      {"gelu", gelu_erf, -3, 3, false},   {"gelu_tanh", gelu_tanh, -3, 3, false},
    {"leaky_relu", leaky, -3, 3, false},  {"elu", elu, -3, 3, false},         {"softplus", softplus, -3, 3, false},
    {"nan_to_num", nan_to_num, -1, 3, false}, {"isnan", ct_isnan, -1, 1, false}, {"logical_not", ct_logical_not, -1, 1, true},
};

static void run_unary(const unary_case *c, ct_dtype dt, uint64_t *rng) {
    for (int layout = 0; layout < TU_EXPANDED; layout++) CT_SCOPE {
        ct_tensor *x = tu_random(rng, CT_SHAPE(6, 9), dt, TU_CONTIGUOUS, c->lo, c->hi);
        if (dt == CT_U8) x = ct_abs(x);
        char what[96];
        snprintf(what, sizeof what, "%s %s %s", c->name, ct_dtype_name(dt), tu_layout_names[layout]);
        ct_tensor *want = c->fn(x), *got = c->fn(on_gpu(x, (tu_layout)layout));
        ct_dtype odt = want ? ct_dtype_of(want) : dt;
        assert_same(want, got, rtol_of(odt), rtol_of(odt) * 1e-2, what);
    }
}

static void unary_ops(void **state) {
    (void)state;
    uint64_t rng = 1;
    for (size_t i = 0; i < sizeof unary_cases / sizeof *unary_cases; i++) {
        for (size_t d = 0; d < 4; d++) run_unary(&unary_cases[i], float_dtypes[d], &rng);
        if (unary_cases[i].ints)
            for (size_t d = 0; d < 3; d++) run_unary(&unary_cases[i], int_dtypes[d], &rng);
    }
}

/* ---- binary ---- */

typedef ct_tensor *(*binary_fn)(const ct_tensor *, const ct_tensor *);
static ct_tensor *add2(const ct_tensor *a, const ct_tensor *b) { return ct_add(a, b, .alpha = 2); }
static ct_tensor *sub(const ct_tensor *a, const ct_tensor *b) { return ct_sub(a, b); }
static ct_tensor *divide(const ct_tensor *a, const ct_tensor *b) { return ct_div(a, b); }
static ct_tensor *div_trunc(const ct_tensor *a, const ct_tensor *b) { return ct_div(a, b, .rounding_mode = CT_ROUND_TRUNC); }
static ct_tensor *div_floor(const ct_tensor *a, const ct_tensor *b) { return ct_div(a, b, .rounding_mode = CT_ROUND_FLOOR); }

typedef struct binary_case {
    const char *name;
    binary_fn fn;
    double lo, hi; /* b is drawn from [lo, hi) too, kept away from 0 for divisions */
    bool ints, nonzero_b;
} binary_case;

static const binary_case binary_cases[] = {
    {"add", add2, -5, 5, true, false},          {"sub", sub, -5, 5, true, false},
    {"mul", ct_mul, -5, 5, true, false},        {"div", divide, -5, 5, true, true},
    {"div_trunc", div_trunc, -9, 9, true, true}, {"div_floor", div_floor, -9, 9, true, true},
    {"pow", ct_pow, 0.5, 3, true, false},       {"minimum", ct_minimum, -5, 5, true, false},
    {"maximum", ct_maximum, -5, 5, true, false}, {"remainder", ct_remainder, -9, 9, true, true},
    {"atan2", ct_atan2, -3, 3, false, false},
    {"eq", ct_eq, -2, 2, true, false},          {"ne", ct_ne, -2, 2, true, false},
    {"lt", ct_lt, -2, 2, true, false},          {"le", ct_le, -2, 2, true, false},
    {"gt", ct_gt, -2, 2, true, false},          {"ge", ct_ge, -2, 2, true, false},
    {"logical_and", ct_logical_and, -1, 1, true, false}, {"logical_or", ct_logical_or, -1, 1, true, false},
    {"logical_xor", ct_logical_xor, -1, 1, true, false},
};

static void run_binary(const binary_case *c, ct_dtype dt, uint64_t *rng) {
    for (int layout = 0; layout < TU_EXPANDED + 1; layout++) CT_SCOPE {
        ct_tensor *a = tu_random(rng, CT_SHAPE(6, 9), dt, TU_CONTIGUOUS, c->lo, c->hi);
        /* TU_EXPANDED: b is one row broadcast over a's rows (stride 0 on the device too) */
        ct_shape bs = layout == TU_EXPANDED ? CT_SHAPE(1, 9) : CT_SHAPE(6, 9);
        ct_tensor *b = tu_random(rng, bs, dt, TU_CONTIGUOUS, c->lo, c->hi);
        if (dt == CT_U8) a = ct_abs(a), b = ct_abs(b);
        if (c->nonzero_b) b = ct_where(ct_eq(b, ct_zeros_like(b)), ct_ones_like(b), b);
        if (ct_dtype_is_floating(dt) && c->fn == ct_pow) a = ct_abs(a);
        char what[96];
        snprintf(what, sizeof what, "%s %s %s", c->name, ct_dtype_name(dt), tu_layout_names[layout]);
        tu_layout l = layout == TU_EXPANDED ? TU_TRANSPOSED : (tu_layout)layout;
        ct_tensor *want = c->fn(a, b), *got = c->fn(on_gpu(a, l), layout == TU_EXPANDED ? ct_to(b, GPU) : on_gpu(b, l));
        ct_dtype odt = want ? ct_dtype_of(want) : dt;
        assert_same(want, got, rtol_of(odt), rtol_of(odt) * 1e-2, what);
    }
}

static void binary_ops(void **state) {
    (void)state;
    uint64_t rng = 2;
    for (size_t i = 0; i < sizeof binary_cases / sizeof *binary_cases; i++) {
        for (size_t d = 0; d < 4; d++) run_binary(&binary_cases[i], float_dtypes[d], &rng);
        if (binary_cases[i].ints)
            for (size_t d = 0; d < 3; d++) run_binary(&binary_cases[i], int_dtypes[d], &rng);
    }
}

/* A CPU 0-d tensor joins CUDA tensors by value (PyTorch allows it); a CPU 1-d one does not. */
static void cpu_scalars_with_cuda_tensors(void **state) {
    (void)state;
    ct_tensor *x = ct_to(ct_arange(0, 6, 1, .dtype = CT_F32), GPU);
    tu_assert_values(ct_to(ct_add(x, ct_scalar(1.5)), CT_CPU), CT_SHAPE(6), (double[]){1.5, 2.5, 3.5, 4.5, 5.5, 6.5}, 0, 0);
    tu_assert_values(ct_to(ct_mul_scalar(x, 2), CT_CPU), CT_SHAPE(6), (double[]){0, 2, 4, 6, 8, 10}, 0, 0);
    tu_assert_values(ct_to(ct_sub(ct_scalar(1), x), CT_CPU), CT_SHAPE(6), (double[]){1, 0, -1, -2, -3, -4}, 0, 0);
    ct_tensor *i = ct_to(ct_arange(0, 4, 1, .dtype = CT_I64), GPU);
    assert_int_equal(ct_dtype_of(ct_mul(i, ct_scalar(0.5))), CT_F32);
    assert_non_null(ct_add_scalar_(i, 3));
    tu_assert_values(ct_to(i, CT_CPU), CT_SHAPE(4), (double[]){3, 4, 5, 6}, 0, 0);
    assert_null(ct_add(x, ct_ones(CT_SHAPE(1))));
    tu_assert_error(CT_ERR_DEVICE, "cuda:0");
}

static void integer_division_by_zero(void **state) {
    (void)state;
    ct_tensor *a = ct_to(ct_arange(0, 4, 1, .dtype = CT_I64), GPU);
    ct_tensor *b = ct_to(ct_from_data((int64_t[]){1, 2, 0, 3}, CT_SHAPE(4), CT_I64), GPU);
    assert_null(ct_div(a, b, .rounding_mode = CT_ROUND_FLOOR));
    tu_assert_error(CT_ERR_ARG, "ZeroDivisionError");
    assert_null(ct_remainder(a, b));
    tu_assert_error(CT_ERR_ARG, "ZeroDivisionError");
    assert_non_null(ct_div(a, ct_to(ct_ones(CT_SHAPE(4), .dtype = CT_I64), GPU), .rounding_mode = CT_ROUND_TRUNC));
}

/* ---- where, masked_fill, equality ---- */

static void where_and_masked_fill(void **state) {
    (void)state;
    uint64_t rng = 3;
    for (size_t d = 0; d < 4; d++) CT_SCOPE {
        ct_dtype dt = float_dtypes[d];
        ct_tensor *c = ct_gt(tu_random(&rng, CT_SHAPE(6, 9), CT_F32, TU_CONTIGUOUS, -1, 1), ct_scalar(0));
        ct_tensor *a = tu_random(&rng, CT_SHAPE(6, 9), dt, TU_CONTIGUOUS, -3, 3);
        ct_tensor *b = tu_random(&rng, CT_SHAPE(1, 9), dt, TU_CONTIGUOUS, -3, 3);
        assert_same(ct_where(c, a, b), ct_where(on_gpu(c, TU_TRANSPOSED), on_gpu(a, TU_STEPPED), ct_to(b, GPU)), 0, 0,
                    "where");
        assert_same(ct_masked_fill(a, c, 4.5), ct_masked_fill(on_gpu(a, TU_OFFSET), on_gpu(c, TU_TRANSPOSED), 4.5), 0, 0,
                    "masked_fill");
        ct_tensor *g = on_gpu(a, TU_TRANSPOSED);
        assert_true(ct_equal(g, ct_to(a, GPU)));
        assert_false(ct_equal(g, ct_to(ct_masked_fill(a, c, 100), GPU)));
        assert_true(ct_allclose(g, ct_to(a, GPU), 1e-6, 0));
    }
}

/* ---- copies and casts ---- */

static void casts_between_all_dtypes(void **state) {
    (void)state;
    uint64_t rng = 4;
    for (int from = 0; from < CT_NUM_DTYPES; from++)
        for (int to = 0; to < CT_NUM_DTYPES; to++)
            for (int layout = 0; layout < TU_EXPANDED; layout++) CT_SCOPE {
                /* non-negative values: float -> uint8 of negatives is undefined in C */
                ct_tensor *x = tu_random(&rng, CT_SHAPE(5, 7), (ct_dtype)from, TU_CONTIGUOUS, 0, 100);
                char what[64];
                snprintf(what, sizeof what, "cast %s -> %s %s", ct_dtype_name((ct_dtype)from),
                         ct_dtype_name((ct_dtype)to), tu_layout_names[layout]);
                assert_same(ct_to_dtype(x, (ct_dtype)to), ct_to_dtype(on_gpu(x, (tu_layout)layout), (ct_dtype)to), 0, 0,
                            what);
            }
}

/* f32 -> f16/bf16 rounds to nearest even, as PyTorch: halfway cases pick the even neighbour. */
static void half_rounding(void **state) {
    (void)state;
    float v[] = {1.0f + 0x1p-11f, 1.0f + 3 * 0x1p-11f, 65519.0f, 65520.0f, 1e-8f, -0.0f, INFINITY, 1.0f + 0x1p-8f};
    ct_tensor *x = ct_from_data(v, CT_SHAPE(8), CT_F32);
    for (int k = 0; k < 2; k++) {
        ct_dtype dt = k ? CT_BF16 : CT_F16;
        ct_tensor *cpu = ct_to_dtype(x, dt), *gpu = ct_to(ct_to_dtype(ct_to(x, GPU), dt), CT_CPU);
        assert_true(ct_equal(ct_to_dtype(cpu, CT_F32), ct_to_dtype(gpu, CT_F32)));
    }
}

static void strided_copies_across_devices(void **state) {
    (void)state;
    uint64_t rng = 5;
    ct_tensor *x = tu_random(&rng, CT_SHAPE(6, 9), CT_F32, TU_CONTIGUOUS, -3, 3);
    for (int layout = 0; layout < TU_EXPANDED; layout++) CT_SCOPE {
        ct_tensor *g = on_gpu(x, (tu_layout)layout);
        tu_assert_values(ct_to(g, CT_CPU), CT_SHAPE(6, 9), tu_values(x), 0, 0);                  /* device -> host */
        tu_assert_values(ct_to(ct_clone(g), CT_CPU), CT_SHAPE(6, 9), tu_values(x), 0, 0);        /* clone */
        tu_assert_values(ct_to(ct_contiguous(g), CT_CPU), CT_SHAPE(6, 9), tu_values(x), 0, 0);   /* contiguous */
        /* host (strided) -> device (strided), with a conversion */
        ct_tensor *dst = on_gpu(ct_zeros(CT_SHAPE(6, 9), .dtype = CT_F64), (tu_layout)layout);
        assert_non_null(ct_copy_(dst, ct_transpose(ct_contiguous(ct_transpose(x, 0, 1)), 0, 1)));
        tu_assert_values(ct_to(dst, CT_CPU), CT_SHAPE(6, 9), tu_values(x), 1e-7, 0);
        if (ct_cuda_device_count() > 1) { /* device -> device across GPUs */
            ct_tensor *other = ct_to(g, CT_CUDA(1));
            tu_assert_values(ct_to(other, CT_CPU), CT_SHAPE(6, 9), tu_values(x), 0, 0);
        }
    }
}

static void strided_fill(void **state) {
    (void)state;
    ct_tensor *t = ct_zeros(CT_SHAPE(3, 4), .device = GPU);
    assert_non_null(ct_fill_(ct_slice(t, 1, 0, 4, 2), 7));
    tu_assert_values(ct_to(t, CT_CPU), CT_SHAPE(3, 4), (double[]){7, 0, 7, 0, 7, 0, 7, 0, 7, 0, 7, 0}, 0, 0);
}

/* ---- randomness ---- */

static void random_draws_equal_cpu_draws(void **state) {
    (void)state;
    for (size_t d = 0; d < 4; d++) CT_SCOPE {
        ct_dtype dt = float_dtypes[d];
        ct_manual_seed(123);
        ct_tensor *uc = ct_rand(CT_SHAPE(37, 5), .dtype = dt), *nc = ct_randn(CT_SHAPE(37, 5), .dtype = dt);
        ct_manual_seed(123);
        ct_tensor *ug = ct_rand(CT_SHAPE(37, 5), .dtype = dt, .device = GPU);
        ct_tensor *ng = ct_randn(CT_SHAPE(37, 5), .dtype = dt, .device = GPU);
        assert_same(uc, ug, 0, 0, "rand");
        /* Box-Muller through the device's logf/cosf: within a few ulps of glibc */
        assert_same(nc, ng, dt == CT_F64 ? 1e-13 : rtol_of(dt), 1e-6, "randn");
    }
    ct_manual_seed(7);
    ct_tensor *ic = ct_randint(-5, 1000, CT_SHAPE(101)), *wc = ct_randint(0, 1ll << 40, CT_SHAPE(33));
    ct_tensor *bc = ct_bernoulli(ct_full(CT_SHAPE(50), 0.3));
    ct_tensor *pc = ct_randperm(20);
    ct_manual_seed(7);
    assert_same(ic, ct_randint(-5, 1000, CT_SHAPE(101), .device = GPU), 0, 0, "randint");
    assert_same(wc, ct_randint(0, 1ll << 40, CT_SHAPE(33), .device = GPU), 0, 0, "randint 64-bit");
    assert_same(bc, ct_bernoulli(ct_full(CT_SHAPE(50), 0.3, .device = GPU)), 0, 0, "bernoulli");
    assert_same(pc, ct_randperm(20, .device = GPU), 0, 0, "randperm");
    /* normal_ into a strided CUDA view */
    ct_manual_seed(9);
    ct_tensor *vc = ct_normal_(ct_zeros(CT_SHAPE(4, 6)), 1, 2);
    ct_manual_seed(9);
    ct_tensor *vg = ct_normal_(ct_transpose(ct_zeros(CT_SHAPE(6, 4), .device = GPU), 0, 1), 1, 2);
    assert_same(vc, vg, 1e-5, 1e-6, "normal_ strided");
}

/* ---- dropout ---- */

static void dropout_statistics_and_backward(void **state) {
    (void)state;
    ct_manual_seed(11);
    ct_tensor *xc = ct_requires_grad_(ct_ones(CT_SHAPE(256, 256)), true);
    ct_tensor *yc = ct_dropout(xc, .p = 0.3);
    ct_manual_seed(11);
    ct_tensor *xg = ct_requires_grad_(ct_ones(CT_SHAPE(256, 256), .device = GPU), true);
    ct_tensor *yg = ct_dropout(xg, .p = 0.3);
    assert_same(yc, yg, 0, 0, "dropout equals the CPU's for the same seed");
    double kept = ct_item(ct_to(ct_mean(ct_ne(yg, ct_scalar(0)), .dtype = CT_F64), CT_CPU));
    assert_true(fabs(kept - 0.7) < 0.01);
    double mean = ct_item(ct_to(ct_mean(yg), CT_CPU));
    assert_true(fabs(mean - 1.0) < 0.02); /* scaled by 1 / (1 - p): expectation preserved */
    assert_true(ct_backward(ct_sum(ct_mul(yc, yc))));
    assert_true(ct_backward(ct_sum(ct_mul(yg, yg))));
    assert_same(ct_grad(xc), ct_grad(xg), 1e-6, 0, "dropout backward");
}

/* ---- gradients ---- */

typedef ct_tensor *(*graph_fn)(ct_tensor *x, ct_tensor *y);
static ct_tensor *graph_a(ct_tensor *x, ct_tensor *y) { return ct_sum(ct_mul(ct_gelu(x), ct_sigmoid(y))); }
static ct_tensor *graph_b(ct_tensor *x, ct_tensor *y) {
    return ct_sum(ct_div(ct_pow(ct_abs(x), ct_scalar(1.5)), ct_add(ct_exp(y), ct_scalar(1))));
}
/* relu, gelu(tanh) and where: their backward kernels (relu_backward, gelu_backward) run on CUDA */
static ct_tensor *graph_c(ct_tensor *x, ct_tensor *y) {
    return ct_sum(ct_where(ct_gt(x, y), ct_tanh(x), ct_relu(ct_gelu(y, .approximate = CT_GELU_TANH))));
}

static void gradients_match_cpu(void **state) {
    (void)state;
    graph_fn graphs[] = {graph_a, graph_b, graph_c};
    uint64_t rng = 6;
    for (size_t g = 0; g < 3; g++) CT_SCOPE {
        ct_tensor *x = tu_random(&rng, CT_SHAPE(5, 8), CT_F32, TU_CONTIGUOUS, -2, 2);
        ct_tensor *y = tu_random(&rng, CT_SHAPE(1, 8), CT_F32, TU_CONTIGUOUS, -2, 2);
        ct_tensor *xc = ct_requires_grad_(ct_clone(x), true), *yc = ct_requires_grad_(ct_clone(y), true);
        ct_tensor *xg = ct_requires_grad_(ct_to(x, GPU), true), *yg = ct_requires_grad_(ct_to(y, GPU), true);
        assert_true(ct_backward(graphs[g](xc, yc)));
        if (!ct_backward(graphs[g](xg, yg))) fail_msg("backward on cuda: %s", ct_last_error());
        assert_same(ct_grad(xc), ct_grad(xg), 1e-5, 1e-6, "grad x");
        assert_same(ct_grad(yc), ct_grad(yg), 1e-5, 1e-6, "grad y (broadcast: accumulated over rows)");
    }
}

/* The dense (vectorized) kernel over sizes around its tiles (128 threads x 4 vectors: 2048 f32,
 * 4096 f16, 1024 f64, 8192 u8 elements per block) and tails of fewer than one vector, aligned and
 * offset by one element (the element-wise variant), with a broadcast scalar and in place. */
static void dense_sizes_and_tails(void **state) {
    (void)state;
    uint64_t rng = 17;
    const ct_dtype dtypes[] = {CT_F32, CT_F16, CT_F64, CT_U8, CT_I64};
    const int64_t sizes[] = {1, 3, 15, 17, 511, 1024, 2048, 2049, 3 * 4096 + 7, 70001};
    for (size_t di = 0; di < sizeof dtypes / sizeof *dtypes; di++) {
        ct_dtype dt = dtypes[di];
        for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++) {
            int64_t n = sizes[si];
            for (int offset = 0; offset < 2; offset++) CT_SCOPE {
                ct_tensor *a = tu_random(&rng, CT_SHAPE(n), dt, TU_CONTIGUOUS, 0, 100);
                ct_tensor *b = tu_random(&rng, CT_SHAPE(n), dt, TU_CONTIGUOUS, 0, 100);
                /* offset: views one element into a longer buffer, so no 16-byte vector is aligned */
                ct_tensor *ag = offset ? ct_narrow(ct_to(ct_cat(CT_TENSORS(ct_zeros(CT_SHAPE(1), .dtype = dt), a), 0), GPU), 0, 1, n)
                                       : ct_to(a, GPU);
                ct_tensor *bg = offset ? ct_narrow(ct_to(ct_cat(CT_TENSORS(ct_zeros(CT_SHAPE(1), .dtype = dt), b), 0), GPU), 0, 1, n)
                                       : ct_to(b, GPU);
                assert_same(ct_add(a, b), ct_add(ag, bg), 0, 0, "dense add");
                assert_same(ct_mul(a, ct_scalar(3)), ct_mul(ag, ct_scalar(3)), 0, 0, "dense mul by a scalar");
                assert_same(ct_lt(a, b), ct_lt(ag, bg), 0, 0, "dense lt (bool out)");
                ct_tensor *ac = ct_clone(a);
                assert_non_null(ct_add_(ac, b));
                assert_non_null(ct_add_(ag, bg));
                assert_same(ac, ag, 0, 0, "dense add_ in place");
            }
        }
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(unary_ops),
        cmocka_unit_test(binary_ops),
        cmocka_unit_test(dense_sizes_and_tails),
        cmocka_unit_test(cpu_scalars_with_cuda_tensors),
        cmocka_unit_test(integer_division_by_zero),
        cmocka_unit_test(where_and_masked_fill),
        cmocka_unit_test(casts_between_all_dtypes),
        cmocka_unit_test(half_rounding),
        cmocka_unit_test(strided_copies_across_devices),
        cmocka_unit_test(strided_fill),
        cmocka_unit_test(random_draws_equal_cpu_draws),
        cmocka_unit_test(dropout_statistics_and_backward),
        cmocka_unit_test(gradients_match_cpu),
    };
    return TU_RUN_GPU("gpu_elementwise", tests);
}
