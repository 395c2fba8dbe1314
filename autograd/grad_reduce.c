/* Derivatives of reductions, softmax, cumulative ops: each public op records its node over the tensor layer's ct__ form. */
#include "autograd_impl.h"
#include "trace_impl.h"

/* ---- shared by the reductions ------------------------------------------------------------------ */

typedef struct reduce_ctx {
    ct_dims dim; /* as given (may be negative or empty = all) */
    bool keepdim;
    double correction; /* var/std */
    double p;          /* norm */
} reduce_ctx;

/* Ops along one dim (max_dim/min_dim keep a reduce_ctx instead). */
typedef struct dim_ctx {
    int dim;
} dim_ctx;

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

/* How many input elements each output element reduces over. */
static int64_t reduced_count(const reduce_ctx *c, ct_shape in) {
    int64_t count = 1;
    if (c->dim.ndim == 0) {
        for (int d = 0; d < in.ndim; d++) count *= in.d[d];
    } else if (in.ndim > 0) {
        for (int i = 0; i < c->dim.ndim; i++) count *= in.d[(c->dim.d[i] % in.ndim + in.ndim) % in.ndim];
    }
    return count;
}

static void save_reduce_ctx(ct_node *n, const ct_reduce_opts *opts) {
    if (n) *(reduce_ctx *)n->ctx = (reduce_ctx){opts->dim, opts->keepdim, opts->correction, opts->p};
}

/* The gradient of a reduction to extremes: each output's gradient is split evenly among the input
 * positions of its group that hold the extreme (PyTorch's scale_grad_by_count: ties share it). */
static ct_tensor *split_among_ties(const ct_tensor *grad, const ct_tensor *is_extreme, const reduce_ctx *c, int ndim) {
    ct_tensor *ties = ct_sum(is_extreme, .dim = c->dim, .keepdim = true);
    return ct_mul(ct_div(unsqueeze_reduced(grad, c, ndim), ties), is_extreme);
}

/* Records a reduction of t to out whose backward needs both (CT__AG_BEGIN has run). */
static ct_tensor *record_with_input_and_result(const ct_node_ops *ops, ct_tensor *out, const ct_tensor *t,
                                               ct_reduce_opts opts) {
    ct_node *n = ct__record(ops, out, 1, (const ct_tensor *const[]){t}, sizeof(reduce_ctx));
    if (n) ct__save(n, t), ct__save(n, out);
    save_reduce_ctx(n, &opts);
    return ct__ag_result(out);
}

/* ---- sum, mean --------------------------------------------------------------------------------- */

/* d(sum)/dx = 1: the gradient broadcast back over the reduced dims. */
static bool sum_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    ct_shape in = ct__input_shape(n, 0);
    gi[0] = ct_expand(unsqueeze_reduced(grad, n->ctx, in.ndim), in);
    return true;
}
static const ct_node_ops sum_all_node = {"SumBackward0", "sum", sum_backward, NULL, NULL};
static const ct_node_ops sum_dim_node = {"SumBackward1", "sum", sum_backward, NULL, NULL};

ct_tensor *ct_sum_opt(const ct_tensor *t, ct_reduce_opts opts) {
    CT__AG_BEGIN(ct__sum_opt(t, opts), t);
    save_reduce_ctx(CT__AG_RECORD(opts.dim.ndim ? &sum_dim_node : &sum_all_node, sizeof(reduce_ctx)), &opts);
    CT__TRACE_ATTRS(out, opts);
    return ct__ag_result(out);
}

/* mean = sum / N: d/dx = grad / N broadcast back (N elements per output). */
static bool mean_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    ct_shape in = ct__input_shape(n, 0);
    ct_tensor *spread = ct_expand(unsqueeze_reduced(grad, n->ctx, in.ndim), in);
    gi[0] = ct_div_scalar(spread, (double)reduced_count(n->ctx, in));
    return true;
}
static const ct_node_ops mean_all_node = {"MeanBackward0", "mean", mean_backward, NULL, NULL};
static const ct_node_ops mean_dim_node = {"MeanBackward1", "mean", mean_backward, NULL, NULL};

ct_tensor *ct_mean_opt(const ct_tensor *t, ct_reduce_opts opts) {
    CT__AG_BEGIN(ct__mean_opt(t, opts), t);
    save_reduce_ctx(CT__AG_RECORD(opts.dim.ndim ? &mean_dim_node : &mean_all_node, sizeof(reduce_ctx)), &opts);
    CT__TRACE_ATTRS(out, opts);
    return ct__ag_result(out);
}

/* ---- prod ---------------------------------------------------------------------------------------- */

/* d(prod_i x_i)/dx_k = prod_{i != k} x_i, per reduced group:
 *   no zero in the group:   result / x_k
 *   exactly one zero, at z: the product of the other (nonzero) elements at k = z, 0 elsewhere
 *   two or more zeros:      0 everywhere (every product of the others still holds a zero).
 * All three come from masks, so no group needs dividing by zero (PyTorch's prod_backward). */
static bool prod_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    const reduce_ctx *c = n->ctx;
    const ct_tensor *x = ct__saved(n, 0);
    ct_tensor *result = unsqueeze_reduced(ct__saved(n, 1), c, ct_ndim(x));
    ct_tensor *is_zero = ct_eq(x, ct_zeros_like(x));
    ct_tensor *zeros_in_group = ct_sum(is_zero, .dim = c->dim, .keepdim = true);
    ct_tensor *nonzero_product =
        ct_prod(ct_masked_fill(x, is_zero, 1), .dim = c->dim, .keepdim = true, .dtype = ct_dtype_of(result));
    ct_tensor *at_single_zero = ct_logical_and(is_zero, ct_eq(zeros_in_group, ct_ones_like(zeros_in_group)));
    ct_tensor *others_with_zero = ct_where(at_single_zero, nonzero_product, ct_zeros_like(result));
    ct_tensor *others = ct_where(ct_eq(zeros_in_group, ct_zeros_like(zeros_in_group)), ct_div(result, x), others_with_zero);
    gi[0] = ct_mul(unsqueeze_reduced(grad, c, ct_ndim(x)), others);
    return true;
}
static const ct_node_ops prod_all_node = {"ProdBackward0", "prod", prod_backward, NULL, NULL};
static const ct_node_ops prod_dim_node = {"ProdBackward1", "prod", prod_backward, NULL, NULL};

ct_tensor *ct_prod_opt(const ct_tensor *t, ct_reduce_opts opts) {
    CT__AG_BEGIN(ct__prod_opt(t, opts), t);
    return record_with_input_and_result(opts.dim.ndim ? &prod_dim_node : &prod_all_node, out, t, opts);
}

/* ---- amax, amin, max, min (over everything) --------------------------------------------------------- */

/* Ties share the gradient evenly. amax/amin mark the positions equal to the result; max/min over
 * everything also mark NaNs when the result is NaN (PyTorch's evenly_distribute_backward). */
static bool extreme_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi, bool nan_is_extreme) {
    const reduce_ctx *c = n->ctx;
    const ct_tensor *x = ct__saved(n, 0);
    ct_tensor *result = unsqueeze_reduced(ct__saved(n, 1), c, ct_ndim(x));
    ct_tensor *is_extreme = ct_eq(x, result);
    if (nan_is_extreme) is_extreme = ct_logical_or(is_extreme, ct_logical_and(ct_isnan(x), ct_isnan(result)));
    gi[0] = split_among_ties(grad, is_extreme, c, ct_ndim(x));
    return true;
}
static bool amax_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) { return extreme_backward(n, grad, gi, false); }
static bool max_all_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) { return extreme_backward(n, grad, gi, true); }
static const ct_node_ops amax_node = {"AmaxBackward0", "amax", amax_backward, NULL, NULL};
static const ct_node_ops amin_node = {"AminBackward0", "amin", amax_backward, NULL, NULL};
static const ct_node_ops max_all_node = {"MaxBackward1", "max", max_all_backward, NULL, NULL};
static const ct_node_ops min_all_node = {"MinBackward1", "min", max_all_backward, NULL, NULL};


ct_tensor *ct_amax_opt(const ct_tensor *t, ct_reduce_opts opts) {
    CT__AG_BEGIN(ct__amax_opt(t, opts), t);
    ct_tensor *r = record_with_input_and_result(&amax_node, out, t, opts);
    CT__TRACE_ATTRS(r, opts);
    return r;
}

ct_tensor *ct_amin_opt(const ct_tensor *t, ct_reduce_opts opts) {
    CT__AG_BEGIN(ct__amin_opt(t, opts), t);
    return record_with_input_and_result(&amin_node, out, t, opts);
}

ct_tensor *ct_max(const ct_tensor *t) {
    CT__AG_BEGIN(ct__max(t), t);
    return record_with_input_and_result(&max_all_node, out, t, CT__ROPTS());
}

ct_tensor *ct_min(const ct_tensor *t) {
    CT__AG_BEGIN(ct__min(t), t);
    return record_with_input_and_result(&min_all_node, out, t, CT__ROPTS());
}

/* ---- max_dim, min_dim ----------------------------------------------------------------------------- */

/* The gradient goes to the position the returned index names (one per output, no tie splitting:
 * PyTorch's value_selecting_reduction_backward). */
static bool extreme_dim_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    const reduce_ctx *c = n->ctx;
    ct_shape in = ct__input_shape(n, 0);
    if (in.ndim == 0) {
        gi[0] = ct_alias(grad);
        return true;
    }
    ct_tensor *index = unsqueeze_reduced(ct__saved(n, 0), c, in.ndim);
    ct_tensor *zeros = ct_zeros(in, .dtype = ct_dtype_of(grad), .device = ct_device_of(grad));
    gi[0] = ct_scatter(zeros, (int)c->dim.d[0], index, unsqueeze_reduced(grad, c, in.ndim));
    return true;
}
static const ct_node_ops max_dim_node = {"MaxBackward0", "max", extreme_dim_backward, NULL, NULL};
static const ct_node_ops min_dim_node = {"MinBackward0", "min", extreme_dim_backward, NULL, NULL};

typedef ct_tensor *(*extreme_dim_fn)(const ct_tensor *t, int dim, bool keepdim, ct_tensor **indices);

/* The indices are needed for backward, so they are computed even when the caller passes NULL. */
static ct_tensor *record_extreme_dim(const ct_node_ops *ops, extreme_dim_fn plain, const ct_tensor *t, int dim,
                                     bool keepdim, ct_tensor **indices) {
    if (!ct__ag_needed(1, (const ct_tensor *const[]){t})) return plain(t, dim, keepdim, indices);
    ct_tensor *index = NULL;
    CT__AG_BEGIN(plain(t, dim, keepdim, &index), t);
    if (indices) *indices = index;
    ct_node *n = CT__AG_RECORD(ops, sizeof(reduce_ctx));
    if (n) ct__save(n, index);
    int ndim = ct_ndim(t);
    ct_reduce_opts along = CT__ROPTS(.dim = CT_DIMS(ndim > 0 && dim < 0 ? dim + ndim : dim), .keepdim = keepdim);
    save_reduce_ctx(n, &along);
    return ct__ag_result(out);
}

ct_tensor *ct_max_dim(const ct_tensor *t, int dim, bool keepdim, ct_tensor **indices) {
    return record_extreme_dim(&max_dim_node, ct__max_dim, t, dim, keepdim, indices);
}

ct_tensor *ct_min_dim(const ct_tensor *t, int dim, bool keepdim, ct_tensor **indices) {
    return record_extreme_dim(&min_dim_node, ct__min_dim, t, dim, keepdim, indices);
}

/* ---- var, std ---------------------------------------------------------------------------------- */

/* var = sum((x - mean)^2) / (N - correction): d/dx = 2 (x - mean) / (N - correction) * grad.
 * Over everything with N <= correction the factor is infinite: PyTorch gives NaN where x equals
 * the mean (inf * 0) and inf elsewhere. grad_var is the gradient reaching var (std's is rescaled). */
static ct_tensor *var_input_grad(ct_node *n, const ct_tensor *grad_var) {
    const reduce_ctx *c = n->ctx;
    const ct_tensor *x = ct__saved(n, 0);
    ct_tensor *g = unsqueeze_reduced(grad_var, c, ct_ndim(x));
    ct_tensor *centered = ct_sub(x, ct_mean(x, .dim = c->dim, .keepdim = true));
    double dof = (double)reduced_count(c, ct_shape_of(x)) - c->correction;
    if ((c->dim.ndim == 0 || ct_ndim(x) == 0) && dof <= 0)
        return ct_mul(g, ct_masked_fill(ct_full_like(x, INFINITY), ct_eq(centered, ct_zeros_like(centered)), NAN));
    return ct_mul_scalar(ct_mul(g, centered), 2.0 / dof);
}

static bool var_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    gi[0] = var_input_grad(n, grad);
    return true;
}
static const ct_node_ops var_node = {"VarBackward0", "var", var_backward, NULL, NULL};

/* std = sqrt(var): the gradient reaching var is grad / (2 std), taken as 0 where std is 0. */
static bool std_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    const ct_tensor *result = ct__saved(n, 1);
    ct_tensor *grad_var = ct_div(grad, ct_mul_scalar(result, 2));
    gi[0] = var_input_grad(n, ct_masked_fill(grad_var, ct_eq(result, ct_zeros_like(result)), 0));
    return true;
}
static const ct_node_ops std_node = {"StdBackward0", "std", std_backward, NULL, NULL};

ct_tensor *ct_var_opt(const ct_tensor *t, ct_reduce_opts opts) {
    CT__AG_BEGIN(ct__var_opt(t, opts), t);
    ct_node *n = CT__AG_RECORD(&var_node, sizeof(reduce_ctx));
    if (n) ct__save(n, t);
    save_reduce_ctx(n, &opts);
    return ct__ag_result(out);
}

ct_tensor *ct_std_opt(const ct_tensor *t, ct_reduce_opts opts) {
    CT__AG_BEGIN(ct__std_opt(t, opts), t);
    return record_with_input_and_result(&std_node, out, t, opts);
}

/* ---- norm ---------------------------------------------------------------------------------------- */

/* ||x||_p = (sum |x|^p)^(1/p), r its value (PyTorch's norm_backward):
 *   p = 0:      0 (a count of nonzeros)
 *   p = 1:      sign(x) * grad
 *   p = +-inf:  sign(x) * grad split evenly among the |x| equal to r (or NaN)
 *   otherwise:  sign(x) |x|^(p-1) * grad / r^(p-1), with 0 where r = 0 (for p < 1, 0 where x = 0) */
static bool norm_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    const reduce_ctx *c = n->ctx;
    const ct_tensor *x = ct__saved(n, 0);
    int ndim = ct_ndim(x);
    double p = c->p;
    ct_tensor *r = unsqueeze_reduced(ct__saved(n, 1), c, ndim);
    ct_tensor *g = unsqueeze_reduced(grad, c, ndim);
    if (p == 0) {
        gi[0] = ct_zeros_like(x, .dtype = ct_dtype_of(grad));
    } else if (p == 1) {
        gi[0] = ct_mul(ct_sign(x), g);
    } else if (isinf(p)) {
        ct_tensor *abs_x = ct_abs(x);
        ct_tensor *is_extreme = ct_logical_or(ct_eq(abs_x, r), ct_isnan(abs_x));
        gi[0] = ct_mul(ct_sign(x), split_among_ties(grad, is_extreme, c, ndim));
    } else if (p < 1) {
        ct_tensor *pow_abs = ct_masked_fill(ct_pow_scalar(ct_abs(x), p - 1), ct_eq(x, ct_zeros_like(x)), 0);
        gi[0] = ct_mul(ct_mul(ct_sign(x), pow_abs), ct_mul(g, ct_pow_scalar(r, 1 - p)));
    } else {
        ct_tensor *scale = ct_div(g, p == 2 ? r : ct_pow_scalar(r, p - 1));
        scale = ct_masked_fill(scale, ct_eq(r, ct_zeros_like(r)), 0);
        /* sign(x) |x|^(p-1), written as x |x|^(p-2) from p = 2 on (and x itself at p = 2) */
        ct_tensor *scaled_x = p < 2   ? ct_mul(ct_sign(x), ct_pow_scalar(ct_abs(x), p - 1))
                              : p == 2 ? ct_alias(x)
                                       : ct_mul(x, ct_pow_scalar(ct_abs(x), p - 2));
        gi[0] = ct_mul(scaled_x, scale);
    }
    return true;
}
static const ct_node_ops norm_node = {"LinalgVectorNormBackward0", "norm", norm_backward, NULL, NULL};

ct_tensor *ct_norm_opt(const ct_tensor *t, ct_reduce_opts opts) {
    CT__AG_BEGIN(ct__norm_opt(t, opts), t);
    return record_with_input_and_result(&norm_node, out, t, opts);
}

/* ---- logsumexp ----------------------------------------------------------------------------------- */

/* r = log(sum exp(x)): d/dx = grad * exp(x - r), the softmax of x over the reduced dims. */
static bool logsumexp_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    const reduce_ctx *c = n->ctx;
    const ct_tensor *x = ct__saved(n, 0);
    ct_tensor *r = unsqueeze_reduced(ct__saved(n, 1), c, ct_ndim(x));
    gi[0] = ct_mul(unsqueeze_reduced(grad, c, ct_ndim(x)), ct_exp(ct_sub(x, r)));
    return true;
}
static const ct_node_ops logsumexp_node = {"LogsumexpBackward0", "logsumexp", logsumexp_backward, NULL, NULL};

ct_tensor *ct_logsumexp_opt(const ct_tensor *t, ct_reduce_opts opts) {
    CT__AG_BEGIN(ct__logsumexp_opt(t, opts), t);
    return record_with_input_and_result(&logsumexp_node, out, t, opts);
}

/* ---- softmax, log_softmax ------------------------------------------------------------------------- */

/* Records an op of t along one dim (CT__AG_BEGIN has run), saving t and out when wanted (in that
 * order: the saved indices count only what is saved). */
static ct_tensor *record_along_dim(const ct_node_ops *ops, ct_tensor *out, const ct_tensor *t, int dim, bool save_input,
                                   bool save_output) {
    ct_node *n = ct__record(ops, out, 1, (const ct_tensor *const[]){t}, sizeof(dim_ctx));
    if (n) {
        if (save_input) ct__save(n, t);
        if (save_output) ct__save(n, out);
        ((dim_ctx *)n->ctx)->dim = dim;
    }
    return ct__ag_result(out);
}

/* y = softmax(x): dy_i/dx_j = y_i (delta_ij - y_j), so dx = y * (grad - sum(grad * y, dim)); one
 * fused row op over grad and the saved y (tensor/softmax_impl.h). */
static bool softmax_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    gi[0] = ct__softmax_backward(grad, ct__saved(n, 0), ((dim_ctx *)n->ctx)->dim, false);
    return gi[0] != NULL;
}
static const ct_node_ops softmax_node = {"SoftmaxBackward0", "softmax", softmax_backward, NULL, NULL};

/* y = log_softmax(x) = x - logsumexp(x): dx = grad - exp(y) * sum(grad, dim), fused likewise. */
static bool log_softmax_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    gi[0] = ct__softmax_backward(grad, ct__saved(n, 0), ((dim_ctx *)n->ctx)->dim, true);
    return gi[0] != NULL;
}
static const ct_node_ops log_softmax_node = {"LogSoftmaxBackward0", "log_softmax", log_softmax_backward, NULL, NULL};

ct_tensor *ct_softmax(const ct_tensor *t, int dim) {
    CT__AG_BEGIN(ct__softmax(t, dim), t);
    ct_tensor *r = record_along_dim(&softmax_node, out, t, dim, false, true);
    CT__TRACE_ATTRS(r, (ct_trace_dim){dim < 0 ? dim + t->ndim : dim});
    return r;
}

ct_tensor *ct_log_softmax(const ct_tensor *t, int dim) {
    CT__AG_BEGIN(ct__log_softmax(t, dim), t);
    ct_tensor *r = record_along_dim(&log_softmax_node, out, t, dim, false, true);
    CT__TRACE_ATTRS(r, (ct_trace_dim){dim < 0 ? dim + t->ndim : dim});
    return r;
}

/* ---- cumsum, cumprod ------------------------------------------------------------------------------ */

/* sum_{j >= k} v_j along dim: flip, cumsum, flip. */
static ct_tensor *reverse_cumsum(const ct_tensor *v, int dim) {
    return ct_flip(ct_cumsum(ct_flip(v, CT_DIMS(dim)), dim), CT_DIMS(dim));
}

/* y_j = sum_{i <= j} x_i: dx_k = sum_{j >= k} grad_j, a reverse cumulative sum. */
static bool cumsum_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    gi[0] = ct_ndim(grad) == 0 ? ct_alias(grad) : reverse_cumsum(grad, ((dim_ctx *)n->ctx)->dim);
    return true;
}
static const ct_node_ops cumsum_node = {"CumsumBackward0", "cumsum", cumsum_backward, NULL, NULL};

ct_tensor *ct_cumsum(const ct_tensor *t, int dim) {
    CT__AG_BEGIN(ct__cumsum(t, dim), t);
    return record_along_dim(&cumsum_node, out, t, dim, false, false);
}

/* y_j = prod_{i <= j} x_i along dim, so dx_k = sum_{j >= k} grad_j * dy_j/dx_k with
 * dy_j/dx_k = prod_{i <= j, i != k} x_i. Let z be the first zero of the row (z = n if none):
 *   k < z:  y_j = 0 for j >= z, and x_k != 0, so dy_j/dx_k = y_j / x_k and
 *           dx_k = revcumsum(grad * y)_k / x_k (the terms from z on are zero already).
 *   k = z:  dy_j/dx_z = prod_{i < z} x_i * prod_{z < i <= j} x_i, which is zero from the second
 *           zero z2 on: dx_z = prod_{i < z} x_i * sum_{z <= j < z2} grad_j prod_{z < i <= j} x_i.
 *   k > z:  every dy_j/dx_k with j >= k holds the factor x_z = 0: dx_k = 0.
 * Rows without zeros take the first case everywhere (PyTorch's O(n) cumprod_backward). */
static bool cumprod_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    int dim = ((dim_ctx *)n->ctx)->dim;
    const ct_tensor *x = ct__saved(n, 0), *y = ct__saved(n, 1);
    if (ct_ndim(x) == 0) {
        gi[0] = ct_alias(grad);
        return true;
    }
    ct_dims along = CT_DIMS(dim);
    ct_tensor *is_zero = ct_eq(x, ct_zeros_like(x));
    ct_tensor *zeros_so_far = ct_cumsum(is_zero, dim); /* zeros at or before each position */
    ct_tensor *before_first_zero = ct_eq(zeros_so_far, ct_zeros_like(zeros_so_far));
    ct_tensor *up_to_second_zero = ct_eq(zeros_so_far, ct_ones_like(zeros_so_far)); /* [z, z2) */
    ct_tensor *at_first_zero = ct_logical_and(is_zero, up_to_second_zero);
    /* k < z */
    ct_tensor *before = ct_div(reverse_cumsum(ct_mul(grad, y), dim), x);
    /* k = z: the product before z times sum_{z <= j < z2} grad_j prod_{z < i <= j} x_i */
    ct_tensor *product_before = ct_prod(ct_masked_fill(x, ct_logical_not(before_first_zero), 1), .dim = along,
                                        .keepdim = true);
    /* x on (z, z2), 1 elsewhere */
    ct_tensor *x_after_zero = ct_masked_fill(x, ct_logical_not(ct_logical_and(up_to_second_zero, ct_logical_not(at_first_zero))), 1);
    ct_tensor *terms = ct_masked_fill(ct_mul(grad, ct_cumprod(x_after_zero, dim)), ct_logical_not(up_to_second_zero), 0);
    ct_tensor *at_zero = ct_mul(product_before, ct_sum(terms, .dim = along, .keepdim = true));
    gi[0] = ct_where(before_first_zero, before, ct_where(at_first_zero, at_zero, ct_zeros_like(x, .dtype = ct_dtype_of(grad))));
    return true;
}
static const ct_node_ops cumprod_node = {"CumprodBackward0", "cumprod", cumprod_backward, NULL, NULL};

ct_tensor *ct_cumprod(const ct_tensor *t, int dim) {
    CT__AG_BEGIN(ct__cumprod(t, dim), t);
    return record_along_dim(&cumprod_node, out, t, dim, true, true);
}
