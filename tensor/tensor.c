/* The tensor object: construction of results and views, and read-only inspection. */
#include "device_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

_Thread_local bool ct__inference_mode;

static void tensor_destroy(ct_object *obj) {
    ct_tensor *t = (ct_tensor *)obj;
    /* Nodes and autograd metadata are objects too; the tensor holds one reference to each. */
    ct_release(t->grad_fn);
    ct_release(t->autograd);
    ct_release(t->view_base);
    ct__storage_release(t->storage);
    free(t);
}

static const ct_object_type tensor_type = {"tensor", tensor_destroy};

int64_t ct__numel(const int64_t *shape, int ndim) {
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= shape[i];
    return n;
}

void ct__contiguous_strides(const int64_t *shape, int ndim, int64_t *stride) {
    int64_t s = 1;
    for (int i = ndim - 1; i >= 0; i--) {
        stride[i] = s;
        s *= shape[i] > 1 ? shape[i] : 1;
    }
}

/* A header with one reference owned by the caller (in no scope). */
static ct_tensor *tensor_alloc_unscoped(ct_storage *storage, const int64_t *shape, const int64_t *stride, int ndim,
                                        int64_t offset, ct_dtype dtype) {
    ct_tensor *t = malloc(sizeof *t);
    if (!t) return ct_error(CT_ERR_OOM, "CPU out of memory allocating a tensor header");
    ct_object_init(&t->header, &tensor_type);
    t->storage = storage;
    t->offset = offset;
    t->ndim = ndim;
    t->dtype = dtype;
    t->wrapped_number = false;
    t->requires_grad = false;
    t->view_base = NULL;
    t->is_inference = ct__inference_mode;
    t->grad_fn = NULL;
    t->autograd = NULL;
    if (ndim) {
        memcpy(t->shape, shape, (size_t)ndim * sizeof *shape);
        memcpy(t->stride, stride, (size_t)ndim * sizeof *stride);
    }
    return t;
}

static ct_tensor *tensor_alloc(ct_storage *storage, const int64_t *shape, const int64_t *stride, int ndim,
                               int64_t offset, ct_dtype dtype) {
    return ct_scope_own(tensor_alloc_unscoped(storage, shape, stride, ndim, offset, dtype));
}

ct_tensor *ct__tensor_from_storage(ct_storage *s, const int64_t *shape, int ndim, ct_dtype dtype) {
    int64_t stride[CT_MAX_DIMS];
    ct__contiguous_strides(shape, ndim, stride);
    ct_tensor *t = tensor_alloc(s, shape, stride, ndim, 0, dtype);
    if (!t) ct__storage_release(s);
    return t;
}

ct_tensor *ct__tensor_new(const int64_t *shape, int ndim, ct_dtype dtype, ct_device device) {
    int64_t numel = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] && numel > INT64_MAX / shape[i])
            return ct_error(CT_ERR_OOM, "tensor of shape %s is too large to address", ct__shape_str(shape, ndim));
        numel *= shape[i];
    }
    size_t nbytes = (size_t)numel * ct_dtype_size(dtype);
    if (numel && nbytes / (size_t)numel != ct_dtype_size(dtype))
        return ct_error(CT_ERR_OOM, "tensor of shape %s is too large to address", ct__shape_str(shape, ndim));
    ct_storage *s = ct__storage_new(nbytes, device);
    if (!s) return NULL;
    int64_t stride[CT_MAX_DIMS];
    ct__contiguous_strides(shape, ndim, stride);
    ct_tensor *t = tensor_alloc(s, shape, stride, ndim, 0, dtype);
    if (!t) ct__storage_release(s);
    return t;
}

ct_tensor *ct__tensor_view(const ct_tensor *base, const int64_t *shape, const int64_t *stride, int ndim,
                           int64_t offset) {
    atomic_fetch_add_explicit(&base->storage->refcount, 1, memory_order_relaxed);
    ct_tensor *t = tensor_alloc(base->storage, shape, stride, ndim, offset, base->dtype);
    if (!t) ct__storage_release(base->storage);
    else t->view_base = ct_retain(base->view_base ? base->view_base : (ct_tensor *)base);
    return t;
}

ct_tensor *ct__tensor_alias_unscoped(const ct_tensor *t) {
    atomic_fetch_add_explicit(&t->storage->refcount, 1, memory_order_relaxed);
    ct_tensor *a = tensor_alloc_unscoped(t->storage, t->shape, t->stride, t->ndim, t->offset, t->dtype);
    if (!a) {
        ct__storage_release(t->storage);
        return NULL;
    }
    a->wrapped_number = t->wrapped_number;
    return a;
}

void ct__tensor_set_data(ct_tensor *t, const ct_tensor *src) {
    atomic_fetch_add_explicit(&src->storage->refcount, 1, memory_order_relaxed);
    ct__storage_release(t->storage);
    t->storage = src->storage;
    t->offset = src->offset;
    t->ndim = src->ndim;
    t->dtype = src->dtype;
    memcpy(t->shape, src->shape, sizeof t->shape);
    memcpy(t->stride, src->stride, sizeof t->stride);
    ct_release(t->view_base); /* t now stands for src's data as its own tensor */
    t->view_base = NULL;
}

ct_tensor_list ct_tensor_list_copy(ct_tensor_list list) {
    ct_tensor_list out = {0, NULL};
    if (list.n <= 0) return out;
    ct_tensor **items = ct_scope_alloc((size_t)list.n * sizeof *items);
    if (!items) return out;
    memcpy(items, list.items, (size_t)list.n * sizeof *items);
    out.n = list.n;
    out.items = items;
    return out;
}

bool ct__is_contiguous(const ct_tensor *t) {
    int64_t expected = 1;
    for (int i = t->ndim - 1; i >= 0; i--) {
        if (t->shape[i] == 1) continue; /* any stride is fine for size-1 dims */
        if (t->shape[i] == 0) return true;
        if (t->stride[i] != expected) return false;
        expected *= t->shape[i];
    }
    return true;
}

/* ---- inspection ---- */

#define CHECK_OR(t, fallback, fn)                                                                \
    do {                                                                                           \
        if (!(t)) {                                                                                \
            ct_error(CT_ERR_NULL, fn ": tensor is NULL (did an earlier call fail?)");              \
            return fallback;                                                                       \
        }                                                                                          \
    } while (0)

int ct_ndim(const ct_tensor *t) {
    CHECK_OR(t, -1, "ndim");
    return t->ndim;
}

int64_t ct_size(const ct_tensor *t, int dim) {
    CHECK_OR(t, -1, "size");
    int d = ct__wrap_dim("size", dim, t->ndim);
    if (d < 0) return -1;
    return t->ndim ? t->shape[d] : 1;
}

int64_t ct_stride(const ct_tensor *t, int dim) {
    CHECK_OR(t, -1, "stride");
    int d = ct__wrap_dim("stride", dim, t->ndim);
    if (d < 0) return -1;
    return t->ndim ? t->stride[d] : 1;
}

ct_shape ct_shape_of(const ct_tensor *t) {
    ct_shape s = {0};
    CHECK_OR(t, s, "shape");
    s.ndim = t->ndim;
    memcpy(s.d, t->shape, (size_t)t->ndim * sizeof *s.d);
    return s;
}

ct_shape ct_strides_of(const ct_tensor *t) {
    ct_shape s = {0};
    CHECK_OR(t, s, "strides");
    s.ndim = t->ndim;
    memcpy(s.d, t->stride, (size_t)t->ndim * sizeof *s.d);
    return s;
}

int64_t ct_numel(const ct_tensor *t) {
    CHECK_OR(t, -1, "numel");
    return ct__numel(t->shape, t->ndim);
}

int64_t ct_storage_offset(const ct_tensor *t) {
    CHECK_OR(t, -1, "storage_offset");
    return t->offset;
}

ct_dtype ct_dtype_of(const ct_tensor *t) {
    CHECK_OR(t, CT_DTYPE_DEFAULT, "dtype");
    return t->dtype;
}

ct_device ct_device_of(const ct_tensor *t) {
    CHECK_OR(t, CT_DEVICE_DEFAULT, "device");
    return t->storage->device;
}

bool ct_is_contiguous(const ct_tensor *t) {
    CHECK_OR(t, false, "is_contiguous");
    return ct__is_contiguous(t);
}

const void *ct_storage_id(const ct_tensor *t) {
    CHECK_OR(t, NULL, "storage_id");
    return t->storage;
}

bool ct_shares_storage(const ct_tensor *a, const ct_tensor *b) { return a && b && a->storage == b->storage; }

void *ct_data_ptr(const ct_tensor *t) {
    CHECK_OR(t, NULL, "data_ptr");
    if (!ct__is_cpu(t))
        return ct_error(CT_ERR_DEVICE, "data_ptr: tensor is on %s; copy it to the CPU first (ct_to(t, CT_CPU))",
                        ct_device_name(ct__device(t)));
    return ct__data(t);
}

double ct_get(const ct_tensor *t, ct_shape index) {
    CHECK_OR(t, NAN, "get");
    if (index.ndim != t->ndim) {
        ct_error(CT_ERR_INDEX, "get: expected an index of %d dimension%s for a tensor of shape %s, got %d", t->ndim,
                 t->ndim == 1 ? "" : "s", ct__shape_str(t->shape, t->ndim), index.ndim);
        return NAN;
    }
    for (int i = 0; i < t->ndim; i++) {
        int64_t k = index.d[i] < 0 ? index.d[i] + t->shape[i] : index.d[i];
        if (k < 0 || k >= t->shape[i]) {
            ct_error(CT_ERR_INDEX, "get: index %lld is out of bounds for dimension %d with size %lld",
                     (long long)index.d[i], i, (long long)t->shape[i]);
            return NAN;
        }
        index.d[i] = k;
    }
    int64_t offset = t->offset; /* of the element, in elements */
    for (int i = 0; i < t->ndim; i++) offset += index.d[i] * t->stride[i];
    if (ct__is_cpu(t))
        return ct__load_f64((char *)t->storage->data + offset * (int64_t)ct_dtype_size(t->dtype), t->dtype);
    /* Device memory: bring over just this element, as a 0-d view. */
    double v = NAN;
    CT_SCOPE {
        ct_tensor *one = ct__to(ct__tensor_view(t, NULL, NULL, 0, offset), CT_CPU);
        if (one) v = ct__load_f64(ct__data(one), one->dtype);
    }
    return v;
}

double ct_item(const ct_tensor *t) {
    CHECK_OR(t, NAN, "item");
    int64_t n = ct__numel(t->shape, t->ndim);
    if (n != 1) {
        ct_error(CT_ERR_SHAPE, "item: a Tensor with %lld elements cannot be converted to Scalar", (long long)n);
        return NAN;
    }
    ct_shape zero = {.ndim = t->ndim};
    return ct_get(t, zero);
}

bool ct_copy_to_f64(const ct_tensor *t, double *out, int64_t n) {
    CHECK_OR(t, false, "copy_to_f64");
    int64_t numel = ct__numel(t->shape, t->ndim);
    if (n < numel) {
        ct_error(CT_ERR_ARG, "copy_to_f64: output holds %lld values but the tensor has %lld", (long long)n,
                 (long long)numel);
        return false;
    }
    bool ok = false;
    CT_SCOPE {
        ct_tensor *c = ct__to(t, CT_CPU);
        c = c ? ct__contiguous_as(c, CT_F64) : NULL;
        if (c) {
            memcpy(out, ct__data(c), (size_t)numel * sizeof *out);
            ok = true;
        }
    }
    return ok;
}
