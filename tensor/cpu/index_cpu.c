/* CPU indexing kernels: the take/put loops of index_impl.h through the strided iterator, index
 * bounds checks, and nonzero. */
#include "../index_impl.h"
#include "../iter_impl.h"

#include <stdatomic.h>
#include <string.h>

/* ---- take: out[i] = src[i + idx[i] * step]; elements are moved as bits of their size ---- */

#define TAKE_LOOP(T, bits, IT, iname)                                                                   \
    static void take_##bits##_##iname(char **data, const int64_t *strides, int64_t n, void *ctx) {        \
        int64_t step = *(const int64_t *)ctx; /* bytes */                                                \
        const char *s = data[1];                                                                           \
        if (strides[2] == 0 && strides[0] == sizeof(T) && strides[1] == sizeof(T)) { /* one dense run */   \
            memcpy(data[0], s + (int64_t)*(const IT *)data[2] * step, (size_t)n * sizeof(T));              \
        } else if (strides[0] == sizeof(T) && strides[2] == sizeof(IT)) {                                  \
            T *restrict o = (T *)data[0];                                                                  \
            const IT *restrict x = (const IT *)data[2];                                                    \
            for (int64_t i = 0; i < n; i++) o[i] = *(const T *)(s + i * strides[1] + (int64_t)x[i] * step); \
        } else {                                                                                           \
            char *o = data[0];                                                                             \
            const char *x = data[2];                                                                       \
            for (int64_t i = 0; i < n; i++, o += strides[0], s += strides[1], x += strides[2])            \
                *(T *)o = *(const T *)(s + (int64_t)*(const IT *)x * step);                                \
        }                                                                                                  \
    }
#define TAKE_LOOPS(T, bits) TAKE_LOOP(T, bits, int32_t, i32) TAKE_LOOP(T, bits, int64_t, i64)
TAKE_LOOPS(uint8_t, 8)
TAKE_LOOPS(uint16_t, 16)
TAKE_LOOPS(uint32_t, 32)
TAKE_LOOPS(uint64_t, 64)

static ct_loop_fn take_loop(size_t elem_size, ct_dtype idx_dtype) {
    bool i32 = idx_dtype == CT_I32;
    switch (elem_size) {
    case 1: return i32 ? take_8_i32 : take_8_i64;
    case 2: return i32 ? take_16_i32 : take_16_i64;
    case 4: return i32 ? take_32_i32 : take_32_i64;
    default: return i32 ? take_64_i32 : take_64_i64;
    }
}

/* Iteration over (out, src, idx) of the loop's shape. */
static void loop_iter(ct_iter *it, const ct_index_loop *l) {
    size_t esz = ct_dtype_size(l->dtype), isz = ct_dtype_size(l->idx_dtype);
    char *data[3] = {l->out.data, l->src.data, l->idx.data};
    const int64_t *strides[3] = {l->out.stride, l->src.stride, l->idx.stride};
    ct_iter_init_raw(it, 3, data, strides, (const size_t[]){esz, esz, isz}, l->shape, l->ndim);
}

static bool cpu_take(const ct_index_loop *l) {
    ct_iter it;
    loop_iter(&it, l);
    int64_t step = l->step * (int64_t)ct_dtype_size(l->dtype);
    ct_iter_run(&it, take_loop(ct_dtype_size(l->dtype), l->idx_dtype), &step, 0);
    return true;
}

/* ---- put: dst[i + idx[i] * step] = or += src[i] ---- */

#define ADD_b8(a, b) ((a) || (b))
#define ADD_u8(a, b) ((uint8_t)((a) + (b)))
#define ADD_i32(a, b) ((int32_t)((uint32_t)(a) + (uint32_t)(b))) /* wraps like PyTorch, no UB */
#define ADD_i64(a, b) ((int64_t)((uint64_t)(a) + (uint64_t)(b)))
#define ADD_f16(a, b) ct_float_to_half(ct_half_to_float(a) + ct_half_to_float(b))
#define ADD_bf16(a, b) ct_float_to_bf16(ct_bf16_to_float(a) + ct_bf16_to_float(b))
#define ADD_f32(a, b) ((a) + (b))
#define ADD_f64(a, b) ((a) + (b))

#define PUT_LOOP(T, name, IT, iname, accumulate, OP)                                                   \
    static void put_##accumulate##_##name##_##iname(char **data, const int64_t *strides, int64_t n,      \
                                                      void *ctx) {                                        \
        int64_t step = *(const int64_t *)ctx;                                                             \
        char *d = data[0];                                                                                \
        const char *s = data[1], *x = data[2];                                                            \
        for (int64_t i = 0; i < n; i++, d += strides[0], s += strides[1], x += strides[2]) {             \
            T *p = (T *)(d + (int64_t)*(const IT *)x * step);                                             \
            *p = OP(*p, *(const T *)s);                                                                   \
        }                                                                                                 \
    }
#define SET_OP(a, b) (b)
#define PUT_LOOPS(E, T, name)                                                                            \
    PUT_LOOP(T, name, int32_t, i32, set, SET_OP) PUT_LOOP(T, name, int64_t, i64, set, SET_OP)             \
    PUT_LOOP(T, name, int32_t, i32, add, ADD_##name) PUT_LOOP(T, name, int64_t, i64, add, ADD_##name)
CT_FOR_EACH_DTYPE(PUT_LOOPS)

#define PUT_ENTRY(E, T, name)                                                                                          \
    [E] = {{put_set_##name##_i32, put_set_##name##_i64}, {put_add_##name##_i32, put_add_##name##_i64}},
static const ct_loop_fn put_table[CT_NUM_DTYPES][2][2] = {CT_FOR_EACH_DTYPE(PUT_ENTRY)};

static bool cpu_put(const ct_index_loop *l, bool accumulate) {
    ct_iter it;
    loop_iter(&it, l); /* destination first, so the dims follow its layout */
    int64_t step = l->step * (int64_t)ct_dtype_size(l->dtype);
    ct_loop_fn fn = put_table[l->dtype][accumulate ? 1 : 0][l->idx_dtype == CT_I32 ? 0 : 1];
    ct_iter_run_range(&it, fn, &step, 0, it.numel); /* one thread: a fixed order for duplicates */
    return true;
}

/* ---- bounds ---- */

typedef struct bounds_ctx {
    int64_t lo, size, stride;
    atomic_bool bad;
} bounds_ctx;

#define BOUNDS_LOOP(IT, iname)                                                                           \
    static void bounds_##iname(char **data, const int64_t *strides, int64_t n, void *vctx) {             \
        bounds_ctx *ctx = vctx;                                                                           \
        const char *x = data[0];                                                                          \
        bool bad = false;                                                                                 \
        for (int64_t i = 0; i < n; i++, x += strides[0]) {                                                \
            int64_t v = *(const IT *)x;                                                                   \
            bad |= v < ctx->lo || v >= ctx->size;                                                         \
        }                                                                                                 \
        if (bad) atomic_store_explicit(&ctx->bad, true, memory_order_relaxed);                            \
    }                                                                                                     \
    static void offsets_##iname(char **data, const int64_t *strides, int64_t n, void *vctx) {            \
        bounds_ctx *ctx = vctx;                                                                           \
        char *o = data[0];                                                                                \
        const char *x = data[1];                                                                          \
        bool bad = false;                                                                                 \
        for (int64_t i = 0; i < n; i++, o += strides[0], x += strides[1]) {                               \
            int64_t v = *(const IT *)x;                                                                   \
            v += v < 0 ? ctx->size : 0;                                                                   \
            bad |= v < 0 || v >= ctx->size;                                                               \
            *(int64_t *)o += v * ctx->stride;                                                             \
        }                                                                                                 \
        if (bad) atomic_store_explicit(&ctx->bad, true, memory_order_relaxed);                            \
    }
BOUNDS_LOOP(int32_t, i32)
BOUNDS_LOOP(int64_t, i64)

/* The first value of idx outside [lo, size) in row-major order (only called once one is known). */
static int64_t first_bad(const ct_tensor *idx, int64_t lo, int64_t size) {
    int64_t found = 0;
    CT_SCOPE {
        ct_tensor *dense = ct__contiguous_as(idx, CT_I64);
        if (!dense) break;
        const int64_t *v = (const int64_t *)ct__data(dense);
        int64_t n = ct__numel(dense->shape, dense->ndim);
        for (int64_t i = 0; i < n; i++)
            if (v[i] < lo || v[i] >= size) {
                found = v[i];
                break;
            }
    }
    return found;
}

static void idx_shape(const ct_tensor *t, ct_shape *shape) {
    shape->ndim = t->ndim;
    memcpy(shape->d, t->shape, (size_t)t->ndim * sizeof *shape->d);
}

static bool cpu_check_bounds(const ct_tensor *idx, int64_t size, bool wrap, int64_t *bad) {
    bounds_ctx ctx = {.lo = wrap ? -size : 0, .size = size};
    atomic_init(&ctx.bad, false);
    ct_shape shape;
    idx_shape(idx, &shape);
    ct_iter it;
    ct_iter_init(&it, 1, (const ct_tensor *const[]){idx}, &shape);
    ct_iter_run(&it, idx->dtype == CT_I32 ? bounds_i32 : bounds_i64, &ctx, 0);
    if (!atomic_load(&ctx.bad)) return true;
    *bad = first_bad(idx, ctx.lo, size);
    return false;
}

static bool cpu_add_offsets(ct_tensor *offsets, const ct_tensor *idx, int64_t size, int64_t stride, int64_t *bad) {
    bounds_ctx ctx = {.lo = -size, .size = size, .stride = stride};
    atomic_init(&ctx.bad, false);
    ct_shape shape;
    idx_shape(offsets, &shape);
    ct_iter it;
    ct_iter_init(&it, 2, (const ct_tensor *const[]){offsets, idx}, &shape);
    ct_iter_run(&it, idx->dtype == CT_I32 ? offsets_i32 : offsets_i64, &ctx, 0);
    if (!atomic_load(&ctx.bad)) return true;
    *bad = first_bad(idx, -size, size);
    return false;
}

/* ---- nonzero ---- */

static ct_tensor *cpu_nonzero(const ct_tensor *t) {
    ct_tensor *out = NULL;
    ct_scope_begin();
    ct_tensor *mask = ct__contiguous_as(t, CT_BOOL); /* v != 0, NaN included, as PyTorch */
    if (mask) {
        const bool *m = (const bool *)ct__data(mask);
        int64_t numel = ct__numel(t->shape, t->ndim), count = 0;
        for (int64_t i = 0; i < numel; i++) count += m[i];
        out = ct__tensor_new((const int64_t[]){count, t->ndim}, 2, CT_I64, CT_CPU);
        if (out && count > 0) {
            int64_t *o = (int64_t *)ct__data(out);
            int64_t coord[CT_MAX_DIMS] = {0};
            for (int64_t i = 0; i < numel; i++) {
                if (m[i]) {
                    memcpy(o, coord, (size_t)t->ndim * sizeof *o);
                    o += t->ndim;
                }
                for (int d = t->ndim - 1; d >= 0 && ++coord[d] == t->shape[d]; d--) coord[d] = 0;
            }
        }
        ct_keep(out);
    }
    ct_scope_end();
    return out;
}

const ct_index_kernels ct__cpu_index_kernels = {
    .take = cpu_take,
    .put = cpu_put,
    .check_bounds = cpu_check_bounds,
    .add_offsets = cpu_add_offsets,
    .nonzero = cpu_nonzero,
};
