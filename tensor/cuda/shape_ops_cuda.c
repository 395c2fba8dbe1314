/* The CUDA entry of the copying shape-op table (shape_ops_impl.h). */
#include "../shape_ops_impl.h"
#include "cuda_impl.h"
#include "shape_ops_cuda.h"

#include <string.h>

_Static_assert(CT__CUDA_SHAPE_DIMS == CT_MAX_DIMS, "one dim limit");

/* A gather whose read walks t backwards along the flipped dims (ct__flip_source). */
static bool flip_cuda(ct_tensor *out, const ct_tensor *t, const bool *flip) {
    ct__cuda_strided_read r;
    memset(&r, 0, sizeof r);
    r.ndim = t->ndim;
    r.numel = ct__numel(t->shape, t->ndim);
    memcpy(r.shape, t->shape, (size_t)t->ndim * sizeof *r.shape);
    r.src = ct__flip_source(t, flip, r.stride);
    r.elem_size = (int)ct_dtype_size(t->dtype);
    int dev = ct__device(t).index;
    return ct__cuda_check("flip", dev, ct__cuda_strided_gather(ct__data(out), &r, ct__cuda_stream(dev)));
}

const ct__shape_kernels ct__shape_kernels_cuda = {.flip = flip_cuda};
