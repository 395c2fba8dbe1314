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

/* ---- normalization, dropout, embedding ----------------------------------------------------- */
/* nn:norm */

/* ---- losses --------------------------------------------------------------------------------- */
/* nn:loss */

/* ---- init (in place, under no grad) --------------------------------------------------------- */
/* nn:init */

#ifdef __cplusplus
}
#endif
#endif /* CTORCH_NN_FUNCTIONAL_H */
