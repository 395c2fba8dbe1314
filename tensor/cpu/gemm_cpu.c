/* CPU GEMM: f32/f64 through OpenBLAS (transposes passed as flags, never copied), integers through
 * a row-blocked loop. Batches of small matrices run in an OpenMP loop with one single-threaded
 * GEMM per batch; few large ones let OpenBLAS thread each product.
 *
 * OpenBLAS's OpenMP build shares libgomp's thread pool with ctorch's loops (the build links it
 * where it can). Its pthread build keeps a pool of its own, and the two pools' spinning threads
 * fight over the cores (a 2-core step ran several times slower; 16 cores, tens of times). With
 * that build ctorch runs OpenBLAS single-threaded and splits a large product itself into fixed
 * blocks of rows under OpenMP, so one pool does all the work and results do not depend on the
 * thread count. */
#include "../iter_impl.h"
#include "../matmul_impl.h"

#include <cblas.h>
#include <pthread.h>
#include <stdlib.h>

/* OpenBLAS threads one GEMM only above m*n*k = 4 * 65536 (GEMM_MULTITHREAD_THRESHOLD *
 * SMP_THRESHOLD_MIN); below that a product is single-threaded, so batches are worth splitting. */
#define SMALL_GEMM_WORK (4 * 65536)

/* Element offsets of batch `index` in A, B and C (row-major unravel over the batch shape). */
static void batch_offsets(const ct_gemm_args *g, int64_t index, int64_t *oa, int64_t *ob, int64_t *oc) {
    *oa = *ob = *oc = 0;
    for (int d = g->batch_ndim - 1; d >= 0; d--) {
        int64_t i = index % g->batch_shape[d];
        index /= g->batch_shape[d];
        *oa += i * g->stride_a[d];
        *ob += i * g->stride_b[d];
        *oc += i * g->stride_c[d];
    }
}

static int64_t batch_count(const ct_gemm_args *g) {
    int64_t n = 1;
    for (int d = 0; d < g->batch_ndim; d++) n *= g->batch_shape[d];
    return n;
}

/* Rows [row0, row0 + rows) of batch `index`'s product: op(A)'s rows start at row0 * lda, or at
 * column row0 of a transposed A. */
static void blas_rows(const ct_gemm_args *g, int64_t index, int64_t row0, int64_t rows) {
    int64_t oa, ob, oc;
    batch_offsets(g, index, &oa, &ob, &oc);
    oa += g->transa ? row0 : row0 * g->lda;
    oc += row0 * g->ldc;
    enum CBLAS_TRANSPOSE ta = g->transa ? CblasTrans : CblasNoTrans, tb = g->transb ? CblasTrans : CblasNoTrans;
    if (g->dtype == CT_F32)
        cblas_sgemm(CblasRowMajor, ta, tb, (int)rows, (int)g->n, (int)g->k, (float)g->alpha, (const float *)g->a + oa,
                    (int)g->lda, (const float *)g->b + ob, (int)g->ldb, (float)g->beta, (float *)g->c + oc, (int)g->ldc);
    else
        cblas_dgemm(CblasRowMajor, ta, tb, (int)rows, (int)g->n, (int)g->k, g->alpha, (const double *)g->a + oa,
                    (int)g->lda, (const double *)g->b + ob, (int)g->ldb, g->beta, (double *)g->c + oc, (int)g->ldc);
}

static void blas_one(const ct_gemm_args *g, int64_t index) { blas_rows(g, index, 0, g->m); }

/* OpenBLAS's threading (openblas_get_parallel: 1 = its own pthreads, 2 = OpenMP). */
static bool split_ourselves;
static pthread_once_t blas_mode_once = PTHREAD_ONCE_INIT;
static void blas_mode_init(void) {
    split_ourselves = openblas_get_parallel() == 1;
    if (split_ourselves) openblas_set_num_threads(1);
}

/* Fixed row blocks (not one per thread) keep results independent of the thread count. */
#define SPLIT_ROWS 64

static void blas_split(const ct_gemm_args *g, int64_t index) {
    int64_t blocks = (g->m + SPLIT_ROWS - 1) / SPLIT_ROWS;
#pragma omp parallel for num_threads(ct__num_threads()) schedule(static)
    for (int64_t b = 0; b < blocks; b++) {
        int64_t row0 = b * SPLIT_ROWS;
        blas_rows(g, index, row0, g->m - row0 < SPLIT_ROWS ? g->m - row0 : SPLIT_ROWS);
    }
}

/* One output row of an integer product, accumulated in uint64 (wrapping, like PyTorch's integer
 * kernels; unsigned so overflow is defined) over a dense row buffer. */
#define INT_ROW(T, name)                                                                                  \
    static void int_row_##name(const ct_gemm_args *g, int64_t batch, int64_t i, uint64_t *restrict acc) {  \
        int64_t oa, ob, oc;                                                                               \
        batch_offsets(g, batch, &oa, &ob, &oc);                                                           \
        const T *a = (const T *)g->a + oa, *b = (const T *)g->b + ob;                                     \
        T *c = (T *)g->c + oc + i * g->ldc;                                                               \
        int64_t n = g->n;                                                                                 \
        for (int64_t j = 0; j < n; j++) acc[j] = 0;                                                       \
        for (int64_t p = 0; p < g->k; p++) {                                                              \
            uint64_t av = (uint64_t)(g->transa ? a[p * g->lda + i] : a[i * g->lda + p]);                  \
            if (!g->transb) {                                                                             \
                const T *restrict brow = b + p * g->ldb;                                                  \
                for (int64_t j = 0; j < n; j++) acc[j] += av * (uint64_t)brow[j];                         \
            } else {                                                                                      \
                for (int64_t j = 0; j < n; j++) acc[j] += av * (uint64_t)b[j * g->ldb + p];               \
            }                                                                                             \
        }                                                                                                 \
        uint64_t alpha = (uint64_t)(int64_t)g->alpha, beta = (uint64_t)(int64_t)g->beta;                  \
        if (g->beta == 0)                                                                                 \
            for (int64_t j = 0; j < n; j++) c[j] = (T)(alpha * acc[j]);                                   \
        else                                                                                              \
            for (int64_t j = 0; j < n; j++) c[j] = (T)(alpha * acc[j] + beta * (uint64_t)c[j]);           \
    }
INT_ROW(int64_t, i64)
INT_ROW(int32_t, i32)
INT_ROW(uint8_t, u8)

static void int_gemm(const ct_gemm_args *g, int64_t nbatch) {
    void (*row)(const ct_gemm_args *, int64_t, int64_t, uint64_t *) =
        g->dtype == CT_I64 ? int_row_i64 : g->dtype == CT_I32 ? int_row_i32 : int_row_u8;
    int64_t rows = nbatch * g->m;
    bool parallel = rows > 1 && rows * g->n * (g->k + 1) > CT_GRAIN_SIZE;
#pragma omp parallel num_threads(ct__num_threads()) if (parallel)
    {
        uint64_t *acc = malloc((size_t)(g->n > 0 ? g->n : 1) * sizeof *acc);
#pragma omp for schedule(static)
        for (int64_t r = 0; r < rows; r++) row(g, r / g->m, r % g->m, acc);
        free(acc);
    }
}

static bool cpu_gemm(const ct_gemm_args *g) {
    int64_t nbatch = batch_count(g);
    if (nbatch == 0 || g->m == 0 || g->n == 0) return true;
    if (g->dtype != CT_F32 && g->dtype != CT_F64) {
        int_gemm(g, nbatch);
        return true;
    }
    pthread_once(&blas_mode_once, blas_mode_init);
    /* Each product is computed by the same BLAS calls whatever the batching, so results do not
     * depend on how batches are spread over threads. */
    bool small = g->m * g->n * g->k <= SMALL_GEMM_WORK;
    if (nbatch > 1 && small) {
#pragma omp parallel for num_threads(ct__num_threads()) schedule(static)
        for (int64_t i = 0; i < nbatch; i++) blas_one(g, i);
    } else if (split_ourselves && !small) {
        for (int64_t i = 0; i < nbatch; i++) blas_split(g, i);
    } else {
        for (int64_t i = 0; i < nbatch; i++) blas_one(g, i);
    }
    return true;
}

const ct_matmul_kernels ct__matmul_cpu_kernels = {.gemm = cpu_gemm};
