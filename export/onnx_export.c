/* ct_onnx_export: runs the module's forward once in eval mode under the tracer
 * (autograd/trace_impl.h), then turns the traced ops into an ONNX graph through the mappings of
 * onnx_ops.c and writes it (onnx_graph.c).
 *
 * Values are identified by tensor pointer while the graph is built: the example inputs (made to
 * require grad, on fresh aliases, so every op depending on them records a node and is traced),
 * parameters and buffers (initializers under their dotted names), traced ops' outputs, and any
 * other tensor an op reads, which forward made from no input (ct_full, arange, scalars): it
 * becomes an initializer holding its traced value. */
#include "onnx_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct value {
    const ct_tensor *t;
    char *name;
    bool is_const; /* an initializer (parameter, buffer, constant or folded op) */
    bool dyn0;     /* dim 0 is symbolic */
    const ct_trace_op *op; /* the traced op that produced it, if any */
} value;

typedef struct exporter {
    onnx_graph *g;
    value *values;
    int n_values, cap_values;
    int n_consts;
    char path[512]; /* module path stack as one dotted string */
    ct_tracer tracer;
    /* The same forward on perturbed inputs (the check of untraced values, see check_const),
     * its outputs, and the tracer the module hooks write to now. */
    ct_tracer check;
    ct_tensor_list check_outs;
    ct_tracer *active;
    ct_onnx_opts opts;
} exporter;

static value *find(exporter *e, const ct_tensor *t) {
    for (int i = e->n_values - 1; i >= 0; i--) /* latest binding first (in-place rebinding) */
        if (e->values[i].t == t) return &e->values[i];
    return NULL;
}
static value *bind(exporter *e, const ct_tensor *t, const char *name, bool is_const, bool dyn0) {
    if (e->n_values == e->cap_values) {
        int cap = e->cap_values ? 2 * e->cap_values : 64;
        value *v = realloc(e->values, (size_t)cap * sizeof *v);
        if (!v) return ct_error(CT_ERR_OOM, "onnx_export: out of memory");
        e->values = v, e->cap_values = cap;
    }
    char *copy = strdup(name);
    if (!copy) return ct_error(CT_ERR_OOM, "onnx_export: out of memory");
    e->values[e->n_values] = (value){t, copy, is_const, dyn0, NULL};
    return &e->values[e->n_values++];
}

/* ---- module hooks: keep the dotted path of the running module for error messages ---- */
typedef struct hook_user {
    exporter *e;
    const char *name;
    size_t saved_len;
} hook_user;
static ct_tensor_list pre_hook(ct_module *m, ct_tensor_list inputs, void *user) {
    (void)inputs;
    hook_user *h = user;
    h->saved_len = strlen(h->e->path);
    snprintf(h->e->path, sizeof h->e->path, "%s", h->name);
    h->e->active->module = h->e->path;
    ct_trace_rnn cfg;
    if (ct__rnn_trace_attrs(m, &cfg)) h->e->active->suppress++; /* recorded whole by post_hook */
    return (ct_tensor_list){0, NULL};
}
static ct_tensor_list post_hook(ct_module *m, ct_tensor_list inputs, ct_tensor_list outputs, void *user) {
    hook_user *h = user;
    ct_tracer *t = h->e->active;
    ct_trace_rnn cfg;
    if (ct__rnn_trace_attrs(m, &cfg) && --t->suppress == 0 && outputs.n >= 2) {
        /* the module as one op: inputs (x[, h_0[, c_0]]), outputs (out, h_n[, c_n]) */
        static const char *const names[] = {[CT_TRACE_RNN_TANH] = "rnn", [CT_TRACE_RNN_RELU] = "rnn",
                                            [CT_TRACE_LSTM] = "lstm", [CT_TRACE_GRU] = "gru"};
        /* inputs: x, h_0, c_0 (NULL when not given), then per layer and direction
         * weight_ih, weight_hh, bias_ih, bias_hh (NULL without bias) */
        const ct_tensor *in[3 + 4 * 16] = {0};
        int64_t D = cfg.bidirectional ? 2 : 1;
        if (cfg.num_layers * D > 16) {
            ct_error(CT_ERR_UNSUPPORTED, "ONNX export: %s with more than 16 layers x directions", ct_module_type_name(m));
            t->failed = true;
            return (ct_tensor_list){0, NULL};
        }
        for (int i = 0; i < inputs.n && i < 3; i++) in[i] = inputs.items[i];
        static const char *const kinds[4] = {"weight_ih", "weight_hh", "bias_ih", "bias_hh"};
        for (int64_t l = 0, k = 3; l < cfg.num_layers; l++)
            for (int d = 0; d < D; d++)
                for (int q = 0; q < 4; q++, k++) {
                    char name[64];
                    snprintf(name, sizeof name, "%s_l%lld%s", kinds[q], (long long)l, d ? "_reverse" : "");
                    in[k] = ct_module_parameter(m, name);
                }
        int before = t->n;
        ct__trace_node(names[cfg.mode], outputs.items[0], (int)(3 + 4 * cfg.num_layers * D), in);
        if (t->n == before + 1) {
            ct__trace_attrs(outputs.items[0], &cfg, sizeof cfg, 0, NULL);
            ct_trace_op *op = &t->ops[t->n - 1];
            for (int i = 1; i < outputs.n && i <= 2; i++) op->extra_out[op->n_extra_out++] = ct_retain(outputs.items[i]);
        }
    }
    /* back to the parent's path: the name up to its last dot */
    char *dot = strrchr(h->e->path, '.');
    if (dot) *dot = 0;
    else h->e->path[0] = 0;
    return (ct_tensor_list){0, NULL};
}

static const char *default_name(char *buf, size_t size, const char *base, int i, int n) {
    if (n == 1) snprintf(buf, size, "%s", base);
    else snprintf(buf, size, "%s_%d", base, i);
    return buf;
}

static const char *name_of(void *driver, const ct_tensor *t) {
    value *v = find(driver, t);
    return v ? v->name : NULL;
}

/* A tensor the graph would hold as a constant must be the same in the check trace: one that
 * differs was computed from the input by an op the tracer did not see (a comparison, argmax,
 * integer maths, an in-place op), and baking it in would write a wrong file silently. `other`
 * is the tensor at the same place in the check trace; op the traced op reading it (NULL for a
 * graph output). */
static bool check_const(const ct_tensor *t, const ct_tensor *other, const ct_trace_op *op) {
    if (other && ct_equal(t, other)) return true;
    if (!ct_ok()) return false;
    if (op)
        return ct_error(CT_ERR_UNSUPPORTED, "ONNX export: a value computed by 'unknown' depends on the input but was not traced "
                                            "(op has no ONNX mapping); it is read by op '%s' (called from module '%s')",
                        op->name, op->module), false;
    return ct_error(CT_ERR_UNSUPPORTED, "ONNX export: a value computed by 'unknown' depends on the input but was not traced "
                                        "(op has no ONNX mapping); it is a graph output"), false;
}

/* Resolves an op's input to a value name; unknown tensors become constant initializers, after
 * check_const against `other` (its counterpart in the check trace). */
static const char *resolve(exporter *e, const ct_tensor *t, const ct_tensor *other, const ct_trace_op *op, bool *dyn0) {
    if (!t) return NULL;
    value *v = find(e, t);
    if (!v) {
        if (!check_const(t, other, op)) return NULL;
        char name[64];
        snprintf(name, sizeof name, "constant_%d", e->n_consts++);
        const char *n = onnx_initializer(e->g, name, t);
        if (!n || !(v = bind(e, t, n, true, false))) return NULL;
    }
    *dyn0 = v->dyn0;
    return v->name;
}

static bool build(exporter *e, ct_tensor_list inputs, ct_tensor_list outputs, int opset) {
    /* inputs */
    for (int i = 0; i < e->tracer.n; i++) {
        ct_trace_op *op = &e->tracer.ops[i];
        const onnx_mapping *m = onnx_find_mapping(op->name);
        if (!m) {
            ct_error(CT_ERR_UNSUPPORTED, "ONNX export: op '%s' (called from module '%s') has no ONNX mapping", op->name,
                     op->module);
            return false;
        }
        const char *in_names[64];
        onnx_op_ctx c = {.g = e->g, .op = op, .in = in_names, .opset = opset, .name_of = name_of, .driver = e};
        if (op->n_in > 64) return ct_error(CT_ERR_UNSUPPORTED, "ONNX export: op '%s' with %d inputs", op->name, op->n_in), false;
        bool all_const = true, any_dyn0 = false;
        for (int k = 0; k < op->n_in; k++) {
            bool d0 = false;
            in_names[k] = resolve(e, op->in[k], e->check.ops[i].in[k], op, &d0);
            if (op->in[k] && !in_names[k]) return false;
            if (op->in[k]) {
                value *v = find(e, op->in[k]);
                all_const &= v->is_const;
                if (k < 16) c.in_dyn0[k] = d0, c.in_op[k] = v->op;
            }
            any_dyn0 |= d0;
        }
        char out_name[96];
        snprintf(out_name, sizeof out_name, "%s_%d", op->name, i);
        if (all_const && e->opts.do_constant_folding) {
            /* every input is known now: the traced value is the op's result */
            const char *n = onnx_initializer(e->g, out_name, op->out);
            value *v = n ? bind(e, op->out, n, true, false) : NULL;
            if (!v) return false;
            v->op = op;
            continue;
        }
        c.out = out_name;
        char extra_names[2][sizeof out_name + 16]; /* out_name, "_", up to 10 digits */
        for (int k = 0; k < op->n_extra_out; k++) {
            snprintf(extra_names[k], sizeof extra_names[k], "%s_%d", out_name, k + 1);
            c.extra_out[k] = extra_names[k];
        }
        if (!m->map(&c) || onnx_graph_failed(e->g)) {
            if (ct_ok()) ct_error(CT_ERR_OOM, "ONNX export: out of memory mapping op '%s'", op->name);
            return false;
        }
        value *v = bind(e, op->out, out_name, false, any_dyn0 && op->out->ndim > 0);
        if (!v) return false;
        v->op = op;
        for (int k = 0; k < op->n_extra_out; k++) /* final states: dim 0 is layers x directions */
            if (!bind(e, op->extra_out[k], extra_names[k], false, false)) return false;
    }
    (void)inputs;
    /* outputs: an Identity names each one */
    for (int i = 0; i < outputs.n; i++) {
        char buf[64];
        const char *name = i < e->opts.n_output_names && e->opts.output_names ? e->opts.output_names[i]
                                                                                : default_name(buf, sizeof buf, "output", i, outputs.n);
        bool d0 = false;
        const char *src = resolve(e, outputs.items[i], e->check_outs.items[i], NULL, &d0);
        if (!src || !ONNX_NODE(e->g, "Identity", name, src)) return false;
        const char *dims[CT_MAX_DIMS] = {0};
        if (e->opts.dynamic_batch && d0) dims[0] = "batch";
        if (!onnx_graph_io(e->g, true, name, outputs.items[i], dims)) return false;
    }
    return true;
}

static bool validate(ct_module *m, ct_tensor_list inputs, const char *path, const ct_onnx_opts *o) {
    const char *op = "onnx_export";
    if (!m || !path || inputs.n <= 0) return ct_error(CT_ERR_NULL, "%s: module, path and at least one input are required", op), false;
    for (int i = 0; i < inputs.n; i++)
        if (!inputs.items[i]) return ct_error(CT_ERR_NULL, "%s: input %d is NULL", op, i), false;
    if (o->opset_version < 13 || o->opset_version > 17)
        return ct_error(CT_ERR_ARG, "%s: opset_version %d is not supported (13 to 17: 17 is the newest Debian's onnx checker validates)",
                        op, o->opset_version), false;
    for (int i = 0; i < o->n_dynamic_axes; i++) {
        const ct_onnx_dynamic_axis *a = &o->dynamic_axes[i];
        if (a->input < 0 || a->input >= inputs.n || a->axis < 0 || a->axis >= inputs.items[a->input]->ndim || !a->name)
            return ct_error(CT_ERR_INDEX, "%s: dynamic axis %d (input %d, axis %d) does not exist", op, i, a->input, a->axis), false;
    }
    return true;
}

/* A copy of x with other values of the same shape and dtype: floating ones scaled by a negative
 * factor plus a deterministic ripple (signs, order and magnitudes all change); integers (indices)
 * rolled by one place, so every value stays one the caller gave (a valid index); bools negated. */
static ct_tensor *perturbed(const ct_tensor *x) {
    ct_tensor *y = NULL;
    int64_t n = ct_numel(x);
    if (ct_dtype_is_floating(x->dtype)) {
        ct_tensor *ripple = ct_sin(ct_add_scalar(ct_mul_scalar(ct_arange(0, (double)n, 1, .dtype = x->dtype, .device = ct_device_of(x)), 1.7), 0.3));
        y = ct_add(ct_mul_scalar(x, -0.83), ct_mul_scalar(ct_reshape(ripple, ct_shape_of(x)), 0.31));
    } else if (x->dtype == CT_BOOL) {
        y = ct_logical_not(x);
    } else if (n > 1) {
        ct_tensor *flat = ct_flatten(x);
        y = ct_reshape(ct_cat(CT_TENSORS(ct_narrow(flat, 0, 1, n - 1), ct_narrow(flat, 0, 0, 1)), 0), ct_shape_of(x));
    } else {
        y = ct_clone(x);
    }
    if (y && ct_dtype_is_floating(y->dtype)) ct_requires_grad_(y, true);
    return y;
}

/* One forward pass of m (already in eval mode, hooks on) under tracer t. */
static ct_tensor_list trace(exporter *e, ct_tracer *t, ct_module *m, ct_tensor *const *in, int n) {
    ct_tensor_list outs = {0, NULL};
    for (int i = 0; i < n; i++)
        if (!in[i]) return outs;
    e->active = t;
    e->path[0] = 0;
    t->module = NULL;
    ct__tracer = t;
    CT_ENABLE_GRAD {
        if (n == 1) {
            ct_tensor *y = ct_forward(m, in[0]);
            if (y) outs = ct_tensor_list_copy(CT_TENSORS(y));
        } else {
            outs = ct_forward_list(m, (ct_tensor_list){n, (ct_tensor **)in});
        }
    }
    ct__tracer = NULL;
    return outs;
}

/* Whether two traces recorded the same ops with the same input counts. */
static bool same_ops(const ct_tracer *a, const ct_tracer *b) {
    if (a->n != b->n) return false;
    for (int i = 0; i < a->n; i++)
        if (strcmp(a->ops[i].name, b->ops[i].name) || a->ops[i].n_in != b->ops[i].n_in) return false;
    return true;
}

bool ct_onnx_export_opt(ct_module *m, ct_tensor_list inputs, const char *path, ct_onnx_opts opts) {
    if (!ct_ok()) return false;
    if (!validate(m, inputs, path, &opts)) return false;
    exporter e = {.opts = opts};
    bool ok = false;
    ct_named_modules mods = {0};
    bool *modes = NULL;
    hook_user *users = NULL;
    ct_hook_handle **handles = NULL;
    CT_SCOPE {
        e.g = onnx_graph_new();
        mods = ct_named_modules_of(m);
        modes = calloc((size_t)mods.n + 1, sizeof *modes);
        users = calloc((size_t)mods.n + 1, sizeof *users);
        handles = calloc(2 * (size_t)mods.n + 1, sizeof *handles);
        if (!e.g || !modes || !users || !handles) { ct_error(CT_ERR_OOM, "onnx_export: out of memory"); break; }
        /* parameters and buffers: initializers under their dotted names */
        ct_named_tensors ps = ct_named_parameters(m), bs = ct_named_buffers(m);
        for (int i = 0; i < ps.n; i++)
            if (!onnx_initializer(e.g, ps.items[i].name, ps.items[i].tensor) ||
                !bind(&e, ps.items[i].tensor, ps.items[i].name, true, false)) goto done;
        for (int i = 0; i < bs.n; i++)
            if (!onnx_initializer(e.g, bs.items[i].name, bs.items[i].tensor) ||
                !bind(&e, bs.items[i].tensor, bs.items[i].name, true, false)) goto done;
        /* graph inputs: aliases that require grad (floating ones), so their uses are traced */
        ct_tensor *traced_in[64];
        if (inputs.n > 64) { ct_error(CT_ERR_ARG, "onnx_export: at most 64 inputs"); goto done; }
        for (int i = 0; i < inputs.n; i++) {
            ct_tensor *x = ct_detach(inputs.items[i]);
            if (!x) goto done;
            if (ct_dtype_is_floating(x->dtype)) ct_requires_grad_(x, true);
            traced_in[i] = x;
            char buf[64];
            const char *name = i < opts.n_input_names && opts.input_names ? opts.input_names[i]
                                                                          : default_name(buf, sizeof buf, "input", i, inputs.n);
            const char *dims[CT_MAX_DIMS] = {0};
            if (opts.dynamic_batch && x->ndim > 0) dims[0] = "batch";
            for (int k = 0; k < opts.n_dynamic_axes; k++)
                if (opts.dynamic_axes[k].input == i) dims[opts.dynamic_axes[k].axis] = opts.dynamic_axes[k].name;
            if (!onnx_graph_io(e.g, false, name, x, dims) || !bind(&e, x, name, false, dims[0] != NULL)) goto done;
        }
        /* eval mode and the module-path hooks for the trace */
        for (int i = 0; i < mods.n; i++) {
            modes[i] = ct_module_is_training(mods.items[i].module);
            users[i] = (hook_user){&e, mods.items[i].name, 0};
            handles[2 * i] = ct_register_forward_pre_hook(mods.items[i].module, pre_hook, &users[i]);
            handles[2 * i + 1] = ct_register_forward_hook(mods.items[i].module, post_hook, &users[i]);
        }
        ct_module_eval(m);
        /* the trace, then the check trace on perturbed copies of the inputs */
        ct_tensor *check_in[64];
        for (int i = 0; i < inputs.n; i++) check_in[i] = perturbed(traced_in[i]);
        ct_tensor_list outs = trace(&e, &e.tracer, m, traced_in, inputs.n);
        e.check_outs = trace(&e, &e.check, m, check_in, inputs.n);
        for (int i = 0; i < 2 * mods.n; i++) if (handles[i]) ct_hook_remove(handles[i]);
        for (int i = 0; i < mods.n; i++) ct_module_train(mods.items[i].module, modes[i]); /* parents first */
        if (!outs.items || !e.check_outs.items || !ct_ok()) goto done;
        if (e.tracer.failed || e.check.failed) { ct_error(CT_ERR_OOM, "onnx_export: out of memory while tracing"); goto done; }
        if (!same_ops(&e.tracer, &e.check) || e.check_outs.n != outs.n) {
            ct_error(CT_ERR_UNSUPPORTED, "ONNX export: a value computed by 'unknown' depends on the input but was not traced (op has "
                                         "no ONNX mapping): the traced ops differ between two example inputs (control flow on "
                                         "an untraced value)");
            goto done;
        }
        if (!build(&e, inputs, outs, opts.opset_version)) goto done;
        onnx_graph_prune(e.g);
        ok = onnx_graph_write(e.g, path, opts.opset_version);
    done:;
    }
    ct__tracer = NULL;
    ct__tracer_clear(&e.tracer);
    ct__tracer_clear(&e.check);
    for (int i = 0; i < e.n_values; i++) free(e.values[i].name);
    free(e.values), free(modes), free(users), free(handles);
    onnx_graph_free(e.g);
    return ok;
}
