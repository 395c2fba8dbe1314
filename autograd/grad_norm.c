/* Derivatives of batch norm, layer norm and embedding (kernels in tensor/norm.c and
 * tensor/embedding.c). Group norm, dropout and attention are compositions (nn/).
 *
 * Batch norm, training (xhat = (x - mean) rstd over the M = N*prod(*) values of a channel, y =
 * xhat w + b): since mean and rstd depend on x,
 *   dx = w rstd (dy - mean(dy) - xhat mean(dy xhat)),   dw = sum dy xhat,   db = sum dy.
 * In eval the running stats are constants, so dx = w rstd dy. Layer norm is the same formula per
 * row over the normalized dims, w applied elementwise before the row means. */
#include "autograd_impl.h"
#include "trace_impl.h"
#include "ctorch/nn_functional.h"

/* ---- batch norm ---- */

typedef struct bn_ctx {
    bool training;
} bn_ctx;

/* saved: 0 x, 1 weight (may be NULL), 2 mean, 3 rstd; inputs: 0 x, 1 weight, 2 bias */
static bool batch_norm_backward(ct_node *n, const ct_tensor *grad, ct_tensor **grad_inputs) {
    bn_ctx *ctx = n->ctx;
    ct_tensor *dx, *dw, *db;
    if (!ct__batch_norm_backward(grad, ct__saved(n, 0), ct__saved(n, 2), ct__saved(n, 3), ct__saved(n, 1),
                                 ctx->training, ct__needs_grad(n, 0), &dx, &dw, &db))
        return false;
    grad_inputs[0] = dx;
    if (ct__needs_grad(n, 1)) grad_inputs[1] = ct_view(dw, ct__input_shape(n, 1));
    if (ct__needs_grad(n, 2)) grad_inputs[2] = ct_view(db, ct__input_shape(n, 2));
    return true;
}
static const ct_node_ops batch_norm_node = {"NativeBatchNormBackward0", "batch_norm", batch_norm_backward, NULL, NULL};

ct_tensor *ct_batch_norm_opt(const ct_tensor *x, ct_tensor *running_mean, ct_tensor *running_var,
                             const ct_tensor *weight, const ct_tensor *bias, bool training, ct_batch_norm_opts opts) {
    ct_tensor *mean = NULL, *rstd = NULL;
    CT__AG_BEGIN(ct__batch_norm(x, running_mean, running_var, weight, bias, training, opts.momentum, opts.eps,
                                &mean, &rstd),
                 x, weight, bias);
    ct_node *n = CT__AG_RECORD(&batch_norm_node, sizeof(bn_ctx));
    CT__TRACE_ATTRS_EXTRA(out, ((ct_trace_batch_norm){training, opts.eps}), running_mean, running_var);
    if (n) {
        ((bn_ctx *)n->ctx)->training = training;
        ct__save(n, x), ct__save(n, weight), ct__save(n, mean), ct__save(n, rstd);
    }
    return ct__ag_result(out);
}

/* ---- layer norm ---- */

typedef struct ln_ctx {
    ct_shape normalized_shape;
} ln_ctx;

/* saved: 0 x, 1 weight (may be NULL), 2 mean, 3 rstd; inputs: 0 x, 1 weight, 2 bias */
static bool layer_norm_backward(ct_node *n, const ct_tensor *grad, ct_tensor **grad_inputs) {
    ln_ctx *ctx = n->ctx;
    ct_tensor *dx, *dw, *db;
    if (!ct__layer_norm_backward(grad, ct__saved(n, 0), ctx->normalized_shape, ct__saved(n, 2), ct__saved(n, 3),
                                 ct__saved(n, 1), ct__needs_grad(n, 0), ct__needs_grad(n, 1), ct__needs_grad(n, 2),
                                 &dx, &dw, &db))
        return false;
    grad_inputs[0] = dx, grad_inputs[1] = dw, grad_inputs[2] = db;
    return true;
}
static const ct_node_ops layer_norm_node = {"NativeLayerNormBackward0", "layer_norm", layer_norm_backward, NULL, NULL};

ct_tensor *ct_layer_norm_opt(const ct_tensor *x, ct_shape normalized_shape, const ct_tensor *weight,
                             const ct_tensor *bias, ct_norm_eps_opts opts) {
    ct_tensor *mean = NULL, *rstd = NULL;
    CT__AG_BEGIN(ct__layer_norm(x, normalized_shape, weight, bias, opts.eps, &mean, &rstd), x, weight, bias);
    ct_node *n = CT__AG_RECORD(&layer_norm_node, sizeof(ln_ctx));
    CT__TRACE_ATTRS(out, ((ct_trace_layer_norm){normalized_shape, opts.eps}));
    if (n) {
        ((ln_ctx *)n->ctx)->normalized_shape = normalized_shape;
        ct__save(n, x), ct__save(n, weight), ct__save(n, mean), ct__save(n, rstd);
    }
    return ct__ag_result(out);
}

/* ---- embedding ---- */

typedef struct emb_ctx {
    int64_t num_weights, padding_idx; /* padding_idx resolved: -1 = none */
} emb_ctx;

/* saved: 0 indices; input: 0 weight */
static bool embedding_backward(ct_node *n, const ct_tensor *grad, ct_tensor **grad_inputs) {
    emb_ctx *ctx = n->ctx;
    grad_inputs[0] = ct__embedding_backward(grad, ct__saved(n, 0), ctx->num_weights, ctx->padding_idx);
    return grad_inputs[0] != NULL;
}
static const ct_node_ops embedding_node = {"EmbeddingBackward0", "embedding", embedding_backward, NULL, NULL};

ct_tensor *ct_embedding_opt(const ct_tensor *indices, const ct_tensor *weight, ct_embedding_opts opts) {
    CT__AG_BEGIN(ct__embedding(indices, weight, opts.padding_idx), weight);
    ct_node *n = CT__AG_RECORD(&embedding_node, sizeof(emb_ctx));
    CT__TRACE_ATTRS_EXTRA(out, (ct_trace_dim){0}, indices);
    if (n) {
        emb_ctx *ctx = n->ctx;
        ctx->num_weights = weight->shape[0];
        ctx->padding_idx = opts.padding_idx;
        ct__embedding_padding_idx("embedding", ctx->num_weights, &ctx->padding_idx); /* checked by the forward */
        ct__save(n, indices);
    }
    return ct__ag_result(out);
}
