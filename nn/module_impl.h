/* Private module internals shared by nn/: the module struct and its member lists. */
#ifndef CTORCH_MODULE_IMPL_H
#define CTORCH_MODULE_IMPL_H

#include "../autograd/autograd_impl.h"
#include "ctorch/nn.h"

typedef struct ct_member_tensor {
    char *name;
    ct_tensor *tensor; /* one reference; NULL for a parameter registered as None */
    bool persistent;   /* buffers: part of the state dict */
} ct_member_tensor;

typedef struct ct_member_module {
    char *name;
    ct_module *module; /* one reference */
} ct_member_module;

struct ct_module {
    ct_object header;
    const ct_module_vtable *vtable;
    bool training;
    ct_member_tensor *params, *buffers;
    int n_params, n_buffers, cap_params, cap_buffers;
    ct_member_module *children;
    int n_children, cap_children;
    ct_hook_list *forward_pre_hooks, *forward_hooks, *backward_hooks;
    void *state; /* vtable's state, in the same allocation */
};

/* A list of one tensor, scope-owned (for single-output forwards). */
ct_tensor_list ct__list1(ct_tensor *t);
/* Full backward hooks (module_hooks.c): wrap a forward's inputs and outputs in identity nodes
 * whose backward calls the hooks; the two share one record of the call. */
typedef struct ct_backward_hook_call ct_backward_hook_call;
ct_tensor_list ct__backward_hooks_wrap_inputs(ct_module *m, ct_tensor_list inputs, ct_backward_hook_call **call);
ct_tensor_list ct__backward_hooks_wrap_outputs(ct_backward_hook_call *call, ct_tensor_list outputs);

#endif /* CTORCH_MODULE_IMPL_H */
