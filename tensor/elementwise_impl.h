/* Elementwise kernels: op codes and the per-device kernel table.
 *
 * The op (elementwise.c) validates, promotes, converts inputs to the compute dtype, allocates the
 * output and builds the iterator; a device's table supplies the loops. Operand 0 of the iterator
 * is always the output; inputs follow in argument order, all in the compute dtype (the output is
 * the compute dtype too, or bool for comparisons and is* tests). A CUDA table can take the same
 * iterator (device pointers, byte strides) and launch its own loops. */
#ifndef CTORCH_ELEMENTWISE_IMPL_H
#define CTORCH_ELEMENTWISE_IMPL_H

#include "elementwise_ops.h"
#include "iter_impl.h"

#include <stdatomic.h>

/* Scalar parameters of a kernel, and what the kernel reports back. */
typedef struct ct_ew_params {
    double alpha; /* add: integral for integer dtypes */
    double p0, p1, p2;
    atomic_int zero_division; /* set by integer div/remainder on a zero divisor */
    /* Bit k: operand k's data is a host pointer to its one element (a CPU 0-d tensor next to
     * device tensors, stride 0); a device table passes such operands to its kernels by value. */
    unsigned host_scalars;
    int device; /* index of the output's device (for device tables) */
    bool failed; /* a device kernel failed to launch or run; the error is recorded */
} ct_ew_params;

typedef struct ct_ew_kernels {
    /* false when this (op, dtype) has no kernel; the op reports it. */
    bool (*unary)(ct_ew_unary op, ct_dtype dtype, const ct_iter *it, ct_ew_params *p);
    bool (*binary)(ct_ew_binary op, ct_dtype dtype, const ct_iter *it, ct_ew_params *p);
    /* out = cond ? a : b; operands (out, cond bool, a, b), a and b of the output's dtype. */
    /* false: failed, error recorded; device: the output's device index. */
    bool (*where)(const ct_iter *it, size_t elem_size, int device);
    /* Whether every element of the bool tensor t is true. */
    bool (*all_true)(const ct_tensor *t);
} ct_ew_kernels;

extern const ct_ew_kernels ct__ew_cpu_kernels;
#ifdef CT_HAVE_CUDA
extern const ct_ew_kernels ct__ew_cuda_kernels;
#endif

#endif /* CTORCH_ELEMENTWISE_IMPL_H */
