/* Full backward hooks (PyTorch's register_full_backward_hook). The forward's inputs and outputs
 * pass through identity nodes that share one record of the call: an output's node stores
 * d(loss)/d(output) as it goes by, and the input's node, which runs once the module's own graph is
 * done, calls the hooks with d(loss)/d(input) and those stored gradients, and passes on whatever
 * they return. When no input needs a gradient (a first layer fed with data), the hooks run from the
 * last output's node with grad_input entries NULL, as PyTorch does. Modules whose forward takes
 * several inputs that all need gradients are refused for now: the input side would need one node
 * with several outputs. */
#include "module_impl.h"

#include <stdlib.h>

struct ct_backward_hook_call {
    ct_object header;
    ct_module *module; /* one reference: the graph may outlive the caller's handle */
    int n_inputs, n_outputs;
    ct_tensor **grad_outputs; /* one reference each, NULL until that output's gradient arrives */
    int outputs_wrapped;      /* outputs that went through a node */
    int outputs_pending;      /* of those, not yet run in this backward */
    bool input_wrapped;
};

static void call_destroy(ct_object *obj) {
    ct_backward_hook_call *c = (ct_backward_hook_call *)obj;
    for (int i = 0; i < c->n_outputs; i++) ct_release(c->grad_outputs[i]);
    free(c->grad_outputs);
    ct_release(c->module);
    free(c);
}
static const ct_object_type call_type = {"backward_hook_call", call_destroy};

typedef struct hook_node_ctx {
    ct_backward_hook_call *call; /* one reference */
    int index;
} hook_node_ctx;

static void release_ctx(ct_node *n) { ct_release(((hook_node_ctx *)n->ctx)->call); }

/* Runs the module's hooks; returns the gradient for its input (grad_input unless replaced). */
static ct_tensor *fire(ct_backward_hook_call *c, ct_tensor *grad_input) {
    ct_tensor **gin = ct_scope_alloc(sizeof *gin * (size_t)c->n_inputs);
    ct_tensor **gout = ct_scope_alloc(sizeof *gout * (size_t)c->n_outputs);
    if (!gin || !gout) return NULL;
    for (int i = 0; i < c->n_inputs; i++) gin[i] = NULL;
    if (grad_input) gin[0] = grad_input;
    for (int i = 0; i < c->n_outputs; i++) gout[i] = c->grad_outputs[i] ? ct_scope_own(c->grad_outputs[i]) : NULL;
    for (int i = 0; i < c->n_outputs; i++) c->grad_outputs[i] = NULL; /* the scope has them now */
    c->outputs_pending = c->outputs_wrapped;
    ct_tensor_list in = {c->n_inputs, gin}, out = {c->n_outputs, gout};
    ct_hook_list *hooks = c->module->backward_hooks;
    for (int i = 0; i < ct__hook_count(hooks); i++) {
        void *user;
        ct_full_backward_hook fn = (ct_full_backward_hook)ct__hook_at(hooks, i, &user);
        if (!fn) continue;
        ct_tensor_list replaced = fn(c->module, in, out, user);
        if (!ct_ok()) return NULL;
        if (replaced.n == 0) continue;
        if (replaced.n != c->n_inputs)
            return ct_error(CT_ERR_ARG, "backward hook for %s returned %d gradients for %d inputs", c->module->vtable->name,
                            replaced.n, c->n_inputs);
        in = replaced;
    }
    return in.items[0];
}

static bool output_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    const hook_node_ctx *x = n->ctx;
    ct_backward_hook_call *c = x->call;
    ct_release(c->grad_outputs[x->index]);
    c->grad_outputs[x->index] = ct_retain((ct_tensor *)grad);
    gi[0] = ct_alias(grad);
    if (--c->outputs_pending == 0 && !c->input_wrapped) return fire(c, NULL) != NULL || ct_ok();
    return true;
}

static bool input_backward(ct_node *n, const ct_tensor *grad, ct_tensor **gi) {
    gi[0] = fire(((hook_node_ctx *)n->ctx)->call, (ct_tensor *)grad);
    return gi[0] != NULL;
}

static const ct_node_ops output_node = {"BackwardHookFunctionBackward", "module output", output_backward, release_ctx, NULL};
static const ct_node_ops input_node = {"BackwardHookFunctionBackward", "module input", input_backward, release_ctx, NULL};

/* x seen through an identity node of the call's (x itself when it needs no gradient). */
static ct_tensor *through(const ct_node_ops *ops, ct_backward_hook_call *c, int index, ct_tensor *x) {
    if (!x || !ct_requires_grad(x) || !ct_is_grad_enabled()) return x;
    ct_tensor *y = ct__alias(x);
    ct_node *n = y ? ct__record(ops, y, 1, (const ct_tensor *const[]){x}, sizeof(hook_node_ctx)) : NULL;
    if (!n) return NULL;
    *(hook_node_ctx *)n->ctx = (hook_node_ctx){ct_retain(c), index};
    return y;
}

ct_tensor_list ct__backward_hooks_wrap_inputs(ct_module *m, ct_tensor_list inputs, ct_backward_hook_call **call) {
    const ct_tensor_list none = {0};
    int needing = 0;
    for (int i = 0; i < inputs.n; i++) needing += inputs.items[i] && ct_requires_grad(inputs.items[i]);
    if (needing > 1) {
        ct_error(CT_ERR_UNSUPPORTED, "full backward hooks on %s: a forward with %d inputs that require grad is not supported "
                                     "yet (one is)", m->vtable->name, needing);
        return none;
    }
    ct_backward_hook_call *c = calloc(1, sizeof *c);
    if (!c) return ct_error(CT_ERR_OOM, "CPU out of memory for a backward hook"), none;
    ct_object_init(&c->header, &call_type);
    ct_scope_own(c);
    c->module = ct_retain(m);
    c->n_inputs = inputs.n;
    ct_tensor_list wrapped = ct_tensor_list_copy(inputs);
    for (int i = 0; i < inputs.n && wrapped.n; i++) {
        if (!inputs.items[i] || !ct_requires_grad(inputs.items[i])) continue;
        ct_tensor *y = through(&input_node, c, i, inputs.items[i]);
        if (!y) return none;
        ((ct_tensor **)wrapped.items)[i] = y;
        c->input_wrapped = y != inputs.items[i];
    }
    *call = c;
    return wrapped;
}

ct_tensor_list ct__backward_hooks_wrap_outputs(ct_backward_hook_call *c, ct_tensor_list outputs) {
    c->n_outputs = outputs.n;
    c->grad_outputs = calloc((size_t)outputs.n, sizeof *c->grad_outputs);
    if (!c->grad_outputs) return ct_error(CT_ERR_OOM, "CPU out of memory for a backward hook"), (ct_tensor_list){0};
    ct_tensor_list wrapped = ct_tensor_list_copy(outputs);
    for (int i = 0; i < outputs.n && wrapped.n; i++) {
        ct_tensor *y = through(&output_node, c, i, outputs.items[i]);
        if (!y) return (ct_tensor_list){0};
        if (y != outputs.items[i]) c->outputs_wrapped++, c->outputs_pending++;
        ((ct_tensor **)wrapped.items)[i] = y;
    }
    return wrapped;
}
