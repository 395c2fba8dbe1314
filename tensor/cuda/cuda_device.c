/* The CUDA memory backend: device count, storage memory, copies, pinned host storages. */
#include "../device_impl.h"
#include "cuda_impl.h"
#include "runtime_impl.h"

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
        if (count > CT__CUDA_MAX_DEVICES) count = CT__CUDA_MAX_DEVICES; /* the runtime's per-device arrays */
        cached = n = count;
    }
    return n;
}

/* Storage memory comes from the caching allocator (cuda_allocator.c), on the current stream. */
static void *cuda_alloc(size_t nbytes, int index) { return ct__cuda_alloc(nbytes, index); }

static void cuda_free(void *ptr, int index) { ct__cuda_free(ptr, index); }

/* Copies are queued on the current stream of the GPU side, ordered after the ops that wrote the
 * source there:
 * - host -> device returns without waiting. From pinned memory the DMA runs asynchronously, so
 *   the host buffer must not be written before the stream has passed the copy (as with
 *   PyTorch's non_blocking=True; the tensors owning pinned buffers keep them alive, and
 *   cudaFreeHost waits for the device). From pageable memory CUDA stages the data before
 *   cudaMemcpyAsync returns, so the source may change right after.
 * - device -> host waits for the stream: the caller reads the host memory next.
 * - device -> device on one GPU stays queued; between two GPUs the source's stream is finished
 *   first, then the peer copy is queued on the destination's stream. */
static bool cuda_copy(void *dst, ct_device dd, const void *src, ct_device sd, size_t n) {
    cudaError_t e;
    int device;
    if (sd.type != CT_DEVICE_CUDA) {
        device = dd.index;
        e = cudaMemcpyAsync(dst, src, n, cudaMemcpyHostToDevice, ct__cuda_stream(device));
    } else if (dd.type != CT_DEVICE_CUDA) {
        device = sd.index;
        cudaStream_t stream = ct__cuda_stream(device);
        e = cudaMemcpyAsync(dst, src, n, cudaMemcpyDeviceToHost, stream);
        if (e == cudaSuccess) e = cudaStreamSynchronize(stream);
    } else if (sd.index == dd.index) {
        device = dd.index;
        e = cudaMemcpyAsync(dst, src, n, cudaMemcpyDeviceToDevice, ct__cuda_stream(device));
    } else {
        device = sd.index;
        e = cudaStreamSynchronize(ct__cuda_stream(sd.index));
        if (e == cudaSuccess) {
            device = dd.index;
            e = cudaMemcpyPeerAsync(dst, dd.index, src, sd.index, n, ct__cuda_stream(dd.index));
        }
    }
    if (e != cudaSuccess) {
        (void)cudaGetLastError();
        ct_error(CT_ERR_DEVICE, "CUDA copy of %zu bytes from %s to %s failed on cuda:%d: %s", n, ct_device_name(sd),
                 ct_device_name(dd), device, cudaGetErrorString(e));
        return false;
    }
    return true;
}

static void cuda_synchronize(int index) { (void)ct__cuda_device_synchronize(index); }

const ct_device_backend ct__cuda_device_backend = {
    "cuda", cuda_device_count, cuda_alloc, cuda_free, cuda_copy, cuda_synchronize,
};

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
