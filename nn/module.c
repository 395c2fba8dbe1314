/* Modules: creation, registration of parameters, buffers and children, forward with hooks,
 * recursive iteration with dotted names, train/eval, apply, zero_grad, to(device/dtype). */
#include "module_impl.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

/* ---- lifetime ------------------------------------------------------------------------------------ */

static void module_destroy(ct_object *obj) {
    ct_module *m = (ct_module *)obj;
    if (m->vtable->destroy_state) m->vtable->destroy_state(m);
    for (int i = 0; i < m->n_params; i++) free(m->params[i].name), ct_release(m->params[i].tensor);
    for (int i = 0; i < m->n_buffers; i++) free(m->buffers[i].name), ct_release(m->buffers[i].tensor);
    for (int i = 0; i < m->n_children; i++) free(m->children[i].name), ct_release(m->children[i].module);
    free(m->params);
    free(m->buffers);
    free(m->children);
    ct__hook_list_free(m->forward_pre_hooks);
    ct__hook_list_free(m->forward_hooks);
    ct__hook_list_free(m->backward_hooks);
    free(m);
}

static const ct_object_type module_type = {"module", module_destroy};

ct_module *ct_module_new(const ct_module_vtable *vtable, size_t state_size) {
    if (!vtable || !vtable->name) return ct_error(CT_ERR_ARG, "module_new: vtable and its name are required");
    size_t at = (sizeof(ct_module) + alignof(max_align_t) - 1) / alignof(max_align_t) * alignof(max_align_t);
    ct_module *m = calloc(1, at + state_size);
    if (!m) return ct_error(CT_ERR_OOM, "CPU out of memory creating a %s module", vtable->name);
    ct_object_init(&m->header, &module_type);
    m->vtable = vtable;
    m->training = true;
    m->state = state_size ? (char *)m + at : NULL;
    return ct_scope_own(m);
}

void *ct_module_state(const ct_module *m) { return m ? m->state : NULL; }
const char *ct_module_type_name(const ct_module *m) { return m ? m->vtable->name : NULL; }

/* ---- registration ------------------------------------------------------------------------------ */

static bool check_name(const char *op, const ct_module *m, const char *name) {
    if (!m) return ct_error(CT_ERR_NULL, "%s: module is NULL (did an earlier call fail?)", op) != NULL;
    if (!name || !*name || strchr(name, '.'))
        return ct_error(CT_ERR_ARG, "%s: name can't be empty or contain \".\", got \"%s\"", op, name ? name : "(null)") != NULL;
    for (int i = 0; i < m->n_params; i++)
        if (!strcmp(m->params[i].name, name)) return ct_error(CT_ERR_ARG, "%s: attribute '%s' already exists", op, name) != NULL;
    for (int i = 0; i < m->n_buffers; i++)
        if (!strcmp(m->buffers[i].name, name)) return ct_error(CT_ERR_ARG, "%s: attribute '%s' already exists", op, name) != NULL;
    for (int i = 0; i < m->n_children; i++)
        if (!strcmp(m->children[i].name, name)) return ct_error(CT_ERR_ARG, "%s: attribute '%s' already exists", op, name) != NULL;
    return true;
}

/* Grows an array of members by one slot; false on out-of-memory. */
static bool grow(void **items, int n, int *cap, size_t size) {
    if (n < *cap) return true;
    int c = *cap ? *cap * 2 : 4;
    void *p = realloc(*items, (size_t)c * size);
    if (!p) return ct_error(CT_ERR_OOM, "CPU out of memory registering a module member") != NULL;
    *items = p, *cap = c;
    return true;
}

static ct_tensor *add_tensor(ct_member_tensor **items, int *n, int *cap, const char *name, ct_tensor *t, bool persistent) {
    char *copy = strdup(name);
    if (!copy || !grow((void **)items, *n, cap, sizeof **items)) {
        free(copy);
        return ct_error(CT_ERR_OOM, "CPU out of memory registering '%s'", name);
    }
    (*items)[(*n)++] = (ct_member_tensor){copy, ct_retain(t), persistent};
    return t;
}

ct_tensor *ct_register_parameter(ct_module *m, const char *name, ct_tensor *param) {
    if (!check_name("register_parameter", m, name)) return NULL;
    if (param && !ct_requires_grad(param) && !ct_requires_grad_(param, true)) return NULL;
    if (!param && !ct_ok()) return NULL; /* the parameter's constructor failed */
    return add_tensor(&m->params, &m->n_params, &m->cap_params, name, param, true);
}

ct_tensor *ct_register_buffer(ct_module *m, const char *name, ct_tensor *buffer, bool persistent) {
    if (!check_name("register_buffer", m, name)) return NULL;
    if (!buffer && !ct_ok()) return NULL;
    return add_tensor(&m->buffers, &m->n_buffers, &m->cap_buffers, name, buffer, persistent);
}

ct_module *ct_register_module(ct_module *m, const char *name, ct_module *child) {
    if (!check_name("register_module", m, name)) return NULL;
    if (!child) return ct_ok() ? ct_error(CT_ERR_NULL, "register_module: module '%s' is NULL", name) : NULL;
    char *copy = strdup(name);
    if (!copy || !grow((void **)&m->children, m->n_children, &m->cap_children, sizeof *m->children)) {
        free(copy);
        return ct_error(CT_ERR_OOM, "CPU out of memory registering '%s'", name);
    }
    m->children[m->n_children++] = (ct_member_module){copy, ct_retain(child)};
    return child;
}

static ct_member_tensor *find_tensor(ct_member_tensor *items, int n, const char *name) {
    for (int i = 0; i < n; i++)
        if (!strcmp(items[i].name, name)) return &items[i];
    return NULL;
}

static ct_tensor *scoped(ct_tensor *t) { return t ? ct_scope_own(ct_retain(t)) : NULL; }

ct_tensor *ct_module_parameter(const ct_module *m, const char *name) {
    ct_member_tensor *p = m && name ? find_tensor(m->params, m->n_params, name) : NULL;
    return p ? scoped(p->tensor) : NULL;
}

ct_tensor *ct_module_buffer(const ct_module *m, const char *name) {
    ct_member_tensor *b = m && name ? find_tensor(m->buffers, m->n_buffers, name) : NULL;
    return b ? scoped(b->tensor) : NULL;
}

ct_module *ct_module_child(const ct_module *m, const char *name) {
    for (int i = 0; m && name && i < m->n_children; i++)
        if (!strcmp(m->children[i].name, name)) return m->children[i].module;
    return NULL;
}

/* ---- forward ----------------------------------------------------------------------------------- */

ct_tensor_list ct__list1(ct_tensor *t) { return ct_tensor_list_copy(CT_TENSORS(t)); }

static ct_tensor_list run_forward(ct_module *m, ct_tensor_list inputs) {
    if (m->vtable->forward_list) return m->vtable->forward_list(m, inputs);
    if (!m->vtable->forward) {
        ct_error(CT_ERR_UNSUPPORTED, "Module [%s] is missing the required \"forward\" function", m->vtable->name);
        return (ct_tensor_list){0};
    }
    if (inputs.n != 1) {
        ct_error(CT_ERR_ARG, "%s.forward takes 1 input, got %d", m->vtable->name, inputs.n);
        return (ct_tensor_list){0};
    }
    ct_tensor *y = m->vtable->forward(m, inputs.items[0]);
    return y ? ct__list1(y) : (ct_tensor_list){0};
}

ct_tensor_list ct_forward_list(ct_module *m, ct_tensor_list inputs) {
    const ct_tensor_list none = {0};
    if (!m) {
        if (ct_ok()) ct_error(CT_ERR_NULL, "forward: module is NULL (did an earlier call fail?)");
        return none;
    }
    for (int i = 0; i < ct__hook_count(m->forward_pre_hooks); i++) {
        void *user;
        ct_forward_pre_hook fn = (ct_forward_pre_hook)ct__hook_at(m->forward_pre_hooks, i, &user);
        if (!fn) continue;
        ct_tensor_list replaced = fn(m, inputs, user);
        if (!ct_ok()) return none;
        if (replaced.n > 0) inputs = replaced;
    }
    ct_backward_hook_call *call = NULL;
    if (ct__hook_count(m->backward_hooks)) {
        inputs = ct__backward_hooks_wrap_inputs(m, inputs, &call);
        if (!inputs.n) return none;
    }
    ct_tensor_list outputs = run_forward(m, inputs);
    if (!outputs.n) return none;
    for (int i = 0; i < ct__hook_count(m->forward_hooks); i++) {
        void *user;
        ct_forward_hook fn = (ct_forward_hook)ct__hook_at(m->forward_hooks, i, &user);
        if (!fn) continue;
        ct_tensor_list replaced = fn(m, inputs, outputs, user);
        if (!ct_ok()) return none;
        if (replaced.n > 0) outputs = replaced;
    }
    if (call) outputs = ct__backward_hooks_wrap_outputs(call, outputs);
    return outputs;
}

ct_tensor *ct_forward(ct_module *m, ct_tensor *x) {
    ct_tensor_list out = ct_forward_list(m, ct__list1(x));
    if (!out.n) return NULL;
    if (out.n != 1)
        return ct_error(CT_ERR_ARG, "forward: %s returned %d outputs; use ct_forward_list", m->vtable->name, out.n);
    return out.items[0];
}

/* ---- iteration ----------------------------------------------------------------------------------- */
/* Depth-first in registration order with dotted prefixes; a tensor or module met again (shared)
 * is listed once, under its first name, as PyTorch's remove_duplicate. */

typedef struct collector {
    ct_named_tensor *tensors;
    ct_named_module *modules;
    int n, cap;
    bool ok;
} collector;

static char *dotted(const char *prefix, const char *name) {
    size_t a = strlen(prefix), b = strlen(name);
    char *s = ct_scope_alloc(a + b + 2);
    if (!s) return NULL;
    if (a) memcpy(s, prefix, a), s[a++] = '.';
    memcpy(s + a, name, b + 1);
    return s;
}

/* Room for one more item in a scope-owned array (*items, of item bytes each). */
static bool collector_room(collector *c, void **items, size_t item) {
    if (c->n < c->cap) return true;
    int cap = c->cap ? c->cap * 2 : 16;
    void *grown = ct_scope_alloc((size_t)cap * item);
    if (!grown) return c->ok = false;
    if (c->n) memcpy(grown, *items, (size_t)c->n * item);
    *items = grown;
    c->cap = cap;
    return true;
}

enum member_kind { PARAMS, BUFFERS, STATE };

static bool seen_tensor(const collector *c, const ct_tensor *t) {
    for (int i = 0; i < c->n; i++)
        if (c->tensors[i].tensor == t) return true;
    return false;
}

static void collect_tensors(collector *c, const ct_module *m, const char *prefix, enum member_kind kind) {
    for (int pass = 0; pass < 2 && c->ok; pass++) {
        bool params = pass == 0;
        if ((kind == PARAMS && !params) || (kind == BUFFERS && params)) continue;
        const ct_member_tensor *items = params ? m->params : m->buffers;
        int n = params ? m->n_params : m->n_buffers;
        for (int i = 0; i < n && c->ok; i++) {
            const ct_member_tensor *t = &items[i];
            if (!t->tensor || (kind == STATE && !t->persistent) || (kind != STATE && seen_tensor(c, t->tensor))) continue;
            if (!collector_room(c, (void **)&c->tensors, sizeof *c->tensors)) return;
            char *name = dotted(prefix, t->name);
            if (!name) return (void)(c->ok = false);
            c->tensors[c->n++] = (ct_named_tensor){name, t->tensor};
        }
    }
    for (int i = 0; i < m->n_children && c->ok; i++) {
        char *p = dotted(prefix, m->children[i].name);
        if (!p) return (void)(c->ok = false);
        collect_tensors(c, m->children[i].module, p, kind);
    }
}

static ct_named_tensors named_tensors(const char *op, const ct_module *m, enum member_kind kind) {
    if (!m) {
        if (ct_ok()) ct_error(CT_ERR_NULL, "%s: module is NULL (did an earlier call fail?)", op);
        return (ct_named_tensors){0};
    }
    collector c = {.tensors = NULL, .ok = true};
    c.tensors = ct_scope_alloc(sizeof *c.tensors * 16), c.cap = 16;
    if (!c.tensors) return (ct_named_tensors){0};
    collect_tensors(&c, m, "", kind);
    if (!c.ok) return (ct_named_tensors){0};
    /* hand out scoped references so the list stays valid however the module changes */
    for (int i = 0; i < c.n; i++) ct_scope_own(ct_retain(c.tensors[i].tensor));
    return (ct_named_tensors){c.n, c.tensors};
}

static ct_tensor_list tensors_of(ct_named_tensors named) {
    ct_tensor **items = ct_scope_alloc(sizeof *items * (size_t)(named.n ? named.n : 1));
    if (!items) return (ct_tensor_list){0};
    for (int i = 0; i < named.n; i++) items[i] = named.items[i].tensor;
    return (ct_tensor_list){named.n, items};
}

ct_named_tensors ct_named_parameters(const ct_module *m) { return named_tensors("named_parameters", m, PARAMS); }
ct_tensor_list ct_parameters(const ct_module *m) { return tensors_of(named_tensors("parameters", m, PARAMS)); }
ct_named_tensors ct_named_buffers(const ct_module *m) { return named_tensors("named_buffers", m, BUFFERS); }
ct_tensor_list ct_buffers(const ct_module *m) { return tensors_of(named_tensors("buffers", m, BUFFERS)); }
ct_named_tensors ct_state_dict(const ct_module *m) { return named_tensors("state_dict", m, STATE); }

int64_t ct_num_parameters(const ct_module *m) {
    int64_t total = 0;
    CT_SCOPE {
        ct_tensor_list p = ct_parameters(m);
        for (int i = 0; i < p.n; i++) total += ct_numel(p.items[i]);
    }
    return total;
}

static bool seen_module(const collector *c, const ct_module *m) {
    for (int i = 0; i < c->n; i++)
        if (c->modules[i].module == m) return true;
    return false;
}

static void collect_modules(collector *c, const ct_module *m, const char *name) {
    if (seen_module(c, m) || !collector_room(c, (void **)&c->modules, sizeof *c->modules)) return;
    c->modules[c->n++] = (ct_named_module){name, (ct_module *)m};
    for (int i = 0; i < m->n_children && c->ok; i++) {
        char *p = dotted(name, m->children[i].name);
        if (!p) return (void)(c->ok = false);
        collect_modules(c, m->children[i].module, p);
    }
}

ct_named_modules ct_named_modules_of(const ct_module *m) {
    if (!m) {
        if (ct_ok()) ct_error(CT_ERR_NULL, "named_modules: module is NULL (did an earlier call fail?)");
        return (ct_named_modules){0};
    }
    collector c = {.ok = true};
    c.modules = ct_scope_alloc(sizeof *c.modules * 16), c.cap = 16;
    if (!c.modules) return (ct_named_modules){0};
    collect_modules(&c, m, "");
    return c.ok ? (ct_named_modules){c.n, c.modules} : (ct_named_modules){0};
}

static ct_module_list modules_of(ct_named_modules named) {
    ct_module **items = ct_scope_alloc(sizeof *items * (size_t)(named.n ? named.n : 1));
    if (!items) return (ct_module_list){0};
    for (int i = 0; i < named.n; i++) items[i] = named.items[i].module;
    return (ct_module_list){named.n, items};
}

ct_module_list ct_modules(const ct_module *m) { return modules_of(ct_named_modules_of(m)); }

ct_named_modules ct_named_children(const ct_module *m) {
    if (!m) {
        if (ct_ok()) ct_error(CT_ERR_NULL, "named_children: module is NULL (did an earlier call fail?)");
        return (ct_named_modules){0};
    }
    ct_named_module *items = ct_scope_alloc(sizeof *items * (size_t)(m->n_children ? m->n_children : 1));
    if (!items) return (ct_named_modules){0};
    int n = 0;
    for (int i = 0; i < m->n_children; i++) {
        bool dup = false;
        for (int j = 0; j < n && !dup; j++) dup = items[j].module == m->children[i].module;
        if (!dup) items[n++] = (ct_named_module){m->children[i].name, m->children[i].module};
    }
    return (ct_named_modules){n, items};
}

ct_module_list ct_children(const ct_module *m) { return modules_of(ct_named_children(m)); }

/* ---- state --------------------------------------------------------------------------------------- */

static void set_training(ct_module *m, void *mode) { m->training = *(bool *)mode; }

ct_module *ct_module_train(ct_module *m, bool mode) { return ct_module_apply(m, set_training, &mode); }
ct_module *ct_module_eval(ct_module *m) { return ct_module_train(m, false); }
bool ct_module_is_training(const ct_module *m) { return m && m->training; }

ct_module *ct_module_apply(ct_module *m, void (*fn)(ct_module *m, void *user), void *user) {
    if (!m) {
        if (ct_ok()) ct_error(CT_ERR_NULL, "apply: module is NULL (did an earlier call fail?)");
        return NULL;
    }
    CT_SCOPE {
        ct_module_list children = ct_children(m);
        for (int i = 0; i < children.n; i++) ct_module_apply(children.items[i], fn, user);
    }
    fn(m, user);
    return m;
}

void ct_module_zero_grad(ct_module *m) {
    CT_SCOPE {
        ct_tensor_list p = ct_parameters(m);
        for (int i = 0; i < p.n; i++) ct_set_grad(p.items[i], NULL);
    }
}

/* Replaces each tensor's data with convert(tensor) (and its .grad likewise), keeping identities. */
static ct_module *convert_members(const char *op, ct_module *m, ct_tensor *(*convert)(const ct_tensor *, const void *),
                                  const void *arg) {
    if (!m) {
        if (ct_ok()) ct_error(CT_ERR_NULL, "%s: module is NULL (did an earlier call fail?)", op);
        return NULL;
    }
    bool ok = true;
    CT_SCOPE CT_NO_GRAD {
        ct_tensor_list all[2] = {ct_parameters(m), ct_buffers(m)};
        for (int k = 0; k < 2 && ok; k++) {
            for (int i = 0; i < all[k].n && ok; i++) {
                ct_tensor *t = all[k].items[i];
                ct_tensor *data = convert(t, arg), *grad = ct_grad(t);
                ct_tensor *new_grad = grad ? convert(grad, arg) : NULL;
                ok = data && (!grad || new_grad);
                if (!ok) break;
                ct__tensor_set_data(t, data);
                if (grad) ct__tensor_set_data(grad, new_grad);
            }
        }
    }
    return ok ? m : NULL;
}

static ct_tensor *to_device(const ct_tensor *t, const void *device) { return ct_to(t, *(const ct_device *)device); }
static ct_tensor *to_dtype(const ct_tensor *t, const void *dtype) {
    ct_dtype d = *(const ct_dtype *)dtype;
    return ct_dtype_is_floating(t->dtype) ? ct_to_dtype(t, d) : ct_alias(t);
}

ct_module *ct_module_to(ct_module *m, ct_device device) { return convert_members("module_to", m, to_device, &device); }

ct_module *ct_module_to_dtype(ct_module *m, ct_dtype dtype) {
    if (!ct_dtype_is_floating(dtype))
        return ct_error(CT_ERR_DTYPE, "module_to_dtype: nn.Module.to only accepts floating point dtypes, but got desired dtype=%s",
                        ct_dtype_name(dtype));
    return convert_members("module_to_dtype", m, to_dtype, &dtype);
}

/* ---- hooks ------------------------------------------------------------------------------------- */

static bool check_hook(const char *op, const ct_module *m, const void *fn) {
    if (!m) return ct_error(CT_ERR_NULL, "%s: module is NULL (did an earlier call fail?)", op) != NULL;
    if (!fn) return ct_error(CT_ERR_ARG, "%s: hook function is NULL", op) != NULL;
    return true;
}

ct_hook_handle *ct_register_forward_pre_hook(ct_module *m, ct_forward_pre_hook fn, void *user) {
    if (!check_hook("register_forward_pre_hook", m, (const void *)fn)) return NULL;
    return ct__hook_add(&m->forward_pre_hooks, (void (*)(void))fn, user);
}

ct_hook_handle *ct_register_forward_hook(ct_module *m, ct_forward_hook fn, void *user) {
    if (!check_hook("register_forward_hook", m, (const void *)fn)) return NULL;
    return ct__hook_add(&m->forward_hooks, (void (*)(void))fn, user);
}

ct_hook_handle *ct_register_full_backward_hook(ct_module *m, ct_full_backward_hook fn, void *user) {
    if (!check_hook("register_full_backward_hook", m, (const void *)fn)) return NULL;
    return ct__hook_add(&m->backward_hooks, (void (*)(void))fn, user);
}
