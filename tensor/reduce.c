/* Reductions (sum, mean, prod, amax/amin, var/std, norm, logsumexp, all/any, max/min, argmax/argmin):
 * validation, output dtypes and shapes as PyTorch, and the plan handed to the device kernel. */
#include "iter_impl.h"
#include "reduce_impl.h"

#include <stdlib.h>
#include <string.h>

static const ct__reduce_kernels *const kernel_tables[CT_DEVICE_CUDA + 1] = {
    [CT_DEVICE_CPU] = &ct__reduce_cpu_kernels,
#ifdef CT_HAVE_CUDA
    [CT_DEVICE_CUDA] = &ct__reduce_cuda_kernels,
#endif
};

const ct__reduce_kernels *ct__reduce_kernels_for(const char *op, const ct_tensor *t) {
    ct_device dev = ct__device(t);
    const ct__reduce_kernels *k = kernel_tables[dev.type];
    if (!k) ct__no_kernel(op, dev);
    return k;
}

/* Fills mask[d] for the reduced dims (all of them when dims is empty); false on a bad or repeated dim. */
static bool parse_dims(const char *op, const ct_tensor *t, const ct_dims *dims, bool *mask) {
    memset(mask, 0, CT_MAX_DIMS * sizeof *mask);
    if (dims->ndim < 0 || dims->ndim > CT_MAX_DIMS) {
        ct_error(CT_ERR_ARG, "%s: invalid number of dims %d", op, dims->ndim);
        return false;
    }
    if (dims->ndim == 0) {
        for (int d = 0; d < t->ndim; d++) mask[d] = true;
        return true;
    }
    bool seen[CT_MAX_DIMS] = {false};
    for (int i = 0; i < dims->ndim; i++) {
        if (dims->d[i] < INT32_MIN || dims->d[i] > INT32_MAX) {
            ct_error(CT_ERR_INDEX, "%s: Dimension out of range (got %lld)", op, (long long)dims->d[i]);
            return false;
        }
        int d = ct__wrap_dim(op, (int)dims->d[i], t->ndim);
        if (d < 0) return false;
        if (seen[d]) {
            ct_error(CT_ERR_ARG, "%s: dim %d appears multiple times in the list of dims", op, d);
            return false;
        }
        seen[d] = true;
        if (t->ndim > 0) mask[d] = true;
    }
    return true;
}

/* Fills the plan's outer and inner dims. out/idx have the reduced shape (keepdim or not, contiguous).
 * keep_order keeps the inner dims in logical order, so that a flat inner position is the row-major
 * index over the reduced dims (argmax); otherwise they are sorted by stride for locality. */
static void build_plan(ct__red_plan *plan, const ct_tensor *t, const bool *mask, const ct_tensor *out,
                       const ct_tensor *idx, bool keepdim, bool keep_order) {
    int64_t isz = (int64_t)ct_dtype_size(t->dtype);
    int64_t osz = out ? (int64_t)ct_dtype_size(out->dtype) : 0;
    plan->in = ct__data(t);
    plan->out = out ? ct__data(out) : NULL;
    plan->idx_out = idx ? ct__data(idx) : NULL;
    plan->in_dtype = t->dtype;
    plan->device = ct__device(t);
    plan->nout = 1;
    plan->ninner = 1;
    plan->outer_ndim = 0;
    plan->inner_ndim = 0;
    plan->inner_out = 0;
    /* Outer dims through the strided iterator: reduced dims enter it as size 1, so it drops them,
     * orders the rest by the output's strides and merges dims contiguous together in all three. */
    int64_t outer[CT_MAX_DIMS], s_out[CT_MAX_DIMS], s_idx[CT_MAX_DIMS], s_in[CT_MAX_DIMS];
    for (int d = 0, j = 0; d < t->ndim; d++) {
        int od = !mask[d] || keepdim ? j++ : -1;
        if (mask[d]) plan->ninner *= t->shape[d];
        else plan->nout *= t->shape[d];
        outer[d] = mask[d] ? 1 : t->shape[d];
        s_in[d] = t->stride[d];
        s_out[d] = out && od >= 0 ? out->stride[od] : 0;
        s_idx[d] = idx && od >= 0 ? idx->stride[od] : 0;
    }
    ct_iter it;
    ct_iter_init_raw(&it, 3, (char *const[]){plan->out, plan->idx_out, plan->in},
                     (const int64_t *const[]){s_out, s_idx, s_in}, (const size_t[]){(size_t)osz, 8, (size_t)isz}, outer,
                     t->ndim);
    plan->outer_ndim = it.ndim;
    for (int d = 0; d < it.ndim; d++) {
        plan->outer_shape[d] = it.shape[d];
        plan->outer_out[d] = it.strides[0][d];
        plan->outer_idx[d] = it.strides[1][d];
        plan->outer_in[d] = it.strides[2][d];
    }
    if (plan->ninner == 0) return;
    /* Inner dims, innermost first, size-1 dims dropped. */
    int64_t shape[CT_MAX_DIMS], stride[CT_MAX_DIMS];
    int n = 0;
    for (int d = t->ndim - 1; d >= 0; d--) {
        if (!mask[d] || t->shape[d] == 1) continue;
        shape[n] = t->shape[d];
        stride[n] = t->stride[d] * isz;
        n++;
    }
    if (!keep_order) { /* stable insertion sort by |stride| */
        for (int i = 1; i < n; i++) {
            for (int j = i; j > 0 && llabs(stride[j - 1]) > llabs(stride[j]); j--) {
                int64_t a = shape[j], b = stride[j];
                shape[j] = shape[j - 1];
                stride[j] = stride[j - 1];
                shape[j - 1] = a;
                stride[j - 1] = b;
            }
        }
    }
    for (int i = 0; i < n; i++) {
        int k = plan->inner_ndim;
        if (k > 0 && stride[i] == plan->inner_shape[k - 1] * plan->inner_in[k - 1]) {
            plan->inner_shape[k - 1] *= shape[i];
            continue;
        }
        plan->inner_shape[k] = shape[i];
        plan->inner_in[k] = stride[i];
        plan->inner_ndim++;
    }
}

/* Shape of the result: reduced dims removed, or kept as 1. */
static ct_shape reduced_shape(const ct_tensor *t, const bool *mask, bool keepdim) {
    ct_shape s = {.ndim = 0};
    for (int d = 0; d < t->ndim; d++) {
        if (!mask[d]) s.d[s.ndim++] = t->shape[d];
        else if (keepdim) s.d[s.ndim++] = 1;
    }
    return s;
}

typedef struct red_request {
    const char *op;
    int kind;
    ct_dtype out_dtype;
    bool int_acc;
    bool keep_order;
    bool nonempty;      /* max/min/argmax: reduced dims must not be empty */
    bool flat_index;    /* argmax without dim: the message differs */
    double p, correction;
    bool take_sqrt;
} red_request;

/* The common path: dims, empty checks, allocation, plan, kernel. idx (may be NULL) gets int64 indices. */
static ct_tensor *reduce_run(const ct_tensor *t, const ct_reduce_opts *opts, const red_request *rq, bool want_values,
                             ct_tensor **idx) {
    bool mask[CT_MAX_DIMS];
    if (!parse_dims(rq->op, t, &opts->dim, mask)) return NULL;
    if (rq->nonempty) {
        int64_t numel = ct__numel(t->shape, t->ndim);
        if (opts->dim.ndim == 0 && numel == 0) {
            if (rq->flat_index)
                return ct_error(CT_ERR_INDEX, "%s(): Expected reduction dim to be specified for input.numel() == 0.",
                                rq->op);
            return ct_error(CT_ERR_ARG,
                            "%s(): Expected reduction dim to be specified for input.numel() == 0. Specify the "
                            "reduction dim with the 'dim' argument.",
                            rq->op);
        }
        for (int d = 0; d < t->ndim; d++)
            if (mask[d] && t->shape[d] == 0)
                return ct_error(CT_ERR_INDEX, "%s(): Expected reduction dim %d to have non-zero size.", rq->op, d);
    }
    const ct__reduce_kernels *k = ct__reduce_kernels_for(rq->op, t);
    if (!k) return NULL;
    ct_shape shape = reduced_shape(t, mask, opts->keepdim);
    ct_tensor *out = want_values ? ct__tensor_new(shape.d, shape.ndim, rq->out_dtype, ct__device(t)) : NULL;
    ct_tensor *ix = idx ? ct__tensor_new(shape.d, shape.ndim, CT_I64, ct__device(t)) : NULL;
    if ((want_values && !out) || (idx && !ix)) return NULL;
    ct__red_plan plan = {.kind = rq->kind,
                         .p = rq->p,
                         .correction = rq->correction,
                         .take_sqrt = rq->take_sqrt,
                         .int_acc = rq->int_acc,
                         .out_dtype = rq->out_dtype};
    build_plan(&plan, t, mask, out, ix, opts->keepdim, rq->keep_order);
    if (!k->reduce(&plan)) return NULL; /* out and ix are the scope's */
    if (idx) *idx = ix;
    return want_values ? out : ix;
}

static bool check_dtype_opt(const char *op, ct_dtype dtype) {
    if (dtype == CT_DTYPE_DEFAULT || ct__dtype_valid(dtype)) return true;
    ct_error(CT_ERR_DTYPE, "%s: invalid dtype %d", op, (int)dtype);
    return false;
}

/* sum/prod: integers and bool accumulate to int64 unless a dtype is given. */
static ct_tensor *sum_prod(const char *op, int kind, const ct_tensor *t, ct_reduce_opts opts) {
    if (!CT__CHECK(op, t) || !check_dtype_opt(op, opts.dtype)) return NULL;
    ct_dtype out = opts.dtype != CT_DTYPE_DEFAULT ? opts.dtype : ct_dtype_is_floating(t->dtype) ? t->dtype : CT_I64;
    red_request rq = {.op = op, .kind = kind, .out_dtype = out, .int_acc = !ct_dtype_is_floating(out)};
    return reduce_run(t, &opts, &rq, true, NULL);
}

ct_tensor *ct__sum_opt(const ct_tensor *t, ct_reduce_opts opts) { return sum_prod("sum", CT__RED_SUM, t, opts); }
ct_tensor *ct__prod_opt(const ct_tensor *t, ct_reduce_opts opts) { return sum_prod("prod", CT__RED_PROD, t, opts); }

ct_tensor *ct__mean_opt(const ct_tensor *t, ct_reduce_opts opts) {
    if (!CT__CHECK("mean", t) || !check_dtype_opt("mean", opts.dtype)) return NULL;
    ct_dtype out = t->dtype;
    if (opts.dtype != CT_DTYPE_DEFAULT) {
        if (!ct_dtype_is_floating(opts.dtype))
            return ct_error(CT_ERR_DTYPE,
                            "mean(): could not infer output dtype. Optional dtype must be either a floating point or "
                            "complex dtype. Got: %s",
                            ct__torch_type_name(opts.dtype));
        out = opts.dtype;
    } else if (!ct_dtype_is_floating(t->dtype)) {
        return ct_error(CT_ERR_DTYPE,
                        "mean(): could not infer output dtype. Input dtype must be either a floating point or complex "
                        "dtype. Got: %s",
                        ct__torch_type_name(t->dtype));
    }
    red_request rq = {.op = "mean", .kind = CT__RED_MEAN, .out_dtype = out};
    return reduce_run(t, &opts, &rq, true, NULL);
}

/* amax/amin/max/min: the input's dtype, NaN propagates, empty reduced dims are errors. */
static ct_tensor *extreme(const char *op, int kind, const ct_tensor *t, ct_reduce_opts opts) {
    if (!CT__CHECK(op, t)) return NULL;
    red_request rq = {.op = op,
                      .kind = kind,
                      .out_dtype = t->dtype,
                      .int_acc = !ct_dtype_is_floating(t->dtype),
                      .nonempty = true};
    return reduce_run(t, &opts, &rq, true, NULL);
}

ct_tensor *ct__amax_opt(const ct_tensor *t, ct_reduce_opts opts) { return extreme("amax", CT__RED_MAX, t, opts); }
ct_tensor *ct__amin_opt(const ct_tensor *t, ct_reduce_opts opts) { return extreme("amin", CT__RED_MIN, t, opts); }
ct_tensor *ct__max(const ct_tensor *t) { return extreme("max", CT__RED_MAX, t, CT__ROPTS()); }
ct_tensor *ct__min(const ct_tensor *t) { return extreme("min", CT__RED_MIN, t, CT__ROPTS()); }

static ct_tensor *extreme_dim(const char *op, int kind, const ct_tensor *t, int dim, bool keepdim,
                              ct_tensor **indices) {
    if (!CT__CHECK(op, t)) return NULL;
    red_request rq = {.op = op,
                      .kind = kind,
                      .out_dtype = t->dtype,
                      .int_acc = !ct_dtype_is_floating(t->dtype),
                      .keep_order = true,
                      .nonempty = true};
    ct_reduce_opts opts = CT__ROPTS(.dim = CT_DIMS(dim), .keepdim = keepdim);
    ct_tensor *idx = NULL;
    ct_tensor *values = reduce_run(t, &opts, &rq, true, indices ? &idx : NULL);
    if (values && indices) *indices = idx;
    return values;
}

ct_tensor *ct__max_dim(const ct_tensor *t, int dim, bool keepdim, ct_tensor **indices) {
    return extreme_dim("max", CT__RED_MAX, t, dim, keepdim, indices);
}
ct_tensor *ct__min_dim(const ct_tensor *t, int dim, bool keepdim, ct_tensor **indices) {
    return extreme_dim("min", CT__RED_MIN, t, dim, keepdim, indices);
}

/* argmax/argmin: the flattened index when no dim is given (keepdim then gives all-ones dims). */
static ct_tensor *arg_extreme(const char *op, int kind, const ct_tensor *t, ct_reduce_opts opts) {
    if (!CT__CHECK(op, t)) return NULL;
    if (opts.dim.ndim > 1)
        return ct_error(CT_ERR_ARG, "%s: expected at most one dim, got %d", op, opts.dim.ndim);
    red_request rq = {.op = op,
                      .kind = kind,
                      .out_dtype = t->dtype,
                      .int_acc = !ct_dtype_is_floating(t->dtype),
                      .keep_order = true,
                      .nonempty = true,
                      .flat_index = opts.dim.ndim == 0};
    ct_tensor *idx = NULL;
    return reduce_run(t, &opts, &rq, false, &idx);
}

ct_tensor *ct_argmax_opt(const ct_tensor *t, ct_reduce_opts opts) {
    return arg_extreme("argmax", CT__RED_MAX, t, opts);
}
ct_tensor *ct_argmin_opt(const ct_tensor *t, ct_reduce_opts opts) {
    return arg_extreme("argmin", CT__RED_MIN, t, opts);
}

static ct_tensor *var_std(const char *op, const ct_tensor *t, ct_reduce_opts opts, bool take_sqrt) {
    if (!CT__CHECK(op, t)) return NULL;
    if (!ct_dtype_is_floating(t->dtype))
        return ct_error(CT_ERR_DTYPE, "%s: std and var only support floating point and complex dtypes", op);
    red_request rq = {.op = op,
                      .kind = CT__RED_VAR,
                      .out_dtype = t->dtype,
                      .correction = opts.correction,
                      .take_sqrt = take_sqrt};
    return reduce_run(t, &opts, &rq, true, NULL);
}

ct_tensor *ct__var_opt(const ct_tensor *t, ct_reduce_opts opts) { return var_std("var", t, opts, false); }
ct_tensor *ct__std_opt(const ct_tensor *t, ct_reduce_opts opts) { return var_std("std", t, opts, true); }

ct_tensor *ct__norm_opt(const ct_tensor *t, ct_reduce_opts opts) {
    if (!CT__CHECK("norm", t) || !check_dtype_opt("norm", opts.dtype)) return NULL;
    if (!ct_dtype_is_floating(t->dtype))
        return ct_error(CT_ERR_DTYPE, "norm(): input dtype should be either floating point or complex. Got %s instead.",
                        ct__torch_type_name(t->dtype));
    if (isnan(opts.p)) return ct_error(CT_ERR_ARG, "norm: p must not be nan");
    ct_dtype out = t->dtype;
    if (opts.dtype != CT_DTYPE_DEFAULT) {
        if (!ct_dtype_is_floating(opts.dtype))
            return ct_error(CT_ERR_DTYPE, "norm(): the desired output dtype should be either floating point or "
                                          "complex. Got %s instead.", ct__torch_type_name(opts.dtype));
        out = opts.dtype;
    }
    red_request rq = {.op = "norm", .kind = CT__RED_NORM, .out_dtype = out, .p = opts.p};
    return reduce_run(t, &opts, &rq, true, NULL);
}

ct_tensor *ct__logsumexp_opt(const ct_tensor *t, ct_reduce_opts opts) {
    if (!CT__CHECK("logsumexp", t)) return NULL;
    /* Integers give the default float dtype, as torch.logsumexp. */
    ct_dtype out = ct_dtype_is_floating(t->dtype) ? t->dtype : ct_get_default_dtype();
    red_request rq = {.op = "logsumexp", .kind = CT__RED_LSE, .out_dtype = out};
    return reduce_run(t, &opts, &rq, true, NULL);
}

/* all/any: bool, except uint8 inputs which give uint8 as in PyTorch. */
static ct_tensor *all_any(const char *op, int kind, const ct_tensor *t, ct_reduce_opts opts) {
    if (!CT__CHECK(op, t)) return NULL;
    red_request rq = {.op = op, .kind = kind, .out_dtype = t->dtype == CT_U8 ? CT_U8 : CT_BOOL};
    return reduce_run(t, &opts, &rq, true, NULL);
}

ct_tensor *ct_all_opt(const ct_tensor *t, ct_reduce_opts opts) { return all_any("all", CT__RED_ALL, t, opts); }
ct_tensor *ct_any_opt(const ct_tensor *t, ct_reduce_opts opts) { return all_any("any", CT__RED_ANY, t, opts); }

void ct__row_plan(ct__red_plan *plan, const ct_tensor *t, int dim, const ct_tensor *out) {
    bool mask[CT_MAX_DIMS] = {false};
    if (t->ndim > 0) mask[dim] = true;
    build_plan(plan, t, mask, out, NULL, true, true);
    plan->out_dtype = out->dtype;
    plan->inner_out = t->ndim > 0 ? out->stride[dim] * (int64_t)ct_dtype_size(out->dtype) : 0;
}
