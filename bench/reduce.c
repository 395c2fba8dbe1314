/* CPU reduction and softmax benchmark on a 4096x4096 f32 matrix: one line per case,
 *   bench=reduce case=<name> shape=4096x4096 threads=<n> ms=<median of reps>
 * The thread count is ctorch's (CT_NUM_THREADS). bench/reduce_torch.py prints the same cases for torch. */
#include <ctorch/ctorch.h>

#include "bench_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define N 4096
#define REPS 15

enum { SUM_ALL, SUM_DIM1, SUM_DIM0, AMAX_DIM1, SOFTMAX_DIM1, LOG_SOFTMAX_DIM1, NCASES };
static const char *const case_names[NCASES] = {"sum_all", "sum_dim1", "sum_dim0", "amax_dim1", "softmax_dim1",
                                               "log_softmax_dim1"};

static void run_case(const ct_tensor *x, int c) {
    switch (c) {
    case SUM_ALL: ct_sum(x); break;
    case SUM_DIM1: ct_sum(x, .dim = CT_DIMS(1)); break;
    case SUM_DIM0: ct_sum(x, .dim = CT_DIMS(0)); break;
    case AMAX_DIM1: ct_amax(x, .dim = CT_DIMS(1)); break;
    case SOFTMAX_DIM1: ct_softmax(x, 1); break;
    case LOG_SOFTMAX_DIM1: ct_log_softmax(x, 1); break;
    default: break;
    }
}

int main(void) {
    ct_tensor *x = ct_retain(ct_empty(CT_SHAPE(N, N)));
    float *p = ct_data_ptr(x);
    uint64_t seed = 1; /* values in [-4, 4) from a 64-bit LCG */
    for (int64_t i = 0; i < (int64_t)N * N; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        p[i] = (float)((double)(seed >> 11) * 0x1p-53 * 8.0 - 4.0);
    }
    for (int c = 0; c < NCASES; c++) {
        double ms[REPS];
        for (int r = -2; r < REPS; r++) { /* two warm-up runs */
            double t0 = now_s();
            CT_SCOPE { run_case(x, c); }
            double t1 = now_s();
            if (r >= 0) ms[r] = (t1 - t0) * 1e3;
        }
        printf("bench=reduce case=%s shape=%dx%d threads=%d ms=%.3f\n", case_names[c], N, N, ct_get_num_threads(),
               median(ms, REPS));
    }
    ct_release(x);
    ct_shutdown();
    return 0;
}
