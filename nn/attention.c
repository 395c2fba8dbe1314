/* Scaled dot-product attention composed from differentiable ops, as PyTorch's reference
 * definition (F.scaled_dot_product_attention):
 *   scores = q k^T * scale                    [..., L, S], scale = 1/sqrt(E) unless given
 *   is_causal: scores[i, j] = -inf for j > i  (the upper triangle, key after query)
 *   bool mask: scores = -inf where mask is false; float mask: scores += mask (broadcast)
 *   out = dropout(softmax(scores, -1), dropout_p) v
 * A row masked entirely is NaN, as in PyTorch's math implementation. */
#include "../tensor/tensor_impl.h"
#include "ctorch/nn_functional.h"

#include <math.h>

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
