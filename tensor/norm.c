/* Batch norm and layer norm, forward and backward, without autograd (autograd/grad_norm.c records
 * them). Validation follows PyTorch's messages; the math is in cpu/norm_cpu.c (see norm_impl.h).
 *
 * Batch norm over x [N, C, *]: in training the batch statistics mean_c and the biased variance
 * var_c normalize, y = (x - mean_c) / sqrt(var_c + eps) * w_c + b_c, and the running statistics
 * (when given) become (1 - momentum) * running + momentum * stat, with the unbiased variance
 * var_c * M / (M - 1), M = N * prod(*), as PyTorch. In eval the running statistics normalize.
 * Layer norm normalizes over the trailing dims named by normalized_shape.
 *
 * This file validates and dispatches to the device's kernel table (norm_impl.h). The CPU entries,
 * below, compute in f64 for f64 input and in f32 (statistics in double) for every other floating
 * dtype; CUDA's are in cuda/norm_cuda.c. */
#include "norm_impl.h"

#include <math.h>

/* The dtype the kernels compute in. */
static ct_dtype compute_dtype(ct_dtype dt) { return dt == CT_F64 ? CT_F64 : CT_F32; }

/* A new f64 tensor of n elements, for statistics and workspaces. */
static double *f64_buffer(int64_t n, ct_tensor **t) {
    *t = ct__tensor_new(&n, 1, CT_F64, CT_CPU);
    return *t ? (double *)ct__data(*t) : NULL;
}

/* An optional per-channel tensor's values as C doubles (NULL for none); *ok is false on error. */
static const double *f64_values(const ct_tensor *t, bool *ok) {
    if (!t) return NULL;
    ct_tensor *d = ct__contiguous_as(t, CT_F64);
    if (!d) *ok = false;
    return d ? (const double *)ct__data(d) : NULL;
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

/* ---- the CPU table ------------------------------------------------------------------------------ */

static bool cpu_batch_norm(const ct_tensor *x, int64_t N, int64_t C, int64_t S, ct_tensor *running_mean,
                           ct_tensor *running_var, const ct_tensor *weight, const ct_tensor *bias, bool training,
                           double momentum, double eps, ct_tensor **y_out, ct_tensor **mean_out,
                           ct_tensor **rstd_out) {
    const char *op = "batch_norm";
    bool ok = true;
    const double *w = f64_values(weight, &ok), *b = f64_values(bias, &ok);
    const double *rm = f64_values(running_mean, &ok), *rv = f64_values(running_var, &ok);
    if (!ok) return false;
    ct_tensor *tmp, *mean_t, *rstd_t;
    double *mean = f64_buffer(C, &mean_t), *rstd = f64_buffer(C, &rstd_t), *var = f64_buffer(C, &tmp);
    double *scale = f64_buffer(C, &tmp), *shift = f64_buffer(C, &tmp), *work = f64_buffer(N * C, &tmp);
    if (!mean || !rstd || !var || !scale || !shift || !work) return false;
    ct_dtype cdt = compute_dtype(x->dtype);
    ct_tensor *xc = ct__contiguous_as(x, cdt);
    ct_tensor *y = xc ? ct__tensor_new(x->shape, x->ndim, cdt, CT_CPU) : NULL;
    if (!y) return false;
    int64_t M = N * S;
    if (training && M > 0) {
        ct__cpu_channel_stats(cdt, ct__data(xc), N, C, S, mean, var, work);
        /* running = (1 - momentum) running + momentum stat, with the unbiased variance */
        double unbias = M > 1 ? (double)M / (double)(M - 1) : INFINITY;
        if (running_mean) {
            for (int64_t c = 0; c < C; c++) scale[c] = (1 - momentum) * rm[c] + momentum * mean[c];
            if (!write_values(op, running_mean, scale, C)) return false;
        }
        if (running_var) {
            for (int64_t c = 0; c < C; c++) scale[c] = (1 - momentum) * rv[c] + momentum * var[c] * unbias;
            if (!write_values(op, running_var, scale, C)) return false;
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
    *y_out = cdt == x->dtype ? y : ct__to_dtype(y, x->dtype);
    *mean_out = mean_t, *rstd_out = rstd_t;
    return *y_out != NULL;
}

static bool cpu_batch_norm_backward(const ct_tensor *grad, const ct_tensor *x, int64_t N, int64_t C, int64_t S,
                                    const ct_tensor *mean, const ct_tensor *rstd, const ct_tensor *weight,
                                    bool training, bool want_x, ct_tensor **dx, ct_tensor **dw, ct_tensor **db) {
    bool ok = true;
    const double *w = f64_values(weight, &ok);
    if (!ok) return false;
    ct_dtype cdt = compute_dtype(x->dtype);
    ct_tensor *xc = ct__contiguous_as(x, cdt), *gc = ct__contiguous_as(grad, cdt);
    ct_tensor *mc = ct__contiguous_as(mean, CT_F64), *rc = ct__contiguous_as(rstd, CT_F64), *tmp;
    double *work = f64_buffer(2 * N * C, &tmp);
    double *sdy = f64_buffer(C, db), *sdyx = f64_buffer(C, dw);
    if (!xc || !gc || !mc || !rc || !work || !sdy || !sdyx) return false;
    if (want_x && !(*dx = ct__tensor_new(x->shape, x->ndim, cdt, CT_CPU))) return false;
    if (N * S > 0)
        ct__cpu_batch_norm_backward(cdt, ct__data(xc), ct__data(gc), *dx ? ct__data(*dx) : NULL, N, C, S,
                                    (const double *)ct__data(mc), (const double *)ct__data(rc), w, training, sdy,
                                    sdyx, work);
    else
        for (int64_t c = 0; c < C; c++) sdy[c] = sdyx[c] = 0;
    return true;
}

static bool cpu_layer_norm(const ct_tensor *x, int64_t M, int64_t K, const ct_tensor *weight, const ct_tensor *bias,
                           double eps, ct_tensor **y_out, ct_tensor **mean_out, ct_tensor **rstd_out) {
    ct_dtype cdt = compute_dtype(x->dtype);
    ct_tensor *xc = ct__contiguous_as(x, cdt);
    ct_tensor *wc = weight ? ct__contiguous_as(weight, cdt) : NULL, *bc = bias ? ct__contiguous_as(bias, cdt) : NULL;
    double *mean = f64_buffer(M, mean_out), *rstd = f64_buffer(M, rstd_out);
    ct_tensor *y = xc ? ct__tensor_new(x->shape, x->ndim, cdt, CT_CPU) : NULL;
    if (!y || !mean || !rstd || (weight && !wc) || (bias && !bc)) return false;
    ct__cpu_layer_norm(cdt, ct__data(xc), ct__data(y), M, K, eps, wc ? ct__data(wc) : NULL, bc ? ct__data(bc) : NULL,
                       mean, rstd);
    *y_out = cdt == x->dtype ? y : ct__to_dtype(y, x->dtype);
    return *y_out != NULL;
}

static bool cpu_layer_norm_backward(const ct_tensor *grad, const ct_tensor *x, int64_t M, int64_t K,
                                    const ct_tensor *mean, const ct_tensor *rstd, const ct_tensor *weight, bool want_x,
                                    bool want_w, bool want_b, ct_tensor **dx, ct_tensor **dw, ct_tensor **db) {
    ct_dtype cdt = compute_dtype(x->dtype);
    ct_tensor *xc = ct__contiguous_as(x, cdt), *gc = ct__contiguous_as(grad, cdt);
    ct_tensor *wc = weight ? ct__contiguous_as(weight, cdt) : NULL;
    ct_tensor *mc = ct__contiguous_as(mean, CT_F64), *rc = ct__contiguous_as(rstd, CT_F64), *tmp;
    double *work = f64_buffer(2 * CT__LN_CHUNKS * K, &tmp);
    double *w_sum = want_w ? f64_buffer(K, dw) : NULL, *b_sum = want_b ? f64_buffer(K, db) : NULL;
    if (!xc || !gc || !mc || !rc || !work || (weight && !wc) || (want_w && !w_sum) || (want_b && !b_sum)) return false;
    if (want_x && !(*dx = ct__tensor_new(x->shape, x->ndim, cdt, CT_CPU))) return false;
    if (M > 0)
        ct__cpu_layer_norm_backward(cdt, ct__data(gc), ct__data(xc), M, K, (const double *)ct__data(mc),
                                    (const double *)ct__data(rc), wc ? ct__data(wc) : NULL, *dx ? ct__data(*dx) : NULL,
                                    w_sum, b_sum, work);
    else
        for (int64_t k = 0; k < K; k++) {
            if (w_sum) w_sum[k] = 0;
            if (b_sum) b_sum[k] = 0;
        }
    return true;
}

static const ct_norm_kernels cpu_kernels = {cpu_batch_norm, cpu_batch_norm_backward, cpu_layer_norm,
                                            cpu_layer_norm_backward};

/* ---- validation and dispatch ------------------------------------------------------------------- */

/* The kernels of x's device, or NULL with ct__no_kernel's error. */
static const ct_norm_kernels *kernels(const char *op, const ct_tensor *x) {
#ifdef CT_HAVE_CUDA
    if (ct__device(x).type == CT_DEVICE_CUDA) return &ct__norm_cuda_kernels;
#endif
    if (ct__is_cpu(x)) return &cpu_kernels;
    return ct__no_kernel(op, ct__device(x));
}

static bool check_floating(const char *op, const ct_tensor *x, const char *kernel) {
    if (ct_dtype_is_floating(x->dtype)) return true;
    ct_error(CT_ERR_DTYPE, "%s: \"%s\" not implemented for '%s'", op, kernel, ct__torch_type_name(x->dtype));
    return false;
}

/* An optional per-channel tensor holds C floating values (PyTorch's "weight should contain 3
 * elements not 2"). */
static bool check_channel(const char *op, const char *name, const ct_tensor *t, int64_t C) {
    if (!t) return true;
    int64_t n = ct__numel(t->shape, t->ndim);
    if (n != C) {
        ct_error(CT_ERR_SHAPE, "%s: %s should contain %lld elements not %lld", op, name, (long long)C, (long long)n);
        return false;
    }
    if (!ct_dtype_is_floating(t->dtype)) {
        ct_error(CT_ERR_DTYPE, "%s: expected %s to have a floating dtype, but got %s", op, name,
                 ct__torch_type_name(t->dtype));
        return false;
    }
    return true;
}

/* x's sizes as [N, C, S]. */
static void ncs(const ct_tensor *x, int64_t *N, int64_t *C, int64_t *S) {
    *N = x->shape[0];
    *C = x->shape[1];
    *S = ct__numel(x->shape + 2, x->ndim - 2);
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
    if (!check_floating(op, x, "batch_norm")) return NULL;
    const ct_norm_kernels *k = kernels(op, x);
    if (!k) return NULL;
    int64_t N, C, S;
    ncs(x, &N, &C, &S);
    if (training && N * S == 1)
        return ct_error(CT_ERR_ARG, "%s: Expected more than 1 value per channel when training, got input size %s", op,
                        ct__shape_str(x->shape, x->ndim));
    if (!training && !running_mean)
        return ct_error(CT_ERR_ARG, "%s: running_mean must be defined in evaluation mode", op);
    if (!training && !running_var)
        return ct_error(CT_ERR_ARG, "%s: running_var must be defined in evaluation mode", op);
    if (!check_channel(op, "weight", weight, C) || !check_channel(op, "bias", bias, C) ||
        !check_channel(op, "running_mean", running_mean, C) || !check_channel(op, "running_var", running_var, C))
        return NULL;
    ct_tensor *out = NULL, *mean = NULL, *rstd = NULL;
    CT_SCOPE {
        ct_tensor *y, *m, *r;
        if (!k->batch_norm(x, N, C, S, running_mean, running_var, weight, bias, training, momentum, eps, &y, &m, &r))
            break;
        out = ct_keep(y), mean = ct_keep(m), rstd = ct_keep(r);
    }
    if (!out) return NULL;
    if (save_mean) *save_mean = mean;
    if (save_rstd) *save_rstd = rstd;
    return out;
}

bool ct__batch_norm_backward(const ct_tensor *grad, const ct_tensor *x, const ct_tensor *mean,
                             const ct_tensor *rstd, const ct_tensor *weight, bool training, bool want_x,
                             ct_tensor **dx, ct_tensor **dw, ct_tensor **db) {
    const char *op = "batch_norm_backward";
    *dx = *dw = *db = NULL;
    if (!CT__CHECK(op, grad, x, mean, rstd)) return false;
    const ct_norm_kernels *k = kernels(op, x);
    if (!k) return false;
    int64_t N, C, S;
    ncs(x, &N, &C, &S);
    if (!check_channel(op, "weight", weight, C)) return false;
    bool ok = false;
    CT_SCOPE {
        ct_tensor *gx = NULL, *gw = NULL, *gb = NULL;
        if (!k->batch_norm_backward(grad, x, N, C, S, mean, rstd, weight, training, want_x, &gx, &gw, &gb)) break;
        *dx = gx ? ct_keep(gx) : NULL; /* any floating dtype and shape [C]: the engine casts */
        *dw = ct_keep(gw), *db = ct_keep(gb);
        ok = true;
    }
    return ok;
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
    if (!check_floating(op, x, "LayerNormKernelImpl")) return NULL;
    const ct_norm_kernels *k = kernels(op, x);
    if (!k) return NULL;
    if ((weight && !check_floating(op, weight, "LayerNormKernelImpl")) ||
        (bias && !check_floating(op, bias, "LayerNormKernelImpl")))
        return NULL;
    ct_tensor *out = NULL, *mean = NULL, *rstd = NULL;
    CT_SCOPE {
        ct_tensor *y, *m, *r;
        if (!k->layer_norm(x, M, K, weight, bias, eps, &y, &m, &r)) break;
        out = ct_keep(y), mean = ct_keep(m), rstd = ct_keep(r);
    }
    if (!out) return NULL;
    if (save_mean) *save_mean = mean;
    if (save_rstd) *save_rstd = rstd;
    return out;
}

bool ct__layer_norm_backward(const ct_tensor *grad, const ct_tensor *x, ct_shape normalized_shape,
                             const ct_tensor *mean, const ct_tensor *rstd, const ct_tensor *weight, bool want_x,
                             bool want_w, bool want_b, ct_tensor **dx, ct_tensor **dw, ct_tensor **db) {
    const char *op = "layer_norm_backward";
    *dx = *dw = *db = NULL;
    if (!CT__CHECK(op, grad, x, mean, rstd)) return false;
    const ct_norm_kernels *k = kernels(op, x);
    if (!k) return false;
    int64_t M, K;
    if (!layer_norm_dims(op, x, normalized_shape, weight, NULL, &M, &K)) return false;
    bool ok = false;
    CT_SCOPE {
        ct_tensor *gx = NULL, *gw = NULL, *gb = NULL;
        if (!k->layer_norm_backward(grad, x, M, K, mean, rstd, weight, want_x, want_w, want_b, &gx, &gw, &gb)) break;
        /* dw, db in normalized_shape (the engine casts the dtype) */
        if (gw && !(gw = ct__view(gw, normalized_shape))) break;
        if (gb && !(gb = ct__view(gb, normalized_shape))) break;
        *dx = gx ? ct_keep(gx) : NULL;
        *dw = gw ? ct_keep(gw) : NULL;
        *db = gb ? ct_keep(gb) : NULL;
        ok = true;
    }
    if (!ok) *dx = *dw = *db = NULL;
    return ok;
}
