/* The extern "C" launchers of the CUDA elementwise, copy and random kernels, between the .cu
 * files and their C glue (elementwise_cuda.c, copy.c, random_cuda.c). Neutral C/C++. */
#ifndef CTORCH_ELEMENTWISE_CUDA_H
#define CTORCH_ELEMENTWISE_CUDA_H

#include "iter_cuda.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ct_cuda_status {
    CT_CUDA_OK = 0,
    CT_CUDA_NO_KERNEL, /* this (op, dtype) has no kernel; nothing was recorded */
    CT_CUDA_FAILED     /* a CUDA call failed; the error is recorded (ct__cuda_check) */
} ct_cuda_status;

/* ct_ew_params's scalars (elementwise_impl.h) without its atomics. */
typedef struct ct_cuda_ew_args {
    double alpha, p0, p1, p2;
} ct_cuda_ew_args;

typedef struct ct_cuda_iter_ptrs {
    char *p[CT_CUDA_MAX_OPS];
} ct_cuda_iter_ptrs;

/* op: ct_ew_binary / ct_ew_unary; dtype: the ct_dtype of the inputs (compute dtype). The output
 * is operand 0 of it (bool for comparisons). host_value[k] non-NULL: input k is a host scalar of
 * the compute dtype. zero_division: integer division met a zero divisor (after a stream sync). */
ct_cuda_status ct__cuda_ew_binary(int op, int dtype, const ct_cuda_iter *it, const void *const *host_value,
                                  const ct_cuda_ew_args *args, int device, bool *zero_division);
ct_cuda_status ct__cuda_ew_unary(int op, int dtype, const ct_cuda_iter *it, const ct_cuda_ew_args *args, int device);
/* Operands (out, cond bool, a, b), elements of elem_size bytes. */
ct_cuda_status ct__cuda_where(const ct_cuda_iter *it, size_t elem_size, int device);
/* Whether every bool of operand 0 is true (synchronizes the stream). */
ct_cuda_status ct__cuda_all_true(const ct_cuda_iter *it, int device, bool *result);

/* Operand 0 (dst_dtype) = operand 1 (src_dtype) converted as the CPU converts (copy_cpu.c). */
ct_cuda_status ct__cuda_copy(const ct_cuda_iter *it, int dst_dtype, int src_dtype, int device);

#ifdef __cplusplus
}
#endif
#endif /* CTORCH_ELEMENTWISE_CUDA_H */
