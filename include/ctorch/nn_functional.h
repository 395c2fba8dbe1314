/* ctorch nn.functional: the operations layers are made of, each differentiable (torch.nn.functional).
 * Conventions as in ctorch/tensor.h: results belong to the innermost scope, NULL with an error on
 * bad input, NULL inputs propagate, named options with PyTorch's defaults. */
#ifndef CTORCH_NN_FUNCTIONAL_H
#define CTORCH_NN_FUNCTIONAL_H

#include "ctorch/autograd.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- convolution ---------------------------------------------------------------------------- */
/* nn:conv */

/* ---- pooling -------------------------------------------------------------------------------- */
/* nn:pool */

/* ---- normalization, dropout, embedding ----------------------------------------------------- */
/* nn:norm */
/* Batch norm over x [N, C, *] (F.batch_norm): training normalizes by the batch's mean and biased
 * variance per channel and, when given, updates running_mean/running_var in place (under no grad)
 * with momentum and the unbiased variance; eval normalizes by the running stats (which must then be
 * given). weight, bias, running stats may be NULL. Defaults: momentum 0.1, eps 1e-5. */
typedef struct ct_batch_norm_opts {
    double momentum, eps;
} ct_batch_norm_opts;
ct_tensor *ct_batch_norm_opt(const ct_tensor *x, ct_tensor *running_mean, ct_tensor *running_var,
                             const ct_tensor *weight, const ct_tensor *bias, bool training, ct_batch_norm_opts opts);
#define ct_batch_norm(x, running_mean, running_var, weight, bias, training, ...)                              \
    ct_batch_norm_opt((x), (running_mean), (running_var), (weight), (bias), (training),                       \
                      CT_OPTS(ct_batch_norm_opts, .momentum = 0.1, .eps = 1e-5, __VA_ARGS__))
/* Layer norm over the trailing dims normalized_shape (F.layer_norm): (x - mean) / sqrt(var + eps)
 * * weight + bias, biased variance; weight/bias (normalized_shape, may be NULL). Default eps 1e-5. */
typedef struct ct_norm_eps_opts {
    double eps;
} ct_norm_eps_opts;
ct_tensor *ct_layer_norm_opt(const ct_tensor *x, ct_shape normalized_shape, const ct_tensor *weight,
                             const ct_tensor *bias, ct_norm_eps_opts opts);
#define ct_layer_norm(x, normalized_shape, weight, bias, ...)                                                 \
    ct_layer_norm_opt((x), (normalized_shape), (weight), (bias), CT_OPTS(ct_norm_eps_opts, .eps = 1e-5, __VA_ARGS__))
/* Group norm of x [N, C, *] (F.group_norm): channels split into num_groups groups, each sample's
 * group normalized over its channels and spatial dims, then per-channel weight/bias [C] (may be
 * NULL). Default eps 1e-5. */
ct_tensor *ct_group_norm_opt(const ct_tensor *x, int64_t num_groups, const ct_tensor *weight,
                             const ct_tensor *bias, ct_norm_eps_opts opts);
#define ct_group_norm(x, num_groups, weight, bias, ...)                                                       \
    ct_group_norm_opt((x), (num_groups), (weight), (bias), CT_OPTS(ct_norm_eps_opts, .eps = 1e-5, __VA_ARGS__))
/* Dropout (F.dropout): in training zeroes each element with probability p (ctorch's Philox
 * generator: the same seed gives the same mask for any thread count) and scales the rest by
 * 1/(1-p); p == 0 or !training returns x itself, p == 1 gives zeros. Defaults: p 0.5, training. */
typedef struct ct_dropout_opts {
    double p;
    bool training;
} ct_dropout_opts;
ct_tensor *ct_dropout_opt(const ct_tensor *x, ct_dropout_opts opts);
#define ct_dropout(x, ...) ct_dropout_opt((x), CT_OPTS(ct_dropout_opts, .p = 0.5, .training = true, __VA_ARGS__))
/* Embedding lookup (F.embedding): out[i..., :] = weight[indices[i...], :], indices int64 or int32
 * of any shape, weight [num_embeddings, dim]; the gradient is scatter-added into weight's rows,
 * none into row padding_idx. padding_idx: -1 (the default) means none, as ATen's embedding; other
 * negative values count from the end as in F.embedding (-2 is num_embeddings - 2), so the last row
 * is named num_embeddings - 1. */
typedef struct ct_embedding_opts {
    int64_t padding_idx;
} ct_embedding_opts;
ct_tensor *ct_embedding_opt(const ct_tensor *indices, const ct_tensor *weight, ct_embedding_opts opts);
#define ct_embedding(indices, weight, ...)                                                                    \
    ct_embedding_opt((indices), (weight), CT_OPTS(ct_embedding_opts, .padding_idx = -1, __VA_ARGS__))
/* Scaled dot-product attention (F.scaled_dot_product_attention): softmax(q k^T * scale + bias) v
 * with q [..., L, E], k [..., S, E], v [..., S, Ev]; attn_mask (may be NULL) is boolean (true =
 * attend) or a float bias added to the scores, broadcast to [..., L, S]; is_causal masks key j > i
 * (not together with attn_mask); dropout_p applies dropout to the attention weights. Defaults:
 * is_causal false, dropout_p 0, scale 0 (= 1/sqrt(E)). */
typedef struct ct_sdpa_opts {
    bool is_causal;
    double dropout_p, scale;
} ct_sdpa_opts;
ct_tensor *ct_scaled_dot_product_attention_opt(const ct_tensor *q, const ct_tensor *k, const ct_tensor *v,
                                               const ct_tensor *attn_mask, ct_sdpa_opts opts);
#define ct_scaled_dot_product_attention(q, k, v, attn_mask, ...)                                              \
    ct_scaled_dot_product_attention_opt((q), (k), (v), (attn_mask),                                           \
                                        CT_OPTS(ct_sdpa_opts, .is_causal = false, .dropout_p = 0, .scale = 0, __VA_ARGS__))

/* ---- losses --------------------------------------------------------------------------------- */
/* nn:loss */

/* ---- init (in place, under no grad) --------------------------------------------------------- */
/* nn:init */

#ifdef __cplusplus
}
#endif
#endif /* CTORCH_NN_FUNCTIONAL_H */
