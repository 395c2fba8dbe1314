/* Storages: small CPU storage keeps its data inline after the header in one 64-byte aligned block
 * (one allocation per tensor result); large CPU storage comes from the host block cache; device
 * storage asks the device's backend. */
#include "cpu/host_cache.h"
#include "device_impl.h"

#include <stdlib.h>

#define STORAGE_HEADER 64 /* sizeof(ct_storage) rounded up, keeps data 64-byte aligned */
_Static_assert(sizeof(ct_storage) <= STORAGE_HEADER, "storage header outgrew its slot");

#define INLINE_MAX (1u << 16) /* the host cache takes over from here */

static void free_host_block(ct_storage *s) { ct__host_free(s->data, s->nbytes); }

static void free_device_data(ct_storage *s) {
    const ct_device_backend *b = ct__device_backend(s->device);
    if (b && s->data) b->free(s->data, s->device.index);
}

ct_storage *ct__storage_new(size_t nbytes, ct_device device) {
    if (device.type == CT_DEVICE_CPU && nbytes < INLINE_MAX) {
        void *block = NULL;
        if (nbytes > SIZE_MAX - STORAGE_HEADER || posix_memalign(&block, 64, STORAGE_HEADER + nbytes) != 0)
            return ct_error(CT_ERR_OOM, "CPU out of memory: tried to allocate %zu bytes", nbytes);
        ct_storage *s = block;
        atomic_init(&s->refcount, 1);
        atomic_init(&s->version, 0);
        s->data = (char *)block + STORAGE_HEADER;
        s->nbytes = nbytes;
        s->device = device;
        s->free_data = NULL;
        return s;
    }
    const ct_device_backend *b = ct__device_backend(device);
    if (!b) return ct_error(CT_ERR_DEVICE, "no backend for device %s in this build", ct_device_name(device));
    ct_storage *s = malloc(sizeof *s);
    if (!s) return ct_error(CT_ERR_OOM, "CPU out of memory allocating a storage header");
    bool host = device.type == CT_DEVICE_CPU;
    s->data = host ? ct__host_alloc(nbytes) : nbytes ? b->alloc(nbytes, device.index) : NULL;
    if (nbytes && !s->data) {
        free(s);
        if (host) return ct_error(CT_ERR_OOM, "CPU out of memory: tried to allocate %zu bytes", nbytes);
        return NULL; /* the backend recorded the error */
    }
    atomic_init(&s->refcount, 1);
    atomic_init(&s->version, 0);
    s->nbytes = nbytes;
    s->device = device;
    s->free_data = host ? free_host_block : free_device_data;
    return s;
}

void ct__storage_release(ct_storage *s) {
    if (!s || atomic_fetch_sub_explicit(&s->refcount, 1, memory_order_acq_rel) != 1) return;
    if (s->free_data) {
        s->free_data(s);
        free(s);
    } else {
        free(s); /* data is inline */
    }
}
