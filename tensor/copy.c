/* copy_, clone, contiguous, to(dtype), to(device): every data movement goes through here. */
#include "cpu/copy_cpu.h"
#include "device_impl.h"
#ifdef CT_HAVE_CUDA
#include "cuda/cuda_glue.h"
#endif

#include <string.h>

static bool same_layout_dense(const ct_tensor *a, const ct_tensor *b) {
    return ct__same_shape(a->shape, a->ndim, b->shape, b->ndim) &&
           ct__is_contiguous(a) && ct__is_contiguous(b);
}

bool ct__copy_into(const char *op, ct_tensor *dst, const ct_tensor *src) {
    /* src must broadcast to exactly dst's shape. */
    ct_shape out;
    if (!ct__broadcast_shape(op, 2, (const ct_tensor *const[]){dst, src}, &out)) return false;
    if (!ct__same_shape(out.d, out.ndim, dst->shape, dst->ndim)) {
        ct_error(CT_ERR_SHAPE, "%s: source of shape %s cannot be broadcast to destination shape %s", op,
                 ct__shape_str(src->shape, src->ndim), ct__shape_str(dst->shape, dst->ndim));
        return false;
    }
    ct_device dd = ct__device(dst), sd = ct__device(src);
    if (dd.type == CT_DEVICE_CPU && sd.type == CT_DEVICE_CPU) {
        ct__cpu_copy(dst, src);
        return true;
    }
    /* Byte copies between devices (or within one GPU) of dense, equally shaped, same-dtype data. */
    if (dst->dtype == src->dtype && same_layout_dense(dst, src)) {
        size_t n = (size_t)ct__numel(dst->shape, dst->ndim) * ct_dtype_size(dst->dtype);
        const ct_device_backend *b = ct__device_backend(dd.type != CT_DEVICE_CPU ? dd : sd);
        return n == 0 || b->copy(ct__data(dst), dd, ct__data(src), sd, n);
    }
#ifdef CT_HAVE_CUDA
    /* Within one GPU: the strided conversion kernel. */
    if (ct_device_equal(dd, sd)) return ct__cuda_copy_tensors(op, dst, src);
#endif
    if (ct_device_equal(dd, sd)) {
        ct_error(CT_ERR_UNSUPPORTED, "%s: copies on %s are not implemented", op, ct_device_name(dd));
        return false;
    }
    /* Across devices: make src dense on its own device, move its bytes to a same-shaped tensor on
     * dst's device (straight into dst when that is dense of the same dtype), then let dst's device
     * convert and scatter it into dst's layout. */
    bool ok = false;
    CT_SCOPE {
        const ct_tensor *dense = ct__contiguous_as(src, src->dtype);
        if (!dense) break;
        if (dst->dtype == src->dtype && same_layout_dense(dst, dense)) {
            ok = ct__copy_into(op, dst, dense);
            break;
        }
        ct_tensor *moved = ct__tensor_new(src->shape, src->ndim, src->dtype, dd);
        ok = moved && ct__copy_into(op, moved, dense) && ct__copy_into(op, dst, moved);
    }
    return ok;
}

ct_tensor *ct__copy_(ct_tensor *dst, const ct_tensor *src) {
    if (!CT__CHECK("copy_", dst, src) || !ct__check_writable("copy_", dst)) return NULL;
    if (!ct__copy_into("copy_", dst, src)) return NULL;
    ct__bump_version(dst);
    return dst;
}

ct_tensor *ct__contiguous_as(const ct_tensor *t, ct_dtype dtype) {
    if (t->dtype == dtype && ct__is_contiguous(t)) return ct_scope_own(ct_retain((ct_tensor *)t));
    ct_tensor *out = ct__tensor_new(t->shape, t->ndim, dtype, ct__device(t));
    if (out && !ct__copy_into("contiguous", out, t)) return NULL;
    return out;
}

ct_tensor *ct__contiguous(const ct_tensor *t) {
    if (!CT__CHECK("contiguous", t)) return NULL;
    return ct__contiguous_as(t, t->dtype);
}

ct_tensor *ct__clone(const ct_tensor *t) {
    if (!CT__CHECK("clone", t)) return NULL;
    ct_tensor *out = ct__tensor_new(t->shape, t->ndim, t->dtype, ct__device(t));
    if (out && !ct__copy_into("clone", out, t)) return NULL;
    return out;
}

ct_tensor *ct__to_dtype(const ct_tensor *t, ct_dtype dtype) {
    if (!CT__CHECK("to", t)) return NULL;
    if (!ct__dtype_valid(dtype)) return ct_error(CT_ERR_DTYPE, "to: invalid dtype %d", (int)dtype);
    if (t->dtype == dtype) return ct_scope_own(ct_retain((ct_tensor *)t));
    ct_tensor *out = ct__tensor_new(t->shape, t->ndim, dtype, ct__device(t));
    if (out && !ct__copy_into("to", out, t)) return NULL;
    return out;
}

ct_tensor *ct__to(const ct_tensor *t, ct_device device) {
    if (!CT__CHECK("to", t)) return NULL;
    if (ct_device_equal(ct__device(t), device)) return ct_scope_own(ct_retain((ct_tensor *)t));
    if (!ct__check_device("to", device)) return NULL;
    ct_tensor *out = ct__tensor_new(t->shape, t->ndim, t->dtype, device);
    if (out && !ct__copy_into("to", out, t)) return NULL;
    return out;
}
