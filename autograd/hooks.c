/* Tensor hooks: gradient hooks (may replace the gradient) and post-accumulate-grad hooks on
 * leaves, each removable through its handle.
 *
 * A hook list is an object shared by its owner (the tensor's metadata) and by the handles, so a
 * handle stays valid after the tensor is gone (removing then does nothing). A list only grows;
 * removed entries are skipped. */
#include "autograd_impl.h"

#include <stdlib.h>

typedef struct hook_entry {
    void (*fn)(void); /* ct_grad_hook or ct_post_accumulate_grad_hook, by list kind */
    void *user;
    bool removed;
} hook_entry;

struct ct_hook_list {
    ct_object header;
    hook_entry *entries;
    int n, cap;
};

struct ct_hook_handle {
    ct_object header;
    ct_hook_list *list; /* one reference */
    int index;
};

static void list_destroy(ct_object *obj) {
    ct_hook_list *l = (ct_hook_list *)obj;
    free(l->entries);
    free(l);
}
static const ct_object_type list_type = {"hook_list", list_destroy};

static void handle_destroy(ct_object *obj) {
    ct_hook_handle *h = (ct_hook_handle *)obj;
    ct_release(h->list);
    free(h);
}
static const ct_object_type handle_type = {"hook_handle", handle_destroy};

void ct__hook_list_free(ct_hook_list *hooks) { ct_release(hooks); }

ct_hook_handle *ct__hook_add(ct_hook_list **list, void (*fn)(void), void *user) {
    if (!*list) {
        ct_hook_list *l = calloc(1, sizeof *l);
        if (!l) return ct_error(CT_ERR_OOM, "CPU out of memory registering a hook");
        ct_object_init(&l->header, &list_type);
        *list = l;
    }
    ct_hook_list *l = *list;
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 4;
        hook_entry *grown = realloc(l->entries, (size_t)cap * sizeof *grown);
        if (!grown) return ct_error(CT_ERR_OOM, "CPU out of memory registering a hook");
        l->entries = grown, l->cap = cap;
    }
    ct_hook_handle *h = malloc(sizeof *h);
    if (!h) return ct_error(CT_ERR_OOM, "CPU out of memory registering a hook");
    l->entries[l->n] = (hook_entry){fn, user, false};
    ct_object_init(&h->header, &handle_type);
    h->list = ct_retain(l);
    h->index = l->n++;
    return ct_scope_own(h);
}

void ct_hook_remove(ct_hook_handle *handle) {
    if (handle) handle->list->entries[handle->index].removed = true;
}

static bool check_hookable(const char *op, const ct_tensor *t) {
    if (!CT__CHECK(op, t)) return false;
    if (t->requires_grad) return true;
    ct_error(CT_ERR_STATE, "%s: cannot register a hook on a tensor that doesn't require gradient", op);
    return false;
}

ct_hook_handle *ct_register_hook(ct_tensor *t, ct_grad_hook fn, void *user) {
    if (!check_hookable("register_hook", t)) return NULL;
    if (!fn) return ct_error(CT_ERR_ARG, "register_hook: hook function is NULL");
    ct_autograd_meta *m = ct__meta(t);
    if (!m) return NULL;
    /* A non-leaf's gradient arrives at its grad_fn, which must find the hooks. */
    if (t->grad_fn && t->grad_fn->output_meta != m) {
        ct_release(t->grad_fn->output_meta);
        t->grad_fn->output_meta = ct_retain(m);
    }
    return ct__hook_add(&m->grad_hooks, (void (*)(void))fn, user);
}

ct_hook_handle *ct_register_post_accumulate_grad_hook(ct_tensor *t, ct_post_accumulate_grad_hook fn, void *user) {
    if (!check_hookable("register_post_accumulate_grad_hook", t)) return NULL;
    if (!fn) return ct_error(CT_ERR_ARG, "register_post_accumulate_grad_hook: hook function is NULL");
    if (t->grad_fn)
        return ct_error(CT_ERR_STATE, "register_post_accumulate_grad_hook: post accumulate grad hooks cannot be registered on "
                                      "non-leaf tensors");
    ct_autograd_meta *m = ct__meta(t);
    return m ? ct__hook_add(&m->post_accumulate_hooks, (void (*)(void))fn, user) : NULL;
}

ct_tensor *ct__run_grad_hooks(ct_hook_list *hooks, ct_tensor *grad) {
    for (int i = 0; i < hooks->n; i++) {
        if (hooks->entries[i].removed) continue;
        ct_tensor *replaced = ((ct_grad_hook)hooks->entries[i].fn)(grad, hooks->entries[i].user);
        if (!ct_ok()) return NULL;
        if (!replaced || replaced == grad) continue;
        if (!ct__same_shape(replaced->shape, replaced->ndim, grad->shape, grad->ndim))
            return ct_error(CT_ERR_SHAPE, "hook %d returned a gradient of shape %s for a gradient of shape %s", i,
                            ct__shape_str(replaced->shape, replaced->ndim), ct__shape_str(grad->shape, grad->ndim));
        grad = replaced;
    }
    return grad;
}

int ct__hook_count(const ct_hook_list *hooks) { return hooks ? hooks->n : 0; }

void (*ct__hook_at(const ct_hook_list *hooks, int i, void **user))(void) {
    if (hooks->entries[i].removed) return NULL;
    *user = hooks->entries[i].user;
    return hooks->entries[i].fn;
}

void ct__run_post_accumulate_hooks(ct_hook_list *hooks, ct_tensor *leaf) {
    for (int i = 0; i < hooks->n && ct_ok(); i++)
        if (!hooks->entries[i].removed) ((ct_post_accumulate_grad_hook)hooks->entries[i].fn)(leaf, hooks->entries[i].user);
}
