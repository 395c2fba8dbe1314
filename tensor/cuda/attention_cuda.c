/* C glue of the flash-attention kernels: tensors to pointers and the shape record, float32
 * workspaces for the backward from the caching allocator. */
#include "../attention_impl.h"
#include "attention_cuda.h"
#include "cuda_impl.h"

static ct__fa_dtype fa_dtype(ct_dtype d) { return d == CT_F16 ? CT__FA_F16 : d == CT_BF16 ? CT__FA_BF16 : CT__FA_F32; }

static ct__fa_shape fa_shape(const ct_tensor *q, const ct_tensor *k, int64_t bh, bool causal, double scale) {
    return (ct__fa_shape){.bh = bh, .l = q->shape[q->ndim - 2], .s = k->shape[k->ndim - 2],
                          .e = (int)q->shape[q->ndim - 1], .scale = (float)scale, .causal = causal};
}

bool ct__flash_attention_cuda(const ct_tensor *q, const ct_tensor *k, const ct_tensor *v, ct_tensor *out,
                              ct_tensor *lse, int64_t bh, bool causal, double scale) {
    int dev = ct__device(q).index;
    cudaError_t e = ct__cuda_flash_fwd(fa_dtype(q->dtype), fa_shape(q, k, bh, causal, scale), ct__data(q), ct__data(k),
                                       ct__data(v), ct__data(out), (float *)ct__data(lse), ct__cuda_stream(dev));
    return ct__cuda_check("scaled_dot_product_attention", dev, e);
}

bool ct__flash_attention_backward_cuda(const ct_tensor *grad, const ct_tensor *q, const ct_tensor *k,
                                       const ct_tensor *v, const ct_tensor *out, const ct_tensor *lse, int64_t bh,
                                       bool causal, double scale, ct_tensor *dq, ct_tensor *dk, ct_tensor *dv) {
    const char *op = "scaled_dot_product_attention_backward";
    int dev = ct__device(q).index;
    ct__fa_shape sh = fa_shape(q, k, bh, causal, scale);
    size_t rows = (size_t)(sh.bh * sh.l);
    float *delta = ct__cuda_alloc(rows * sizeof(float), dev);
    float *dq_acc = delta ? ct__cuda_alloc(rows * (size_t)sh.e * sizeof(float), dev) : NULL;
    bool ok = dq_acc && ct__cuda_check(op, dev,
                                       ct__cuda_flash_bwd(fa_dtype(q->dtype), sh, ct__data(q), ct__data(k),
                                                          ct__data(v), ct__data(out), ct__data(grad),
                                                          (const float *)ct__data(lse), delta, dq_acc, ct__data(dq),
                                                          ct__data(dk), ct__data(dv), ct__cuda_stream(dev)));
    if (dq_acc) ct__cuda_free(dq_acc, dev);
    if (delta) ct__cuda_free(delta, dev);
    return ok;
}
