/* Convolution kernels: one device-independent description of a 2-D convolution (1-D ones are 2-D
 * with a height of 1) and the three products every convolution op reduces to.
 *
 * Two sides: the image [n, c, h, w] (a convolution's input, a transposed convolution's output)
 * and the columns [n, o, oh, ow] (a convolution's output, a transposed convolution's input). The
 * weight is always [o, c / groups, kh, kw]. With P = oh * ow and K = (c / groups) * kh * kw,
 * im2col turns one image's channels of group g into a K x P matrix whose column p holds the
 * (zero-padded, dilated) kh x kw window under output position p, so for each group
 *     columns[g] = W[g] (o/groups x K) @ im2col(image[g])                      (forward)
 *     image[g]   = col2im(W[g]ᵀ @ columns[g])                                   (its input gradient)
 *     dW[g]      = Σ_n columns[g] @ im2col(image[g])ᵀ                          (its weight gradient)
 * col2im adds each column entry back onto the pixel it was read from (the transpose of im2col). */
#ifndef CTORCH_CONV_IMPL_H
#define CTORCH_CONV_IMPL_H

#include "tensor_impl.h"

typedef struct ct_conv_geom {
    ct_dtype dtype;     /* f32 or f64 (the CPU computes f16/bf16 in f32); also f16, bf16 on CUDA */
    int device;         /* the CUDA ordinal of the buffers (0 on the CPU) */
    int64_t n, groups;
    int64_t c, h, w;    /* image side */
    int64_t o, oh, ow;  /* column side */
    int64_t kh, kw, sh, sw, ph, pw, dh, dw; /* kernel, stride, padding, dilation */
} ct_conv_geom;

/* All buffers are contiguous in g->dtype; bias (NULL: none) has one value per output channel. */
typedef struct ct_conv_kernels {
    /* cols = conv(image, weight) + bias[o] */
    bool (*forward)(const ct_conv_geom *g, const void *image, const void *weight, const void *bias, void *cols);
    /* image = col2im(Wᵀ cols) + bias[c]: the input gradient, and the transposed convolution */
    bool (*backward_input)(const ct_conv_geom *g, const void *cols, const void *weight, const void *bias,
                           void *image);
    /* dweight = Σ_n cols ⊗ im2col(image) */
    bool (*backward_weight)(const ct_conv_geom *g, const void *image, const void *cols, void *dweight);
} ct_conv_kernels;

extern const ct_conv_kernels ct__conv_cpu_kernels;
#ifdef CT_HAVE_CUDA
extern const ct_conv_kernels ct__conv_cuda_kernels; /* cuDNN */
#endif

/* torch.backends.cudnn.allow_tf32 (ct_set_cudnn_allow_tf32), default true. */
bool ct__cudnn_allow_tf32(void);

#endif /* CTORCH_CONV_IMPL_H */
