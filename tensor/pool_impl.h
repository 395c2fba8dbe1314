/* Pooling internals shared by tensor/pool.c and its CPU kernels (cpu/pool_cpu.c). */
#ifndef CTORCH_POOL_IMPL_H
#define CTORCH_POOL_IMPL_H

#include "tensor_impl.h"

/* Kernels over g->planes contiguous planes of dtype (CT_F32 or CT_F64): x is planes x ih x iw,
 * y is planes x oh x ow. Max pool writes each window's argmax as a flat index into its plane.
 * Backward kernels add into gx, which the caller zero-fills. Results do not depend on the number
 * of threads: planes are split among threads and each plane is done by one thread in order. */
void ct__max_pool2d_cpu(const ct__pool2d_geom *g, ct_dtype dtype, const void *x, void *y, int64_t *indices);
void ct__max_pool2d_backward_cpu(const ct__pool2d_geom *g, ct_dtype dtype, const void *gy, const int64_t *indices,
                                 void *gx);
void ct__avg_pool2d_cpu(const ct__pool2d_geom *g, ct_dtype dtype, const void *x, void *y);
void ct__avg_pool2d_backward_cpu(const ct__pool2d_geom *g, ct_dtype dtype, const void *gy, void *gx);
void ct__adaptive_avg_pool2d_cpu(const ct__pool2d_geom *g, ct_dtype dtype, const void *x, void *y);
void ct__adaptive_avg_pool2d_backward_cpu(const ct__pool2d_geom *g, ct_dtype dtype, const void *gy, void *gx);

/* The per-device pooling kernels pool.c dispatches to: contiguous planes of dtype (f32/f64) on
 * `device`; backward kernels write all of gx. false with a ct error. */
typedef struct ct_pool_kernels {
    bool (*max)(const ct__pool2d_geom *g, ct_dtype dtype, int device, const void *x, void *y, int64_t *indices);
    bool (*max_backward)(const ct__pool2d_geom *g, ct_dtype dtype, int device, const void *gy, const int64_t *indices,
                         void *gx);
    bool (*avg)(const ct__pool2d_geom *g, ct_dtype dtype, int device, const void *x, void *y);
    bool (*avg_backward)(const ct__pool2d_geom *g, ct_dtype dtype, int device, const void *gy, void *gx);
    bool (*adaptive)(const ct__pool2d_geom *g, ct_dtype dtype, int device, const void *x, void *y);
    bool (*adaptive_backward)(const ct__pool2d_geom *g, ct_dtype dtype, int device, const void *gy, void *gx);
} ct_pool_kernels;

#ifdef CT_HAVE_CUDA
extern const ct_pool_kernels ct__pool_cuda_kernels;
#endif

#endif /* CTORCH_POOL_IMPL_H */
