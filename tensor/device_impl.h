/* What a device must provide for memory: the slot through which CPU and CUDA storage work.
 * Kernels for ops live in per-area tables (see e.g. elementwise_impl.h), not here. */
#ifndef CTORCH_DEVICE_IMPL_H
#define CTORCH_DEVICE_IMPL_H

#include "tensor_impl.h"

typedef struct ct_device_backend {
    const char *name;
    int (*device_count)(void); /* usable devices now; 0 when none */
    void *(*alloc)(size_t nbytes, int index);
    void (*free)(void *ptr, int index);
    /* Copies n bytes between any two devices of which one is this backend's; false on failure
     * with the error recorded. */
    bool (*copy)(void *dst, ct_device dst_device, const void *src, ct_device src_device, size_t n);
    void (*synchronize)(int index);
} ct_device_backend;

/* NULL where this build has no such backend. */
const ct_device_backend *ct__device_backend(ct_device device);
/* Checks that the device exists and is usable; false with a message naming it otherwise. */
bool ct__check_device(const char *op, ct_device device);

#ifdef CT_HAVE_CUDA
extern const ct_device_backend ct__cuda_device_backend;
/* A CPU storage of page-locked host memory (cudaHostAlloc), so copies to the GPU can be async. */
ct_storage *ct__cuda_pinned_storage_new(size_t nbytes);
/* Whether a CPU pointer is page-locked memory CUDA knows about. */
bool ct__cuda_is_pinned(const void *ptr);
#endif

#endif /* CTORCH_DEVICE_IMPL_H */
