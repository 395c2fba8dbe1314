/* CPU kernels of batch norm and layer norm (see ../norm_impl.h for the math and layouts): one
 * body, norm_cpu_body.h, instantiated for float and double, and dispatchers on the dtype. */
#include "../iter_impl.h"
#include "../norm_impl.h"

#include <math.h>

#define T float
#define SFX f32
#include "norm_cpu_body.h"
#undef T
#undef SFX

#define T double
#define SFX f64
#include "norm_cpu_body.h"
#undef T
#undef SFX

void ct__cpu_channel_stats(ct_dtype dt, const void *x, int64_t N, int64_t C, int64_t S, double *mean, double *var,
                           double *work) {
    if (dt == CT_F32) channel_stats_f32(x, N, C, S, mean, var, work);
    else channel_stats_f64(x, N, C, S, mean, var, work);
}

void ct__cpu_channel_affine(ct_dtype dt, const void *x, void *y, int64_t N, int64_t C, int64_t S,
                            const double *scale, const double *shift) {
    if (dt == CT_F32) channel_affine_f32(x, y, N, C, S, scale, shift);
    else channel_affine_f64(x, y, N, C, S, scale, shift);
}

void ct__cpu_batch_norm_backward(ct_dtype dt, const void *x, const void *dy, void *dx, int64_t N, int64_t C,
                                 int64_t S, const double *mean, const double *rstd, const double *weight,
                                 bool training, double *sum_dy, double *sum_dy_xhat, double *work) {
    if (dt == CT_F32)
        batch_norm_backward_f32(x, dy, dx, N, C, S, mean, rstd, weight, training, sum_dy, sum_dy_xhat, work);
    else
        batch_norm_backward_f64(x, dy, dx, N, C, S, mean, rstd, weight, training, sum_dy, sum_dy_xhat, work);
}

void ct__cpu_layer_norm(ct_dtype dt, const void *x, void *y, int64_t M, int64_t K, double eps, const void *w,
                        const void *b, double *mean, double *rstd) {
    if (dt == CT_F32) layer_norm_f32(x, y, M, K, eps, w, b, mean, rstd);
    else layer_norm_f64(x, y, M, K, eps, w, b, mean, rstd);
}

void ct__cpu_layer_norm_backward(ct_dtype dt, const void *dy, const void *x, int64_t M, int64_t K,
                                 const double *mean, const double *rstd, const void *w, void *dx, double *dw,
                                 double *db, double *work) {
    if (dt == CT_F32) layer_norm_backward_f32(dy, x, M, K, mean, rstd, w, dx, dw, db, work);
    else layer_norm_backward_f64(dy, x, M, K, mean, rstd, w, dx, dw, db, work);
}
