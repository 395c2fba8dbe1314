/* Convolution layers of the issue [4/7] MNIST CNN, forward + backward, f32, batch 64:
 *   bench=conv case=<name> input=<shape> weight=<shape> threads=<n> ms=<median of 21 after 1 s>
 *       torch_ms=<the same in PyTorch> ratio=<ctorch/torch>
 * conv1: 1 -> 32 channels, 3x3, padding 1 on 28x28 (the input needs no gradient);
 * conv2: 32 -> 64 channels, 3x3, padding 1 on 14x14 (input, weight and bias gradients).
 * Each step runs the forward and a backward with a fixed output gradient. PyTorch's figures come
 * from bench/conv_torch.py with the same thread count (omitted when no python3 imports torch). */
#include <ctorch/ctorch.h>

#include "bench_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REPS 21

typedef struct bench_case {
    const char *name;
    ct_shape input, weight;
    bool input_grad;
} bench_case;

static const bench_case cases[] = {
    {"conv1", CT_SHAPE(64, 1, 28, 28), CT_SHAPE(32, 1, 3, 3), false},
    {"conv2", CT_SHAPE(64, 32, 14, 14), CT_SHAPE(64, 32, 3, 3), true},
};

static bool step(ct_tensor *x, ct_tensor *w, ct_tensor *b, const ct_tensor *g) {
    bool ok = false;
    CT_SCOPE {
        ct_set_grad(x, NULL), ct_set_grad(w, NULL), ct_set_grad(b, NULL);
        ok = ct_backward(ct_conv2d(x, w, b, .padding = CT_SHAPE(1)), .gradient = g);
    }
    return ok;
}

/* torch's median ms per case name from bench/conv_torch.py (-1 where missing). */
static void torch_ms(int threads, double *ms) {
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) ms[i] = -1;
    char cmd[1024], name[64];
    snprintf(cmd, sizeof cmd, "{ %s/conv_torch.py %d || python3 %s/conv_torch.py %d; } 2>/dev/null", CT_BENCH_DIR, threads,
             CT_BENCH_DIR, threads);
    FILE *p = popen(cmd, "r");
    if (!p) return;
    double v;
    while (fscanf(p, "%63s %lf", name, &v) == 2)
        for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
            if (!strcmp(name, cases[i].name)) ms[i] = v;
    pclose(p);
}

int main(void) {
    ct_init();
    int threads = ct_get_num_threads();
    double mine[2], torch[2];
    ct_manual_seed(0);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) CT_SCOPE {
        const bench_case *c = &cases[i];
        ct_tensor *x = ct_requires_grad_(ct_randn(c->input), c->input_grad);
        ct_tensor *w = ct_requires_grad_(ct_mul_scalar(ct_randn(c->weight), 0.1), true);
        ct_tensor *b = ct_requires_grad_(ct_zeros(CT_SHAPE(c->weight.d[0])), true);
        ct_tensor *g = ct_randn(CT_SHAPE(c->input.d[0], c->weight.d[0], c->input.d[2], c->input.d[3]));
        /* Warm up for a second (OpenBLAS's workers spin for a while after the library loads). */
        for (double start = now_s(); now_s() - start < 1.0;)
            if (!step(x, w, b, g)) break;
        double ms[REPS];
        for (int r = 0; r < REPS && ct_ok(); r++) {
            double t0 = now_s();
            step(x, w, b, g);
            ms[r] = (now_s() - t0) * 1e3;
        }
        mine[i] = median(ms, REPS);
    }
    if (!ct_ok()) {
        fprintf(stderr, "bench conv: %s\n", ct_last_error());
        return 1;
    }
    torch_ms(threads, torch);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const bench_case *c = &cases[i];
        printf("bench=conv case=%s input=%lldx%lldx%lldx%lld weight=%lldx%lldx%lldx%lld threads=%d ms=%.3f", c->name,
               (long long)c->input.d[0], (long long)c->input.d[1], (long long)c->input.d[2], (long long)c->input.d[3],
               (long long)c->weight.d[0], (long long)c->weight.d[1], (long long)c->weight.d[2], (long long)c->weight.d[3],
               threads, mine[i]);
        if (torch[i] > 0) printf(" torch_ms=%.3f ratio=%.3f", torch[i], mine[i] / torch[i]);
        printf("\n");
    }
    ct_shutdown();
    return 0;
}
