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

/* ---- losses --------------------------------------------------------------------------------- */
/* nn:loss */

/* ---- init (in place, under no grad) --------------------------------------------------------- */
/* nn:init */

#ifdef __cplusplus
}
#endif
#endif /* CTORCH_NN_FUNCTIONAL_H */
