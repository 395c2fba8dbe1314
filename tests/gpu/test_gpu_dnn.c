/* cuBLAS matrix products, cuDNN convolutions and the CUDA pooling kernels against the CPU: every
 * op runs on random non-contiguous inputs on both devices, and the outputs and the gradients of
 * every input (from one backward of sum(out * r), r random) must agree. f32 within 1e-5
 * relative (TF32 off for both cuBLAS and cuDNN), TF32 and 16-bit floats within their precision. */
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
    assert_false(ct_ndim(g) >= 2 && ct_is_contiguous(g) && ct_shape_of(g).d[ct_ndim(g) - 1] > 1);
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

/* Runs op on n CPU inputs and on their CUDA copies; compares the outputs, then the gradients of
 * the inputs that require grad. */
static void check_op(op_fn op, const void *ctx, int n, ct_tensor *const *cpu, double rtol, double atol) {
    ct_tensor *gpu[8];
    for (int i = 0; i < n; i++) gpu[i] = cpu[i] ? on_gpu(cpu[i]) : NULL;
    ct_tensor *yc = op(cpu, ctx), *yg = op(gpu, ctx);
    assert_same(yc, yg, rtol, atol);
    ct_tensor *r = tu_random(&rng, ct_shape_of(yc), ct_dtype_of(yc), TU_CONTIGUOUS, -1, 1);
    assert_true(ct_backward(ct_sum(ct_mul(yc, r))));
    if (!ct_backward(ct_sum(ct_mul(yg, ct_to(r, CT_CUDA(0)))))) fail_msg("CUDA backward: %s", ct_last_error());
    for (int i = 0; i < n; i++)
        if (cpu[i] && ct_requires_grad(cpu[i])) assert_same(ct_grad(cpu[i]), ct_grad(gpu[i]), rtol, atol);
}

/* Plain f32 everywhere unless a test turns TF32 on. */
static int setup(void **state) {
    (void)state;
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

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(products_match_cpu, setup),
        cmocka_unit_test_setup(empty_inner_dim, setup),
        cmocka_unit_test_setup(tf32_switch, setup),
        cmocka_unit_test_setup(half_precision_products, setup),
        cmocka_unit_test_setup(integer_products_are_rejected, setup),
        cmocka_unit_test_setup(convolutions_match_cpu, setup),
        cmocka_unit_test_setup(convolution_tf32_and_half, setup),
        cmocka_unit_test_setup(pooling_matches_cpu, setup),
        cmocka_unit_test_setup(max_pool_ties, setup),
    };
    return TU_RUN_GPU("gpu_dnn", tests);
}
