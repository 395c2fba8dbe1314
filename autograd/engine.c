/* The backward engine: discovers the graph below the roots, then runs each node once, when all
 * of its consumers have run, with the sum of their gradients (DESIGN §5).
 *
 * Order: among ready nodes the most recently recorded runs first (a max-heap on sequence_nr), as
 * PyTorch's CPU engine does; leaves' accumulators run as soon as they are ready, so
 * post-accumulate hooks (DDP) fire while the rest of backward is still running.
 *
 * Memory: a node's incoming gradient is held only until it has run, and everything a backward
 * function makes lives in a scope closed right after it, so peak memory is the live frontier of
 * the graph, not all of its gradients. */
#include "autograd_impl.h"

#include <stdlib.h>
#include <string.h>

typedef struct node_vec {
    ct_node **items;
    int64_t n, cap;
} node_vec;

static bool vec_push(node_vec *v, ct_node *node) {
    if (v->n == v->cap) {
        int64_t cap = v->cap ? v->cap * 2 : 64;
        ct_node **grown = realloc(v->items, (size_t)cap * sizeof *grown);
        if (!grown) {
            ct_error(CT_ERR_OOM, "CPU out of memory in the backward engine");
            return false;
        }
        v->items = grown, v->cap = cap;
    }
    v->items[v->n++] = node;
    return true;
}

/* ---- the ready queue: a max-heap on sequence_nr ---- */

static bool heap_push(node_vec *h, ct_node *node) {
    if (!vec_push(h, node)) return false;
    for (int64_t i = h->n - 1; i > 0;) {
        int64_t parent = (i - 1) / 2;
        if (h->items[parent]->sequence_nr >= h->items[i]->sequence_nr) break;
        ct_node *tmp = h->items[parent];
        h->items[parent] = h->items[i], h->items[i] = tmp;
        i = parent;
    }
    return true;
}

static ct_node *heap_pop(node_vec *h) {
    ct_node *top = h->items[0];
    h->items[0] = h->items[--h->n];
    for (int64_t i = 0;;) {
        int64_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->n && h->items[l]->sequence_nr > h->items[m]->sequence_nr) m = l;
        if (r < h->n && h->items[r]->sequence_nr > h->items[m]->sequence_nr) m = r;
        if (m == i) break;
        ct_node *tmp = h->items[m];
        h->items[m] = h->items[i], h->items[i] = tmp;
        i = m;
    }
    return top;
}

/* ---- one run ---- */

typedef struct engine_run {
    uint64_t id;
    bool retain_graph;
    bool capture;  /* autograd_grad: compute targets only, leave .grad alone */
    node_vec nodes; /* every node below the roots, each with one reference held by the run */
    node_vec ready;
} engine_run;

static atomic_uint_fast64_t run_ids = 1;

static bool visit(engine_run *r, node_vec *stack, ct_node *node) {
    if (node->run.id == r->id) return true;
    ct_release(node->run.buffer);
    ct_release(node->run.captured);
    node->run = (ct_node_run){.id = r->id, .needed = !r->capture};
    if (!vec_push(&r->nodes, ct_retain(node))) {
        ct_release(node);
        return false;
    }
    return vec_push(stack, node);
}

/* Stamps every node below the roots and counts, for each, the edges that reach it. */
static bool discover(engine_run *r, ct_node *const *roots, int n_roots) {
    node_vec stack = {0};
    bool ok = true;
    for (int i = 0; i < n_roots && ok; i++) ok = visit(r, &stack, roots[i]);
    while (ok && stack.n) {
        ct_node *node = stack.items[--stack.n];
        for (int i = 0; i < node->n_inputs && ok; i++) {
            ct_node *next = node->next[i].fn;
            if (!next) continue;
            ok = visit(r, &stack, next);
            next->run.dependencies++;
        }
    }
    free(stack.items);
    return ok;
}

/* Recording order, with accumulators (which have no inputs) first. */
static int by_recording(const void *a, const void *b) {
    const ct_node *p = *(ct_node *const *)a, *q = *(ct_node *const *)b;
    uint64_t x = p->leaf ? 0 : p->sequence_nr, y = q->leaf ? 0 : q->sequence_nr;
    return x < y ? -1 : x > y;
}

/* autograd_grad: a node is needed when a target is at or below it. A node's inputs were recorded
 * before it, so recording order visits inputs first. */
static void mark_needed(engine_run *r) {
    qsort(r->nodes.items, (size_t)r->nodes.n, sizeof *r->nodes.items, by_recording);
    for (int64_t k = 0; k < r->nodes.n; k++) {
        ct_node *node = r->nodes.items[k];
        bool needed = node->run.is_target;
        for (int i = 0; i < node->n_inputs && !needed; i++) needed = node->next[i].fn && node->next[i].fn->run.needed;
        node->run.needed = needed;
    }
}

static void finish(engine_run *r) {
    for (int64_t k = 0; k < r->nodes.n; k++) {
        ct_node *node = r->nodes.items[k];
        ct_release(node->run.buffer);
        node->run.buffer = NULL;
        ct_release(node);
    }
    free(r->nodes.items);
    free(r->ready.items);
}

/* One more consumer of node has run: queue the node once all have. */
static bool arrived(engine_run *r, ct_node *node) {
    if (--node->run.dependencies > 0 || !node->run.needed) return true;
    return heap_push(&r->ready, node);
}

/* Adds grad into node's buffer (taking a reference, or in place into a buffer the engine made). */
static bool deliver(engine_run *r, ct_node *node, ct_tensor *grad) {
    if (grad) {
        if (!node->run.buffer) {
            node->run.buffer = ct_retain(grad);
        } else if (node->run.buffer_owned) {
            if (!ct_add_(node->run.buffer, grad)) return false;
        } else {
            ct_tensor *sum = ct_add(node->run.buffer, grad);
            if (!sum) return false;
            ct_release(node->run.buffer);
            node->run.buffer = ct_retain(sum);
            node->run.buffer_owned = true;
        }
    }
    return arrived(r, node);
}

/* A part-of-input node (ops->region): its gradient goes into that part of the input's buffer,
 * made as zeros of the input's shape (with what had arrived added) the first time. */
static bool deliver_region(engine_run *r, const ct_node *node, ct_tensor *grad) {
    const ct_edge *e = &node->next[0];
    ct_node *next = e->fn;
    if (!next->run.buffer_owned) {
        ct_tensor *full = ct_zeros_opt(e->shape, (ct_tensor_opts){.dtype = e->dtype, .device = e->device});
        if (!full || (next->run.buffer && !ct_add_(full, next->run.buffer))) return false;
        ct_release(next->run.buffer);
        next->run.buffer = ct_retain(full);
        next->run.buffer_owned = true;
    }
    ct_tensor *part = node->ops->region(node, next->run.buffer);
    return part && ct_add_(part, grad) && arrived(r, next);
}

/* PyTorch's validate_outputs: a gradient may come broadcast (it is summed down) or in another
 * floating dtype (it is cast); anything else is a bug in a derivative. */
static ct_tensor *validate(const ct_node *node, int i, ct_tensor *g) {
    const ct_edge *e = &node->next[i];
    if (!ct__same_shape(g->shape, g->ndim, e->shape.d, e->shape.ndim)) {
        bool expandable = e->shape.ndim <= g->ndim;
        for (int d = 0; expandable && d < e->shape.ndim; d++) {
            int64_t s = e->shape.d[e->shape.ndim - 1 - d];
            expandable = s == 1 || s == g->shape[g->ndim - 1 - d];
        }
        if (!expandable)
            return ct_error(CT_ERR_INTERNAL, "Function %s returned an invalid gradient at index %d - got %s but expected shape compatible with %s",
                            node->ops->name, i, ct__shape_str(g->shape, g->ndim), ct__shape_str(e->shape.d, e->shape.ndim));
        g = ct__sum_to(g, e->shape);
        if (!g) return NULL;
    }
    if (!ct_device_equal(ct__device(g), e->device))
        return ct_error(CT_ERR_INTERNAL, "Function %s returned an invalid gradient at index %d - expected device %s but got %s",
                        node->ops->name, i, ct_device_name(e->device), ct_device_name(ct__device(g)));
    if (g->dtype != e->dtype) g = ct_to_dtype(g, e->dtype);
    return g;
}

static bool check_saved_versions(const ct_node *node) {
    for (int i = 0; i < node->n_saved; i++) {
        const ct_saved *s = &node->saved[i];
        if (!s->tensor) continue;
        int64_t now = atomic_load_explicit(&s->tensor->storage->version, memory_order_relaxed);
        if (now == s->version) continue;
        char what[64] = "";
        if (s->producer) snprintf(what, sizeof what, ", which is output 0 of %s,", s->producer);
        ct_error(CT_ERR_STATE,
                 "one of the variables needed for gradient computation has been modified by an inplace operation: "
                 "[torch.%sTensor %s]%s is at version %lld; expected version %lld instead. Hint: enable anomaly "
                 "detection (ct_set_detect_anomaly(true)) to find the operation that failed to compute its gradient.",
                 ct__torch_type_name(s->tensor->dtype), ct__shape_str(s->tensor->shape, s->tensor->ndim), what,
                 (long long)now, (long long)s->version);
        return false;
    }
    return true;
}

/* Anomaly mode: the first gradient with NaN or Inf names its node and the forward call. */
static bool check_finite(const ct_node *node, int i, const ct_tensor *g) {
    const char *bad = NULL;
    CT_SCOPE {
        if (ct_item(ct_any(ct_isnan(g))) != 0) bad = "nan";
        else if (ct_item(ct_any(ct_isinf(g))) != 0) bad = "inf";
    }
    if (!bad) return ct_ok();
    ct_error(CT_ERR_ARG, "Function '%s' returned %s values in its %dth output.\nThe forward op was '%s'%s%s", node->ops->name,
             bad, i, node->ops->forward_name ? node->ops->forward_name : "?",
             node->anomaly_trace ? ", called from:\n" : " (anomaly mode was off when it ran)",
             node->anomaly_trace ? node->anomaly_trace : "");
    return false;
}

/* Leaf: .grad = grad, or .grad += grad. A gradient nothing else refers to becomes .grad itself. */
static bool accumulate(ct_tensor *leaf, ct_tensor *grad) {
    ct_autograd_meta *m = ct__meta(leaf);
    if (!m) return false;
    if (m->grad) return ct_add_(m->grad, grad) != NULL;
    bool exclusive = ct_refcount(grad) == 1 && ct__is_contiguous(grad) &&
                     atomic_load(&grad->storage->refcount) == 1 && grad->dtype == leaf->dtype;
    ct_tensor *g = exclusive ? grad : ct__contiguous_as(ct_clone(grad), leaf->dtype);
    if (!g) return false;
    m->grad = ct_retain(g);
    return true;
}

static bool run_node(engine_run *r, ct_node *node) {
    ct_tensor *grad = node->run.buffer; /* the run's reference moves to this function */
    node->run.buffer = NULL;
    bool ok = true;
    ct_scope_begin();
    ct_scope_own(grad);
    ct_autograd_meta *meta = node->leaf ? node->leaf->autograd : node->output_meta;
    if (grad && meta && meta->grad_hooks) ok = (grad = ct__run_grad_hooks(meta->grad_hooks, grad)) != NULL;
    if (ok && grad && node->run.is_target) node->run.captured = ct_retain(grad);
    if (ok && grad && meta && meta->retains_grad && !node->leaf && !r->capture) {
        ct_tensor *kept = meta->grad ? ct_add(meta->grad, grad) : ct_clone(grad);
        ok = kept != NULL;
        if (ok) ct_release(meta->grad), meta->grad = ct_retain(kept);
    }
    if (ok && node->leaf) {
        if (grad && !r->capture) {
            ok = accumulate(node->leaf, grad);
            if (ok && meta && meta->post_accumulate_hooks) {
                ct__run_post_accumulate_hooks(meta->post_accumulate_hooks, node->leaf);
                ok = ct_ok();
            }
        }
        ct_scope_end();
        return ok;
    }
    ct_tensor *grad_inputs[node->n_inputs > 0 ? node->n_inputs : 1];
    memset(grad_inputs, 0, sizeof grad_inputs);
    /* autograd_grad skips nodes below which no target lies. */
    bool run_backward = ok && grad && !r->capture;
    for (int i = 0; ok && grad && r->capture && i < node->n_inputs; i++)
        run_backward |= node->next[i].fn && node->next[i].fn->run.needed;
    if (run_backward && node->ops->region) {
        if (node->next[0].fn) ok = (!ct__anomaly_enabled() || check_finite(node, 0, grad)) && deliver_region(r, node, grad);
        ct_scope_end();
        return ok;
    }
    if (run_backward) {
        if (node->saved_released) {
            ok = ct_error(CT_ERR_STATE, "Trying to backward through the graph a second time (or directly access saved tensors after they "
                                        "have already been freed). Saved intermediate values of the graph are freed when you call "
                                        "ct_backward() or ct_autograd_grad(). Specify .retain_graph = true if you need to backward "
                                        "through the graph a second time or if you need to access saved tensors after calling "
                                        "backward (node %s).", node->ops->name) != NULL;
        } else {
            ok = check_saved_versions(node) && node->ops->backward(node, grad, grad_inputs) && ct_ok();
        }
        for (int i = 0; ok && i < node->n_inputs; i++) {
            if (!grad_inputs[i] || !node->next[i].fn) continue;
            ok = (grad_inputs[i] = validate(node, i, grad_inputs[i])) != NULL;
            if (ok && ct__anomaly_enabled()) ok = check_finite(node, i, grad_inputs[i]);
        }
        if (!r->retain_graph) ct__node_release_saved(node);
    }
    for (int i = 0; ok && i < node->n_inputs; i++)
        if (node->next[i].fn) ok = deliver(r, node->next[i].fn, run_backward ? grad_inputs[i] : NULL);
    ct_scope_end();
    return ok;
}

/* Runs backward from roots with the given gradients (one each). */
static bool engine_execute(engine_run *r, ct_node *const *roots, ct_tensor *const *grads, int n_roots) {
    bool ok = true;
    for (int i = 0; ok && i < n_roots; i++) {
        roots[i]->run.dependencies++; /* the root's own gradient counts as one delivery */
        ok = deliver(r, roots[i], grads[i]);
    }
    while (ok && r->ready.n) ok = run_node(r, heap_pop(&r->ready));
    return ok;
}

static ct_tensor *root_gradient(const char *op, int i, const ct_tensor *out, const ct_tensor *given) {
    if (!given) {
        if (ct__numel(out->shape, out->ndim) != 1)
            return ct_error(CT_ERR_SHAPE, "%s: grad can be implicitly created only for scalar outputs (output %d has shape %s)", op,
                            i, ct__shape_str(out->shape, out->ndim));
        return ct_ones_like(out);
    }
    if (!ct__same_shape(given->shape, given->ndim, out->shape, out->ndim))
        return ct_error(CT_ERR_SHAPE, "%s: Mismatch in shape: grad_output[%d] has a shape of %s and output[%d] has a shape of %s.", op,
                        i, ct__shape_str(given->shape, given->ndim), i, ct__shape_str(out->shape, out->ndim));
    if (!ct_device_equal(ct__device(given), ct__device(out)))
        return ct_error(CT_ERR_DEVICE, "%s: grad_output[%d] is on %s but output[%d] is on %s", op, i,
                        ct_device_name(ct__device(given)), i, ct_device_name(ct__device(out)));
    if (!ct_dtype_is_floating(given->dtype))
        return ct_error(CT_ERR_DTYPE, "%s: grad_output[%d] has dtype %s; a floating dtype is expected", op, i,
                        ct_dtype_name(given->dtype));
    return ct_to_dtype(given, out->dtype);
}

/* The node that receives d(out): its grad_fn, or a leaf's accumulator (a new reference). */
static ct_node *root_node(ct_tensor *out) {
    return out->grad_fn ? ct_retain(out->grad_fn) : ct__grad_accumulator(out);
}

/* Shared by backward and autograd_grad: roots[i] gets grads[i]; targets (may be NULL) are captured. */
static bool engine_run_graph(int n, ct_tensor *const *outs, ct_tensor *const *grads, bool retain_graph,
                             bool capture, int n_targets, ct_node *const *targets) {
    engine_run r = {.id = atomic_fetch_add(&run_ids, 1), .retain_graph = retain_graph, .capture = capture};
    ct_node *roots[n > 0 ? n : 1];
    int made = 0;
    bool ok = true;
    for (; ok && made < n; made++) ok = (roots[made] = root_node(outs[made])) != NULL;
    if (!ok) made--;
    bool prev = ct_set_grad_enabled(false);
    ok = ok && discover(&r, roots, n);
    if (ok && capture) {
        for (int i = 0; i < n_targets; i++)
            if (targets[i] && targets[i]->run.id == r.id) targets[i]->run.is_target = true;
        mark_needed(&r);
    }
    ok = ok && engine_execute(&r, roots, grads, n);
    ct_set_grad_enabled(prev);
    for (int i = 0; i < made; i++) ct_release(roots[i]);
    finish(&r);
    return ok;
}

static bool check_requires_grad(const char *op, int i, const ct_tensor *t) {
    if (t->requires_grad) return true;
    ct_error(CT_ERR_STATE, "%s: element %d of tensors does not require grad and does not have a grad_fn", op, i);
    return false;
}

/* Backward commits gradients, so it does not start while an error is pending: the forward that
 * made the root may have failed part-way. (The engine also reads ct_ok() after each node.) */
bool ct_backward_opt(const ct_tensor *root, ct_backward_opts opts) {
    if (!ct_ok() || !CT__CHECK("backward", root) || !check_requires_grad("backward", 0, root)) return false;
    if (opts.gradient && !CT__CHECK("backward", opts.gradient)) return false;
    bool ok;
    ct_scope_begin();
    ct_tensor *g = root_gradient("backward", 0, root, opts.gradient);
    ok = g && engine_run_graph(1, (ct_tensor *const[]){(ct_tensor *)root}, &g, opts.retain_graph, false, 0, NULL);
    ct_scope_end();
    return ok;
}

ct_tensor_list ct_autograd_grad_opt(ct_tensor_list outputs, ct_tensor_list inputs, ct_tensor_list grad_outputs,
                                    ct_autograd_grad_opts opts) {
    static const char *op = "autograd_grad";
    ct_tensor_list result = {0};
    if (!ct_ok()) return result;
    if (outputs.n <= 0 || inputs.n <= 0) {
        ct_error(CT_ERR_ARG, "%s: expected at least one output and one input (got %d and %d)", op, outputs.n, inputs.n);
        return result;
    }
    if (grad_outputs.n != 0 && grad_outputs.n != outputs.n) {
        ct_error(CT_ERR_ARG, "%s: grad_outputs has %d tensors but outputs has %d", op, grad_outputs.n, outputs.n);
        return result;
    }
    for (int i = 0; i < outputs.n; i++)
        if (!CT__CHECK(op, outputs.items[i]) || !check_requires_grad(op, i, outputs.items[i])) return result;
    for (int i = 0; i < inputs.n; i++) {
        if (!CT__CHECK(op, inputs.items[i])) return result;
        if (!inputs.items[i]->requires_grad) {
            ct_error(CT_ERR_STATE, "%s: One of the differentiated Tensors (input %d) does not require grad", op, i);
            return result;
        }
    }
    ct_tensor **items = ct_scope_alloc((size_t)inputs.n * sizeof *items);
    if (!items) return result;
    /* Where each input's gradient arrives (a reference each): its grad_fn, or a leaf's
     * accumulator, made now if no graph refers to it yet (then it is unused, or the output itself). */
    ct_node *targets[inputs.n];
    for (int i = 0; i < inputs.n; i++) targets[i] = root_node(inputs.items[i]);
    bool ok = true;
    ct_scope_begin();
    ct_tensor *grads[outputs.n];
    for (int i = 0; ok && i < outputs.n; i++)
        ok = (grads[i] = root_gradient(op, i, outputs.items[i], grad_outputs.n ? grad_outputs.items[i] : NULL)) != NULL;
    ok = ok && engine_run_graph(outputs.n, outputs.items, grads, opts.retain_graph, true, inputs.n, targets);
    ct_scope_end();
    /* Collect what the targets captured; ends the targets' run state either way. */
    for (int i = 0; i < inputs.n; i++) {
        ct_node *t = targets[i];
        ct_tensor *g = t ? t->run.captured : NULL;
        /* In the graph, but every path to it carried no gradient: zeros, as PyTorch materializes. */
        if (ok && !g && t && t->run.is_target) g = ct_zeros_like(inputs.items[i]);
        if (ok && !g && !opts.allow_unused) {
            ct_error(CT_ERR_STATE, "%s: One of the differentiated Tensors (input %d) appears to not have been used in the graph. "
                                   "Set allow_unused=True if this is the desired behavior.", op, i);
            ok = false;
        }
        items[i] = ok && g ? g == t->run.captured ? ct_scope_own(ct_retain(g)) : g : NULL;
    }
    for (int i = 0; i < inputs.n; i++) {
        if (!targets[i]) continue;
        ct_release(targets[i]->run.captured);
        targets[i]->run.captured = NULL;
        targets[i]->run.is_target = false;
    }
    for (int i = 0; i < inputs.n; i++) ct_release(targets[i]);
    if (!ok) return result;
    result.n = inputs.n;
    result.items = items;
    return result;
}
