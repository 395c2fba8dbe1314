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

#endif /* CTORCH_POOL_IMPL_H */
