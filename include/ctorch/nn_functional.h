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

#ifdef __cplusplus
}
#endif
#endif /* CTORCH_NN_FUNCTIONAL_H */
