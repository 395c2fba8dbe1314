/* Op benchmarks: one line of figures per case, each ratio measured in one run on one machine.
 *   bench=ops case=matmul_f32 n=<n> gflops=<ctorch> cblas_gflops=<raw sgemm> ratio=<ctorch/cblas>
 * ctorch's ct_mm and a raw cblas_sgemm run on the same data, interleaved, best of several
 * repetitions after a warm-up; gflops = 2 n^3 / time. */
#include <ctorch/ctorch.h>

#include <cblas.h>
#include <stdio.h>
#include <time.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

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

int main(void) {
    ct_init();
    bench_matmul_f32(512, 20);
    bench_matmul_f32(1024, 10);
    bench_matmul_f32(2048, 5);

    /* ---- COORDINATOR: add the add_f32_16M and dispatch cases here (they need ct_add from the
     * elementwise branch). Not faked in this branch. ---- */

    if (!ct_ok()) {
        fprintf(stderr, "bench ops: %s\n", ct_last_error());
        return 1;
    }
    ct_shutdown();
    return 0;
}
