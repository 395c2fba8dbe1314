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

/* Devices. The current device belongs to the calling thread (as in CUDA); ops run on their
 * tensors' device whatever it is, so it matters only for the calls below that default to it in
 * PyTorch. Without a GPU the current device reads 0 and setting one fails. */
int ct_cuda_current_device(void);
bool ct_cuda_set_device(int device);
/* Waits until all work queued on the device, on every stream, has finished (torch.cuda.synchronize). */
bool ct_cuda_synchronize(int device);

/* Streams (torch.cuda.Stream). Each device's default stream is CUDA's legacy default stream, as
 * PyTorch's is: it orders with every blocking call and library. Streams made here are
 * non-blocking (they run concurrently with the default stream; order them with
 * ct_cuda_stream_wait_stream or a synchronize). Every op a thread queues on a device goes to the
 * thread's current stream of that device. */
typedef struct ct_cuda_stream ct_cuda_stream;
ct_cuda_stream *ct_cuda_stream_new(int device);
/* Waits for the stream's work, then destroys it; the default stream and NULL are ignored. A
 * stream that is current in the calling thread stops being so; it must not be current in another. */
void ct_cuda_stream_free(ct_cuda_stream *s);
bool ct_cuda_stream_synchronize(ct_cuda_stream *s);
/* Work queued on s from now on waits for the work queued on `other` so far, without blocking the
 * host (torch's s.wait_stream(other)); both on one device. */
bool ct_cuda_stream_wait_stream(ct_cuda_stream *s, ct_cuda_stream *other);
int ct_cuda_stream_device(const ct_cuda_stream *s);
ct_cuda_stream *ct_cuda_default_stream(int device);
ct_cuda_stream *ct_cuda_current_stream(int device);
/* Makes s the calling thread's current stream of its device (torch.cuda.set_stream; the
 * `with torch.cuda.stream(s)` block is `prev = ct_cuda_set_stream(s); ...; ct_cuda_set_stream(prev)`).
 * Returns the stream that was current before, NULL on error. */
ct_cuda_stream *ct_cuda_set_stream(ct_cuda_stream *s);

/* Device memory goes through a caching allocator (docs/cuda.md): freed blocks stay reserved for
 * reuse on the stream they were allocated on. Statistics are per device; sizes are the allocator's
 * rounded block sizes (multiples of 512 bytes), as torch.cuda.memory_allocated counts them. */
typedef struct ct_cuda_memory_stats {
    int64_t allocated_bytes;      /* in blocks handed out now (torch.cuda.memory_allocated) */
    int64_t peak_allocated_bytes; /* highest allocated_bytes since start or the last reset */
    int64_t reserved_bytes;       /* obtained from cudaMalloc and not yet released (memory_reserved) */
    int64_t peak_reserved_bytes;
    int64_t num_allocs, num_frees; /* blocks handed out and given back */
    int64_t num_cuda_mallocs, num_cuda_frees;
    int64_t num_alloc_retries; /* cudaMalloc failures answered by releasing the cache and retrying */
    int64_t num_ooms;          /* allocations that failed even after the retry (CT_ERR_OOM) */
} ct_cuda_memory_stats;
/* All zero for a device that has not allocated, and on a machine without a GPU. */
ct_cuda_memory_stats ct_cuda_get_memory_stats(int device);
int64_t ct_cuda_memory_allocated(int device);
int64_t ct_cuda_max_memory_allocated(int device);
int64_t ct_cuda_memory_reserved(int device);
int64_t ct_cuda_max_memory_reserved(int device);
/* Peaks restart from the current values (torch.cuda.reset_peak_memory_stats). */
void ct_cuda_reset_peak_memory_stats(int device);
/* Returns every cached segment with no block in use to CUDA (torch.cuda.empty_cache). */
void ct_cuda_empty_cache(void);

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
