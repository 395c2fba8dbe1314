/* Gradient clipping, as torch.nn.utils.clip_grad_norm_ / clip_grad_value_ (PyTorch 2.x).
 *
 * clip_grad_norm_ treats all gradients as one vector: total = (sum over every element of |g|^p)^(1/p)
 * (max |g| for p = inf), then multiplies every gradient by min(1, max_norm / (total + 1e-6)).
 * Sums of |g|^p accumulate in double over fixed 65,536-element chunks added in order, so the norm
 * does not depend on the thread count.
 *
 * Gradients on another device (CUDA) take PyTorch's foreach route through device ops instead: each
 * gradient's norm (in its dtype, on its device), the norm of those norms on the first gradient's
 * device, then every gradient *= clamp(max_norm / (total + 1e-6), max=1) with the factor left on
 * the device, so nothing waits for the GPU unless error_if_nonfinite asks whether total is finite. */
#include "optim_impl.h"

#include <stdlib.h>

#define CHUNK 65536

/* sum |x|^p (or max |x| when p is inf) over the n contiguous elements of x. */
#define NORM_LOOP(sfx, T, A, LD, ST)                                                             \
    static double norm_##sfx(const T *restrict x, int64_t n, double p) {                         \
        int64_t n_chunks = (n + CHUNK - 1) / CHUNK;                                              \
        double *part = malloc((size_t)(n_chunks ? n_chunks : 1) * sizeof *part);                 \
        if (!part) return NAN;                                                                   \
        _Pragma("omp parallel for schedule(static) num_threads(ct__num_threads()) if (n_chunks > 1)") \
        for (int64_t c = 0; c < n_chunks; c++) {                                                 \
            int64_t lo = c * CHUNK, hi = lo + CHUNK < n ? lo + CHUNK : n;                        \
            double acc = 0;                                                                      \
            if (isinf(p)) {                                                                      \
                for (int64_t i = lo; i < hi; i++) {                                              \
                    double v = fabs((double)LD(x[i]));                                           \
                    acc = v > acc || v != v ? v : acc;                                           \
                }                                                                                \
            } else if (p == 2) {                                                                 \
                for (int64_t i = lo; i < hi; i++) acc += (double)LD(x[i]) * (double)LD(x[i]);    \
            } else if (p == 1) {                                                                 \
                for (int64_t i = lo; i < hi; i++) acc += fabs((double)LD(x[i]));                 \
            } else {                                                                             \
                for (int64_t i = lo; i < hi; i++) acc += pow(fabs((double)LD(x[i])), p);         \
            }                                                                                    \
            part[c] = acc;                                                                       \
        }                                                                                        \
        double total = 0;                                                                        \
        for (int64_t c = 0; c < n_chunks; c++)                                                   \
            total = isinf(p) ? (part[c] > total || part[c] != part[c] ? part[c] : total) : total + part[c]; \
        free(part);                                                                              \
        return total;                                                                            \
    }                                                                                            \
    static void scale_##sfx(T *restrict x, int64_t n, A coef) {                                  \
        CT__OPTIM_OMP_FOR                                                                        \
        for (int64_t i = 0; i < n; i++) x[i] = ST(LD(x[i]) * coef);                              \
    }
CT__OPTIM_DTYPES(NORM_LOOP)

static double grad_norm_part(const ct_tensor *g, double p) {
    const void *x = ct__data(g);
    int64_t n = ct__numel(g->shape, g->ndim);
    switch (g->dtype) {
    case CT_F32: return norm_f32(x, n, p);
    case CT_F64: return norm_f64(x, n, p);
    case CT_F16: return norm_f16(x, n, p);
    case CT_BF16: return norm_bf16(x, n, p);
    default: return NAN;
    }
}

/* The gradients of params that exist, checked (floating point); n_out = how many. */
static ct_tensor **collect_grads(const char *op, ct_tensor_list params, int *n_out) {
    *n_out = 0;
    if (params.n < 0 || (params.n > 0 && !params.items)) return ct_error(CT_ERR_ARG, "%s: invalid parameter list", op);
    if (!ct__check_not_null(op, params.n, (const ct_tensor *const *)params.items)) return NULL;
    ct_tensor **grads = ct_scope_alloc((size_t)(params.n ? params.n : 1) * sizeof *grads);
    if (!grads) return NULL;
    for (int i = 0; i < params.n; i++) {
        const ct_tensor *p = params.items[i];
        ct_tensor *g = p->autograd ? p->autograd->grad : NULL;
        if (!g) continue;
        if (!ct_dtype_is_floating(g->dtype))
            return ct_error(CT_ERR_DTYPE, "%s: gradients of dtype %s are not supported", op, ct_dtype_name(g->dtype));
        grads[(*n_out)++] = g;
    }
    return grads;
}

static ct_tensor *nonfinite_error(const char *op, double p) {
    return ct_error(CT_ERR_ARG,
                    "%s: The total norm of order %s for gradients from `parameters` is non-finite, so it cannot be "
                    "clipped. To disable this error and scale the gradients by the non-finite norm anyway, set "
                    "`error_if_nonfinite=False`", op, ct__py_float(p));
}

/* The device route (any gradient off the CPU): torch's _clip_grads_with_norm_ over
 * _get_total_norm. Returns total, a 0-d tensor of grads[0]'s dtype on grads[0]'s device. */
static ct_tensor *clip_norm_foreach(ct_tensor **grads, int n, double max_norm, double p, bool error_if_nonfinite) {
    const char *op = "clip_grad_norm_";
    ct_device dev = ct__device(grads[0]);
    ct_tensor *total = NULL;
    bool ok = true;
    CT_NO_GRAD CT_SCOPE {
        ct_tensor **norms = ct_scope_alloc((size_t)n * sizeof *norms);
        ok = norms != NULL;
        for (int i = 0; i < n && ok; i++) {
            ct_tensor *ni = ct_norm(grads[i], .p = p);
            if (ni && ni->dtype != grads[0]->dtype) ni = ct_to_dtype(ni, grads[0]->dtype);
            if (ni && !ct_device_equal(ct__device(ni), dev)) ni = ct_to(ni, dev);
            ok = (norms[i] = ni) != NULL;
        }
        ct_tensor *t = ok ? ct_norm(ct_stack((ct_tensor_list){.n = n, .items = norms}, 0), .p = p) : NULL;
        ok = t != NULL;
        if (ok && error_if_nonfinite) { /* the one host sync, as torch's */
            double v = ct_item(t);
            if (!isfinite(v)) {
                nonfinite_error(op, p);
                ok = false;
            }
        }
        /* coef = min(max_norm / (total + 1e-6), 1), a 0-d tensor multiplied into each gradient
         * (NaN stays NaN, as torch's clamp); grads on other devices get a copy. */
        ct_tensor *coef = NULL;
        if (ok) {
            ct_tensor *num = ct_scalar_tensor(max_norm, .dtype = t->dtype, .device = dev);
            coef = ct_clamp(ct_div(num, ct_add_scalar(t, 1e-6)), -INFINITY, 1);
        }
        ok = ok && coef != NULL;
        for (int i = 0; i < n && ok; i++) {
            const ct_tensor *c = coef;
            if (!ct_device_equal(ct__device(grads[i]), dev) || grads[i]->dtype != coef->dtype)
                c = ct_to(ct_to_dtype(coef, grads[i]->dtype), ct__device(grads[i]));
            ok = c && ct_mul_(grads[i], c) != NULL;
        }
        if (ok) total = ct_keep(t);
    }
    return ok ? total : NULL;
}

ct_tensor *ct_clip_grad_norm_opt(ct_tensor_list params, double max_norm, ct_clip_grad_norm_opts opts) {
    const char *op = "clip_grad_norm_";
    if (!ct_ok()) return NULL;
    double p = opts.norm_type;
    if (!(p > 0)) return ct_error(CT_ERR_ARG, "%s: norm_type must be positive or inf, but got %s", op, ct__py_float(p));
    int n = 0;
    ct_tensor **grads = collect_grads(op, params, &n);
    if (!grads) return NULL;
    if (n == 0) return ct_scalar_tensor(0.0, .dtype = CT_F32);
    for (int i = 0; i < n; i++)
        if (!ct__is_cpu(grads[i])) return clip_norm_foreach(grads, n, max_norm, p, opts.error_if_nonfinite);
    /* Sum (or max) over every gradient, each staged contiguous. */
    double acc = 0;
    bool ok = true;
    CT_SCOPE {
        for (int i = 0; i < n && ok; i++) {
            ct_tensor *gc = ct__contiguous_as(grads[i], grads[i]->dtype);
            if (!gc) ok = false;
            else {
                double part = grad_norm_part(gc, p);
                acc = isinf(p) ? (part > acc || part != part ? part : acc) : acc + part;
            }
        }
    }
    if (!ok) return NULL;
    double total = isinf(p) ? acc : p == 2 ? sqrt(acc) : p == 1 ? acc : pow(acc, 1.0 / p);
    if (opts.error_if_nonfinite && !isfinite(total)) return nonfinite_error(op, p);
    double coef = max_norm / (total + 1e-6);
    if (coef < 1 || isnan(coef)) {
        CT_NO_GRAD {
            for (int i = 0; i < n && ok; i++) {
                ct_tensor *g = grads[i];
                CT_SCOPE {
                    ct_tensor *gc = ct__contiguous_as(g, g->dtype);
                    if (!gc || !ct__check_writable(op, g)) {
                        ok = false;
                        break;
                    }
                    int64_t m = ct__numel(g->shape, g->ndim);
                    switch (g->dtype) {
                    case CT_F32: scale_f32(ct__optim_data(gc), m, (float)coef); break;
                    case CT_F64: scale_f64(ct__optim_data(gc), m, coef); break;
                    case CT_F16: scale_f16(ct__optim_data(gc), m, (float)coef); break;
                    case CT_BF16: scale_bf16(ct__optim_data(gc), m, (float)coef); break;
                    default: break;
                    }
                    if (gc != g && !ct__copy_into(op, g, gc)) ok = false;
                    ct__bump_version(g);
                }
            }
        }
    }
    if (!ok) return NULL;
    return ct_scalar_tensor(total, .dtype = grads[0]->dtype);
}

bool ct_clip_grad_value_(ct_tensor_list params, double clip_value) {
    const char *op = "clip_grad_value_";
    if (!ct_ok()) return false;
    int n = 0;
    bool ok = true;
    CT_SCOPE {
        ct_tensor **grads = collect_grads(op, params, &n);
        if (!grads) ok = false;
        CT_NO_GRAD {
            for (int i = 0; i < n && ok; i++) ok = ct_clamp_(grads[i], -clip_value, clip_value) != NULL;
        }
    }
    return ok;
}
