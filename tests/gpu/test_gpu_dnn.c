/* cuBLAS matrix products (and cuBLASLt's bias epilogue), cuDNN convolutions, the CUDA pooling and
 * normalization kernels against the CPU: every op runs on random non-contiguous inputs on both
 * devices, and the outputs and the gradients of every input (from one backward of sum(out * r),
 * r random) must agree. f32 within 1e-5 relative (TF32 off for both cuBLAS and cuDNN), TF32 and
 * 16-bit floats within their precision. */
#include "../common/testutil.h"

#include <stdlib.h>

static uint64_t rng = 20261124;

/* A random CPU leaf in a non-contiguous layout. */
static ct_tensor *leaf(ct_shape s, ct_dtype dt) {
    return ct_requires_grad_(tu_random(&rng, s, dt, s.ndim >= 2 ? TU_TRANSPOSED : TU_STEPPED, -1, 1), true);
}

/* x's values on cuda:0 as a non-contiguous leaf (last two dims stored swapped) when x requires grad. */
static ct_tensor *on_gpu(const ct_tensor *x) {
    ct_tensor *d = ct_detach(x), *g;
    if (ct_ndim(d) >= 2)
        g = ct_transpose(ct_to(ct_contiguous(ct_transpose(d, -1, -2)), CT_CUDA(0)), -1, -2);
    else
        g = ct_to(d, CT_CUDA(0));
    assert_non_null(g);
    /* (a [1, n] or [n, 1] matrix is contiguous in either order) */
    assert_false(ct_ndim(g) >= 2 && ct_is_contiguous(g) && ct_shape_of(g).d[ct_ndim(g) - 1] > 1 &&
                 ct_shape_of(g).d[ct_ndim(g) - 2] > 1);
    return ct_requires_grad(x) ? ct_requires_grad_(g, true) : g;
}

/* want (CPU) and got (CUDA) hold the same values. */
static void assert_same(const ct_tensor *want, const ct_tensor *got, double rtol, double atol) {
    assert_non_null(want);
    if (!got) fail_msg("CUDA op failed: %s", ct_last_error());
    assert_true(ct_device_equal(ct_device_of(got), CT_CUDA(0)));
    double *w = tu_values(want);
    tu_assert_values(ct_to(got, CT_CPU), ct_shape_of(want), w, rtol, atol);
}

typedef ct_tensor *(*op_fn)(ct_tensor *const *in, const void *ctx);

/* Compares an op's CPU output yc with its CUDA output yg, then backpropagates sum(y * r), r
 * random, through both and compares the gradients of the n inputs (cpu[i] and its copy gpu[i])
 * that require grad, within rtol and grad_atol. */
static void compare_with_grads(ct_tensor *yc, ct_tensor *yg, int n, ct_tensor *const *cpu, ct_tensor *const *gpu,
                               double rtol, double atol, double grad_atol) {
    assert_same(yc, yg, rtol, atol);
    ct_tensor *r = tu_random(&rng, ct_shape_of(yc), ct_dtype_of(yc), TU_CONTIGUOUS, -1, 1);
    assert_true(ct_backward(ct_sum(ct_mul(yc, r))));
    if (!ct_backward(ct_sum(ct_mul(yg, ct_to(r, CT_CUDA(0)))))) fail_msg("CUDA backward: %s", ct_last_error());
    for (int i = 0; i < n; i++)
        if (cpu[i] && ct_requires_grad(cpu[i])) assert_same(ct_grad(cpu[i]), ct_grad(gpu[i]), rtol, grad_atol);
}

/* Runs op on n CPU inputs and on their CUDA copies; compares the outputs (rtol, atol), then the
 * gradients of the inputs that require grad (rtol, grad_atol). */
static void check_op_grad_tol(op_fn op, const void *ctx, int n, ct_tensor *const *cpu, double rtol, double atol,
                              double grad_atol) {
    ct_tensor *gpu[8];
    for (int i = 0; i < n; i++) gpu[i] = cpu[i] ? on_gpu(cpu[i]) : NULL;
    compare_with_grads(op(cpu, ctx), op(gpu, ctx), n, cpu, gpu, rtol, atol, grad_atol);
}

static void check_op(op_fn op, const void *ctx, int n, ct_tensor *const *cpu, double rtol, double atol) {
    check_op_grad_tol(op, ctx, n, cpu, rtol, atol, atol);
}

/* Plain f32 everywhere unless a test turns TF32 on. Replacing testutil's setup, it opens the
 * per-test scope that testutil's teardown closes. */
static int setup(void **state) {
    (void)state;
    ct_scope_begin();
    ct_set_allow_tf32(false);
    ct_set_cudnn_allow_tf32(false);
    return 0;
}

/* ---- matrix products ---- */

static ct_tensor *op_mm(ct_tensor *const *in, const void *ctx) { return (void)ctx, ct_mm(in[0], in[1]); }
static ct_tensor *op_bmm(ct_tensor *const *in, const void *ctx) { return (void)ctx, ct_bmm(in[0], in[1]); }
static ct_tensor *op_matmul(ct_tensor *const *in, const void *ctx) { return (void)ctx, ct_matmul(in[0], in[1]); }
static ct_tensor *op_addmm(ct_tensor *const *in, const void *ctx) {
    return (void)ctx, ct_addmm(in[0], in[1], in[2], .beta = 0.5, .alpha = 2);
}

static void products_match_cpu(void **state) {
    (void)state;
    check_op(op_mm, NULL, 2, (ct_tensor *[]){leaf(CT_SHAPE(33, 17), CT_F32), leaf(CT_SHAPE(17, 29), CT_F32)}, 1e-5,
             1e-5);
    check_op(op_bmm, NULL, 2, (ct_tensor *[]){leaf(CT_SHAPE(4, 8, 5), CT_F32), leaf(CT_SHAPE(4, 5, 6), CT_F32)}, 1e-5,
             1e-5);
    /* batch [3, 1] against [5]: b's batch dims do not collapse to one stride (the per-index path) */
    check_op(op_matmul, NULL, 2, (ct_tensor *[]){leaf(CT_SHAPE(3, 1, 6, 7), CT_F32), leaf(CT_SHAPE(5, 7, 4), CT_F32)},
             1e-5, 1e-5);
    /* a 1-d operand and a folded (..., m, k) @ (k, n) */
    check_op(op_matmul, NULL, 2, (ct_tensor *[]){leaf(CT_SHAPE(7), CT_F32), leaf(CT_SHAPE(2, 7, 3), CT_F32)}, 1e-5,
             1e-5);
    check_op(op_matmul, NULL, 2, (ct_tensor *[]){leaf(CT_SHAPE(2, 3, 9), CT_F32), leaf(CT_SHAPE(9, 4), CT_F32)}, 1e-5,
             1e-5);
    check_op(op_addmm, NULL, 3,
             (ct_tensor *[]){leaf(CT_SHAPE(29), CT_F32), leaf(CT_SHAPE(33, 17), CT_F32), leaf(CT_SHAPE(17, 29), CT_F32)},
             1e-5, 1e-5);
    check_op(op_mm, NULL, 2, (ct_tensor *[]){leaf(CT_SHAPE(20, 30), CT_F64), leaf(CT_SHAPE(30, 10), CT_F64)}, 1e-12,
             1e-12);
}

/* k == 0: the product is zeros (beta = 0) or beta * input. */
static void empty_inner_dim(void **state) {
    (void)state;
    ct_tensor *a = ct_zeros(CT_SHAPE(3, 0), .device = CT_CUDA(0)), *b = ct_zeros(CT_SHAPE(0, 4), .device = CT_CUDA(0));
    assert_same(ct_zeros(CT_SHAPE(3, 4)), ct_mm(a, b), 0, 0);
    ct_tensor *in = tu_random(&rng, CT_SHAPE(3, 4), CT_F32, TU_CONTIGUOUS, -1, 1);
    assert_same(ct_mul(in, ct_scalar(0.5)), ct_addmm(on_gpu(in), a, b, .beta = 0.5), 1e-6, 0);
}

static void tf32_switch(void **state) {
    (void)state;
    assert_false(ct_get_allow_tf32());
    assert_string_equal(ct_get_float32_matmul_precision(), "highest");
    assert_true(ct_set_float32_matmul_precision("high"));
    assert_true(ct_get_allow_tf32());
    /* TF32 keeps 10 mantissa bits of each input: k = 256 products of values in [-1, 1] stay
     * within ~1e-2 of the f32 result */
    ct_tensor *a = leaf(CT_SHAPE(64, 256), CT_F32), *b = leaf(CT_SHAPE(256, 48), CT_F32);
    assert_same(ct_mm(a, b), ct_mm(on_gpu(a), on_gpu(b)), 1e-3, 2e-2);
    assert_false(ct_set_float32_matmul_precision("low"));
    tu_assert_error(CT_ERR_ARG, "low");
    ct_set_allow_tf32(false);
    assert_string_equal(ct_get_float32_matmul_precision(), "highest");
}

static void half_precision_products(void **state) {
    (void)state;
    ct_dtype dts[] = {CT_F16, CT_BF16};
    double tol[] = {2e-2, 1e-1};
    for (int i = 0; i < 2; i++) {
        ct_tensor *a = leaf(CT_SHAPE(40, 64), dts[i]), *b = leaf(CT_SHAPE(64, 24), dts[i]);
        ct_tensor *got = ct_mm(on_gpu(a), on_gpu(b));
        assert_non_null(got);
        assert_int_equal(ct_dtype_of(got), dts[i]);
        assert_same(ct_mm(ct_to_dtype(a, CT_F32), ct_to_dtype(b, CT_F32)), got, tol[i], tol[i]);
    }
}

static void integer_products_are_rejected(void **state) {
    (void)state;
    ct_tensor *a = ct_ones(CT_SHAPE(2, 2), .dtype = CT_I64, .device = CT_CUDA(0));
    assert_null(ct_mm(a, a));
    tu_assert_error(CT_ERR_DTYPE, "\"addmm_cuda\" not implemented for 'Long'");
    ct_tensor *b = ct_ones(CT_SHAPE(2, 2, 2), .dtype = CT_I32, .device = CT_CUDA(0));
    assert_null(ct_bmm(b, b));
    tu_assert_error(CT_ERR_DTYPE, "\"bmm_cuda\" not implemented for 'Int'");
}

/* ---- GEMM with a bias epilogue (cuBLASLt): addmm with beta 1 and a bias row, nn.Linear ---- */

typedef struct bias_case {
    double alpha;
    bool contiguous_a, expand_bias; /* the CUDA operands are otherwise stored transposed (on_gpu) */
} bias_case;

static ct_tensor *op_addmm_bias(ct_tensor *const *in, const void *ctx) {
    const bias_case *c = ctx;
    ct_tensor *a = c->contiguous_a ? ct_contiguous(in[1]) : in[1];
    int64_t m = ct_shape_of(a).d[0], n = ct_shape_of(in[2]).d[1];
    ct_tensor *bias = c->expand_bias ? ct_expand(in[0], CT_SHAPE(m, n)) : in[0];
    return ct_addmm(bias, a, in[2], .alpha = c->alpha);
}

static void check_bias_product(const bias_case *c, ct_shape bias, int64_t m, int64_t k, int64_t n, ct_dtype dt,
                               double tol) {
    check_op(op_addmm_bias, c, 3, (ct_tensor *[]){leaf(bias, dt), leaf(CT_SHAPE(m, k), dt), leaf(CT_SHAPE(k, n), dt)},
             tol, tol);
}

static void bias_epilogue_matches_cpu(void **state) {
    (void)state;
    const bias_case plain = {1, false, false}, scaled = {2, false, false}, rowmajor = {1, true, false},
                    expanded = {-0.5, true, true};
    check_bias_product(&plain, CT_SHAPE(29), 33, 17, 29, CT_F32, 1e-5);
    check_bias_product(&scaled, CT_SHAPE(29), 33, 17, 29, CT_F32, 1e-5);
    check_bias_product(&rowmajor, CT_SHAPE(1, 29), 33, 17, 29, CT_F32, 1e-5);
    check_bias_product(&expanded, CT_SHAPE(29), 33, 17, 29, CT_F32, 1e-5);
    check_bias_product(&plain, CT_SHAPE(32), 64, 48, 32, CT_F32, 1e-5); /* 16-byte aligned rows */
    check_bias_product(&rowmajor, CT_SHAPE(32), 64, 48, 32, CT_F32, 1e-5);
    /* bf16 in, f32 accumulation, one rounding of values up to ~|k| / 4: loose */
    check_bias_product(&plain, CT_SHAPE(32), 64, 48, 32, CT_BF16, 5e-2);
    check_bias_product(&rowmajor, CT_SHAPE(32), 64, 48, 32, CT_F16, 1e-2);
    /* f64 has no epilogue path (plain cuBLAS): still addmm's result */
    check_bias_product(&plain, CT_SHAPE(29), 33, 17, 29, CT_F64, 1e-12);
}

/* nn.Linear on (B, T, in) input: on CUDA the rows fold into one addmm with the bias epilogue. */
static void linear_module_matches_cpu(void **state) {
    (void)state;
    ct_module *mc = ct_linear(24, 40), *mg = ct_linear(24, 40, .device = CT_CUDA(0));
    const char *names[] = {"weight", "bias"};
    ct_tensor *pc[2], *pg[2];
    for (int i = 0; i < 2; i++) {
        pc[i] = ct_module_parameter(mc, names[i]), pg[i] = ct_module_parameter(mg, names[i]);
        CT_NO_GRAD assert_non_null(ct_copy_(pg[i], pc[i]));
    }
    ct_tensor *x = leaf(CT_SHAPE(3, 5, 24), CT_F32), *xg = on_gpu(x);
    compare_with_grads(ct_forward(mc, x), ct_forward(mg, xg), 1, &x, &xg, 1e-5, 1e-5, 1e-5);
    for (int i = 0; i < 2; i++) assert_same(ct_grad(pc[i]), ct_grad(pg[i]), 1e-5, 1e-5);
}

/* ---- convolutions ---- */

static ct_tensor *op_conv2d(ct_tensor *const *in, const void *ctx) {
    (void)ctx;
    return ct_conv2d(in[0], in[1], in[2], .stride = CT_SHAPE(2, 1), .padding = CT_SHAPE(1, 2),
                     .dilation = CT_SHAPE(2, 1), .groups = 2);
}
static ct_tensor *op_conv1d(ct_tensor *const *in, const void *ctx) {
    (void)ctx;
    return ct_conv1d(in[0], in[1], in[2], .stride = CT_SHAPE(2), .padding = CT_SHAPE(2));
}
static ct_tensor *op_conv_t2d(ct_tensor *const *in, const void *ctx) {
    (void)ctx;
    return ct_conv_transpose2d(in[0], in[1], in[2], .stride = CT_SHAPE(2), .padding = CT_SHAPE(1),
                               .output_padding = CT_SHAPE(1));
}

static void convolutions_match_cpu(void **state) {
    (void)state;
    check_op(op_conv2d, NULL, 3,
             (ct_tensor *[]){leaf(CT_SHAPE(2, 4, 9, 10), CT_F32), leaf(CT_SHAPE(6, 2, 3, 3), CT_F32),
                             leaf(CT_SHAPE(6), CT_F32)},
             1e-5, 1e-5);
    check_op(op_conv2d, NULL, 3,
             (ct_tensor *[]){leaf(CT_SHAPE(2, 4, 9, 10), CT_F64), leaf(CT_SHAPE(6, 2, 3, 3), CT_F64), NULL}, 1e-12,
             1e-12);
    check_op(op_conv1d, NULL, 3,
             (ct_tensor *[]){leaf(CT_SHAPE(2, 3, 20), CT_F32), leaf(CT_SHAPE(4, 3, 5), CT_F32),
                             leaf(CT_SHAPE(4), CT_F32)},
             1e-5, 1e-5);
    check_op(op_conv_t2d, NULL, 3,
             (ct_tensor *[]){leaf(CT_SHAPE(2, 4, 5, 6), CT_F32), leaf(CT_SHAPE(4, 3, 3, 3), CT_F32),
                             leaf(CT_SHAPE(3), CT_F32)},
             1e-5, 1e-5);
    /* the Fashion CNN's first layer, twice: the second call takes the cached algorithms */
    for (int i = 0; i < 2; i++)
        check_op(op_conv2d, NULL, 3,
                 (ct_tensor *[]){leaf(CT_SHAPE(2, 4, 9, 10), CT_F32), leaf(CT_SHAPE(6, 2, 3, 3), CT_F32),
                                 leaf(CT_SHAPE(6), CT_F32)},
                 1e-5, 1e-5);
}

static void convolution_tf32_and_half(void **state) {
    (void)state;
    assert_false(ct_get_cudnn_allow_tf32()); /* setup turned it off; PyTorch's default is on */
    ct_set_cudnn_allow_tf32(true);
    check_op(op_conv1d, NULL, 3,
             (ct_tensor *[]){leaf(CT_SHAPE(4, 16, 30), CT_F32), leaf(CT_SHAPE(8, 16, 5), CT_F32),
                             leaf(CT_SHAPE(8), CT_F32)},
             2e-3, 2e-2);
    ct_set_cudnn_allow_tf32(false);
    ct_tensor *x = leaf(CT_SHAPE(2, 8, 7, 7), CT_F32), *w = leaf(CT_SHAPE(8, 8, 3, 3), CT_F32);
    ct_tensor *want = ct_conv2d(x, w, NULL, .padding = CT_SHAPE(1));
    ct_dtype dts[] = {CT_F16, CT_BF16};
    double tol[] = {2e-2, 1e-1};
    for (int i = 0; i < 2; i++) {
        ct_tensor *got = ct_conv2d(on_gpu(ct_to_dtype(x, dts[i])), on_gpu(ct_to_dtype(w, dts[i])), NULL,
                                   .padding = CT_SHAPE(1));
        assert_non_null(got);
        assert_int_equal(ct_dtype_of(got), dts[i]);
        assert_same(want, got, tol[i], tol[i]);
    }
}

/* ---- pooling ---- */

static ct_tensor *op_max_pool(ct_tensor *const *in, const void *ctx) {
    (void)ctx;
    return ct_max_pool2d(in[0], CT_SHAPE(3), .stride = CT_SHAPE(2), .padding = CT_SHAPE(1), .ceil_mode = true);
}
static ct_tensor *op_max_pool_dilated(ct_tensor *const *in, const void *ctx) {
    (void)ctx;
    return ct_max_pool2d(in[0], CT_SHAPE(2, 3), .stride = CT_SHAPE(1, 2), .dilation = CT_SHAPE(2));
}
static ct_tensor *op_avg_pool(ct_tensor *const *in, const void *ctx) {
    (void)ctx;
    return ct_avg_pool2d(in[0], CT_SHAPE(3), .stride = CT_SHAPE(2), .padding = CT_SHAPE(1), .ceil_mode = true,
                         .count_include_pad = false);
}
static ct_tensor *op_avg_pool_pad(ct_tensor *const *in, const void *ctx) {
    (void)ctx;
    return ct_avg_pool2d(in[0], CT_SHAPE(2, 3), .padding = CT_SHAPE(1));
}
static ct_tensor *op_adaptive(ct_tensor *const *in, const void *ctx) {
    (void)ctx;
    return ct_adaptive_avg_pool2d(in[0], CT_SHAPE(4, 3));
}

static void pooling_matches_cpu(void **state) {
    (void)state;
    op_fn ops[] = {op_max_pool, op_max_pool_dilated, op_avg_pool, op_avg_pool_pad, op_adaptive};
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++) {
        check_op(ops[i], NULL, 1, (ct_tensor *[]){leaf(CT_SHAPE(2, 3, 9, 11), CT_F32)}, 1e-6, 1e-6);
        check_op(ops[i], NULL, 1, (ct_tensor *[]){leaf(CT_SHAPE(3, 10, 7), CT_F64)}, 1e-12, 1e-12);
    }
}

/* Ties go to the first maximum in row-major order on both devices: values from {-1, 0, 1}. */
static void max_pool_ties(void **state) {
    (void)state;
    ct_tensor *x = ct_requires_grad_(ct_round(tu_random(&rng, CT_SHAPE(2, 2, 8, 8), CT_F32, TU_CONTIGUOUS, -1.4, 1.4)),
                                     true);
    check_op(op_max_pool, NULL, 1, (ct_tensor *[]){x}, 0, 0);
}

/* ---- normalization ----
 * f32 outputs and input gradients agree within 1e-5 relative. The weight and bias gradients are
 * sums over every row (channel value) of terms of both signs: their rounding error scales with
 * the terms, not with the (cancelled) result, hence 1e-4 absolute for them. 16-bit results are
 * rounded once from f32 values that differ between the devices in the last f32 bits, so they may
 * differ by one unit in the last place: 2^-10 relative for f16, 2^-7 for bf16 (with margin). */

#define F16_TOL 2e-3
#define BF16_TOL 1.6e-2

typedef struct ln_case {
    ct_shape x, normalized;
    bool weight, bias;
} ln_case;

static ct_tensor *op_layer_norm(ct_tensor *const *in, const void *ctx) {
    return ct_layer_norm(in[0], ((const ln_case *)ctx)->normalized, in[1], in[2], .eps = 1e-5);
}

static void check_layer_norm(const ln_case *c, ct_dtype dt, double tol, double grad_atol) {
    ct_tensor *in[3] = {leaf(c->x, dt), c->weight ? leaf(c->normalized, dt) : NULL,
                        c->bias ? leaf(c->normalized, dt) : NULL};
    check_op_grad_tol(op_layer_norm, c, 3, in, tol, tol, grad_atol);
}

static void layer_norm_matches_cpu(void **state) {
    (void)state;
    const ln_case cases[] = {
        {CT_SHAPE(4, 7, 33), CT_SHAPE(33), true, true},     /* a warp per row */
        {CT_SHAPE(3, 1500), CT_SHAPE(1500), true, true},    /* eight warps per row */
        {CT_SHAPE(2, 5, 6, 7), CT_SHAPE(6, 7), false, false},
        {CT_SHAPE(5, 2, 2049), CT_SHAPE(2049), true, false},
        {CT_SHAPE(6, 40), CT_SHAPE(40), false, true},
        {CT_SHAPE(40000, 48), CT_SHAPE(48), true, true},    /* more row groups than blocks; many dw/db chunks */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) check_layer_norm(&cases[i], CT_F32, 1e-5, 1e-4);
    const ln_case f64 = {CT_SHAPE(4, 9, 20), CT_SHAPE(20), true, true};
    check_layer_norm(&f64, CT_F64, 1e-12, 1e-12);
}

static void layer_norm_half(void **state) {
    (void)state;
    const ln_case c = {CT_SHAPE(16, 96), CT_SHAPE(96), true, true};
    ct_dtype dts[] = {CT_F16, CT_BF16};
    double tol[] = {F16_TOL, BF16_TOL};
    for (int i = 0; i < 2; i++) {
        check_layer_norm(&c, dts[i], tol[i], tol[i]);
        ct_tensor *y = ct_layer_norm(on_gpu(leaf(c.x, dts[i])), c.normalized, NULL, NULL);
        assert_non_null(y);
        assert_int_equal(ct_dtype_of(y), dts[i]);
    }
}

/* Two training steps from the same running statistics (momentum 0.3) on both devices, then one
 * eval step; each step compares the output, the gradients of x, weight and bias (accumulating
 * over the steps) and the running statistics. x has dtype dt, the parameters and statistics pdt. */
static void check_batch_norm(ct_shape xs, bool affine, ct_dtype dt, ct_dtype pdt, double tol, double grad_atol) {
    int64_t C = xs.d[1];
    ct_tensor *w = affine ? leaf(CT_SHAPE(C), pdt) : NULL, *b = affine ? leaf(CT_SHAPE(C), pdt) : NULL;
    ct_tensor *wg = affine ? on_gpu(w) : NULL, *bg = affine ? on_gpu(b) : NULL;
    ct_tensor *rm = tu_random(&rng, CT_SHAPE(C), pdt, TU_CONTIGUOUS, -1, 1);
    ct_tensor *rv = tu_random(&rng, CT_SHAPE(C), pdt, TU_CONTIGUOUS, 0.5, 2);
    ct_tensor *rmg = ct_to(rm, CT_CUDA(0)), *rvg = ct_to(rv, CT_CUDA(0));
    for (int step = 0; step < 3; step++) {
        bool training = step < 2;
        ct_tensor *x = leaf(xs, dt), *xg = on_gpu(x);
        ct_tensor *y = ct_batch_norm(x, rm, rv, w, b, training, .momentum = 0.3);
        ct_tensor *yg = ct_batch_norm(xg, rmg, rvg, wg, bg, training, .momentum = 0.3);
        compare_with_grads(y, yg, 3, (ct_tensor *[]){x, w, b}, (ct_tensor *[]){xg, wg, bg}, tol, tol, grad_atol);
        assert_same(rm, rmg, tol, tol);
        assert_same(rv, rvg, tol, tol);
    }
}

static void batch_norm_matches_cpu(void **state) {
    (void)state;
    check_batch_norm(CT_SHAPE(4, 3, 5, 6), true, CT_F32, CT_F32, 1e-5, 1e-4);   /* 2d */
    check_batch_norm(CT_SHAPE(16, 5), true, CT_F32, CT_F32, 1e-5, 1e-4);        /* 1d, one value per plane */
    check_batch_norm(CT_SHAPE(6, 4, 7), false, CT_F32, CT_F32, 1e-5, 1e-4);     /* 1d with a length */
    check_batch_norm(CT_SHAPE(64, 8, 24, 24), true, CT_F32, CT_F32, 1e-5, 1e-4); /* several chunks per channel */
    check_batch_norm(CT_SHAPE(4, 3, 5, 6), true, CT_F64, CT_F64, 1e-12, 1e-12);
}

static void batch_norm_half(void **state) {
    (void)state;
    check_batch_norm(CT_SHAPE(8, 4, 6, 5), true, CT_F16, CT_F32, F16_TOL, F16_TOL); /* f32 parameters (autocast) */
    /* 16-bit statistics: updated through an f32 copy written back */
    check_batch_norm(CT_SHAPE(8, 4, 6, 5), true, CT_F16, CT_F16, F16_TOL, F16_TOL);
    check_batch_norm(CT_SHAPE(8, 4, 6, 5), true, CT_BF16, CT_BF16, BF16_TOL, BF16_TOL);
}

static ct_tensor *op_group_norm(ct_tensor *const *in, const void *ctx) {
    return ct_group_norm(in[0], *(const int64_t *)ctx, in[1], in[2]);
}

/* Group norm is layer norm over [N, G, rest] plus a broadcast affine (nn/group_norm.c). */
static void group_norm_matches_cpu(void **state) {
    (void)state;
    int64_t g3 = 3, g2 = 2, g8 = 8;
    check_op_grad_tol(op_group_norm, &g3, 3,
                      (ct_tensor *[]){leaf(CT_SHAPE(2, 6, 5, 4), CT_F32), leaf(CT_SHAPE(6), CT_F32),
                                      leaf(CT_SHAPE(6), CT_F32)},
                      1e-5, 1e-5, 1e-4);
    check_op_grad_tol(op_group_norm, &g2, 3, (ct_tensor *[]){leaf(CT_SHAPE(3, 4, 10), CT_F32), NULL, NULL}, 1e-5,
                      1e-5, 1e-4);
    check_op_grad_tol(op_group_norm, &g8, 3,
                      (ct_tensor *[]){leaf(CT_SHAPE(2, 8, 3, 3), CT_F32), leaf(CT_SHAPE(8), CT_F32),
                                      leaf(CT_SHAPE(8), CT_F32)},
                      1e-5, 1e-5, 1e-4);
}

static void norm_errors(void **state) {
    (void)state;
    ct_tensor *x = ct_ones(CT_SHAPE(2, 3, 4), .device = CT_CUDA(0));
    assert_null(ct_layer_norm(x, CT_SHAPE(4), ct_ones(CT_SHAPE(4)), NULL));
    tu_assert_error(CT_ERR_DEVICE, "layer_norm: Expected all tensors to be on the same device");
    ct_tensor *xi = ct_ones(CT_SHAPE(2, 3, 4), .dtype = CT_I64, .device = CT_CUDA(0));
    assert_null(ct_layer_norm(xi, CT_SHAPE(4), NULL, NULL));
    tu_assert_error(CT_ERR_DTYPE, "\"LayerNormKernelImpl\" not implemented for 'Long'");
    ct_tensor *two = ct_zeros(CT_SHAPE(2), .device = CT_CUDA(0)), *three = ct_ones(CT_SHAPE(3), .device = CT_CUDA(0));
    assert_null(ct_batch_norm(x, two, three, NULL, NULL, true));
    tu_assert_error(CT_ERR_SHAPE, "batch_norm: running_mean should contain 3 elements not 2");
    /* the running statistics are written in place: an expanded tensor is refused */
    ct_tensor *expanded = ct_expand(ct_zeros(CT_SHAPE(1), .device = CT_CUDA(0)), CT_SHAPE(3));
    assert_null(ct_batch_norm(x, expanded, three, NULL, NULL, true));
    tu_assert_error(CT_ERR_ARG, "more than one element of the written-to tensor refers to a single memory location");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(products_match_cpu, setup),
        cmocka_unit_test_setup(empty_inner_dim, setup),
        cmocka_unit_test_setup(tf32_switch, setup),
        cmocka_unit_test_setup(half_precision_products, setup),
        cmocka_unit_test_setup(integer_products_are_rejected, setup),
        cmocka_unit_test_setup(bias_epilogue_matches_cpu, setup),
        cmocka_unit_test_setup(linear_module_matches_cpu, setup),
        cmocka_unit_test_setup(convolutions_match_cpu, setup),
        cmocka_unit_test_setup(convolution_tf32_and_half, setup),
        cmocka_unit_test_setup(pooling_matches_cpu, setup),
        cmocka_unit_test_setup(max_pool_ties, setup),
        cmocka_unit_test_setup(layer_norm_matches_cpu, setup),
        cmocka_unit_test_setup(layer_norm_half, setup),
        cmocka_unit_test_setup(batch_norm_matches_cpu, setup),
        cmocka_unit_test_setup(batch_norm_half, setup),
        cmocka_unit_test_setup(group_norm_matches_cpu, setup),
        cmocka_unit_test_setup(norm_errors, setup),
    };
    return TU_RUN_GPU("gpu_dnn", tests);
}
