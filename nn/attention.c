/* Scaled dot-product attention composed from differentiable ops, as PyTorch's reference
 * definition (F.scaled_dot_product_attention):
 *   scores = q k^T * scale                    [..., L, S], scale = 1/sqrt(E) unless given
 *   is_causal: scores[i, j] = -inf for j > i  (the upper triangle, key after query)
 *   bool mask: scores = -inf where mask is false; float mask: scores += mask (broadcast)
 *   out = dropout(softmax(scores, -1), dropout_p) v
 * A row masked entirely is NaN, as in PyTorch's math implementation.
 *
 * On CUDA, without attn_mask and dropout, the fused flash-attention kernel (tensor/attention.c)
 * computes the same in one pass and saves each row's logsumexp, from which its backward
 * recomputes the softmax (FlashAttention-2); PyTorch dispatches the same way. */
#include "../autograd/autograd_impl.h"
#include "../tensor/native_impl.h"
#include "ctorch/nn_functional.h"

#include <math.h>

typedef struct flash_ctx {
    bool causal;
    double scale;
} flash_ctx;

/* saved: 0 q, 1 k, 2 v, 3 out, 4 lse; inputs: 0 q, 1 k, 2 v */
static bool flash_backward(ct_node *n, const ct_tensor *grad, ct_tensor **grad_inputs) {
    flash_ctx *ctx = n->ctx;
    return ct__flash_attention_backward(grad, ct__saved(n, 0), ct__saved(n, 1), ct__saved(n, 2), ct__saved(n, 3),
                                        ct__saved(n, 4), ctx->causal, ctx->scale, &grad_inputs[0], &grad_inputs[1],
                                        &grad_inputs[2]);
}
static const ct_node_ops flash_node = {"ScaledDotProductFlashAttentionBackward0", "scaled_dot_product_attention",
                                       flash_backward, NULL, NULL};

static ct_tensor *flash_attention(const ct_tensor *q, const ct_tensor *k, const ct_tensor *v, bool causal,
                                  double scale) {
    ct_tensor *lse = NULL;
    CT__AG_BEGIN(ct__flash_attention(q, k, v, causal, scale, &lse), q, k, v);
    ct_node *n = CT__AG_RECORD(&flash_node, sizeof(flash_ctx));
    if (n) {
        ((flash_ctx *)n->ctx)->causal = causal;
        ((flash_ctx *)n->ctx)->scale = scale;
        ct__save(n, q), ct__save(n, k), ct__save(n, v), ct__save(n, out), ct__save(n, lse);
    }
    return ct__ag_result(out);
}

ct_tensor *ct_scaled_dot_product_attention_opt(const ct_tensor *q, const ct_tensor *k, const ct_tensor *v,
                                               const ct_tensor *attn_mask, ct_sdpa_opts opts) {
    const char *op = "scaled_dot_product_attention";
    if (!CT__CHECK(op, q, k, v)) return NULL;
    if (opts.is_causal && attn_mask)
        return ct_error(CT_ERR_ARG, "%s: Explicit attn_mask should not be set when is_causal=True", op);
    if (q->ndim < 2 || k->ndim < 2 || v->ndim < 2)
        return ct_error(CT_ERR_SHAPE,
                        "%s: expected query, key and value of at least 2 dims, but got query %s, key %s, value %s", op,
                        ct__shape_str(q->shape, q->ndim), ct__shape_str(k->shape, k->ndim),
                        ct__shape_str(v->shape, v->ndim));
    int64_t L = q->shape[q->ndim - 2], S = k->shape[k->ndim - 2], E = q->shape[q->ndim - 1];
    double scale = opts.scale != 0 ? opts.scale : 1 / sqrt((double)E);
    if (!attn_mask && opts.dropout_p == 0 && ct__flash_attention_supported(q, k, v))
        return flash_attention(q, k, v, opts.is_causal, scale);
    ct_tensor *out = NULL;
    CT_SCOPE {
        ct_tensor *scores = ct_mul_scalar(ct_matmul(q, ct_transpose(k, -2, -1)), scale);
        if (opts.is_causal) {
            ct_tensor *future = ct_triu(ct_ones(CT_SHAPE(L, S), .dtype = CT_BOOL, .device = ct_device_of(q)), 1);
            scores = ct_masked_fill(scores, future, -INFINITY);
        } else if (attn_mask && ct_dtype_of(attn_mask) == CT_BOOL) {
            scores = ct_masked_fill(scores, ct_logical_not(attn_mask), -INFINITY);
        } else if (attn_mask) {
            scores = ct_add(scores, attn_mask);
        }
        ct_tensor *weights = ct_softmax(scores, -1);
        if (opts.dropout_p > 0) weights = ct_dropout(weights, .p = opts.dropout_p, .training = true);
        ct_tensor *y = ct_matmul(weights, v);
        if (y) out = ct_keep(y);
    }
    return out;
}
