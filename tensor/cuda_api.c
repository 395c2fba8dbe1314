/* The public CUDA runtime API (ctorch/cuda.h) in every build: arguments and the device are
 * checked here, then the work is forwarded to tensor/cuda/ (CUDA builds only). Without CUDA, or
 * without a GPU, queries answer 0 and calls that need a device fail with CT_ERR_DEVICE through
 * ct__check_device's messages. */
#include "device_impl.h"

#include "ctorch/cuda.h"

#ifdef CT_HAVE_CUDA
#include "cuda/runtime_impl.h"
#define FORWARD(call, fallback) return call
#else
#define FORWARD(call, fallback) return fallback
#endif

static bool check_stream(const char *op, const ct_cuda_stream *s) {
    if (!s) {
        ct_error(CT_ERR_NULL, "%s: the stream is NULL", op);
        return false;
    }
    return true;
}

/* Statistics are queries: 0 without a GPU, an error only for an ordinal that does not exist. */
static bool stats_device(int device) {
    return ct_cuda_is_available() && ct__check_device("cuda memory statistics", CT_CUDA(device));
}

int ct_cuda_current_device(void) {
    if (!ct_cuda_is_available()) return 0;
    FORWARD(ct__cuda_current_device(), 0);
}

bool ct_cuda_set_device(int device) {
    if (!ct__check_device("set_device", CT_CUDA(device))) return false;
    FORWARD(ct__cuda_set_device(device), false);
}

bool ct_cuda_synchronize(int device) {
    if (!ct__check_device("synchronize", CT_CUDA(device))) return false;
    FORWARD(ct__cuda_device_synchronize(device), false);
}

ct_cuda_stream *ct_cuda_stream_new(int device) {
    if (!ct__check_device("cuda_stream_new", CT_CUDA(device))) return NULL;
    FORWARD(ct__cuda_stream_new(device), NULL);
}

void ct_cuda_stream_free(ct_cuda_stream *s) {
#ifdef CT_HAVE_CUDA
    if (s) ct__cuda_stream_free(s);
#else
    (void)s; /* no stream can exist */
#endif
}

bool ct_cuda_stream_synchronize(ct_cuda_stream *s) {
    if (!check_stream("cuda_stream_synchronize", s)) return false;
    FORWARD(ct__cuda_stream_synchronize(s), false);
}

bool ct_cuda_stream_wait_stream(ct_cuda_stream *s, ct_cuda_stream *other) {
    if (!check_stream("cuda_stream_wait_stream", s) || !check_stream("cuda_stream_wait_stream", other)) return false;
#ifdef CT_HAVE_CUDA
    if (ct__cuda_stream_device(s) != ct__cuda_stream_device(other)) {
        ct_error(CT_ERR_DEVICE, "cuda_stream_wait_stream: the streams are on different devices (cuda:%d and cuda:%d)",
                 ct__cuda_stream_device(s), ct__cuda_stream_device(other));
        return false;
    }
#endif
    FORWARD(ct__cuda_stream_wait_stream(s, other), false);
}

int ct_cuda_stream_device(const ct_cuda_stream *s) {
    if (!check_stream("cuda_stream_device", s)) return -1;
    FORWARD(ct__cuda_stream_device(s), -1);
}

ct_cuda_stream *ct_cuda_default_stream(int device) {
    if (!ct__check_device("default_stream", CT_CUDA(device))) return NULL;
    FORWARD(ct__cuda_default_stream(device), NULL);
}

ct_cuda_stream *ct_cuda_current_stream(int device) {
    if (!ct__check_device("current_stream", CT_CUDA(device))) return NULL;
    FORWARD(ct__cuda_current_stream(device), NULL);
}

ct_cuda_stream *ct_cuda_set_stream(ct_cuda_stream *s) {
    if (!check_stream("set_stream", s)) return NULL;
    FORWARD(ct__cuda_set_stream(s), NULL);
}

ct_cuda_memory_stats ct_cuda_get_memory_stats(int device) {
    if (!stats_device(device)) return (ct_cuda_memory_stats){0};
    FORWARD(ct__cuda_memory_stats(device), (ct_cuda_memory_stats){0});
}

int64_t ct_cuda_memory_allocated(int device) { return ct_cuda_get_memory_stats(device).allocated_bytes; }
int64_t ct_cuda_max_memory_allocated(int device) { return ct_cuda_get_memory_stats(device).peak_allocated_bytes; }
int64_t ct_cuda_memory_reserved(int device) { return ct_cuda_get_memory_stats(device).reserved_bytes; }
int64_t ct_cuda_max_memory_reserved(int device) { return ct_cuda_get_memory_stats(device).peak_reserved_bytes; }

void ct_cuda_reset_peak_memory_stats(int device) {
    if (!stats_device(device)) return;
#ifdef CT_HAVE_CUDA
    ct__cuda_reset_peak_memory_stats(device);
#endif
}

void ct_cuda_empty_cache(void) {
#ifdef CT_HAVE_CUDA
    ct__cuda_empty_cache();
#endif
}
