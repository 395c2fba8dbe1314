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
/* Whether float32 matrix products on CUDA may use TF32 tensor cores (10-bit mantissa inputs, f32
 * accumulation): torch.backends.cuda.matmul.allow_tf32, default false. One setting with the
 * float32 matmul precision, as in PyTorch: allowing TF32 is precision "high", forbidding it
 * "highest". */
void ct_set_allow_tf32(bool allow);
bool ct_get_allow_tf32(void);
/* torch.set_float32_matmul_precision: "highest" (default), "high" or "medium" (TF32 here too);
 * false with CT_ERR_ARG for another string. */
bool ct_set_float32_matmul_precision(const char *precision);
const char *ct_get_float32_matmul_precision(void);
/* Whether cuDNN convolutions in float32 may use TF32: torch.backends.cudnn.allow_tf32, default true. */
void ct_set_cudnn_allow_tf32(bool allow);
bool ct_get_cudnn_allow_tf32(void);

#ifdef __cplusplus
}
#endif
#endif /* CTORCH_CUDA_H */
