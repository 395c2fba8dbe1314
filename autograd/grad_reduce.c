/* Derivatives of reductions, softmax, cumulative ops: each public op records its node over the tensor layer's ct__ form. */
#include "autograd_impl.h"

/* ---- sum ------------------------------------------------------------------------------------- */

typedef struct reduce_ctx {
    ct_dims dim; /* as given (may be negative or empty = all) */
    bool keepdim;
} reduce_ctx;

/* The reduced gradient with its reduced dims put back as size 1, ready to broadcast against the
 * input (a no-op with keepdim or a full reduction to a 0-d tensor). */
static ct_tensor *unsqueeze_reduced(const ct_tensor *grad, const reduce_ctx *c, int ndim) {
    if (c->keepdim || c->dim.ndim == 0 || ndim == 0) return ct_alias(grad);
    bool reduced[CT_MAX_DIMS] = {false};
    for (int i = 0; i < c->dim.ndim; i++) reduced[(c->dim.d[i] % ndim + ndim) % ndim] = true;
    ct_tensor *g = ct_alias(grad);
    for (int d = 0; d < ndim; d++)
        if (reduced[d]) g = ct_unsqueeze(g, d);
    return g;
}

/* d(sum)/dx = 1: the gradient broadcast back over the reduced dims. */
static bool sum_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    ct_shape in = ct__input_shape(n, 0);
    gi[0] = ct_expand(unsqueeze_reduced(grad, n->ctx, in.ndim), in);
    return true;
}
static const ct_node_ops sum_all_node = {"SumBackward0", "sum", sum_backward, NULL};
static const ct_node_ops sum_dim_node = {"SumBackward1", "sum", sum_backward, NULL};

static void save_reduce_ctx(ct_node *n, const ct_reduce_opts *opts) {
    if (n) *(reduce_ctx *)n->ctx = (reduce_ctx){opts->dim, opts->keepdim};
}

ct_tensor *ct_sum_opt(const ct_tensor *t, ct_reduce_opts opts) {
    CT__AG_BEGIN(ct__sum_opt(t, opts), t);
    save_reduce_ctx(CT__AG_RECORD(opts.dim.ndim ? &sum_dim_node : &sum_all_node, sizeof(reduce_ctx)), &opts);
    return ct__ag_result(out);
}

ct_tensor *ct_mean_opt(const ct_tensor *t, ct_reduce_opts opts) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__mean_opt(t, opts);
    return ct__ag_not_implemented("mean");
}

ct_tensor *ct_prod_opt(const ct_tensor *t, ct_reduce_opts opts) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__prod_opt(t, opts);
    return ct__ag_not_implemented("prod");
}

ct_tensor *ct_amax_opt(const ct_tensor *t, ct_reduce_opts opts) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__amax_opt(t, opts);
    return ct__ag_not_implemented("amax");
}

ct_tensor *ct_amin_opt(const ct_tensor *t, ct_reduce_opts opts) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__amin_opt(t, opts);
    return ct__ag_not_implemented("amin");
}

ct_tensor *ct_var_opt(const ct_tensor *t, ct_reduce_opts opts) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__var_opt(t, opts);
    return ct__ag_not_implemented("var");
}

ct_tensor *ct_std_opt(const ct_tensor *t, ct_reduce_opts opts) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__std_opt(t, opts);
    return ct__ag_not_implemented("std");
}

ct_tensor *ct_norm_opt(const ct_tensor *t, ct_reduce_opts opts) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__norm_opt(t, opts);
    return ct__ag_not_implemented("norm");
}

ct_tensor *ct_logsumexp_opt(const ct_tensor *t, ct_reduce_opts opts) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__logsumexp_opt(t, opts);
    return ct__ag_not_implemented("logsumexp");
}

ct_tensor *ct_max(const ct_tensor *t) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__max(t);
    return ct__ag_not_implemented("max");
}

ct_tensor *ct_min(const ct_tensor *t) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__min(t);
    return ct__ag_not_implemented("min");
}

ct_tensor *ct_max_dim(const ct_tensor *t, int dim, bool keepdim, ct_tensor **indices) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__max_dim(t, dim, keepdim, indices);
    return ct__ag_not_implemented("max_dim");
}

ct_tensor *ct_min_dim(const ct_tensor *t, int dim, bool keepdim, ct_tensor **indices) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__min_dim(t, dim, keepdim, indices);
    return ct__ag_not_implemented("min_dim");
}

ct_tensor *ct_softmax(const ct_tensor *t, int dim) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__softmax(t, dim);
    return ct__ag_not_implemented("softmax");
}

ct_tensor *ct_log_softmax(const ct_tensor *t, int dim) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__log_softmax(t, dim);
    return ct__ag_not_implemented("log_softmax");
}

ct_tensor *ct_cumsum(const ct_tensor *t, int dim) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__cumsum(t, dim);
    return ct__ag_not_implemented("cumsum");
}

ct_tensor *ct_cumprod(const ct_tensor *t, int dim) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return ct__cumprod(t, dim);
    return ct__ag_not_implemented("cumprod");
}
