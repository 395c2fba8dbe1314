/* Derivatives of the convolutions. For y = conv(x, W) + b (conv_impl.h's notation):
 *     dx = col2im(Wᵀ dy)                 the transposed convolution of dy with W
 *     dW = Σ_n dy ⊗ im2col(x)            summed over the batch
 *     db = Σ_{n, spatial} dy             per output channel
 * A transposed convolution y = convT(x, W) + b swaps the roles: dx = conv(dy, W) and
 * dW = Σ_n x ⊗ im2col(dy), with db summed over y's channels. All come from the tensor layer's
 * kernels (ct__convolution_backward_*), which reuse the forward's im2col + GEMM. */
#include "autograd_impl.h"
#include "trace_impl.h"

#include "ctorch/nn_functional.h"
#include "../tensor/native_impl.h"

typedef struct conv_ctx {
    ct__conv_params params;
} conv_ctx;

static bool conv_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    const ct__conv_params *p = &((const conv_ctx *)n->ctx)->params;
    if (ct__needs_grad(n, 0))
        gi[0] = ct__convolution_backward_input(grad, ct__saved(n, 1), ct__input_shape(n, 0), p);
    if (ct__needs_grad(n, 1))
        gi[1] = ct__convolution_backward_weight(grad, ct__saved(n, 0), ct__input_shape(n, 1), p);
    if (ct__needs_grad(n, 2)) {
        /* Every dim but the channels: (0, 2[, 3]) batched, (1[, 2]) unbatched. */
        ct_dims dims = {.ndim = 0};
        int channel = grad->ndim == p->nspatial + 2 ? 1 : 0;
        for (int d = 0; d < grad->ndim; d++)
            if (d != channel) dims.d[dims.ndim++] = d;
        gi[2] = ct_sum(grad, .dim = dims);
    }
    return true;
}
/* PyTorch 1.13 names every convolution's node ConvolutionBackward0. */
static const ct_node_ops conv1d_node = {"ConvolutionBackward0", "conv1d", conv_backward, NULL, NULL};
static const ct_node_ops conv2d_node = {"ConvolutionBackward0", "conv2d", conv_backward, NULL, NULL};
static const ct_node_ops conv_transpose1d_node = {"ConvolutionBackward0", "conv_transpose1d", conv_backward, NULL, NULL};
static const ct_node_ops conv_transpose2d_node = {"ConvolutionBackward0", "conv_transpose2d", conv_backward, NULL, NULL};

/* The op over input (0), weight (1) and bias (2, may be NULL); saves the input when the weight
 * needs a gradient and the weight when the input does. */
static ct_tensor *convolution(const ct_node_ops *ops, const ct_tensor *input, const ct_tensor *weight,
                              const ct_tensor *bias, const ct__conv_params *p) {
    CT__AG_BEGIN(ct__convolution(input, weight, bias, p), input, weight, bias);
    ct_node *n = CT__AG_RECORD(ops, sizeof(conv_ctx));
    CT__TRACE_ATTRS(out, *p);
    if (n) {
        ((conv_ctx *)n->ctx)->params = *p;
        ct__save(n, ct__needs_grad(n, 1) ? input : NULL);
        ct__save(n, ct__needs_grad(n, 0) ? weight : NULL);
    }
    return ct__ag_result(out);
}

ct_tensor *ct_conv1d_opt(const ct_tensor *input, const ct_tensor *weight, const ct_tensor *bias, ct_conv_opts o) {
    ct__conv_params p = {"conv1d", 1, false, o.stride, o.padding, o.dilation, CT_SHAPE(0), o.groups};
    return convolution(&conv1d_node, input, weight, bias, &p);
}

ct_tensor *ct_conv2d_opt(const ct_tensor *input, const ct_tensor *weight, const ct_tensor *bias, ct_conv_opts o) {
    ct__conv_params p = {"conv2d", 2, false, o.stride, o.padding, o.dilation, CT_SHAPE(0), o.groups};
    return convolution(&conv2d_node, input, weight, bias, &p);
}

ct_tensor *ct_conv_transpose1d_opt(const ct_tensor *input, const ct_tensor *weight, const ct_tensor *bias,
                                   ct_conv_transpose_opts o) {
    ct__conv_params p = {"conv_transpose1d", 1, true, o.stride, o.padding, o.dilation, o.output_padding, o.groups};
    return convolution(&conv_transpose1d_node, input, weight, bias, &p);
}

ct_tensor *ct_conv_transpose2d_opt(const ct_tensor *input, const ct_tensor *weight, const ct_tensor *bias,
                                   ct_conv_transpose_opts o) {
    ct__conv_params p = {"conv_transpose2d", 2, true, o.stride, o.padding, o.dilation, o.output_padding, o.groups};
    return convolution(&conv_transpose2d_node, input, weight, bias, &p);
}
