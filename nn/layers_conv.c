/* Convolution and pooling layers over their functional forms, with PyTorch's parameters,
 * initialisation and repr. Sizes are ct_shape lists standing for PyTorch's "int or tuple": one
 * value for every spatial dim, or one per dim. */
#include "module_impl.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Value d of a size list expanded to `dims` spatial dims. */
static int64_t at(ct_shape s, int d) { return s.ndim == 1 ? s.d[0] : s.d[d]; }

static bool check_sizes(const char *layer, const char *what, ct_shape s, int dims) {
    if (s.ndim == 1 || s.ndim == dims) return true;
    ct_error(CT_ERR_ARG, "%s: %s must have 1 or %d values, got %d", layer, what, dims, s.ndim);
    return false;
}

/* PyTorch prints sizes of conv layers as tuples: "(3, 3)", "(3,)". */
static int put_tuple(char *buf, size_t size, ct_shape s, int dims) {
    int k = snprintf(buf, size, "(");
    for (int d = 0; d < dims && k < (int)size; d++) k += snprintf(buf + k, size - (size_t)k, d + 1 < dims ? "%lld, " : "%lld", (long long)at(s, d));
    if (k < (int)size) k += snprintf(buf + k, size - (size_t)k, dims == 1 ? ",)" : ")");
    return k;
}

static bool all_equal(ct_shape s, int dims, int64_t v) {
    for (int d = 0; d < dims; d++)
        if (at(s, d) != v) return false;
    return true;
}

/* ---- convolutions ------------------------------------------------------------------------------- */

typedef struct conv_state {
    int dims;
    bool transposed;
    int64_t in_channels, out_channels;
    ct_conv_module_opts o;
    ct_shape kernel_size;
    ct_tensor *weight, *bias;
} conv_state;

static ct_tensor *conv_forward(ct_module *m, ct_tensor *x) {
    const conv_state *s = m->state;
    const ct_conv_module_opts *o = &s->o;
    if (s->transposed)
        return ct_conv_transpose2d(x, s->weight, s->bias, .stride = o->stride, .padding = o->padding, .output_padding = o->output_padding,
                                   .groups = o->groups, .dilation = o->dilation);
    if (s->dims == 1)
        return ct_conv1d(x, s->weight, s->bias, .stride = o->stride, .padding = o->padding, .dilation = o->dilation, .groups = o->groups);
    return ct_conv2d(x, s->weight, s->bias, .stride = o->stride, .padding = o->padding, .dilation = o->dilation, .groups = o->groups);
}

/* PyTorch's _ConvNd.extra_repr: stride always, the rest only when not the default. */
static void conv_repr(const ct_module *m, char *buf, size_t size) {
    const conv_state *s = m->state;
    const ct_conv_module_opts *o = &s->o;
    int k = snprintf(buf, size, "%lld, %lld, kernel_size=", (long long)s->in_channels, (long long)s->out_channels);
    k += put_tuple(buf + k, size - (size_t)k, s->kernel_size, s->dims);
    k += snprintf(buf + k, size - (size_t)k, ", stride=");
    k += put_tuple(buf + k, size - (size_t)k, o->stride, s->dims);
    if (!all_equal(o->padding, s->dims, 0)) k += snprintf(buf + k, size - (size_t)k, ", padding="), k += put_tuple(buf + k, size - (size_t)k, o->padding, s->dims);
    if (!all_equal(o->dilation, s->dims, 1)) k += snprintf(buf + k, size - (size_t)k, ", dilation="), k += put_tuple(buf + k, size - (size_t)k, o->dilation, s->dims);
    if (s->transposed && !all_equal(o->output_padding, s->dims, 0))
        k += snprintf(buf + k, size - (size_t)k, ", output_padding="), k += put_tuple(buf + k, size - (size_t)k, o->output_padding, s->dims);
    if (o->groups != 1) k += snprintf(buf + k, size - (size_t)k, ", groups=%lld", (long long)o->groups);
    if (!o->bias) snprintf(buf + k, size - (size_t)k, ", bias=False");
}

static const ct_module_vtable conv1d_vtable = {.name = "Conv1d", .forward = conv_forward, .extra_repr = conv_repr};
static const ct_module_vtable conv2d_vtable = {.name = "Conv2d", .forward = conv_forward, .extra_repr = conv_repr};
static const ct_module_vtable conv_transpose2d_vtable = {.name = "ConvTranspose2d", .forward = conv_forward, .extra_repr = conv_repr};

/* PyTorch's reset_parameters: kaiming_uniform_(a=sqrt(5)) = U(-1/sqrt(fan_in), 1/sqrt(fan_in)), the
 * bias with the same bound; fan_in = weight.size(1) * kernel elements (for a transposed conv that
 * is out_channels / groups). */
static ct_module *conv(const ct_module_vtable *vt, int dims, bool transposed, int64_t in, int64_t out, ct_shape kernel_size,
                       ct_conv_module_opts o) {
    const char *name = vt->name;
    if (in <= 0 || out <= 0) return ct_error(CT_ERR_ARG, "%s: in_channels and out_channels must be positive", name);
    if (o.groups <= 0) return ct_error(CT_ERR_ARG, "%s: groups must be a positive integer", name);
    if (in % o.groups) return ct_error(CT_ERR_ARG, "%s: in_channels must be divisible by groups", name);
    if (out % o.groups) return ct_error(CT_ERR_ARG, "%s: out_channels must be divisible by groups", name);
    if (!check_sizes(name, "kernel_size", kernel_size, dims) || !check_sizes(name, "stride", o.stride, dims) ||
        !check_sizes(name, "padding", o.padding, dims) || !check_sizes(name, "dilation", o.dilation, dims) ||
        !check_sizes(name, "output_padding", o.output_padding, dims))
        return NULL;
    ct_module *m = ct_module_new(vt, sizeof(conv_state));
    if (!m) return NULL;
    conv_state *s = m->state;
    *s = (conv_state){dims, transposed, in, out, o, kernel_size, NULL, NULL};
    ct_shape w = {.ndim = 2 + dims};
    w.d[0] = transposed ? in : out;
    w.d[1] = transposed ? out / o.groups : in / o.groups;
    int64_t fan_in = w.d[1];
    for (int d = 0; d < dims; d++) w.d[2 + d] = at(kernel_size, d), fan_in *= w.d[2 + d];
    double bound = fan_in > 0 ? 1 / sqrt((double)fan_in) : 0;
    ct_tensor_opts topts = {o.dtype, o.device};
    s->weight = ct_register_parameter(m, "weight", ct_uniform_(ct_empty_opt(w, topts), -bound, bound));
    if (o.bias) s->bias = ct_register_parameter(m, "bias", ct_uniform_(ct_empty_opt(CT_SHAPE(out), topts), -bound, bound));
    return ct_ok() ? m : NULL;
}

ct_module *ct_conv1d_module_opt(int64_t in, int64_t out, ct_shape kernel_size, ct_conv_module_opts opts) {
    return conv(&conv1d_vtable, 1, false, in, out, kernel_size, opts);
}
ct_module *ct_conv2d_module_opt(int64_t in, int64_t out, ct_shape kernel_size, ct_conv_module_opts opts) {
    return conv(&conv2d_vtable, 2, false, in, out, kernel_size, opts);
}
ct_module *ct_conv_transpose2d_module_opt(int64_t in, int64_t out, ct_shape kernel_size, ct_conv_module_opts opts) {
    return conv(&conv_transpose2d_vtable, 2, true, in, out, kernel_size, opts);
}

/* ---- pooling ------------------------------------------------------------------------------------- */

typedef struct pool_state {
    ct_shape kernel_size, stride, padding, dilation, output_size;
    bool ceil_mode, count_include_pad;
} pool_state;

/* PyTorch prints a pooling size as it was given: an int as an int, a pair as a tuple. */
static int put_size(char *buf, size_t size, ct_shape s) {
    if (s.ndim == 1) return snprintf(buf, size, "%lld", (long long)s.d[0]);
    return put_tuple(buf, size, s, s.ndim);
}

static ct_tensor *max_pool_forward(ct_module *m, ct_tensor *x) {
    const pool_state *s = m->state;
    return ct_max_pool2d(x, s->kernel_size, .stride = s->stride, .padding = s->padding, .dilation = s->dilation, .ceil_mode = s->ceil_mode);
}
static ct_tensor *avg_pool_forward(ct_module *m, ct_tensor *x) {
    const pool_state *s = m->state;
    return ct_avg_pool2d(x, s->kernel_size, .stride = s->stride, .padding = s->padding, .ceil_mode = s->ceil_mode,
                         .count_include_pad = s->count_include_pad);
}
static ct_tensor *adaptive_avg_pool_forward(ct_module *m, ct_tensor *x) {
    const pool_state *s = m->state;
    ct_shape out = s->output_size.ndim == 1 ? CT_SHAPE(s->output_size.d[0], s->output_size.d[0]) : s->output_size;
    return ct_adaptive_avg_pool2d(x, out);
}

/* "kernel_size=2, stride=2, padding=0": what both pooling reprs start with. */
static int put_window(char *buf, size_t size, const pool_state *s) {
    int k = snprintf(buf, size, "kernel_size=");
    k += put_size(buf + k, size - (size_t)k, s->kernel_size);
    k += snprintf(buf + k, size - (size_t)k, ", stride=");
    k += put_size(buf + k, size - (size_t)k, s->stride.ndim ? s->stride : s->kernel_size);
    k += snprintf(buf + k, size - (size_t)k, ", padding=");
    return k + put_size(buf + k, size - (size_t)k, s->padding);
}

static void max_pool_repr(const ct_module *m, char *buf, size_t size) {
    const pool_state *s = m->state;
    int k = put_window(buf, size, s);
    k += snprintf(buf + k, size - (size_t)k, ", dilation=");
    k += put_size(buf + k, size - (size_t)k, s->dilation);
    snprintf(buf + k, size - (size_t)k, ", ceil_mode=%s", s->ceil_mode ? "True" : "False");
}
static void avg_pool_repr(const ct_module *m, char *buf, size_t size) { put_window(buf, size, m->state); }
static void adaptive_repr(const ct_module *m, char *buf, size_t size) {
    int k = snprintf(buf, size, "output_size=");
    put_size(buf + k, size - (size_t)k, ((const pool_state *)m->state)->output_size);
}

static const ct_module_vtable max_pool2d_vtable = {.name = "MaxPool2d", .forward = max_pool_forward, .extra_repr = max_pool_repr};
static const ct_module_vtable avg_pool2d_vtable = {.name = "AvgPool2d", .forward = avg_pool_forward, .extra_repr = avg_pool_repr};
static const ct_module_vtable adaptive_avg_pool2d_vtable = {.name = "AdaptiveAvgPool2d", .forward = adaptive_avg_pool_forward,
                                                            .extra_repr = adaptive_repr};

static ct_module *pool(const ct_module_vtable *vt, pool_state st) {
    ct_module *m = ct_module_new(vt, sizeof(pool_state));
    if (m) *(pool_state *)m->state = st;
    return m;
}

ct_module *ct_max_pool2d_module_opt(ct_shape kernel_size, ct_pool_module_opts o) {
    return pool(&max_pool2d_vtable, (pool_state){kernel_size, o.stride, o.padding, o.dilation, {0}, o.ceil_mode, true});
}
ct_module *ct_avg_pool2d_module_opt(ct_shape kernel_size, ct_pool_module_opts o) {
    return pool(&avg_pool2d_vtable, (pool_state){kernel_size, o.stride, o.padding, o.dilation, {0}, o.ceil_mode, o.count_include_pad});
}
ct_module *ct_adaptive_avg_pool2d_module(ct_shape output_size) {
    if (output_size.ndim < 1 || output_size.ndim > 2) return ct_error(CT_ERR_ARG, "AdaptiveAvgPool2d: output_size must have 1 or 2 values");
    return pool(&adaptive_avg_pool2d_vtable, (pool_state){.output_size = output_size});
}
