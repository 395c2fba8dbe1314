/* The CUDA entry of the indexing table (index_impl.h): loops and tensors turned into
 * index_cuda.h's plain arguments. Bounds checks run on the device and report the first bad
 * index in row-major order, as the CPU's. */
#include "../index_impl.h"
#include "cuda_impl.h"
#include "index_cuda.h"

#include <string.h>

_Static_assert(CT__CUDA_IDX_DIMS == CT_MAX_DIMS, "one dim limit");

/* The device that owns p (the loops carry pointers only). */
static int device_of(const void *p) {
    struct cudaPointerAttributes a;
    if (cudaPointerGetAttributes(&a, p) != cudaSuccess) {
        (void)cudaGetLastError();
        return 0;
    }
    return a.device;
}

static ct__cuda_index_loop from_loop(const ct_index_loop *l) {
    ct__cuda_index_loop c;
    memset(&c, 0, sizeof c);
    c.ndim = l->ndim;
    c.numel = ct__numel(l->shape, l->ndim);
    size_t n = (size_t)l->ndim * sizeof(int64_t);
    memcpy(c.shape, l->shape, n);
    memcpy(c.out_stride, l->out.stride, n);
    memcpy(c.src_stride, l->src.stride, n);
    memcpy(c.idx_stride, l->idx.stride, n);
    c.out = l->out.data;
    c.src = l->src.data;
    c.idx = l->idx.data;
    c.elem_size = (int)ct_dtype_size(l->dtype);
    c.dtype = (int)l->dtype;
    c.idx_is_i32 = l->idx_dtype == CT_I32;
    c.step = l->step;
    return c;
}

static bool cuda_take(const ct_index_loop *l) {
    ct__cuda_index_loop c = from_loop(l);
    int dev = device_of(l->out.data);
    return ct__cuda_check("index", dev, ct__cuda_index_take(&c, ct__cuda_stream(dev)));
}

static bool cuda_put(const ct_index_loop *l, bool accumulate) {
    ct__cuda_index_loop c = from_loop(l);
    int dev = device_of(l->out.data);
    return ct__cuda_check("index_put", dev, ct__cuda_index_put(&c, accumulate, ct__cuda_stream(dev)));
}

/* A loop over idx alone (with strides broadcast to `shape` when given). */
static ct__cuda_index_loop idx_loop(const ct_tensor *idx, const ct_tensor *shape_of) {
    ct__cuda_index_loop c;
    memset(&c, 0, sizeof c);
    const ct_tensor *s = shape_of ? shape_of : idx;
    c.ndim = s->ndim;
    c.numel = ct__numel(s->shape, s->ndim);
    memcpy(c.shape, s->shape, (size_t)s->ndim * sizeof(int64_t));
    if (shape_of) {
        ct_shape bs = {.ndim = s->ndim};
        memcpy(bs.d, s->shape, (size_t)s->ndim * sizeof(int64_t));
        ct__broadcast_strides(idx, &bs, c.idx_stride);
    } else {
        memcpy(c.idx_stride, idx->stride, (size_t)idx->ndim * sizeof(int64_t));
    }
    c.idx = ct__data(idx);
    c.idx_is_i32 = idx->dtype == CT_I32;
    return c;
}

/* Runs the bounds kernel; *first = -1 when all are in range. */
static bool run_bounds(const char *op, ct__cuda_index_loop *c, int dev, int64_t lo, int64_t size, int64_t *offsets,
                       int64_t mul, int64_t *first) {
    void *flag = ct__cuda_alloc(8, dev);
    if (!flag) return false;
    bool ok = ct__cuda_check(op, dev, ct__cuda_index_bounds(c, lo, size, offsets, mul, flag, first, ct__cuda_stream(dev)));
    ct__cuda_free(flag, dev);
    return ok;
}

/* The value at row-major position pos of idx, read back from the device. */
static int64_t value_at(const ct_tensor *idx, int64_t pos) {
    int64_t off = 0;
    for (int d = idx->ndim - 1; d >= 0; d--) {
        off += (pos % idx->shape[d]) * idx->stride[d];
        pos /= idx->shape[d];
    }
    size_t es = ct_dtype_size(idx->dtype);
    int64_t v64 = 0;
    int32_t v32 = 0;
    cudaMemcpy(idx->dtype == CT_I32 ? (void *)&v32 : (void *)&v64, ct__data(idx) + off * (int64_t)es, es,
               cudaMemcpyDeviceToHost);
    return idx->dtype == CT_I32 ? v32 : v64;
}

static bool cuda_check_bounds(const ct_tensor *idx, int64_t size, bool wrap, int64_t *bad) {
    ct__cuda_index_loop c = idx_loop(idx, NULL);
    int dev = ct__device(idx).index;
    int64_t first;
    if (!run_bounds("index", &c, dev, wrap ? -size : 0, size, NULL, 0, &first)) {
        *bad = 0;
        return false;
    }
    if (first < 0) return true;
    *bad = value_at(idx, first);
    return false;
}

static bool cuda_add_offsets(ct_tensor *offsets, const ct_tensor *idx, int64_t size, int64_t stride, int64_t *bad) {
    ct__cuda_index_loop c = idx_loop(idx, offsets);
    int dev = ct__device(idx).index;
    int64_t first;
    if (!run_bounds("index", &c, dev, -size, size, (int64_t *)ct__data(offsets), stride, &first)) {
        *bad = 0;
        return false;
    }
    if (first < 0) return true;
    /* the first offender in idx's own order, as the CPU names it */
    if (cuda_check_bounds(idx, size, true, bad)) *bad = value_at(idx, 0);
    return false;
}

static ct_tensor *cuda_nonzero(const ct_tensor *t) {
    int dev = ct__device(t).index;
    int64_t numel = ct__numel(t->shape, t->ndim), count = 0;
    if (numel == 0) return ct__tensor_new((const int64_t[]){0, t->ndim}, 2, CT_I64, ct__device(t));
    cudaStream_t s = ct__cuda_stream(dev);
    size_t tmp_bytes = 0;
    int64_t *scan = ct__cuda_alloc((size_t)numel * sizeof(int64_t), dev);
    if (!scan) return NULL;
    void *tmp = NULL;
    ct_tensor *out = NULL;
    if (ct__cuda_check("nonzero", dev,
                       ct__cuda_nonzero_count(ct__data(t), t->shape, t->stride, t->ndim, numel, (int)t->dtype, scan,
                                              NULL, &tmp_bytes, &count, s)) &&
        (tmp = ct__cuda_alloc(tmp_bytes ? tmp_bytes : 1, dev)) &&
        ct__cuda_check("nonzero", dev,
                       ct__cuda_nonzero_count(ct__data(t), t->shape, t->stride, t->ndim, numel, (int)t->dtype, scan,
                                              tmp, &tmp_bytes, &count, s)) &&
        (out = ct__tensor_new((const int64_t[]){count, t->ndim}, 2, CT_I64, ct__device(t))) && count > 0 &&
        !ct__cuda_check("nonzero", dev,
                        ct__cuda_nonzero_write(scan, t->shape, t->ndim, numel, (int64_t *)ct__data(out), s)))
        out = NULL; /* the scope frees it */
    if (tmp) ct__cuda_free(tmp, dev);
    ct__cuda_free(scan, dev);
    return out;
}

const ct_index_kernels ct__cuda_index_kernels = {
    .take = cuda_take,
    .put = cuda_put,
    .check_bounds = cuda_check_bounds,
    .add_offsets = cuda_add_offsets,
    .nonzero = cuda_nonzero,
};
