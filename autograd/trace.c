/* The op tracer (see trace_impl.h): the list the exporter reads, filled from node.c and the
 * CT__TRACE_ATTRS calls of the ops. */
#include "trace_impl.h"

#include "autograd_impl.h"

#include <stdlib.h>
#include <string.h>

_Thread_local ct_tracer *ct__tracer;

void ct__trace_node(const char *name, ct_tensor *out, int n, const ct_tensor *const *inputs) {
    ct_tracer *t = ct__tracer;
    if (!t || t->failed || t->suppress) return;
    if (t->n == t->cap) {
        int cap = t->cap ? 2 * t->cap : 64;
        ct_trace_op *ops = realloc(t->ops, (size_t)cap * sizeof *ops);
        if (!ops) { t->failed = true; return; }
        t->ops = ops, t->cap = cap;
    }
    ct_trace_op *op = &t->ops[t->n];
    memset(op, 0, offsetof(ct_trace_op, attrs));
    op->in = calloc((size_t)(n ? n : 1), sizeof *op->in);
    op->module = strdup(t->module ? t->module : "");
    if (!op->in || !op->module) {
        free(op->in), free(op->module);
        t->failed = true;
        return;
    }
    op->name = name;
    op->out = ct_retain(out);
    op->n_in = n;
    for (int i = 0; i < n; i++) op->in[i] = inputs[i] ? ct_retain((ct_tensor *)inputs[i]) : NULL;
    t->n++;
}

void ct__trace_attrs(const ct_tensor *out, const void *attrs, size_t size, int n_extra, const ct_tensor *const *extra) {
    ct_tracer *t = ct__tracer;
    if (!t || t->failed) return;
    for (int i = t->n - 1; i >= 0; i--) {
        ct_trace_op *op = &t->ops[i];
        if (op->out != out) continue;
        if (size > CT_TRACE_ATTR_BYTES) { t->failed = true; return; }
        memcpy(op->attrs, attrs, size);
        op->attrs_size = size;
        if (n_extra) {
            ct_tensor **in = realloc(op->in, (size_t)(op->n_in + n_extra) * sizeof *in);
            if (!in) { t->failed = true; return; }
            op->in = in;
            for (int k = 0; k < n_extra; k++) in[op->n_in++] = extra[k] ? ct_retain((ct_tensor *)extra[k]) : NULL;
        }
        return;
    }
}

void ct__tracer_clear(ct_tracer *t) {
    for (int i = 0; i < t->n; i++) {
        ct_trace_op *op = &t->ops[i];
        ct_release(op->out);
        for (int k = 0; k < op->n_extra_out; k++) ct_release(op->extra_out[k]);
        for (int k = 0; k < op->n_in; k++) ct_release(op->in[k]);
        free(op->in), free(op->module);
    }
    free(t->ops);
    t->ops = NULL, t->n = t->cap = 0;
}
