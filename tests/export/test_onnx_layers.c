/* Every nn layer the exporter maps and the functional ops, each exported alone with a dynamic
 * batch, checked by python3-onnx's checker (full_check) and run in onnxruntime at batch sizes 2
 * and 5: outputs equal ctorch's within 1e-5 relative (onnx_harness.h). */
#include "onnx_harness.h"

#include <math.h>

#define DYN CT__ONNX_OPTS(.dynamic_batch = true)

/* Random inputs of shape (batch 2, then batch 5). */
static ct_tensor *batch_of(ct_shape s, int64_t b) {
    s.d[0] = b;
    return ct_randn(s);
}
static void layer(const char *name, ct_module *m, ct_shape shape) {
    OX_CASE(name, m, DYN, CT_TENSORS(batch_of(shape, 2)), CT_TENSORS(batch_of(shape, 5)));
}

/* Parameters and buffers to values away from their init (ones/zeros would hide a swapped or
 * dropped scale, shift or running stat). */
static void randomize(ct_module *m, const char *name, double lo, double hi) {
    ct_tensor *t = ct_module_parameter(m, name);
    if (!t) t = ct_module_buffer(m, name);
    assert_non_null(t);
    CT_NO_GRAD ct_uniform_(t, lo, hi);
}

static void test_linear_conv(void **state) {
    (void)state;
    layer("linear", ct_linear(6, 4), CT_SHAPE(2, 6));
    layer("linear_nobias", ct_linear(6, 4, .bias = false), CT_SHAPE(2, 6));
    layer("linear_3d", ct_linear(6, 4), CT_SHAPE(2, 3, 6));
    layer("conv1d", ct_conv1d_module(3, 4, CT_SHAPE(3), .padding = CT_SHAPE(1), .stride = CT_SHAPE(2)), CT_SHAPE(2, 3, 11));
    layer("conv2d", ct_conv2d_module(3, 4, CT_SHAPE(3), .padding = CT_SHAPE(1)), CT_SHAPE(2, 3, 8, 8));
    layer("conv2d_groups", ct_conv2d_module(4, 6, CT_SHAPE(3, 2), .groups = 2, .dilation = CT_SHAPE(2), .bias = false),
          CT_SHAPE(2, 4, 9, 7));
    layer("conv_transpose2d", ct_conv_transpose2d_module(3, 2, CT_SHAPE(3), .stride = CT_SHAPE(2), .padding = CT_SHAPE(1),
                                                         .output_padding = CT_SHAPE(1)),
          CT_SHAPE(2, 3, 5, 5));
}

static void test_pooling(void **state) {
    (void)state;
    layer("max_pool2d", ct_max_pool2d_module(CT_SHAPE(2)), CT_SHAPE(2, 3, 8, 8));
    layer("max_pool2d_ceil", ct_max_pool2d_module(CT_SHAPE(3), .stride = CT_SHAPE(2), .padding = CT_SHAPE(1), .ceil_mode = true),
          CT_SHAPE(2, 3, 8, 8));
    layer("avg_pool2d", ct_avg_pool2d_module(CT_SHAPE(3), .stride = CT_SHAPE(2), .padding = CT_SHAPE(1)), CT_SHAPE(2, 3, 9, 9));
    layer("avg_pool2d_nopad", ct_avg_pool2d_module(CT_SHAPE(3), .stride = CT_SHAPE(2), .padding = CT_SHAPE(1),
                                                   .count_include_pad = false),
          CT_SHAPE(2, 3, 9, 9));
    layer("adaptive_avg_pool2d", ct_adaptive_avg_pool2d_module(CT_SHAPE(1, 1)), CT_SHAPE(2, 3, 5, 6));
}

static void test_norms(void **state) {
    (void)state;
    ct_module *bn1 = ct_batch_norm1d(4), *bn1c = ct_batch_norm1d(4), *bn2 = ct_batch_norm2d(3), *bn_plain = ct_batch_norm2d(3, .affine = false);
    ct_module *bns[] = {bn1, bn1c, bn2, bn_plain};
    for (int i = 0; i < 4; i++) {
        randomize(bns[i], "running_mean", -1, 1), randomize(bns[i], "running_var", 0.5, 2);
        if (i != 3) randomize(bns[i], "weight", 0.5, 1.5), randomize(bns[i], "bias", -1, 1);
    }
    layer("batch_norm1d", bn1, CT_SHAPE(2, 4));
    layer("batch_norm1d_3d", bn1c, CT_SHAPE(2, 4, 5));
    layer("batch_norm2d", bn2, CT_SHAPE(2, 3, 4, 4));
    layer("batch_norm2d_noaffine", bn_plain, CT_SHAPE(2, 3, 4, 4));

    ct_module *ln = ct_layer_norm_module(CT_SHAPE(6)), *ln_nobias = ct_layer_norm_module(CT_SHAPE(5, 6), .bias = false);
    randomize(ln, "weight", 0.5, 1.5), randomize(ln, "bias", -1, 1), randomize(ln_nobias, "weight", 0.5, 1.5);
    layer("layer_norm", ln, CT_SHAPE(2, 3, 6));
    layer("layer_norm_nobias", ln_nobias, CT_SHAPE(2, 5, 6));
    layer("layer_norm_noaffine", ct_layer_norm_module(CT_SHAPE(6), .elementwise_affine = false), CT_SHAPE(2, 6));

    ct_module *gn = ct_group_norm_module(2, 6);
    randomize(gn, "weight", 0.5, 1.5), randomize(gn, "bias", -1, 1);
    layer("group_norm", gn, CT_SHAPE(2, 6, 3, 3));
    layer("group_norm_noaffine", ct_group_norm_module(3, 6, .affine = false), CT_SHAPE(2, 6, 4));
}

static void test_activations(void **state) {
    (void)state;
    layer("relu", ct_relu_module(), CT_SHAPE(2, 7));
    layer("leaky_relu", ct_leaky_relu_module(0.2), CT_SHAPE(2, 7));
    layer("gelu", ct_gelu_module(), CT_SHAPE(2, 7));
    layer("gelu_tanh", ct_gelu_module(.approximate = CT_GELU_TANH), CT_SHAPE(2, 7));
    layer("sigmoid", ct_sigmoid_module(), CT_SHAPE(2, 7));
    layer("tanh", ct_tanh_module(), CT_SHAPE(2, 7));
    layer("silu", ct_silu_module(), CT_SHAPE(2, 7));
    layer("softmax", ct_softmax_module(1), CT_SHAPE(2, 7, 3));
    layer("log_softmax", ct_log_softmax_module(-1), CT_SHAPE(2, 7));
    layer("dropout", ct_dropout_module(0.5), CT_SHAPE(2, 7));
    layer("flatten", ct_flatten_module(), CT_SHAPE(2, 3, 4, 2));
    layer("identity", ct_identity(), CT_SHAPE(2, 3));
}

static void test_embedding(void **state) {
    (void)state;
    ct_module *m = ct_embedding_module(10, 4);
    OX_CASE("embedding", m, DYN, CT_TENSORS(ct_randint(0, 10, CT_SHAPE(2, 5), .dtype = CT_I64)),
            CT_TENSORS(ct_randint(0, 10, CT_SHAPE(5, 5), .dtype = CT_I64)));
}

/* ---- functional ops, one small forward each ---- */
static ct_tensor *f_reshape(ct_module *m, ct_tensor_list in) { (void)m; return ct_reshape(in.items[0], CT_SHAPE(-1, 3, 4)); }
static ct_tensor *f_permute(ct_module *m, ct_tensor_list in) { (void)m; return ct_permute(in.items[0], CT_DIMS(0, 2, 1)); }
static ct_tensor *f_transpose(ct_module *m, ct_tensor_list in) { (void)m; return ct_transpose(in.items[0], 1, 2); }
static ct_tensor *f_cat(ct_module *m, ct_tensor_list in) {
    (void)m;
    ct_tensor *x = in.items[0];
    return ct_cat(CT_TENSORS(x, ct_mul_scalar(x, 2), ct_narrow(x, 1, 0, 1)), 1);
}
static ct_tensor *f_split(ct_module *m, ct_tensor_list in) {
    (void)m;
    ct_tensor_list p = ct_split(in.items[0], 2, 1); /* 3 rows -> 2 + 1 */
    return ct_sub(p.items[0], ct_expand(p.items[1], CT_SHAPE(ct_size(in.items[0], 0), 2, 4)));
}
static ct_tensor *f_narrow(ct_module *m, ct_tensor_list in) { (void)m; return ct_narrow(in.items[0], 2, 1, 2); }
static ct_tensor *f_select(ct_module *m, ct_tensor_list in) { (void)m; return ct_select(in.items[0], 1, -1); }
static ct_tensor *f_unsqueeze(ct_module *m, ct_tensor_list in) { (void)m; return ct_unsqueeze(in.items[0], 2); }
static ct_tensor *f_squeeze(ct_module *m, ct_tensor_list in) { (void)m; return ct_squeeze_dim(ct_narrow(in.items[0], 1, 0, 1), 1); }
static ct_tensor *f_expand(ct_module *m, ct_tensor_list in) {
    (void)m;
    return ct_expand(ct_unsqueeze(in.items[0], 1), CT_SHAPE(ct_size(in.items[0], 0), 2, 3, 4));
}
static ct_tensor *f_where(ct_module *m, ct_tensor_list in) {
    (void)m;
    ct_tensor *x = in.items[0];
    /* a mask made from constants only (a fixed checkerboard): folded into the file */
    ct_tensor *cond = ct_gt(ct_sin(ct_reshape(ct_arange(0, 12, 1), CT_SHAPE(3, 4))), ct_zeros(CT_SHAPE(3, 4)));
    return ct_where(cond, x, ct_neg(x));
}
static ct_tensor *f_scalars(ct_module *m, ct_tensor_list in) {
    (void)m;
    ct_tensor *x = in.items[0];
    ct_tensor *a = ct_div_scalar(ct_mul_scalar(ct_add_scalar(x, 1.5), 3), 2);
    ct_tensor *b = ct_pow_scalar(ct_rsub_scalar(ct_sub_scalar(x, 0.25), 2), 2);
    return ct_add(ct_mul(a, b), ct_div(x, ct_add_scalar(ct_abs(x), 1)));
}
static ct_tensor *f_unary(ct_module *m, ct_tensor_list in) {
    (void)m;
    ct_tensor *x = in.items[0], *p = ct_add_scalar(ct_abs(x), 0.5);
    ct_tensor *s = ct_add(ct_add(ct_exp(ct_neg(p)), ct_log(p)), ct_add(ct_sqrt(p), ct_rsqrt(p)));
    s = ct_add(s, ct_add(ct_sin(x), ct_cos(x)));
    s = ct_add(s, ct_add(ct_erf(x), ct_reciprocal(p)));
    s = ct_add(s, ct_add(ct_floor(ct_mul_scalar(x, 3)), ct_ceil(ct_mul_scalar(x, 3))));
    s = ct_add(s, ct_add(ct_square(x), ct_clamp(x, -0.5, 0.5)));
    return ct_add(s, ct_add(ct_maximum(x, ct_neg(x)), ct_minimum(x, ct_sub_scalar(x, 1))));
}
static ct_tensor *f_mean(ct_module *m, ct_tensor_list in) { (void)m; return ct_mean(in.items[0], .dim = CT_DIMS(-1)); }
static ct_tensor *f_sum(ct_module *m, ct_tensor_list in) { (void)m; return ct_sum(in.items[0], .dim = CT_DIMS(1, 2), .keepdim = true); }
static ct_tensor *f_amax(ct_module *m, ct_tensor_list in) { (void)m; return ct_amax(in.items[0], .dim = CT_DIMS(1)); }
static ct_tensor *f_matmul(ct_module *m, ct_tensor_list in) {
    (void)m;
    ct_tensor *x = in.items[0];
    return ct_matmul(x, ct_transpose(x, 1, 2)); /* [B, 3, 3]: batched, both sides from the input */
}
static ct_tensor *f_matmul_param(ct_module *m, ct_tensor_list in) {
    return ct_matmul(in.items[0], ct_module_parameter(m, "w"));
}

static void test_functional(void **state) {
    (void)state;
    static const struct { const char *name; ox_fn fn; } cases[] = {
        {"reshape", f_reshape}, {"permute", f_permute}, {"transpose", f_transpose}, {"cat", f_cat},
        {"split", f_split}, {"narrow", f_narrow}, {"select", f_select}, {"unsqueeze", f_unsqueeze},
        {"squeeze", f_squeeze}, {"expand", f_expand}, {"where", f_where}, {"scalars", f_scalars},
        {"unary", f_unary}, {"mean", f_mean}, {"sum", f_sum}, {"amax", f_amax}, {"matmul", f_matmul},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) layer(cases[i].name, ox_fn_module(cases[i].fn), CT_SHAPE(2, 3, 4));
    ct_module *m = ox_fn_module(f_matmul_param);
    ct_register_parameter(m, "w", ct_randn(CT_SHAPE(4, 5)));
    layer("matmul_param", m, CT_SHAPE(2, 3, 4));
}

int main(void) {
    ct_manual_seed(7);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linear_conv), cmocka_unit_test(test_pooling), cmocka_unit_test(test_norms),
        cmocka_unit_test(test_activations), cmocka_unit_test(test_embedding), cmocka_unit_test(test_functional),
        cmocka_unit_test(ox_check_all),
    };
    return OX_RUN("onnx_layers", tests);
}
