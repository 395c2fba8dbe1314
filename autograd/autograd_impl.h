/* Private autograd internals: graph nodes, saved tensors, and the helpers every derivative file
 * (grad_*.c) uses to record its op.
 *
 * The shape of a differentiable op (see grad_elementwise.c for many):
 *
 *     static bool mul_backward(ct_node *n, const ct_tensor *grad, ct_tensor **grad_inputs) {
 *         if (ct__needs_grad(n, 0)) grad_inputs[0] = ct_mul(grad, ct__saved(n, 1));
 *         if (ct__needs_grad(n, 1)) grad_inputs[1] = ct_mul(grad, ct__saved(n, 0));
 *         return true;
 *     }
 *     static const ct_node_ops mul_node = {"MulBackward0", "mul", mul_backward};
 *
 *     ct_tensor *ct_mul(const ct_tensor *a, const ct_tensor *b) {
 *         CT__AG_BEGIN(ct__mul(a, b), a, b);      // no graph needed: returns the plain result
 *         ct_node *n = CT__AG_RECORD(&mul_node, 0, a, b);
 *         if (n) ct__save(n, a), ct__save(n, b);
 *         return ct__ag_result(out);
 *     }
 *
 * Backward functions run with grad mode off and inside a scope the engine closes; they return
 * gradients for the inputs that need one (others may stay NULL = zero) with any shape that
 * broadcasts to the input's (the engine sums it down, as PyTorch's validate_outputs does) and any
 * floating dtype (the engine casts it to the input's). */
#ifndef CTORCH_AUTOGRAD_IMPL_H
#define CTORCH_AUTOGRAD_IMPL_H

#include "../tensor/tensor_impl.h"
#include "ctorch/autograd.h"

typedef struct ct_node ct_node;

/* Returns false (with an error recorded) when the gradient cannot be computed. */
typedef bool (*ct_backward_fn)(ct_node *node, const ct_tensor *grad, ct_tensor **grad_inputs);

typedef struct ct_node_ops {
    const char *name;         /* PyTorch's grad_fn name: "MulBackward0" */
    const char *forward_name; /* the op that recorded it: "mul" */
    ct_backward_fn backward;
    void (*release_ctx)(ct_node *node); /* frees what ctx owns (NULL: nothing) */
    /* For a node whose output is a part of its one input (slice, select, a split piece): the same
     * part of `full`, a tensor of the input's shape. The engine then adds the gradient straight
     * into that part of the input's gradient buffer instead of calling backward, so k parts of
     * one tensor cost one buffer, not k zero-filled copies of it. */
    ct_tensor *(*region)(const ct_node *node, ct_tensor *full);
} ct_node_ops;

/* One input of a node: where its gradient goes, and what the gradient must look like. */
typedef struct ct_edge {
    ct_node *fn; /* the input's grad_fn or its leaf's accumulator; NULL: no gradient needed */
    ct_dtype dtype;
    ct_device device;
    ct_shape shape;
} ct_edge;

typedef struct ct_saved {
    ct_tensor *tensor;   /* an alias with no autograd state (no cycle through outputs) */
    int64_t version;     /* storage version when saved */
    const char *producer; /* grad_fn name of the saved tensor when saved, for error messages */
} ct_saved;

#define CT_NODE_MAX_SAVED 8

/* Per-backward bookkeeping, valid while a run's id is stamped on the node. */
typedef struct ct_node_run {
    uint64_t id;
    int dependencies; /* consumers not yet run */
    bool needed;      /* on a path to what this run computes */
    bool is_target;   /* autograd_grad: capture the incoming gradient here */
    ct_tensor *buffer;   /* sum of incoming gradients (one owned reference) */
    bool buffer_owned;   /* buffer was made by the engine, so it may be added into in place */
    ct_tensor *captured; /* is_target: the gradient after hooks (one owned reference) */
} ct_node_run;

struct ct_node {
    ct_object header;
    const ct_node_ops *ops;
    uint64_t sequence_nr; /* creation order: later nodes run first among ready ones */
    int n_inputs;
    int n_saved;
    bool saved_released; /* backward ran without retain_graph */
    bool save_failed;    /* ct__save refused a tensor: the op fails (see ct__ag_result) */
    ct_saved saved[CT_NODE_MAX_SAVED];
    /* AccumulateGrad only: the leaf that receives the gradient (one reference). */
    ct_tensor *leaf;
    /* Hooks and retain_grad of the tensor this node produced (one reference; NULL if none). */
    struct ct_autograd_meta *output_meta;
    char *anomaly_trace; /* anomaly mode: where the forward op was called (malloc'd) */
    ct_node *free_next;  /* the freeing work list (node.c) */
    ct_node_run run;
    void *ctx; /* op-specific data, zeroed, in the same allocation */
    ct_edge next[];
};

/* Hooks of one kind, in registration order (see hooks.c). */
typedef struct ct_hook_list ct_hook_list;

/* What a tensor carries beyond requires_grad and grad_fn, made on first need. */
typedef struct ct_autograd_meta {
    ct_object header;
    ct_tensor *grad;           /* one reference */
    bool retains_grad;
    ct_hook_list *grad_hooks;  /* ct_grad_hook */
    ct_hook_list *post_accumulate_hooks;
    ct_node *grad_accumulator; /* a leaf's AccumulateGrad node, not owned (it clears this) */
} ct_autograd_meta;

/* ---- grad mode (grad_mode.c) ---- */
bool ct__grad_enabled(void);
bool ct__anomaly_enabled(void);

/* ---- recording (node.c) ---- */
/* True when grad mode is on and an input (NULL ones ignored) requires grad. */
static inline bool ct__ag_needed(int n, const ct_tensor *const *ts) {
    if (!ct__grad_enabled()) return false;
    for (int i = 0; i < n; i++)
        if (ts[i] && ts[i]->requires_grad) return true;
    return false;
}
/* Runs the plain op with grad mode off when a graph must be recorded (so ops it calls record
 * nothing), and returns its result at once when none is needed. Declares `out`. */
#define CT__AG_BEGIN(call, ...)                                                                  \
    const ct_tensor *const ct__ag_inputs[] = {__VA_ARGS__};                                      \
    const int ct__ag_n = (int)(sizeof ct__ag_inputs / sizeof *ct__ag_inputs);                   \
    if (!ct__ag_needed(ct__ag_n, ct__ag_inputs)) return (call);                                  \
    ct_tensor *out;                                                                              \
    {                                                                                            \
        bool ct__ag_prev = ct_set_grad_enabled(false);                                           \
        out = (call);                                                                            \
        ct_set_grad_enabled(ct__ag_prev);                                                        \
    }                                                                                            \
    if (!out) return NULL
/* Records a node for `out` over the inputs listed to CT__AG_BEGIN (in that order: the backward
 * function's grad_inputs use the same indices), with ctx_size bytes of zeroed op data. */
#define CT__AG_RECORD(ops, ctx_size) ct__record((ops), out, ct__ag_n, ct__ag_inputs, (ctx_size))
/* The node now producing out's gradient, or NULL (no error) when nothing is recorded: out is not
 * floating point, is one of the inputs (an op with nothing to do), or on failure (error set). */
ct_node *ct__record(const ct_node_ops *ops, ct_tensor *out, int n, const ct_tensor *const *inputs, size_t ctx_size);
/* The same where out may be one of the inputs, for an in-place write that gives a tensor a new
 * node over its old one (the edges are taken before out's grad_fn is replaced). */
ct_node *ct__record_over(const ct_node_ops *ops, ct_tensor *out, int n, const ct_tensor *const *inputs, size_t ctx_size);
/* Keeps t (an input or the node's output) for backward; t may be NULL. Returns its index, or -1
 * with an error (an inference tensor, out of memory), after which the op must fail: wrappers end
 * with `return ct__ag_result(out);`. */
int ct__save(ct_node *node, const ct_tensor *t);
static inline ct_tensor *ct__ag_result(ct_tensor *out) {
    return out && out->grad_fn && out->grad_fn->save_failed ? NULL : out;
}
/* Frees the saved tensors after a backward without retain_graph. */
void ct__node_release_saved(ct_node *node);
static inline const ct_tensor *ct__saved(const ct_node *node, int i) { return node->saved[i].tensor; }
static inline bool ct__needs_grad(const ct_node *node, int input) { return node->next[input].fn != NULL; }
/* The input's shape as recorded (what its gradient must have). */
static inline ct_shape ct__input_shape(const ct_node *node, int input) { return node->next[input].shape; }
/* The leaf's AccumulateGrad node (made on first use, cached weakly in its meta); a new reference. */
ct_node *ct__grad_accumulator(ct_tensor *leaf);
ct_autograd_meta *ct__meta(ct_tensor *t); /* made on first need; NULL on out-of-memory */
/* An error for a differentiable op whose derivative ctorch lacks (PyTorch's wording). */
void *ct__ag_not_implemented(const char *forward_name);

/* ---- in-place ops (inplace.c) ---- */
/* For an in-place op on self when a graph is needed: checks PyTorch's rules (not a leaf that
 * requires grad, not an inference tensor), then computes `out_of_place` on a copy of self's old
 * value, writes the result into self and makes self's grad_fn the recorded node; when self is a
 * view, its base's grad_fn becomes a CopySlices node over the write. `out_of_place` gets the copy
 * of self as its input 0 (the other inputs as given). */
typedef ct_tensor *(*ct_inplace_fn)(const ct_tensor *self_copy, void *args);
ct_tensor *ct__ag_inplace(const char *op, ct_tensor *self, bool other_requires_grad, ct_inplace_fn out_of_place, void *args);
/* The checks alone, for in-place ops outside the graph (random fills under grad mode). */
bool ct__ag_check_inplace(const char *op, const ct_tensor *self);

/* ---- helpers for derivative formulas (grad_util.c) ---- */
/* grad summed down to shape (the reverse of broadcasting); grad itself when shapes agree. */
ct_tensor *ct__sum_to(const ct_tensor *grad, ct_shape shape);

/* ---- anomaly mode (anomaly.c) ---- */
char *ct__anomaly_capture(void);

/* ---- hooks (hooks.c) ---- */
/* Runs grad hooks in order; returns the final gradient (a scoped reference) or NULL on error. */
ct_tensor *ct__run_grad_hooks(ct_hook_list *hooks, ct_tensor *grad);
void ct__run_post_accumulate_hooks(ct_hook_list *hooks, ct_tensor *leaf);
void ct__hook_list_free(ct_hook_list *hooks);
/* Hook lists for other layers (nn's module hooks): appends fn (made on first use) and returns a
 * scoped handle; entries are read back in registration order, NULL for removed ones. */
ct_hook_handle *ct__hook_add(ct_hook_list **list, void (*fn)(void), void *user);
int ct__hook_count(const ct_hook_list *hooks);
void (*ct__hook_at(const ct_hook_list *hooks, int i, void **user))(void);

#endif /* CTORCH_AUTOGRAD_IMPL_H */
