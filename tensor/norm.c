/* Batch norm and layer norm, forward and backward, without autograd (autograd/grad_norm.c records
 * them). Validation follows PyTorch's messages; the math is in cpu/norm_cpu.c (see norm_impl.h).
 *
 * Batch norm over x [N, C, *]: in training the batch statistics mean_c and the biased variance
 * var_c normalize, y = (x - mean_c) / sqrt(var_c + eps) * w_c + b_c, and the running statistics
 * (when given) become (1 - momentum) * running + momentum * stat, with the unbiased variance
 * var_c * M / (M - 1), M = N * prod(*), as PyTorch. In eval the running statistics normalize.
 * Layer norm normalizes over the trailing dims named by normalized_shape. Both compute in f64 for
 * f64 input and in f32 (statistics in double) for every other floating dtype. */
#include "norm_impl.h"

#include <math.h>

/* The dtype the kernels compute in. */
static ct_dtype compute_dtype(ct_dtype dt) { return dt == CT_F64 ? CT_F64 : CT_F32; }

/* A new f64 tensor of n elements, for statistics and workspaces. */
static double *f64_buffer(int64_t n, ct_tensor **t) {
    *t = ct__tensor_new(&n, 1, CT_F64, CT_CPU);
    return *t ? (double *)ct__data(*t) : NULL;
}

/* The values of an optional per-channel tensor as C doubles, after checking its size (PyTorch's
 * "weight should contain 3 elements not 2"); *ok is false on error. */
static const double *channel_values(const char *op, const char *name, const ct_tensor *t, int64_t C, bool *ok) {
    if (!t) return NULL;
    int64_t n = ct__numel(t->shape, t->ndim);
    if (n != C) {
        ct_error(CT_ERR_SHAPE, "%s: %s should contain %lld elements not %lld", op, name, (long long)C, (long long)n);
        *ok = false;
        return NULL;
    }
    if (!ct_dtype_is_floating(t->dtype)) {
        ct_error(CT_ERR_DTYPE, "%s: expected %s to have a floating dtype, but got %s", op, name,
                 ct__torch_type_name(t->dtype));
        *ok = false;
        return NULL;
    }
    ct_tensor *d = ct__contiguous_as(t, CT_F64);
    if (!d) *ok = false;
    return d ? (const double *)ct__data(d) : NULL;
}

static bool check_floating(const char *op, const ct_tensor *x, const char *kernel) {
    if (ct_dtype_is_floating(x->dtype)) return true;
    ct_error(CT_ERR_DTYPE, "%s: \"%s\" not implemented for '%s'", op, kernel, ct__torch_type_name(x->dtype));
    return false;
}

static bool check_cpu(const char *op, const ct_tensor *x) {
    if (ct__is_cpu(x)) return true;
    ct__no_kernel(op, ct__device(x));
    return false;
}

/* x's sizes as [N, C, S]. */
static void ncs(const ct_tensor *x, int64_t *N, int64_t *C, int64_t *S) {
    *N = x->shape[0];
    *C = x->shape[1];
    *S = ct__numel(x->shape + 2, x->ndim - 2);
}

/* Writes n doubles into t (any layout and floating dtype) and marks the write. */
static bool write_values(const char *op, ct_tensor *t, const double *v, int64_t n) {
    if (!ct__check_writable(op, t)) return false;
    ct_tensor *src = ct__tensor_new(&n, 1, CT_F64, CT_CPU);
    if (!src) return false;
    memcpy(ct__data(src), v, (size_t)n * sizeof *v);
    if (!ct__copy_into(op, t, ct__view(src, ct_shape_of(t)))) return false;
    ct__bump_version(t);
    return true;
}

ct_tensor *ct__batch_norm(const ct_tensor *x, ct_tensor *running_mean, ct_tensor *running_var,
                          const ct_tensor *weight, const ct_tensor *bias, bool training, double momentum,
                          double eps, ct_tensor **save_mean, ct_tensor **save_rstd) {
    const char *op = "batch_norm";
    if (save_mean) *save_mean = NULL;
    if (save_rstd) *save_rstd = NULL;
    if (!CT__CHECK(op, x)) return NULL;
    const ct_tensor *all[] = {x, running_mean, running_var, weight, bias};
    for (int i = 1; i < 5; i++)
        if (all[i] && !ct__check_same_device(op, 2, (const ct_tensor *const[]){x, all[i]})) return NULL;
    if (x->ndim < 2)
        return ct_error(CT_ERR_SHAPE, "%s: expected an input of at least 2 dims [N, C, *], but got input of size %s",
                        op, ct__shape_str(x->shape, x->ndim));
    if (!check_floating(op, x, "batch_norm") || !check_cpu(op, x)) return NULL;
    int64_t N, C, S;
    ncs(x, &N, &C, &S);
    if (training && N * S == 1)
        return ct_error(CT_ERR_ARG, "%s: Expected more than 1 value per channel when training, got input size %s", op,
                        ct__shape_str(x->shape, x->ndim));
    if (!training && !running_mean)
        return ct_error(CT_ERR_ARG, "%s: running_mean must be defined in evaluation mode", op);
    if (!training && !running_var)
        return ct_error(CT_ERR_ARG, "%s: running_var must be defined in evaluation mode", op);
    ct_tensor *out = NULL, *mean_t = NULL, *rstd_t = NULL;
    CT_SCOPE {
        bool ok = true;
        const double *w = channel_values(op, "weight", weight, C, &ok);
        const double *b = ok ? channel_values(op, "bias", bias, C, &ok) : NULL;
        const double *rm = ok ? channel_values(op, "running_mean", running_mean, C, &ok) : NULL;
        const double *rv = ok ? channel_values(op, "running_var", running_var, C, &ok) : NULL;
        if (!ok) break;
        ct_tensor *tmp;
        double *mean = f64_buffer(C, &mean_t), *rstd = f64_buffer(C, &rstd_t), *var = f64_buffer(C, &tmp);
        double *scale = f64_buffer(C, &tmp), *shift = f64_buffer(C, &tmp), *work = f64_buffer(N * C, &tmp);
        if (!mean || !rstd || !var || !scale || !shift || !work) break;
        ct_dtype cdt = compute_dtype(x->dtype);
        ct_tensor *xc = ct__contiguous_as(x, cdt);
        ct_tensor *y = xc ? ct__tensor_new(x->shape, x->ndim, cdt, CT_CPU) : NULL;
        if (!y) break;
        int64_t M = N * S;
        if (training && M > 0) {
            ct__cpu_channel_stats(cdt, ct__data(xc), N, C, S, mean, var, work);
            /* running = (1 - momentum) running + momentum stat, with the unbiased variance */
            double unbias = M > 1 ? (double)M / (double)(M - 1) : INFINITY;
            if (running_mean) {
                for (int64_t c = 0; c < C; c++) scale[c] = (1 - momentum) * rm[c] + momentum * mean[c];
                if (!write_values(op, running_mean, scale, C)) break;
            }
            if (running_var) {
                for (int64_t c = 0; c < C; c++) scale[c] = (1 - momentum) * rv[c] + momentum * var[c] * unbias;
                if (!write_values(op, running_var, scale, C)) break;
            }
        } else if (training) {
            for (int64_t c = 0; c < C; c++) mean[c] = var[c] = NAN;
        } else {
            for (int64_t c = 0; c < C; c++) mean[c] = rm[c], var[c] = rv[c];
        }
        /* y = x scale + shift: scale = w rstd, shift = b - mean w rstd */
        for (int64_t c = 0; c < C; c++) {
            rstd[c] = 1.0 / sqrt(var[c] + eps);
            scale[c] = (w ? w[c] : 1.0) * rstd[c];
            shift[c] = (b ? b[c] : 0.0) - mean[c] * scale[c];
        }
        if (M > 0) ct__cpu_channel_affine(cdt, ct__data(xc), ct__data(y), N, C, S, scale, shift);
        out = cdt == x->dtype ? y : ct__to_dtype(y, x->dtype);
        if (!out) break;
        ct_keep(out);
        ct_keep(mean_t);
        ct_keep(rstd_t);
    }
    if (!out) return NULL;
    if (save_mean) *save_mean = mean_t;
    if (save_rstd) *save_rstd = rstd_t;
    return out;
}

bool ct__batch_norm_backward(const ct_tensor *grad, const ct_tensor *x, const ct_tensor *mean,
                             const ct_tensor *rstd, const ct_tensor *weight, bool training, bool want_x,
                             ct_tensor **dx, ct_tensor **dw, ct_tensor **db) {
    const char *op = "batch_norm_backward";
    *dx = *dw = *db = NULL;
    if (!CT__CHECK(op, grad, x, mean, rstd) || !check_cpu(op, x)) return false;
    int64_t N, C, S;
    ncs(x, &N, &C, &S);
    bool ok = false;
    ct_tensor *gx = NULL, *gw = NULL, *gb = NULL;
    CT_SCOPE {
        bool good = true;
        const double *w = channel_values(op, "weight", weight, C, &good);
        if (!good) break;
        ct_dtype cdt = compute_dtype(x->dtype);
        ct_tensor *xc = ct__contiguous_as(x, cdt), *gc = ct__contiguous_as(grad, cdt);
        ct_tensor *mc = ct__contiguous_as(mean, CT_F64), *rc = ct__contiguous_as(rstd, CT_F64), *tmp;
        double *work = f64_buffer(2 * N * C, &tmp);
        double *sdy = f64_buffer(C, &gb), *sdyx = f64_buffer(C, &gw);
        if (!xc || !gc || !mc || !rc || !work || !sdy || !sdyx) break;
        if (want_x && !(gx = ct__tensor_new(x->shape, x->ndim, cdt, CT_CPU))) break;
        if (N * S > 0)
            ct__cpu_batch_norm_backward(cdt, ct__data(xc), ct__data(gc), gx ? ct__data(gx) : NULL, N, C, S,
                                        (const double *)ct__data(mc), (const double *)ct__data(rc), w, training,
                                        sdy, sdyx, work);
        else
            for (int64_t c = 0; c < C; c++) sdy[c] = sdyx[c] = 0;
        ct_keep(gb);
        ct_keep(gw);
        if (gx) ct_keep(gx);
        ok = true;
    }
    if (!ok) return false;
    *dx = gx, *dw = gw, *db = gb; /* any floating dtype and shape [C]: the engine casts */
    return true;
}

/* Rows M and row length K of x for normalized_shape, with PyTorch's checks of x, weight and bias. */
static bool layer_norm_dims(const char *op, const ct_tensor *x, ct_shape ns, const ct_tensor *weight,
                            const ct_tensor *bias, int64_t *M, int64_t *K) {
    if (ns.ndim < 1) {
        ct_error(CT_ERR_SHAPE,
                 "%s: Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one element, "
                 "but got normalized_shape = %s",
                 op, ct__shape_str(ns.d, ns.ndim));
        return false;
    }
    const ct_tensor *affine[2] = {weight, bias};
    const char *names[2] = {"weight", "bias"};
    for (int i = 0; i < 2; i++)
        if (affine[i] && !ct__same_shape(affine[i]->shape, affine[i]->ndim, ns.d, ns.ndim)) {
            ct_error(CT_ERR_SHAPE,
                     "%s: Expected %s to be of same shape as normalized_shape, but got %s of shape %s and "
                     "normalized_shape = %s",
                     op, names[i], names[i], ct__shape_str(affine[i]->shape, affine[i]->ndim),
                     ct__shape_str(ns.d, ns.ndim));
            return false;
        }
    int lead = x->ndim - ns.ndim;
    if (lead < 0 || memcmp(x->shape + lead, ns.d, (size_t)ns.ndim * sizeof *ns.d)) {
        char star[256];
        snprintf(star, sizeof star, "%s", ct__shape_str(ns.d, ns.ndim));
        ct_error(CT_ERR_SHAPE,
                 "%s: Given normalized_shape=%s, expected input with shape [*, %s, but got input of size%s", op,
                 star, star + 1, ct__shape_str(x->shape, x->ndim));
        return false;
    }
    *M = ct__numel(x->shape, lead);
    *K = ct__numel(ns.d, ns.ndim);
    return true;
}

ct_tensor *ct__layer_norm(const ct_tensor *x, ct_shape normalized_shape, const ct_tensor *weight,
                          const ct_tensor *bias, double eps, ct_tensor **save_mean, ct_tensor **save_rstd) {
    const char *op = "layer_norm";
    if (save_mean) *save_mean = NULL;
    if (save_rstd) *save_rstd = NULL;
    if (!CT__CHECK(op, x)) return NULL;
    if (weight && !ct__check_same_device(op, 2, (const ct_tensor *const[]){x, weight})) return NULL;
    if (bias && !ct__check_same_device(op, 2, (const ct_tensor *const[]){x, bias})) return NULL;
    int64_t M, K;
    if (!layer_norm_dims(op, x, normalized_shape, weight, bias, &M, &K)) return NULL;
    if (!check_floating(op, x, "LayerNormKernelImpl") || !check_cpu(op, x)) return NULL;
    if ((weight && !check_floating(op, weight, "LayerNormKernelImpl")) ||
        (bias && !check_floating(op, bias, "LayerNormKernelImpl")))
        return NULL;
    ct_tensor *out = NULL, *mean_t = NULL, *rstd_t = NULL;
    CT_SCOPE {
        ct_dtype cdt = compute_dtype(x->dtype);
        ct_tensor *xc = ct__contiguous_as(x, cdt);
        ct_tensor *wc = weight ? ct__contiguous_as(weight, cdt) : NULL, *bc = bias ? ct__contiguous_as(bias, cdt) : NULL;
        double *mean = f64_buffer(M, &mean_t), *rstd = f64_buffer(M, &rstd_t);
        ct_tensor *y = xc ? ct__tensor_new(x->shape, x->ndim, cdt, CT_CPU) : NULL;
        if (!y || !mean || !rstd || (weight && !wc) || (bias && !bc)) break;
        ct__cpu_layer_norm(cdt, ct__data(xc), ct__data(y), M, K, eps, wc ? ct__data(wc) : NULL,
                           bc ? ct__data(bc) : NULL, mean, rstd);
        out = cdt == x->dtype ? y : ct__to_dtype(y, x->dtype);
        if (!out) break;
        ct_keep(out);
        ct_keep(mean_t);
        ct_keep(rstd_t);
    }
    if (!out) return NULL;
    if (save_mean) *save_mean = mean_t;
    if (save_rstd) *save_rstd = rstd_t;
    return out;
}

bool ct__layer_norm_backward(const ct_tensor *grad, const ct_tensor *x, ct_shape normalized_shape,
                             const ct_tensor *mean, const ct_tensor *rstd, const ct_tensor *weight, bool want_x,
                             bool want_w, bool want_b, ct_tensor **dx, ct_tensor **dw, ct_tensor **db) {
    const char *op = "layer_norm_backward";
    *dx = *dw = *db = NULL;
    if (!CT__CHECK(op, grad, x, mean, rstd) || !check_cpu(op, x)) return false;
    int64_t M, K;
    if (!layer_norm_dims(op, x, normalized_shape, weight, NULL, &M, &K)) return false;
    bool ok = false;
    ct_tensor *gx = NULL, *gw = NULL, *gb = NULL;
    CT_SCOPE {
        ct_dtype cdt = compute_dtype(x->dtype);
        ct_tensor *xc = ct__contiguous_as(x, cdt), *gc = ct__contiguous_as(grad, cdt);
        ct_tensor *wc = weight ? ct__contiguous_as(weight, cdt) : NULL;
        ct_tensor *mc = ct__contiguous_as(mean, CT_F64), *rc = ct__contiguous_as(rstd, CT_F64), *tmp;
        double *work = f64_buffer(2 * CT__LN_CHUNKS * K, &tmp);
        double *w_sum = want_w ? f64_buffer(K, &gw) : NULL, *b_sum = want_b ? f64_buffer(K, &gb) : NULL;
        if (!xc || !gc || !mc || !rc || !work || (weight && !wc) || (want_w && !w_sum) || (want_b && !b_sum)) break;
        if (want_x && !(gx = ct__tensor_new(x->shape, x->ndim, cdt, CT_CPU))) break;
        if (M > 0)
            ct__cpu_layer_norm_backward(cdt, ct__data(gc), ct__data(xc), M, K, (const double *)ct__data(mc),
                                        (const double *)ct__data(rc), wc ? ct__data(wc) : NULL,
                                        gx ? ct__data(gx) : NULL, w_sum, b_sum, work);
        else
            for (int64_t k = 0; k < K; k++) {
                if (w_sum) w_sum[k] = 0;
                if (b_sum) b_sum[k] = 0;
            }
        /* dw, db in normalized_shape (the engine casts the dtype) */
        if (gw && !(gw = ct__view(gw, normalized_shape))) break;
        if (gb && !(gb = ct__view(gb, normalized_shape))) break;
        if (gx) ct_keep(gx);
        if (gw) ct_keep(gw);
        if (gb) ct_keep(gb);
        ok = true;
    }
    if (!ok) return false;
    *dx = gx, *dw = gw, *db = gb;
    return true;
}
