/* CPU kernels of the copying shape ops (see shape_ops_impl.h). */
#include "../shape_ops_impl.h"
#include "copy_cpu.h"

/* flip is a copy whose source walks backwards (ct__flip_source). The iterator only adds byte
 * offsets, so negative strides are fine. */
static bool flip_cpu(ct_tensor *out, const ct_tensor *t, const bool *flip) {
    int64_t src_stride[CT_MAX_DIMS], out_stride[CT_MAX_DIMS];
    size_t es = ct_dtype_size(t->dtype);
    char *src = ct__flip_source(t, flip, src_stride);
    ct__contiguous_strides(out->shape, out->ndim, out_stride);
    ct_iter it;
    ct_iter_init_raw(&it, 2, (char *const[]){ct__data(out), src}, (const int64_t *const[]){out_stride, src_stride},
                     (const size_t[]){es, es}, t->shape, t->ndim);
    ct_iter_run(&it, ct__cpu_copy_loop(t->dtype, t->dtype), NULL, 0);
    return true;
}

const ct__shape_kernels ct__shape_kernels_cpu = {.flip = flip_cpu};
