/* CPU kernels of the copying shape ops (see shape_ops_impl.h). */
#include "../shape_ops_impl.h"
#include "copy_cpu.h"

/* flip is a copy whose source walks backwards: start at the last element of each flipped dim and
 * step with a negated stride. The iterator only adds byte offsets, so negative strides are fine. */
static void flip_cpu(ct_tensor *out, const ct_tensor *t, const bool *flip) {
    int64_t src_stride[CT_MAX_DIMS], out_stride[CT_MAX_DIMS];
    size_t es = ct_dtype_size(t->dtype);
    char *src = ct__data(t);
    ct__contiguous_strides(out->shape, out->ndim, out_stride);
    for (int d = 0; d < t->ndim; d++) {
        src_stride[d] = t->stride[d];
        if (flip[d] && t->shape[d] > 1) {
            src += (t->shape[d] - 1) * t->stride[d] * (int64_t)es;
            src_stride[d] = -t->stride[d];
        }
    }
    ct_iter it;
    ct_iter_init_raw(&it, 2, (char *const[]){ct__data(out), src}, (const int64_t *const[]){out_stride, src_stride},
                     (const size_t[]){es, es}, t->shape, t->ndim);
    ct_iter_run(&it, ct__cpu_copy_loop(t->dtype, t->dtype), NULL, 0);
}

const ct__shape_kernels ct__shape_kernels_cpu = {.flip = flip_cpu};
