/* Private core interfaces: the object header every handle starts with, and scope ownership. */
#ifndef CTORCH_CORE_IMPL_H
#define CTORCH_CORE_IMPL_H

#include "ctorch/core.h"
#include <stdatomic.h>

typedef struct ct_object_type {
    const char *name;
    void (*destroy)(ct_object *obj); /* frees the object itself too */
} ct_object_type;

struct ct_object {
    atomic_int_fast64_t refcount;
    const ct_object_type *type;
};

/* Starts an object's life with one reference (which the caller then hands to a scope). */
static inline void ct_object_init(ct_object *obj, const ct_object_type *type) {
    atomic_init(&obj->refcount, 1);
    obj->type = type;
}

/* Hands the caller's reference to the innermost scope and returns obj. NULL passes through. On
 * out-of-memory for the scope's list the object is released and NULL returned with an error. */
void *ct_scope_own(void *obj);

/* A scope-owned block of memory (for arrays returned to the caller, e.g. tensor lists, strings). */
void *ct_scope_alloc(size_t nbytes);

/* Reads the environment once; called by ct_init and lazily by the first error or log. */
void ct__env_init(void);
void ct__log_env_init(void);
void ct__error_env_init(void);

/* Duplicates a message with printf formatting into a fixed buffer (never fails, truncates). */
#define CT_MSG_MAX 1024

#endif /* CTORCH_CORE_IMPL_H */
