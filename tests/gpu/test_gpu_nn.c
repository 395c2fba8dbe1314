/* Modules, losses, optimizers, gradient clipping, einsum and checkpoints on CUDA against the CPU
 * (issue 7: everything of issues 2 to 5 runs on CT_CUDA(i) through the same API).
 *
 * Every layer is built twice from one seed, the second copy moved with ct_module_to(cuda:0); both
 * run forward on the same random non-contiguous input, then backward of sum(out * r), r random;
 * outputs, input gradients, every parameter's gradient and every buffer must agree. f32 within
 * 1e-5 relative plus 1e-5 absolute, the absolute part for entries where a sum cancels to near
 * zero (a gradient summed over a batch, a normalized value), whose error is the rounding of the
 * terms, not of the result. Deeper chains (recurrent layers, attention, the encoder layer) get
 * 1e-4 relative: cuBLAS and the CPU accumulate each of a dozen dependent products in a different
 * order, and the differences compound through tanh/softmax/normalization. TF32 is off. */
#include "../common/testutil.h"

#include <stdio.h>
#include <unistd.h>

static uint64_t rng = 7070707;

#define SEED 4242

/* A random CPU leaf in [-1, 1): non-contiguous (transposed storage, or every other element). */
static ct_tensor *leaf(ct_shape s) {
    return ct_requires_grad_(tu_random(&rng, s, CT_F32, s.ndim >= 2 ? TU_TRANSPOSED : TU_STEPPED, -1, 1), true);
}
static ct_tensor *leaf_in(ct_shape s, double lo, double hi) {
    return ct_requires_grad_(tu_random(&rng, s, CT_F32, s.ndim >= 2 ? TU_TRANSPOSED : TU_STEPPED, lo, hi), true);
}
/* The same without requires_grad: targets the loss is not differentiated for. */
static ct_tensor *constant_in(ct_shape s, double lo, double hi) {
    return tu_random(&rng, s, CT_F32, s.ndim >= 2 ? TU_TRANSPOSED : TU_STEPPED, lo, hi);
}

/* x's values on cuda:0, non-contiguous too (last two dims stored swapped), a leaf requiring grad
 * when x does. */
static ct_tensor *on_gpu(const ct_tensor *x) {
    ct_tensor *d = ct_detach(x), *g;
    if (ct_ndim(d) >= 2) g = ct_transpose(ct_to(ct_contiguous(ct_transpose(d, -1, -2)), CT_CUDA(0)), -1, -2);
    else g = ct_to(d, CT_CUDA(0));
    if (!g) fail_msg("copy to cuda:0: %s", ct_last_error());
    return ct_requires_grad(x) ? ct_requires_grad_(g, true) : g;
}

/* want (CPU) and got (CUDA) hold the same values; what names the tensor in a failure. */
static void assert_same(const char *what, const ct_tensor *want, const ct_tensor *got, double rtol, double atol) {
    if (!want) fail_msg("%s: the CPU result is missing: %s", what, ct_last_error());
    if (!got) fail_msg("%s: the CUDA result is missing: %s", what, ct_last_error());
    if (!ct_device_equal(ct_device_of(got), CT_CUDA(0))) fail_msg("%s: the CUDA result is on %s", what, ct_device_name(ct_device_of(got)));
    print_message("  %s\n", what);
    tu_assert_values(ct_to(got, CT_CPU), ct_shape_of(want), tu_values(want), rtol, atol);
}

/* ---- the comparison: outputs, backward of sum(out * r), input and parameter gradients, buffers ---- */

typedef struct pair {
    ct_module *cpu, *gpu;
} pair;

/* build() twice from one seed; the second moved to cuda:0 (so both start from the same values). */
static pair build_pair(ct_module *(*build)(void)) {
    ct_manual_seed(SEED);
    pair p = {build(), NULL};
    ct_manual_seed(SEED);
    p.gpu = build();
    if (!p.cpu || !p.gpu) fail_msg("build: %s", ct_last_error());
    if (!ct_module_to(p.gpu, CT_CUDA(0))) fail_msg("module_to(cuda:0): %s", ct_last_error());
    ct_named_tensors a = ct_named_parameters(p.cpu), b = ct_named_parameters(p.gpu);
    assert_int_equal(a.n, b.n);
    for (int i = 0; i < a.n; i++) {
        assert_string_equal(a.items[i].name, b.items[i].name);
        assert_same(a.items[i].name, a.items[i].tensor, b.items[i].tensor, 0, 0);
    }
    return p;
}

/* yc / yg: the outputs on each device (NULL entries, such as attention weights not asked for,
 * on both sides are skipped); xc / xg: n inputs; m: the modules (NULLs for a functional op). */
static void compare_run(ct_tensor_list yc, ct_tensor_list yg, int n, ct_tensor *const *xc, ct_tensor *const *xg, pair m,
                        double rtol, double atol) {
    if (yg.n != yc.n) fail_msg("CUDA run gave %d outputs (CPU %d): %s", yg.n, yc.n, ct_last_error());
    ct_tensor *lc = ct_scalar_tensor(0), *lg = ct_scalar_tensor(0, .device = CT_CUDA(0));
    char what[96];
    for (int j = 0; j < yc.n; j++) {
        if (!yc.items[j] && !yg.items[j]) continue;
        snprintf(what, sizeof what, "output %d", j);
        assert_same(what, yc.items[j], yg.items[j], rtol, atol);
        if (!ct_dtype_is_floating(ct_dtype_of(yc.items[j])) || !ct_requires_grad(yc.items[j])) continue;
        ct_tensor *r = tu_random(&rng, ct_shape_of(yc.items[j]), CT_F32, TU_CONTIGUOUS, -1, 1);
        lc = ct_add(lc, ct_sum(ct_mul(yc.items[j], r)));
        lg = ct_add(lg, ct_sum(ct_mul(yg.items[j], ct_to(r, CT_CUDA(0)))));
    }
    if (ct_requires_grad(lc)) {
        assert_true(ct_backward(lc));
        if (!ct_backward(lg)) fail_msg("CUDA backward: %s", ct_last_error());
    }
    for (int i = 0; i < n; i++) {
        if (!xc[i] || !ct_requires_grad(xc[i])) continue;
        snprintf(what, sizeof what, "grad of input %d", i);
        assert_same(what, ct_grad(xc[i]), ct_grad(xg[i]), rtol, atol);
    }
    if (!m.cpu) return;
    ct_named_tensors pc = ct_named_parameters(m.cpu), pg = ct_named_parameters(m.gpu);
    for (int i = 0; i < pc.n; i++) {
        ct_tensor *gc = ct_grad(pc.items[i].tensor), *gg = ct_grad(pg.items[i].tensor);
        if (!gc && !gg) continue; /* unused in this forward on both */
        snprintf(what, sizeof what, "grad of %s", pc.items[i].name);
        assert_same(what, gc, gg, rtol, atol);
    }
    ct_named_tensors bc = ct_named_buffers(m.cpu), bg = ct_named_buffers(m.gpu);
    assert_int_equal(bc.n, bg.n);
    for (int i = 0; i < bc.n; i++) {
        snprintf(what, sizeof what, "buffer %s", bc.items[i].name);
        assert_same(what, bc.items[i].tensor, bg.items[i].tensor, rtol, atol);
    }
}

/* A module's forward over its inputs; ctx is the test's. */
typedef ct_tensor_list (*run_fn)(ct_module *m, ct_tensor *const *x, const void *ctx);

static ct_tensor_list run_forward(ct_module *m, ct_tensor *const *x, const void *ctx) {
    (void)ctx;
    return ct_tensor_list_copy(CT_TENSORS(ct_forward(m, x[0])));
}
static ct_tensor_list run_forward_list(ct_module *m, ct_tensor *const *x, const void *ctx) {
    (void)ctx;
    return ct_forward_list(m, CT_TENSORS(x[0]));
}

/* Runs the pair on n CPU inputs and their CUDA copies and compares everything. */
static void check_pair(pair m, run_fn run, const void *ctx, int n, ct_tensor *const *xc, double rtol, double atol) {
    ct_tensor *xg[4];
    for (int i = 0; i < n; i++) xg[i] = xc[i] ? on_gpu(xc[i]) : NULL;
    ct_module_zero_grad(m.cpu);
    ct_module_zero_grad(m.gpu);
    compare_run(run(m.cpu, xc, ctx), run(m.gpu, xg, ctx), n, xc, xg, m, rtol, atol);
}

static void check_module(ct_module *(*build)(void), run_fn run, const void *ctx, ct_tensor *x, double rtol, double atol) {
    check_pair(build_pair(build), run, ctx, 1, (ct_tensor *[]){x}, rtol, atol);
}

static int setup(void **state) {
    (void)state;
    ct_scope_begin(); /* testutil's teardown closes it */
    ct_set_allow_tf32(false);
    ct_set_cudnn_allow_tf32(false);
    return 0;
}

/* ---- layers ---- */

static ct_module *b_linear(void) { return ct_linear(7, 5); }
static ct_module *b_conv1d(void) { return ct_conv1d_module(4, 6, CT_SHAPE(3), .stride = CT_SHAPE(2), .padding = CT_SHAPE(1)); }
static ct_module *b_conv2d(void) {
    return ct_conv2d_module(4, 6, CT_SHAPE(3, 2), .stride = CT_SHAPE(2, 1), .padding = CT_SHAPE(1, 0), .groups = 2);
}
static ct_module *b_conv2d_dilated(void) {
    return ct_conv2d_module(3, 4, CT_SHAPE(3, 3), .padding = CT_SHAPE(2), .dilation = CT_SHAPE(2), .bias = false);
}
static ct_module *b_conv_t2d(void) {
    return ct_conv_transpose2d_module(4, 6, CT_SHAPE(3, 3), .stride = CT_SHAPE(2), .padding = CT_SHAPE(1),
                                      .output_padding = CT_SHAPE(1), .groups = 2);
}
static ct_module *b_maxpool(void) { return ct_max_pool2d_module(CT_SHAPE(3, 3), .stride = CT_SHAPE(2), .padding = CT_SHAPE(1)); }
static ct_module *b_avgpool(void) {
    return ct_avg_pool2d_module(CT_SHAPE(3, 3), .stride = CT_SHAPE(2), .padding = CT_SHAPE(1), .count_include_pad = false);
}
static ct_module *b_avgpool_ceil(void) { return ct_avg_pool2d_module(CT_SHAPE(2, 2), .ceil_mode = true); }
static ct_module *b_adaptive(void) { return ct_adaptive_avg_pool2d_module(CT_SHAPE(3, 2)); }
static ct_module *b_layer_norm(void) { return ct_layer_norm_module(CT_SHAPE(5, 6)); }
static ct_module *b_group_norm(void) { return ct_group_norm_module(2, 6); }
static ct_module *b_embedding(void) { return ct_embedding_module(10, 4, .padding_idx = 2); }
static ct_module *b_dropout(void) { return ct_module_eval(ct_dropout_module(0.3)); }

static void linear_and_convolutions(void **state) {
    (void)state;
    check_module(b_linear, run_forward, NULL, leaf(CT_SHAPE(3, 4, 7)), 1e-5, 1e-5);
    check_module(b_conv1d, run_forward, NULL, leaf(CT_SHAPE(2, 4, 9)), 1e-5, 1e-5);
    check_module(b_conv2d, run_forward, NULL, leaf(CT_SHAPE(2, 4, 7, 6)), 1e-5, 1e-5);
    check_module(b_conv2d_dilated, run_forward, NULL, leaf(CT_SHAPE(2, 3, 6, 5)), 1e-5, 1e-5);
    check_module(b_conv_t2d, run_forward, NULL, leaf(CT_SHAPE(2, 4, 4, 5)), 1e-5, 1e-5);
}

static void pooling(void **state) {
    (void)state;
    /* random values: no ties, so max pooling's argmax is the same on both devices */
    check_module(b_maxpool, run_forward, NULL, leaf(CT_SHAPE(2, 3, 7, 6)), 1e-5, 1e-5);
    check_module(b_avgpool, run_forward, NULL, leaf(CT_SHAPE(2, 3, 7, 6)), 1e-5, 1e-5);
    check_module(b_avgpool_ceil, run_forward, NULL, leaf(CT_SHAPE(2, 3, 5, 7)), 1e-5, 1e-5);
    check_module(b_adaptive, run_forward, NULL, leaf(CT_SHAPE(2, 3, 7, 5)), 1e-5, 1e-5);
}

static ct_module *b_bn1d(void) { return ct_batch_norm1d(6, .momentum = 0.2); }
static ct_module *b_bn2d(void) { return ct_batch_norm2d(4); }

/* Two training steps (the running statistics and num_batches_tracked are compared as buffers after
 * each), then eval mode, which normalizes with those statistics. */
static void batch_norm_module(ct_module *(*build)(void), ct_shape s) {
    pair m = build_pair(build);
    for (int step = 0; step < 2; step++) check_pair(m, run_forward, NULL, 1, (ct_tensor *[]){leaf(s)}, 1e-5, 1e-5);
    ct_module_eval(m.cpu);
    ct_module_eval(m.gpu);
    check_pair(m, run_forward, NULL, 1, (ct_tensor *[]){leaf(s)}, 1e-5, 1e-5);
}

static void normalization(void **state) {
    (void)state;
    batch_norm_module(b_bn1d, CT_SHAPE(8, 6));
    batch_norm_module(b_bn1d, CT_SHAPE(4, 6, 5));
    batch_norm_module(b_bn2d, CT_SHAPE(3, 4, 5, 5));
    check_module(b_layer_norm, run_forward, NULL, leaf(CT_SHAPE(3, 5, 6)), 1e-5, 1e-5);
    check_module(b_group_norm, run_forward, NULL, leaf(CT_SHAPE(3, 6, 4, 4)), 1e-5, 1e-5);
}

static void embedding_and_dropout(void **state) {
    (void)state;
    /* indices 0..9 (transposed storage), several of them the padding index 2, whose row gets no
     * gradient on either device */
    int64_t idx[15] = {2, 0, 9, 2, 5, 7, 1, 2, 3, 8, 4, 6, 2, 9, 0};
    ct_tensor *x = ct_transpose(ct_contiguous(ct_transpose(ct_from_data(idx, CT_SHAPE(3, 5), CT_I64), 0, 1)), 0, 1);
    check_module(b_embedding, run_forward, NULL, x, 1e-5, 1e-5);
    check_module(b_dropout, run_forward, NULL, leaf(CT_SHAPE(4, 5)), 0, 0); /* eval: the identity */
}

static ct_module *b_rnn(void) { return ct_rnn(5, 7, .num_layers = 2, .bidirectional = true, .batch_first = true); }
static ct_module *b_rnn_relu(void) { return ct_rnn(5, 6, .nonlinearity = CT_RNN_RELU); }
static ct_module *b_lstm(void) { return ct_lstm(5, 7, .num_layers = 2, .bidirectional = true, .batch_first = true); }
static ct_module *b_gru(void) { return ct_gru(5, 7, .num_layers = 2, .bidirectional = true, .batch_first = true); }

/* (x, h_0[, c_0]) given: the initial states' gradients are compared too. */
static ct_tensor_list run_with_state(ct_module *m, ct_tensor *const *x, const void *ctx) {
    return ct_forward_list(m, (ct_tensor_list){.n = *(const int *)ctx, .items = x});
}

static void recurrent(void **state) {
    (void)state;
    /* output [B, T, 2H], h_n [4, B, H] (and c_n), all compared and all in the loss */
    check_module(b_rnn, run_forward_list, NULL, leaf(CT_SHAPE(3, 4, 5)), 1e-4, 1e-5);
    check_module(b_lstm, run_forward_list, NULL, leaf(CT_SHAPE(3, 4, 5)), 1e-4, 1e-5);
    check_module(b_gru, run_forward_list, NULL, leaf(CT_SHAPE(3, 4, 5)), 1e-4, 1e-5);
    check_module(b_rnn_relu, run_forward_list, NULL, leaf(CT_SHAPE(6, 2, 5)), 1e-4, 1e-5);
    int three = 3, two = 2;
    check_pair(build_pair(b_lstm), run_with_state, &three, 3,
               (ct_tensor *[]){leaf(CT_SHAPE(3, 4, 5)), leaf(CT_SHAPE(4, 3, 7)), leaf(CT_SHAPE(4, 3, 7))}, 1e-4, 1e-5);
    check_pair(build_pair(b_gru), run_with_state, &two, 2, (ct_tensor *[]){leaf(CT_SHAPE(3, 4, 5)), leaf(CT_SHAPE(4, 3, 7))},
               1e-4, 1e-5);
}

static ct_module *b_mha(void) { return ct_multihead_attention_module(8, 2); }
static ct_module *b_mha_bf(void) { return ct_multihead_attention_module(8, 4, .batch_first = true); }
static ct_module *b_encoder(void) {
    return ct_transformer_encoder_layer(8, 2, .dim_feedforward = 16, .dropout = 0, .batch_first = true);
}
static ct_module *b_encoder_pre_gelu(void) {
    return ct_transformer_encoder_layer(8, 4, .dim_feedforward = 12, .dropout = 0, .norm_first = true,
                                        .activation = CT_ACTIVATION_GELU);
}

/* Self-attention: (output, head-averaged weights). */
static ct_tensor_list run_mha(ct_module *m, ct_tensor *const *x, const void *ctx) {
    (void)ctx;
    return ct_forward_list(m, CT_TENSORS(x[0], x[0], x[0]));
}
/* Cross-attention with a causal mask: is_causal, or an explicit bool mask (true = may not attend)
 * made on the inputs' device. */
static ct_tensor_list run_mha_causal(ct_module *m, ct_tensor *const *x, const void *ctx) {
    bool explicit_mask = *(const bool *)ctx;
    ct_tensor *w = NULL;
    ct_tensor *out;
    if (explicit_mask) {
        int64_t l = ct_size(x[0], 0), s = ct_size(x[1], 0);
        ct_tensor *mask = ct_triu(ct_ones(CT_SHAPE(l, s), .dtype = CT_BOOL, .device = ct_device_of(x[0])), 1);
        out = ct_multihead_attention(m, x[0], x[1], x[1], .attn_mask = mask, .weights = &w);
    } else {
        out = ct_multihead_attention(m, x[0], x[1], x[1], .is_causal = true, .need_weights = false);
    }
    return ct_tensor_list_copy(CT_TENSORS(out, w));
}
static ct_tensor_list run_encoder_causal(ct_module *m, ct_tensor *const *x, const void *ctx) {
    (void)ctx;
    return ct_tensor_list_copy(CT_TENSORS(ct_transformer_encoder_layer_forward(m, x[0], .is_causal = true)));
}

static void attention(void **state) {
    (void)state;
    check_module(b_mha, run_mha, NULL, leaf(CT_SHAPE(5, 3, 8)), 1e-4, 1e-5);
    check_module(b_mha_bf, run_mha, NULL, leaf(CT_SHAPE(3, 5, 8)), 1e-4, 1e-5);
    bool yes = true, no = false;
    check_pair(build_pair(b_mha), run_mha_causal, &yes, 2, (ct_tensor *[]){leaf(CT_SHAPE(5, 2, 8)), leaf(CT_SHAPE(6, 2, 8))},
               1e-4, 1e-5);
    check_pair(build_pair(b_mha), run_mha_causal, &no, 2, (ct_tensor *[]){leaf(CT_SHAPE(5, 2, 8)), leaf(CT_SHAPE(5, 2, 8))},
               1e-4, 1e-5);
    check_module(b_encoder, run_forward, NULL, leaf(CT_SHAPE(2, 6, 8)), 1e-4, 1e-5);
    check_module(b_encoder, run_encoder_causal, NULL, leaf(CT_SHAPE(2, 6, 8)), 1e-4, 1e-5);
    check_module(b_encoder_pre_gelu, run_forward, NULL, leaf(CT_SHAPE(6, 2, 8)), 1e-4, 1e-5);
}

/* ---- losses ---- */

typedef ct_tensor *(*loss_fn)(ct_tensor *const *in, int variant);

/* Runs a loss on n CPU inputs and their CUDA copies for each reduction variant 0..variants-1. */
static void check_loss(const char *name, loss_fn fn, int variants, int n, ct_tensor *const *xc, double rtol, double atol) {
    ct_tensor *xg[4];
    for (int i = 0; i < n; i++) xg[i] = xc[i] ? on_gpu(xc[i]) : NULL;
    for (int v = 0; v < variants; v++) {
        print_message(" %s, variant %d\n", name, v);
        for (int i = 0; i < n; i++)
            if (xc[i] && ct_requires_grad(xc[i])) assert_true(ct_set_grad(xc[i], NULL) && ct_set_grad(xg[i], NULL));
        compare_run(ct_tensor_list_copy(CT_TENSORS(fn(xc, v))), ct_tensor_list_copy(CT_TENSORS(fn(xg, v))), n, xc, xg,
                    (pair){NULL, NULL}, rtol, atol);
    }
}

static const ct_reduction reductions[3] = {CT_REDUCTION_MEAN, CT_REDUCTION_SUM, CT_REDUCTION_NONE};

static ct_tensor *l_mse(ct_tensor *const *x, int v) { return ct_mse_loss(x[0], x[1], .reduction = reductions[v]); }
static ct_tensor *l_l1(ct_tensor *const *x, int v) { return ct_l1_loss(x[0], x[1], .reduction = reductions[v]); }
static ct_tensor *l_smooth_l1(ct_tensor *const *x, int v) {
    return ct_smooth_l1_loss(x[0], x[1], .reduction = reductions[v], .beta = v == 2 ? 0.0 : 0.5);
}
static ct_tensor *l_huber(ct_tensor *const *x, int v) { return ct_huber_loss(x[0], x[1], .reduction = reductions[v], .delta = 0.7); }
static ct_tensor *l_bce(ct_tensor *const *x, int v) {
    return ct_binary_cross_entropy(x[0], x[1], .weight = v == 1 ? x[2] : NULL, .reduction = reductions[v]);
}
static ct_tensor *l_bce_logits(ct_tensor *const *x, int v) {
    return ct_binary_cross_entropy_with_logits(x[0], x[1], .weight = v == 0 ? x[2] : NULL, .pos_weight = v > 0 ? x[2] : NULL,
                                               .reduction = reductions[v]);
}
static ct_tensor *l_nll(ct_tensor *const *x, int v) {
    return ct_nll_loss(x[0], x[1], .weight = v == 1 ? NULL : x[2], .reduction = reductions[v]);
}
static ct_tensor *l_ce_index(ct_tensor *const *x, int v) {
    return ct_cross_entropy(x[0], x[1], .weight = v == 0 ? NULL : x[2], .reduction = reductions[v],
                            .label_smoothing = v == 1 ? 0 : 0.1);
}
static ct_tensor *l_ce_probs(ct_tensor *const *x, int v) {
    return ct_cross_entropy(x[0], ct_softmax(x[1], 1), .weight = v == 2 ? x[2] : NULL, .reduction = reductions[v],
                            .label_smoothing = v == 0 ? 0.2 : 0);
}
static ct_tensor *l_kl_div(ct_tensor *const *x, int v) {
    ct_reduction r[3] = {CT_REDUCTION_BATCHMEAN, CT_REDUCTION_MEAN, CT_REDUCTION_NONE};
    return v == 1 ? ct_kl_div(ct_log_softmax(x[0], 1), ct_log_softmax(x[1], 1), .reduction = r[v], .log_target = true)
                  : ct_kl_div(ct_log_softmax(x[0], 1), x[1], .reduction = r[v]);
}

static void losses(void **state) {
    (void)state;
    check_loss("mse", l_mse, 3, 2, (ct_tensor *[]){leaf(CT_SHAPE(6, 5)), leaf(CT_SHAPE(6, 5))}, 1e-5, 1e-5);
    check_loss("l1", l_l1, 3, 2, (ct_tensor *[]){leaf(CT_SHAPE(6, 5)), leaf(CT_SHAPE(6, 5))}, 1e-5, 1e-5);
    check_loss("smooth_l1", l_smooth_l1, 3, 2, (ct_tensor *[]){leaf(CT_SHAPE(6, 5)), leaf(CT_SHAPE(6, 5))}, 1e-5, 1e-5);
    check_loss("huber", l_huber, 3, 2, (ct_tensor *[]){leaf(CT_SHAPE(4, 3, 5)), leaf(CT_SHAPE(4, 3, 5))}, 1e-5, 1e-5);
    /* probabilities away from 0 and 1, where log's clamp at -100 does not act */
    ct_tensor *w5 = tu_random(&rng, CT_SHAPE(5), CT_F32, TU_STEPPED, 0.2, 2);
    check_loss("binary_cross_entropy", l_bce, 3, 3,
               (ct_tensor *[]){leaf_in(CT_SHAPE(6, 5), 0.05, 0.95), constant_in(CT_SHAPE(6, 5), 0, 1), w5}, 1e-5, 1e-5);
    check_loss("binary_cross_entropy_with_logits", l_bce_logits, 3, 3,
               (ct_tensor *[]){leaf_in(CT_SHAPE(6, 5), -3, 3), constant_in(CT_SHAPE(6, 5), 0, 1), w5}, 1e-5, 1e-5);
    /* class targets with one ignored (-100) entry; [N, C] and [N, C, d1, d2] */
    int64_t t6[6] = {0, 3, -100, 4, 1, 2};
    ct_tensor *target = ct_from_data(t6, CT_SHAPE(6), CT_I64);
    check_loss("nll_loss", l_nll, 3, 3, (ct_tensor *[]){leaf_in(CT_SHAPE(6, 5), -3, 0), target, w5}, 1e-5, 1e-5);
    ct_tensor *target4 = tu_random(&rng, CT_SHAPE(2, 3, 2), CT_I64, TU_TRANSPOSED, 0, 4.49);
    check_loss("nll_loss 4-d", l_nll, 3, 3, (ct_tensor *[]){leaf_in(CT_SHAPE(2, 5, 3, 2), -3, 0), target4, w5}, 1e-5, 1e-5);
    check_loss("cross_entropy", l_ce_index, 3, 3, (ct_tensor *[]){leaf_in(CT_SHAPE(6, 5), -2, 2), target, w5}, 1e-5, 1e-5);
    check_loss("cross_entropy 4-d", l_ce_index, 3, 3, (ct_tensor *[]){leaf_in(CT_SHAPE(2, 5, 3, 2), -2, 2), target4, w5},
               1e-5, 1e-5);
    /* probability targets: the target is differentiable too */
    check_loss("cross_entropy probabilities", l_ce_probs, 3, 3,
               (ct_tensor *[]){leaf_in(CT_SHAPE(6, 5), -2, 2), leaf_in(CT_SHAPE(6, 5), -2, 2), w5}, 1e-5, 1e-5);
    check_loss("kl_div", l_kl_div, 3, 2,
               (ct_tensor *[]){leaf_in(CT_SHAPE(6, 5), -2, 2), constant_in(CT_SHAPE(6, 5), 0, 1)}, 1e-5, 1e-5);
}

/* ---- optimizers and clipping ---- */

static ct_module *b_mlp(void) { return ct_sequential(ct_linear(6, 8), ct_tanh_module(), ct_linear(8, 3)); }

typedef ct_optimizer *(*optim_fn)(ct_tensor_list params);
static ct_optimizer *o_sgd(ct_tensor_list p) { return ct_sgd(p, .lr = 0.1, .momentum = 0.9, .weight_decay = 0.01); }
static ct_optimizer *o_nesterov(ct_tensor_list p) { return ct_sgd(p, .lr = 0.05, .momentum = 0.8, .nesterov = true); }
static ct_optimizer *o_adam(ct_tensor_list p) { return ct_adam(p, .lr = 0.01, .weight_decay = 0.01, .amsgrad = true); }
static ct_optimizer *o_adamw(ct_tensor_list p) { return ct_adamw(p, .lr = 0.01); }
static ct_optimizer *o_rmsprop(ct_tensor_list p) { return ct_rmsprop(p, .lr = 0.01); }
static ct_optimizer *o_rmsprop_all(ct_tensor_list p) {
    return ct_rmsprop(p, .lr = 0.01, .alpha = 0.9, .momentum = 0.5, .centered = true, .weight_decay = 0.05, .maximize = true);
}
static ct_optimizer *o_adagrad(ct_tensor_list p) { return ct_adagrad(p, .lr = 0.1); }
static ct_optimizer *o_adagrad_all(ct_tensor_list p) {
    return ct_adagrad(p, .lr = 0.1, .lr_decay = 0.05, .weight_decay = 0.1, .initial_accumulator_value = 0.2, .eps = 1e-6);
}

/* Three steps of mse(model(x), t) -> backward -> (clip) -> step on the CPU model and its CUDA copy;
 * the parameters, and the clipped norms, must agree after each step. */
static void train_steps(const char *name, optim_fn make, bool clip) {
    print_message(" %s%s\n", name, clip ? " with clip_grad_norm_" : "");
    pair m = build_pair(b_mlp);
    ct_optimizer *oc = make(ct_parameters(m.cpu)), *og = make(ct_parameters(m.gpu));
    if (!oc || !og) fail_msg("optimizer: %s", ct_last_error());
    for (int step = 0; step < 3; step++) {
        ct_tensor *x = constant_in(CT_SHAPE(10, 6), -1, 1), *t = tu_random(&rng, CT_SHAPE(10, 3), CT_F32, TU_CONTIGUOUS, -1, 1);
        assert_true(ct_optimizer_zero_grad(oc));
        assert_true(ct_optimizer_zero_grad(og));
        assert_true(ct_backward(ct_mse_loss(ct_forward(m.cpu, x), t)));
        if (!ct_backward(ct_mse_loss(ct_forward(m.gpu, on_gpu(x)), ct_to(t, CT_CUDA(0)))))
            fail_msg("CUDA backward: %s", ct_last_error());
        if (clip) {
            ct_tensor *nc = ct_clip_grad_norm_(ct_parameters(m.cpu), 0.05);
            assert_same("clipped total norm", nc, ct_clip_grad_norm_(ct_parameters(m.gpu), 0.05), 1e-5, 1e-6);
        }
        assert_true(ct_optimizer_step(oc));
        if (!ct_optimizer_step(og)) fail_msg("CUDA %s step: %s", name, ct_last_error());
        ct_named_tensors pc = ct_named_parameters(m.cpu), pg = ct_named_parameters(m.gpu);
        for (int i = 0; i < pc.n; i++) assert_same(pc.items[i].name, pc.items[i].tensor, pg.items[i].tensor, 1e-5, 1e-6);
    }
}

static void optimizers(void **state) {
    (void)state;
    train_steps("SGD momentum", o_sgd, false);
    train_steps("SGD nesterov", o_nesterov, true);
    train_steps("Adam amsgrad", o_adam, false);
    train_steps("AdamW", o_adamw, true);
    train_steps("RMSprop", o_rmsprop, false);
    train_steps("RMSprop centered momentum", o_rmsprop_all, false);
    train_steps("Adagrad", o_adagrad, false);
    train_steps("Adagrad lr_decay", o_adagrad_all, true);
}

/* clip_grad_norm_ of every norm type on three gradients (one transposed, one parameter without a
 * gradient): the total and the scaled gradients; then no clipping when max_norm is large, the
 * non-finite error, and clip_grad_value_. */
static void clipping(void **state) {
    (void)state;
    ct_shape shapes[3] = {CT_SHAPE(4, 5), CT_SHAPE(7), CT_SHAPE(3, 2, 2)};
    double norms[4] = {2, 1, INFINITY, 3};
    for (int k = 0; k < 4; k++)
        for (int big = 0; big < 2; big++) {
            print_message(" norm_type %g, max_norm %s\n", norms[k], big ? "large" : "small");
            ct_tensor *pc[4], *pg[4];
            for (int i = 0; i < 4; i++) {
                pc[i] = ct_requires_grad_(ct_zeros(i < 3 ? shapes[i] : CT_SHAPE(2)), true);
                pg[i] = ct_requires_grad_(ct_zeros(i < 3 ? shapes[i] : CT_SHAPE(2), .device = CT_CUDA(0)), true);
                if (i == 3) continue; /* no gradient: skipped */
                ct_tensor *g = tu_random(&rng, shapes[i], CT_F32, i == 0 ? TU_TRANSPOSED : TU_CONTIGUOUS, -2, 2);
                assert_true(ct_set_grad(pc[i], g));
                assert_true(ct_set_grad(pg[i], on_gpu(g)));
            }
            double max_norm = big ? 1e6 : 0.5;
            ct_tensor *tc = ct_clip_grad_norm_(((ct_tensor_list){4, pc}), max_norm, .norm_type = norms[k]);
            ct_tensor *tg = ct_clip_grad_norm_(((ct_tensor_list){4, pg}), max_norm, .norm_type = norms[k]);
            assert_same("total norm", tc, tg, 1e-5, 0);
            for (int i = 0; i < 3; i++) assert_same("clipped grad", ct_grad(pc[i]), ct_grad(pg[i]), 1e-5, 1e-7);
            assert_null(ct_grad(pg[3]));
        }
    /* an inf gradient: error_if_nonfinite refuses, naming the norm type; the grads stay as they were */
    ct_tensor *p = ct_requires_grad_(ct_zeros(CT_SHAPE(3), .device = CT_CUDA(0)), true);
    float bad[3] = {1, INFINITY, 2};
    assert_true(ct_set_grad(p, ct_to(ct_from_data(bad, CT_SHAPE(3), CT_F32), CT_CUDA(0))));
    assert_null(ct_clip_grad_norm_(CT_TENSORS(p), 1.0, .error_if_nonfinite = true));
    tu_assert_error(CT_ERR_ARG, "The total norm of order 2.0 for gradients from `parameters` is non-finite");
    tu_assert_values(ct_to(ct_grad(p), CT_CPU), CT_SHAPE(3), (double[]){1, INFINITY, 2}, 0, 0);
    /* clip_grad_value_ */
    ct_tensor *qc = ct_requires_grad_(ct_zeros(CT_SHAPE(5, 4)), true);
    ct_tensor *qg = ct_requires_grad_(ct_zeros(CT_SHAPE(5, 4), .device = CT_CUDA(0)), true);
    ct_tensor *g = tu_random(&rng, CT_SHAPE(5, 4), CT_F32, TU_CONTIGUOUS, -2, 2);
    assert_true(ct_set_grad(qc, g) && ct_set_grad(qg, ct_to(g, CT_CUDA(0))));
    assert_true(ct_clip_grad_value_(CT_TENSORS(qc), 0.7));
    assert_true(ct_clip_grad_value_(CT_TENSORS(qg), 0.7));
    assert_same("clip_grad_value_", ct_grad(qc), ct_grad(qg), 0, 0);
}

/* ---- einsum ---- */

static const char *einsum_eq;
static ct_tensor *l_einsum(ct_tensor *const *x, int v) {
    (void)v;
    return ct_einsum(einsum_eq, (ct_tensor_list){.n = x[1] ? 2 : 1, .items = x});
}

static void einsum(void **state) {
    (void)state;
    struct {
        const char *eq;
        ct_shape a, b;
        bool one; /* one operand: a only */
    } cases[] = {
        {"bij,bjk->bik", CT_SHAPE(3, 4, 5), CT_SHAPE(3, 5, 2), false}, /* batched matmul */
        {"ij,jk", CT_SHAPE(4, 6), CT_SHAPE(6, 3), false},              /* implicit output */
        {"ij->ji", CT_SHAPE(4, 6), CT_SHAPE(), true},                  /* transpose */
        {"ii->", CT_SHAPE(5, 5), CT_SHAPE(), true},                    /* trace */
        {"ii->i", CT_SHAPE(5, 5), CT_SHAPE(), true},                   /* diagonal */
        {"bij->bj", CT_SHAPE(2, 4, 3), CT_SHAPE(), true},              /* a sum */
        {"i,j->ij", CT_SHAPE(4), CT_SHAPE(3), false},                  /* outer product */
        {"ij,ij->", CT_SHAPE(4, 3), CT_SHAPE(4, 3), false},            /* full contraction */
        {"bik,bjk->bij", CT_SHAPE(2, 3, 4), CT_SHAPE(2, 5, 4), false}, /* attention scores */
        {"iij,jk->ik", CT_SHAPE(3, 3, 4), CT_SHAPE(4, 2), false},      /* diagonal then product */
        {"ijk,k->ij", CT_SHAPE(2, 3, 4), CT_SHAPE(4), false},          /* matrix-vector */
        {"abc,c->", CT_SHAPE(2, 3, 4), CT_SHAPE(4), false},            /* a summed-out label per operand */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        einsum_eq = cases[i].eq;
        ct_tensor *x[2] = {leaf(cases[i].a), cases[i].one ? NULL : leaf(cases[i].b)};
        check_loss(cases[i].eq, l_einsum, 1, 2, x, 1e-5, 1e-5);
    }
}

/* ---- checkpoints ---- */

static ct_module *b_net(void) {
    return ct_sequential(ct_conv2d_module(3, 4, CT_SHAPE(3, 3)), ct_batch_norm2d(4), ct_relu_module(), ct_flatten_module(),
                         ct_linear(4 * 3 * 3, 5));
}

/* A CUDA module (after a training-mode forward, so the running statistics moved) saved, loaded into
 * a CUDA module built from another seed and into a CPU one: every state entry comes back exactly. */
static void checkpoint_round_trip(void **state) {
    (void)state;
    pair m = build_pair(b_net);
    assert_non_null(ct_forward(m.gpu, on_gpu(leaf(CT_SHAPE(2, 3, 5, 5)))));
    char path[64];
    snprintf(path, sizeof path, "/tmp/ctorch_gpu_nn_%d.h5", (int)getpid());
    if (!ct_save_state(m.gpu, path)) fail_msg("save_state of a CUDA module: %s", ct_last_error());
    ct_manual_seed(SEED + 1);
    ct_module *back = ct_module_to(b_net(), CT_CUDA(0)), *host = b_net();
    bool ok_gpu = ct_load_state(back, path), ok_cpu = ct_load_state(host, path);
    remove(path);
    if (!ok_gpu || !ok_cpu) fail_msg("load_state: %s", ct_last_error());
    ct_named_tensors want = ct_state_dict(m.gpu), got = ct_state_dict(back), got_cpu = ct_state_dict(host);
    assert_int_equal(want.n, got.n);
    for (int i = 0; i < want.n; i++) {
        assert_string_equal(want.items[i].name, got.items[i].name);
        ct_tensor *w = ct_to(want.items[i].tensor, CT_CPU);
        assert_same(want.items[i].name, w, got.items[i].tensor, 0, 0);
        tu_assert_values(got_cpu.items[i].tensor, ct_shape_of(w), tu_values(w), 0, 0);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(linear_and_convolutions, setup),
        cmocka_unit_test_setup(pooling, setup),
        cmocka_unit_test_setup(normalization, setup),
        cmocka_unit_test_setup(embedding_and_dropout, setup),
        cmocka_unit_test_setup(recurrent, setup),
        cmocka_unit_test_setup(attention, setup),
        cmocka_unit_test_setup(losses, setup),
        cmocka_unit_test_setup(optimizers, setup),
        cmocka_unit_test_setup(clipping, setup),
        cmocka_unit_test_setup(einsum, setup),
        cmocka_unit_test_setup(checkpoint_round_trip, setup),
    };
    return TU_RUN_GPU("gpu_nn", tests);
}
