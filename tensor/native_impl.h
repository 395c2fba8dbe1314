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

#endif /* CTORCH_NATIVE_IMPL_H */
