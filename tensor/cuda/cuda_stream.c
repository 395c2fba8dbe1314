/* Devices and streams: the current device, each thread's current stream per device, errors.
 *
 * The default stream of every device is CUDA's legacy default stream (handle 0), as PyTorch's
 * is: it orders with every synchronous CUDA call and with libraries left on their default
 * stream, so nothing queued elsewhere can race with ops. Streams made by ct_cuda_stream_new are
 * non-blocking (PyTorch's pool streams are too): they overlap with the default stream, and the
 * program orders them with ct_cuda_stream_wait_stream or a synchronize. The current stream is a
 * per-thread, per-device pointer (NULL = default), as torch.cuda.current_stream. */
#include "cuda_impl.h"
#include "runtime_impl.h"

#include <pthread.h>
#include <stdlib.h>

struct ct_cuda_stream {
    cudaStream_t handle;
    int device;
    bool owned; /* made by ct_cuda_stream_new (the default streams are not) */
};

static ct_cuda_stream default_streams[CT__CUDA_MAX_DEVICES];
static pthread_once_t default_once = PTHREAD_ONCE_INIT;
static _Thread_local ct_cuda_stream *current[CT__CUDA_MAX_DEVICES];

static void init_default_streams(void) {
    for (int i = 0; i < CT__CUDA_MAX_DEVICES; i++) default_streams[i] = (ct_cuda_stream){(cudaStream_t)0, i, false};
}

/* cudaSetDevice only when needed: it is cheap, but ops call this on every launch. */
static bool use_device(int device) {
    int cur = -1;
    if (cudaGetDevice(&cur) == cudaSuccess && cur == device) return true;
    cudaError_t e = cudaSetDevice(device);
    if (e != cudaSuccess) (void)cudaGetLastError();
    return e == cudaSuccess;
}

/* ---- cuda_impl.h ---- */

cudaStream_t ct__cuda_stream(int device) {
    (void)use_device(device);
    ct_cuda_stream *s = device >= 0 && device < CT__CUDA_MAX_DEVICES ? current[device] : NULL;
    return s ? s->handle : (cudaStream_t)0;
}

bool ct__cuda_check(const char *op, int device, cudaError_t e) {
    if (e == cudaSuccess) return true;
    (void)cudaGetLastError();
    ct_error(e == cudaErrorMemoryAllocation ? CT_ERR_OOM : CT_ERR_DEVICE, "%s: CUDA error on cuda:%d: %s", op, device,
             cudaGetErrorString(e));
    return false;
}

int ct__cuda_sm_count(int device) {
    int n = 0;
    if (cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, device) != cudaSuccess) {
        (void)cudaGetLastError();
        n = 1;
    }
    return n;
}

/* ---- runtime_impl.h (arguments already checked by cuda_api.c) ---- */

int ct__cuda_current_device(void) {
    int d = 0;
    if (cudaGetDevice(&d) != cudaSuccess) {
        (void)cudaGetLastError();
        d = 0;
    }
    return d;
}

bool ct__cuda_set_device(int device) { return ct__cuda_check("set_device", device, cudaSetDevice(device)); }

bool ct__cuda_device_synchronize(int device) {
    return use_device(device) && ct__cuda_check("synchronize", device, cudaDeviceSynchronize());
}

ct_cuda_stream *ct__cuda_stream_new(int device) {
    ct_cuda_stream *s = malloc(sizeof *s);
    if (!s) return ct_error(CT_ERR_OOM, "cuda_stream_new: CPU out of memory");
    *s = (ct_cuda_stream){NULL, device, true};
    if (!use_device(device) ||
        !ct__cuda_check("cuda_stream_new", device, cudaStreamCreateWithFlags(&s->handle, cudaStreamNonBlocking))) {
        free(s);
        return NULL;
    }
    return s;
}

void ct__cuda_stream_free(ct_cuda_stream *s) {
    if (!s->owned) return;
    if (current[s->device] == s) current[s->device] = NULL;
    /* Blocks this stream freed stay in its free list, reusable again only by a stream that gets
     * the same handle; its work is finished here, so that is safe, and empty_cache returns them. */
    if (use_device(s->device)) {
        (void)cudaStreamSynchronize(s->handle);
        (void)cudaStreamDestroy(s->handle);
        (void)cudaGetLastError();
    }
    free(s);
}

bool ct__cuda_stream_synchronize(ct_cuda_stream *s) {
    return use_device(s->device) && ct__cuda_check("cuda_stream_synchronize", s->device, cudaStreamSynchronize(s->handle));
}

bool ct__cuda_stream_wait_stream(ct_cuda_stream *s, ct_cuda_stream *other) {
    if (s->handle == other->handle) return true;
    if (!use_device(s->device)) return ct__cuda_check("cuda_stream_wait_stream", s->device, cudaErrorInvalidDevice);
    cudaEvent_t ev;
    if (!ct__cuda_check("cuda_stream_wait_stream", s->device, cudaEventCreateWithFlags(&ev, cudaEventDisableTiming)))
        return false;
    bool ok = ct__cuda_check("cuda_stream_wait_stream", s->device, cudaEventRecord(ev, other->handle)) &&
              ct__cuda_check("cuda_stream_wait_stream", s->device, cudaStreamWaitEvent(s->handle, ev, 0));
    (void)cudaEventDestroy(ev); /* released once the wait has happened; the wait stays queued */
    return ok;
}

int ct__cuda_stream_device(const ct_cuda_stream *s) { return s->device; }

ct_cuda_stream *ct__cuda_default_stream(int device) {
    pthread_once(&default_once, init_default_streams);
    return &default_streams[device];
}

ct_cuda_stream *ct__cuda_current_stream(int device) {
    return current[device] ? current[device] : ct__cuda_default_stream(device);
}

ct_cuda_stream *ct__cuda_set_stream(ct_cuda_stream *s) {
    ct_cuda_stream *prev = ct__cuda_current_stream(s->device);
    current[s->device] = s->owned ? s : NULL;
    return prev;
}
