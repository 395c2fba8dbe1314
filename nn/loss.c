/* The loss functions of torch.nn.functional, written with differentiable public ops so autograd
 * derives them (no backward of their own).
 *
 * Each loss computes an elementwise loss and then reduces it (PyTorch's apply_loss_reduction):
 * 'none' keeps it, 'sum' adds it up, 'mean' divides the sum by the element count, except the
 * class-index losses (nll_loss, cross_entropy), whose mean divides by the total weight of the
 * targets that count (weight[t_i] summed over non-ignored i; their number without weight).
 *
 * Layouts of the classification losses: input [C], [N, C] or [N, C, d1, ...] holds one score per
 * class along dim 1 (dim 0 for [C]); a class-index target has the input's shape without that dim.
 * The picked entries input[n, t[n, d...], d...] are a gather along the class dim with the target
 * unsqueezed there: one O(N*d) index pass after the O(N*C*d) log_softmax, the only full-size work.
 *
 * Each public function runs in a scope of its own and keeps only its result, so the temporaries
 * die at once (those the backward needs are held by the graph). */
#include "../tensor/tensor_impl.h"
#include "ctorch/nn_functional.h"

#include <string.h>

static bool check_reduction(const char *op, ct_reduction r, bool batchmean_ok) {
    if ((int)r < CT_REDUCTION_MEAN || (int)r > CT_REDUCTION_BATCHMEAN) {
        ct_error(CT_ERR_ARG, "%s: %d is not a valid value for reduction", op, (int)r);
        return false;
    }
    if (r == CT_REDUCTION_BATCHMEAN && !batchmean_ok) {
        ct_error(CT_ERR_ARG, "%s: batchmean is not a valid value for reduction", op);
        return false;
    }
    return true;
}

/* apply_loss_reduction: the elementwise losses as they are, their sum, or their mean. */
static ct_tensor *reduce(ct_tensor *loss, ct_reduction r) {
    switch (r) {
    case CT_REDUCTION_SUM: return ct_sum(loss);
    case CT_REDUCTION_MEAN: return ct_mean(loss);
    default: return loss;
    }
}

static bool same_shape(const ct_tensor *a, const ct_tensor *b) {
    ct_shape x = ct_shape_of(a), y = ct_shape_of(b);
    return x.ndim == y.ndim && memcmp(x.d, y.d, sizeof(int64_t) * (size_t)x.ndim) == 0;
}

/* "[2, 3]" of a tensor's shape (ct__shape_str's ring of buffers). */
static const char *shape_str(const ct_tensor *t) {
    ct_shape s = ct_shape_of(t);
    return ct__shape_str(s.d, s.ndim);
}

/* ---- regression losses: input and target broadcast together ------------------------------------ */

/* Checks shared by mse, l1, smooth_l1 and huber; the difference input - target, or NULL. PyTorch
 * warns when the shapes differ (broadcasting there is usually a bug) and has no integer kernels. */
static ct_tensor *difference(const char *op, const ct_tensor *input, const ct_tensor *target, ct_reduction r) {
    if (!CT__CHECK(op, input, target) || !check_reduction(op, r, false)) return NULL;
    ct_dtype dt = ct_promote_types(ct_dtype_of(input), ct_dtype_of(target));
    if (!ct_dtype_is_floating(dt))
        return ct_error(CT_ERR_DTYPE, "%s: not implemented for '%s'", op, ct__torch_type_name(dt));
    if (!same_shape(input, target))
        ct_log_warn("%s: Using a target size (torch.Size(%s)) that is different to the input size (torch.Size(%s)). "
                    "This will likely lead to incorrect results due to broadcasting. Please ensure they have the same size.",
                    op, shape_str(target), shape_str(input));
    return ct_sub(input, target);
}

ct_tensor *ct_mse_loss_opt(const ct_tensor *input, const ct_tensor *target, ct_loss_opts opts) {
    ct_tensor *out = NULL;
    CT_SCOPE {
        ct_tensor *d = difference("mse_loss", input, target, opts.reduction);
        if (d) out = ct_keep(reduce(ct_square(d), opts.reduction));
    }
    return out;
}

ct_tensor *ct_l1_loss_opt(const ct_tensor *input, const ct_tensor *target, ct_loss_opts opts) {
    ct_tensor *out = NULL;
    CT_SCOPE {
        ct_tensor *d = difference("l1_loss", input, target, opts.reduction);
        if (d) out = ct_keep(reduce(ct_abs(d), opts.reduction));
    }
    return out;
}

/* z = |d|: quadratic 0.5 z^2 * scale below `knee`, linear slope * (z - 0.5 knee) above; both pieces
 * meet with equal value and slope at the knee. smooth_l1: scale 1/beta, slope 1; huber: scale 1,
 * slope delta. Derivative sign(d) * min(z * scale, slope), as PyTorch's backward. */
static ct_tensor *quadratic_linear(ct_tensor *d, double knee, double scale, double slope) {
    ct_tensor *z = ct_abs(d);
    ct_tensor *quad = ct_mul_scalar(ct_square(z), 0.5 * scale);
    ct_tensor *lin = ct_mul_scalar(ct_sub_scalar(z, 0.5 * knee), slope);
    return ct_where(ct_lt(z, ct_scalar(knee)), quad, lin);
}

ct_tensor *ct_smooth_l1_loss_opt(const ct_tensor *input, const ct_tensor *target, ct_smooth_l1_opts opts) {
    ct_tensor *out = NULL;
    CT_SCOPE {
        ct_tensor *d = difference("smooth_l1_loss", input, target, opts.reduction);
        if (!d) break;
        if (opts.beta < 0) {
            ct_error(CT_ERR_ARG, "smooth_l1_loss: smooth_l1_loss does not support negative values for beta.");
            break;
        }
        ct_tensor *loss = opts.beta == 0 ? ct_abs(d) : quadratic_linear(d, opts.beta, 1 / opts.beta, 1);
        out = ct_keep(reduce(loss, opts.reduction));
    }
    return out;
}

ct_tensor *ct_huber_loss_opt(const ct_tensor *input, const ct_tensor *target, ct_huber_opts opts) {
    ct_tensor *out = NULL;
    CT_SCOPE {
        ct_tensor *d = difference("huber_loss", input, target, opts.reduction);
        if (!d) break;
        if (!(opts.delta > 0)) {
            ct_error(CT_ERR_ARG, "huber_loss: huber_loss does not support non-positive values for delta.");
            break;
        }
        out = ct_keep(reduce(quadratic_linear(d, opts.delta, 1, opts.delta), opts.reduction));
    }
    return out;
}

/* ---- class-index losses: nll_loss and cross_entropy ------------------------------------------- */

/* weight is NULL or [C]; PyTorch's nll_loss2d (inputs of 3 or more dims) words it shorter. */
static bool check_weight(const char *op, const ct_tensor *weight, int64_t n_classes, bool long_message) {
    if (!weight || (ct_ndim(weight) == 1 && ct_numel(weight) == n_classes)) return true;
    if (long_message)
        ct_error(CT_ERR_SHAPE, "%s: weight tensor should be defined either for all %lld classes or no classes but got weight tensor of shape: %s",
                 op, (long long)n_classes, shape_str(weight));
    else
        ct_error(CT_ERR_SHAPE, "%s: weight tensor should be defined either for all or no classes", op);
    return false;
}

/* PyTorch's shape checks of nll_loss_nd (and of nll_loss / nll_loss2d under it), in its order and
 * wording: input [C] with target [], [N, C] with [N], [N, C, d1, ...] with [N, d1, ...]; weight
 * NULL or [C] of input's dtype; integer targets. */
static bool check_class_shapes(const char *op, const ct_tensor *input, const ct_tensor *target, const ct_tensor *weight) {
    int nd = ct_ndim(input), td = ct_ndim(target);
    ct_shape is = ct_shape_of(input), ts = ct_shape_of(target);
    if (nd < 1) return ct_error(CT_ERR_SHAPE, "%s: Expected 1 or more dimensions (got %d)", op, nd), false;
    if (nd != 1 && is.d[0] != (td > 0 ? ts.d[0] : 0))
        return ct_error(CT_ERR_SHAPE, "%s: Expected input batch_size (%lld) to match target batch_size (%lld).", op,
                        (long long)is.d[0], (long long)(td > 0 ? ts.d[0] : 0)),
               false;
    bool spatial_ok = td == nd - 1;
    for (int i = 2; spatial_ok && i < nd; i++) spatial_ok = is.d[i] == ts.d[i - 1];
    if (nd <= 2) {
        if (td > 1) return ct_error(CT_ERR_SHAPE, "%s: 0D or 1D target tensor expected, multi-target not supported", op), false;
        if (!(nd == 1 && td == 0) && !(td == 1 && is.d[0] == ts.d[0]))
            return ct_error(CT_ERR_SHAPE, "%s: size mismatch (got input: %s, target: %s)", op, shape_str(input), shape_str(target)),
                   false;
    } else if (nd == 4) {
        if (td != 3)
            return ct_error(CT_ERR_SHAPE, "%s: only batches of spatial targets supported (3D tensors) but got targets of dimension: %d",
                            op, td),
                   false;
        if (!spatial_ok)
            return ct_error(CT_ERR_SHAPE, "%s: size mismatch (got input: %s , target: %s", op, shape_str(input), shape_str(target)),
                   false;
    } else if (!spatial_ok) {
        int64_t want[CT_MAX_DIMS];
        want[0] = is.d[0];
        for (int i = 2; i < nd; i++) want[i - 1] = is.d[i];
        return ct_error(CT_ERR_SHAPE, "%s: Expected target size %s, got %s", op, ct__shape_str(want, nd - 1), shape_str(target)),
               false;
    }
    if (!check_weight(op, weight, is.d[nd == 1 ? 0 : 1], nd <= 2)) return false;
    if (weight && ct_dtype_of(weight) != ct_dtype_of(input))
        return ct_error(CT_ERR_DTYPE, "%s: expected scalar type %s but found %s", op, ct__torch_type_name(ct_dtype_of(input)),
                        ct__torch_type_name(ct_dtype_of(weight))),
               false;
    ct_dtype tt = ct_dtype_of(target);
    if (tt != CT_I64 && tt != CT_I32)
        return ct_error(CT_ERR_DTYPE, "%s: expected scalar type Long but found %s", op, ct__torch_type_name(tt)), false;
    return true;
}

/* Every target is ignore_index or a class in [0, n_classes); PyTorch names the first offender in
 * row-major order. The targets are read on the CPU (a copy for CUDA tensors, which waits for them).
 * Returns the number of ignored targets, or -1 with the error. */
static int64_t count_ignored(const char *op, const ct_tensor *target, int64_t ignore_index, int64_t n_classes) {
    ct_tensor *t = ct_contiguous(ct_to(target, CT_CPU));
    if (!t) return -1;
    int64_t n = ct_numel(t), ignored = 0;
    const void *data = ct_data_ptr(t);
    bool wide = ct_dtype_of(t) == CT_I64;
    for (int64_t i = 0; i < n; i++) {
        int64_t v = wide ? ((const int64_t *)data)[i] : ((const int32_t *)data)[i];
        if (v == ignore_index)
            ignored++;
        else if (v < 0 || v >= n_classes)
            return ct_error(CT_ERR_INDEX, "%s: Target %lld is out of bounds.", op, (long long)v), -1;
    }
    return ignored;
}

/* The class-index loss before reduction, and what reducing it needs. */
typedef struct picked_loss {
    ct_tensor *loss;    /* -weight[t] * logp[t] per target, 0 where ignored (target's shape) */
    ct_tensor *weight;  /* weight[t] per target, 0 where ignored; NULL when no weight is given */
    ct_tensor *ignored; /* bool mask of ignored targets; NULL when none is */
    int64_t n_valid;    /* targets not ignored */
} picked_loss;

/* nll_loss's elementwise part over log-probabilities logp (shapes already checked). Ignored targets
 * are replaced by class 0 for the gather and their losses and weights then zeroed (masked_fill,
 * so even an infinite logp there adds nothing, as PyTorch skips them). */
static bool pick(const char *op, const ct_tensor *logp, const ct_tensor *target, const ct_tensor *weight, int64_t ignore_index,
                 picked_loss *p) {
    int cdim = ct_ndim(logp) == 1 ? 0 : 1;
    int64_t n_ignored = count_ignored(op, target, ignore_index, ct_size(logp, cdim));
    if (n_ignored < 0) return false;
    ct_tensor *t = ct_to_dtype(target, CT_I64);
    p->n_valid = ct_numel(t) - n_ignored;
    p->ignored = n_ignored ? ct_eq(t, ct_scalar_int(ignore_index)) : NULL;
    if (p->ignored) t = ct_masked_fill(t, p->ignored, 0);
    p->loss = ct_neg(ct_squeeze_dim(ct_gather(logp, cdim, ct_unsqueeze(t, cdim)), cdim));
    p->weight = NULL;
    if (weight) {
        p->weight = ct_index(weight, CT_TENSORS(t));
        if (p->ignored) p->weight = ct_masked_fill(p->weight, p->ignored, 0);
        p->loss = ct_mul(p->loss, p->weight);
    }
    if (p->ignored) p->loss = ct_masked_fill(p->loss, p->ignored, 0);
    return p->loss != NULL;
}

/* Reduces a per-target value (the loss, or label smoothing's term) as nll_loss does: the mean
 * divides by the total weight of the non-ignored targets, their count without weight (0/0 = nan
 * when all are ignored, as PyTorch). */
static ct_tensor *reduce_picked(const picked_loss *p, ct_tensor *value, ct_reduction r) {
    switch (r) {
    case CT_REDUCTION_SUM: return ct_sum(value);
    case CT_REDUCTION_MEAN:
        return p->weight ? ct_div(ct_sum(value), ct_sum(p->weight)) : ct_div_scalar(ct_sum(value), (double)p->n_valid);
    default: return value;
    }
}

ct_tensor *ct_nll_loss_opt(const ct_tensor *input, const ct_tensor *target, ct_nll_loss_opts opts) {
    static const char *op = "nll_loss";
    ct_tensor *out = NULL;
    CT_SCOPE {
        if (!CT__CHECK(op, input, target) || !check_reduction(op, opts.reduction, false) ||
            !check_class_shapes(op, input, target, opts.weight))
            break;
        picked_loss p;
        if (pick(op, input, target, opts.weight, opts.ignore_index, &p)) out = ct_keep(reduce_picked(&p, p.loss, opts.reduction));
    }
    return out;
}

/* weight [C] shaped to broadcast along the class dim of an input with nd dims: [1, C, 1, ...]. */
static ct_tensor *class_weight_view(const ct_tensor *weight, int nd) {
    if (nd == 1) return ct_alias(weight);
    ct_shape s = {.ndim = nd};
    for (int i = 0; i < nd; i++) s.d[i] = 1;
    s.d[1] = ct_numel(weight);
    return ct_reshape(weight, s);
}

/* Class probabilities (target of input's shape): -sum_c weight[c] t[c] logp[c] per row, the mean
 * over the rows (numel / C, whatever the weights; nan for no rows). */
static ct_tensor *cross_entropy_probs(const char *op, const ct_tensor *input, const ct_tensor *target, ct_cross_entropy_opts o) {
    if (!ct_dtype_is_floating(ct_dtype_of(target)))
        return ct_error(CT_ERR_DTYPE, "%s: Expected floating point type for target with class probabilities, got %s", op,
                        ct__torch_type_name(ct_dtype_of(target)));
    if (o.ignore_index >= 0) return ct_error(CT_ERR_ARG, "%s: ignore_index is not supported for floating point target", op);
    if (!(o.label_smoothing >= 0 && o.label_smoothing <= 1))
        return ct_error(CT_ERR_ARG, "%s: label_smoothing must be between 0.0 and 1.0. Got: %g", op, o.label_smoothing);
    int nd = ct_ndim(input), cdim = nd == 1 ? 0 : 1;
    int64_t n_classes = ct_size(input, cdim);
    if (!check_weight(op, o.weight, n_classes, true)) return NULL;
    ct_tensor *logp = ct_log_softmax(input, cdim);
    const ct_tensor *t = target;
    if (o.label_smoothing > 0) t = ct_add_scalar(ct_mul_scalar(target, 1 - o.label_smoothing), o.label_smoothing / (double)n_classes);
    ct_tensor *prod = ct_mul(logp, t);
    if (o.weight) prod = ct_mul(prod, class_weight_view(o.weight, nd));
    switch (o.reduction) {
    case CT_REDUCTION_NONE: return ct_neg(ct_sum(prod, .dim = CT_DIMS(cdim)));
    case CT_REDUCTION_SUM: return ct_neg(ct_sum(prod));
    default: {
        double rows = n_classes ? (double)(ct_numel(input) / n_classes) : 0;
        return ct_div_scalar(ct_neg(ct_sum(prod)), rows);
    }
    }
}

/* Class indices: nll_loss(log_softmax(input)); with label smoothing (PyTorch's
 * cross_entropy_loss_label_smoothing) the target distribution is (1 - ls) one_hot(t) + ls / C, so
 * the loss is (1 - ls) nll + ls / C * sum_c -weight[c] logp[c], the second term zeroed where the
 * target is ignored and reduced with nll's own mean denominator. */
static ct_tensor *cross_entropy_indices(const char *op, const ct_tensor *input, const ct_tensor *target, ct_cross_entropy_opts o) {
    double ls = o.label_smoothing;
    if (ls > 0 && ls > 1) return ct_error(CT_ERR_ARG, "%s: label_smoothing must be between 0.0 and 1.0. Got: %g", op, ls);
    if (!check_class_shapes(op, input, target, o.weight)) return NULL;
    int nd = ct_ndim(input), cdim = nd == 1 ? 0 : 1;
    if (!o.weight) { /* the fused kernel: one pass over the logits each way */
        /* CPU targets are validated (PyTorch's message) and counted in place. Reading GPU targets
         * back would stop the host every training step, so there nothing leaves the device: an
         * out-of-range target gives a NaN loss and gradient (where PyTorch raises an asynchronous
         * device-side assert), and the mean divides by a count made on the device. */
        bool host = ct_device_of(target).type == CT_DEVICE_CPU;
        int64_t n_ignored = host ? count_ignored(op, target, o.ignore_index, ct_size(input, cdim)) : 0;
        if (n_ignored < 0) return NULL;
        ct_tensor *loss = ct__cross_entropy_logits(input, target, o.ignore_index, ls > 0 ? ls : 0);
        switch (o.reduction) {
        case CT_REDUCTION_SUM: return ct_sum(loss);
        case CT_REDUCTION_MEAN:
            if (host) return ct_div_scalar(ct_sum(loss), (double)(ct_numel(target) - n_ignored));
            return ct_div(ct_sum(loss), ct_sum(ct_ne(target, ct_scalar_int(o.ignore_index))));
        default: return loss;
        }
    }
    ct_tensor *logp = ct_log_softmax(input, cdim);
    picked_loss p;
    if (!pick(op, logp, target, o.weight, o.ignore_index, &p)) return NULL;
    ct_tensor *nll = reduce_picked(&p, p.loss, o.reduction);
    if (!(ls > 0)) return nll;
    ct_tensor *wlogp = o.weight ? ct_mul(logp, class_weight_view(o.weight, nd)) : logp;
    ct_tensor *smooth = ct_neg(ct_sum(wlogp, .dim = CT_DIMS(cdim)));
    if (p.ignored) smooth = ct_masked_fill(smooth, p.ignored, 0);
    smooth = reduce_picked(&p, smooth, o.reduction);
    return ct_add(ct_mul_scalar(nll, 1 - ls), ct_mul_scalar(smooth, ls / (double)ct_size(input, cdim)));
}

ct_tensor *ct_cross_entropy_opt(const ct_tensor *input, const ct_tensor *target, ct_cross_entropy_opts opts) {
    static const char *op = "cross_entropy";
    ct_tensor *out = NULL;
    CT_SCOPE {
        if (!CT__CHECK(op, input, target) || !check_reduction(op, opts.reduction, false)) break;
        /* PyTorch takes a target of the input's very shape for class probabilities */
        out = ct_keep(same_shape(input, target) ? cross_entropy_probs(op, input, target, opts)
                                                : cross_entropy_indices(op, input, target, opts));
    }
    return out;
}

/* ---- binary losses ------------------------------------------------------------------------------- */

/* max(log(x), -100) for x in [0, 1], with a finite gradient at x = 0: the log reads 1 there and the
 * result is filled with -100 (PyTorch's clamp; its backward differs only for x < e^-100, where it
 * keeps the unclamped slope and this gives 0). */
static ct_tensor *clamped_log(const ct_tensor *x) {
    ct_tensor *zero = ct_eq(x, ct_scalar(0));
    ct_tensor *logx = ct_clamp(ct_log(ct_where(zero, ct_scalar(1), x)), -100, INFINITY);
    return ct_masked_fill(logx, zero, -100);
}

ct_tensor *ct_binary_cross_entropy_opt(const ct_tensor *input, const ct_tensor *target, ct_bce_opts opts) {
    static const char *op = "binary_cross_entropy";
    ct_tensor *out = NULL;
    CT_SCOPE {
        if (!CT__CHECK(op, input, target) || !check_reduction(op, opts.reduction, false)) break;
        if (!same_shape(input, target)) {
            ct_error(CT_ERR_SHAPE,
                     "%s: Using a target size (torch.Size(%s)) that is different to the input size (torch.Size(%s)) is deprecated. "
                     "Please ensure they have the same size.",
                     op, shape_str(target), shape_str(input));
            break;
        }
        ct_tensor *in_range = ct_all(ct_logical_and(ct_ge(input, ct_scalar(0)), ct_le(input, ct_scalar(1))));
        if (!in_range) break;
        if (ct_item(in_range) == 0) {
            ct_error(CT_ERR_ARG, "%s: all elements of input should be between 0 and 1", op);
            break;
        }
        /* -(t log x + (1 - t) log(1 - x)) */
        ct_tensor *loss = ct_neg(ct_add(ct_mul(target, clamped_log(input)),
                                        ct_mul(ct_rsub_scalar(target, 1), clamped_log(ct_rsub_scalar(input, 1)))));
        if (opts.weight) loss = ct_mul(loss, ct_expand(opts.weight, ct_shape_of(input)));
        out = ct_keep(reduce(loss, opts.reduction));
    }
    return out;
}

ct_tensor *ct_binary_cross_entropy_with_logits_opt(const ct_tensor *input, const ct_tensor *target, ct_bce_logits_opts opts) {
    static const char *op = "binary_cross_entropy_with_logits";
    ct_tensor *out = NULL;
    CT_SCOPE {
        if (!CT__CHECK(op, input, target) || !check_reduction(op, opts.reduction, false)) break;
        if (!same_shape(input, target)) {
            ct_error(CT_ERR_SHAPE, "%s: Target size (torch.Size(%s)) must be the same as input size (torch.Size(%s))", op,
                     shape_str(target), shape_str(input));
            break;
        }
        /* -log(sigmoid(x)) = softplus(-x) = m + log(exp(-m) + exp(-x - m)) with m = max(-x, 0): no
         * exponent overflows, and the value does not depend on m, so neither does the gradient
         * (m's kink at 0 contributes nothing). */
        ct_tensor *m = ct_relu(ct_neg(input));
        ct_tensor *softplus = ct_add(m, ct_log(ct_add(ct_exp(ct_neg(m)), ct_exp(ct_sub(ct_neg(input), m)))));
        /* pos_weight p scales the positive term: -(p t log s + (1 - t) log(1 - s)), s = sigmoid(x),
         * which is (1 - t) x + (1 + (p - 1) t) softplus(-x) */
        if (opts.pos_weight) softplus = ct_mul(ct_add_scalar(ct_mul(ct_sub_scalar(opts.pos_weight, 1), target), 1), softplus);
        ct_tensor *loss = ct_add(ct_mul(ct_rsub_scalar(target, 1), input), softplus);
        if (opts.weight) loss = ct_mul(loss, opts.weight);
        out = ct_keep(reduce(loss, opts.reduction));
    }
    return out;
}

/* ---- kl_div ------------------------------------------------------------------------------------ */

ct_tensor *ct_kl_div_opt(const ct_tensor *input, const ct_tensor *target, ct_kl_div_opts opts) {
    static const char *op = "kl_div";
    ct_tensor *out = NULL;
    CT_SCOPE {
        if (!CT__CHECK(op, input, target) || !check_reduction(op, opts.reduction, true)) break;
        ct_tensor *loss;
        if (opts.log_target) {
            loss = ct_mul(ct_exp(target), ct_sub(target, input)); /* exp(t) (t - x) */
        } else {
            /* xlogy(t, t) - t x; xlogy is 0 where t is 0: the log reads 1 there, so the gradient
             * stays finite (PyTorch's xlogy gives nan for the target's gradient at t = 0) */
            ct_tensor *zero = ct_eq(target, ct_scalar(0));
            ct_tensor *xlogy = ct_mul(target, ct_log(ct_where(zero, ct_scalar(1), target)));
            loss = ct_sub(xlogy, ct_mul(target, input));
        }
        if (opts.reduction == CT_REDUCTION_BATCHMEAN) {
            /* the sum over the batch size: KL divergence per sample (a 0-d input: the sum) */
            loss = ct_sum(loss);
            if (ct_ndim(input) > 0) loss = ct_div_scalar(loss, (double)ct_size(input, 0));
            out = ct_keep(loss);
        } else {
            out = ct_keep(reduce(loss, opts.reduction));
        }
    }
    return out;
}
