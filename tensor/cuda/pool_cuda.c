/* The CUDA pooling table of pool_impl.h over the kernels of pool_cuda.cu. */
#include "../pool_impl.h"
#include "dnn_cuda.h"

static ct__cuda_pool_geom geom_of(const ct__pool2d_geom *g) {
    return (ct__cuda_pool_geom){g->planes, g->ih, g->iw, g->oh, g->ow, g->kh, g->kw, g->sh, g->sw, g->ph,
                                g->pw, g->dh, g->dw, g->count_include_pad, g->divisor_override};
}

static bool max_fwd(const ct__pool2d_geom *g, ct_dtype dt, int dev, const void *x, void *y, int64_t *idx) {
    ct__cuda_pool_geom cg = geom_of(g);
    return ct__cuda_check("max_pool2d", dev, ct__cuda_max_pool2d(&cg, dt == CT_F64, x, y, idx, dev));
}

static bool max_bwd(const ct__pool2d_geom *g, ct_dtype dt, int dev, const void *gy, const int64_t *idx, void *gx) {
    ct__cuda_pool_geom cg = geom_of(g);
    return ct__cuda_check("max_pool2d_backward", dev, ct__cuda_max_pool2d_backward(&cg, dt == CT_F64, gy, idx, gx, dev));
}

/* The four (src, dst) plane ops share one shape. */
#define PLANE_OP(name, launcher, opname)                                                                     \
    static bool name(const ct__pool2d_geom *g, ct_dtype dt, int dev, const void *src, void *dst) {           \
        ct__cuda_pool_geom cg = geom_of(g);                                                                  \
        return ct__cuda_check(opname, dev, launcher(&cg, dt == CT_F64, src, dst, dev));                      \
    }
PLANE_OP(avg_fwd, ct__cuda_avg_pool2d, "avg_pool2d")
PLANE_OP(avg_bwd, ct__cuda_avg_pool2d_backward, "avg_pool2d_backward")
PLANE_OP(adaptive_fwd, ct__cuda_adaptive_avg_pool2d, "adaptive_avg_pool2d")
PLANE_OP(adaptive_bwd, ct__cuda_adaptive_avg_pool2d_backward, "adaptive_avg_pool2d_backward")

const ct_pool_kernels ct__pool_cuda_kernels = {max_fwd, max_bwd, avg_fwd, avg_bwd, adaptive_fwd, adaptive_bwd};
