/* Kernel table of the copying shape ops that are not plain views + ct__copy_into (DESIGN §3:
 * ops validate and dispatch, kernels only compute). One instance per device type; a NULL entry
 * makes the op fail with CT_ERR_UNSUPPORTED until that device gets its kernel. */
#ifndef CTORCH_SHAPE_OPS_IMPL_H
#define CTORCH_SHAPE_OPS_IMPL_H

#include "tensor_impl.h"

typedef struct ct__shape_kernels {
    /* out (contiguous, t's shape and dtype) = t reversed along every dim d with flip[d]. */
    void (*flip)(ct_tensor *out, const ct_tensor *t, const bool *flip);
} ct__shape_kernels;

extern const ct__shape_kernels ct__shape_kernels_cpu;

/* The table for a device, or NULL with "<op>: not implemented for <device> yet". */
static inline const ct__shape_kernels *ct__shape_kernels_for(const char *op, ct_device device) {
    if (device.type == CT_DEVICE_CPU) return &ct__shape_kernels_cpu;
    return ct__no_kernel(op, device);
}

#endif /* CTORCH_SHAPE_OPS_IMPL_H */
