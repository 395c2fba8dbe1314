/* ctorch CUDA: devices, streams, memory statistics and math settings (torch.cuda and
 * torch.backends). Every function works in a build without CUDA or on a machine without a GPU:
 * counts are 0, queries return 0, and calls that need a device fail with CT_ERR_DEVICE. */
#ifndef CTORCH_CUDA_H
#define CTORCH_CUDA_H

#include "ctorch/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Pinned (page-locked) host memory: a contiguous CPU copy of t that the GPU can read
 * asynchronously (t itself when it already is one), as torch's Tensor.pin_memory(). Needs a
 * usable CUDA device: CT_ERR_DEVICE otherwise, and for a tensor that is not on the CPU. */
ct_tensor *ct_pin_memory(const ct_tensor *t);
bool ct_is_pinned(const ct_tensor *t);

/* cuda:runtime (devices, streams, synchronize, pinned memory, memory statistics, empty_cache) */

/* cuda:math (TF32 and reduced-precision switches, torch.backends.cuda.matmul / cudnn) */

#ifdef __cplusplus
}
#endif
#endif /* CTORCH_CUDA_H */
