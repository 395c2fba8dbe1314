/* Matrix-product kernels: one batched, strided GEMM per device (CPU: BLAS; CUDA: cuBLAS).
 *
 * C[b] = beta * C[b] + alpha * op(A[b]) @ op(B[b]) for every batch index b, where op(X) is X or
 * X^T. Matrices are row-major with leading dimensions lda/ldb/ldc (elements); batches are laid out
 * by per-operand batch strides over a batch shape (stride 0 where an operand is broadcast), which
 * generalises cuBLAS's single strideA/strideB/strideC to broadcast batch dims. */
#ifndef CTORCH_MATMUL_IMPL_H
#define CTORCH_MATMUL_IMPL_H

#include "tensor_impl.h"

typedef struct ct_gemm_args {
    ct_dtype dtype; /* f32, f64, i64, i32, u8 on the CPU (which converts f16/bf16 to f32); f32, f64, f16, bf16 on CUDA */
    int device;     /* the CUDA ordinal of the operands (0 on the CPU) */
    bool transa, transb;
    int64_t m, n, k;
    double alpha, beta; /* beta == 0: C is written without being read */
    const void *a;
    int64_t lda;
    const void *b;
    int64_t ldb;
    void *c;
    int64_t ldc;
    int batch_ndim;
    int64_t batch_shape[CT_MAX_DIMS];
    int64_t stride_a[CT_MAX_DIMS], stride_b[CT_MAX_DIMS], stride_c[CT_MAX_DIMS]; /* elements */
} ct_gemm_args;

typedef struct ct_matmul_kernels {
    bool (*gemm)(const ct_gemm_args *args); /* false with a ct error */
    /* Optional (NULL: none). C = alpha * op(A) @ op(B) + bias[j] on every row, in one call, for a
     * single product (batch_ndim 0, beta 0): bias holds n contiguous values of args->dtype. Sets
     * *fused to false, with no error, when the library has no kernel for the case (the caller
     * then adds the bias itself); false with a ct error on failure. */
    bool (*gemm_bias)(const ct_gemm_args *args, const void *bias, bool *fused);
} ct_matmul_kernels;

extern const ct_matmul_kernels ct__matmul_cpu_kernels;
#ifdef CT_HAVE_CUDA
extern const ct_matmul_kernels ct__matmul_cuda_kernels;
#endif

/* The float32 matmul precision (torch.set_float32_matmul_precision): 0 "highest" (full f32),
 * 1 "high" (TF32 allowed), 2 "medium" (treated as "high": no bf16x3 path here). */
int ct__float32_matmul_precision(void);
/* NULL where the device has no kernels yet. */
const ct_matmul_kernels *ct__matmul_kernels(ct_device device);

#endif /* CTORCH_MATMUL_IMPL_H */
