/* Convolutions (conv1d, conv2d, conv_transpose1d, conv_transpose2d) and the two gradients their
 * derivatives need. Each call is validated with PyTorch's messages, reduced to a 2-D geometry
 * (conv_impl.h: a 1-D convolution is a 2-D one of height 1, an unbatched input a batch of one;
 * both only reinterpret contiguous buffers) and computed by the device's kernels on contiguous
 * operands in f32 or f64 (f16 and bf16 compute in f32 and round once at the end).
 *
 * Shapes: image [n, c, h, w], columns [n, o, oh, ow], weight [o, c / groups, kh, kw], where
 *     oh = (h + 2 ph - dh (kh - 1) - 1) / sh + 1                       (floor division)
 * A convolution maps image -> columns; a transposed convolution maps columns -> image, with
 *     h = (oh - 1) sh - 2 ph + dh (kh - 1) + output_padding_h + 1. */
#include "conv_impl.h"
#include "ctorch/cuda.h"
#include "native_impl.h"

#include <stdio.h>

static const ct_conv_kernels *conv_kernels(ct_device device) {
#ifdef CT_HAVE_CUDA
    if (device.type == CT_DEVICE_CUDA) return &ct__conv_cuda_kernels;
#endif
    return device.type == CT_DEVICE_CPU ? &ct__conv_cpu_kernels : NULL;
}

/* torch.backends.cudnn.allow_tf32: true by default, unlike the matmul switch. */
static _Atomic bool cudnn_allow_tf32 = true;
void ct_set_cudnn_allow_tf32(bool allow) { cudnn_allow_tf32 = allow; }
bool ct_get_cudnn_allow_tf32(void) { return cudnn_allow_tf32; }
bool ct__cudnn_allow_tf32(void) { return cudnn_allow_tf32; }

/* The spatial options as (height, width) pairs: a 1-D op has height 1 with stride 1, padding 0,
 * dilation 1 and output_padding 0. */
typedef struct spatial_args {
    int64_t stride[2], padding[2], dilation[2], output_padding[2];
} spatial_args;

/* "(5 x 5)" or "(5)" for a 1-D op: PyTorch's per-channel size rendering. */
static const char *size_str(const int64_t *v, int nspatial, char *buf, size_t n) {
    if (nspatial == 1) snprintf(buf, n, "(%lld)", (long long)v[1]);
    else snprintf(buf, n, "(%lld x %lld)", (long long)v[0], (long long)v[1]);
    return buf;
}

/* One option's values per (height, width); false with PyTorch's message for a wrong length. */
static bool expand_option(const ct__conv_params *p, const char *name, ct_shape v, int64_t fill, int64_t out[2]) {
    if (v.ndim != 1 && v.ndim != p->nspatial) {
        ct_error(CT_ERR_ARG,
                 "%s: expected %s to be a single integer value or a list of %d values to match the convolution "
                 "dimensions, but got %s=%s",
                 p->op, name, p->nspatial, name, ct__shape_str(v.d, v.ndim));
        return false;
    }
    out[0] = p->nspatial == 1 ? fill : v.d[0];
    out[1] = v.d[v.ndim - 1];
    return true;
}

static bool spatial_of(const ct__conv_params *p, spatial_args *s) {
    return expand_option(p, "stride", p->stride, 1, s->stride) && expand_option(p, "padding", p->padding, 0, s->padding) &&
           expand_option(p, "dilation", p->dilation, 1, s->dilation) &&
           (!p->transposed || expand_option(p, "output_padding", p->output_padding, 0, s->output_padding));
}

/* A tensor's shape as 4-D [n, c, h, w]: n = 1 for an unbatched input, h = 1 for a 1-D op. A
 * weight has two leading dims like a batched input. */
static void shape4(const int64_t *shape, int ndim, int nspatial, int64_t out[4]) {
    int lead = ndim - nspatial; /* 1 (unbatched) or 2 */
    out[0] = lead == 2 ? shape[0] : 1;
    out[1] = shape[lead - 1];
    out[2] = nspatial == 2 ? shape[lead] : 1;
    out[3] = shape[ndim - 1];
}

/* The output shape in the input's form (batched or not, 1-D or 2-D) from its 4-D form. */
static ct_shape user_shape(int nspatial, bool batched, const int64_t s4[4]) {
    ct_shape s = {.ndim = 0};
    if (batched) s.d[s.ndim++] = s4[0];
    s.d[s.ndim++] = s4[1];
    if (nspatial == 2) s.d[s.ndim++] = s4[2];
    s.d[s.ndim++] = s4[3];
    return s;
}

/* The geometry from the image, column and weight shapes (4-D) and the options. */
static ct_conv_geom geometry(const int64_t img[4], const int64_t col[4], const int64_t wt[4], int64_t groups,
                             const spatial_args *s) {
    return (ct_conv_geom){.n = img[0], .groups = groups, .c = img[1], .h = img[2], .w = img[3],
                          .o = col[1], .oh = col[2], .ow = col[3], .kh = wt[2], .kw = wt[3],
                          .sh = s->stride[0], .sw = s->stride[1], .ph = s->padding[0], .pw = s->padding[1],
                          .dh = s->dilation[0], .dw = s->dilation[1]};
}

/* ---- validation (PyTorch's checks, in its order) ------------------------------------------------- */

static bool check_dtypes(const ct__conv_params *p, const ct_tensor *input, const ct_tensor *weight, const ct_tensor *bias) {
    if (weight->dtype != input->dtype) {
        ct_error(CT_ERR_DTYPE, "%s: expected scalar type %s but found %s", p->op, ct__torch_type_name(input->dtype),
                 ct__torch_type_name(weight->dtype));
        return false;
    }
    if (bias && bias->dtype != input->dtype) {
        ct_error(CT_ERR_DTYPE, "%s: Input type (%s) and bias type (%s) should be the same", p->op,
                 ct_dtype_name(input->dtype), ct_dtype_name(bias->dtype));
        return false;
    }
    if (!ct_dtype_is_floating(input->dtype)) {
        ct_error(CT_ERR_DTYPE, "%s: \"%s\" not implemented for '%s'", p->op,
                 p->transposed ? "slow_conv_transpose2d_out_cpu" : "slow_conv2d_cpu", ct__torch_type_name(input->dtype));
        return false;
    }
    return true;
}

static bool check_options(const ct__conv_params *p, const spatial_args *s) {
    for (int d = 0; d < 2; d++) {
        const char *bad = s->stride[d] <= 0      ? "non-positive stride"
                          : s->padding[d] < 0    ? "negative padding"
                          : s->dilation[d] <= 0  ? "non-positive dilation"
                          : p->transposed && s->output_padding[d] < 0 ? "negative output_padding"
                                                                   : NULL;
        if (bad) {
            ct_error(CT_ERR_ARG, "%s: %s is not supported", p->op, bad);
            return false;
        }
    }
    if (p->groups <= 0) {
        ct_error(CT_ERR_ARG, "%s: non-positive groups is not supported", p->op);
        return false;
    }
    return true;
}

/* Input/weight/bias shapes; on success fills the 4-D shapes of input and weight. */
static bool check_shapes(const ct__conv_params *p, const spatial_args *s, const ct_tensor *input,
                         const ct_tensor *weight, const ct_tensor *bias, int64_t in4[4], int64_t wt4[4]) {
    int k = p->nspatial, nd = input->ndim;
    const char *wshape = ct__shape_str(weight->shape, weight->ndim);
    if (nd != k + 1 && nd != k + 2) {
        ct_error(CT_ERR_SHAPE, "%s: Expected %dD (unbatched) or %dD (batched) input to %s, but got input of size: %s", p->op,
                 k + 1, k + 2, p->op, ct__shape_str(input->shape, nd));
        return false;
    }
    shape4(input->shape, nd, k, in4);
    ct_shape batched = user_shape(k, true, in4); /* PyTorch names an unbatched input by its batch of one */
    const char *ishape = ct__shape_str(batched.d, batched.ndim);
    if (weight->ndim != k + 2) {
        ct_error(CT_ERR_SHAPE,
                 "%s: Expected %d-dimensional input for %d-dimensional weight %s, but got %d-dimensional input of size "
                 "%s instead",
                 p->op, weight->ndim, weight->ndim, wshape, k + 2, ishape);
        return false;
    }
    shape4(weight->shape, k + 2, k, wt4);
    if (wt4[0] < 1 && !p->transposed) {
        ct_error(CT_ERR_SHAPE, "%s: Given groups=%lld, expected weight to be at least 1 at dimension 0, but got weight "
                 "of size %s instead", p->op, (long long)p->groups, wshape);
        return false;
    }
    if (wt4[0] % p->groups != 0) {
        ct_error(CT_ERR_SHAPE, "%s: Given groups=%lld, expected weight to be divisible by %lld at dimension 0, but got "
                 "weight of size [%s] instead", p->op, (long long)p->groups, (long long)p->groups, wshape);
        return false;
    }
    if (!p->transposed && in4[1] != wt4[1] * p->groups) {
        ct_error(CT_ERR_SHAPE, "%s: Given groups=%lld, weight of size %s, expected input%s to have %lld channels, but "
                 "got %lld channels instead", p->op, (long long)p->groups, wshape, ishape,
                 (long long)(wt4[1] * p->groups), (long long)in4[1]);
        return false;
    }
    if (p->transposed && in4[1] != wt4[0]) {
        ct_error(CT_ERR_SHAPE, "%s: Given transposed=1, weight of size %s, expected input%s to have %lld channels, but "
                 "got %lld channels instead", p->op, wshape, ishape, (long long)wt4[0], (long long)in4[1]);
        return false;
    }
    int64_t nbias = p->transposed ? wt4[1] * p->groups : wt4[0];
    if (bias && (bias->ndim != 1 || bias->shape[0] != nbias)) {
        ct_error(CT_ERR_SHAPE, "%s: Given %sweight of size %s, expected bias to be 1-dimensional with %lld elements, "
                 "but got bias of size %s instead", p->op, p->transposed ? "transposed=1, " : "", wshape,
                 (long long)nbias, ct__shape_str(bias->shape, bias->ndim));
        return false;
    }
    if (wt4[2] <= 0 || wt4[3] <= 0) {
        ct_error(CT_ERR_SHAPE, "%s: kernel size should be greater than zero, but got kernel_height: %lld kernel_width: "
                 "%lld", p->op, (long long)wt4[2], (long long)wt4[3]);
        return false;
    }
    if (p->transposed) {
        for (int d = 0; d < 2; d++)
            if (s->output_padding[d] >= s->stride[d] && s->output_padding[d] >= s->dilation[d]) {
                ct_error(CT_ERR_ARG, "%s: output padding must be smaller than either stride or dilation, but got "
                         "output_padding_height: %lld output_padding_width: %lld stride_height: %lld stride_width: "
                         "%lld dilation_height: %lld dilation_width: %lld", p->op,
                         (long long)s->output_padding[0], (long long)s->output_padding[1], (long long)s->stride[0],
                         (long long)s->stride[1], (long long)s->dilation[0], (long long)s->dilation[1]);
                return false;
            }
        return true;
    }
    int64_t padded[2], kernel[2];
    for (int d = 0; d < 2; d++) {
        padded[d] = in4[2 + d] + 2 * s->padding[d];
        kernel[d] = s->dilation[d] * (wt4[2 + d] - 1) + 1;
    }
    if (padded[0] < kernel[0] || padded[1] < kernel[1]) {
        char a[64], b[64];
        ct_error(CT_ERR_SHAPE, "%s: Calculated padded input size per channel: %s. Kernel size: %s. Kernel size can't "
                 "be greater than actual input size", p->op, size_str(padded, k, a, sizeof a), size_str(kernel, k, b, sizeof b));
        return false;
    }
    return true;
}

/* ---- running a kernel ---------------------------------------------------------------------------- */

typedef enum conv_kind { RUN_FORWARD, RUN_BACKWARD_INPUT, RUN_BACKWARD_WEIGHT } conv_kind;

/* out (a new tensor of out_shape in dtype) = the kernel of `kind` over operands a, b (and bias c):
 * FORWARD: a = image, b = weight -> columns; BACKWARD_INPUT: a = columns, b = weight -> image;
 * BACKWARD_WEIGHT: a = image, b = columns -> weight. */
static ct_tensor *run(const char *op, conv_kind kind, ct_conv_geom g, const ct_tensor *a, const ct_tensor *b,
                      const ct_tensor *bias, ct_shape out_shape) {
    if (!ct__check_same_device(op, bias ? 3 : 2, (const ct_tensor *const[]){a, b, bias})) return NULL;
    const ct_conv_kernels *k = conv_kernels(ct__device(a));
    if (!k) return ct__no_kernel(op, ct__device(a));
    /* The CPU computes 16-bit floats in f32; cuDNN takes them as they are (f32 accumulation). */
    bool cuda = ct__device(a).type == CT_DEVICE_CUDA;
    ct_dtype dtype = a->dtype, cdt = !cuda && (dtype == CT_F16 || dtype == CT_BF16) ? CT_F32 : dtype;
    ct_tensor *out = ct__tensor_new(out_shape.d, out_shape.ndim, dtype, ct__device(a));
    if (!out || ct__numel(out_shape.d, out_shape.ndim) == 0) return out;
    g.dtype = cdt;
    g.device = ct__device(a).index;
    bool ok = false;
    ct_scope_begin();
    const ct_tensor *ca = ct__contiguous_as(a, cdt), *cb = ct__contiguous_as(b, cdt);
    const ct_tensor *cc = bias ? ct__contiguous_as(bias, cdt) : NULL;
    ct_tensor *res = cdt == dtype ? out : ct__tensor_new(out_shape.d, out_shape.ndim, cdt, ct__device(a));
    if (ca && cb && (cc || !bias) && res) {
        void *pa = ct__data(ca), *pb = ct__data(cb), *pc = cc ? ct__data(cc) : NULL, *po = ct__data(res);
        ok = kind == RUN_FORWARD          ? k->forward(&g, pa, pb, pc, po)
             : kind == RUN_BACKWARD_INPUT ? k->backward_input(&g, pa, pb, pc, po)
                                          : k->backward_weight(&g, pa, pb, po);
        ok = ok && (res == out || ct__copy_into(op, out, res));
    }
    ct_scope_end();
    return ok ? out : NULL;
}

ct_tensor *ct__convolution(const ct_tensor *input, const ct_tensor *weight, const ct_tensor *bias,
                           const ct__conv_params *p) {
    if (!CT__CHECK(p->op, input, weight)) return NULL;
    spatial_args s = {0};
    int64_t in4[4], wt4[4], out4[4];
    if (!check_dtypes(p, input, weight, bias) || !spatial_of(p, &s) || !check_options(p, &s) ||
        !check_shapes(p, &s, input, weight, bias, in4, wt4))
        return NULL;
    out4[0] = in4[0];
    out4[1] = p->transposed ? wt4[1] * p->groups : wt4[0];
    for (int d = 0; d < 2; d++) {
        int64_t span = s.dilation[d] * (wt4[2 + d] - 1);
        out4[2 + d] = p->transposed ? (in4[2 + d] - 1) * s.stride[d] - 2 * s.padding[d] + span + s.output_padding[d] + 1
                                    : (in4[2 + d] + 2 * s.padding[d] - span - 1) / s.stride[d] + 1;
    }
    if (out4[2] < 1 || out4[3] < 1) {
        char a[64], b[64];
        return ct_error(CT_ERR_SHAPE, "%s: Given input size per channel: %s. Calculated output size per channel: %s. "
                        "Output size is too small", p->op, size_str(in4 + 2, p->nspatial, a, sizeof a),
                        size_str(out4 + 2, p->nspatial, b, sizeof b));
    }
    ct_shape out_shape = user_shape(p->nspatial, input->ndim == p->nspatial + 2, out4);
    if (p->transposed)
        return run(p->op, RUN_BACKWARD_INPUT, geometry(out4, in4, wt4, p->groups, &s), input, weight, bias, out_shape);
    return run(p->op, RUN_FORWARD, geometry(in4, out4, wt4, p->groups, &s), input, weight, bias, out_shape);
}

/* The geometry of a convolution that ran, from its input, weight and output (gradient) shapes. */
static bool geometry_after(const ct__conv_params *p, ct_shape input, ct_shape weight, const ct_tensor *grad,
                           ct_conv_geom *g) {
    spatial_args s = {0};
    if (!spatial_of(p, &s)) return false;
    int64_t in4[4], wt4[4], out4[4];
    shape4(input.d, input.ndim, p->nspatial, in4);
    shape4(weight.d, weight.ndim, p->nspatial, wt4);
    shape4(grad->shape, grad->ndim, p->nspatial, out4);
    *g = p->transposed ? geometry(out4, in4, wt4, p->groups, &s) : geometry(in4, out4, wt4, p->groups, &s);
    return true;
}

ct_tensor *ct__convolution_backward_input(const ct_tensor *grad, const ct_tensor *weight, ct_shape input_shape,
                                          const ct__conv_params *p) {
    ct_conv_geom g;
    if (!CT__CHECK(p->op, grad, weight) || !geometry_after(p, input_shape, ct_shape_of(weight), grad, &g)) return NULL;
    /* conv: the image from the columns; transposed: the columns from the image (a convolution). */
    if (p->transposed) return run(p->op, RUN_FORWARD, g, grad, weight, NULL, input_shape);
    return run(p->op, RUN_BACKWARD_INPUT, g, grad, weight, NULL, input_shape);
}

ct_tensor *ct__convolution_backward_weight(const ct_tensor *grad, const ct_tensor *input, ct_shape weight_shape,
                                           const ct__conv_params *p) {
    ct_conv_geom g;
    if (!CT__CHECK(p->op, grad, input) || !geometry_after(p, ct_shape_of(input), weight_shape, grad, &g)) return NULL;
    /* The image is the conv's input, the transposed conv's output (whose gradient is grad). */
    if (p->transposed) return run(p->op, RUN_BACKWARD_WEIGHT, g, grad, input, NULL, weight_shape);
    return run(p->op, RUN_BACKWARD_WEIGHT, g, input, grad, NULL, weight_shape);
}
