/* The CUDA runtime shared by every CUDA kernel file: streams, memory, errors.
 *
 * Neutral C/C++ (no <stdatomic.h>, no ct_tensor): .cu files include it, and so do the C files in
 * tensor/cuda/ that turn tensors into raw pointers and launch parameters. Kernels are launched
 * through extern "C" functions that take plain pointers, sizes and strides, on the stream
 * ct__cuda_stream(device) returns; they return a cudaError_t, which the C side turns into a ct
 * error with ct__cuda_check. */
#ifndef CTORCH_CUDA_IMPL_H
#define CTORCH_CUDA_IMPL_H

#include <cuda_runtime.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The stream that ops on `device` run on (the device's current stream; every op of one thread
 * is ordered on it). Also makes `device` the calling thread's current CUDA device. */
cudaStream_t ct__cuda_stream(int device);
/* true when e is cudaSuccess; otherwise records "op: CUDA error on cuda:N: <message>" (clearing
 * CUDA's sticky last error) and returns false. */
bool ct__cuda_check(const char *op, int device, cudaError_t e);
/* Device memory through the caching allocator, ordered on ct__cuda_stream(device): workspaces
 * and temporaries. NULL with a ct error (CT_ERR_OOM naming the sizes) on failure. */
void *ct__cuda_alloc(size_t nbytes, int device);
void ct__cuda_free(void *ptr, int device);
/* Multiprocessors of the device (for grid sizes). */
int ct__cuda_sm_count(int device);

#ifdef __cplusplus
}
#endif
#endif /* CTORCH_CUDA_IMPL_H */
