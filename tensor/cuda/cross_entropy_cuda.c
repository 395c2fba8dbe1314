/* The CUDA entry of the fused cross-entropy table. */
#include "../cross_entropy_impl.h"
#include "cross_entropy_cuda.h"
#include "cuda_impl.h"

static bool cuda_forward(const ct__xent_args *a) {
    return ct__cuda_check("cross_entropy", a->device,
                          ct__cuda_xent_forward(a->logits, a->target, a->loss, a->lse, a->N, a->C, a->D,
                                                a->ignore_index, a->ls, (int)a->dtype, ct__cuda_stream(a->device)));
}

static bool cuda_backward(const ct__xent_args *a) {
    return ct__cuda_check("cross_entropy_backward", a->device,
                          ct__cuda_xent_backward(a->logits, a->target, a->lse, a->grad, a->grad_stride, a->dlogits,
                                                 a->N, a->C, a->D, a->ignore_index, a->ls, (int)a->dtype,
                                                 ct__cuda_stream(a->device)));
}

const ct__xent_kernels ct__xent_cuda_kernels = {.forward = cuda_forward, .backward = cuda_backward};
