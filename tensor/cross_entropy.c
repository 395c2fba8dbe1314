/* The fused cross-entropy of logits and class indices (cross_entropy_impl.h): one pass per row
 * instead of log_softmax + gather + masked fills, forward and backward. nn/loss.c validates the
 * shapes and targets (PyTorch's messages) and reduces the per-target losses. */
#include "cross_entropy_impl.h"

static const ct__xent_kernels *kernels(const char *op, const ct_tensor *t) {
    switch (ct__device(t).type) {
    case CT_DEVICE_CPU: return &ct__xent_cpu_kernels;
#ifdef CT_HAVE_CUDA
    case CT_DEVICE_CUDA: return &ct__xent_cuda_kernels;
#endif
    default: return ct__no_kernel(op, ct__device(t));
    }
}

/* logits [C] (one row), [N, C] or [N, C, d...] as N, C, D. */
static void rows_of(const ct_tensor *logits, int64_t *N, int64_t *C, int64_t *D) {
    int nd = logits->ndim;
    *N = nd == 1 ? 1 : logits->shape[0];
    *C = logits->shape[nd == 1 ? 0 : 1];
    *D = 1;
    for (int d = 2; d < nd; d++) *D *= logits->shape[d];
}

static ct_dtype lse_dtype(ct_dtype t) { return t == CT_F64 ? CT_F64 : CT_F32; }

ct_tensor *ct__cross_entropy_rows(const ct_tensor *logits, const ct_tensor *target, int64_t ignore_index,
                                  double label_smoothing, ct_tensor **lse) {
    const char *op = "cross_entropy";
    if (!CT__CHECK(op, logits, target) || !ct__check_same_device(op, 2, (const ct_tensor *const[]){logits, target}))
        return NULL;
    if (!ct_dtype_is_floating(logits->dtype) || logits->ndim < 1)
        return ct_error(CT_ERR_DTYPE, "%s: expected floating point logits of 1 or more dims, got %s %s", op,
                        ct__torch_type_name(logits->dtype), ct__shape_str(logits->shape, logits->ndim));
    const ct__xent_kernels *k = kernels(op, logits);
    if (!k) return NULL;
    int64_t N, C, D;
    rows_of(logits, &N, &C, &D);
    if (ct__numel(target->shape, target->ndim) != N * D)
        return ct_error(CT_ERR_SHAPE, "%s: target %s does not have one class per row of logits %s", op,
                        ct__shape_str(target->shape, target->ndim), ct__shape_str(logits->shape, logits->ndim));
    ct_tensor *out = NULL;
    CT_SCOPE {
        ct_tensor *x = ct__contiguous_as(logits, logits->dtype), *t = ct__contiguous_as(target, CT_I64);
        ct_tensor *loss = x && t ? ct__tensor_new(target->shape, target->ndim, logits->dtype, ct__device(logits)) : NULL;
        ct_tensor *l = loss ? ct__tensor_new(target->shape, target->ndim, lse_dtype(logits->dtype), ct__device(logits))
                            : NULL;
        if (!l) break;
        ct__xent_args a = {.logits = ct__data(x), .target = (const int64_t *)ct__data(t), .N = N, .C = C, .D = D,
                           .ignore_index = ignore_index, .ls = label_smoothing, .dtype = logits->dtype,
                           .loss = ct__data(loss), .lse = ct__data(l), .device = ct__device(logits).index};
        if (N * D > 0 && !k->forward(&a)) break;
        out = ct_keep(loss);
        if (lse) *lse = ct_keep(l);
    }
    return out;
}

ct_tensor *ct__cross_entropy_rows_backward(const ct_tensor *grad, const ct_tensor *logits, const ct_tensor *target,
                                           const ct_tensor *lse, int64_t ignore_index, double label_smoothing) {
    const char *op = "cross_entropy_backward";
    if (!CT__CHECK(op, grad, logits, target, lse)) return NULL;
    const ct__xent_kernels *k = kernels(op, logits);
    if (!k) return NULL;
    int64_t N, C, D;
    rows_of(logits, &N, &C, &D);
    ct_tensor *out = NULL;
    CT_SCOPE {
        /* A gradient that is one value broadcast (the backward of a sum or mean) is read as such. */
        bool broadcast = true;
        for (int d = 0; d < grad->ndim; d++) broadcast &= grad->stride[d] == 0 || grad->shape[d] == 1;
        const ct_tensor *g = grad->dtype == logits->dtype && (broadcast || ct_is_contiguous(grad))
                                 ? grad
                                 : ct__contiguous_as(grad, logits->dtype);
        ct_tensor *x = ct__contiguous_as(logits, logits->dtype), *t = ct__contiguous_as(target, CT_I64);
        ct_tensor *dx = g && x && t ? ct__tensor_new(logits->shape, logits->ndim, logits->dtype, ct__device(logits))
                                    : NULL;
        if (!dx) break;
        ct__xent_args a = {.logits = ct__data(x), .target = (const int64_t *)ct__data(t), .N = N, .C = C, .D = D,
                           .ignore_index = ignore_index, .ls = label_smoothing, .dtype = logits->dtype,
                           .lse = ct__data(lse), .grad = ct__data(g), .grad_stride = broadcast && g == grad ? 0 : 1,
                           .dlogits = ct__data(dx), .device = ct__device(logits).index};
        if (N * D * C > 0 && !k->backward(&a)) break;
        out = ct_keep(dx);
    }
    return out;
}
