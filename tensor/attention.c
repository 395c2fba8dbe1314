/* The fused scaled dot-product attention (flash attention): which inputs the kernel covers,
 * staging them contiguous, and the outputs' allocation. The kernels are CUDA only
 * (tensor/cuda/attention_cuda.cu); nn/attention.c composes the op from others everywhere else. */
#include "attention_impl.h"
#include "native_impl.h"

/* Leading (batch, head) dims of t: the product of all but its last two sizes. */
static inline int64_t batch_heads(const ct_tensor *t) { return ct__numel(t->shape, t->ndim - 2); }

bool ct__flash_attention_supported(const ct_tensor *q, const ct_tensor *k, const ct_tensor *v) {
#ifdef CT_HAVE_CUDA
    if (!q || !k || !v || ct__is_cpu(q) || !ct_device_equal(ct__device(q), ct__device(k)) ||
        !ct_device_equal(ct__device(q), ct__device(v)))
        return false;
    if (q->dtype != k->dtype || q->dtype != v->dtype ||
        (q->dtype != CT_F32 && q->dtype != CT_F16 && q->dtype != CT_BF16))
        return false;
    if (q->ndim < 2 || k->ndim != q->ndim || !ct__same_shape(k->shape, k->ndim, v->shape, v->ndim) ||
        (q->ndim > 2 && memcmp(q->shape, k->shape, (size_t)(q->ndim - 2) * sizeof *q->shape)))
        return false;
    int64_t l = q->shape[q->ndim - 2], s = k->shape[k->ndim - 2], e = q->shape[q->ndim - 1];
    return e >= 1 && e <= 128 && e == k->shape[k->ndim - 1] && l >= 1 && s >= 1 && batch_heads(q) <= INT32_MAX &&
           (l + 31) / 32 <= 65535 && (s + 31) / 32 <= 65535;
#else
    (void)q, (void)k, (void)v;
    return false;
#endif
}

static bool check(const char *op, const ct_tensor *q, const ct_tensor *k, const ct_tensor *v) {
    if (ct__flash_attention_supported(q, k, v)) return true;
    ct_error(CT_ERR_UNSUPPORTED,
             "%s: the fused kernel needs CUDA tensors of one dtype (float32, float16 or bfloat16), query [..., L, E] "
             "and key/value [..., S, E] with the same leading dims and E <= 128; got query %s %s on %s, key %s, value %s",
             op, ct__shape_str(q->shape, q->ndim), ct_dtype_name(q->dtype), ct_device_name(ct__device(q)),
             ct__shape_str(k->shape, k->ndim), ct__shape_str(v->shape, v->ndim));
    return false;
}

ct_tensor *ct__flash_attention(const ct_tensor *q, const ct_tensor *k, const ct_tensor *v, bool causal, double scale,
                               ct_tensor **lse) {
    const char *op = "scaled_dot_product_attention";
    *lse = NULL;
    if (!ct_ok() || !CT__CHECK(op, q, k, v) || !check(op, q, k, v)) return NULL;
#ifdef CT_HAVE_CUDA
    ct_tensor *qc = ct__contiguous_as(q, q->dtype), *kc = ct__contiguous_as(k, k->dtype),
              *vc = ct__contiguous_as(v, v->dtype);
    ct_tensor *out = ct__tensor_new(q->shape, q->ndim, q->dtype, ct__device(q));
    ct_tensor *m = ct__tensor_new(q->shape, q->ndim - 1, CT_F32, ct__device(q));
    if (!qc || !kc || !vc || !out || !m ||
        !ct__flash_attention_cuda(qc, kc, vc, out, m, batch_heads(q), causal, scale))
        return NULL;
    *lse = m;
    return out;
#else
    (void)causal, (void)scale;
    return NULL;
#endif
}

bool ct__flash_attention_backward(const ct_tensor *grad, const ct_tensor *q, const ct_tensor *k, const ct_tensor *v,
                                  const ct_tensor *out, const ct_tensor *lse, bool causal, double scale,
                                  ct_tensor **dq, ct_tensor **dk, ct_tensor **dv) {
    const char *op = "scaled_dot_product_attention_backward";
    *dq = *dk = *dv = NULL;
    if (!ct_ok() || !CT__CHECK(op, grad, q, k, v, out, lse) || !check(op, q, k, v)) return false;
    if (!ct__same_shape(grad->shape, grad->ndim, q->shape, q->ndim))
        return ct_error(CT_ERR_SHAPE, "%s: grad has shape %s, expected the output's %s", op,
                        ct__shape_str(grad->shape, grad->ndim), ct__shape_str(q->shape, q->ndim)),
               false;
#ifdef CT_HAVE_CUDA
    ct_tensor *gc = ct__contiguous_as(grad, q->dtype), *qc = ct__contiguous_as(q, q->dtype),
              *kc = ct__contiguous_as(k, k->dtype), *vc = ct__contiguous_as(v, v->dtype),
              *oc = ct__contiguous_as(out, q->dtype), *lc = ct__contiguous_as(lse, CT_F32);
    ct_tensor *gq = ct__tensor_new(q->shape, q->ndim, q->dtype, ct__device(q));
    ct_tensor *gk = ct__tensor_new(k->shape, k->ndim, k->dtype, ct__device(k));
    ct_tensor *gv = ct__tensor_new(v->shape, v->ndim, v->dtype, ct__device(v));
    if (!gc || !qc || !kc || !vc || !oc || !lc || !gq || !gk || !gv ||
        !ct__flash_attention_backward_cuda(gc, qc, kc, vc, oc, lc, batch_heads(q), causal, scale, gq, gk, gv))
        return false;
    *dq = gq, *dk = gk, *dv = gv;
    return true;
#else
    (void)causal, (void)scale;
    return false;
#endif
}
