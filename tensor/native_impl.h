/* The tensor layer's differentiable ops without autograd: each public op of ctorch/tensor.h that has a
 * derivative is defined in autograd/ (which records the graph) on top of its ct__ form here, as
 * PyTorch's autograd wraps its ATen kernels. Same arguments, same results, same errors. */
#ifndef CTORCH_NATIVE_IMPL_H
#define CTORCH_NATIVE_IMPL_H

#include "ctorch/tensor.h"

/* views */
ct_tensor *ct__view(const ct_tensor *t, ct_shape shape);
ct_tensor *ct__reshape(const ct_tensor *t, ct_shape shape);
ct_tensor *ct__permute(const ct_tensor *t, ct_dims dims);
ct_tensor *ct__transpose(const ct_tensor *t, int dim0, int dim1);
ct_tensor *ct__t(const ct_tensor *t);
ct_tensor *ct__movedim(const ct_tensor *t, int source, int destination);
ct_tensor *ct__expand(const ct_tensor *t, ct_shape shape);
ct_tensor *ct__broadcast_to(const ct_tensor *t, ct_shape shape);
ct_tensor *ct__expand_as(const ct_tensor *t, const ct_tensor *other);
ct_tensor *ct__narrow(const ct_tensor *t, int dim, int64_t start, int64_t length);
ct_tensor *ct__slice(const ct_tensor *t, int dim, int64_t start, int64_t end, int64_t step);
ct_tensor *ct__select(const ct_tensor *t, int dim, int64_t index);
ct_tensor *ct__squeeze(const ct_tensor *t);
ct_tensor *ct__squeeze_dim(const ct_tensor *t, int dim);
ct_tensor *ct__unsqueeze(const ct_tensor *t, int dim);
ct_tensor *ct__flatten3(const ct_tensor *t, int start_dim, int end_dim);
ct_tensor *ct__unflatten(const ct_tensor *t, int dim, ct_shape sizes);
ct_tensor *ct__ravel(const ct_tensor *t);
ct_tensor *ct__unfold(const ct_tensor *t, int dim, int64_t size, int64_t step);
ct_tensor *ct__diagonal(const ct_tensor *t, int64_t offset, int dim1, int dim2);
ct_tensor *ct__as_strided(const ct_tensor *t, ct_shape shape, ct_shape stride, int64_t storage_offset);
ct_tensor *ct__alias(const ct_tensor *t);
ct_tensor *ct__contiguous(const ct_tensor *t);
/* shape */
ct_tensor *ct__clone(const ct_tensor *t);
ct_tensor *ct__copy_(ct_tensor *dst, const ct_tensor *src);
ct_tensor *ct__to_dtype(const ct_tensor *t, ct_dtype dtype);
ct_tensor *ct__to(const ct_tensor *t, ct_device device);
ct_tensor *ct__cat(ct_tensor_list tensors, int dim);
ct_tensor *ct__stack(ct_tensor_list tensors, int dim);
ct_tensor_list ct__split(const ct_tensor *t, int64_t split_size, int dim);
ct_tensor_list ct__split_sizes(const ct_tensor *t, ct_shape sizes, int dim);
ct_tensor_list ct__chunk(const ct_tensor *t, int64_t chunks, int dim);
ct_tensor_list ct__unbind(const ct_tensor *t, int dim);
ct_tensor *ct__repeat(const ct_tensor *t, ct_shape repeats);
ct_tensor *ct__tile(const ct_tensor *t, ct_shape reps);
ct_tensor *ct__flip(const ct_tensor *t, ct_dims dims);
ct_tensor *ct__roll(const ct_tensor *t, ct_shape shifts, ct_dims dims);
ct_tensor *ct__pad_opt(const ct_tensor *t, ct_shape pads, ct_pad_opts opts);
ct_tensor *ct__tril(const ct_tensor *t, int64_t diagonal);
ct_tensor *ct__triu(const ct_tensor *t, int64_t diagonal);
/* index */
ct_tensor *ct__where(const ct_tensor *cond, const ct_tensor *a, const ct_tensor *b);
ct_tensor *ct__masked_fill(const ct_tensor *t, const ct_tensor *mask, double value);
ct_tensor *ct__masked_fill_(ct_tensor *t, const ct_tensor *mask, double value);
ct_tensor *ct__masked_select(const ct_tensor *t, const ct_tensor *mask);
ct_tensor *ct__index_select(const ct_tensor *t, int dim, const ct_tensor *index);
ct_tensor *ct__gather(const ct_tensor *t, int dim, const ct_tensor *index);
ct_tensor *ct__scatter(const ct_tensor *t, int dim, const ct_tensor *index, const ct_tensor *src);
ct_tensor *ct__scatter_value(const ct_tensor *t, int dim, const ct_tensor *index, double value);
ct_tensor *ct__scatter_add(const ct_tensor *t, int dim, const ct_tensor *index, const ct_tensor *src);
ct_tensor *ct__scatter_(ct_tensor *t, int dim, const ct_tensor *index, const ct_tensor *src);
ct_tensor *ct__scatter_add_(ct_tensor *t, int dim, const ct_tensor *index, const ct_tensor *src);
ct_tensor *ct__index(const ct_tensor *t, ct_tensor_list indices);
ct_tensor *ct__index_put_(ct_tensor *t, ct_tensor_list indices, const ct_tensor *values, bool accumulate);
/* elementwise */
ct_tensor *ct__add_opt(const ct_tensor *a, const ct_tensor *b, ct_alpha_opts opts);
ct_tensor *ct__sub_opt(const ct_tensor *a, const ct_tensor *b, ct_alpha_opts opts);
ct_tensor *ct__mul(const ct_tensor *a, const ct_tensor *b);
ct_tensor *ct__div_opt(const ct_tensor *a, const ct_tensor *b, ct_div_opts opts);
ct_tensor *ct__pow(const ct_tensor *a, const ct_tensor *b);
ct_tensor *ct__minimum(const ct_tensor *a, const ct_tensor *b);
ct_tensor *ct__maximum(const ct_tensor *a, const ct_tensor *b);
ct_tensor *ct__remainder(const ct_tensor *a, const ct_tensor *b);
ct_tensor *ct__atan2(const ct_tensor *a, const ct_tensor *b);
ct_tensor *ct__add_scalar(const ct_tensor *a, double s);
ct_tensor *ct__sub_scalar(const ct_tensor *a, double s);
ct_tensor *ct__mul_scalar(const ct_tensor *a, double s);
ct_tensor *ct__div_scalar(const ct_tensor *a, double s);
ct_tensor *ct__pow_scalar(const ct_tensor *a, double exponent);
ct_tensor *ct__rsub_scalar(const ct_tensor *a, double s);
ct_tensor *ct__neg(const ct_tensor *t);
ct_tensor *ct__abs(const ct_tensor *t);
ct_tensor *ct__sign(const ct_tensor *t);
ct_tensor *ct__sqrt(const ct_tensor *t);
ct_tensor *ct__rsqrt(const ct_tensor *t);
ct_tensor *ct__square(const ct_tensor *t);
ct_tensor *ct__reciprocal(const ct_tensor *t);
ct_tensor *ct__exp(const ct_tensor *t);
ct_tensor *ct__log(const ct_tensor *t);
ct_tensor *ct__log2(const ct_tensor *t);
ct_tensor *ct__log1p(const ct_tensor *t);
ct_tensor *ct__expm1(const ct_tensor *t);
ct_tensor *ct__sin(const ct_tensor *t);
ct_tensor *ct__cos(const ct_tensor *t);
ct_tensor *ct__tan(const ct_tensor *t);
ct_tensor *ct__tanh(const ct_tensor *t);
ct_tensor *ct__erf(const ct_tensor *t);
ct_tensor *ct__floor(const ct_tensor *t);
ct_tensor *ct__ceil(const ct_tensor *t);
ct_tensor *ct__round(const ct_tensor *t);
ct_tensor *ct__trunc(const ct_tensor *t);
ct_tensor *ct__sigmoid(const ct_tensor *t);
ct_tensor *ct__relu(const ct_tensor *t);
ct_tensor *ct__silu(const ct_tensor *t);
ct_tensor *ct__gelu_opt(const ct_tensor *t, ct_gelu_opts opts);
ct_tensor *ct__leaky_relu(const ct_tensor *t, double negative_slope);
ct_tensor *ct__elu(const ct_tensor *t, double alpha);
ct_tensor *ct__softplus_opt(const ct_tensor *t, ct_softplus_opts opts);
ct_tensor *ct__clamp(const ct_tensor *t, double min, double max);
ct_tensor *ct__nan_to_num_opt(const ct_tensor *t, ct_nan_to_num_opts opts);
ct_tensor *ct__add_inplace_opt(ct_tensor *a, const ct_tensor *b, ct_alpha_opts opts);
ct_tensor *ct__sub_inplace_opt(ct_tensor *a, const ct_tensor *b, ct_alpha_opts opts);
ct_tensor *ct__mul_(ct_tensor *a, const ct_tensor *b);
ct_tensor *ct__div_(ct_tensor *a, const ct_tensor *b);
ct_tensor *ct__add_scalar_(ct_tensor *a, double s);
ct_tensor *ct__mul_scalar_(ct_tensor *a, double s);
ct_tensor *ct__neg_(ct_tensor *t);
ct_tensor *ct__exp_(ct_tensor *t);
ct_tensor *ct__sqrt_(ct_tensor *t);
ct_tensor *ct__relu_(ct_tensor *t);
ct_tensor *ct__sigmoid_(ct_tensor *t);
ct_tensor *ct__tanh_(ct_tensor *t);
ct_tensor *ct__clamp_(ct_tensor *t, double min, double max);
ct_tensor *ct__fill_(ct_tensor *t, double value);
ct_tensor *ct__zero_(ct_tensor *t);
/* random */
ct_tensor *ct__uniform_(ct_tensor *t, double low, double high);
ct_tensor *ct__normal_(ct_tensor *t, double mean, double std);
/* reduce */
ct_tensor *ct__sum_opt(const ct_tensor *t, ct_reduce_opts opts);
ct_tensor *ct__mean_opt(const ct_tensor *t, ct_reduce_opts opts);
ct_tensor *ct__prod_opt(const ct_tensor *t, ct_reduce_opts opts);
ct_tensor *ct__amax_opt(const ct_tensor *t, ct_reduce_opts opts);
ct_tensor *ct__amin_opt(const ct_tensor *t, ct_reduce_opts opts);
ct_tensor *ct__var_opt(const ct_tensor *t, ct_reduce_opts opts);
ct_tensor *ct__std_opt(const ct_tensor *t, ct_reduce_opts opts);
ct_tensor *ct__norm_opt(const ct_tensor *t, ct_reduce_opts opts);
ct_tensor *ct__logsumexp_opt(const ct_tensor *t, ct_reduce_opts opts);
ct_tensor *ct__max(const ct_tensor *t);
ct_tensor *ct__min(const ct_tensor *t);
ct_tensor *ct__max_dim(const ct_tensor *t, int dim, bool keepdim, ct_tensor **indices);
ct_tensor *ct__min_dim(const ct_tensor *t, int dim, bool keepdim, ct_tensor **indices);
ct_tensor *ct__softmax(const ct_tensor *t, int dim);
ct_tensor *ct__log_softmax(const ct_tensor *t, int dim);
ct_tensor *ct__cumsum(const ct_tensor *t, int dim);
ct_tensor *ct__cumprod(const ct_tensor *t, int dim);
/* matmul */
ct_tensor *ct__matmul(const ct_tensor *a, const ct_tensor *b);
ct_tensor *ct__mm(const ct_tensor *a, const ct_tensor *b);
ct_tensor *ct__bmm(const ct_tensor *a, const ct_tensor *b);
ct_tensor *ct__mv(const ct_tensor *a, const ct_tensor *v);
ct_tensor *ct__dot(const ct_tensor *a, const ct_tensor *b);
ct_tensor *ct__outer(const ct_tensor *a, const ct_tensor *b);
ct_tensor *ct__addmm_opt(const ct_tensor *input, const ct_tensor *a, const ct_tensor *b, ct_addmm_opts opts);
ct_tensor *ct__baddbmm_opt(const ct_tensor *input, const ct_tensor *a, const ct_tensor *b, ct_addmm_opts opts);
ct_tensor *ct__einsum(const char *equation, ct_tensor_list operands);

/* ---- nn:pool (tensor/pool.c; kernels in cpu/pool_cpu.c) ---- */
#include "ctorch/nn_functional.h"
/* One pooling problem on contiguous planes: `planes` = N*C planes of ih x iw in, oh x ow out.
 * Max pool reads every window element (kh x kw at dilation dh, dw); avg pool divides by the
 * window's size clipped to the padded input (count_include_pad) or to the input, or by
 * divisor_override when non-zero; adaptive windows follow from ih/oh and iw/ow alone. */
typedef struct ct__pool2d_geom {
    int64_t planes, ih, iw, oh, ow;
    int64_t kh, kw, sh, sw, ph, pw, dh, dw;
    bool count_include_pad;
    int64_t divisor_override;
} ct__pool2d_geom;
/* Forward ops fill *geom (may be NULL) for the backward; indices may be NULL. */
ct_tensor *ct__max_pool2d(const ct_tensor *x, ct_shape kernel_size, ct_max_pool_opts opts, ct_tensor **indices,
                          ct__pool2d_geom *geom);
ct_tensor *ct__avg_pool2d(const ct_tensor *x, ct_shape kernel_size, ct_avg_pool_opts opts, ct__pool2d_geom *geom);
ct_tensor *ct__adaptive_avg_pool2d(const ct_tensor *x, ct_shape output_size, ct__pool2d_geom *geom);
/* Gradients w.r.t. the input (of input_shape) from the output's gradient; computed in f32/f64. */
ct_tensor *ct__max_pool2d_backward(const ct_tensor *grad, const ct_tensor *indices, const ct__pool2d_geom *geom,
                                   ct_shape input_shape);
ct_tensor *ct__avg_pool2d_backward(const ct_tensor *grad, const ct__pool2d_geom *geom, ct_shape input_shape);
ct_tensor *ct__adaptive_avg_pool2d_backward(const ct_tensor *grad, const ct__pool2d_geom *geom, ct_shape input_shape);
/* The 1d forms' own checks (PyTorch's max_pool1d / avg_pool1d messages); the op itself is the 2d
 * one on x.unsqueeze(-2). max_pool1d's output length goes to *out_len (PyTorch allows 0 there). */
bool ct__max_pool1d_check(const ct_tensor *x, ct_shape kernel_size, ct_max_pool_opts opts, int64_t *out_len);
bool ct__avg_pool1d_check(const ct_tensor *x, ct_shape kernel_size, ct_avg_pool_opts opts);

/* nn:norm (tensor/norm.c, tensor/embedding.c, tensor/dropout.c) */
/* Batch norm over x [N, C, *]; updates the running stats in training (see norm.c). save_mean and
 * save_rstd (may be NULL) receive f64 [C] tensors: the statistics that normalized x. */
ct_tensor *ct__batch_norm(const ct_tensor *x, ct_tensor *running_mean, ct_tensor *running_var,
                          const ct_tensor *weight, const ct_tensor *bias, bool training, double momentum,
                          double eps, ct_tensor **save_mean, ct_tensor **save_rstd);
/* dx (when want_x), dw and db (f64 [C]) from the saved statistics; training: mean/rstd are the batch's. */
bool ct__batch_norm_backward(const ct_tensor *grad, const ct_tensor *x, const ct_tensor *mean,
                             const ct_tensor *rstd, const ct_tensor *weight, bool training, bool want_x,
                             ct_tensor **dx, ct_tensor **dw, ct_tensor **db);
/* Layer norm; save_mean/save_rstd receive f64 [M] tensors (one value per normalized row). */
ct_tensor *ct__layer_norm(const ct_tensor *x, ct_shape normalized_shape, const ct_tensor *weight,
                          const ct_tensor *bias, double eps, ct_tensor **save_mean, ct_tensor **save_rstd);
bool ct__layer_norm_backward(const ct_tensor *grad, const ct_tensor *x, ct_shape normalized_shape,
                             const ct_tensor *mean, const ct_tensor *rstd, const ct_tensor *weight, bool want_x,
                             bool want_w, bool want_b, ct_tensor **dx, ct_tensor **dw, ct_tensor **db);
/* Embedding lookup; padding_idx -1 = none, other negatives from the end (resolved by
 * ct__embedding_padding_idx, false with PyTorch's message when out of range). */
bool ct__embedding_padding_idx(const char *op, int64_t num, int64_t *padding_idx);
ct_tensor *ct__embedding(const ct_tensor *indices, const ct_tensor *weight, int64_t padding_idx);
/* [num_weights, dim] gradient of the weight: rows of grad scatter-added, the padding row left zero
 * (padding_idx already resolved, -1 = none). */
ct_tensor *ct__embedding_backward(const ct_tensor *grad, const ct_tensor *indices, int64_t num_weights,
                                  int64_t padding_idx);
/* Dropout's noise (tensor/dropout.c): bernoulli(1 - p) / (1 - p) in x's dtype and shape, from the
 * Philox generator; 0 <= p < 1 (checked by the caller). */
ct_tensor *ct__dropout_noise(const ct_tensor *x, double p);

/* nn:conv (conv.c): convolutions and their gradients, spatial dims 1 or 2. */
typedef struct ct__conv_params {
    const char *op;     /* PyTorch's name for messages: "conv2d", "conv_transpose1d", ... */
    int nspatial;       /* 1 or 2 */
    bool transposed;
    ct_shape stride, padding, dilation, output_padding; /* one value, or one per spatial dim */
    int64_t groups;
} ct__conv_params;
/* conv (transposed: its input gradient) of input with weight, plus bias (NULL: none). */
ct_tensor *ct__convolution(const ct_tensor *input, const ct_tensor *weight, const ct_tensor *bias,
                           const ct__conv_params *p);
/* For a convolution that ran with these arguments: the gradient of its input (input_shape) and of
 * its weight (weight_shape) given the gradient of its output. */
ct_tensor *ct__convolution_backward_input(const ct_tensor *grad, const ct_tensor *weight, ct_shape input_shape,
                                          const ct__conv_params *p);
ct_tensor *ct__convolution_backward_weight(const ct_tensor *grad, const ct_tensor *input, ct_shape weight_shape,
                                           const ct__conv_params *p);

/* backward kernels of elementwise ops (no autograd of their own) */
/* grad where relu's result is positive, else 0, in one pass. */
ct_tensor *ct__relu_backward(const ct_tensor *grad, const ct_tensor *result);
/* grad * gelu'(x) in one pass (x and grad of one shape). */
ct_tensor *ct__gelu_backward(const ct_tensor *grad, const ct_tensor *x, ct_gelu_approx approximate);

/* cuda reductions area: the fused cross-entropy of logits and class indices (cross_entropy_impl.h
 * has the math). Targets must already be checked (ignore_index or a class). The raw form returns
 * the per-target loss (target's shape, logits' dtype) and, when lse is not NULL, the per-target
 * log-sum-exp its backward needs; the backward returns dlogits for the loss gradient grad. */
ct_tensor *ct__cross_entropy_rows(const ct_tensor *logits, const ct_tensor *target, int64_t ignore_index,
                                  double label_smoothing, ct_tensor **lse);
ct_tensor *ct__cross_entropy_rows_backward(const ct_tensor *grad, const ct_tensor *logits, const ct_tensor *target,
                                           const ct_tensor *lse, int64_t ignore_index, double label_smoothing);
/* The per-target loss with its derivative recorded (autograd/grad_cross_entropy.c). */
ct_tensor *ct__cross_entropy_logits(const ct_tensor *logits, const ct_tensor *target, int64_t ignore_index,
                                    double label_smoothing);

/* cuda: fused optimizers (fused_optim.c). In-place updates of n parameters in one call (on CUDA one
 * launch per ~20M elements over all tensors: PyTorch's multi_tensor_apply), with exactly the
 * formulas of torch.optim's single-tensor SGD / Adam / AdamW (see tensor/fused_optim_impl.h).
 * Every tensor contiguous, floating, of params[0]'s dtype and device; grads[i] and the state
 * tensors [i] of params[i]'s numel. 16-bit floats compute in float. False with an error naming
 * the tensor (argument and index) that is wrong. */
typedef struct ct__sgd_hparams {
    double lr, momentum, dampening, weight_decay;
    bool nesterov, maximize;
    bool first_step; /* the momentum buffers are new: they take d itself (torch's clone of d) */
} ct__sgd_hparams;
/* momentum_buffers: NULL when momentum == 0. */
bool ct__fused_sgd_(ct_tensor *const *params, ct_tensor *const *grads, ct_tensor *const *momentum_buffers, int n,
                    const ct__sgd_hparams *h);
typedef struct ct__adam_hparams {
    double step; /* the step count t, from 1 (kept on the host: no sync per step) */
    double lr, beta1, beta2, eps, weight_decay;
    bool decoupled; /* AdamW: p *= 1 - lr * weight_decay first, instead of g += weight_decay * p */
    bool maximize;
} ct__adam_hparams;
/* max_exp_avg_sqs: NULL unless amsgrad. */
bool ct__fused_adam_(ct_tensor *const *params, ct_tensor *const *grads, ct_tensor *const *exp_avgs,
                     ct_tensor *const *exp_avg_sqs, ct_tensor *const *max_exp_avg_sqs, int n,
                     const ct__adam_hparams *h);

/* cuda: attention (attention.c): the fused (flash) scaled dot-product attention, CUDA only.
 * q [..., L, E], k and v [..., S, E] with the same leading dims; f32, f16 or bf16, one dtype and
 * one CUDA device. ct__flash_attention_supported says whether the kernel covers the inputs
 * (otherwise the caller composes it from ops: attn_mask and dropout are the caller's to rule
 * out). The forward returns out [..., L, E] and lse [..., L] (float32: the logsumexp of each row
 * of the scaled, masked scores), which the backward takes to recompute the softmax. */
bool ct__flash_attention_supported(const ct_tensor *q, const ct_tensor *k, const ct_tensor *v);
ct_tensor *ct__flash_attention(const ct_tensor *q, const ct_tensor *k, const ct_tensor *v, bool causal, double scale,
                               ct_tensor **lse);
bool ct__flash_attention_backward(const ct_tensor *grad, const ct_tensor *q, const ct_tensor *k, const ct_tensor *v,
                                  const ct_tensor *out, const ct_tensor *lse, bool causal, double scale,
                                  ct_tensor **dq, ct_tensor **dk, ct_tensor **dv);

/* cuda perf: softmax / log_softmax backward as one fused row op (softmax.c, softmax_impl.h has the
 * math): dx for the gradient grad of y = softmax(x, dim) (log: y = log_softmax(x, dim)), from y
 * alone. grad and y of one shape and device; dx is contiguous in y's dtype. */
ct_tensor *ct__softmax_backward(const ct_tensor *grad, const ct_tensor *y, int dim, bool log);

/* cuda gaps: fused RMSprop and Adagrad updates (fused_optim.c; the formulas are
 * fused_optim_impl.h's), over lists like ct__fused_sgd_'s. */
typedef struct ct__rmsprop_hparams {
    double lr, alpha, eps, weight_decay, momentum;
    bool centered, maximize;
} ct__rmsprop_hparams;
/* momentum_buffers: NULL unless momentum > 0; grad_avgs: NULL unless centered. */
bool ct__fused_rmsprop_(ct_tensor *const *params, ct_tensor *const *grads, ct_tensor *const *square_avgs,
                        ct_tensor *const *momentum_buffers, ct_tensor *const *grad_avgs, int n,
                        const ct__rmsprop_hparams *h);
typedef struct ct__adagrad_hparams {
    double clr; /* the decayed rate lr / (1 + (t - 1) * lr_decay) of the step t these tensors are at */
    double weight_decay, eps;
    bool maximize;
} ct__adagrad_hparams;
bool ct__fused_adagrad_(ct_tensor *const *params, ct_tensor *const *grads, ct_tensor *const *sums, int n,
                        const ct__adagrad_hparams *h);

#endif /* CTORCH_NATIVE_IMPL_H */
