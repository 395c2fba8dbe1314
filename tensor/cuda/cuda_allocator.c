/* The caching device allocator: PyTorch's CUDACachingAllocator in miniature.
 *
 * cudaMalloc and cudaFree are slow (cudaFree also synchronizes the device), so memory is taken
 * from CUDA in segments and never given back until empty_cache or an out-of-memory retry. A
 * segment is a chain of blocks (address order, prev/next); a request takes the best-fitting
 * free block of its pool and splits off the rest; a freed block merges with free neighbours.
 *
 * Sizes: requests round up to 512 bytes. Blocks up to 1 MiB form the small pool and come from
 * 2 MiB segments; larger ones form the large pool: requests under 10 MiB share 20 MiB segments,
 * bigger ones get a segment of their size rounded up to 2 MiB. A small block is split when at
 * least 512 bytes remain, a large one only when more than 1 MiB remains (smaller rests would
 * only fragment the large pool); an unsplit block is handed out whole and counted whole.
 *
 * Streams: each block belongs to the stream it was allocated on (a segment to the stream of its
 * first request, so neighbours always share one) and goes back to that stream's free list when
 * freed, without waiting: later work on the same stream is ordered after the work that used it,
 * so reuse on that stream is safe, and no other stream gets it. Memory used on a second stream
 * must therefore be synchronized (or waited for) before it is freed; there is no record_stream.
 *
 * Free lists are arrays sorted by (stream, size, address): the best fit is the first entry at or
 * after (stream, size, 0). Blocks in use are found from their pointer through a hash table. One
 * mutex per device guards all of it (the DataLoader's threads allocate too). */
#include "cuda_impl.h"
#include "runtime_impl.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MIN_BLOCK ((size_t)512)
#define SMALL_SIZE ((size_t)1 << 20)
#define SMALL_SEGMENT ((size_t)2 << 20)
#define LARGE_SEGMENT ((size_t)20 << 20)
#define MIN_LARGE_ALLOC ((size_t)10 << 20)
#define ROUND_LARGE ((size_t)2 << 20)
#define MAX_REQUEST (SIZE_MAX / 4) /* rounding up never overflows below this */

typedef struct block {
    char *ptr;
    size_t size;
    cudaStream_t stream;
    bool allocated;
    bool small;                /* which pool */
    struct block *prev, *next; /* neighbours in the segment */
    struct block *hash_next;   /* chain in the table of blocks in use */
} block;

typedef struct pool {
    block **items; /* free blocks sorted by (stream, size, ptr) */
    size_t n, cap;
} pool;

typedef struct device_state {
    pthread_mutex_t mutex;
    pool small, large;
    block **table; /* blocks in use, chained by hash of ptr; table_cap is a power of two */
    size_t table_cap, table_n;
    ct_cuda_memory_stats stats;
} device_state;

static device_state devices[CT__CUDA_MAX_DEVICES];
static pthread_once_t devices_once = PTHREAD_ONCE_INIT;

static void init_devices(void) {
    for (int i = 0; i < CT__CUDA_MAX_DEVICES; i++) pthread_mutex_init(&devices[i].mutex, NULL);
}

static device_state *state(int device) {
    pthread_once(&devices_once, init_devices);
    return &devices[device];
}

static size_t round_size(size_t n) { return n < MIN_BLOCK ? MIN_BLOCK : (n + MIN_BLOCK - 1) / MIN_BLOCK * MIN_BLOCK; }

static size_t segment_size(size_t size) {
    if (size <= SMALL_SIZE) return SMALL_SEGMENT;
    if (size < MIN_LARGE_ALLOC) return LARGE_SEGMENT;
    return (size + ROUND_LARGE - 1) / ROUND_LARGE * ROUND_LARGE;
}

/* ---- free lists ---- */

static bool key_less(const block *b, cudaStream_t stream, size_t size, uintptr_t ptr) {
    if ((uintptr_t)b->stream != (uintptr_t)stream) return (uintptr_t)b->stream < (uintptr_t)stream;
    if (b->size != size) return b->size < size;
    return (uintptr_t)b->ptr < ptr;
}

/* Index of the first entry not less than the key. */
static size_t lower_bound(const pool *p, cudaStream_t stream, size_t size, uintptr_t ptr) {
    size_t lo = 0, hi = p->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (key_less(p->items[mid], stream, size, ptr))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static bool pool_insert(pool *p, block *b) {
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 64;
        block **items = realloc(p->items, cap * sizeof *items);
        if (!items) return false;
        p->items = items;
        p->cap = cap;
    }
    size_t i = lower_bound(p, b->stream, b->size, (uintptr_t)b->ptr);
    memmove(p->items + i + 1, p->items + i, (p->n - i) * sizeof *p->items);
    p->items[i] = b;
    p->n++;
    return true;
}

static void pool_remove(pool *p, block *b) {
    size_t i = lower_bound(p, b->stream, b->size, (uintptr_t)b->ptr);
    /* b is in the list (free blocks always are), so the search lands on it */
    memmove(p->items + i, p->items + i + 1, (p->n - i - 1) * sizeof *p->items);
    p->n--;
}

/* ---- blocks in use, by pointer ---- */

static size_t hash_slot(const void *ptr, size_t cap) {
    uint64_t h = (uint64_t)(uintptr_t)ptr / MIN_BLOCK * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 32) & (cap - 1);
}

static void table_grow(device_state *d) {
    size_t cap = d->table_cap ? 2 * d->table_cap : 1024;
    block **table = calloc(cap, sizeof *table);
    if (!table) return; /* keep the old table: longer chains, still correct */
    for (size_t i = 0; i < d->table_cap; i++)
        for (block *b = d->table[i], *next; b; b = next) {
            next = b->hash_next;
            size_t s = hash_slot(b->ptr, cap);
            b->hash_next = table[s];
            table[s] = b;
        }
    free(d->table);
    d->table = table;
    d->table_cap = cap;
}

/* Needs a table (ensured by the caller through table_reserve). */
static void table_insert(device_state *d, block *b) {
    size_t s = hash_slot(b->ptr, d->table_cap);
    b->hash_next = d->table[s];
    d->table[s] = b;
    d->table_n++;
}

/* Room for one more entry; false only when there is no table at all. */
static bool table_reserve(device_state *d) {
    if (d->table_n >= d->table_cap) table_grow(d);
    return d->table_cap > 0;
}

static block *table_remove(device_state *d, const void *ptr) {
    if (!d->table_cap) return NULL;
    for (block **link = &d->table[hash_slot(ptr, d->table_cap)]; *link; link = &(*link)->hash_next)
        if ((*link)->ptr == ptr) {
            block *b = *link;
            *link = b->hash_next;
            d->table_n--;
            return b;
        }
    return NULL;
}

/* ---- segments ---- */

/* cudaFree's every cached segment that has no block in use (whole segments only: CUDA frees
 * what cudaMalloc returned). The device must be current. */
static void release_cached(device_state *d) {
    pool *pools[2] = {&d->small, &d->large};
    for (int k = 0; k < 2; k++) {
        pool *p = pools[k];
        size_t kept = 0;
        for (size_t i = 0; i < p->n; i++) {
            block *b = p->items[i];
            if (b->prev || b->next) {
                p->items[kept++] = b;
                continue;
            }
            (void)cudaFree(b->ptr);
            (void)cudaGetLastError();
            d->stats.reserved_bytes -= (int64_t)b->size;
            d->stats.num_cuda_frees++;
            free(b);
        }
        p->n = kept;
    }
}

static double mib(double bytes) { return bytes / (1 << 20); }
static double gib(double bytes) { return bytes / (1 << 30); }

static void *oom_error(device_state *d, int device, size_t nbytes) {
    size_t free_mem = 0, total = 0;
    if (cudaMemGetInfo(&free_mem, &total) != cudaSuccess) (void)cudaGetLastError();
    d->stats.num_ooms++;
    return ct_error(CT_ERR_OOM,
                    "CUDA out of memory. Tried to allocate %.2f MiB (GPU %d; %.2f GiB total capacity; %.2f GiB "
                    "already allocated; %.2f GiB reserved by ctorch)",
                    mib((double)nbytes), device, gib((double)total), gib((double)d->stats.allocated_bytes),
                    gib((double)d->stats.reserved_bytes));
}

/* A new segment holding one free block of the pool `size` belongs to; on out-of-memory the
 * cache is released and cudaMalloc tried once more. NULL with the error recorded. */
static block *new_segment(device_state *d, int device, cudaStream_t stream, size_t size, size_t nbytes) {
    size_t seg = segment_size(size);
    void *ptr = NULL;
    cudaError_t e = cudaMalloc(&ptr, seg);
    if (e == cudaErrorMemoryAllocation) {
        (void)cudaGetLastError();
        d->stats.num_alloc_retries++;
        release_cached(d);
        e = cudaMalloc(&ptr, seg);
    }
    if (e == cudaErrorMemoryAllocation) {
        (void)cudaGetLastError();
        return oom_error(d, device, nbytes);
    }
    if (!ct__cuda_check("cudaMalloc", device, e)) return NULL;
    block *b = malloc(sizeof *b);
    if (!b) {
        cudaFree(ptr);
        return ct_error(CT_ERR_OOM, "CPU out of memory allocating a CUDA block header");
    }
    *b = (block){.ptr = ptr, .size = seg, .stream = stream, .small = size <= SMALL_SIZE};
    d->stats.reserved_bytes += (int64_t)seg;
    d->stats.num_cuda_mallocs++;
    if (d->stats.reserved_bytes > d->stats.peak_reserved_bytes) d->stats.peak_reserved_bytes = d->stats.reserved_bytes;
    return b;
}

/* Cuts b down to `size` when the rest is worth keeping, putting the rest in b's pool. */
static void split(device_state *d, block *b, size_t size) {
    size_t rest_size = b->size - size;
    if (b->small ? rest_size < MIN_BLOCK : rest_size <= SMALL_SIZE) return;
    block *rest = malloc(sizeof *rest);
    if (!rest) return; /* hand out the whole block */
    *rest = (block){.ptr = b->ptr + size, .size = rest_size, .stream = b->stream, .small = b->small,
                    .prev = b, .next = b->next};
    if (!pool_insert(b->small ? &d->small : &d->large, rest)) {
        free(rest);
        return;
    }
    if (b->next) b->next->prev = rest;
    b->next = rest;
    b->size = size;
}

/* ---- cuda_impl.h ---- */

void *ct__cuda_alloc(size_t nbytes, int device) {
    if (device < 0 || device >= CT__CUDA_MAX_DEVICES)
        return ct_error(CT_ERR_DEVICE, "CUDA allocator: invalid device ordinal cuda:%d", device);
    cudaStream_t stream = ct__cuda_stream(device); /* also makes the device current */
    device_state *d = state(device);
    pthread_mutex_lock(&d->mutex);
    block *b = NULL;
    if (nbytes > MAX_REQUEST) {
        oom_error(d, device, nbytes);
    } else if (!table_reserve(d)) {
        ct_error(CT_ERR_OOM, "CPU out of memory growing the CUDA allocator's block table");
    } else {
        size_t size = round_size(nbytes);
        pool *p = size <= SMALL_SIZE ? &d->small : &d->large;
        size_t i = lower_bound(p, stream, size, 0);
        if (i < p->n && p->items[i]->stream == stream) {
            b = p->items[i];
            pool_remove(p, b);
        } else {
            b = new_segment(d, device, stream, size, nbytes);
        }
        if (b) {
            split(d, b, size);
            table_insert(d, b);
            b->allocated = true;
            d->stats.allocated_bytes += (int64_t)b->size;
            d->stats.num_allocs++;
            if (d->stats.allocated_bytes > d->stats.peak_allocated_bytes)
                d->stats.peak_allocated_bytes = d->stats.allocated_bytes;
        }
    }
    pthread_mutex_unlock(&d->mutex);
    return b ? b->ptr : NULL;
}

void ct__cuda_free(void *ptr, int device) {
    if (!ptr || device < 0 || device >= CT__CUDA_MAX_DEVICES) return;
    device_state *d = state(device);
    pthread_mutex_lock(&d->mutex);
    block *b = table_remove(d, ptr);
    if (b) {
        d->stats.allocated_bytes -= (int64_t)b->size;
        d->stats.num_frees++;
        b->allocated = false;
        pool *p = b->small ? &d->small : &d->large;
        if (b->prev && !b->prev->allocated) { /* merge into the free block before */
            block *prev = b->prev;
            pool_remove(p, prev);
            prev->size += b->size;
            prev->next = b->next;
            if (b->next) b->next->prev = prev;
            free(b);
            b = prev;
        }
        if (b->next && !b->next->allocated) { /* absorb the free block after */
            block *next = b->next;
            pool_remove(p, next);
            b->size += next->size;
            b->next = next->next;
            if (next->next) next->next->prev = b;
            free(next);
        }
        if (!pool_insert(p, b)) {
            /* Out of CPU memory for the list: the block stays marked in use (so no neighbour
             * merges with a block the list does not hold) and is lost until exit. */
            b->allocated = true;
            ct_log_error("CUDA allocator: out of CPU memory, %zu device bytes stay unused", b->size);
        }
    } else {
        ct_log_error("CUDA allocator: freeing %p on cuda:%d, which it did not allocate", ptr, device);
    }
    pthread_mutex_unlock(&d->mutex);
}

/* ---- runtime_impl.h ---- */

ct_cuda_memory_stats ct__cuda_memory_stats(int device) {
    device_state *d = state(device);
    pthread_mutex_lock(&d->mutex);
    ct_cuda_memory_stats s = d->stats;
    pthread_mutex_unlock(&d->mutex);
    return s;
}

void ct__cuda_reset_peak_memory_stats(int device) {
    device_state *d = state(device);
    pthread_mutex_lock(&d->mutex);
    d->stats.peak_allocated_bytes = d->stats.allocated_bytes;
    d->stats.peak_reserved_bytes = d->stats.reserved_bytes;
    pthread_mutex_unlock(&d->mutex);
}

void ct__cuda_empty_cache(void) {
    int current = -1;
    bool switched = false;
    for (int i = 0; i < CT__CUDA_MAX_DEVICES; i++) {
        device_state *d = state(i);
        pthread_mutex_lock(&d->mutex);
        /* Devices that never allocated are not touched (no CUDA context is made at shutdown). */
        if (d->stats.reserved_bytes > 0) {
            if (!switched) {
                if (cudaGetDevice(&current) != cudaSuccess) current = -1;
                switched = true;
            }
            if (cudaSetDevice(i) == cudaSuccess) release_cached(d);
            (void)cudaGetLastError();
        }
        pthread_mutex_unlock(&d->mutex);
    }
    if (switched && current >= 0) (void)cudaSetDevice(current);
}
