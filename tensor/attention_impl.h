/* The device kernels of the fused attention (attention.c validates and allocates; the tensors
 * passed are contiguous, q/out [BH, L, E] and k/v [BH, S, E] as flat views, lse [BH, L] float32). */
#ifndef CTORCH_ATTENTION_IMPL_H
#define CTORCH_ATTENTION_IMPL_H

#include "tensor_impl.h"

#ifdef CT_HAVE_CUDA
bool ct__flash_attention_cuda(const ct_tensor *q, const ct_tensor *k, const ct_tensor *v, ct_tensor *out,
                              ct_tensor *lse, int64_t bh, bool causal, double scale);
bool ct__flash_attention_backward_cuda(const ct_tensor *grad, const ct_tensor *q, const ct_tensor *k,
                                       const ct_tensor *v, const ct_tensor *out, const ct_tensor *lse, int64_t bh,
                                       bool causal, double scale, ct_tensor *dq, ct_tensor *dk, ct_tensor *dv);
#endif

#endif /* CTORCH_ATTENTION_IMPL_H */
