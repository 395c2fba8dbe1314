/* Sequential, ModuleList, ModuleDict: children named "0", "1", ... (or by key), as PyTorch. */
#include "module_impl.h"

#include <stdio.h>

static ct_tensor_list sequential_forward(ct_module *m, ct_tensor_list inputs) {
    for (int i = 0; i < m->n_children && inputs.n; i++) inputs = ct_forward_list(m->children[i].module, inputs);
    return inputs;
}

static const ct_module_vtable sequential_vtable = {.name = "Sequential", .forward_list = sequential_forward};
static const ct_module_vtable module_list_vtable = {.name = "ModuleList"};
static const ct_module_vtable module_dict_vtable = {.name = "ModuleDict"};

/* Registers each module under its index, after the children already there. */
static ct_module *append_all(ct_module *m, ct_module_list modules) {
    for (int i = 0; m && i < modules.n; i++) m = ct_module_list_append(m, modules.items[i]);
    return m;
}

ct_module *ct_sequential_of(ct_module_list modules) { return append_all(ct_module_new(&sequential_vtable, 0), modules); }
ct_module *ct_module_list_of(ct_module_list modules) { return append_all(ct_module_new(&module_list_vtable, 0), modules); }

ct_module *ct_module_list_append(ct_module *list, ct_module *m) {
    if (!list) return NULL;
    char name[16];
    snprintf(name, sizeof name, "%d", list->n_children);
    return ct_register_module(list, name, m) ? list : NULL;
}

ct_module *ct_module_dict(void) { return ct_module_new(&module_dict_vtable, 0); }

ct_module *ct_module_dict_set(ct_module *dict, const char *key, ct_module *m) {
    return dict && ct_register_module(dict, key, m) ? dict : NULL;
}

int ct_module_len(const ct_module *m) { return m ? m->n_children : -1; }

ct_module *ct_module_at(const ct_module *m, int index) {
    if (!m) return ct_ok() ? ct_error(CT_ERR_NULL, "module_at: module is NULL (did an earlier call fail?)") : NULL;
    int n = m->n_children, i = index < 0 ? index + n : index;
    if (i < 0 || i >= n) return ct_error(CT_ERR_INDEX, "index %d is out of range for %s of length %d", index, m->vtable->name, n);
    return m->children[i].module;
}
