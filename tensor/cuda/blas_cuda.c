/* The CUDA GEMM of matmul_impl.h through cuBLAS.
 *
 * Layout: ctorch's matrices are row-major, cuBLAS's column-major. A row-major r x c matrix with
 * leading dimension ld is, read column-major with the same ld, its c x r transpose. So the
 * row-major C = op(A) @ op(B) (m x n) is computed as the column-major Cᵀ = op(B)ᵀ @ op(A)ᵀ
 * (n x m): B goes first, A second, m and n swap, and each transpose flag carries over unchanged
 * (a row-major operand is already the transpose cuBLAS needs).
 *
 * Batches: one cublasGemmStridedBatchedEx when each operand's batch dims collapse to a single
 * stride (contiguous batches, or one fully broadcast operand with stride 0); otherwise one strided
 * batched call over the innermost batch dim per index of the outer ones.
 *
 * Precision: f32 computes in CUBLAS_COMPUTE_32F, or CUBLAS_COMPUTE_32F_FAST_TF32 when the float32
 * matmul precision allows TF32 (ct_set_allow_tf32); f16/bf16 inputs accumulate in f32 as PyTorch's
 * cuBLAS path does; f64 in f64.
 *
 * Bias epilogue: a single f32/f16/bf16 product plus a bias row (addmm with beta 1, linear) runs
 * as one cublasLtMatmul with CUBLASLT_EPILOGUE_BIAS, the same transposed problem (the bias is
 * per row of the column-major Cᵀ, which is what the epilogue broadcasts), instead of a broadcast
 * copy of the bias into C followed by a GEMM with beta = 1. */
#include "../matmul_impl.h"
#include "cuda_impl.h"

#include <cublasLt.h>
#include <cublas_v2.h>
#include <pthread.h>

/* ---- one cuBLAS handle per device ---------------------------------------------------------------- */

#define MAX_DEVICES 64
/* cuBLAS's workspace for split-K and stream-K kernels: the size PyTorch gives it on Hopper
 * (CUBLAS_WORKSPACE_CONFIG :4096:8), allocated once per device and kept for the process. */
#define WORKSPACE_BYTES ((size_t)32 << 20)

typedef struct blas_slot {
    pthread_mutex_t lock; /* serialises set-stream + call on the shared handle */
    cublasHandle_t handle;
    cublasLtHandle_t lt;  /* created on the first fused call; shares the workspace (same stream) */
    void *workspace;
    bool ready, lt_ready;
} blas_slot;

static blas_slot slots[MAX_DEVICES];
static pthread_once_t slots_once = PTHREAD_ONCE_INIT;

static void slots_init(void) {
    for (int i = 0; i < MAX_DEVICES; i++) pthread_mutex_init(&slots[i].lock, NULL);
}

static bool blas_ok(const char *op, int device, cublasStatus_t st) {
    if (st == CUBLAS_STATUS_SUCCESS) return true;
    ct_error(st == CUBLAS_STATUS_ALLOC_FAILED ? CT_ERR_OOM : CT_ERR_DEVICE, "%s: cuBLAS error on cuda:%d: %s", op,
             device, cublasGetStatusString(st));
    return false;
}

/* The device's handle, locked and bound to its current stream; NULL with a ct error. Release
 * with blas_release. */
static cublasHandle_t blas_acquire(int device) {
    if (device < 0 || device >= MAX_DEVICES)
        return ct_error(CT_ERR_DEVICE, "matmul: cuda:%d is beyond the %d devices cuBLAS handles are kept for", device,
                        MAX_DEVICES);
    pthread_once(&slots_once, slots_init);
    blas_slot *s = &slots[device];
    pthread_mutex_lock(&s->lock);
    cudaStream_t stream = ct__cuda_stream(device);
    if (!s->ready) {
        if (!blas_ok("matmul", device, cublasCreate(&s->handle))) goto fail;
        s->workspace = ct__cuda_alloc(WORKSPACE_BYTES, device);
        if (!s->workspace) {
            cublasDestroy(s->handle);
            goto fail;
        }
        s->ready = true;
    }
    /* The workspace is set after the stream: cublasSetStream resets it to cuBLAS's own. */
    if (!blas_ok("matmul", device, cublasSetStream(s->handle, stream)) ||
        !blas_ok("matmul", device, cublasSetWorkspace(s->handle, s->workspace, WORKSPACE_BYTES)))
        goto fail;
    return s->handle;
fail:
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

static void blas_release(int device) { pthread_mutex_unlock(&slots[device].lock); }

/* ---- the GEMM ------------------------------------------------------------------------------------ */

typedef struct gemm_types {
    cudaDataType_t data;
    cublasComputeType_t compute;
    bool double_scalars; /* alpha/beta are doubles (f64), else floats */
} gemm_types;

static gemm_types types_of(ct_dtype dtype) {
    switch (dtype) {
    case CT_F64: return (gemm_types){CUDA_R_64F, CUBLAS_COMPUTE_64F, true};
    case CT_F16: return (gemm_types){CUDA_R_16F, CUBLAS_COMPUTE_32F, false};
    case CT_BF16: return (gemm_types){CUDA_R_16BF, CUBLAS_COMPUTE_32F, false};
    default:
        return (gemm_types){CUDA_R_32F,
                            ct__float32_matmul_precision() > 0 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F,
                            false};
    }
}

/* The single stride that walks an operand's batch dims in flat (row-major) batch order, when one
 * exists: every non-broadcast dim's stride is the next inner dim's stride times its size, or every
 * stride is 0. Size-1 dims are skipped (their stride is never used). */
static bool collapsed_stride(const ct_gemm_args *g, const int64_t *stride, int64_t *out) {
    int64_t expect = -1, inner = 1;
    for (int d = g->batch_ndim - 1; d >= 0; d--) {
        if (g->batch_shape[d] == 1) continue;
        if (expect < 0) expect = stride[d]; /* innermost non-1 dim sets the step */
        if (stride[d] != expect * inner) return false;
        inner *= g->batch_shape[d];
    }
    *out = expect < 0 ? 0 : expect;
    return true;
}

/* One strided batched call of `count` products, operands starting at element offsets oa/ob/oc. */
static bool gemm_call(cublasHandle_t h, const ct_gemm_args *g, gemm_types t, const void *alpha, const void *beta,
                      int64_t oa, int64_t ob, int64_t oc, int64_t sa, int64_t sb, int64_t sc, int64_t count) {
    size_t es = ct_dtype_size(g->dtype);
    const char *a = (const char *)g->a + oa * (int64_t)es, *b = (const char *)g->b + ob * (int64_t)es;
    char *c = (char *)g->c + oc * (int64_t)es;
    cublasOperation_t opa = g->transa ? CUBLAS_OP_T : CUBLAS_OP_N, opb = g->transb ? CUBLAS_OP_T : CUBLAS_OP_N;
    /* column-major Cᵀ (n x m) = op(B)ᵀ (n x k) @ op(A)ᵀ (k x m) */
    for (int64_t done = 0; done < count;) {
        int chunk = count - done > 65535 ? 65535 : (int)(count - done); /* cuBLAS's batch count limit */
        cublasStatus_t st =
            count == 1 ? cublasGemmEx(h, opb, opa, (int)g->n, (int)g->m, (int)g->k, alpha, b, t.data, (int)g->ldb, a,
                                      t.data, (int)g->lda, beta, c, t.data, (int)g->ldc, t.compute, CUBLAS_GEMM_DEFAULT)
                       : cublasGemmStridedBatchedEx(h, opb, opa, (int)g->n, (int)g->m, (int)g->k, alpha,
                                                    b + done * sb * (int64_t)es, t.data, (int)g->ldb, sb,
                                                    a + done * sa * (int64_t)es, t.data, (int)g->lda, sa, beta,
                                                    c + done * sc * (int64_t)es, t.data, (int)g->ldc, sc, chunk,
                                                    t.compute, CUBLAS_GEMM_DEFAULT);
        if (!blas_ok("matmul", g->device, st)) return false;
        done += chunk;
    }
    return true;
}

/* k == 0: C = beta * C (C is contiguous over the whole batch), zero-filled when beta == 0 so that
 * it is never read. */
static bool empty_product(cublasHandle_t h, const ct_gemm_args *g, gemm_types t, int64_t nbatch) {
    int64_t total = nbatch * g->m * g->n;
    if (g->beta == 0)
        return ct__cuda_check("matmul", g->device,
                              cudaMemsetAsync(g->c, 0, (size_t)total * ct_dtype_size(g->dtype),
                                              ct__cuda_stream(g->device)));
    double bd = g->beta;
    float bf = (float)g->beta;
    cudaDataType_t exec = t.double_scalars ? CUDA_R_64F : CUDA_R_32F;
    for (int64_t done = 0; done < total;) {
        int chunk = total - done > (1 << 30) ? (1 << 30) : (int)(total - done);
        char *c = (char *)g->c + done * (int64_t)ct_dtype_size(g->dtype);
        if (!blas_ok("matmul", g->device,
                     cublasScalEx(h, chunk, t.double_scalars ? (const void *)&bd : (const void *)&bf, exec, c, t.data,
                                  1, exec)))
            return false;
        done += chunk;
    }
    return true;
}

static bool cuda_gemm(const ct_gemm_args *g) {
    int64_t nbatch = 1;
    for (int d = 0; d < g->batch_ndim; d++) nbatch *= g->batch_shape[d];
    if (nbatch == 0 || g->m == 0 || g->n == 0) return true;
    gemm_types t = types_of(g->dtype);
    double ad = g->alpha, bd = g->beta;
    float af = (float)g->alpha, bf = (float)g->beta;
    const void *alpha = t.double_scalars ? (const void *)&ad : (const void *)&af;
    const void *beta = t.double_scalars ? (const void *)&bd : (const void *)&bf;
    cublasHandle_t h = blas_acquire(g->device);
    if (!h) return false;
    bool ok;
    int64_t sa, sb, sc;
    if (g->k == 0) {
        ok = empty_product(h, g, t, nbatch);
    } else if (collapsed_stride(g, g->stride_a, &sa) && collapsed_stride(g, g->stride_b, &sb) &&
               collapsed_stride(g, g->stride_c, &sc)) {
        ok = gemm_call(h, g, t, alpha, beta, 0, 0, 0, sa, sb, sc, nbatch);
    } else {
        /* Mixed broadcasting: batched over the innermost batch dim, a call per outer index. */
        int last = g->batch_ndim - 1;
        int64_t inner = g->batch_shape[last], outer = nbatch / inner;
        ok = true;
        for (int64_t o = 0; ok && o < outer; o++) {
            int64_t rest = o, oa = 0, ob = 0, oc = 0;
            for (int d = last - 1; d >= 0; d--) {
                int64_t i = rest % g->batch_shape[d];
                rest /= g->batch_shape[d];
                oa += i * g->stride_a[d], ob += i * g->stride_b[d], oc += i * g->stride_c[d];
            }
            ok = gemm_call(h, g, t, alpha, beta, oa, ob, oc, g->stride_a[last], g->stride_b[last], g->stride_c[last],
                           inner);
        }
    }
    blas_release(g->device);
    return ok;
}

/* ---- the cuBLASLt GEMM with a bias epilogue ------------------------------------------------------- */

/* The largest power of two (up to 256) dividing the address: cuBLASLt's heuristics assume
 * 256-byte aligned matrices unless told otherwise, and a view's data may start anywhere. */
static uint32_t alignment_of(const void *p) {
    uint32_t a = 256;
    while (a > 1 && (uintptr_t)p % a) a /= 2;
    return a;
}

/* Descriptors of one fused call, destroyed together. */
typedef struct lt_call {
    cublasLtMatmulDesc_t desc;
    cublasLtMatrixLayout_t a, b, c;
    cublasLtMatmulPreference_t pref;
} lt_call;

static void lt_call_destroy(lt_call *l) {
    if (l->pref) cublasLtMatmulPreferenceDestroy(l->pref);
    if (l->c) cublasLtMatrixLayoutDestroy(l->c);
    if (l->b) cublasLtMatrixLayoutDestroy(l->b);
    if (l->a) cublasLtMatrixLayoutDestroy(l->a);
    if (l->desc) cublasLtMatmulDescDestroy(l->desc);
}

/* Sets up the column-major problem Cᵀ (n x m) = op(B)ᵀ @ op(A)ᵀ + bias[row] (see the top). */
static cublasStatus_t lt_setup(lt_call *l, const ct_gemm_args *g, gemm_types t, const void *bias) {
    cublasOperation_t opb = g->transb ? CUBLAS_OP_T : CUBLAS_OP_N, opa = g->transa ? CUBLAS_OP_T : CUBLAS_OP_N;
    cublasLtEpilogue_t epilogue = CUBLASLT_EPILOGUE_BIAS;
    uint64_t workspace = WORKSPACE_BYTES;
    uint32_t align_a = alignment_of(g->b), align_b = alignment_of(g->a), align_c = alignment_of(g->c);
    cublasStatus_t st;
#define LT_TRY(call)                                                                               \
    if ((st = (call)) != CUBLAS_STATUS_SUCCESS) return st
    LT_TRY(cublasLtMatmulDescCreate(&l->desc, t.compute, CUDA_R_32F));
    LT_TRY(cublasLtMatmulDescSetAttribute(l->desc, CUBLASLT_MATMUL_DESC_TRANSA, &opb, sizeof opb));
    LT_TRY(cublasLtMatmulDescSetAttribute(l->desc, CUBLASLT_MATMUL_DESC_TRANSB, &opa, sizeof opa));
    LT_TRY(cublasLtMatmulDescSetAttribute(l->desc, CUBLASLT_MATMUL_DESC_EPILOGUE, &epilogue, sizeof epilogue));
    LT_TRY(cublasLtMatmulDescSetAttribute(l->desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof bias));
    /* the stored matrices, column-major: B is n x k (k x n when transposed), A is k x m (m x k) */
    LT_TRY(cublasLtMatrixLayoutCreate(&l->a, t.data, (uint64_t)(g->transb ? g->k : g->n),
                                      (uint64_t)(g->transb ? g->n : g->k), g->ldb));
    LT_TRY(cublasLtMatrixLayoutCreate(&l->b, t.data, (uint64_t)(g->transa ? g->m : g->k),
                                      (uint64_t)(g->transa ? g->k : g->m), g->lda));
    LT_TRY(cublasLtMatrixLayoutCreate(&l->c, t.data, (uint64_t)g->n, (uint64_t)g->m, g->ldc));
    LT_TRY(cublasLtMatmulPreferenceCreate(&l->pref));
    LT_TRY(cublasLtMatmulPreferenceSetAttribute(l->pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &workspace,
                                                sizeof workspace));
    LT_TRY(cublasLtMatmulPreferenceSetAttribute(l->pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &align_a,
                                                sizeof align_a));
    LT_TRY(cublasLtMatmulPreferenceSetAttribute(l->pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &align_b,
                                                sizeof align_b));
    LT_TRY(cublasLtMatmulPreferenceSetAttribute(l->pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &align_c,
                                                sizeof align_c));
    LT_TRY(cublasLtMatmulPreferenceSetAttribute(l->pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &align_c,
                                                sizeof align_c));
#undef LT_TRY
    return CUBLAS_STATUS_SUCCESS;
}

static bool cuda_gemm_bias(const ct_gemm_args *g, const void *bias, bool *fused) {
    *fused = false;
    if (g->dtype == CT_F64 || g->batch_ndim != 0 || g->beta != 0) return true; /* f32-scaled types only */
    gemm_types t = types_of(g->dtype);
    if (!blas_acquire(g->device)) return false;
    blas_slot *s = &slots[g->device];
    bool ok = true;
    if (!s->lt_ready) {
        ok = blas_ok("addmm", g->device, cublasLtCreate(&s->lt));
        s->lt_ready = ok;
    }
    lt_call l = {0};
    if (ok && !blas_ok("addmm", g->device, lt_setup(&l, g, t, bias))) ok = false;
    cublasLtMatmulHeuristicResult_t heuristic;
    int found = 0;
    /* no algorithm for this case (a status or an empty answer) is not an error: the caller falls back */
    if (ok && cublasLtMatmulAlgoGetHeuristic(s->lt, l.desc, l.a, l.b, l.c, l.c, l.pref, 1, &heuristic, &found) ==
                  CUBLAS_STATUS_SUCCESS &&
        found > 0) {
        float alpha = (float)g->alpha, beta = 0;
        ok = blas_ok("addmm", g->device,
                     cublasLtMatmul(s->lt, l.desc, &alpha, g->b, l.a, g->a, l.b, &beta, g->c, l.c, g->c, l.c,
                                    &heuristic.algo, s->workspace, WORKSPACE_BYTES, ct__cuda_stream(g->device)));
        *fused = ok;
    }
    lt_call_destroy(&l);
    blas_release(g->device);
    return ok;
}

const ct_matmul_kernels ct__matmul_cuda_kernels = {.gemm = cuda_gemm, .gemm_bias = cuda_gemm_bias};
