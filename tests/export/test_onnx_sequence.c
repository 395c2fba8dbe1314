/* Sequence models: LSTM, GRU and RNN modules as ONNX LSTM/GRU/RNN nodes (gate orders converted;
 * multi-layer, bidirectional, batch_first, given initial states), with dynamic batch and
 * sequence axes run at two batch sizes and two sequence lengths; attention (causal
 * scaled_dot_product_attention, MultiheadAttention) and TransformerEncoderLayer as
 * MatMul/Softmax graphs at two batch sizes (their reshapes fix the sequence length). */
#include "onnx_harness.h"

#include <stdlib.h>
#include <string.h>

static const ct_onnx_dynamic_axis seq_axis = {.input = 0, .axis = 1, .name = "seq"};
#define DYN_SEQ CT__ONNX_OPTS(.dynamic_batch = true, .dynamic_axes = &seq_axis, .n_dynamic_axes = 1)
#define DYN CT__ONNX_OPTS(.dynamic_batch = true)

/* ---- embedding + LSTM + linear on the last step (a classifier over token ids) ---- */
typedef struct seq_state { ct_module *embed, *rnn, *head; } seq_state;
static ct_tensor *seq_forward(ct_module *m, ct_tensor *x) {
    seq_state *s = ct_module_state(m);
    if (s->embed) x = ct_forward(s->embed, x);
    ct_tensor_list y = ct_forward_list(s->rnn, CT_TENSORS(x));
    if (!y.n) return NULL;
    return ct_forward(s->head, ct_select(y.items[0], 1, -1)); /* [B, T, D*H] -> last step */
}
static const ct_module_vtable seq_vtable = {.name = "SeqClassifier", .forward = seq_forward};
static ct_module *seq_model(ct_module *embed, ct_module *rnn, int64_t rnn_out) {
    ct_module *m = ct_module_new(&seq_vtable, sizeof(seq_state));
    seq_state *s = ct_module_state(m);
    if (embed) s->embed = ct_register_module(m, "embed", embed);
    s->rnn = ct_register_module(m, "rnn", rnn);
    s->head = ct_register_module(m, "head", ct_linear(rnn_out, 3));
    return m;
}
static ct_tensor *tokens(int64_t b, int64_t t) { return ct_randint(0, 20, CT_SHAPE(b, t), .dtype = CT_I64); }
static ct_tensor *seq(int64_t b, int64_t t, int64_t f) { return ct_randn(CT_SHAPE(b, t, f)); }

static void test_lstm(void **state) {
    (void)state;
    ct_module *m = seq_model(ct_embedding_module(20, 6), ct_lstm(6, 5, .batch_first = true), 5);
    OX_CASE("lstm_classifier", m, DYN_SEQ, CT_TENSORS(tokens(2, 7)), CT_TENSORS(tokens(4, 7)), CT_TENSORS(tokens(3, 11)));
    /* the weights keep their dotted names: the gate reordering is in the graph */
    char *names = ox_initializer_names(ox_path("lstm_classifier.onnx"));
    assert_non_null(strstr(names, "rnn.weight_ih_l0 "));
    assert_non_null(strstr(names, "rnn.bias_hh_l0 "));
    free(names);
    /* two layers, bidirectional, over features */
    m = seq_model(NULL, ct_lstm(4, 5, .batch_first = true, .num_layers = 2, .bidirectional = true), 10);
    OX_CASE("lstm_2layer_bi", m, DYN_SEQ, CT_TENSORS(seq(2, 6, 4)), CT_TENSORS(seq(5, 6, 4)), CT_TENSORS(seq(3, 9, 4)));
    /* the module itself, sequence-first, all three outputs, given h_0 and c_0 (batch on axis 1: static) */
    ct_module *lstm = ct_lstm(3, 4, .num_layers = 2);
    OX_CASE("lstm_states", lstm, CT__ONNX_OPTS(), CT_TENSORS(seq(5, 2, 3), ct_randn(CT_SHAPE(2, 2, 4)), ct_randn(CT_SHAPE(2, 2, 4))));
}

static void test_gru_rnn(void **state) {
    (void)state;
    ct_module *m = seq_model(NULL, ct_gru(4, 6, .batch_first = true), 6);
    OX_CASE("gru", m, DYN_SEQ, CT_TENSORS(seq(2, 5, 4)), CT_TENSORS(seq(6, 5, 4)), CT_TENSORS(seq(2, 8, 4)));
    m = seq_model(NULL, ct_gru(4, 3, .batch_first = true, .num_layers = 2, .bidirectional = true, .bias = false), 6);
    OX_CASE("gru_2layer_bi_nobias", m, DYN_SEQ, CT_TENSORS(seq(2, 5, 4)), CT_TENSORS(seq(3, 7, 4)));
    m = seq_model(NULL, ct_rnn(4, 5, .batch_first = true, .nonlinearity = CT_RNN_RELU, .bidirectional = true), 10);
    OX_CASE("rnn_relu_bi", m, DYN_SEQ, CT_TENSORS(seq(2, 5, 4)), CT_TENSORS(seq(3, 7, 4)));
    ct_module *gru = ct_gru(3, 4);
    OX_CASE("gru_states", gru, CT__ONNX_OPTS(), CT_TENSORS(seq(5, 2, 3), ct_randn(CT_SHAPE(1, 2, 4))));
}

/* ---- attention ---- */
static ct_tensor *f_causal_sdpa(ct_module *m, ct_tensor_list in) {
    (void)m;
    ct_tensor *x = in.items[0];
    return ct_scaled_dot_product_attention(x, ct_mul_scalar(x, 0.7), ct_add_scalar(x, 1), NULL, .is_causal = true);
}
static ct_tensor *f_encoder(ct_module *m, ct_tensor_list in) {
    ct_tensor *y = ct_transformer_encoder_layer_forward(ct_module_child(m, "layer"), in.items[0], .is_causal = true);
    return ct_forward(ct_module_child(m, "head"), ct_mean(y, .dim = CT_DIMS(1)));
}
static ct_tensor *f_mha(ct_module *m, ct_tensor_list in) {
    ct_tensor *x = in.items[0];
    return ct_multihead_attention(ct_module_child(m, "attn"), x, x, x, .need_weights = false);
}

static void test_attention(void **state) {
    (void)state;
    OX_CASE("sdpa_causal", ox_fn_module(f_causal_sdpa), DYN, CT_TENSORS(seq(2, 5, 8)), CT_TENSORS(seq(4, 5, 8)));
    ct_module *mha = ox_fn_module(f_mha);
    ct_register_module(mha, "attn", ct_multihead_attention_module(8, 2, .batch_first = true));
    CT_NO_GRAD ct_uniform_(ct_module_parameter(ct_module_child(mha, "attn"), "in_proj_bias"), -0.5, 0.5);
    OX_CASE("multihead_attention", mha, DYN, CT_TENSORS(seq(2, 5, 8)), CT_TENSORS(seq(3, 5, 8)));
    /* a transformer encoder classifier: post-norm and pre-norm GELU layers, causal */
    for (int pre = 0; pre < 2; pre++) {
        ct_module *enc = ox_fn_module(f_encoder);
        ct_register_module(enc, "layer", ct_transformer_encoder_layer(8, 2, .dim_feedforward = 16, .batch_first = true,
                                                                      .norm_first = pre, .activation = pre ? CT_ACTIVATION_GELU : CT_ACTIVATION_RELU));
        ct_register_module(enc, "head", ct_linear(8, 3));
        OX_CASE(pre ? "encoder_prenorm_gelu" : "encoder", enc, DYN, CT_TENSORS(seq(2, 6, 8)), CT_TENSORS(seq(5, 6, 8)));
    }
}

int main(void) {
    ct_manual_seed(5);
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_lstm), cmocka_unit_test(test_gru_rnn), cmocka_unit_test(test_attention),
                                       cmocka_unit_test(ox_check_all)};
    return OX_RUN("onnx_sequence", tests);
}
