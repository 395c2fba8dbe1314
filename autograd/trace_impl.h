/* The op tracer the ONNX exporter (export/) runs a forward pass under.
 *
 * While a tracer is installed on this thread, every autograd node recorded (node.c's
 * ct__record_over: every differentiable op whose input depends on a traced input or a parameter)
 * is appended to it as one op: its forward name ("addmm", "conv2d"), its input tensors in the
 * order the op listed them, and its output. Ops whose ONNX form needs arguments that are not
 * tensors (a softmax dim, a conv's strides) attach them right after recording with
 * CT__TRACE_ATTRS(out, value): a copy of `value` (a public option struct, or one of the small
 * structs below) that the exporter's mapping for that op reads back. Nothing here costs more
 * than one thread-local pointer test when no tracer is installed.
 *
 * The tracer holds a reference on every tensor it lists, so a pointer stays one tensor for the
 * whole trace (no address reuse after a scope inside forward ends). */
#ifndef CTORCH_TRACE_IMPL_H
#define CTORCH_TRACE_IMPL_H

#include "ctorch/tensor.h"

#include <stddef.h>

#define CT_TRACE_ATTR_BYTES 1024

typedef struct ct_trace_op {
    const char *name;   /* the node's forward name (static string) */
    char *module;       /* dotted path of the innermost module running when recorded ("" = root) */
    ct_tensor *out;     /* one reference */
    int n_extra_out;    /* more outputs (a module recorded as one op: LSTM's h_n, c_n), references */
    ct_tensor *extra_out[2];
    int n_in;
    ct_tensor **in;     /* references; entries may be NULL (an absent optional input) */
    size_t attrs_size;  /* 0: CT__TRACE_ATTRS was not called for this op */
    _Alignas(max_align_t) unsigned char attrs[CT_TRACE_ATTR_BYTES];
} ct_trace_op;

typedef struct ct_tracer {
    int n, cap;
    ct_trace_op *ops;
    const char *module; /* set by the exporter's module hooks; copied into each op */
    int suppress;       /* > 0: inside a module recorded as one op (its inner ops are not listed) */
    bool failed;        /* out of memory while recording */
} ct_tracer;

extern _Thread_local ct_tracer *ct__tracer;

/* Called by node.c for each recorded node. */
void ct__trace_node(const char *name, ct_tensor *out, int n, const ct_tensor *const *inputs);
/* Attaches attributes (and extra tensor inputs, appended after the recorded ones) to the last op
 * whose output is out. */
void ct__trace_attrs(const ct_tensor *out, const void *attrs, size_t size, int n_extra, const ct_tensor *const *extra);
/* Frees the ops' references and arrays (the tracer struct itself is the caller's). */
void ct__tracer_clear(ct_tracer *t);

#define CT__TRACE_ATTRS(out, value)                                                              \
    do {                                                                                         \
        if (ct__tracer && (out)) {                                                               \
            __typeof__(value) ct__trace_v = (value);                                             \
            ct__trace_attrs((out), &ct__trace_v, sizeof ct__trace_v, 0, NULL);                    \
        }                                                                                        \
    } while (0)
#define CT__TRACE_ATTRS_EXTRA(out, value, ...)                                                   \
    do {                                                                                         \
        if (ct__tracer && (out)) {                                                               \
            __typeof__(value) ct__trace_v = (value);                                             \
            const ct_tensor *const ct__trace_x[] = {__VA_ARGS__};                                \
            ct__trace_attrs((out), &ct__trace_v, sizeof ct__trace_v,                             \
                            (int)(sizeof ct__trace_x / sizeof *ct__trace_x), ct__trace_x);         \
        }                                                                                        \
    } while (0)

/* Attribute structs of ops whose arguments are positional (the rest use their public opts). */
typedef struct ct_trace_dim { int64_t dim; } ct_trace_dim;                     /* softmax, cat, ... */
typedef struct ct_trace_scalar { double value; } ct_trace_scalar;              /* add_scalar, leaky_relu, pow_scalar */
typedef struct ct_trace_dims { ct_dims dims; } ct_trace_dims;                  /* permute */
typedef struct ct_trace_slice { int64_t dim, start, end, step; } ct_trace_slice; /* slice, narrow, select (end = -1), split pieces */
typedef struct ct_trace_clamp { double min, max; } ct_trace_clamp;
typedef struct ct_trace_batch_norm { bool training; double eps; } ct_trace_batch_norm; /* + running_mean, running_var */
/* RNN / LSTM / GRU recorded as one op (by the exporter's module hooks): the module's config,
 * filled by nn/rnn.c's ct__rnn_trace_attrs. */
typedef enum ct_trace_rnn_mode { CT_TRACE_RNN_TANH, CT_TRACE_RNN_RELU, CT_TRACE_LSTM, CT_TRACE_GRU } ct_trace_rnn_mode;
typedef struct ct_trace_rnn {
    ct_trace_rnn_mode mode;
    int64_t input_size, hidden_size, num_layers;
    bool bias, batch_first, bidirectional;
} ct_trace_rnn;
struct ct_module;
/* false (no error) when m is not an RNN, LSTM or GRU. */
bool ct__rnn_trace_attrs(const struct ct_module *m, ct_trace_rnn *out);

typedef struct ct_trace_layer_norm { ct_shape normalized_shape; double eps; } ct_trace_layer_norm;

#endif /* CTORCH_TRACE_IMPL_H */
