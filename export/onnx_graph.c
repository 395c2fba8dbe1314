/* The ONNX graph builder: nodes, initializers, inputs and outputs held as protobuf-c messages
 * (generated at build time from the system's onnx.proto), pruned and serialized in one place.
 * Every string and array is malloc'd and owned by its message, so the whole model is freed by
 * protobuf_c_message_free_unpacked. */
#include "onnx_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct onnx_graph {
    Onnx__GraphProto *proto;
    int counter; /* for fresh names */
    bool failed;
};

/* Appends item to a protobuf-c repeated field (count + array). */
#define PUSH(g, count, array, item)                                                              \
    do {                                                                                         \
        void *grown_ = realloc((array), ((count) + 1) * sizeof *(array));                        \
        if (!grown_) { (g)->failed = true; break; }                                              \
        (array) = grown_;                                                                        \
        (array)[(count)++] = (item);                                                             \
    } while (0)

static char *sdup(onnx_graph *g, const char *s) {
    char *d = strdup(s ? s : "");
    if (!d) g->failed = true;
    return d;
}

onnx_graph *onnx_graph_new(void) {
    onnx_graph *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->proto = malloc(sizeof *g->proto);
    if (!g->proto) { free(g); return NULL; }
    onnx__graph_proto__init(g->proto);
    g->proto->name = sdup(g, "ctorch");
    return g;
}

void onnx_graph_free(onnx_graph *g) {
    if (!g) return;
    protobuf_c_message_free_unpacked(&g->proto->base, NULL);
    free(g);
}

bool onnx_graph_failed(const onnx_graph *g) { return g->failed; }

Onnx__NodeProto *onnx_node(onnx_graph *g, const char *op_type, int n_in, const char *const *in, const char *out) {
    Onnx__NodeProto *n = malloc(sizeof *n);
    if (!n) { g->failed = true; return NULL; }
    onnx__node_proto__init(n);
    n->op_type = sdup(g, op_type);
    n->input = calloc((size_t)(n_in ? n_in : 1), sizeof *n->input);
    n->output = calloc(1, sizeof *n->output);
    if (n->input)
        for (int i = 0; i < n_in; i++) n->input[n->n_input++] = sdup(g, in[i]);
    char name[96];
    snprintf(name, sizeof name, "%s_%d", op_type, g->counter++);
    if (n->output) n->output[n->n_output++] = sdup(g, out ? out : name);
    n->name = sdup(g, name);
    if (!n->input || !n->output) g->failed = true;
    PUSH(g, g->proto->n_node, g->proto->node, n);
    if (g->failed) return NULL;
    return n;
}

static Onnx__AttributeProto *attr(Onnx__NodeProto *n, const char *name, Onnx__AttributeProto__AttributeType type) {
    if (!n) return NULL;
    Onnx__AttributeProto *a = malloc(sizeof *a);
    if (!a) return NULL;
    onnx__attribute_proto__init(a);
    a->name = strdup(name);
    a->has_type = true, a->type = type;
    void *grown = realloc(n->attribute, (n->n_attribute + 1) * sizeof *n->attribute);
    if (!grown || !a->name) { free(a->name), free(a); return NULL; }
    n->attribute = grown;
    n->attribute[n->n_attribute++] = a;
    return a;
}

void onnx_attr_int(Onnx__NodeProto *n, const char *name, int64_t v) {
    Onnx__AttributeProto *a = attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    if (a) a->has_i = true, a->i = v;
}

void onnx_attr_float(Onnx__NodeProto *n, const char *name, double v) {
    Onnx__AttributeProto *a = attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
    if (a) a->has_f = true, a->f = (float)v;
}

void onnx_attr_ints(Onnx__NodeProto *n, const char *name, int count, const int64_t *v) {
    Onnx__AttributeProto *a = attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    if (!a) return;
    a->ints = malloc((size_t)(count ? count : 1) * sizeof *a->ints);
    if (!a->ints) return;
    memcpy(a->ints, v, (size_t)count * sizeof *v);
    a->n_ints = (size_t)count;
}

void onnx_attr_string(Onnx__NodeProto *n, const char *name, const char *v) {
    Onnx__AttributeProto *a = attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
    if (!a) return;
    a->s.data = (uint8_t *)strdup(v);
    if (a->s.data) a->has_s = true, a->s.len = strlen(v);
}

void onnx_attr_strings(Onnx__NodeProto *n, const char *name, int count, const char *const *v) {
    Onnx__AttributeProto *a = attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS);
    if (!a) return;
    a->strings = calloc((size_t)(count ? count : 1), sizeof *a->strings);
    if (!a->strings) return;
    for (int i = 0; i < count; i++) {
        a->strings[i].data = (uint8_t *)strdup(v[i]);
        if (!a->strings[i].data) return;
        a->strings[i].len = strlen(v[i]);
        a->n_strings++;
    }
}

const char *onnx_node_add_output(onnx_graph *g, Onnx__NodeProto *n, const char *out) {
    if (!n) return NULL;
    char name[96];
    snprintf(name, sizeof name, "%s_%d", n->op_type, g->counter++);
    char **grown = realloc(n->output, (n->n_output + 1) * sizeof *n->output);
    if (!grown) { g->failed = true; return NULL; }
    n->output = grown;
    n->output[n->n_output] = sdup(g, out ? out : name);
    return n->output[n->n_output] ? n->output[n->n_output++] : NULL;
}

/* ONNX's TensorProto.DataType of what a tensor is exported as: floating -> FLOAT (the exporter
 * writes f32 models), integral -> INT64, bool -> BOOL. */
static int32_t onnx_type(ct_dtype d) {
    if (ct_dtype_is_floating(d)) return ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    if (d == CT_BOOL) return ONNX__TENSOR_PROTO__DATA_TYPE__BOOL;
    return ONNX__TENSOR_PROTO__DATA_TYPE__INT64;
}
static ct_dtype export_dtype(ct_dtype d) {
    return ct_dtype_is_floating(d) ? CT_F32 : d == CT_BOOL ? CT_BOOL : CT_I64;
}

static Onnx__TensorProto *tensor_proto(onnx_graph *g, const char *name, int32_t type, int ndim, const int64_t *dims,
                                       const void *data, size_t bytes) {
    Onnx__TensorProto *t = malloc(sizeof *t);
    if (!t) { g->failed = true; return NULL; }
    onnx__tensor_proto__init(t);
    t->name = sdup(g, name);
    t->has_data_type = true, t->data_type = type;
    t->dims = malloc((size_t)(ndim ? ndim : 1) * sizeof *t->dims);
    t->raw_data.data = malloc(bytes ? bytes : 1);
    if (!t->dims || !t->raw_data.data) g->failed = true;
    else {
        if (ndim) memcpy(t->dims, dims, (size_t)ndim * sizeof *dims); /* a scalar has no dims (dims may be NULL) */
        if (bytes) memcpy(t->raw_data.data, data, bytes);
        t->n_dims = (size_t)ndim, t->raw_data.len = bytes, t->has_raw_data = true;
    }
    PUSH(g, g->proto->n_initializer, g->proto->initializer, t);
    return t;
}

const char *onnx_initializer(onnx_graph *g, const char *name, const ct_tensor *src) {
    const char *result = NULL;
    CT_SCOPE {
        /* raw_data is little-endian, as this machine's memory is */
        ct_tensor *c = ct_contiguous(ct_to(ct_to_dtype(src, export_dtype(src->dtype)), CT_CPU));
        if (!c) break;
        Onnx__TensorProto *t = tensor_proto(g, name, onnx_type(src->dtype), c->ndim, c->shape, ct_data_ptr(c),
                                            (size_t)ct_numel(c) * ct_dtype_size(c->dtype));
        if (t) result = t->name;
    }
    return result;
}

const char *onnx_const_ints(onnx_graph *g, int n, const int64_t *v) {
    char name[64];
    snprintf(name, sizeof name, "const_%d", g->counter++);
    int64_t dims[1] = {n};
    Onnx__TensorProto *t = tensor_proto(g, name, ONNX__TENSOR_PROTO__DATA_TYPE__INT64, 1, dims, v, (size_t)n * sizeof *v);
    return t ? t->name : NULL;
}

const char *onnx_const_float(onnx_graph *g, double v) {
    char name[64];
    snprintf(name, sizeof name, "const_%d", g->counter++);
    float f = (float)v;
    Onnx__TensorProto *t = tensor_proto(g, name, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 0, NULL, &f, sizeof f);
    return t ? t->name : NULL;
}

bool onnx_graph_io(onnx_graph *g, bool output, const char *name, const ct_tensor *t, const char *const *dim_names) {
    Onnx__ValueInfoProto *v = malloc(sizeof *v);
    Onnx__TypeProto *type = malloc(sizeof *type);
    Onnx__TypeProto__Tensor *tt = malloc(sizeof *tt);
    Onnx__TensorShapeProto *shape = malloc(sizeof *shape);
    if (!v || !type || !tt || !shape) {
        free(v), free(type), free(tt), free(shape);
        return !(g->failed = true);
    }
    onnx__value_info_proto__init(v), onnx__type_proto__init(type);
    onnx__type_proto__tensor__init(tt), onnx__tensor_shape_proto__init(shape);
    v->name = sdup(g, name);
    v->type = type;
    type->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE, type->tensor_type = tt;
    tt->has_elem_type = true, tt->elem_type = onnx_type(t->dtype);
    tt->shape = shape;
    shape->dim = calloc((size_t)(t->ndim ? t->ndim : 1), sizeof *shape->dim);
    if (!shape->dim) g->failed = true;
    for (int d = 0; shape->dim && d < t->ndim; d++) {
        Onnx__TensorShapeProto__Dimension *dim = malloc(sizeof *dim);
        if (!dim) { g->failed = true; break; }
        onnx__tensor_shape_proto__dimension__init(dim);
        if (dim_names && dim_names[d])
            dim->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM, dim->dim_param = sdup(g, dim_names[d]);
        else
            dim->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE, dim->dim_value = t->shape[d];
        shape->dim[shape->n_dim++] = dim;
    }
    if (output) PUSH(g, g->proto->n_output, g->proto->output, v);
    else PUSH(g, g->proto->n_input, g->proto->input, v);
    return !g->failed;
}

/* ---- pruning: a backward walk from the outputs over a name set ---- */

typedef struct name_set {
    size_t n, cap;
    const char **items;
} name_set;
static bool has(const name_set *s, const char *x) {
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->items[i], x)) return true;
    return false;
}
static void add(name_set *s, const char *x) {
    if (!*x || has(s, x)) return;
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        const char **items = realloc(s->items, cap * sizeof *items);
        if (!items) return;
        s->items = items, s->cap = cap;
    }
    s->items[s->n++] = x;
}

void onnx_graph_prune(onnx_graph *g) {
    Onnx__GraphProto *p = g->proto;
    name_set needed = {0};
    for (size_t i = 0; i < p->n_output; i++) add(&needed, p->output[i]->name);
    size_t kept = p->n_node;
    bool *keep = calloc(p->n_node ? p->n_node : 1, sizeof *keep);
    if (!keep) { g->failed = true; free(needed.items); return; }
    for (size_t i = p->n_node; i-- > 0;) { /* nodes are in topological order */
        Onnx__NodeProto *n = p->node[i];
        for (size_t o = 0; o < n->n_output && !keep[i]; o++) keep[i] = has(&needed, n->output[o]);
        if (keep[i])
            for (size_t k = 0; k < n->n_input; k++) add(&needed, n->input[k]);
    }
    kept = 0;
    for (size_t i = 0; i < p->n_node; i++) {
        if (keep[i]) p->node[kept++] = p->node[i];
        else protobuf_c_message_free_unpacked(&p->node[i]->base, NULL);
    }
    p->n_node = kept;
    kept = 0;
    for (size_t i = 0; i < p->n_initializer; i++) {
        if (has(&needed, p->initializer[i]->name)) p->initializer[kept++] = p->initializer[i];
        else protobuf_c_message_free_unpacked(&p->initializer[i]->base, NULL);
    }
    p->n_initializer = kept;
    free(keep), free(needed.items);
}

bool onnx_graph_write(onnx_graph *g, const char *path, int opset) {
    const char *op = "onnx_export";
    if (g->failed) return ct_error(CT_ERR_OOM, "%s: out of memory while building the graph", op), false;
    Onnx__OperatorSetIdProto opset_id = ONNX__OPERATOR_SET_ID_PROTO__INIT;
    opset_id.domain = "", opset_id.has_version = true, opset_id.version = opset;
    Onnx__OperatorSetIdProto *opsets[1] = {&opset_id};
    Onnx__ModelProto model = ONNX__MODEL_PROTO__INIT;
    model.has_ir_version = true, model.ir_version = 8; /* ONNX 1.10-1.12 (opset 15-17) */
    model.n_opset_import = 1, model.opset_import = opsets;
    model.producer_name = "ctorch", model.producer_version = "0.1.0";
    model.graph = g->proto;
    size_t size = onnx__model_proto__get_packed_size(&model);
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) return ct_error(CT_ERR_OOM, "%s: out of memory packing %zu bytes", op, size), false;
    onnx__model_proto__pack(&model, buf);
    size_t tmp_len = strlen(path) + 32;
    char *tmp = malloc(tmp_len);
    bool ok = tmp != NULL;
    if (ok) snprintf(tmp, tmp_len, "%s.tmp-%ld", path, (long)getpid());
    FILE *f = ok ? fopen(tmp, "wb") : NULL;
    if (ok && !f) ok = false, ct_error(CT_ERR_IO, "%s: cannot open '%s' for writing: %s", op, tmp, strerror(errno));
    if (f) {
        if (fwrite(buf, 1, size, f) != size || fflush(f) != 0 || fsync(fileno(f)) != 0)
            ok = false, ct_error(CT_ERR_IO, "%s: cannot write '%s': %s", op, tmp, strerror(errno));
        if (fclose(f) != 0 && ok) ok = false, ct_error(CT_ERR_IO, "%s: cannot close '%s': %s", op, tmp, strerror(errno));
        if (ok && rename(tmp, path) != 0)
            ok = false, ct_error(CT_ERR_IO, "%s: cannot rename '%s' to '%s': %s", op, tmp, path, strerror(errno));
        if (!ok) unlink(tmp);
    }
    free(tmp), free(buf);
    return ok;
}
