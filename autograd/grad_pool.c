/* Derivatives of pooling. Each node keeps the forward's resolved geometry (ct__pool2d_geom) in its
 * ctx; the backward kernels (tensor/pool.c) then route the output's gradient back:
 *   max pool:      to each window's argmax (the saved indices), summed where windows share one;
 *   avg pool:      grad / divisor to every input element of the window (the forward's divisor);
 *   adaptive avg:  grad / window size to every element of the window.
 * The 1d forms are the 2d ops on x.unsqueeze(-2), squeezed back (grad_fn SqueezeBackward1, as in
 * PyTorch), so their derivatives come from the 2d nodes. */
#include "autograd_impl.h"
#include "trace_impl.h"

/* ---- max_pool2d ---------------------------------------------------------------------------- */

static bool max_pool2d_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    gi[0] = ct__max_pool2d_backward(grad, ct__saved(n, 0), n->ctx, ct__input_shape(n, 0));
    return gi[0] != NULL;
}
static const ct_node_ops max_pool2d_node = {"MaxPool2DWithIndicesBackward0", "max_pool2d", max_pool2d_backward, NULL, NULL};

/* The indices are needed for backward, so they are computed even when the caller wants none. */
ct_tensor *ct_max_pool2d_opt(const ct_tensor *x, ct_shape kernel_size, ct_max_pool_opts opts) {
    ct_tensor **indices = opts.indices;
    if (indices) *indices = NULL;
    if (!ct__ag_needed(1, (const ct_tensor *const[]){x})) return ct__max_pool2d(x, kernel_size, opts, indices, NULL);
    ct_tensor *index = NULL;
    ct__pool2d_geom geom;
    CT__AG_BEGIN(ct__max_pool2d(x, kernel_size, opts, &index, &geom), x);
    if (indices) *indices = index;
    ct_node *n = CT__AG_RECORD(&max_pool2d_node, sizeof geom);
    CT__TRACE_ATTRS(out, geom);
    if (n) {
        *(ct__pool2d_geom *)n->ctx = geom;
        ct__save(n, index);
    }
    return ct__ag_result(out);
}

/* ---- avg_pool2d ---------------------------------------------------------------------------- */

static bool avg_pool2d_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    gi[0] = ct__avg_pool2d_backward(grad, n->ctx, ct__input_shape(n, 0));
    return gi[0] != NULL;
}
static const ct_node_ops avg_pool2d_node = {"AvgPool2DBackward0", "avg_pool2d", avg_pool2d_backward, NULL, NULL};

ct_tensor *ct_avg_pool2d_opt(const ct_tensor *x, ct_shape kernel_size, ct_avg_pool_opts opts) {
    ct__pool2d_geom geom;
    CT__AG_BEGIN(ct__avg_pool2d(x, kernel_size, opts, &geom), x);
    ct_node *n = CT__AG_RECORD(&avg_pool2d_node, sizeof geom);
    CT__TRACE_ATTRS(out, geom);
    if (n) *(ct__pool2d_geom *)n->ctx = geom;
    return ct__ag_result(out);
}

/* ---- adaptive_avg_pool2d ------------------------------------------------------------------- */

static bool adaptive_avg_pool2d_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    gi[0] = ct__adaptive_avg_pool2d_backward(grad, n->ctx, ct__input_shape(n, 0));
    return gi[0] != NULL;
}
static const ct_node_ops adaptive_avg_pool2d_node = {"AdaptiveAvgPool2DBackward0", "adaptive_avg_pool2d",
                                                     adaptive_avg_pool2d_backward, NULL, NULL};

ct_tensor *ct_adaptive_avg_pool2d(const ct_tensor *x, ct_shape output_size) {
    ct__pool2d_geom geom;
    CT__AG_BEGIN(ct__adaptive_avg_pool2d(x, output_size, &geom), x);
    ct_node *n = CT__AG_RECORD(&adaptive_avg_pool2d_node, sizeof geom);
    if (n) *(ct__pool2d_geom *)n->ctx = geom;
    return ct__ag_result(out);
}

/* ---- 1d forms ------------------------------------------------------------------------------ */

/* A one-value size list as the (1, v) pair of the height-1 plane; empty stays empty (default). */
static ct_shape height_one(ct_shape s, int64_t h) { return s.ndim ? CT_SHAPE(h, s.d[0]) : s; }

ct_tensor *ct_max_pool1d_opt(const ct_tensor *x, ct_shape kernel_size, ct_max_pool_opts opts) {
    if (opts.indices) *opts.indices = NULL;
    int64_t len;
    if (!ct__max_pool1d_check(x, kernel_size, opts, &len)) return NULL;
    ct_tensor **indices = opts.indices, *idx2d = NULL;
    if (len == 0) { /* PyTorch's max_pool1d gives an empty result where max_pool2d would refuse */
        ct_shape shape = ct_shape_of(x);
        shape.d[shape.ndim - 1] = 0;
        if (indices) *indices = ct_zeros(shape, .dtype = CT_I64);
        return ct_zeros(shape, .dtype = ct_dtype_of(x));
    }
    opts.stride = height_one(opts.stride, 1);
    opts.padding = height_one(opts.padding, 0);
    opts.dilation = height_one(opts.dilation, 1);
    opts.indices = indices ? &idx2d : NULL;
    ct_tensor *out = ct_squeeze_dim(ct_max_pool2d_opt(ct_unsqueeze(x, -2), height_one(kernel_size, 1), opts), -2);
    if (out && indices) *indices = ct_squeeze_dim(idx2d, -2);
    return out;
}

ct_tensor *ct_avg_pool1d_opt(const ct_tensor *x, ct_shape kernel_size, ct_avg_pool_opts opts) {
    if (!ct__avg_pool1d_check(x, kernel_size, opts)) return NULL;
    opts.stride = height_one(opts.stride, 1);
    opts.padding = height_one(opts.padding, 0);
    opts.divisor_override = 0;
    return ct_squeeze_dim(ct_avg_pool2d_opt(ct_unsqueeze(x, -2), height_one(kernel_size, 1), opts), -2);
}
