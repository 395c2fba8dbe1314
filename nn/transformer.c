/* MultiheadAttention and TransformerEncoderLayer with PyTorch's parameters, defaults and masks.
 *
 *   q, k, v = query Wq^T + bq, key Wk^T + bk, value Wv^T + bv      (in_proj_weight = [Wq; Wk; Wv])
 *   per head h: A_h = softmax(q_h k_h^T / sqrt(d) + mask) (dropout in training), o_h = A_h v_h
 *   out = concat_h(o_h) Wo^T + bo                                    (out_proj)
 * Masks as PyTorch's MultiheadAttention takes them: a bool attn_mask or key_padding_mask is true
 * where attending is NOT allowed; a float one is added to the scores. */
#include "module_impl.h"

#include <math.h>
#include <stdio.h>

typedef struct mha_state {
    int64_t embed_dim, num_heads;
    double dropout;
    bool batch_first;
    ct_tensor *in_proj_weight, *in_proj_bias;
    ct_module *out_proj;
    const ct_mha_opts *call; /* the options of the call in progress (ct_multihead_attention) */
} mha_state;

/* A float mask broadcastable to [N, H, L, S] from the caller's masks (NULL when there are none),
 * made on the scores' device (bool masks and the causal one start as zeros there). */
static ct_tensor *additive_mask(const ct_mha_opts *o, int64_t n, int64_t heads, int64_t l, int64_t s, ct_dtype dtype,
                                ct_device dev) {
    ct_tensor *mask = NULL;
    const ct_tensor *given[2] = {o ? o->attn_mask : NULL, o ? o->key_padding_mask : NULL};
    for (int i = 0; i < 2; i++) {
        if (!given[i]) continue;
        ct_tensor *m = ct_dtype_of(given[i]) == CT_BOOL ? ct_masked_fill(ct_zeros(ct_shape_of(given[i]), .dtype = dtype, .device = dev), given[i], -INFINITY)
                                                         : ct_to_dtype(given[i], dtype);
        if (i == 0 && ct_ndim(m) == 3) m = ct_view(m, CT_SHAPE(n, heads, l, s)); /* [N*H, L, S] */
        if (i == 1) m = ct_view(m, CT_SHAPE(n, 1, 1, s));                         /* [N, S] */
        mask = mask ? ct_add(mask, m) : m;
    }
    if (o && o->is_causal) {
        ct_tensor *causal = ct_masked_fill(ct_zeros(CT_SHAPE(l, s), .dtype = dtype, .device = dev),
                                           ct_triu(ct_ones(CT_SHAPE(l, s), .dtype = CT_BOOL, .device = dev), 1), -INFINITY);
        mask = mask ? ct_add(mask, causal) : causal;
    }
    return mask;
}

/* [N, T, E] -> [N, H, T, d] */
static ct_tensor *split_heads(ct_tensor *x, int64_t heads) {
    int64_t n = ct_size(x, 0), t = ct_size(x, 1), e = ct_size(x, 2);
    return ct_transpose(ct_view(x, CT_SHAPE(n, t, heads, e / heads)), 1, 2);
}

static ct_tensor_list mha_forward(ct_module *m, ct_tensor_list in) {
    mha_state *s = m->state;
    const ct_mha_opts *o = s->call;
    if (in.n != 3) {
        ct_error(CT_ERR_ARG, "MultiheadAttention takes query, key and value, got %d inputs", in.n);
        return (ct_tensor_list){0};
    }
    ct_tensor *q = in.items[0], *k = in.items[1], *v = in.items[2];
    if (!q || !k || !v) return (ct_tensor_list){0};
    bool unbatched = ct_ndim(q) == 2;
    if (unbatched) q = ct_unsqueeze(q, 1), k = ct_unsqueeze(k, 1), v = ct_unsqueeze(v, 1);
    if (!s->batch_first || unbatched) q = ct_transpose(q, 0, 1), k = ct_transpose(k, 0, 1), v = ct_transpose(v, 0, 1);
    if (ct_size(q, 2) != s->embed_dim) {
        ct_error(CT_ERR_SHAPE, "MultiheadAttention: was expecting embedding dimension of %lld, but got %lld", (long long)s->embed_dim,
                 (long long)ct_size(q, 2));
        return (ct_tensor_list){0};
    }
    int64_t e = s->embed_dim, h = s->num_heads, n = ct_size(q, 0), l = ct_size(q, 1), src = ct_size(k, 1);
    ct_tensor_list w = ct_chunk(s->in_proj_weight, 3, 0), b = s->in_proj_bias ? ct_chunk(s->in_proj_bias, 3, 0) : (ct_tensor_list){0};
    ct_tensor *proj[3], *x[3] = {q, k, v};
    for (int i = 0; i < 3; i++) {
        ct_tensor *y = ct_matmul(x[i], ct_t(w.items[i]));
        proj[i] = split_heads(b.n ? ct_add(y, b.items[i]) : y, h);
    }
    ct_tensor *scores = ct_mul_scalar(ct_matmul(proj[0], ct_transpose(proj[1], -2, -1)), 1 / sqrt((double)(e / h)));
    ct_tensor *mask = additive_mask(o, n, h, l, src, ct_dtype_of(scores), ct_device_of(scores));
    if (mask) scores = ct_add(scores, mask);
    ct_tensor *attn = ct_softmax(scores, -1);
    ct_tensor *dropped = ct_dropout(attn, .p = s->dropout, .training = m->training && s->dropout > 0);
    ct_tensor *heads = ct_matmul(dropped, proj[2]);                                   /* [N, H, L, d] */
    ct_tensor *out = ct_forward(s->out_proj, ct_reshape(ct_transpose(heads, 1, 2), CT_SHAPE(n, l, e)));
    if (!s->batch_first || unbatched) out = ct_transpose(out, 0, 1);
    if (unbatched) out = ct_squeeze_dim(out, 1);
    bool need_weights = !o || o->need_weights;
    if (!need_weights) return ct_tensor_list_copy(CT_TENSORS(out));
    ct_tensor *weights = (!o || o->average_attn_weights) ? ct_mean(attn, .dim = CT_DIMS(1)) : attn;
    if (unbatched) weights = ct_squeeze_dim(weights, 0);
    return ct_tensor_list_copy(CT_TENSORS(out, weights));
}

static void mha_repr(const ct_module *m, char *buf, size_t size) {
    (void)m;
    if (size) buf[0] = 0;
}

static const ct_module_vtable mha_vtable = {.name = "MultiheadAttention", .forward_list = mha_forward, .extra_repr = mha_repr};

ct_module *ct_multihead_attention_module_opt(int64_t embed_dim, int64_t num_heads, ct_mha_module_opts o) {
    if (num_heads <= 0 || embed_dim % num_heads)
        return ct_error(CT_ERR_ARG, "MultiheadAttention: embed_dim must be divisible by num_heads (got %lld and %lld)", (long long)embed_dim,
                        (long long)num_heads);
    ct_module *m = ct_module_new(&mha_vtable, sizeof(mha_state));
    if (!m) return NULL;
    mha_state *s = m->state;
    s->embed_dim = embed_dim, s->num_heads = num_heads, s->dropout = o.dropout, s->batch_first = o.batch_first;
    /* xavier_uniform_ over [3E, E]: bound sqrt(6 / (fan_in + fan_out)) */
    double bound = sqrt(6.0 / (double)(embed_dim + 3 * embed_dim));
    s->in_proj_weight = ct_register_parameter(m, "in_proj_weight", ct_uniform_(ct_empty(CT_SHAPE(3 * embed_dim, embed_dim)), -bound, bound));
    if (o.bias) s->in_proj_bias = ct_register_parameter(m, "in_proj_bias", ct_zeros(CT_SHAPE(3 * embed_dim)));
    s->out_proj = ct_register_module(m, "out_proj", ct_linear(embed_dim, embed_dim, .bias = o.bias));
    if (o.bias && s->out_proj) CT_NO_GRAD ct_zero_(ct_module_parameter(s->out_proj, "bias"));
    return ct_ok() ? m : NULL;
}

ct_tensor *ct_multihead_attention_opt(ct_module *m, ct_tensor *query, ct_tensor *key, ct_tensor *value, ct_mha_opts opts) {
    if (!m) return ct_ok() ? ct_error(CT_ERR_NULL, "multihead_attention: module is NULL (did an earlier call fail?)") : NULL;
    mha_state *s = m->state;
    const ct_mha_opts *outer = s->call;
    s->call = &opts;
    ct_tensor_list out = ct_forward_list(m, CT_TENSORS(query, key, value));
    s->call = outer;
    if (out.n == 0) return NULL;
    if (opts.weights) *opts.weights = out.n > 1 ? out.items[1] : NULL;
    return out.items[0];
}

/* ---- TransformerEncoderLayer ------------------------------------------------------------------------ */

typedef struct encoder_state {
    ct_module *self_attn, *linear1, *dropout, *linear2, *norm1, *norm2, *dropout1, *dropout2;
    bool norm_first, gelu;
    const ct_encoder_layer_opts *call;
} encoder_state;

static ct_tensor *self_attention_block(ct_module *m, ct_tensor *x) {
    encoder_state *s = m->state;
    const ct_encoder_layer_opts *o = s->call;
    ct_tensor *a = ct_multihead_attention(s->self_attn, x, x, x, .attn_mask = o ? o->mask : NULL,
                                          .key_padding_mask = o ? o->src_key_padding_mask : NULL, .is_causal = o && o->is_causal,
                                          .need_weights = false);
    return ct_forward(s->dropout1, a);
}

static ct_tensor *feed_forward_block(ct_module *m, ct_tensor *x) {
    encoder_state *s = m->state;
    ct_tensor *h = ct_forward(s->linear1, x);
    h = s->gelu ? ct_gelu(h) : ct_relu(h);
    return ct_forward(s->dropout2, ct_forward(s->linear2, ct_forward(s->dropout, h)));
}

static ct_tensor *encoder_forward(ct_module *m, ct_tensor *x) {
    encoder_state *s = m->state;
    if (s->norm_first) {
        x = ct_add(x, self_attention_block(m, ct_forward(s->norm1, x)));
        return ct_add(x, feed_forward_block(m, ct_forward(s->norm2, x)));
    }
    x = ct_forward(s->norm1, ct_add(x, self_attention_block(m, x)));
    return ct_forward(s->norm2, ct_add(x, feed_forward_block(m, x)));
}

static const ct_module_vtable encoder_vtable = {.name = "TransformerEncoderLayer", .forward = encoder_forward};

ct_module *ct_transformer_encoder_layer_opt(int64_t d_model, int64_t nhead, ct_encoder_layer_module_opts o) {
    ct_module *m = ct_module_new(&encoder_vtable, sizeof(encoder_state));
    if (!m) return NULL;
    encoder_state *s = m->state;
    s->norm_first = o.norm_first;
    s->gelu = o.activation == CT_ACTIVATION_GELU;
    s->self_attn = ct_register_module(m, "self_attn", ct_multihead_attention_module(d_model, nhead, .dropout = o.dropout,
                                                                                     .batch_first = o.batch_first, .bias = o.bias));
    s->linear1 = ct_register_module(m, "linear1", ct_linear(d_model, o.dim_feedforward, .bias = o.bias));
    s->dropout = ct_register_module(m, "dropout", ct_dropout_module(o.dropout));
    s->linear2 = ct_register_module(m, "linear2", ct_linear(o.dim_feedforward, d_model, .bias = o.bias));
    s->norm1 = ct_register_module(m, "norm1", ct_layer_norm_module(CT_SHAPE(d_model), .eps = o.layer_norm_eps, .bias = o.bias));
    s->norm2 = ct_register_module(m, "norm2", ct_layer_norm_module(CT_SHAPE(d_model), .eps = o.layer_norm_eps, .bias = o.bias));
    s->dropout1 = ct_register_module(m, "dropout1", ct_dropout_module(o.dropout));
    s->dropout2 = ct_register_module(m, "dropout2", ct_dropout_module(o.dropout));
    return ct_ok() ? m : NULL;
}

ct_tensor *ct_transformer_encoder_layer_forward_opt(ct_module *m, ct_tensor *src, ct_encoder_layer_opts opts) {
    if (!m) return ct_ok() ? ct_error(CT_ERR_NULL, "transformer_encoder_layer_forward: module is NULL") : NULL;
    encoder_state *s = m->state;
    const ct_encoder_layer_opts *outer = s->call;
    s->call = &opts;
    ct_tensor *y = ct_forward(m, src);
    s->call = outer;
    return y;
}
