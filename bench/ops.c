/* Op benchmarks: one line of figures per case, each ratio measured in one run on one machine.
 *   bench=ops case=matmul_f32 n=<n> gflops=<ctorch> cblas_gflops=<raw sgemm> ratio=<ctorch/cblas>
 *   bench=ops case=add_f32_16M gbps=<bytes moved per s> memcpy_gbps=<same run> ratio=<ctorch/memcpy>
 *   bench=ops case=dispatch us_per_op=<one add on 1-element tensors, amortized>
 * ctorch's ct_mm and a raw cblas_sgemm run on the same data, interleaved, best of several
 * repetitions after a warm-up; gflops = 2 n^3 / time. */
#include <ctorch/ctorch.h>

#include "bench_util.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Values in [-1, 1) from a 64-bit LCG: deterministic data without depending on ctorch's RNG. */
static void fill_uniform(float *p, int64_t n, uint64_t seed) {
    for (int64_t i = 0; i < n; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        p[i] = (float)((double)(seed >> 11) * 0x1p-53 * 2.0 - 1.0);
    }
}

static void bench_matmul_f32(int64_t n, int reps) {
    CT_SCOPE {
        ct_tensor *a = ct_empty(CT_SHAPE(n, n)), *b = ct_empty(CT_SHAPE(n, n));
        ct_tensor *c = ct_empty(CT_SHAPE(n, n));
        float *pa = ct_data_ptr(a), *pb = ct_data_ptr(b), *pc = ct_data_ptr(c);
        fill_uniform(pa, n * n, 1);
        fill_uniform(pb, n * n, 2);
        double best_ct = 1e30, best_blas = 1e30;
        for (int r = -1; r < reps; r++) { /* r = -1: warm-up */
            double t0 = now_s();
            CT_SCOPE { ct_mm(a, b); } /* the result is freed with the scope, as in a training loop */
            double t1 = now_s();
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)n, (int)n, 1.0f, pa, (int)n, pb,
                        (int)n, 0.0f, pc, (int)n);
            double t2 = now_s();
            if (r >= 0) {
                if (t1 - t0 < best_ct) best_ct = t1 - t0;
                if (t2 - t1 < best_blas) best_blas = t2 - t1;
            }
        }
        double flop = 2.0 * (double)n * (double)n * (double)n;
        double g_ct = flop / best_ct * 1e-9, g_blas = flop / best_blas * 1e-9;
        printf("bench=ops case=matmul_f32 n=%lld gflops=%.2f cblas_gflops=%.2f ratio=%.3f\n", (long long)n, g_ct,
               g_blas, g_ct / g_blas);
    }
}

/* add of two contiguous 16M-float tensors against memcpy of the same bytes, same run. Bytes moved:
 * add reads two and writes one tensor (3 x 64 MiB); memcpy reads and writes one (2 x 64 MiB). The
 * output is allocated by ct_add each time, as in a training step. */
static void bench_add_f32_16m(int reps) {
    const int64_t n = 16 << 20;
    size_t bytes = (size_t)n * sizeof(float);
    float *src = malloc(bytes), *dst = malloc(bytes);
    fill_uniform(src, n, 3);
    memset(dst, 0, bytes);
    ct_tensor *a = ct_retain(ct_from_data(src, CT_SHAPE(n), CT_F32));
    ct_tensor *b = ct_retain(ct_from_data(src, CT_SHAPE(n), CT_F32));
    double best_add = 1e30, best_copy = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = now_s();
        memcpy(dst, src, bytes);
        double t1 = now_s();
        CT_SCOPE { ct_add(a, b); }
        double t2 = now_s();
        if (t1 - t0 < best_copy) best_copy = t1 - t0;
        if (t2 - t1 < best_add) best_add = t2 - t1;
    }
    double gbps = 3.0 * (double)bytes / best_add / 1e9, memcpy_gbps = 2.0 * (double)bytes / best_copy / 1e9;
    printf("bench=ops case=add_f32_16M gbps=%.2f memcpy_gbps=%.2f ratio=%.3f threads=%d\n", gbps, memcpy_gbps,
           gbps / memcpy_gbps, ct_get_num_threads());
    ct_release(a);
    ct_release(b);
    free(src);
    free(dst);
}

/* Per-op overhead: validation, promotion, allocation, iterator, kernel on 1-element tensors. */
static void bench_dispatch(void) {
    ct_tensor *a = ct_retain(ct_ones(CT_SHAPE(1))), *b = ct_retain(ct_ones(CT_SHAPE(1)));
    const int per_scope = 1000, scopes = 300;
    for (int i = 0; i < 20; i++) CT_SCOPE { for (int k = 0; k < per_scope; k++) ct_add(a, b); }
    double t0 = now_s();
    for (int i = 0; i < scopes; i++) CT_SCOPE { for (int k = 0; k < per_scope; k++) ct_add(a, b); }
    double us = (now_s() - t0) * 1e6 / ((double)per_scope * scopes);
    printf("bench=ops case=dispatch us_per_op=%.3f\n", us);
    ct_release(a);
    ct_release(b);
}

int main(void) {
    ct_init();
    bench_matmul_f32(512, 20);
    bench_matmul_f32(1024, 10);
    bench_matmul_f32(2048, 5);

    bench_add_f32_16m(10);
    bench_dispatch();

    if (!ct_ok()) {
        fprintf(stderr, "bench ops: %s\n", ct_last_error());
        return 1;
    }
    ct_shutdown();
    return 0;
}
