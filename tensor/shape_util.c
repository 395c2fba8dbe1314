/* Validation shared by every op: NULL inputs, dims, devices, shapes, broadcasting. The messages
 * follow PyTorch's wording so that users can search for them. */
#include "device_impl.h"

#include <stdio.h>
#include <string.h>

bool ct__check_not_null(const char *op, int n, const ct_tensor *const *ts) {
    for (int i = 0; i < n; i++) {
        if (!ts[i]) {
            ct_error(CT_ERR_NULL, "%s: argument %d is NULL (did an earlier call fail?)", op, i + 1);
            return false;
        }
    }
    return true;
}

int ct__wrap_dim(const char *op, int dim, int ndim) {
    int n = ndim > 0 ? ndim : 1; /* a 0-d tensor accepts dims -1 and 0 */
    if (dim < -n || dim >= n) {
        ct_error(CT_ERR_INDEX, "%s: Dimension out of range (expected to be in range of [%d, %d], but got %d)", op, -n,
                 n - 1, dim);
        return -1;
    }
    return dim < 0 ? dim + n : dim;
}

bool ct__check_same_device(const char *op, int n, const ct_tensor *const *ts) {
    for (int i = 1; i < n; i++) {
        if (!ct_device_equal(ct__device(ts[0]), ct__device(ts[i]))) {
            ct_error(CT_ERR_DEVICE,
                     "%s: Expected all tensors to be on the same device, but found at least two devices, %s and %s!",
                     op, ct_device_name(ct__device(ts[0])), ct_device_name(ct__device(ts[i])));
            return false;
        }
    }
    return true;
}

void *ct__no_kernel(const char *op, ct_device device) {
    return ct_error(CT_ERR_UNSUPPORTED, "%s: not implemented for %s yet", op, ct_device_name(device));
}

bool ct__check_writable(const char *op, const ct_tensor *t) {
    for (int d = 0; d < t->ndim; d++) {
        if (t->stride[d] == 0 && t->shape[d] > 1) {
            ct_error(CT_ERR_ARG,
                     "%s: unsupported operation: more than one element of the written-to tensor refers to a single "
                     "memory location. Please clone() the tensor before performing the operation.",
                     op);
            return false;
        }
    }
    return true;
}

bool ct__broadcast_shape(const char *op, int n, const ct_tensor *const *ts, ct_shape *out) {
    int ndim = 0;
    for (int i = 0; i < n; i++)
        if (ts[i]->ndim > ndim) ndim = ts[i]->ndim;
    out->ndim = ndim;
    for (int d = 0; d < ndim; d++) out->d[d] = 1;
    /* Align trailing dims; a size of 1 stretches, anything else must agree. */
    for (int i = 0; i < n; i++) {
        const ct_tensor *t = ts[i];
        for (int k = 0; k < t->ndim; k++) {
            int d = ndim - t->ndim + k;
            int64_t s = t->shape[k];
            if (s == out->d[d] || s == 1) continue;
            if (out->d[d] == 1) {
                out->d[d] = s;
                continue;
            }
            /* Find which earlier tensor fixed this size, for the message. */
            int j = 0;
            for (; j < i; j++) {
                int kj = d - (ndim - ts[j]->ndim);
                if (kj >= 0 && ts[j]->shape[kj] == out->d[d]) break;
            }
            ct_error(CT_ERR_SHAPE,
                     "%s: The size of tensor %c (%lld) must match the size of tensor %c (%lld) at non-singleton "
                     "dimension %d",
                     op, 'a' + j, (long long)out->d[d], 'a' + i, (long long)s, d);
            return false;
        }
    }
    return true;
}

void ct__broadcast_strides(const ct_tensor *t, const ct_shape *shape, int64_t *stride) {
    int lead = shape->ndim - t->ndim;
    for (int d = 0; d < shape->ndim; d++) {
        int k = d - lead;
        stride[d] = (k < 0 || t->shape[k] == 1) ? 0 : t->stride[k];
    }
}

static char *ring_buffer(void) {
    static _Thread_local char ring[8][CT_MAX_DIMS * 24 + 4];
    static _Thread_local unsigned next;
    return ring[next++ % 8];
}

const char *ct__shape_str(const int64_t *shape, int ndim) {
    char *buf = ring_buffer(), *p = buf;
    *p++ = '[';
    for (int i = 0; i < ndim; i++) p += sprintf(p, i ? ", %lld" : "%lld", (long long)shape[i]);
    *p++ = ']';
    *p = 0;
    return buf;
}

const char *ct__shape_x(const int64_t *shape, int ndim) {
    char *buf = ring_buffer(), *p = buf;
    *p = 0;
    for (int i = 0; i < ndim; i++) p += sprintf(p, i ? "x%lld" : "%lld", (long long)shape[i]);
    return buf;
}

bool ct__check_shape(const char *op, const ct_shape *shape) {
    if (shape->ndim < 0 || shape->ndim > CT_MAX_DIMS) {
        ct_error(CT_ERR_SHAPE, "%s: tensors have at most %d dimensions, got %d", op, CT_MAX_DIMS, shape->ndim);
        return false;
    }
    for (int i = 0; i < shape->ndim; i++) {
        if (shape->d[i] < 0) {
            ct_error(CT_ERR_SHAPE, "%s: Trying to create tensor with negative dimension %lld: %s", op,
                     (long long)shape->d[i], ct__shape_str(shape->d, shape->ndim));
            return false;
        }
    }
    return true;
}

bool ct__resolve_opts(const char *op, ct_tensor_opts *opts, ct_dtype dtype_default, ct_device device_default) {
    if (opts->dtype == CT_DTYPE_DEFAULT) opts->dtype = dtype_default;
    if (opts->device.type == -1) opts->device = device_default;
    if (!ct__dtype_valid(opts->dtype)) {
        ct_error(CT_ERR_DTYPE, "%s: invalid dtype %d", op, (int)opts->dtype);
        return false;
    }
    return ct__check_device(op, opts->device);
}
