/* The CUDA side of the public runtime API (ctorch/cuda.h): tensor/cuda_api.c validates arguments
 * and checks that a GPU exists, in every build, then forwards here (CUDA builds only). Plain C
 * types, so the always-compiled file need not see <cuda_runtime.h>. */
#ifndef CTORCH_CUDA_RUNTIME_IMPL_H
#define CTORCH_CUDA_RUNTIME_IMPL_H

#include "ctorch/cuda.h"

/* Per-device state is kept in fixed arrays of this many devices. */
#define CT__CUDA_MAX_DEVICES 64

/* cuda_stream.c */
int ct__cuda_current_device(void);
bool ct__cuda_set_device(int device);
bool ct__cuda_device_synchronize(int device);
ct_cuda_stream *ct__cuda_stream_new(int device);
void ct__cuda_stream_free(ct_cuda_stream *s);
bool ct__cuda_stream_synchronize(ct_cuda_stream *s);
bool ct__cuda_stream_wait_stream(ct_cuda_stream *s, ct_cuda_stream *other);
int ct__cuda_stream_device(const ct_cuda_stream *s);
ct_cuda_stream *ct__cuda_default_stream(int device);
ct_cuda_stream *ct__cuda_current_stream(int device);
ct_cuda_stream *ct__cuda_set_stream(ct_cuda_stream *s);

/* cuda_allocator.c */
ct_cuda_memory_stats ct__cuda_memory_stats(int device);
void ct__cuda_reset_peak_memory_stats(int device);
void ct__cuda_empty_cache(void);

#endif /* CTORCH_CUDA_RUNTIME_IMPL_H */
