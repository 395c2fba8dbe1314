/* Normalization internals: the per-device kernel table norm.c dispatches to, and the CPU kernels
 * (tensor/cpu/norm_cpu.c) that its CPU entries run.
 *
 * CPU layouts: every kernel reads and writes contiguous buffers of one compute dtype, CT_F32 or CT_F64
 * (norm.c converts other floating dtypes to f32 and back). Statistics, per-channel factors and the
 * weight/bias of batch norm are doubles; layer norm's weight and bias are in the compute dtype.
 *
 *  - batch norm: x is [N, C, S] (S = product of the spatial dims), statistics per channel c over
 *    the N*S values x[n, c, :]. The work is split into the N*C "planes" x[n, c, :] (contiguous
 *    runs of S values): plane sums are computed in parallel, then added per channel in n order,
 *    so results do not depend on the thread count.
 *  - layer norm: x is [M, K], statistics per row over its K values; one row per task.
 * Sums accumulate in double in a fixed order. */
#ifndef CTORCH_NORM_IMPL_H
#define CTORCH_NORM_IMPL_H

#include "tensor_impl.h"

/* Per-channel mean and biased variance (two passes: the mean, then the squared deviations).
 * work: N*C doubles. */
void ct__cpu_channel_stats(ct_dtype dt, const void *x, int64_t N, int64_t C, int64_t S, double *mean, double *var,
                           double *work);
/* y[n, c, s] = x[n, c, s] * scale[c] + shift[c] (y may be x). */
void ct__cpu_channel_affine(ct_dtype dt, const void *x, void *y, int64_t N, int64_t C, int64_t S,
                            const double *scale, const double *shift);
/* Batch norm backward. With xhat = (x - mean[c]) * rstd[c] and M = N*S, computes
 * sum_dy[c] = sum dy and sum_dy_xhat[c] = sum dy * xhat, then dx (when dx != NULL):
 *   training (mean/rstd are the batch's): dx = w rstd (dy - sum_dy/M - xhat sum_dy_xhat/M)
 *   eval (mean/rstd from the running stats, constants): dx = w rstd dy
 * weight NULL means 1. work: 2*N*C doubles. */
void ct__cpu_batch_norm_backward(ct_dtype dt, const void *x, const void *dy, void *dx, int64_t N, int64_t C,
                                 int64_t S, const double *mean, const double *rstd, const double *weight,
                                 bool training, double *sum_dy, double *sum_dy_xhat, double *work);
/* Layer norm forward over rows of K: mean[m], rstd[m] = 1/sqrt(var + eps) (biased var), and
 * y = (x - mean) rstd * w + b (w, b: K values in dt, or NULL). */
void ct__cpu_layer_norm(ct_dtype dt, const void *x, void *y, int64_t M, int64_t K, double eps, const void *w,
                        const void *b, double *mean, double *rstd);
/* Layer norm backward: with g = dy * w and xhat = (x - mean) rstd,
 *   dx = rstd (g - mean_k(g) - xhat mean_k(g xhat)),  dw = sum_m dy xhat,  db = sum_m dy.
 * dx, dw, db (K doubles) may each be NULL. dw/db are summed in CT__LN_CHUNKS fixed row chunks
 * (work: 2*CT__LN_CHUNKS*K doubles) added in order. */
#define CT__LN_CHUNKS 64
void ct__cpu_layer_norm_backward(ct_dtype dt, const void *dy, const void *x, int64_t M, int64_t K,
                                 const double *mean, const double *rstd, const void *w, void *dx, double *dw,
                                 double *db, double *work);

/* The per-device kernels of batch norm and layer norm. norm.c validates (shapes, dtypes, devices,
 * the sizes of weight, bias and the running statistics) and calls these with the sizes it
 * derived; they allocate their results in the current scope (norm.c keeps them) and return false
 * with a ct error. Any input may be non-contiguous and of any floating dtype.
 *
 *  - batch_norm: x viewed as [N, C, S]; y in x's dtype, mean and rstd of C values (the batch's in
 *    training, the running ones in eval, NaN for an empty batch in training); in training with
 *    N*S > 0 the running statistics, when given, are updated in place as norm.c describes.
 *  - batch_norm_backward: dx (when want_x; any floating dtype, x's shape), dw = sum dy xhat and
 *    db = sum dy (C values each, any floating dtype: the engine casts).
 *  - layer_norm: x viewed as [M, K]; y in x's dtype, mean and rstd of M values.
 *  - layer_norm_backward: dx (when want_x), dw and db (when wanted) as K flat values.
 * The statistics' dtype is the device's choice (CPU: f64; CUDA: f32, f64 for f64 input); the
 * backward functions receive what the forward returned. */
typedef struct ct_norm_kernels {
    bool (*batch_norm)(const ct_tensor *x, int64_t N, int64_t C, int64_t S, ct_tensor *running_mean,
                       ct_tensor *running_var, const ct_tensor *weight, const ct_tensor *bias, bool training,
                       double momentum, double eps, ct_tensor **y, ct_tensor **mean, ct_tensor **rstd);
    bool (*batch_norm_backward)(const ct_tensor *grad, const ct_tensor *x, int64_t N, int64_t C, int64_t S,
                                const ct_tensor *mean, const ct_tensor *rstd, const ct_tensor *weight, bool training,
                                bool want_x, ct_tensor **dx, ct_tensor **dw, ct_tensor **db);
    bool (*layer_norm)(const ct_tensor *x, int64_t M, int64_t K, const ct_tensor *weight, const ct_tensor *bias,
                       double eps, ct_tensor **y, ct_tensor **mean, ct_tensor **rstd);
    bool (*layer_norm_backward)(const ct_tensor *grad, const ct_tensor *x, int64_t M, int64_t K,
                                const ct_tensor *mean, const ct_tensor *rstd, const ct_tensor *weight, bool want_x,
                                bool want_w, bool want_b, ct_tensor **dx, ct_tensor **dw, ct_tensor **db);
} ct_norm_kernels;

#ifdef CT_HAVE_CUDA
extern const ct_norm_kernels ct__norm_cuda_kernels;
#endif

#endif /* CTORCH_NORM_IMPL_H */
