/* Pooling: max_pool2d, avg_pool2d, adaptive_avg_pool2d and their input gradients, plus the checks
 * of the 1d forms. Validation follows PyTorch 1.13's order and messages (max_pool2d_with_indices'
 * and avg_pool2d's meta functions, pooling_output_shape, pool2d_shape_check); the arithmetic runs
 * on contiguous f32/f64 planes in cpu/pool_cpu.c.
 *
 * Output size of one pooled dim (pooling_output_shape), with the effective kernel
 * dilation * (kernel - 1) + 1:
 *
 *     out = floor((in + 2 * pad - dilation * (kernel - 1) - 1 [+ stride - 1 if ceil_mode]) / stride) + 1
 *
 * and in ceil mode a last window that would start in the right padding is dropped:
 * if ((out - 1) * stride >= in + pad) out--. */
#include "pool_impl.h"

/* ---- option lists -------------------------------------------------------------------------- */

/* A CT_SHAPE option of one value (both dims) or two (H, W) into pair[2]; an empty list takes
 * dflt[2]. Otherwise false with `msg` (PyTorch's own words for that argument). */
static bool pair_opt(const char *msg, ct_shape s, const int64_t dflt[2], int64_t pair[2]) {
    if (s.ndim == 0) {
        pair[0] = dflt[0], pair[1] = dflt[1];
    } else if (s.ndim == 1) {
        pair[0] = pair[1] = s.d[0];
    } else if (s.ndim == 2) {
        pair[0] = s.d[0], pair[1] = s.d[1];
    } else {
        ct_error(CT_ERR_ARG, "%s", msg);
        return false;
    }
    return true;
}

/* ---- shape checks -------------------------------------------------------------------------- */

static int64_t div_floor(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* PyTorch's pooling_output_shape for one dim; false with its message. */
static bool output_size(const char *op, int64_t in, int64_t k, int64_t pad, int64_t stride, int64_t dil, bool ceil_mode,
                        int64_t *out) {
    if (stride == 0) return ct_error(CT_ERR_ARG, "%s: stride should not be zero", op), false;
    if (pad < 0)
        return ct_error(CT_ERR_ARG, "%s: pad must be non-negative, but got pad: %lld", op, (long long)pad), false;
    if (pad > k / 2)
        return ct_error(CT_ERR_ARG,
                        "%s: pad should be at most half of kernel size, but got pad=%lld and kernel_size=%lld", op,
                        (long long)pad, (long long)k),
               false;
    int64_t o = div_floor(in + 2 * pad - dil * (k - 1) - 1 + (ceil_mode ? stride - 1 : 0), stride) + 1;
    if (ceil_mode && (o - 1) * stride >= in + pad) o--;
    *out = o;
    return true;
}

/* PyTorch's pool2d_shape_check: positive kernel, stride and dilation, a 3-d or 4-d input whose
 * non-batch dims are non-empty, a non-empty output. */
static bool shape_check(const char *op, const ct_tensor *x, const ct__pool2d_geom *g) {
    if (g->kh <= 0 || g->kw <= 0)
        return ct_error(CT_ERR_ARG, "%s: kernel size should be greater than zero, but got kH: %lld kW: %lld", op,
                        (long long)g->kh, (long long)g->kw),
               false;
    if (g->sh <= 0 || g->sw <= 0)
        return ct_error(CT_ERR_ARG, "%s: stride should be greater than zero, but got dH: %lld dW: %lld", op,
                        (long long)g->sh, (long long)g->sw),
               false;
    if (g->dh <= 0 || g->dw <= 0)
        return ct_error(CT_ERR_ARG, "%s: dilation should be greater than zero, but got dilationH: %lld dilationW: %lld",
                        op, (long long)g->dh, (long long)g->dw),
               false;
    bool valid = x->ndim == 3 || x->ndim == 4;
    for (int d = x->ndim - 3; valid && d < x->ndim; d++) valid = x->shape[d] != 0;
    if (!valid)
        return ct_error(
                   CT_ERR_SHAPE,
                   "%s: Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, but got:%s", op,
                   ct__shape_str(x->shape, x->ndim)),
               false;
    if (g->oh < 1 || g->ow < 1)
        return ct_error(CT_ERR_SHAPE,
                        "%s: Given input size: (%lldx%lldx%lld). Calculated output size: (%lldx%lldx%lld). Output size "
                        "is too small",
                        op, (long long)x->shape[x->ndim - 3], (long long)g->ih, (long long)g->iw,
                        (long long)x->shape[x->ndim - 3], (long long)g->oh, (long long)g->ow),
               false;
    return true;
}

/* Pooling computes in f64 for f64 input and in f32 otherwise; integers and bool are refused with
 * PyTorch's dispatch message. */
static bool check_floating(const char *op, const ct_tensor *x) {
    if (ct_dtype_is_floating(x->dtype)) return true;
    ct_error(CT_ERR_DTYPE, "%s: \"%s\" not implemented for '%s'", op, op, ct__torch_type_name(x->dtype));
    return false;
}
static ct_dtype compute_dtype(ct_dtype dtype) { return dtype == CT_F64 ? CT_F64 : CT_F32; }

/* ---- the CPU table: the plane kernels of cpu/pool_cpu.c (backward ones add into a zeroed gx) ---- */

static size_t plane_bytes(const ct__pool2d_geom *g, ct_dtype dt) {
    return (size_t)(g->planes * g->ih * g->iw) * ct_dtype_size(dt);
}
static bool cpu_max(const ct__pool2d_geom *g, ct_dtype dt, int dev, const void *x, void *y, int64_t *idx) {
    (void)dev;
    ct__max_pool2d_cpu(g, dt, x, y, idx);
    return true;
}
static bool cpu_max_backward(const ct__pool2d_geom *g, ct_dtype dt, int dev, const void *gy, const int64_t *idx,
                             void *gx) {
    (void)dev;
    memset(gx, 0, plane_bytes(g, dt));
    ct__max_pool2d_backward_cpu(g, dt, gy, idx, gx);
    return true;
}
#define CPU_PLANE_OP(name, kernel, zero_dst)                                                           \
    static bool name(const ct__pool2d_geom *g, ct_dtype dt, int dev, const void *src, void *dst) {     \
        (void)dev;                                                                                     \
        if (zero_dst) memset(dst, 0, plane_bytes(g, dt));                                              \
        kernel(g, dt, src, dst);                                                                       \
        return true;                                                                                   \
    }
CPU_PLANE_OP(cpu_avg, ct__avg_pool2d_cpu, false)
CPU_PLANE_OP(cpu_avg_backward, ct__avg_pool2d_backward_cpu, true)
CPU_PLANE_OP(cpu_adaptive, ct__adaptive_avg_pool2d_cpu, false)
CPU_PLANE_OP(cpu_adaptive_backward, ct__adaptive_avg_pool2d_backward_cpu, true)

static const ct_pool_kernels cpu_kernels = {cpu_max, cpu_max_backward, cpu_avg, cpu_avg_backward, cpu_adaptive,
                                            cpu_adaptive_backward};

/* The device's pooling table; NULL with ct__no_kernel's error where there is none. */
static const ct_pool_kernels *pool_kernels(const char *op, const ct_tensor *x) {
    ct_device d = ct__device(x);
    if (d.type == CT_DEVICE_CPU) return &cpu_kernels;
#ifdef CT_HAVE_CUDA
    if (d.type == CT_DEVICE_CUDA) return &ct__pool_cuda_kernels;
#endif
    return ct__no_kernel(op, d);
}

/* Fills the input dims of g from x (3-d or 4-d, checked by the caller): planes = N * C. */
static void input_dims(const ct_tensor *x, ct__pool2d_geom *g) {
    g->planes = x->shape[x->ndim - 3] * (x->ndim == 4 ? x->shape[0] : 1);
    g->ih = x->shape[x->ndim - 2];
    g->iw = x->shape[x->ndim - 1];
}

/* The output: x's leading dims with (oh, ow) last, uninitialised, in dtype. */
static ct_tensor *new_output(const ct_tensor *x, const ct__pool2d_geom *g, ct_dtype dtype) {
    int64_t shape[4];
    for (int d = 0; d < x->ndim - 2; d++) shape[d] = x->shape[d];
    shape[x->ndim - 2] = g->oh;
    shape[x->ndim - 1] = g->ow;
    return ct__tensor_new(shape, x->ndim, dtype, ct__device(x));
}

/* ---- max_pool2d ---------------------------------------------------------------------------- */

/* Resolves and checks max pool options into g (input dims included), as PyTorch orders it. */
static bool max_pool_geom(const char *op, const ct_tensor *x, ct_shape kernel_size, ct_max_pool_opts o,
                          ct__pool2d_geom *g) {
    int64_t k[2], s[2], p[2], d[2];
    static const int64_t zero[2] = {0, 0}, one[2] = {1, 1};
    if (!pair_opt("max_pool2d: kernel_size must either be a single int, or a tuple of two ints",
                  kernel_size.ndim ? kernel_size : CT_SHAPE(0, 0, 0), zero, k) ||
        !pair_opt("max_pool2d: stride must either be omitted, a single int, or a tuple of two ints", o.stride, k, s) ||
        !pair_opt("max_pool2d: padding must be either be a single int, or a tuple of two ints", o.padding, zero, p) ||
        !pair_opt("max_pool2d: dilation must be either a single int, or a tuple of two ints", o.dilation, one, d))
        return false;
    if (x->ndim != 3 && x->ndim != 4)
        return ct_error(CT_ERR_SHAPE, "%s: non-empty 3D or 4D (batch mode) tensor expected for input", op), false;
    *g = (ct__pool2d_geom){
        .kh = k[0], .kw = k[1], .sh = s[0], .sw = s[1], .ph = p[0], .pw = p[1], .dh = d[0], .dw = d[1]};
    input_dims(x, g);
    return output_size(op, g->ih, g->kh, g->ph, g->sh, g->dh, o.ceil_mode, &g->oh) &&
           output_size(op, g->iw, g->kw, g->pw, g->sw, g->dw, o.ceil_mode, &g->ow) && shape_check(op, x, g);
}

ct_tensor *ct__max_pool2d(const ct_tensor *x, ct_shape kernel_size, ct_max_pool_opts opts, ct_tensor **indices,
                          ct__pool2d_geom *geom) {
    const char *op = "max_pool2d";
    if (indices) *indices = NULL;
    if (!CT__CHECK(op, x)) return NULL;
    ct__pool2d_geom g;
    const ct_pool_kernels *k;
    if (!max_pool_geom(op, x, kernel_size, opts, &g) || !check_floating(op, x) || !(k = pool_kernels(op, x)))
        return NULL;
    ct_dtype cdt = compute_dtype(x->dtype);
    const ct_tensor *in = ct__contiguous_as(x, cdt);
    ct_tensor *out = new_output(x, &g, cdt), *idx = new_output(x, &g, CT_I64);
    if (!in || !out || !idx) return NULL;
    if (!k->max(&g, cdt, ct__device(x).index, ct__data(in), ct__data(out), (int64_t *)ct__data(idx))) return NULL;
    if (cdt != x->dtype && !(out = ct__contiguous_as(out, x->dtype))) return NULL;
    if (geom) *geom = g;
    if (indices) *indices = idx;
    return out;
}

/* ---- avg_pool2d ---------------------------------------------------------------------------- */

static bool avg_pool_geom(const char *op, const ct_tensor *x, ct_shape kernel_size, ct_avg_pool_opts o,
                          ct__pool2d_geom *g) {
    int64_t k[2], s[2], p[2];
    static const int64_t zero[2] = {0, 0};
    if (!pair_opt("avg_pool2d: kernel_size must either be a single int, or a tuple of two ints",
                  kernel_size.ndim ? kernel_size : CT_SHAPE(0, 0, 0), zero, k) ||
        !pair_opt("avg_pool2d: stride must either be omitted, a single int, or a tuple of two ints", o.stride, k, s) ||
        !pair_opt("avg_pool2d: padding must either be a single int, or a tuple of two ints", o.padding, zero, p))
        return false;
    /* PyTorch reads input.size(-3) before any dims check. */
    if (x->ndim < 3)
        return ct_error(CT_ERR_INDEX, "%s: Dimension out of range (expected to be in range of [%d, %d], but got -3)",
                        op, x->ndim ? -x->ndim : -1, x->ndim ? x->ndim - 1 : 0),
               false;
    *g = (ct__pool2d_geom){.kh = k[0],
                           .kw = k[1],
                           .sh = s[0],
                           .sw = s[1],
                           .ph = p[0],
                           .pw = p[1],
                           .dh = 1,
                           .dw = 1,
                           .count_include_pad = o.count_include_pad,
                           .divisor_override = o.divisor_override};
    g->planes = 0;
    g->ih = x->shape[x->ndim - 2];
    g->iw = x->shape[x->ndim - 1];
    if (!output_size(op, g->ih, g->kh, g->ph, g->sh, 1, o.ceil_mode, &g->oh) ||
        !output_size(op, g->iw, g->kw, g->pw, g->sw, 1, o.ceil_mode, &g->ow) || !shape_check(op, x, g))
        return false;
    input_dims(x, g);
    return true;
}

ct_tensor *ct__avg_pool2d(const ct_tensor *x, ct_shape kernel_size, ct_avg_pool_opts opts, ct__pool2d_geom *geom) {
    const char *op = "avg_pool2d";
    if (!CT__CHECK(op, x)) return NULL;
    ct__pool2d_geom g;
    const ct_pool_kernels *k;
    if (!avg_pool_geom(op, x, kernel_size, opts, &g) || !check_floating(op, x) || !(k = pool_kernels(op, x)))
        return NULL;
    ct_dtype cdt = compute_dtype(x->dtype);
    const ct_tensor *in = ct__contiguous_as(x, cdt);
    ct_tensor *out = new_output(x, &g, cdt);
    if (!in || !out) return NULL;
    if (!k->avg(&g, cdt, ct__device(x).index, ct__data(in), ct__data(out))) return NULL;
    if (cdt != x->dtype && !(out = ct__contiguous_as(out, x->dtype))) return NULL;
    if (geom) *geom = g;
    return out;
}

/* ---- adaptive_avg_pool2d ------------------------------------------------------------------- */

ct_tensor *ct__adaptive_avg_pool2d(const ct_tensor *x, ct_shape output_size, ct__pool2d_geom *geom) {
    const char *op = "adaptive_avg_pool2d";
    if (!CT__CHECK(op, x)) return NULL;
    int64_t o[2];
    static const int64_t none[2] = {-1, -1};
    if (!pair_opt("adaptive_avg_pool2d: output_size must be 2", output_size.ndim ? output_size : CT_SHAPE(0, 0, 0),
                  none, o))
        return NULL;
    if (o[0] < 0 || o[1] < 0)
        return ct_error(CT_ERR_ARG,
                        "adaptive_avg_pool2d: elements of output_size must be greater than or equal to 0 but received "
                        "{%lld, %lld}",
                        (long long)o[0], (long long)o[1]);
    if (x->ndim != 3 && x->ndim != 4)
        return ct_error(CT_ERR_SHAPE, "adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got %s",
                        ct__shape_str(x->shape, x->ndim));
    for (int d = x->ndim - 2; d < x->ndim; d++)
        if (x->shape[d] == 0)
            return ct_error(CT_ERR_SHAPE,
                            "adaptive_avg_pool2d(): Expected input to have non-zero size for non-batch dimensions, but "
                            "input has sizes %s with dimension %d being empty",
                            ct__shape_str(x->shape, x->ndim), d);
    const ct_pool_kernels *k;
    if (!check_floating(op, x) || !(k = pool_kernels(op, x))) return NULL;
    ct__pool2d_geom g = {.oh = o[0], .ow = o[1]};
    input_dims(x, &g);
    ct_dtype cdt = compute_dtype(x->dtype);
    const ct_tensor *in = ct__contiguous_as(x, cdt);
    ct_tensor *out = new_output(x, &g, cdt);
    if (!in || !out) return NULL;
    if (!k->adaptive(&g, cdt, ct__device(x).index, ct__data(in), ct__data(out))) return NULL;
    if (cdt != x->dtype && !(out = ct__contiguous_as(out, x->dtype))) return NULL;
    if (geom) *geom = g;
    return out;
}

/* ---- gradients ----------------------------------------------------------------------------- */

/* The gradient w.r.t. an input of input_shape (uninitialised: the kernels write it whole), and
 * grad as contiguous compute-dtype planes; false on failure. */
static bool backward_buffers(const ct_tensor *grad, ct_shape input_shape, const ct_tensor **g, ct_tensor **gx) {
    ct_dtype cdt = compute_dtype(grad->dtype);
    *g = ct__contiguous_as(grad, cdt);
    *gx = ct__tensor_new(input_shape.d, input_shape.ndim, cdt, ct__device(grad));
    return *g && *gx;
}

ct_tensor *ct__max_pool2d_backward(const ct_tensor *grad, const ct_tensor *indices, const ct__pool2d_geom *geom,
                                   ct_shape input_shape) {
    const ct_tensor *g;
    ct_tensor *gx;
    const ct_pool_kernels *k;
    if (!CT__CHECK("max_pool2d_backward", grad, indices) || !(k = pool_kernels("max_pool2d_backward", grad)) ||
        !backward_buffers(grad, input_shape, &g, &gx))
        return NULL;
    const ct_tensor *idx = ct__contiguous_as(indices, CT_I64);
    if (!idx) return NULL;
    bool ok = k->max_backward(geom, gx->dtype, ct__device(grad).index, ct__data(g), (const int64_t *)ct__data(idx),
                              ct__data(gx));
    return ok ? gx : NULL;
}

ct_tensor *ct__avg_pool2d_backward(const ct_tensor *grad, const ct__pool2d_geom *geom, ct_shape input_shape) {
    const ct_tensor *g;
    ct_tensor *gx;
    const ct_pool_kernels *k;
    if (!CT__CHECK("avg_pool2d_backward", grad) || !(k = pool_kernels("avg_pool2d_backward", grad)) ||
        !backward_buffers(grad, input_shape, &g, &gx))
        return NULL;
    return k->avg_backward(geom, gx->dtype, ct__device(grad).index, ct__data(g), ct__data(gx)) ? gx : NULL;
}

ct_tensor *ct__adaptive_avg_pool2d_backward(const ct_tensor *grad, const ct__pool2d_geom *geom, ct_shape input_shape) {
    const ct_tensor *g;
    ct_tensor *gx;
    const ct_pool_kernels *k;
    if (!CT__CHECK("adaptive_avg_pool2d_backward", grad) || !(k = pool_kernels("adaptive_avg_pool2d_backward", grad)) ||
        !backward_buffers(grad, input_shape, &g, &gx))
        return NULL;
    return k->adaptive_backward(geom, gx->dtype, ct__device(grad).index, ct__data(g), ct__data(gx)) ? gx : NULL;
}

/* ---- 1d checks ----------------------------------------------------------------------------- */

/* PyTorch's max_pool1d checks (check_max_pool1d); an output of width 0 is allowed there. */
bool ct__max_pool1d_check(const ct_tensor *x, ct_shape kernel_size, ct_max_pool_opts o, int64_t *out_len) {
    const char *op = "max_pool1d";
    if (!CT__CHECK(op, x)) return false;
    bool valid = x->ndim == 2 || x->ndim == 3;
    for (int d = x->ndim - 2; valid && d < x->ndim; d++) valid = x->shape[d] != 0;
    if (!valid)
        return ct_error(CT_ERR_SHAPE,
                        "max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size for input, "
                        "but got:%s",
                        ct__shape_str(x->shape, x->ndim)),
               false;
    if (kernel_size.ndim != 1)
        return ct_error(
                   CT_ERR_ARG,
                   "max_pool1d() kernel_size must be an int, list of ints or tuple of ints of size 1 but got size %d",
                   kernel_size.ndim),
               false;
    if (o.stride.ndim > 1)
        return ct_error(CT_ERR_ARG,
                        "max_pool1d() stride must be None, an int, list of ints, or tuple of ints of size 1 but got "
                        "size %d",
                        o.stride.ndim),
               false;
    if (o.padding.ndim > 1)
        return ct_error(CT_ERR_ARG,
                        "max_pool1d() padding must be an int, list of ints, or tuple of ints of size 1 but got size %d",
                        o.padding.ndim),
               false;
    if (o.dilation.ndim > 1)
        return ct_error(CT_ERR_ARG,
                        "max_pool1d() dilation must be an int, list of ints or tuple of ints of size 1 but got size %d",
                        o.dilation.ndim),
               false;
    int64_t k = kernel_size.d[0], s = o.stride.ndim ? o.stride.d[0] : k, p = o.padding.ndim ? o.padding.d[0] : 0,
            d = o.dilation.ndim ? o.dilation.d[0] : 1;
    if (k <= 0)
        return ct_error(CT_ERR_ARG, "max_pool1d() kernel_size must be greater than zero, but got %lld", (long long)k),
               false;
    if (s <= 0)
        return ct_error(CT_ERR_ARG, "max_pool1d() stride must be greater than zero, but got %lld", (long long)s), false;
    if (p < 0)
        return ct_error(CT_ERR_ARG, "max_pool1d() padding must be non-negative, but got %lld", (long long)p), false;
    if (p > k / 2)
        return ct_error(CT_ERR_ARG,
                        "max_pool1d() padding should be at most half of kernel size, but got padding=%lld and "
                        "kernel_size=%lld",
                        (long long)p, (long long)k),
               false;
    if (d <= 0)
        return ct_error(CT_ERR_ARG, "max_pool1d() dilation must be greater than zero, but got %lld", (long long)d),
               false;
    int64_t ow;
    if (!output_size(op, x->shape[x->ndim - 1], k, p, s, d, o.ceil_mode, &ow)) return false;
    if (ow < 0) return ct_error(CT_ERR_SHAPE, "max_pool1d() Invalid computed output size: %lld", (long long)ow), false;
    *out_len = ow;
    return true;
}

/* PyTorch's avg_pool1d: a 2-d or 3-d input and one-value sizes; the rest is avg_pool2d's. */
bool ct__avg_pool1d_check(const ct_tensor *x, ct_shape kernel_size, ct_avg_pool_opts o) {
    const char *op = "avg_pool1d";
    if (!CT__CHECK(op, x)) return false;
    if (x->ndim != 2 && x->ndim != 3)
        return ct_error(CT_ERR_SHAPE,
                        "avg_pool1d: Expected 2 to 3 dimensions, but got %d-dimensional tensor for argument #1 'self' "
                        "(while checking arguments for avg_pool1d)",
                        x->ndim),
               false;
    if (kernel_size.ndim != 1 || o.stride.ndim > 1 || o.padding.ndim > 1)
        return ct_error(CT_ERR_ARG, "avg_pool1d: kernel_size, stride and padding must be an int or a tuple of one int"),
               false;
    return true;
}
