/* CPU thread count for ctorch's own parallel loops (OpenBLAS keeps its own setting). */
#include "../tensor_impl.h"

#include <stdlib.h>
#ifdef _OPENMP
#include <omp.h>
#endif

static _Atomic int num_threads = 0; /* 0: not decided yet */

int ct__num_threads(void) {
    int n = num_threads;
    if (n > 0) return n;
    const char *env = getenv("CT_NUM_THREADS");
    n = env ? atoi(env) : 0;
#ifdef _OPENMP
    if (n <= 0) n = omp_get_max_threads();
#endif
    if (n <= 0) n = 1;
    num_threads = n;
    return n;
}

void ct_set_num_threads(int n) { num_threads = n > 0 ? n : 1; }
int ct_get_num_threads(void) { return ct__num_threads(); }
