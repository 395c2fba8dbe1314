/* The CUDA table of norm_impl.h over the kernels of norm_cuda.cu.
 *
 * Inputs go to the kernels contiguous in their own dtype (16-bit floats are widened inside the
 * kernels, not copied); weight, bias and the running statistics contiguous in the accumulation
 * dtype (f64 for f64 input, else f32), which is also the dtype of the saved mean/rstd and of the
 * weight and bias gradients (the engine casts those to the parameters' dtype). Running statistics
 * of another dtype or layout are updated through a contiguous f32/f64 copy written back. */
#include "../norm_impl.h"
#include "dnn_cuda.h"

static ct__cuda_float float_of(ct_dtype dt) {
    switch (dt) {
    case CT_F64: return CT__CUDA_F64;
    case CT_F16: return CT__CUDA_F16;
    case CT_BF16: return CT__CUDA_BF16;
    default: return CT__CUDA_F32;
    }
}

static ct_dtype acc_of(ct_dtype dt) { return dt == CT_F64 ? CT_F64 : CT_F32; }

/* t (NULL: none) contiguous in dtype; *ok is false on error. */
static ct_tensor *contiguous_or_null(const ct_tensor *t, ct_dtype dtype, bool *ok) {
    if (!t) return NULL;
    ct_tensor *c = ct__contiguous_as(t, dtype);
    if (!c) *ok = false;
    return c;
}

static void *data_or_null(const ct_tensor *t) { return t ? ct__data(t) : NULL; }

/* A device buffer of nbytes owned by the current scope. */
static void *workspace(size_t nbytes, ct_device device, bool *ok) {
    int64_t n = (int64_t)(nbytes ? nbytes : 1);
    ct_tensor *t = ct__tensor_new(&n, 1, CT_U8, device);
    if (!t) *ok = false;
    return t ? ct__data(t) : NULL;
}

static ct_tensor *vector(int64_t n, ct_dtype dtype, ct_device device, bool *ok) {
    ct_tensor *t = ct__tensor_new(&n, 1, dtype, device);
    if (!t) *ok = false;
    return t;
}

static bool cuda_batch_norm(const ct_tensor *x, int64_t N, int64_t C, int64_t S, ct_tensor *running_mean,
                            ct_tensor *running_var, const ct_tensor *weight, const ct_tensor *bias, bool training,
                            double momentum, double eps, ct_tensor **y, ct_tensor **mean, ct_tensor **rstd) {
    const char *op = "batch_norm";
    ct_device dev = ct__device(x);
    ct_dtype acc = acc_of(x->dtype);
    bool update = training && N * S > 0, ok = true;
    if (update && ((running_mean && !ct__check_writable(op, running_mean)) ||
                   (running_var && !ct__check_writable(op, running_var))))
        return false;
    ct_tensor *xc = ct__contiguous_as(x, x->dtype);
    ct_tensor *w = contiguous_or_null(weight, acc, &ok), *b = contiguous_or_null(bias, acc, &ok);
    /* the kernels read the running statistics in eval and update them in training */
    ct_tensor *rm = training && !update ? NULL : contiguous_or_null(running_mean, acc, &ok);
    ct_tensor *rv = training && !update ? NULL : contiguous_or_null(running_var, acc, &ok);
    *y = xc ? ct__tensor_new(x->shape, x->ndim, x->dtype, dev) : NULL;
    *mean = vector(C, acc, dev, &ok), *rstd = vector(C, acc, dev, &ok);
    void *work = workspace(ct__cuda_batch_norm_work_bytes(float_of(x->dtype), N, C, S, dev.index), dev, &ok);
    if (!ok || !*y) return false;
    if (!ct__cuda_check(op, dev.index,
                        ct__cuda_batch_norm(float_of(x->dtype), N, C, S, training, momentum, eps, ct__data(xc),
                                            data_or_null(w), data_or_null(b), data_or_null(rm), data_or_null(rv),
                                            ct__data(*y), ct__data(*mean), ct__data(*rstd), work, dev.index)))
        return false;
    if (!update) return true;
    /* a copy (other dtype or layout) is written back; either way the statistics changed in place */
    ct_tensor *running[2] = {running_mean, running_var}, *updated[2] = {rm, rv};
    for (int i = 0; i < 2; i++) {
        if (!running[i]) continue;
        if (ct__data(updated[i]) != ct__data(running[i]) && !ct__copy_into(op, running[i], updated[i])) return false;
        ct__bump_version(running[i]);
    }
    return true;
}

static bool cuda_batch_norm_backward(const ct_tensor *grad, const ct_tensor *x, int64_t N, int64_t C, int64_t S,
                                     const ct_tensor *mean, const ct_tensor *rstd, const ct_tensor *weight,
                                     bool training, bool want_x, ct_tensor **dx, ct_tensor **dw, ct_tensor **db) {
    ct_device dev = ct__device(x);
    ct_dtype acc = acc_of(x->dtype);
    bool ok = true;
    ct_tensor *xc = ct__contiguous_as(x, x->dtype), *gc = contiguous_or_null(grad, x->dtype, &ok);
    ct_tensor *mc = contiguous_or_null(mean, acc, &ok), *rc = contiguous_or_null(rstd, acc, &ok);
    ct_tensor *w = contiguous_or_null(weight, acc, &ok);
    *dw = vector(C, acc, dev, &ok), *db = vector(C, acc, dev, &ok);
    if (want_x) *dx = ct__tensor_new(x->shape, x->ndim, x->dtype, dev);
    void *work = workspace(ct__cuda_batch_norm_work_bytes(float_of(x->dtype), N, C, S, dev.index), dev, &ok);
    if (!ok || !xc || (want_x && !*dx)) return false;
    return ct__cuda_check("batch_norm_backward", dev.index,
                          ct__cuda_batch_norm_backward(float_of(x->dtype), N, C, S, training, ct__data(xc),
                                                       ct__data(gc), ct__data(mc), ct__data(rc), data_or_null(w),
                                                       data_or_null(*dx), ct__data(*dw), ct__data(*db), work,
                                                       dev.index));
}

static bool cuda_layer_norm(const ct_tensor *x, int64_t M, int64_t K, const ct_tensor *weight, const ct_tensor *bias,
                            double eps, ct_tensor **y, ct_tensor **mean, ct_tensor **rstd) {
    ct_device dev = ct__device(x);
    ct_dtype acc = acc_of(x->dtype);
    bool ok = true;
    ct_tensor *xc = ct__contiguous_as(x, x->dtype);
    ct_tensor *w = contiguous_or_null(weight, acc, &ok), *b = contiguous_or_null(bias, acc, &ok);
    *y = xc ? ct__tensor_new(x->shape, x->ndim, x->dtype, dev) : NULL;
    *mean = vector(M, acc, dev, &ok), *rstd = vector(M, acc, dev, &ok);
    if (!ok || !*y) return false;
    return ct__cuda_check("layer_norm", dev.index,
                          ct__cuda_layer_norm(float_of(x->dtype), M, K, eps, ct__data(xc), data_or_null(w),
                                              data_or_null(b), ct__data(*y), ct__data(*mean), ct__data(*rstd),
                                              dev.index));
}

static bool cuda_layer_norm_backward(const ct_tensor *grad, const ct_tensor *x, int64_t M, int64_t K,
                                     const ct_tensor *mean, const ct_tensor *rstd, const ct_tensor *weight,
                                     bool want_x, bool want_w, bool want_b, ct_tensor **dx, ct_tensor **dw,
                                     ct_tensor **db) {
    ct_device dev = ct__device(x);
    ct_dtype acc = acc_of(x->dtype);
    bool ok = true;
    ct_tensor *xc = ct__contiguous_as(x, x->dtype), *gc = contiguous_or_null(grad, x->dtype, &ok);
    ct_tensor *mc = contiguous_or_null(mean, acc, &ok), *rc = contiguous_or_null(rstd, acc, &ok);
    ct_tensor *w = contiguous_or_null(weight, acc, &ok);
    if (want_x) *dx = ct__tensor_new(x->shape, x->ndim, x->dtype, dev);
    if (want_w) *dw = vector(K, acc, dev, &ok);
    if (want_b) *db = vector(K, acc, dev, &ok);
    void *work = want_w || want_b
                     ? workspace(ct__cuda_layer_norm_backward_work_bytes(float_of(x->dtype), M, K, dev.index), dev, &ok)
                     : NULL;
    if (!ok || !xc || (want_x && !*dx)) return false;
    return ct__cuda_check("layer_norm_backward", dev.index,
                          ct__cuda_layer_norm_backward(float_of(x->dtype), M, K, ct__data(gc), ct__data(xc),
                                                       ct__data(mc), ct__data(rc), data_or_null(w), data_or_null(*dx),
                                                       data_or_null(*dw), data_or_null(*db), work, dev.index));
}

const ct_norm_kernels ct__norm_cuda_kernels = {cuda_batch_norm, cuda_batch_norm_backward, cuda_layer_norm,
                                               cuda_layer_norm_backward};
