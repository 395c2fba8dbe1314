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
/* Options of conv1d/conv2d. stride, padding and dilation hold one value for every spatial dim
 * (CT_SHAPE(2)) or one per spatial dim (CT_SHAPE(2, 1) for height, width), as PyTorch's int or
 * tuple; padding adds zeros on both sides of each spatial dim. PyTorch's defaults: stride 1,
 * padding 0, dilation 1, groups 1. */
typedef struct ct_conv_opts {
    ct_shape stride, padding, dilation;
    int64_t groups;
} ct_conv_opts;
#define CT__CONV_OPTS(...) \
    CT_OPTS(ct_conv_opts, .stride = CT_SHAPE(1), .padding = CT_SHAPE(0), .dilation = CT_SHAPE(1), .groups = 1, __VA_ARGS__)
/* 1-D convolution (cross-correlation) of input [N, C, L] or unbatched [C, L] with weight
 * [O, C/groups, K] plus bias [O] (NULL: none): [N, O, L'] (F.conv1d). */
ct_tensor *ct_conv1d_opt(const ct_tensor *input, const ct_tensor *weight, const ct_tensor *bias, ct_conv_opts opts);
#define ct_conv1d(input, weight, bias, ...) ct_conv1d_opt((input), (weight), (bias), CT__CONV_OPTS(__VA_ARGS__))
/* 2-D convolution of input [N, C, H, W] or unbatched [C, H, W] with weight [O, C/groups, kH, kW]
 * plus bias [O] (NULL: none): [N, O, H', W'] with H' = (H + 2 pH - dH (kH - 1) - 1) / sH + 1
 * (F.conv2d). groups = C = O/m is a depthwise convolution. */
ct_tensor *ct_conv2d_opt(const ct_tensor *input, const ct_tensor *weight, const ct_tensor *bias, ct_conv_opts opts);
#define ct_conv2d(input, weight, bias, ...) ct_conv2d_opt((input), (weight), (bias), CT__CONV_OPTS(__VA_ARGS__))

/* Options of conv_transpose1d/2d, each spatial option one value or one per dim as above.
 * PyTorch's defaults: stride 1, padding 0, output_padding 0, groups 1, dilation 1. */
typedef struct ct_conv_transpose_opts {
    ct_shape stride, padding, output_padding;
    int64_t groups;
    ct_shape dilation;
} ct_conv_transpose_opts;
#define CT__CONV_TRANSPOSE_OPTS(...)                                                                          \
    CT_OPTS(ct_conv_transpose_opts, .stride = CT_SHAPE(1), .padding = CT_SHAPE(0), .output_padding = CT_SHAPE(0), \
            .groups = 1, .dilation = CT_SHAPE(1), __VA_ARGS__)
/* Transposed 1-D convolution (the gradient of conv1d with respect to its input) of input [N, C, L]
 * or [C, L] with weight [C, O/groups, K] plus bias [O] (NULL: none) (F.conv_transpose1d). */
ct_tensor *ct_conv_transpose1d_opt(const ct_tensor *input, const ct_tensor *weight, const ct_tensor *bias,
                                   ct_conv_transpose_opts opts);
#define ct_conv_transpose1d(input, weight, bias, ...) \
    ct_conv_transpose1d_opt((input), (weight), (bias), CT__CONV_TRANSPOSE_OPTS(__VA_ARGS__))
/* Transposed 2-D convolution of input [N, C, H, W] or [C, H, W] with weight [C, O/groups, kH, kW]
 * plus bias [O] (NULL: none): H' = (H - 1) sH - 2 pH + dH (kH - 1) + output_padding_H + 1
 * (F.conv_transpose2d). */
ct_tensor *ct_conv_transpose2d_opt(const ct_tensor *input, const ct_tensor *weight, const ct_tensor *bias,
                                   ct_conv_transpose_opts opts);
#define ct_conv_transpose2d(input, weight, bias, ...) \
    ct_conv_transpose2d_opt((input), (weight), (bias), CT__CONV_TRANSPOSE_OPTS(__VA_ARGS__))

/* ---- pooling -------------------------------------------------------------------------------- */
/* nn:pool */
/* Pooling over the last two dims of [N, C, H, W] or unbatched [C, H, W] input (the 1d forms: the
 * last dim of [N, C, L] or [C, L]). Window sizes are CT_SHAPE lists of one value (used for every
 * pooled dim) or one per pooled dim (H, W), as PyTorch's "int or tuple"; an empty list means the
 * default. Floating input only (f16/bf16 compute in f32). */
typedef struct ct_max_pool_opts {
    ct_shape stride;     /* default (empty): kernel_size */
    ct_shape padding;    /* default 0; implicit -inf, at most kernel_size / 2 */
    ct_shape dilation;   /* default 1 */
    bool ceil_mode;      /* default false: floor when computing the output size */
    ct_tensor **indices; /* non-NULL: receives the argmax of each window as int64 flat indices into
                          * its input H*W plane (L for 1d), PyTorch's return_indices=True */
} ct_max_pool_opts;
typedef struct ct_avg_pool_opts {
    ct_shape stride;         /* default (empty): kernel_size */
    ct_shape padding;        /* default 0; zeros, at most kernel_size / 2 */
    bool ceil_mode;          /* default false */
    bool count_include_pad;  /* default true: padded zeros count in the divisor */
    int64_t divisor_override; /* default 0: none (divide by the window's size) */
} ct_avg_pool_opts;
/* Max over each kernel window (F.max_pool2d); NaN wins; ties give the first maximum. */
ct_tensor *ct_max_pool2d_opt(const ct_tensor *x, ct_shape kernel_size, ct_max_pool_opts opts);
#define ct_max_pool2d(x, kernel_size, ...)                                                                   \
    ct_max_pool2d_opt((x), (kernel_size),                                                                    \
                      CT_OPTS(ct_max_pool_opts, .stride = CT_SHAPE(), .padding = CT_SHAPE(0), .dilation = CT_SHAPE(1), \
                              .ceil_mode = false, .indices = NULL, __VA_ARGS__))
/* Mean over each kernel window (F.avg_pool2d). */
ct_tensor *ct_avg_pool2d_opt(const ct_tensor *x, ct_shape kernel_size, ct_avg_pool_opts opts);
#define ct_avg_pool2d(x, kernel_size, ...)                                                                   \
    ct_avg_pool2d_opt((x), (kernel_size),                                                                    \
                      CT_OPTS(ct_avg_pool_opts, .stride = CT_SHAPE(), .padding = CT_SHAPE(0), .ceil_mode = false,  \
                              .count_include_pad = true, .divisor_override = 0, __VA_ARGS__))
/* Mean over windows [floor(i*in/out), ceil((i+1)*in/out)) giving an output_size (H, W) result
 * (F.adaptive_avg_pool2d); one value means a square output. */
ct_tensor *ct_adaptive_avg_pool2d(const ct_tensor *x, ct_shape output_size);
/* F.max_pool1d over the last dim (the 2d kernel on a height-1 plane); same options, one value each. */
ct_tensor *ct_max_pool1d_opt(const ct_tensor *x, ct_shape kernel_size, ct_max_pool_opts opts);
#define ct_max_pool1d(x, kernel_size, ...)                                                                   \
    ct_max_pool1d_opt((x), (kernel_size),                                                                    \
                      CT_OPTS(ct_max_pool_opts, .stride = CT_SHAPE(), .padding = CT_SHAPE(0), .dilation = CT_SHAPE(1), \
                              .ceil_mode = false, .indices = NULL, __VA_ARGS__))
/* F.avg_pool1d over the last dim; divisor_override is ignored as avg_pool1d has none. */
ct_tensor *ct_avg_pool1d_opt(const ct_tensor *x, ct_shape kernel_size, ct_avg_pool_opts opts);
#define ct_avg_pool1d(x, kernel_size, ...)                                                                   \
    ct_avg_pool1d_opt((x), (kernel_size),                                                                    \
                      CT_OPTS(ct_avg_pool_opts, .stride = CT_SHAPE(), .padding = CT_SHAPE(0), .ceil_mode = false,  \
                              .count_include_pad = true, .divisor_override = 0, __VA_ARGS__))

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
/* How a loss's elementwise values are reduced: torch's reduction='mean' (default), 'sum', 'none';
 * 'batchmean' (the sum divided by the batch size, input.size(0)) is accepted by kl_div only. */
typedef enum ct_reduction { CT_REDUCTION_MEAN = 0, CT_REDUCTION_SUM, CT_REDUCTION_NONE, CT_REDUCTION_BATCHMEAN } ct_reduction;
typedef struct ct_loss_opts {
    ct_reduction reduction;
} ct_loss_opts;
#define CT__LOSS_OPTS(...) CT_OPTS(ct_loss_opts, .reduction = CT_REDUCTION_MEAN, __VA_ARGS__)
/* Regression losses: input and target broadcast together (a warning is logged when their shapes
 * differ, as PyTorch warns); both are differentiable. */
/* (input - target)^2; reduction mean. */
ct_tensor *ct_mse_loss_opt(const ct_tensor *input, const ct_tensor *target, ct_loss_opts opts);
#define ct_mse_loss(input, target, ...) ct_mse_loss_opt((input), (target), CT__LOSS_OPTS(__VA_ARGS__))
/* |input - target|; reduction mean. */
ct_tensor *ct_l1_loss_opt(const ct_tensor *input, const ct_tensor *target, ct_loss_opts opts);
#define ct_l1_loss(input, target, ...) ct_l1_loss_opt((input), (target), CT__LOSS_OPTS(__VA_ARGS__))
typedef struct ct_smooth_l1_opts {
    ct_reduction reduction;
    double beta;
} ct_smooth_l1_opts;
/* z = |input - target|: 0.5 z^2 / beta where z < beta, else z - 0.5 beta (l1 when beta is 0);
 * reduction mean, beta 1.0. */
ct_tensor *ct_smooth_l1_loss_opt(const ct_tensor *input, const ct_tensor *target, ct_smooth_l1_opts opts);
#define ct_smooth_l1_loss(input, target, ...)                                                   \
    ct_smooth_l1_loss_opt((input), (target), CT_OPTS(ct_smooth_l1_opts, .reduction = CT_REDUCTION_MEAN, .beta = 1.0, __VA_ARGS__))
typedef struct ct_huber_opts {
    ct_reduction reduction;
    double delta;
} ct_huber_opts;
/* z = |input - target|: 0.5 z^2 where z < delta, else delta (z - 0.5 delta); reduction mean,
 * delta 1.0. */
ct_tensor *ct_huber_loss_opt(const ct_tensor *input, const ct_tensor *target, ct_huber_opts opts);
#define ct_huber_loss(input, target, ...)                                                       \
    ct_huber_loss_opt((input), (target), CT_OPTS(ct_huber_opts, .reduction = CT_REDUCTION_MEAN, .delta = 1.0, __VA_ARGS__))
/* Classification losses over input [C], [N, C] or [N, C, d1, ...] (classes along dim 1, dim 0 for
 * [C]) with class-index targets (int64 or int32) of shape [], [N] or [N, d1, ...]. weight: NULL or
 * [C] of input's dtype. Targets equal to ignore_index add nothing; the mean divides by the sum of
 * the non-ignored targets' weights (their count without weight), so all ignored gives nan. */
typedef struct ct_nll_loss_opts {
    const ct_tensor *weight;
    int64_t ignore_index;
    ct_reduction reduction;
} ct_nll_loss_opts;
/* -weight[t] * input[t] for log-probabilities input; weight NULL, ignore_index -100, mean. */
ct_tensor *ct_nll_loss_opt(const ct_tensor *input, const ct_tensor *target, ct_nll_loss_opts opts);
#define ct_nll_loss(input, target, ...)                                                         \
    ct_nll_loss_opt((input), (target), CT_OPTS(ct_nll_loss_opts, .weight = NULL, .ignore_index = -100, .reduction = CT_REDUCTION_MEAN, __VA_ARGS__))
typedef struct ct_cross_entropy_opts {
    const ct_tensor *weight;
    int64_t ignore_index;
    ct_reduction reduction;
    double label_smoothing;
} ct_cross_entropy_opts;
/* nll_loss(log_softmax(input)) for class indices, mixed with the uniform distribution's loss by
 * label_smoothing: (1 - ls) nll + ls / C * sum_c -weight[c] logp[c] (ignored targets excluded, same
 * mean denominator). A float target of input's shape holds class probabilities instead (smoothed to
 * t (1 - ls) + ls / C): -sum_c weight[c] t[c] logp[c], mean over the N*d1*... rows; the target is
 * then differentiable. weight NULL, ignore_index -100, mean, label_smoothing 0.0. */
ct_tensor *ct_cross_entropy_opt(const ct_tensor *input, const ct_tensor *target, ct_cross_entropy_opts opts);
#define ct_cross_entropy(input, target, ...)                                                    \
    ct_cross_entropy_opt((input), (target), CT_OPTS(ct_cross_entropy_opts, .weight = NULL, .ignore_index = -100, .reduction = CT_REDUCTION_MEAN, .label_smoothing = 0.0, __VA_ARGS__))
typedef struct ct_bce_opts {
    const ct_tensor *weight; /* NULL or broadcastable to input */
    ct_reduction reduction;
} ct_bce_opts;
/* -weight (t log(x) + (1 - t) log(1 - x)), each log clamped at -100 as PyTorch; input in [0, 1],
 * target of input's shape; weight NULL, mean. */
ct_tensor *ct_binary_cross_entropy_opt(const ct_tensor *input, const ct_tensor *target, ct_bce_opts opts);
#define ct_binary_cross_entropy(input, target, ...)                                             \
    ct_binary_cross_entropy_opt((input), (target), CT_OPTS(ct_bce_opts, .weight = NULL, .reduction = CT_REDUCTION_MEAN, __VA_ARGS__))
typedef struct ct_bce_logits_opts {
    const ct_tensor *weight;     /* NULL or broadcastable to input */
    const ct_tensor *pos_weight; /* NULL or broadcastable to target (e.g. [C] for [N, C]) */
    ct_reduction reduction;
} ct_bce_logits_opts;
/* binary_cross_entropy(sigmoid(x)) computed stably: weight ((1 - t) x + (1 + (pos_weight - 1) t)
 * softplus(-x)); target of input's shape; weight NULL, pos_weight NULL, mean. */
ct_tensor *ct_binary_cross_entropy_with_logits_opt(const ct_tensor *input, const ct_tensor *target, ct_bce_logits_opts opts);
#define ct_binary_cross_entropy_with_logits(input, target, ...)                                 \
    ct_binary_cross_entropy_with_logits_opt((input), (target), CT_OPTS(ct_bce_logits_opts, .weight = NULL, .pos_weight = NULL, .reduction = CT_REDUCTION_MEAN, __VA_ARGS__))
typedef struct ct_kl_div_opts {
    ct_reduction reduction;
    bool log_target;
} ct_kl_div_opts;
/* KL(target || exp(input)) pointwise for log-probabilities input: t (log t - input) (0 where t is
 * 0), or exp(t) (t - input) with log_target; reduction mean (batchmean is the true KL divergence),
 * log_target false. */
ct_tensor *ct_kl_div_opt(const ct_tensor *input, const ct_tensor *target, ct_kl_div_opts opts);
#define ct_kl_div(input, target, ...)                                                           \
    ct_kl_div_opt((input), (target), CT_OPTS(ct_kl_div_opts, .reduction = CT_REDUCTION_MEAN, .log_target = false, __VA_ARGS__))

/* ---- init (in place, under no grad) --------------------------------------------------------- */
/* nn:init */
/* torch.nn.init. Every initializer writes t in place under no grad (so it works on leaf parameters
 * that require grad), draws from ctorch's seeded generator (ct_manual_seed makes it reproducible)
 * and returns t (NULL with an error). */

/* Nonlinearities known to ct_calculate_gain (torch's nonlinearity strings). */
typedef enum ct_nonlinearity {
    CT_NL_LINEAR = 0,
    CT_NL_CONV1D,
    CT_NL_CONV2D,
    CT_NL_CONV3D,
    CT_NL_CONV_TRANSPOSE1D,
    CT_NL_CONV_TRANSPOSE2D,
    CT_NL_CONV_TRANSPOSE3D,
    CT_NL_SIGMOID,
    CT_NL_TANH,
    CT_NL_RELU,
    CT_NL_LEAKY_RELU,
    CT_NL_SELU,
} ct_nonlinearity;
/* Which fan kaiming_* preserves the variance of: forward (fan_in) or backward (fan_out) passes. */
typedef enum ct_fan_mode { CT_FAN_IN = 0, CT_FAN_OUT } ct_fan_mode;

/* Recommended gain for a nonlinearity: 1 (linear, conv*, sigmoid), 5/3 (tanh), sqrt(2) (relu),
 * sqrt(2 / (1 + slope^2)) (leaky_relu; .param = slope, default NAN meaning None: 0.01), 3/4 (selu).
 * NAN with an error for an unknown nonlinearity. */
typedef struct ct_calculate_gain_opts {
    double param;
} ct_calculate_gain_opts;
double ct_calculate_gain_opt(ct_nonlinearity nonlinearity, ct_calculate_gain_opts opts);
#define ct_calculate_gain(nonlinearity, ...)                                                       \
    ct_calculate_gain_opt((nonlinearity), CT_OPTS(ct_calculate_gain_opts, .param = NAN, __VA_ARGS__))
/* fan_in = size(1) * receptive field, fan_out = size(0) * receptive field (receptive field: the
 * product of sizes past dim 1). False with PyTorch's error for fewer than 2 dims. */
bool ct_calculate_fan_in_and_fan_out(const ct_tensor *t, int64_t *fan_in, int64_t *fan_out);

/* U[a, b); defaults a = 0, b = 1. */
typedef struct ct_init_uniform_opts {
    double a, b;
} ct_init_uniform_opts;
ct_tensor *ct_init_uniform_opt(ct_tensor *t, ct_init_uniform_opts opts);
#define ct_init_uniform_(t, ...) ct_init_uniform_opt((t), CT_OPTS(ct_init_uniform_opts, .a = 0, .b = 1, __VA_ARGS__))
/* N(mean, std^2); defaults mean = 0, std = 1. */
typedef struct ct_init_normal_opts {
    double mean, std;
} ct_init_normal_opts;
ct_tensor *ct_init_normal_opt(ct_tensor *t, ct_init_normal_opts opts);
#define ct_init_normal_(t, ...) ct_init_normal_opt((t), CT_OPTS(ct_init_normal_opts, .mean = 0, .std = 1, __VA_ARGS__))
/* Every element = value; zeros_ and ones_ are value 0 and 1. */
ct_tensor *ct_init_constant_(ct_tensor *t, double value);
ct_tensor *ct_init_zeros_(ct_tensor *t);
ct_tensor *ct_init_ones_(ct_tensor *t);
/* The identity (ones on the main diagonal) in a 2-D tensor. */
ct_tensor *ct_init_eye_(ct_tensor *t);
/* Glorot: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)), or N(0, std) with
 * std = gain * sqrt(2 / (fan_in + fan_out)); default gain = 1. */
typedef struct ct_init_xavier_opts {
    double gain;
} ct_init_xavier_opts;
ct_tensor *ct_init_xavier_uniform_opt(ct_tensor *t, ct_init_xavier_opts opts);
ct_tensor *ct_init_xavier_normal_opt(ct_tensor *t, ct_init_xavier_opts opts);
#define ct_init_xavier_uniform_(t, ...) ct_init_xavier_uniform_opt((t), CT_OPTS(ct_init_xavier_opts, .gain = 1, __VA_ARGS__))
#define ct_init_xavier_normal_(t, ...) ct_init_xavier_normal_opt((t), CT_OPTS(ct_init_xavier_opts, .gain = 1, __VA_ARGS__))
/* He: std = calculate_gain(nonlinearity, a) / sqrt(fan), U(-sqrt(3) std, sqrt(3) std) or N(0, std);
 * defaults a = 0 (the negative slope for leaky_relu), mode = CT_FAN_IN,
 * nonlinearity = CT_NL_LEAKY_RELU. A zero-element tensor is left as is (with a warning). */
typedef struct ct_init_kaiming_opts {
    double a;
    ct_fan_mode mode;
    ct_nonlinearity nonlinearity;
} ct_init_kaiming_opts;
ct_tensor *ct_init_kaiming_uniform_opt(ct_tensor *t, ct_init_kaiming_opts opts);
ct_tensor *ct_init_kaiming_normal_opt(ct_tensor *t, ct_init_kaiming_opts opts);
#define ct_init_kaiming_uniform_(t, ...)                                                           \
    ct_init_kaiming_uniform_opt((t), CT_OPTS(ct_init_kaiming_opts, .a = 0, .mode = CT_FAN_IN,        \
                                             .nonlinearity = CT_NL_LEAKY_RELU, __VA_ARGS__))
#define ct_init_kaiming_normal_(t, ...)                                                            \
    ct_init_kaiming_normal_opt((t), CT_OPTS(ct_init_kaiming_opts, .a = 0, .mode = CT_FAN_IN,         \
                                            .nonlinearity = CT_NL_LEAKY_RELU, __VA_ARGS__))
/* A (semi-)orthogonal matrix times gain (default 1): t viewed as [size(0), numel / size(0)] gets
 * the Q of the QR decomposition of a N(0, 1) matrix, signs fixed by diag(R); rows (or columns,
 * whichever are fewer) are orthonormal. Needs at least 2 dims. */
typedef struct ct_init_orthogonal_opts {
    double gain;
} ct_init_orthogonal_opts;
ct_tensor *ct_init_orthogonal_opt(ct_tensor *t, ct_init_orthogonal_opts opts);
#define ct_init_orthogonal_(t, ...) ct_init_orthogonal_opt((t), CT_OPTS(ct_init_orthogonal_opts, .gain = 1, __VA_ARGS__))
/* N(mean, std^2) truncated to [a, b], by the inverse CDF of uniform draws; defaults mean = 0,
 * std = 1, a = -2, b = 2. */
typedef struct ct_init_trunc_normal_opts {
    double mean, std, a, b;
} ct_init_trunc_normal_opts;
ct_tensor *ct_init_trunc_normal_opt(ct_tensor *t, ct_init_trunc_normal_opts opts);
#define ct_init_trunc_normal_(t, ...)                                                              \
    ct_init_trunc_normal_opt((t), CT_OPTS(ct_init_trunc_normal_opts, .mean = 0, .std = 1, .a = -2, .b = 2, __VA_ARGS__))

#ifdef __cplusplus
}
#endif
#endif /* CTORCH_NN_FUNCTIONAL_H */
