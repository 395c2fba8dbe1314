/* Launchers of the CUDA pooling and normalization kernels (pool_cuda.cu, norm_cuda.cu) on plain
 * device pointers, for the C glue in pool_cuda.c and norm_cuda.c. Neutral C/C++ like cuda_impl.h.
 * `f64` selects double buffers, else float; every launcher runs on ct__cuda_stream(device) and
 * returns the launch's error. */
#ifndef CTORCH_DNN_CUDA_H
#define CTORCH_DNN_CUDA_H

#include "cuda_impl.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The geometry of pool_impl.h's ct__pool2d_geom, field for field. */
typedef struct ct__cuda_pool_geom {
    int64_t planes, ih, iw, oh, ow;
    int64_t kh, kw, sh, sw, ph, pw, dh, dw;
    bool count_include_pad;
    int64_t divisor_override;
} ct__cuda_pool_geom;

/* Forward kernels: one thread per output. Backward kernels: one thread per input element, which
 * gathers from the outputs whose windows hold it in row-major output order (the order the CPU
 * kernels scatter in, so the sums match them bit for bit) and writes gx whole (no zero-fill). */
cudaError_t ct__cuda_max_pool2d(const ct__cuda_pool_geom *g, bool f64, const void *x, void *y, int64_t *idx,
                                int device);
cudaError_t ct__cuda_max_pool2d_backward(const ct__cuda_pool_geom *g, bool f64, const void *gy, const int64_t *idx,
                                         void *gx, int device);
cudaError_t ct__cuda_avg_pool2d(const ct__cuda_pool_geom *g, bool f64, const void *x, void *y, int device);
cudaError_t ct__cuda_avg_pool2d_backward(const ct__cuda_pool_geom *g, bool f64, const void *gy, void *gx, int device);
cudaError_t ct__cuda_adaptive_avg_pool2d(const ct__cuda_pool_geom *g, bool f64, const void *x, void *y, int device);
cudaError_t ct__cuda_adaptive_avg_pool2d_backward(const ct__cuda_pool_geom *g, bool f64, const void *gy, void *gx,
                                                  int device);

#ifdef __cplusplus
}
#endif
#endif /* CTORCH_DNN_CUDA_H */
