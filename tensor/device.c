/* Devices: names, availability, and the per-device memory backends. */
#include "cpu/host_cache.h"
#include "device_impl.h"

#include "ctorch/cuda.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cpu_device_count(void) { return 1; }
static void *cpu_alloc(size_t nbytes, int index) {
    (void)index;
    void *p = NULL;
    if (posix_memalign(&p, 64, nbytes ? nbytes : 1) != 0)
        return ct_error(CT_ERR_OOM, "CPU out of memory: tried to allocate %zu bytes", nbytes);
    return p;
}
static void cpu_free(void *ptr, int index) {
    (void)index;
    free(ptr);
}
static bool cpu_copy(void *dst, ct_device dd, const void *src, ct_device sd, size_t n) {
    (void)dd;
    (void)sd;
    memcpy(dst, src, n);
    return true;
}
static void cpu_synchronize(int index) { (void)index; }

static const ct_device_backend cpu_backend = {
    "cpu", cpu_device_count, cpu_alloc, cpu_free, cpu_copy, cpu_synchronize,
};

const ct_device_backend *ct__device_backend(ct_device device) {
    switch (device.type) {
    case CT_DEVICE_CPU: return &cpu_backend;
#ifdef CT_HAVE_CUDA
    case CT_DEVICE_CUDA: return &ct__cuda_device_backend;
#endif
    default: return NULL;
    }
}

bool ct_device_equal(ct_device a, ct_device b) {
    return a.type == b.type && (a.type == CT_DEVICE_CPU || a.index == b.index);
}

const char *ct_device_name(ct_device device) {
    static _Thread_local char ring[8][24];
    static _Thread_local unsigned next;
    char *buf = ring[next++ % 8];
    if (device.type == CT_DEVICE_CPU)
        snprintf(buf, sizeof ring[0], "cpu");
    else if (device.type == CT_DEVICE_CUDA)
        snprintf(buf, sizeof ring[0], "cuda:%d", device.index);
    else
        snprintf(buf, sizeof ring[0], "device(type=%d)", device.type);
    return buf;
}

int ct_cuda_device_count(void) {
    const ct_device_backend *b = ct__device_backend(CT_CUDA(0));
    return b ? b->device_count() : 0;
}

bool ct_cuda_is_available(void) { return ct_cuda_device_count() > 0; }

bool ct__check_device(const char *op, ct_device device) {
    if (device.type == CT_DEVICE_CPU) return true;
    if (device.type != CT_DEVICE_CUDA) {
        ct_error(CT_ERR_DEVICE, "%s: unknown device type %d", op, device.type);
        return false;
    }
    const ct_device_backend *b = ct__device_backend(device);
    if (!b) {
        ct_error(CT_ERR_DEVICE, "%s: ctorch was built without CUDA support, cannot use %s", op,
                 ct_device_name(device));
        return false;
    }
    int count = b->device_count();
    if (count == 0) {
        ct_error(CT_ERR_DEVICE, "%s: CUDA is not available (no GPU found), cannot use %s", op,
                 ct_device_name(device));
        return false;
    }
    if (device.index < 0 || device.index >= count) {
        ct_error(CT_ERR_DEVICE, "%s: invalid device ordinal %s (this machine has %d CUDA device%s)", op,
                 ct_device_name(device), count, count == 1 ? "" : "s");
        return false;
    }
    return true;
}

void ct__backends_init(void) { (void)ct_cuda_device_count(); }
void ct__backends_shutdown(void) {
    ct__host_cache_empty();
    ct_cuda_empty_cache();
}
