/* The ONNX exporter's internals: the graph builder (onnx_graph.c) that mappings (onnx_ops.c)
 * emit nodes through, and the table of mappings that the driver (onnx_export.c) looks ops up in.
 *
 * A value of the graph is named by a string. The driver resolves each traced op's input tensors
 * to value names (graph inputs, initializers for parameters/buffers under their dotted names,
 * initializers for constants made inside forward, or earlier ops' outputs), reserves the name of
 * its output, and calls the op's mapping, which must emit nodes whose last output is that name. */
#ifndef CTORCH_ONNX_IMPL_H
#define CTORCH_ONNX_IMPL_H

#include "../autograd/trace_impl.h"
#include "../tensor/tensor_impl.h"
#include "ctorch/export.h"
#include "onnx.pb-c.h" /* generated from the system onnx.proto */

typedef struct onnx_graph onnx_graph;

/* ---- what a mapping sees ---- */
typedef struct onnx_op_ctx {
    onnx_graph *g;
    const ct_trace_op *op;   /* name, input tensors, output tensor, attributes */
    const char *const *in;   /* value names of op->in (NULL for an absent optional input) */
    const char *out;         /* the value name the mapping's last node must produce */
    const char *extra_out[2]; /* names for op->extra_out (module-level ops with several outputs) */
    int opset;
    bool in_dyn0[16];        /* whether dim 0 of input i is symbolic (first 16 inputs) */
    const ct_trace_op *in_op[16]; /* the traced op that produced input i (folded or not), or NULL */
    /* The value name of any tensor already in the graph (NULL if none): lets a mapping read
     * through a producer, e.g. Linear's t(W) to W itself. */
    const char *(*name_of)(void *driver, const ct_tensor *t);
    void *driver;
} onnx_op_ctx;

/* Returns false with an error recorded (e.g. an attribute ONNX cannot express). */
typedef bool (*onnx_map_fn)(onnx_op_ctx *c);

typedef struct onnx_mapping {
    const char *op;  /* the traced forward name */
    onnx_map_fn map;
} onnx_mapping;
/* NULL when op has no mapping. */
const onnx_mapping *onnx_find_mapping(const char *op);
/* The attributes a traced op attached (CT__TRACE_ATTRS), or NULL with an internal error. */
const void *onnx_attrs(const onnx_op_ctx *c, size_t size);
#define ONNX_ATTRS(c, type) ((const type *)onnx_attrs((c), sizeof(type)))

/* ---- building ---- */
/* A node op_type(inputs) -> out (NULL: a fresh name); returns it (NULL on out-of-memory). Input
 * names may be NULL for an omitted optional input (written as ""). */
Onnx__NodeProto *onnx_node(onnx_graph *g, const char *op_type, int n_in, const char *const *in, const char *out);
#define ONNX_NODE(g, op_type, out, ...)                                                          \
    onnx_node((g), (op_type), (int)(sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *)), \
              (const char *const[]){__VA_ARGS__}, (out))
static inline const char *onnx_node_out(const Onnx__NodeProto *n) { return n ? n->output[0] : NULL; }
void onnx_attr_int(Onnx__NodeProto *n, const char *name, int64_t v);
void onnx_attr_float(Onnx__NodeProto *n, const char *name, double v);
void onnx_attr_ints(Onnx__NodeProto *n, const char *name, int count, const int64_t *v);
void onnx_attr_string(Onnx__NodeProto *n, const char *name, const char *v);
void onnx_attr_strings(Onnx__NodeProto *n, const char *name, int count, const char *const *v);
/* Another output of n (multi-output ops: LSTM's Y, Y_h, Y_c); NULL out: a fresh name. */
const char *onnx_node_add_output(onnx_graph *g, Onnx__NodeProto *n, const char *out);
/* Initializers: from a tensor's values (converted to f32 if floating, int64 if integral, bool
 * kept), or from literals (int64 list: 1-D of n; float scalar: 0-d). Return the value name. */
const char *onnx_initializer(onnx_graph *g, const char *name, const ct_tensor *t);
const char *onnx_const_ints(onnx_graph *g, int n, const int64_t *v);
const char *onnx_const_float(onnx_graph *g, double v);
bool onnx_graph_failed(const onnx_graph *g);

/* ---- the driver's side ---- */
onnx_graph *onnx_graph_new(void);
void onnx_graph_free(onnx_graph *g);
/* A graph input or output of t's dtype and shape; dim_names[d] non-NULL makes dim d symbolic. */
bool onnx_graph_io(onnx_graph *g, bool output, const char *name, const ct_tensor *t, const char *const *dim_names);
/* Drops nodes and initializers no graph output depends on. */
void onnx_graph_prune(onnx_graph *g);
/* Serializes the model (ir_version 8, the default opset domain at opset) to path through
 * "<path>.tmp-<pid>" renamed into place. */
bool onnx_graph_write(onnx_graph *g, const char *path, int opset);

#endif /* CTORCH_ONNX_IMPL_H */
