/* Reference counts and per-thread scopes.
 *
 * Layout: each thread has one growable array of owned references and a stack of marks; scope k
 * owns entries [marks[k], marks[k+1]). The root scope (depth 0) always exists and is emptied by
 * ct_shutdown or when the thread exits. Arrays never shrink, so a loop that opens and closes a
 * scope per step reaches a steady state with no allocation in the scope machinery at all. */
#include "core_impl.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct scope_stack {
    ct_object **entries;
    int64_t n_entries, cap_entries;
    int64_t *marks; /* marks[d] = first entry of scope d; marks[0] = 0 */
    int depth, cap_marks;
} scope_stack;

static _Thread_local scope_stack tls_scopes;
static pthread_key_t thread_exit_key;
static pthread_once_t thread_exit_once = PTHREAD_ONCE_INIT;

static void release_down_to(scope_stack *s, int64_t first) {
    /* Release in reverse creation order; entries can be appended while releasing (a destructor
     * that creates objects), so re-read n_entries each time. */
    while (s->n_entries > first) {
        ct_object *obj = s->entries[--s->n_entries];
        ct_release(obj);
    }
}

static void free_stack(scope_stack *s) {
    free(s->entries);
    free(s->marks);
    memset(s, 0, sizeof *s);
}

static void on_thread_exit(void *unused) {
    (void)unused;
    scope_stack *s = &tls_scopes;
    release_down_to(s, 0);
    free_stack(s);
}

static void make_exit_key(void) { pthread_key_create(&thread_exit_key, on_thread_exit); }

static scope_stack *stack_get(void) {
    scope_stack *s = &tls_scopes;
    if (!s->marks) {
        s->cap_marks = 16;
        s->marks = calloc((size_t)s->cap_marks, sizeof *s->marks);
        if (!s->marks) return NULL;
        s->depth = 0;
        /* Register for cleanup at thread exit (a non-NULL value is required for the call). */
        pthread_once(&thread_exit_once, make_exit_key);
        pthread_setspecific(thread_exit_key, s);
    }
    return s;
}

void *ct_retain(void *obj) {
    if (obj) atomic_fetch_add_explicit(&((ct_object *)obj)->refcount, 1, memory_order_relaxed);
    return obj;
}

void ct_release(void *p) {
    ct_object *obj = p;
    if (!obj) return;
    if (atomic_fetch_sub_explicit(&obj->refcount, 1, memory_order_acq_rel) == 1)
        obj->type->destroy(obj);
}

int64_t ct_refcount(const void *obj) {
    return obj ? (int64_t)atomic_load(&((ct_object *)obj)->refcount) : 0;
}

static bool push_entry(scope_stack *s, ct_object *obj) {
    if (s->n_entries == s->cap_entries) {
        int64_t cap = s->cap_entries ? s->cap_entries * 2 : 256;
        ct_object **grown = realloc(s->entries, (size_t)cap * sizeof *grown);
        if (!grown) return false;
        s->entries = grown;
        s->cap_entries = cap;
    }
    s->entries[s->n_entries++] = obj;
    return true;
}

void *ct_scope_own(void *obj) {
    if (!obj) return NULL;
    scope_stack *s = stack_get();
    if (!s || !push_entry(s, obj)) {
        ct_release(obj);
        return ct_error(CT_ERR_OOM, "out of memory while registering a result in its scope");
    }
    return obj;
}

typedef struct scope_block {
    ct_object header;
    max_align_t payload[];
} scope_block;

static void scope_block_destroy(ct_object *obj) { free(obj); }
static const ct_object_type scope_block_type = {"buffer", scope_block_destroy};

void *ct_scope_alloc(size_t nbytes) {
    scope_block *b = malloc(sizeof *b + nbytes);
    if (!b) return ct_error(CT_ERR_OOM, "out of memory allocating %zu bytes", nbytes);
    ct_object_init(&b->header, &scope_block_type);
    if (!ct_scope_own(b)) return NULL;
    return b->payload;
}

void *ct_keep(void *obj) {
    if (!obj) return NULL;
    scope_stack *s = stack_get();
    if (!s || s->depth == 0) return obj;
    /* The enclosing scope gets its own reference; the innermost scope's reference is released
     * with it as usual, so the object survives exactly one level longer. Inserting at the end of
     * the parent's range means moving the inner scope's entries up by one slot. */
    if (!push_entry(s, NULL)) return ct_error(CT_ERR_OOM, "out of memory in ct_keep");
    int64_t at = s->marks[s->depth];
    memmove(&s->entries[at + 1], &s->entries[at],
            (size_t)(s->n_entries - 1 - at) * sizeof *s->entries);
    s->entries[at] = ct_retain(obj);
    s->marks[s->depth]++;
    return obj;
}

void ct_scope_begin(void) {
    scope_stack *s = stack_get();
    if (!s) {
        ct_error(CT_ERR_OOM, "out of memory opening a scope");
        return;
    }
    if (s->depth + 1 == s->cap_marks) {
        int cap = s->cap_marks * 2;
        int64_t *grown = realloc(s->marks, (size_t)cap * sizeof *grown);
        if (!grown) {
            ct_error(CT_ERR_OOM, "out of memory opening a scope");
            return;
        }
        s->marks = grown;
        s->cap_marks = cap;
    }
    s->marks[++s->depth] = s->n_entries;
}

static void end_to_depth(int depth) {
    scope_stack *s = stack_get();
    if (!s) return;
    while (s->depth > depth && s->depth > 0) {
        release_down_to(s, s->marks[s->depth]);
        s->depth--;
    }
}

void ct_scope_end(void) {
    scope_stack *s = stack_get();
    if (!s || s->depth == 0) {
        ct_log_message(CT_LOG_WARN, "ct_scope_end called with no open scope; ignored");
        return;
    }
    end_to_depth(s->depth - 1);
}

int ct_scope_depth(void) {
    scope_stack *s = stack_get();
    return s ? s->depth : 0;
}

int64_t ct_scope_size(void) {
    scope_stack *s = stack_get();
    return s ? s->n_entries - s->marks[s->depth] : 0;
}

ct_scope_guard ct__scope_guard_begin(void) {
    ct_scope_begin();
    return (ct_scope_guard){.depth = ct_scope_depth() - 1, .once = 1};
}

void ct__scope_guard_end(ct_scope_guard *guard) { end_to_depth(guard->depth); }

void ct__scope_shutdown(void) {
    scope_stack *s = &tls_scopes;
    if (!s->marks) return;
    end_to_depth(0);
    release_down_to(s, 0);
}
