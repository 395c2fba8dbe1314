/* Graph nodes: recording an op's node, saving tensors for backward, leaves' accumulators, the
 * per-tensor autograd metadata, and freeing graphs of any depth without deep recursion. */
#include "autograd_impl.h"
#include "trace_impl.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

/* ---- metadata ------------------------------------------------------------------------------------ */

static void meta_destroy(ct_object *obj) {
    ct_autograd_meta *m = (ct_autograd_meta *)obj;
    ct_release(m->grad);
    ct__hook_list_free(m->grad_hooks);
    ct__hook_list_free(m->post_accumulate_hooks);
    free(m);
}

static const ct_object_type meta_type = {"autograd_meta", meta_destroy};

ct_autograd_meta *ct__meta(ct_tensor *t) {
    if (t->autograd) return t->autograd;
    ct_autograd_meta *m = calloc(1, sizeof *m);
    if (!m) return ct_error(CT_ERR_OOM, "CPU out of memory allocating autograd metadata");
    ct_object_init(&m->header, &meta_type);
    t->autograd = m;
    return m;
}

/* ---- freeing nodes ------------------------------------------------------------------------------------ */
/* Releasing the last tensor of a long chain would free its nodes recursively, one stack frame per
 * op; a thread-local work list threaded through the nodes themselves keeps the depth constant
 * instead, with no allocation. */

static _Thread_local ct_node *free_head;
static _Thread_local bool freeing;

static void release_saved(ct_node *n) {
    for (int i = 0; i < n->n_saved; i++) {
        ct_release(n->saved[i].tensor);
        n->saved[i].tensor = NULL;
    }
}

static void node_free_one(ct_node *n) {
    release_saved(n);
    if (n->ops->release_ctx) n->ops->release_ctx(n);
    for (int i = 0; i < n->n_inputs; i++) ct_release(n->next[i].fn);
    if (n->leaf) {
        if (n->leaf->autograd && n->leaf->autograd->grad_accumulator == n) n->leaf->autograd->grad_accumulator = NULL;
        ct_release(n->leaf);
    }
    ct_release(n->output_meta);
    ct_release(n->run.buffer);
    ct_release(n->run.captured);
    free(n->anomaly_trace);
    free(n);
}

static void node_destroy(ct_object *obj) {
    ct_node *n = (ct_node *)obj;
    n->free_next = free_head;
    free_head = n;
    if (freeing) return;
    freeing = true;
    while (free_head) {
        ct_node *next = free_head;
        free_head = next->free_next;
        node_free_one(next);
    }
    freeing = false;
}

static const ct_object_type node_type = {"autograd_node", node_destroy};

/* ---- making nodes ------------------------------------------------------------------------------------ */

static atomic_uint_fast64_t next_sequence_nr = 1; /* 0 sorts accumulators first (engine.c) */

static ct_node *node_new(const ct_node_ops *ops, int n_inputs, size_t ctx_size) {
    size_t edges = (size_t)n_inputs * sizeof(ct_edge);
    size_t ctx_at = (sizeof(ct_node) + edges + alignof(max_align_t) - 1) / alignof(max_align_t) * alignof(max_align_t);
    ct_node *n = calloc(1, ctx_at + ctx_size);
    if (!n) return ct_error(CT_ERR_OOM, "CPU out of memory recording %s", ops->name);
    ct_object_init(&n->header, &node_type);
    n->ops = ops;
    n->n_inputs = n_inputs;
    n->sequence_nr = atomic_fetch_add_explicit(&next_sequence_nr, 1, memory_order_relaxed);
    n->ctx = ctx_size ? (char *)n + ctx_at : NULL;
    return n;
}

static const ct_node_ops accumulate_ops = {"AccumulateGrad", NULL, NULL, NULL, NULL};

ct_node *ct__grad_accumulator(ct_tensor *leaf) {
    ct_autograd_meta *m = ct__meta(leaf);
    if (!m) return NULL;
    if (m->grad_accumulator) return ct_retain(m->grad_accumulator);
    ct_node *n = node_new(&accumulate_ops, 0, 0);
    if (!n) return NULL;
    n->sequence_nr = UINT64_MAX; /* runs as soon as it is ready */
    n->leaf = ct_retain(leaf);
    m->grad_accumulator = n;
    return n;
}

ct_node *ct__record(const ct_node_ops *ops, ct_tensor *out, int n_inputs, const ct_tensor *const *inputs,
                    size_t ctx_size) {
    if (!out) return NULL;
    for (int i = 0; i < n_inputs; i++)
        if (inputs[i] == out) return NULL;
    return ct__record_over(ops, out, n_inputs, inputs, ctx_size);
}

ct_node *ct__record_over(const ct_node_ops *ops, ct_tensor *out, int n_inputs, const ct_tensor *const *inputs,
                         size_t ctx_size) {
    if (!out) return NULL;
    if (ct__tracer) ct__trace_node(ops->forward_name, out, n_inputs, inputs);
    if (!ct_dtype_is_floating(out->dtype)) return NULL;
    ct_node *n = node_new(ops, n_inputs, ctx_size);
    if (!n) return NULL;
    for (int i = 0; i < n_inputs; i++) {
        const ct_tensor *in = inputs[i];
        ct_edge *e = &n->next[i];
        if (!in) continue;
        e->dtype = in->dtype;
        e->device = ct__device(in);
        e->shape.ndim = in->ndim;
        memcpy(e->shape.d, in->shape, (size_t)in->ndim * sizeof *e->shape.d);
        if (!in->requires_grad) continue;
        e->fn = in->grad_fn ? ct_retain(in->grad_fn) : ct__grad_accumulator((ct_tensor *)in);
        if (!e->fn) {
            ct_release(n);
            return NULL;
        }
    }
    if (ct__anomaly_enabled()) n->anomaly_trace = ct__anomaly_capture();
    ct_release(out->grad_fn);
    out->grad_fn = n;
    out->requires_grad = true;
    return n;
}

int ct__save(ct_node *n, const ct_tensor *t) {
    int i = n->n_saved;
    if (i == CT_NODE_MAX_SAVED) {
        n->save_failed = true;
        ct_error(CT_ERR_INTERNAL, "%s: more than %d saved tensors", n->ops->name, CT_NODE_MAX_SAVED);
        return -1;
    }
    n->n_saved++;
    n->saved[i] = (ct_saved){0};
    if (!t) return i;
    if (t->is_inference && !ct__inference_mode) {
        n->save_failed = true;
        ct_error(CT_ERR_STATE, "%s: Inference tensors cannot be saved for backward. To work around you can make a "
                               "clone to get a normal tensor and use it in autograd.",
                 n->ops->forward_name ? n->ops->forward_name : n->ops->name);
        return -1;
    }
    n->saved[i].tensor = ct__tensor_alias_unscoped(t);
    n->saved[i].version = atomic_load_explicit(&t->storage->version, memory_order_relaxed);
    n->saved[i].producer = t->grad_fn ? t->grad_fn->ops->name : NULL;
    if (n->saved[i].tensor) return i;
    n->save_failed = true;
    return -1;
}

void ct__node_release_saved(ct_node *n) {
    if (!n->n_saved) return;
    release_saved(n);
    n->saved_released = true;
}

void *ct__ag_not_implemented(const char *forward_name) {
    return ct_error(CT_ERR_UNSUPPORTED, "the derivative for '%s' is not implemented.", forward_name);
}
