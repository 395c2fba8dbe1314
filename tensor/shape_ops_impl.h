/* Kernel table of the copying shape ops that are not plain views + ct__copy_into (DESIGN §3:
 * ops validate and dispatch, kernels only compute). One instance per device type; a NULL entry
 * makes the op fail with CT_ERR_UNSUPPORTED until that device gets its kernel. */
#ifndef CTORCH_SHAPE_OPS_IMPL_H
#define CTORCH_SHAPE_OPS_IMPL_H

#include "tensor_impl.h"

typedef struct ct__shape_kernels {
    /* out (contiguous, t's shape and dtype) = t reversed along every dim d with flip[d]; false
     * with a ct error when the device failed. */
    bool (*flip)(ct_tensor *out, const ct_tensor *t, const bool *flip);
} ct__shape_kernels;

extern const ct__shape_kernels ct__shape_kernels_cpu;
#ifdef CT_HAVE_CUDA
extern const ct__shape_kernels ct__shape_kernels_cuda;
#endif

/* The table for a device, or NULL with "<op>: not implemented for <device> yet". */
static inline const ct__shape_kernels *ct__shape_kernels_for(const char *op, ct_device device) {
    if (device.type == CT_DEVICE_CPU) return &ct__shape_kernels_cpu;
#ifdef CT_HAVE_CUDA
    if (device.type == CT_DEVICE_CUDA) return &ct__shape_kernels_cuda;
#endif
    return ct__no_kernel(op, device);
}

/* flip as a read with negative strides: the address of the first element read (the last one of
 * every flipped dim) and the element strides to walk t with, negated along the flipped dims. */
static inline char *ct__flip_source(const ct_tensor *t, const bool *flip, int64_t *stride) {
    char *src = ct__data(t);
    int64_t es = (int64_t)ct_dtype_size(t->dtype);
    for (int d = 0; d < t->ndim; d++) {
        stride[d] = t->stride[d];
        if (flip[d] && t->shape[d] > 1) {
            src += (t->shape[d] - 1) * t->stride[d] * es;
            stride[d] = -t->stride[d];
        }
    }
    return src;
}

#endif /* CTORCH_SHAPE_OPS_IMPL_H */
