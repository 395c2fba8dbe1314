/* The CUDA memory backend: device count, allocation and copies through the CUDA runtime.
 * Plain cudaMalloc for now; issue 6 replaces it with the caching allocator. */
#include "../device_impl.h"
#include "cuda_impl.h"

#include <cuda_runtime.h>
#include <stdlib.h>

static int cuda_device_count(void) {
    /* Probed once: cudaGetDeviceCount initialises the driver, which is slow and fails the same
     * way every time on a machine without a GPU. */
    static _Atomic int cached = -1;
    int n = cached;
    if (n < 0) {
        int count = 0;
        if (cudaGetDeviceCount(&count) != cudaSuccess) {
            count = 0;
            (void)cudaGetLastError(); /* clear the sticky "no device" error */
        }
        cached = n = count;
    }
    return n;
}

static void *cuda_alloc(size_t nbytes, int index) {
    void *p = NULL;
    cudaError_t e = cudaSetDevice(index);
    if (e == cudaSuccess) e = cudaMalloc(&p, nbytes);
    if (e != cudaSuccess) {
        (void)cudaGetLastError();
        return ct_error(e == cudaErrorMemoryAllocation ? CT_ERR_OOM : CT_ERR_DEVICE,
                        "CUDA out of memory or error on cuda:%d: tried to allocate %zu bytes (%s)", index, nbytes,
                        cudaGetErrorString(e));
    }
    return p;
}

static void cuda_free(void *ptr, int index) {
    if (cudaSetDevice(index) == cudaSuccess) cudaFree(ptr);
}

static bool cuda_copy(void *dst, ct_device dd, const void *src, ct_device sd, size_t n) {
    enum cudaMemcpyKind kind = dd.type == CT_DEVICE_CUDA
                                   ? (sd.type == CT_DEVICE_CUDA ? cudaMemcpyDeviceToDevice : cudaMemcpyHostToDevice)
                                   : cudaMemcpyDeviceToHost;
    cudaError_t e = cudaMemcpy(dst, src, n, kind);
    if (e != cudaSuccess) {
        ct_error(CT_ERR_DEVICE, "CUDA copy of %zu bytes from %s to %s failed: %s", n, ct_device_name(sd),
                 ct_device_name(dd), cudaGetErrorString(e));
        return false;
    }
    return true;
}

static void cuda_synchronize(int index) {
    if (cudaSetDevice(index) == cudaSuccess) cudaDeviceSynchronize();
}

const ct_device_backend ct__cuda_device_backend = {
    "cuda", cuda_device_count, cuda_alloc, cuda_free, cuda_copy, cuda_synchronize,
};

/* ---- the shared runtime of cuda_impl.h (the legacy default stream until streams arrive) ---- */

cudaStream_t ct__cuda_stream(int device) {
    (void)cudaSetDevice(device);
    return (cudaStream_t)0;
}

bool ct__cuda_check(const char *op, int device, cudaError_t e) {
    if (e == cudaSuccess) return true;
    (void)cudaGetLastError();
    ct_error(e == cudaErrorMemoryAllocation ? CT_ERR_OOM : CT_ERR_DEVICE, "%s: CUDA error on cuda:%d: %s", op, device,
             cudaGetErrorString(e));
    return false;
}

void *ct__cuda_alloc(size_t nbytes, int device) { return cuda_alloc(nbytes, device); }

void ct__cuda_free(void *ptr, int device) { cuda_free(ptr, device); }

int ct__cuda_sm_count(int device) {
    int n = 0;
    if (cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, device) != cudaSuccess) {
        (void)cudaGetLastError();
        n = 1;
    }
    return n;
}

/* ---- page-locked host memory ---- */

static void free_pinned(ct_storage *s) {
    if (s->data) cudaFreeHost(s->data);
}

ct_storage *ct__cuda_pinned_storage_new(size_t nbytes) {
    ct_storage *s = malloc(sizeof *s);
    if (!s) return ct_error(CT_ERR_OOM, "CPU out of memory allocating a storage header");
    s->data = NULL;
    cudaError_t e = nbytes ? cudaHostAlloc(&s->data, nbytes, cudaHostAllocDefault) : cudaSuccess;
    if (e != cudaSuccess) {
        free(s);
        (void)cudaGetLastError();
        return ct_error(CT_ERR_OOM, "pin_memory: could not allocate %zu bytes of page-locked host memory (%s)", nbytes,
                        cudaGetErrorString(e));
    }
    atomic_init(&s->refcount, 1);
    atomic_init(&s->version, 0);
    s->nbytes = nbytes;
    s->device = CT_CPU;
    s->free_data = free_pinned;
    return s;
}

bool ct__cuda_is_pinned(const void *ptr) {
    struct cudaPointerAttributes a;
    if (!ptr || cudaPointerGetAttributes(&a, ptr) != cudaSuccess) {
        (void)cudaGetLastError();
        return false;
    }
    return a.type == cudaMemoryTypeHost;
}
