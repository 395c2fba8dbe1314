/* Autograd overhead on 1-element tensors, where the cost is all bookkeeping:
 *   bench=autograd case=chain ops=1000 us_per_op=<(forward + backward) / ops, median of 31 after 1 s>
 *       torch_us_per_op=<the same chain in PyTorch eager> ratio=<ctorch/torch>
 * The chain alternates y = y * c and y = y + c (c a constant, so mul saves it), then backward
 * from y into the leaf x. PyTorch's figure comes from bench/autograd_torch.py, run by this program
 * when a python3 can import torch (omitted otherwise). */
#include <ctorch/ctorch.h>

#include "bench_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define OPS 1000
#define REPS 31

/* One forward + backward of the chain; false on error. */
static bool chain_step(ct_tensor *x, const ct_tensor *c) {
    bool ok = false;
    CT_SCOPE {
        ct_tensor *y = x;
        for (int i = 0; i < OPS; i++) y = i % 2 ? ct_add(y, c) : ct_mul(y, c);
        ok = ct_backward(y);
    }
    return ok;
}

static double torch_us_per_op(void) {
    /* The script's own interpreter first (Debian's python3-torch), then whichever python3 is first
     * on PATH (a virtualenv's). */
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "{ %s/autograd_torch.py %d || python3 %s/autograd_torch.py %d; } 2>/dev/null", CT_BENCH_DIR, OPS,
             CT_BENCH_DIR, OPS);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    double us = -1;
    if (fscanf(p, "%lf", &us) != 1) us = -1;
    pclose(p);
    return us;
}

int main(void) {
    ct_init();
    ct_tensor *x = ct_requires_grad_(ct_ones(CT_SHAPE(1)), true);
    ct_tensor *c = ct_full(CT_SHAPE(1), 1.0001);
    /* Warm up for a second: OpenBLAS's pthread workers spin (sched_yield) for a while after the
     * library loads, which on a 2-core machine takes a core from the first milliseconds of work. */
    for (double start = now_s(); now_s() - start < 1.0;)
        if (!chain_step(x, c)) break;
    double us[REPS];
    for (int r = 0; r < REPS; r++) {
        ct_set_grad(x, NULL);
        double t0 = now_s();
        if (!chain_step(x, c)) break;
        us[r] = (now_s() - t0) * 1e6 / OPS;
    }
    if (!ct_ok()) {
        fprintf(stderr, "bench autograd: %s\n", ct_last_error());
        return 1;
    }
    double mine = median(us, REPS), torch = torch_us_per_op();
    printf("bench=autograd case=chain ops=%d us_per_op=%.3f", OPS, mine);
    if (torch > 0) printf(" torch_us_per_op=%.3f ratio=%.3f", torch, mine / torch);
    printf("\n");
    ct_shutdown();
    return 0;
}
