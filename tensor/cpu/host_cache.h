/* Large CPU blocks reused across steps (see host_cache.c). */
#ifndef CTORCH_HOST_CACHE_H
#define CTORCH_HOST_CACHE_H

#include <stddef.h>

/* 64-byte aligned block of at least nbytes; NULL when memory is exhausted. */
void *ct__host_alloc(size_t nbytes);
/* Gives back a block from ct__host_alloc of the same nbytes. */
void ct__host_free(void *p, size_t nbytes);
void ct__host_cache_empty(void);

#endif
