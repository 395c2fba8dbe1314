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

/* ---- normalization (norm_cuda.cu) ----
 * x, y, dy, dx are contiguous in the element type `ft`; everything else (weight, bias, running
 * statistics, mean, rstd, dw, db) is contiguous in the accumulation type: double for F64, float
 * for F32, F16 and BF16 (16-bit values are read into float and rounded once when stored). Optional
 * pointers may be NULL (weight 1, bias 0, no running statistics, no dx/dw/db). `work` is device
 * memory of the size the matching *_work_bytes returns for the same sizes and device. Results do
 * not depend on timing: every sum is split into a fixed set of partial sums added in a fixed order
 * (the split depends on the sizes and on the device's multiprocessor count). */
typedef enum ct__cuda_float { CT__CUDA_F32, CT__CUDA_F64, CT__CUDA_F16, CT__CUDA_BF16 } ct__cuda_float;

/* Batch norm over x [N, C, S]. Training: the batch's mean and biased variance per channel
 * normalize (NaN statistics when N*S == 0), and the running statistics become
 * (1 - momentum) running + momentum stat with the unbiased variance. Eval: running_mean/var
 * normalize. mean and rstd = 1/sqrt(var + eps) are written (C values each). */
size_t ct__cuda_batch_norm_work_bytes(ct__cuda_float ft, int64_t N, int64_t C, int64_t S, int device);
cudaError_t ct__cuda_batch_norm(ct__cuda_float ft, int64_t N, int64_t C, int64_t S, bool training, double momentum,
                                double eps, const void *x, const void *weight, const void *bias, void *running_mean,
                                void *running_var, void *y, void *mean, void *rstd, void *work, int device);
/* db = sum dy, dw = sum dy (x - mean) rstd per channel, and dx (when not NULL) as norm_impl.h
 * describes for training and eval. */
cudaError_t ct__cuda_batch_norm_backward(ct__cuda_float ft, int64_t N, int64_t C, int64_t S, bool training,
                                         const void *x, const void *dy, const void *mean, const void *rstd,
                                         const void *weight, void *dx, void *dw, void *db, void *work, int device);

/* Layer norm over the rows of x [M, K]: mean, rstd (M values each) and y. */
cudaError_t ct__cuda_layer_norm(ct__cuda_float ft, int64_t M, int64_t K, double eps, const void *x, const void *weight,
                                const void *bias, void *y, void *mean, void *rstd, int device);
/* dx per row, and dw = sum_m dy xhat, db = sum_m dy over the rows (each may be NULL; work is
 * only used for dw/db). */
size_t ct__cuda_layer_norm_backward_work_bytes(ct__cuda_float ft, int64_t M, int64_t K, int device);
cudaError_t ct__cuda_layer_norm_backward(ct__cuda_float ft, int64_t M, int64_t K, const void *dy, const void *x,
                                         const void *mean, const void *rstd, const void *weight, void *dx, void *dw,
                                         void *db, void *work, int device);

#ifdef __cplusplus
}
#endif
#endif /* CTORCH_DNN_CUDA_H */
