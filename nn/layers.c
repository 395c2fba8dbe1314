/* Linear, the activation modules, Identity and Flatten. */
#include "module_impl.h"

#include <math.h>
#include <stdio.h>

/* ---- Linear ---------------------------------------------------------------------------------- */

typedef struct linear_state {
    int64_t in_features, out_features;
    ct_tensor *weight, *bias; /* registered members (the module holds the references) */
} linear_state;

/* y = x W^T + b: one GEMM with the bias as its addend for a matrix input (PyTorch's addmm path).
 * On CUDA an (..., in_features) input also folds into rows [*, in_features] for addmm, whose bias
 * rides cuBLASLt's epilogue (one kernel instead of a GEMM and a broadcast add). */
static ct_tensor *linear_forward(ct_module *m, ct_tensor *x) {
    linear_state *s = m->state;
    if (x && ct_ndim(x) == 2 && s->bias) return ct_addmm(s->bias, x, ct_t(s->weight));
    int nd = x ? ct_ndim(x) : 0;
    if (nd > 2 && s->bias && s->in_features > 0 && ct_device_of(x).type == CT_DEVICE_CUDA &&
        ct_shape_of(x).d[nd - 1] == s->in_features) {
        ct_shape shape = ct_shape_of(x);
        ct_tensor *rows = ct_reshape(x, CT_SHAPE(ct_numel(x) / s->in_features, s->in_features));
        shape.d[nd - 1] = s->out_features;
        return ct_reshape(ct_addmm(s->bias, rows, ct_t(s->weight)), shape);
    }
    ct_tensor *y = ct_matmul(x, ct_t(s->weight));
    return s->bias ? ct_add(y, s->bias) : y;
}

static void linear_repr(const ct_module *m, char *buf, size_t size) {
    const linear_state *s = m->state;
    snprintf(buf, size, "in_features=%lld, out_features=%lld, bias=%s", (long long)s->in_features,
             (long long)s->out_features, s->bias ? "True" : "False");
}

static const ct_module_vtable linear_vtable = {.name = "Linear", .forward = linear_forward, .extra_repr = linear_repr};

/* PyTorch's reset_parameters: kaiming_uniform_(W, a=sqrt(5)) is U(-1/sqrt(in), 1/sqrt(in)), and
 * the bias uses the same bound. */
ct_module *ct_linear_opt(int64_t in_features, int64_t out_features, ct_linear_opts opts) {
    if (in_features < 0 || out_features < 0)
        return ct_error(CT_ERR_ARG, "Linear: in_features and out_features must be non-negative, got %lld and %lld",
                        (long long)in_features, (long long)out_features);
    ct_module *m = ct_module_new(&linear_vtable, sizeof(linear_state));
    if (!m) return NULL;
    linear_state *s = m->state;
    s->in_features = in_features, s->out_features = out_features;
    ct_tensor_opts topts = {opts.dtype, opts.device};
    double bound = in_features > 0 ? 1 / sqrt((double)in_features) : 0;
    ct_tensor *w = ct_uniform_(ct_empty_opt(CT_SHAPE(out_features, in_features), topts), -bound, bound);
    s->weight = ct_register_parameter(m, "weight", w);
    if (opts.bias) s->bias = ct_register_parameter(m, "bias", ct_uniform_(ct_empty_opt(CT_SHAPE(out_features), topts), -bound, bound));
    return s->weight && (!opts.bias || s->bias) ? m : NULL;
}

/* ---- activations ------------------------------------------------------------------------------- */

typedef struct activation_state {
    double arg;              /* negative_slope, dim */
    ct_gelu_approx approx;
} activation_state;

static ct_tensor *relu_forward(ct_module *m, ct_tensor *x) { (void)m; return ct_relu(x); }
static ct_tensor *silu_forward(ct_module *m, ct_tensor *x) { (void)m; return ct_silu(x); }
static ct_tensor *sigmoid_forward(ct_module *m, ct_tensor *x) { (void)m; return ct_sigmoid(x); }
static ct_tensor *tanh_forward(ct_module *m, ct_tensor *x) { (void)m; return ct_tanh(x); }
static ct_tensor *identity_forward(ct_module *m, ct_tensor *x) { (void)m; return ct_alias(x); }
static ct_tensor *leaky_relu_forward(ct_module *m, ct_tensor *x) {
    return ct_leaky_relu(x, ((activation_state *)m->state)->arg);
}
static ct_tensor *gelu_forward(ct_module *m, ct_tensor *x) {
    return ct_gelu(x, .approximate = ((activation_state *)m->state)->approx);
}
static ct_tensor *softmax_forward(ct_module *m, ct_tensor *x) { return ct_softmax(x, (int)((activation_state *)m->state)->arg); }
static ct_tensor *log_softmax_forward(ct_module *m, ct_tensor *x) {
    return ct_log_softmax(x, (int)((activation_state *)m->state)->arg);
}

static void leaky_relu_repr(const ct_module *m, char *buf, size_t size) {
    snprintf(buf, size, "negative_slope=%g", ((activation_state *)m->state)->arg);
}
static void gelu_repr(const ct_module *m, char *buf, size_t size) {
    snprintf(buf, size, "approximate='%s'", ((activation_state *)m->state)->approx == CT_GELU_TANH ? "tanh" : "none");
}
static void dim_repr(const ct_module *m, char *buf, size_t size) {
    snprintf(buf, size, "dim=%d", (int)((activation_state *)m->state)->arg);
}

static const ct_module_vtable relu_vtable = {.name = "ReLU", .forward = relu_forward};
static const ct_module_vtable silu_vtable = {.name = "SiLU", .forward = silu_forward};
static const ct_module_vtable sigmoid_vtable = {.name = "Sigmoid", .forward = sigmoid_forward};
static const ct_module_vtable tanh_vtable = {.name = "Tanh", .forward = tanh_forward};
static const ct_module_vtable identity_vtable = {.name = "Identity", .forward = identity_forward};
static const ct_module_vtable leaky_relu_vtable = {.name = "LeakyReLU", .forward = leaky_relu_forward, .extra_repr = leaky_relu_repr};
static const ct_module_vtable gelu_vtable = {.name = "GELU", .forward = gelu_forward, .extra_repr = gelu_repr};
static const ct_module_vtable softmax_vtable = {.name = "Softmax", .forward = softmax_forward, .extra_repr = dim_repr};
static const ct_module_vtable log_softmax_vtable = {.name = "LogSoftmax", .forward = log_softmax_forward, .extra_repr = dim_repr};

static ct_module *activation(const ct_module_vtable *vt, double arg, ct_gelu_approx approx) {
    ct_module *m = ct_module_new(vt, sizeof(activation_state));
    if (m) *(activation_state *)m->state = (activation_state){arg, approx};
    return m;
}

ct_module *ct_relu_module(void) { return activation(&relu_vtable, 0, CT_GELU_NONE); }
ct_module *ct_silu_module(void) { return activation(&silu_vtable, 0, CT_GELU_NONE); }
ct_module *ct_sigmoid_module(void) { return activation(&sigmoid_vtable, 0, CT_GELU_NONE); }
ct_module *ct_tanh_module(void) { return activation(&tanh_vtable, 0, CT_GELU_NONE); }
ct_module *ct_identity(void) { return activation(&identity_vtable, 0, CT_GELU_NONE); }
ct_module *ct_leaky_relu_module(double negative_slope) { return activation(&leaky_relu_vtable, negative_slope, CT_GELU_NONE); }
ct_module *ct_gelu_module_opt(ct_gelu_module_opts opts) { return activation(&gelu_vtable, 0, opts.approximate); }
ct_module *ct_softmax_module(int dim) { return activation(&softmax_vtable, dim, CT_GELU_NONE); }
ct_module *ct_log_softmax_module(int dim) { return activation(&log_softmax_vtable, dim, CT_GELU_NONE); }

/* ---- Flatten ------------------------------------------------------------------------------------ */

typedef struct flatten_state {
    int start_dim, end_dim;
} flatten_state;

static ct_tensor *flatten_forward(ct_module *m, ct_tensor *x) {
    const flatten_state *s = m->state;
    return ct_flatten(x, s->start_dim, s->end_dim);
}
static void flatten_repr(const ct_module *m, char *buf, size_t size) {
    const flatten_state *s = m->state;
    snprintf(buf, size, "start_dim=%d, end_dim=%d", s->start_dim, s->end_dim);
}
static const ct_module_vtable flatten_vtable = {.name = "Flatten", .forward = flatten_forward, .extra_repr = flatten_repr};

ct_module *ct_flatten_module3(int start_dim, int end_dim) {
    ct_module *m = ct_module_new(&flatten_vtable, sizeof(flatten_state));
    if (m) *(flatten_state *)m->state = (flatten_state){start_dim, end_dim};
    return m;
}
