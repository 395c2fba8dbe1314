/* The mappings: one function per traced op turning it into ONNX nodes (opset 13-17), and the
 * table the driver looks them up in. Adding a mapping: make the op attach what it needs with
 * CT__TRACE_ATTRS in its autograd wrapper (autograd/trace_impl.h), write `map_<op>` here and add
 * its row to `mappings` (docs/onnx.md). */
#include "onnx_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const void *onnx_attrs(const onnx_op_ctx *c, size_t size) {
    if (c->op->attrs_size != size)
        return ct_error(CT_ERR_INTERNAL, "ONNX export: op '%s' recorded %zu bytes of attributes, its mapping expects %zu",
                        c->op->name, c->op->attrs_size, size);
    return c->op->attrs;
}

#define IN(i) (c->in[i])
#define OUT_T (c->op->out)
#define IN_T(i) (c->op->in[i])
#define NODE(type, out, ...) ONNX_NODE(c->g, type, out, __VA_ARGS__)
#define OK (!onnx_graph_failed(c->g))

/* ---- one ONNX op with the same inputs ---- */
#define SAME(fn, type)                                                                           \
    static bool fn(onnx_op_ctx *c) {                                                             \
        return onnx_node(c->g, type, c->op->n_in, c->in, c->out) != NULL;                         \
    }
SAME(map_relu, "Relu")
SAME(map_sigmoid, "Sigmoid")
SAME(map_tanh, "Tanh")
SAME(map_exp, "Exp")
SAME(map_log, "Log")
SAME(map_sqrt, "Sqrt")
SAME(map_neg, "Neg")
SAME(map_abs, "Abs")
SAME(map_erf, "Erf")
SAME(map_sin, "Sin")
SAME(map_cos, "Cos")
SAME(map_reciprocal, "Reciprocal")
SAME(map_floor, "Floor")
SAME(map_ceil, "Ceil")
SAME(map_mul, "Mul")
SAME(map_pow, "Pow")
SAME(map_maximum, "Max")
SAME(map_minimum, "Min")
SAME(map_identity, "Identity")

/* Ops without a value of their own in the graph (aliases, contiguous copies, clones). */
static bool map_alias(onnx_op_ctx *c) { return NODE("Identity", c->out, IN(0)) != NULL; }

/* x*x; 1/sqrt(x); x * sigmoid(x) */
static bool map_square(onnx_op_ctx *c) { return NODE("Mul", c->out, IN(0), IN(0)) != NULL; }
static bool map_rsqrt(onnx_op_ctx *c) { return NODE("Reciprocal", c->out, onnx_node_out(NODE("Sqrt", NULL, IN(0)))) != NULL; }
static bool map_silu(onnx_op_ctx *c) { return NODE("Mul", c->out, IN(0), onnx_node_out(NODE("Sigmoid", NULL, IN(0)))) != NULL; }

/* add/sub with alpha: a + alpha * b */
static bool add_sub(onnx_op_ctx *c, const char *type) {
    const ct_trace_scalar *alpha = ONNX_ATTRS(c, ct_trace_scalar);
    if (!alpha) return false;
    const char *b = IN(1);
    if (alpha->value != 1) b = onnx_node_out(NODE("Mul", NULL, b, onnx_const_float(c->g, alpha->value)));
    return NODE(type, c->out, IN(0), b) != NULL;
}
static bool map_add(onnx_op_ctx *c) { return add_sub(c, "Add"); }
static bool map_sub(onnx_op_ctx *c) { return add_sub(c, "Sub"); }
static bool map_div(onnx_op_ctx *c) { return NODE("Div", c->out, IN(0), IN(1)) != NULL; }

/* tensor (op) python scalar: the scalar is a 0-d f32 constant */
static bool scalar_op(onnx_op_ctx *c, const char *type, bool reversed) {
    const ct_trace_scalar *s = ONNX_ATTRS(c, ct_trace_scalar);
    if (!s) return false;
    const char *k = onnx_const_float(c->g, s->value);
    return (reversed ? NODE(type, c->out, k, IN(0)) : NODE(type, c->out, IN(0), k)) != NULL;
}
static bool map_add_scalar(onnx_op_ctx *c) { return scalar_op(c, "Add", false); }
static bool map_sub_scalar(onnx_op_ctx *c) { return scalar_op(c, "Sub", false); }
static bool map_mul_scalar(onnx_op_ctx *c) { return scalar_op(c, "Mul", false); }
static bool map_div_scalar(onnx_op_ctx *c) { return scalar_op(c, "Div", false); }
static bool map_pow_scalar(onnx_op_ctx *c) { return scalar_op(c, "Pow", false); }
static bool map_rsub_scalar(onnx_op_ctx *c) { return scalar_op(c, "Sub", true); }

static bool map_clamp(onnx_op_ctx *c) {
    const ct_trace_clamp *b = ONNX_ATTRS(c, ct_trace_clamp);
    if (!b) return false;
    return NODE("Clip", c->out, IN(0), isinf(b->min) ? "" : onnx_const_float(c->g, b->min),
                isinf(b->max) ? "" : onnx_const_float(c->g, b->max)) != NULL;
}

static bool map_leaky_relu(onnx_op_ctx *c) {
    const ct_trace_scalar *s = ONNX_ATTRS(c, ct_trace_scalar);
    if (!s) return false;
    onnx_attr_float(NODE("LeakyRelu", c->out, IN(0)), "alpha", s->value);
    return OK;
}

/* gelu(x) = x/2 (1 + erf(x/sqrt 2)); the tanh form x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) */
static bool map_gelu(onnx_op_ctx *c) {
    const ct_gelu_opts *o = ONNX_ATTRS(c, ct_gelu_opts);
    if (!o) return false;
    onnx_graph *g = c->g;
    const char *x = IN(0), *inner;
    if (o->approximate == CT_GELU_TANH) {
        const char *x3 = onnx_node_out(ONNX_NODE(g, "Mul", NULL, x, onnx_node_out(ONNX_NODE(g, "Mul", NULL, x, x))));
        const char *s = onnx_node_out(ONNX_NODE(g, "Add", NULL, x, onnx_node_out(ONNX_NODE(g, "Mul", NULL, x3, onnx_const_float(g, 0.044715)))));
        inner = onnx_node_out(ONNX_NODE(g, "Tanh", NULL, onnx_node_out(ONNX_NODE(g, "Mul", NULL, s, onnx_const_float(g, sqrt(2 / M_PI))))));
    } else {
        inner = onnx_node_out(ONNX_NODE(g, "Erf", NULL, onnx_node_out(ONNX_NODE(g, "Mul", NULL, x, onnx_const_float(g, M_SQRT1_2)))));
    }
    const char *half_x = onnx_node_out(ONNX_NODE(g, "Mul", NULL, x, onnx_const_float(g, 0.5)));
    return ONNX_NODE(g, "Mul", c->out, half_x, onnx_node_out(ONNX_NODE(g, "Add", NULL, inner, onnx_const_float(g, 1)))) != NULL;
}

static bool along_dim(onnx_op_ctx *c, const char *type) {
    const ct_trace_dim *d = ONNX_ATTRS(c, ct_trace_dim);
    if (!d) return false;
    onnx_attr_int(NODE(type, c->out, IN(0)), "axis", d->dim);
    return OK;
}
static bool map_softmax(onnx_op_ctx *c) { return along_dim(c, "Softmax"); }
static bool map_log_softmax(onnx_op_ctx *c) { return along_dim(c, "LogSoftmax"); }

/* ---- matrix products: addmm(bias, x, W^T) is Linear's Gemm; a transposed 2-d weight made by
 * t() inside forward is read through transB so the weight keeps its parameter name ---- */
/* The name of W when input i is t(W) of a 2-d W already in the graph (a parameter), else NULL.
 * The folded copy of t(W) is then unused and pruned, so the file holds the weight once, under
 * its dotted name (fc1.weight), as torch.onnx writes Linear. */
static const char *transposed_of(onnx_op_ctx *c, int i) {
    const ct_trace_op *p = c->in_op[i];
    if (!p || strcmp(p->name, "t") || p->n_in != 1 || !p->in[0] || p->in[0]->ndim != 2) return NULL;
    return c->name_of(c->driver, p->in[0]);
}
static bool map_addmm(onnx_op_ctx *c) {
    const char *w = transposed_of(c, 2);
    Onnx__NodeProto *n = NODE("Gemm", c->out, IN(1), w ? w : IN(2), IN(0));
    if (w) onnx_attr_int(n, "transB", 1);
    return OK;
}
/* x @ t(W) (Linear on a >2-d input, or without bias): MatMul(x, Transpose(W)) over W itself */
static bool map_matmul(onnx_op_ctx *c) {
    const char *w = transposed_of(c, 1), *b = IN(1);
    if (w) {
        int64_t perm[2] = {1, 0};
        Onnx__NodeProto *t = NODE("Transpose", NULL, w);
        onnx_attr_ints(t, "perm", 2, perm);
        b = onnx_node_out(t);
    }
    return NODE("MatMul", c->out, IN(0), b) != NULL;
}

/* ---- shapes: the target is the traced output's shape; with a symbolic batch the batch dim is
 * copied from the input (0) or inferred (-1) ---- */
static bool reshape_to_out(onnx_op_ctx *c) {
    int64_t shape[CT_MAX_DIMS];
    const ct_tensor *x = IN_T(0), *y = OUT_T;
    for (int d = 0; d < y->ndim; d++) shape[d] = y->shape[d];
    if (c->in_dyn0[0] && y->ndim > 0) {
        if (x->ndim > 0 && y->shape[0] == x->shape[0]) shape[0] = 0;
        else shape[0] = -1;
    }
    return NODE("Reshape", c->out, IN(0), onnx_const_ints(c->g, y->ndim, shape)) != NULL;
}

static bool map_permute(onnx_op_ctx *c) {
    const ct_trace_dims *p = ONNX_ATTRS(c, ct_trace_dims);
    if (!p) return false;
    int64_t perm[CT_MAX_DIMS];
    int nd = IN_T(0)->ndim;
    for (int i = 0; i < nd; i++) perm[i] = p->dims.d[i] < 0 ? p->dims.d[i] + nd : p->dims.d[i];
    onnx_attr_ints(NODE("Transpose", c->out, IN(0)), "perm", nd, perm);
    return OK;
}
static bool map_transpose(onnx_op_ctx *c) {
    int nd = IN_T(0)->ndim;
    int64_t perm[CT_MAX_DIMS];
    for (int i = 0; i < nd; i++) perm[i] = i;
    if (!strcmp(c->op->name, "transpose")) {
        const ct_trace_slice *s = ONNX_ATTRS(c, ct_trace_slice);
        if (!s) return false;
        perm[s->dim] = s->start, perm[s->start] = s->dim;
    } else if (nd == 2) {
        perm[0] = 1, perm[1] = 0;
    }
    onnx_attr_ints(NODE("Transpose", c->out, IN(0)), "perm", nd, perm);
    return OK;
}

/* unsqueeze/squeeze: the axes are where the shapes differ (any size-1 axis gives the same value) */
static bool map_unsqueeze(onnx_op_ctx *c) {
    const ct_tensor *x = IN_T(0), *y = OUT_T;
    int64_t axis = y->ndim - 1;
    for (int d = 0; d < x->ndim; d++)
        if (x->shape[d] != y->shape[d]) { axis = d; break; }
    return NODE("Unsqueeze", c->out, IN(0), onnx_const_ints(c->g, 1, &axis)) != NULL;
}
static bool map_squeeze(onnx_op_ctx *c) {
    const ct_tensor *x = IN_T(0), *y = OUT_T;
    int64_t axes[CT_MAX_DIMS];
    int n = 0;
    /* greedy from the left: a dim equal to the next output dim is kept, others (size 1) dropped */
    for (int d = 0, e = 0; d < x->ndim; d++) {
        if (e < y->ndim && x->shape[d] == y->shape[e]) e++;
        else axes[n++] = d;
    }
    if (n == 0) return NODE("Identity", c->out, IN(0)) != NULL;
    return NODE("Squeeze", c->out, IN(0), onnx_const_ints(c->g, n, axes)) != NULL;
}

static bool map_expand(onnx_op_ctx *c) {
    const ct_tensor *y = OUT_T;
    int64_t shape[CT_MAX_DIMS];
    for (int d = 0; d < y->ndim; d++) shape[d] = y->shape[d];
    /* 1 broadcasts to whatever size the input has, so a symbolic batch passes through */
    if (c->in_dyn0[0] && y->ndim == IN_T(0)->ndim && y->ndim > 0) shape[0] = 1;
    return NODE("Expand", c->out, IN(0), onnx_const_ints(c->g, y->ndim, shape)) != NULL;
}

static bool map_cat(onnx_op_ctx *c) {
    const ct_trace_dim *d = ONNX_ATTRS(c, ct_trace_dim);
    if (!d) return false;
    onnx_attr_int(onnx_node(c->g, "Concat", c->op->n_in, c->in, c->out), "axis", d->dim);
    return OK;
}

/* slice/narrow/split pieces (step >= 1) and select/unbind pieces (step 0: Gather of one index) */
static bool map_slice(onnx_op_ctx *c) {
    const ct_trace_slice *s = ONNX_ATTRS(c, ct_trace_slice);
    if (!s) return false;
    if (s->step == 0) {
        int64_t index = s->start; /* negative counts from the end in Gather too: a dynamic axis stays right */
        Onnx__NodeProto *n = NODE("Gather", c->out, IN(0), NULL);
        if (!n) return false;
        /* a 0-d index drops the axis, as select does */
        const char *k = NULL;
        CT_SCOPE { k = onnx_initializer(c->g, "select_index", ct_scalar_int(index)); }
        if (!k) return false;
        free(n->input[1]);
        n->input[1] = strdup(k);
        onnx_attr_int(n, "axis", s->dim);
        return OK;
    }
    int64_t starts[1] = {s->start}, ends[1] = {s->end}, axes[1] = {s->dim}, steps[1] = {s->step};
    return NODE("Slice", c->out, IN(0), onnx_const_ints(c->g, 1, starts), onnx_const_ints(c->g, 1, ends),
                onnx_const_ints(c->g, 1, axes), onnx_const_ints(c->g, 1, steps)) != NULL;
}

static bool map_index_select(onnx_op_ctx *c) {
    const ct_trace_dim *d = ONNX_ATTRS(c, ct_trace_dim);
    if (!d) return false;
    onnx_attr_int(NODE("Gather", c->out, IN(0), IN(1)), "axis", d->dim < 0 ? d->dim + IN_T(0)->ndim : d->dim);
    return OK;
}
/* embedding(indices, weight) was recorded as (weight, indices) */
static bool map_embedding(onnx_op_ctx *c) { return NODE("Gather", c->out, IN(0), IN(1)) != NULL; }
/* where(cond, a, b) was recorded as (a, b, cond) */
static bool map_where(onnx_op_ctx *c) { return NODE("Where", c->out, IN(2), IN(0), IN(1)) != NULL; }

/* masked_fill(x, mask, value) was recorded as (x, mask): Where(mask, value, x) (attention's
 * causal mask: -inf above the diagonal) */
static bool map_masked_fill(onnx_op_ctx *c) {
    const ct_trace_scalar *s = ONNX_ATTRS(c, ct_trace_scalar);
    if (!s) return false;
    if (c->op->n_in != 2) return ct_error(CT_ERR_INTERNAL, "ONNX export: masked_fill traced without its mask"), false;
    return NODE("Where", c->out, IN(1), onnx_const_float(c->g, s->value), IN(0)) != NULL;
}

/* ---- reductions: ReduceSum takes axes as an input from opset 13, ReduceMean/Max as an attribute
 * until opset 18 ---- */
static bool reduce(onnx_op_ctx *c, const char *type) {
    const ct_reduce_opts *o = ONNX_ATTRS(c, ct_reduce_opts);
    if (!o) return false;
    int nd = IN_T(0)->ndim;
    int64_t axes[CT_MAX_DIMS];
    int n = o->dim.ndim;
    for (int i = 0; i < n; i++) axes[i] = o->dim.d[i] < 0 ? o->dim.d[i] + nd : o->dim.d[i];
    if (n == 0)
        for (int i = 0; i < nd; i++) axes[n++] = i;
    Onnx__NodeProto *node = strcmp(type, "ReduceSum") ? NODE(type, c->out, IN(0))
                                                      : NODE(type, c->out, IN(0), onnx_const_ints(c->g, n, axes));
    if (strcmp(type, "ReduceSum")) onnx_attr_ints(node, "axes", n, axes);
    onnx_attr_int(node, "keepdims", o->keepdim);
    return OK;
}
static bool map_sum(onnx_op_ctx *c) { return reduce(c, "ReduceSum"); }
static bool map_mean(onnx_op_ctx *c) { return reduce(c, "ReduceMean"); }
static bool map_amax(onnx_op_ctx *c) { return reduce(c, "ReduceMax"); }

/* ---- nn ---- */
static void spatial(onnx_op_ctx *c, Onnx__NodeProto *n, int ns, ct_shape stride, ct_shape padding, ct_shape dilation) {
    int64_t s[2], p[4], d[2];
    for (int i = 0; i < ns; i++) {
        s[i] = stride.d[stride.ndim == 1 ? 0 : i];
        d[i] = dilation.d[dilation.ndim == 1 ? 0 : i];
        p[i] = p[i + ns] = padding.d[padding.ndim == 1 ? 0 : i];
    }
    (void)c;
    onnx_attr_ints(n, "strides", ns, s);
    onnx_attr_ints(n, "pads", 2 * ns, p);
    onnx_attr_ints(n, "dilations", ns, d);
}

static bool map_conv(onnx_op_ctx *c) {
    const ct__conv_params *p = ONNX_ATTRS(c, ct__conv_params);
    if (!p) return false;
    if (IN_T(0)->ndim != p->nspatial + 2)
        return ct_error(CT_ERR_UNSUPPORTED, "ONNX export: unbatched %s input (%dd) has no ONNX form", p->op, IN_T(0)->ndim), false;
    Onnx__NodeProto *n = onnx_node(c->g, p->transposed ? "ConvTranspose" : "Conv", IN(2) ? 3 : 2, c->in, c->out);
    spatial(c, n, p->nspatial, p->stride, p->padding, p->dilation);
    onnx_attr_int(n, "group", p->groups);
    if (p->transposed) {
        int64_t op[2];
        for (int i = 0; i < p->nspatial; i++) op[i] = p->output_padding.d[p->output_padding.ndim == 1 ? 0 : i];
        onnx_attr_ints(n, "output_padding", p->nspatial, op);
    }
    return OK;
}

/* The pooling geometry; ceil_mode is read off the traced output size. */
static bool pool(onnx_op_ctx *c, const char *type) {
    const ct__pool2d_geom *g = ONNX_ATTRS(c, ct__pool2d_geom);
    if (!g) return false;
    if (g->divisor_override) return ct_error(CT_ERR_UNSUPPORTED, "ONNX export: avg_pool2d with divisor_override has no ONNX form"), false;
    Onnx__NodeProto *n = NODE(type, c->out, IN(0));
    int64_t k[2] = {g->kh, g->kw}, s[2] = {g->sh, g->sw}, p[4] = {g->ph, g->pw, g->ph, g->pw}, d[2] = {g->dh, g->dw};
    int64_t floor_h = (g->ih + 2 * g->ph - g->dh * (g->kh - 1) - 1) / g->sh + 1;
    int64_t floor_w = (g->iw + 2 * g->pw - g->dw * (g->kw - 1) - 1) / g->sw + 1;
    onnx_attr_ints(n, "kernel_shape", 2, k);
    onnx_attr_ints(n, "strides", 2, s);
    onnx_attr_ints(n, "pads", 4, p);
    if (!strcmp(type, "MaxPool")) onnx_attr_ints(n, "dilations", 2, d);
    else onnx_attr_int(n, "count_include_pad", g->count_include_pad);
    if (floor_h != g->oh || floor_w != g->ow) onnx_attr_int(n, "ceil_mode", 1);
    return OK;
}
static bool map_max_pool2d(onnx_op_ctx *c) { return pool(c, "MaxPool"); }
static bool map_avg_pool2d(onnx_op_ctx *c) { return pool(c, "AveragePool"); }

static bool map_adaptive_avg_pool2d(onnx_op_ctx *c) {
    const ct_tensor *y = OUT_T;
    if (y->ndim != 4 || y->shape[2] != 1 || y->shape[3] != 1)
        return ct_error(CT_ERR_UNSUPPORTED, "ONNX export: adaptive_avg_pool2d to an output other than 1x1 (batched) has no ONNX mapping"), false;
    return NODE("GlobalAveragePool", c->out, IN(0)) != NULL;
}

/* BatchNormalization in inference form: inputs (x, weight, bias, running_mean, running_var);
 * an absent affine is ones/zeros. */
static bool map_batch_norm(onnx_op_ctx *c) {
    const ct_trace_batch_norm *a = ONNX_ATTRS(c, ct_trace_batch_norm);
    if (!a) return false;
    if (a->training || !IN(3) || !IN(4))
        return ct_error(CT_ERR_UNSUPPORTED, "ONNX export: batch_norm in training mode (batch statistics) has no ONNX mapping; "
                                            "export in eval mode with running stats"), false;
    int64_t C = IN_T(0)->shape[1];
    const char *w = IN(1), *b = IN(2);
    CT_SCOPE {
        if (!w) w = onnx_initializer(c->g, "bn_ones", ct_ones(CT_SHAPE(C)));
        if (!b) b = onnx_initializer(c->g, "bn_zeros", ct_zeros(CT_SHAPE(C)));
    }
    onnx_attr_float(NODE("BatchNormalization", c->out, IN(0), w, b, IN(3), IN(4)), "epsilon", a->eps);
    return OK;
}

/* LayerNormalization (opset 17) over the trailing normalized_shape dims; Scale is required. */
static bool map_layer_norm(onnx_op_ctx *c) {
    const ct_trace_layer_norm *a = ONNX_ATTRS(c, ct_trace_layer_norm);
    if (!a) return false;
    if (c->opset < 17) return ct_error(CT_ERR_UNSUPPORTED, "ONNX export: layer_norm needs opset 17 (LayerNormalization), got %d", c->opset), false;
    const char *w = IN(1), *b = IN(2);
    if (!w) CT_SCOPE { w = onnx_initializer(c->g, "ln_ones", ct_ones(a->normalized_shape)); }
    Onnx__NodeProto *n = b ? NODE("LayerNormalization", c->out, IN(0), w, b) : NODE("LayerNormalization", c->out, IN(0), w);
    onnx_attr_int(n, "axis", IN_T(0)->ndim - a->normalized_shape.ndim);
    onnx_attr_float(n, "epsilon", a->eps);
    return OK;
}

/* ---- RNN / LSTM / GRU: the module recorded as one op (the exporter's module hooks), inputs
 * (x, h_0, c_0, then weight_ih, weight_hh, bias_ih, bias_hh per layer and direction), outputs
 * (out, h_n[, c_n]). One ONNX node per layer, its W [D, G*H, in], R [D, G*H, H] and
 * B [D, 2*G*H] (= [Wb, Rb]) assembled in the graph from the parameters under their names:
 * PyTorch's gate blocks reordered to ONNX's (LSTM i,f,g,o -> i,o,f,c; GRU r,z,n -> z,r,h with
 * linear_before_reset=1, which is PyTorch's n = tanh(W_n x + b_in + r (W_hn h + b_hn))).
 * ONNX works sequence-first with Y [T, D, B, H]; batch_first is a Transpose on each side. ---- */
static const char *axis0_ints(onnx_op_ctx *c, int64_t v) { return onnx_const_ints(c->g, 1, &v); }
static const char *slice0(onnx_op_ctx *c, const char *x, int64_t start, int64_t end) {
    return onnx_node_out(NODE("Slice", NULL, x, axis0_ints(c, start), axis0_ints(c, end), axis0_ints(c, 0)));
}
static const char *concat0(onnx_op_ctx *c, int n, const char *const *parts) {
    if (n == 1) return parts[0];
    Onnx__NodeProto *node = onnx_node(c->g, "Concat", n, parts, NULL);
    onnx_attr_int(node, "axis", 0);
    return onnx_node_out(node);
}
/* the G gate blocks of H rows of w in ONNX's order */
static const char *onnx_gates(onnx_op_ctx *c, const char *w, int G, int64_t H, const int *order) {
    if (G == 1) return w;
    const char *parts[4];
    for (int i = 0; i < G; i++) parts[i] = slice0(c, w, order[i] * H, (order[i] + 1) * H);
    return concat0(c, G, parts);
}
static bool map_rnn(onnx_op_ctx *c) {
    const ct_trace_rnn *a = ONNX_ATTRS(c, ct_trace_rnn);
    if (!a) return false;
    if (IN_T(0)->ndim != 3)
        return ct_error(CT_ERR_UNSUPPORTED, "ONNX export: %s on an unbatched (%dd) input has no ONNX mapping", c->op->name,
                        IN_T(0)->ndim), false;
    static const int lstm_order[] = {0, 3, 1, 2}, gru_order[] = {1, 0, 2}, rnn_order[] = {0};
    bool lstm = a->mode == CT_TRACE_LSTM, gru = a->mode == CT_TRACE_GRU;
    const int *order = lstm ? lstm_order : gru ? gru_order : rnn_order;
    int G = lstm ? 4 : gru ? 3 : 1;
    int64_t H = a->hidden_size, L = a->num_layers;
    int D = a->bidirectional ? 2 : 1;
    int64_t perm3[3] = {1, 0, 2}, perm4[4] = {0, 2, 1, 3}, merge[3] = {0, 0, -1};
    const char *x = IN(0), *h_n[16], *c_n[16];
    if (a->batch_first) {
        Onnx__NodeProto *t = NODE("Transpose", NULL, x);
        onnx_attr_ints(t, "perm", 3, perm3);
        x = onnx_node_out(t);
    }
    for (int64_t l = 0; l < L; l++) {
        const char *w[2], *r[2], *b[2];
        for (int d = 0; d < D; d++) {
            int k = 3 + 4 * (int)(l * D + d);
            const char *unsq = axis0_ints(c, 0);
            w[d] = onnx_node_out(NODE("Unsqueeze", NULL, onnx_gates(c, IN(k), G, H, order), unsq));
            r[d] = onnx_node_out(NODE("Unsqueeze", NULL, onnx_gates(c, IN(k + 1), G, H, order), unsq));
            if (a->bias) {
                const char *wb_rb[2] = {onnx_gates(c, IN(k + 2), G, H, order), onnx_gates(c, IN(k + 3), G, H, order)};
                b[d] = onnx_node_out(NODE("Unsqueeze", NULL, concat0(c, 2, wb_rb), unsq));
            }
        }
        const char *in[7] = {x, concat0(c, D, w), concat0(c, D, r), a->bias ? concat0(c, D, b) : NULL, NULL, NULL, NULL};
        if (IN(1)) in[5] = slice0(c, IN(1), l * D, (l + 1) * D);
        if (lstm && IN(2)) in[6] = slice0(c, IN(2), l * D, (l + 1) * D);
        int n_in = 7;
        while (!in[n_in - 1]) n_in--; /* trailing omitted inputs */
        Onnx__NodeProto *node = onnx_node(c->g, lstm ? "LSTM" : gru ? "GRU" : "RNN", n_in, in, NULL);
        h_n[l] = onnx_node_add_output(c->g, node, NULL);
        if (lstm) c_n[l] = onnx_node_add_output(c->g, node, NULL);
        onnx_attr_int(node, "hidden_size", H);
        onnx_attr_string(node, "direction", D == 2 ? "bidirectional" : "forward");
        if (gru) onnx_attr_int(node, "linear_before_reset", 1);
        if (a->mode == CT_TRACE_RNN_RELU) onnx_attr_strings(node, "activations", D, (const char *const[]){"Relu", "Relu"});
        /* Y [T, D, B, H] -> [T, B, D*H], the next layer's input (directions concatenated) */
        Onnx__NodeProto *t = NODE("Transpose", NULL, onnx_node_out(node));
        onnx_attr_ints(t, "perm", 4, perm4);
        x = onnx_node_out(NODE("Reshape", NULL, onnx_node_out(t), onnx_const_ints(c->g, 3, merge)));
    }
    if (a->batch_first) onnx_attr_ints(NODE("Transpose", c->out, x), "perm", 3, perm3);
    else NODE("Identity", c->out, x);
    NODE("Identity", c->extra_out[0], concat0(c, (int)L, h_n));
    if (lstm) NODE("Identity", c->extra_out[1], concat0(c, (int)L, c_n));
    return OK;
}

/* ---- the table (sorted by nothing: ~60 rows, looked up once per traced op) ---- */
static const onnx_mapping mappings[] = {
    {"relu", map_relu}, {"sigmoid", map_sigmoid}, {"tanh", map_tanh}, {"exp", map_exp}, {"log", map_log},
    {"sqrt", map_sqrt}, {"rsqrt", map_rsqrt}, {"neg", map_neg}, {"abs", map_abs}, {"erf", map_erf},
    {"sin", map_sin}, {"cos", map_cos}, {"reciprocal", map_reciprocal}, {"floor", map_floor}, {"ceil", map_ceil},
    {"square", map_square}, {"silu", map_silu}, {"gelu", map_gelu}, {"leaky_relu", map_leaky_relu},
    {"clamp", map_clamp}, {"softmax", map_softmax}, {"log_softmax", map_log_softmax},
    {"add", map_add}, {"sub", map_sub}, {"mul", map_mul}, {"div", map_div}, {"pow", map_pow},
    {"maximum", map_maximum}, {"minimum", map_minimum},
    {"add_scalar", map_add_scalar}, {"sub_scalar", map_sub_scalar}, {"mul_scalar", map_mul_scalar},
    {"div_scalar", map_div_scalar}, {"pow_scalar", map_pow_scalar}, {"rsub_scalar", map_rsub_scalar},
    {"addmm", map_addmm}, {"mm", map_matmul}, {"matmul", map_matmul}, {"bmm", map_matmul},
    {"view", reshape_to_out}, {"reshape", reshape_to_out}, {"flatten", reshape_to_out}, {"unflatten", reshape_to_out},
    {"ravel", reshape_to_out}, {"permute", map_permute}, {"transpose", map_transpose}, {"t", map_transpose},
    {"unsqueeze", map_unsqueeze}, {"squeeze", map_squeeze}, {"expand", map_expand}, {"broadcast_to", map_expand},
    {"expand_as", map_expand}, {"cat", map_cat}, {"slice", map_slice}, {"narrow", map_slice}, {"select", map_slice},
    {"split", map_slice}, {"split_with_sizes", map_slice}, {"chunk", map_slice}, {"unbind", map_slice},
    {"index_select", map_index_select}, {"embedding", map_embedding}, {"where", map_where}, {"masked_fill", map_masked_fill},
    {"sum", map_sum}, {"mean", map_mean}, {"amax", map_amax},
    {"conv1d", map_conv}, {"conv2d", map_conv}, {"conv_transpose1d", map_conv}, {"conv_transpose2d", map_conv},
    {"max_pool2d", map_max_pool2d}, {"avg_pool2d", map_avg_pool2d}, {"adaptive_avg_pool2d", map_adaptive_avg_pool2d},
    {"lstm", map_rnn}, {"gru", map_rnn}, {"rnn", map_rnn},
    {"batch_norm", map_batch_norm}, {"layer_norm", map_layer_norm},
    {"alias", map_alias}, {"contiguous", map_alias}, {"clone", map_alias}, {"identity", map_identity},
};

const onnx_mapping *onnx_find_mapping(const char *op) {
    for (size_t i = 0; i < sizeof mappings / sizeof *mappings; i++)
        if (!strcmp(mappings[i].op, op)) return &mappings[i];
    return NULL;
}
