/* A cache of CPU blocks from 64 KiB up. Training loops allocate the same activations every step;
 * glibc serves blocks over its mmap threshold (128 KiB at first, adapting up to 32 MiB) with fresh
 * mmaps and trims its heap when the top is free, so every step would pay page faults and kernel
 * zeroing again (on the 2-core machine, a third of an MLP step). Freed blocks are kept in size
 * classes (8 per doubling, so at most 12.5% slack) and handed back to the next request of the same
 * class. The cache is bounded (CT_CPU_CACHE_MB, default 2048) and emptied by ct_shutdown. */
#include "../tensor_impl.h"
#include "host_cache.h"

#include <pthread.h>
#include <stdlib.h>

#define MIN_CACHED (1u << 16)
#define NUM_CLASSES 512

typedef struct block {
    struct block *next;
} block;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static block *free_lists[NUM_CLASSES];
static size_t cached_bytes, cache_limit;

/* Class k covers sizes up to class_size(k); 8 classes per power of two from 64 KiB. */
static size_t class_size(int k) { return (size_t)(8 + k % 8) << (13 + k / 8); }

static int class_of(size_t nbytes) {
    for (int k = 0; k < NUM_CLASSES && k / 8 < 40; k++)
        if (class_size(k) >= nbytes) return k;
    return -1;
}

static size_t limit(void) {
    if (!cache_limit) {
        const char *env = getenv("CT_CPU_CACHE_MB");
        long mb = env ? atol(env) : 2048;
        cache_limit = (size_t)(mb > 0 ? mb : 0) << 20;
        if (!cache_limit) cache_limit = 1; /* caching disabled, but "decided" */
    }
    return cache_limit;
}

size_t ct__host_block_size(size_t nbytes) {
    int k = nbytes >= MIN_CACHED ? class_of(nbytes) : -1;
    return k < 0 ? nbytes : class_size(k);
}

void *ct__host_alloc(size_t nbytes) {
    int k = nbytes >= MIN_CACHED ? class_of(nbytes) : -1;
    if (k >= 0) {
        pthread_mutex_lock(&lock);
        block *b = free_lists[k];
        if (b) {
            free_lists[k] = b->next;
            cached_bytes -= class_size(k);
        }
        pthread_mutex_unlock(&lock);
        if (b) return b;
        nbytes = class_size(k);
    }
    void *p = NULL;
    return posix_memalign(&p, 64, nbytes ? nbytes : 1) == 0 ? p : NULL;
}

void ct__host_free(void *p, size_t nbytes) {
    int k = nbytes >= MIN_CACHED ? class_of(nbytes) : -1;
    if (k >= 0) {
        pthread_mutex_lock(&lock);
        if (cached_bytes + class_size(k) <= limit()) {
            block *b = p;
            b->next = free_lists[k];
            free_lists[k] = b;
            cached_bytes += class_size(k);
            p = NULL;
        }
        pthread_mutex_unlock(&lock);
    }
    free(p);
}

void ct__host_cache_empty(void) {
    pthread_mutex_lock(&lock);
    for (int k = 0; k < NUM_CLASSES; k++) {
        while (free_lists[k]) {
            block *b = free_lists[k];
            free_lists[k] = b->next;
            free(b);
        }
    }
    cached_bytes = 0;
    pthread_mutex_unlock(&lock);
}
