/* Creation: empty/zeros/ones/full, scalars, from data, arange/linspace/eye, *_like, fill_. */
#include "cpu/copy_cpu.h"
#include "device_impl.h"

#include <math.h>
#include <string.h>

/* fill: operand 0 gets the value, already converted to the dtype's bits in ctx. */
#define FILL_LOOP(T, bits)                                                                         \
    static void fill_##bits(char **data, const int64_t *strides, int64_t n, void *ctx) {           \
        T v;                                                                                        \
        memcpy(&v, ctx, sizeof v);                                                                  \
        if (strides[0] == sizeof(T)) {                                                              \
            T *restrict d = (T *)data[0];                                                           \
            for (int64_t i = 0; i < n; i++) d[i] = v;                                               \
        } else {                                                                                    \
            char *d = data[0];                                                                      \
            for (int64_t i = 0; i < n; i++, d += strides[0]) *(T *)d = v;                           \
        }                                                                                           \
    }
FILL_LOOP(uint8_t, 8)
FILL_LOOP(uint16_t, 16)
FILL_LOOP(uint32_t, 32)
FILL_LOOP(uint64_t, 64)

#ifdef CT_HAVE_CUDA
int ct__cuda_fill(void *data, int64_t n, size_t elem_size, const void *bits, int device);
#endif

static bool fill(const char *op, ct_tensor *t, double value) {
    unsigned char bits[8] = {0};
    ct__store_f64(bits, t->dtype, value);
#ifdef CT_HAVE_CUDA
    if (ct__device(t).type == CT_DEVICE_CUDA && ct__is_contiguous(t)) {
        int err = ct__cuda_fill(ct__data(t), ct__numel(t->shape, t->ndim), ct_dtype_size(t->dtype), bits,
                                ct__device(t).index);
        if (err) ct_error(CT_ERR_DEVICE, "%s: CUDA fill kernel failed on %s (cudaError %d)", op,
                          ct_device_name(ct__device(t)), err);
        return err == 0;
    }
#endif
    if (!ct__is_cpu(t)) {
        /* Strided: one filled device element, broadcast into t's layout by the copy kernel. */
        bool ok = false;
        CT_SCOPE {
            ct_tensor *one = ct__tensor_new(t->shape, 0, t->dtype, ct__device(t)); /* 0-d */
            if (one && fill(op, one, value)) ok = ct__copy_into(op, t, one);
        }
        return ok;
    }
    ct_iter it;
    ct_shape shape = ct_shape_of(t);
    ct_iter_init(&it, 1, (const ct_tensor *const[]){t}, &shape);
    ct_loop_fn loops[] = {fill_8, fill_16, NULL, fill_32, NULL, NULL, NULL, fill_64};
    ct_iter_run(&it, loops[ct_dtype_size(t->dtype) - 1], bits, 0);
    return true;
}

static ct_tensor *new_tensor(const char *op, ct_shape shape, ct_tensor_opts opts, ct_dtype dtype_default) {
    if (!ct__check_shape(op, &shape)) return NULL;
    if (!ct__resolve_opts(op, &opts, dtype_default, CT_CPU)) return NULL;
    return ct__tensor_new(shape.d, shape.ndim, opts.dtype, opts.device);
}

ct_tensor *ct_empty_opt(ct_shape shape, ct_tensor_opts opts) {
    return new_tensor("empty", shape, opts, ct_get_default_dtype());
}

ct_tensor *ct_full_opt(ct_shape shape, double value, ct_tensor_opts opts) {
    ct_tensor *t = new_tensor("full", shape, opts, ct_get_default_dtype());
    return t && fill("full", t, value) ? t : NULL;
}

ct_tensor *ct_zeros_opt(ct_shape shape, ct_tensor_opts opts) { return ct_full_opt(shape, 0, opts); }
ct_tensor *ct_ones_opt(ct_shape shape, ct_tensor_opts opts) { return ct_full_opt(shape, 1, opts); }
ct_tensor *ct_scalar_tensor_opt(double value, ct_tensor_opts opts) { return ct_full_opt(CT_SHAPE(), value, opts); }

static ct_tensor *wrapped(double value, ct_dtype dtype) {
    ct_tensor *t = ct_full(CT_SHAPE(), value, .dtype = dtype);
    if (t) t->wrapped_number = true;
    return t;
}

ct_tensor *ct_scalar(double value) { return wrapped(value, CT_F64); }
ct_tensor *ct_scalar_bool(bool value) { return wrapped(value, CT_BOOL); }
ct_tensor *ct_scalar_int(int64_t value) {
    ct_tensor *t = wrapped(0, CT_I64);
    if (t) *(int64_t *)ct__data(t) = value; /* exact beyond 2^53 */
    return t;
}

ct_tensor *ct_from_data(const void *data, ct_shape shape, ct_dtype dtype) {
    if (!data && ct__numel(shape.d, shape.ndim) > 0) return ct_error(CT_ERR_NULL, "from_data: data is NULL");
    if (!ct__dtype_valid(dtype)) return ct_error(CT_ERR_DTYPE, "from_data: invalid source dtype %d", (int)dtype);
    ct_tensor *t = new_tensor("from_data", shape, (ct_tensor_opts){.dtype = dtype, .device = CT_CPU}, dtype);
    if (!t) return NULL;
    if (ct__numel(shape.d, shape.ndim) == 0) return t;
    ct_storage wrap = {.data = (void *)data, .device = CT_CPU}; /* borrowed, never freed */
    ct_tensor src = {.storage = &wrap, .ndim = shape.ndim, .dtype = dtype};
    memcpy(src.shape, shape.d, (size_t)shape.ndim * sizeof *shape.d);
    ct__contiguous_strides(src.shape, src.ndim, src.stride);
    return ct__copy_into("from_data", t, &src) ? t : NULL;
}

/* Writes f(i) for i in [0, n) into a dense CPU double buffer, then converts into t. */
static bool fill_sequence(const char *op, ct_tensor *t, double start, double step, int64_t n, double end_exact,
                          bool use_end) {
    bool ok = false;
    CT_SCOPE {
        ct_tensor *host = ct__tensor_new((int64_t[]){n}, 1, CT_F64, CT_CPU);
        if (!host) break;
        double *v = (double *)ct__data(host);
        for (int64_t i = 0; i < n; i++) v[i] = start + (double)i * step;
        /* linspace: fill from both ends so the last value is exactly `end` (as PyTorch does). */
        if (use_end)
            for (int64_t i = n / 2; i < n; i++) v[i] = end_exact - (double)(n - 1 - i) * step;
        ok = ct__copy_into(op, t, host);
    }
    return ok;
}

ct_tensor *ct_arange_opt(double start, double end, double step, ct_tensor_opts opts) {
    if (step == 0) return ct_error(CT_ERR_ARG, "arange: step must be nonzero");
    if (!isfinite(start) || !isfinite(end))
        return ct_error(CT_ERR_ARG, "arange: unsupported range: %g -> %g", start, end);
    if ((step > 0 && end < start) || (step < 0 && end > start))
        return ct_error(CT_ERR_ARG, "arange: upper bound and larger bound inconsistent with step sign");
    bool integral = start == floor(start) && end == floor(end) && step == floor(step);
    double count = ceil((end - start) / step);
    if (count > 9.0e15) return ct_error(CT_ERR_ARG, "arange: too many elements (%g)", count);
    int64_t n = (int64_t)count;
    ct_tensor *t = new_tensor("arange", (ct_shape){.ndim = 1, .d = {n}}, opts, integral ? CT_I64 : ct_get_default_dtype());
    return t && fill_sequence("arange", t, start, step, n, 0, false) ? t : NULL;
}

ct_tensor *ct_linspace_opt(double start, double end, int64_t steps, ct_tensor_opts opts) {
    if (steps < 0) return ct_error(CT_ERR_ARG, "linspace: number of steps must be non-negative, got %lld", (long long)steps);
    ct_tensor *t = new_tensor("linspace", (ct_shape){.ndim = 1, .d = {steps}}, opts, ct_get_default_dtype());
    double step = steps > 1 ? (end - start) / (double)(steps - 1) : 0;
    return t && fill_sequence("linspace", t, start, step, steps, end, steps > 1) ? t : NULL;
}

ct_tensor *ct_eye_opt(int64_t n, int64_t m, ct_tensor_opts opts) {
    if (n < 0) return ct_error(CT_ERR_ARG, "eye: n must be greater or equal to 0, got %lld", (long long)n);
    if (m <= 0) m = n;
    ct_tensor *t = ct_zeros_opt((ct_shape){.ndim = 2, .d = {n, m}}, opts);
    if (!t || n == 0) return t;
    /* The diagonal is a strided view with stride m + 1. */
    int64_t k = n < m ? n : m;
    ct_tensor *diag = ct__tensor_view(t, (int64_t[]){k}, (int64_t[]){m + 1}, 1, 0);
    return diag && fill("eye", diag, 1) ? t : NULL;
}

static ct_tensor *like(const char *op, const ct_tensor *t, ct_tensor_opts opts) {
    if (!CT__CHECK(op, t)) return NULL;
    if (!ct__resolve_opts(op, &opts, t->dtype, ct__device(t))) return NULL;
    return ct__tensor_new(t->shape, t->ndim, opts.dtype, opts.device);
}

ct_tensor *ct_empty_like_opt(const ct_tensor *t, ct_tensor_opts opts) { return like("empty_like", t, opts); }
ct_tensor *ct_full_like_opt(const ct_tensor *t, double value, ct_tensor_opts opts) {
    ct_tensor *out = like("full_like", t, opts);
    return out && fill("full_like", out, value) ? out : NULL;
}
ct_tensor *ct_zeros_like_opt(const ct_tensor *t, ct_tensor_opts opts) { return ct_full_like_opt(t, 0, opts); }
ct_tensor *ct_ones_like_opt(const ct_tensor *t, ct_tensor_opts opts) { return ct_full_like_opt(t, 1, opts); }

ct_tensor *ct__fill_(ct_tensor *t, double value) {
    if (!CT__CHECK("fill_", t)) return NULL;
    if (!fill("fill_", t, value)) return NULL;
    ct__bump_version(t);
    return t;
}

ct_tensor *ct__zero_(ct_tensor *t) { return ct_fill_(t, 0); }
