/* Normalization kernels (CPU), shared by tensor/norm.c and tensor/cpu/norm_cpu.c.
 *
 * Layouts: every kernel reads and writes contiguous buffers of one compute dtype, CT_F32 or CT_F64
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

#endif /* CTORCH_NORM_IMPL_H */
