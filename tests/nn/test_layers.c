/* Layer modules over the functional ops: BatchNorm (running stats, eval), LayerNorm, GroupNorm,
 * Dropout, Embedding, MultiheadAttention (against its definition, masks, gradcheck) and
 * TransformerEncoderLayer (PyTorch's state-dict names, both norm placements, gradcheck). */
#include "../common/testutil.h"

#include <math.h>
#include <string.h>

static void test_batch_norm_module(void **state) {
    (void)state;
    ct_module *bn = ct_batch_norm1d(3);
    assert_string_equal(ct_module_str(bn), "BatchNorm1d(3, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)");
    ct_named_tensors sd = ct_state_dict(bn);
    const char *names[] = {"weight", "bias", "running_mean", "running_var", "num_batches_tracked"};
    assert_int_equal(sd.n, 5);
    for (int i = 0; i < 5; i++) assert_string_equal(sd.items[i].name, names[i]);
    /* x: column c holds c, c + 2 -> batch mean c + 1, unbiased variance 2 */
    ct_tensor *x = ct_from_data((float[]){0, 1, 2, 2, 3, 4}, CT_SHAPE(2, 3), CT_F32);
    ct_tensor *y = ct_forward(bn, x);
    double s = 1 / sqrt(1 + 1e-5);
    tu_assert_values(y, CT_SHAPE(2, 3), (double[]){-s, -s, -s, s, s, s}, 1e-5, 1e-5);
    tu_assert_values(ct_module_buffer(bn, "running_mean"), CT_SHAPE(3), (double[]){0.1, 0.2, 0.3}, 1e-6, 1e-6);
    tu_assert_values(ct_module_buffer(bn, "running_var"), CT_SHAPE(3), (double[]){1.1, 1.1, 1.1}, 1e-6, 1e-6);
    assert_true(ct_item(ct_module_buffer(bn, "num_batches_tracked")) == 1);
    ct_module_eval(bn);
    ct_tensor *e = ct_forward(bn, x); /* (x - running_mean) / sqrt(running_var + eps) */
    assert_true(fabs(ct_get(e, CT_SHAPE(0, 0)) - (0 - 0.1) / sqrt(1.1 + 1e-5)) < 1e-5);
    assert_true(ct_item(ct_module_buffer(bn, "num_batches_tracked")) == 1);
    assert_null(ct_forward(ct_batch_norm2d(3), x));
    tu_assert_error(CT_ERR_SHAPE, "BatchNorm2d: expected 4D input (got 2D input)");
}

static void test_norm_modules(void **state) {
    (void)state;
    ct_module *ln = ct_layer_norm_module(CT_SHAPE(4));
    assert_string_equal(ct_module_str(ln), "LayerNorm((4,), eps=1e-05, elementwise_affine=True)");
    ct_tensor *y = ct_forward(ln, ct_from_data((float[]){1, 2, 3, 4}, CT_SHAPE(1, 4), CT_F32));
    double sd = sqrt(1.25 + 1e-5);
    tu_assert_values(y, CT_SHAPE(1, 4), (double[]){-1.5 / sd, -0.5 / sd, 0.5 / sd, 1.5 / sd}, 1e-5, 1e-5);
    ct_module *gn = ct_group_norm_module(2, 4);
    assert_string_equal(ct_module_str(gn), "GroupNorm(2, 4, eps=1e-05, affine=True)");
    assert_int_equal(ct_size(ct_forward(gn, ct_ones(CT_SHAPE(2, 4, 3))), 2), 3);
    assert_null(ct_group_norm_module(3, 4));
    tu_assert_error(CT_ERR_ARG, "num_channels must be divisible by num_groups");
}

static void test_dropout_module(void **state) {
    (void)state;
    ct_module *d = ct_dropout_module(0.5);
    assert_string_equal(ct_module_str(d), "Dropout(p=0.5, inplace=False)");
    ct_tensor *x = ct_ones(CT_SHAPE(1000));
    double kept = ct_item(ct_sum(ct_ne(ct_forward(d, x), ct_scalar(0))));
    assert_true(kept > 400 && kept < 600);
    ct_module_eval(d);
    tu_assert_values(ct_forward(d, ct_ones(CT_SHAPE(3))), CT_SHAPE(3), (double[]){1, 1, 1}, 0, 0);
    assert_null(ct_dropout_module(1.5));
    tu_assert_error(CT_ERR_ARG, "dropout probability has to be between 0 and 1");
}

static void test_embedding_module(void **state) {
    (void)state;
    ct_module *e = ct_embedding_module(10, 3, .padding_idx = 0);
    assert_string_equal(ct_module_str(e), "Embedding(10, 3, padding_idx=0)");
    tu_assert_values(ct_select(ct_module_parameter(e, "weight"), 0, 0), CT_SHAPE(3), (double[]){0, 0, 0}, 0, 0);
    ct_tensor *idx = ct_from_data((int64_t[]){0, 4, 4}, CT_SHAPE(3), CT_I64);
    assert_true(ct_backward(ct_sum(ct_forward(e, idx))));
    ct_tensor *g = ct_grad(ct_module_parameter(e, "weight"));
    tu_assert_values(ct_select(g, 0, 0), CT_SHAPE(3), (double[]){0, 0, 0}, 0, 0);
    tu_assert_values(ct_select(g, 0, 4), CT_SHAPE(3), (double[]){2, 2, 2}, 0, 0);
    ct_module *neg = ct_embedding_module(10, 3, .padding_idx = -1);
    assert_string_equal(ct_module_str(neg), "Embedding(10, 3, padding_idx=9)");
    assert_string_equal(ct_module_str(ct_embedding_module(5, 2)), "Embedding(5, 2)");
    assert_null(ct_embedding_module(5, 2, .padding_idx = 5));
    tu_assert_error(CT_ERR_ARG, "Padding_idx must be within num_embeddings");
}

/* MHA by its definition, with the module's own parameters: [L, N, E] inputs, 2 heads. */
static void test_multihead_attention(void **state) {
    (void)state;
    ct_manual_seed(1);
    ct_module *mha = ct_multihead_attention_module(4, 2);
    ct_named_tensors p = ct_named_parameters(mha);
    assert_int_equal(p.n, 4);
    assert_string_equal(p.items[0].name, "in_proj_weight");
    assert_string_equal(p.items[3].name, "out_proj.bias");
    ct_tensor *x = ct_randn(CT_SHAPE(3, 2, 4)); /* L = 3, N = 2 */
    ct_tensor *weights = NULL;
    ct_tensor *out = ct_multihead_attention(mha, x, x, x, .is_causal = true, .weights = &weights);
    assert_non_null(out);
    assert_int_equal(ct_size(weights, 0), 2);
    /* reference: q k v per head with scaled_dot_product_attention, then out_proj */
    ct_tensor *w = ct_module_parameter(mha, "in_proj_weight"), *b = ct_module_parameter(mha, "in_proj_bias");
    ct_tensor *xn = ct_transpose(x, 0, 1); /* [N, L, E] */
    ct_tensor *qkv = ct_add(ct_matmul(xn, ct_t(w)), b);
    ct_tensor_list parts = ct_split(qkv, 4, -1);
    ct_tensor *h[3];
    for (int i = 0; i < 3; i++) h[i] = ct_transpose(ct_view(ct_contiguous(parts.items[i]), CT_SHAPE(2, 3, 2, 2)), 1, 2);
    ct_tensor *o = ct_scaled_dot_product_attention(h[0], h[1], h[2], NULL, .is_causal = true);
    o = ct_reshape(ct_transpose(o, 1, 2), CT_SHAPE(2, 3, 4));
    ct_module *proj = ct_module_child(mha, "out_proj");
    ct_tensor *want = ct_transpose(ct_forward(proj, o), 0, 1);
    tu_assert_values(out, CT_SHAPE(3, 2, 4), tu_values(want), 1e-5, 1e-5);
    /* causal: nobody attends to a later position; rows sum to 1 */
    assert_true(ct_get(weights, CT_SHAPE(0, 0, 1)) == 0);
    tu_assert_values(ct_sum(weights, .dim = CT_DIMS(-1)), CT_SHAPE(2, 3), (double[]){1, 1, 1, 1, 1, 1}, 1e-5, 1e-5);
    /* a bool key padding mask hides key 2 from everyone */
    ct_tensor *pad = ct_from_data((bool[]){false, false, true, false, false, true}, CT_SHAPE(2, 3), CT_BOOL);
    ct_multihead_attention(mha, x, x, x, .key_padding_mask = pad, .weights = &weights);
    assert_true(ct_get(weights, CT_SHAPE(1, 0, 2)) == 0);
    assert_null(ct_multihead_attention(mha, ct_ones(CT_SHAPE(3, 2, 5)), x, x));
    tu_assert_error(CT_ERR_SHAPE, "was expecting embedding dimension of 4, but got 5");
}

static ct_module *grad_mha;
static ct_tensor *mha_fn(ct_tensor *const *in, void *user) {
    (void)user;
    return ct_multihead_attention(grad_mha, in[0], in[1], in[1], .need_weights = false);
}

static ct_module *grad_encoder;
static ct_tensor *encoder_fn(ct_tensor *const *in, void *user) {
    (void)user;
    return ct_transformer_encoder_layer_forward(grad_encoder, in[0], .is_causal = true);
}

static void test_attention_gradients(void **state) {
    (void)state;
    grad_mha = ct_module_to_dtype(ct_multihead_attention_module(4, 2, .batch_first = true), CT_F64);
    static const tu_grad_case mha_case = {"mha", mha_fn, NULL, 2, {CT_SHAPE(2, 3, 4), CT_SHAPE(2, 5, 4)}, -1, 1};
    tu_gradcheck(&mha_case);
    grad_encoder = ct_module_eval(ct_module_to_dtype(ct_transformer_encoder_layer(4, 2, .dim_feedforward = 8, .norm_first = true), CT_F64));
    static const tu_grad_case enc_case = {"encoder", encoder_fn, NULL, 1, {CT_SHAPE(3, 2, 4)}, -1, 1};
    tu_gradcheck(&enc_case);
}

static void test_transformer_encoder_layer(void **state) {
    (void)state;
    ct_module *enc = ct_transformer_encoder_layer(8, 2, .dim_feedforward = 16);
    const char *names[] = {"self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight", "self_attn.out_proj.bias",
                           "linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias", "norm1.weight", "norm1.bias",
                           "norm2.weight", "norm2.bias"};
    ct_named_tensors sd = ct_state_dict(enc);
    assert_int_equal(sd.n, 12);
    for (int i = 0; i < 12; i++) assert_string_equal(sd.items[i].name, names[i]);
    ct_module_eval(enc);
    ct_tensor *x = ct_randn(CT_SHAPE(5, 3, 8));
    ct_tensor *y1 = ct_forward(enc, x), *y2 = ct_forward(enc, x);
    assert_true(ct_equal(y1, y2)); /* eval: no dropout */
    /* post-norm: every output row is layer-normalized (mean 0) */
    tu_assert_values(ct_mean(y1, .dim = CT_DIMS(-1)), CT_SHAPE(5, 3), tu_values(ct_zeros(CT_SHAPE(15))), 0, 1e-5);
}

static void test_conv_and_pool_modules(void **state) {
    (void)state;
    ct_module *c = ct_conv2d_module(3, 8, CT_SHAPE(3), .padding = CT_SHAPE(1), .groups = 1);
    assert_string_equal(ct_module_str(c), "Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))");
    ct_tensor *w = ct_module_parameter(c, "weight");
    ct_shape ws = ct_shape_of(w);
    assert_int_equal(ws.ndim, 4);
    assert_int_equal(ws.d[0], 8);
    assert_int_equal(ws.d[1], 3);
    double bound = 1 / sqrt(27.0);
    assert_true(ct_item(ct_amax(ct_abs(w))) <= bound);
    ct_tensor *x = ct_randn(CT_SHAPE(2, 3, 5, 5));
    ct_tensor *y = ct_forward(c, x);
    assert_true(ct_allclose(y, ct_conv2d(x, w, ct_module_parameter(c, "bias"), .padding = CT_SHAPE(1)), 1e-6, 1e-6));
    assert_string_equal(ct_module_str(ct_conv1d_module(4, 6, CT_SHAPE(3), .stride = CT_SHAPE(2), .bias = false, .groups = 2)),
                        "Conv1d(4, 6, kernel_size=(3,), stride=(2,), groups=2, bias=False)");
    ct_module *t = ct_conv_transpose2d_module(8, 4, CT_SHAPE(2), .stride = CT_SHAPE(2));
    assert_string_equal(ct_module_str(t), "ConvTranspose2d(8, 4, kernel_size=(2, 2), stride=(2, 2))");
    assert_int_equal(ct_size(ct_module_parameter(t, "weight"), 0), 8);
    assert_int_equal(ct_size(ct_forward(t, y), 2), 10);
    ct_module *mp = ct_max_pool2d_module(CT_SHAPE(2));
    assert_string_equal(ct_module_str(mp), "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)");
    assert_int_equal(ct_size(ct_forward(mp, x), 3), 2);
    assert_string_equal(ct_module_str(ct_avg_pool2d_module(CT_SHAPE(3), .stride = CT_SHAPE(1))), "AvgPool2d(kernel_size=3, stride=1, padding=0)");
    ct_module *ap = ct_adaptive_avg_pool2d_module(CT_SHAPE(1));
    assert_string_equal(ct_module_str(ap), "AdaptiveAvgPool2d(output_size=1)");
    tu_assert_values(ct_flatten(ct_forward(ap, ct_ones(CT_SHAPE(1, 2, 3, 3)))), CT_SHAPE(2), (double[]){1, 1}, 1e-6, 0);
    assert_null(ct_conv2d_module(3, 8, CT_SHAPE(3), .groups = 2));
    tu_assert_error(CT_ERR_ARG, "in_channels must be divisible by groups");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch_norm_module),
        cmocka_unit_test(test_norm_modules),
        cmocka_unit_test(test_dropout_module),
        cmocka_unit_test(test_embedding_module),
        cmocka_unit_test(test_multihead_attention),
        cmocka_unit_test(test_attention_gradients),
        cmocka_unit_test(test_transformer_encoder_layer),
        cmocka_unit_test(test_conv_and_pool_modules),
    };
    return TU_RUN("layers", tests);
}
