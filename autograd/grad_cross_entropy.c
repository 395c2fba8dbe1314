/* Derivative of the fused cross-entropy (tensor/cross_entropy.c): with lse saved by the forward,
 * d loss[r] / d x[r, c] = softmax(x[r])_c - ls / C - (1 - ls) [c == target[r]], times the incoming
 * gradient, 0 for ignored targets; one kernel pass over the logits. */
#include "autograd_impl.h"

typedef struct xent_ctx {
    int64_t ignore_index;
    double label_smoothing;
} xent_ctx;

/* saved: 0 logits, 1 target, 2 lse */
static bool cross_entropy_backward(ct_node *n, const ct_tensor *grad, ct_tensor **grad_inputs) {
    const xent_ctx *ctx = n->ctx;
    grad_inputs[0] = ct__cross_entropy_rows_backward(grad, ct__saved(n, 0), ct__saved(n, 1), ct__saved(n, 2),
                                                     ctx->ignore_index, ctx->label_smoothing);
    return grad_inputs[0] != NULL;
}
static const ct_node_ops cross_entropy_node = {"CrossEntropyLossBackward0", "cross_entropy", cross_entropy_backward,
                                               NULL, NULL};

ct_tensor *ct__cross_entropy_logits(const ct_tensor *logits, const ct_tensor *target, int64_t ignore_index,
                                    double label_smoothing) {
    const ct_tensor *const inputs[] = {logits};
    if (!ct__ag_needed(1, inputs)) return ct__cross_entropy_rows(logits, target, ignore_index, label_smoothing, NULL);
    ct_tensor *lse = NULL, *out;
    bool prev = ct_set_grad_enabled(false);
    out = ct__cross_entropy_rows(logits, target, ignore_index, label_smoothing, &lse);
    ct_set_grad_enabled(prev);
    if (!out) return NULL;
    ct_node *n = ct__record(&cross_entropy_node, out, 1, inputs, sizeof(xent_ctx));
    if (n) {
        ct__save(n, logits);
        ct__save(n, target);
        ct__save(n, lse);
        xent_ctx *ctx = n->ctx;
        ctx->ignore_index = ignore_index;
        ctx->label_smoothing = label_smoothing;
    }
    return ct__ag_result(out);
}
