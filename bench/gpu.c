/* The CUDA benchmark (issue 7): ctorch's side of bench/gpu.sh, which pairs each line with
 * bench/gpu_torch.py's and prints the ratio. One line per case:
 *
 *     bench=gpu case=<case> <shape fields> ctorch_ms=<median ms>
 *
 * Cases: matmul 4096^3 in f32 (TF32 off), TF32 and bf16; add of 256M floats with its bandwidth
 * and a device-to-device cudaMemcpy of the same size (the ceiling) measured in the same run;
 * softmax (50304 and 1024 columns), layer_norm (768) and cross-entropy ([8192, 50304]) forward +
 * backward over 8192 rows; one Adam training step of examples/fashion_cnn.c's model at batch 256.
 *
 * Timing: warm-up runs first, then SAMPLES samples of `reps` runs each between device
 * synchronizations (wall clock), the median per run. Without CUDA (or a GPU) it prints one skip
 * line and exits 0, so it builds and runs everywhere.
 *
 *     build/bench/gpu [case ...]      (no arguments: every case) */
#include <ctorch/ctorch.h>

#include <stdio.h>
#include <string.h>

#include "bench_util.h"

#ifdef CT_HAVE_CUDA
#include <cuda_runtime.h>

#define SAMPLES 15
#define WARMUP 3

static void sync_device(void) { ct_cuda_synchronize(0); }

/* The median milliseconds of one call of fn(ctx), each call in its own scope. */
static double time_ms(void (*fn)(void *), void *ctx, int reps) {
    double t[SAMPLES];
    for (int w = 0; w < WARMUP; w++) CT_SCOPE fn(ctx);
    sync_device();
    for (int s = 0; s < SAMPLES; s++) {
        double t0 = now_s();
        for (int r = 0; r < reps; r++) CT_SCOPE fn(ctx);
        sync_device();
        t[s] = (now_s() - t0) * 1e3 / reps;
    }
    return median(t, SAMPLES);
}

typedef struct ctx {
    ct_tensor *a, *b, *c, *w, *bias, *grad;
    ct_module *net;
    ct_optimizer *opt;
} ctx;

static void run_matmul(void *p) { ct_matmul(((ctx *)p)->a, ((ctx *)p)->b); }
static void run_add(void *p) { ct_add(((ctx *)p)->a, ((ctx *)p)->b); }

/* Forward + backward with the gradient of the output given (torch: y.backward(g)). */
static void run_softmax(void *p) {
    ctx *c = p;
    ct_backward(ct_softmax(c->a, 1), .gradient = c->grad);
}
static void run_layer_norm(void *p) {
    ctx *c = p;
    ct_backward(ct_layer_norm(c->a, CT_SHAPE(ct_size(c->a, 1)), c->w, c->bias), .gradient = c->grad);
}
static void run_cross_entropy(void *p) {
    ctx *c = p;
    ct_backward(ct_cross_entropy(c->a, c->b));
}
static void run_train_step(void *p) {
    ctx *c = p;
    ct_zero_grad(c->opt);
    ct_backward(ct_cross_entropy(ct_forward(c->net, c->a), c->b));
    ct_step(c->opt);
}

static bool wanted(int argc, char **argv, const char *name) {
    if (argc < 2) return true;
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], name)) return true;
    return false;
}

/* Prints the case's line (or why it failed: the pending ctorch error) and clears the error. */
static void report(const char *name, const char *fields, double ms) {
    if (!ct_ok()) {
        printf("bench=gpu case=%s %s skipped=\"%s\"\n", name, fields, ct_last_error());
        ct_clear_error();
        return;
    }
    printf("bench=gpu case=%s %s ctorch_ms=%.4f\n", name, fields, ms);
    fflush(stdout);
}

static void bench_matmul(int argc, char **argv, const char *name, ct_dtype dtype, bool tf32) {
    if (!wanted(argc, argv, name)) return;
    CT_SCOPE {
        ct_set_allow_tf32(tf32);
        const int64_t n = 4096;
        ctx c = {.a = ct_randn(CT_SHAPE(n, n), .dtype = dtype, .device = CT_CUDA(0)),
                 .b = ct_randn(CT_SHAPE(n, n), .dtype = dtype, .device = CT_CUDA(0))};
        double ms = ct_ok() ? time_ms(run_matmul, &c, 5) : 0;
        char f[96];
        snprintf(f, sizeof f, "m=%lld n=%lld k=%lld dtype=%s tflops=%.1f", (long long)n, (long long)n, (long long)n,
                 ct_dtype_name(dtype), ms > 0 ? 2.0 * n * n * n / (ms * 1e-3) / 1e12 : 0);
        report(name, f, ms);
        ct_set_allow_tf32(false);
    }
}

/* ct_add of 256M floats, and the same bytes through cudaMemcpy device to device: the add moves
 * 3 x 1 GiB (two reads, one write), the copy 2 x 1 GiB. */
static void bench_add(int argc, char **argv) {
    if (!wanted(argc, argv, "add")) return;
    const int64_t n = 256ll << 20;
    const size_t bytes = (size_t)n * sizeof(float);
    double copy_ms = 0;
    void *src = NULL, *dst = NULL;
    if (cudaMalloc(&src, bytes) == cudaSuccess && cudaMalloc(&dst, bytes) == cudaSuccess) {
        double t[SAMPLES];
        for (int s = -WARMUP; s < SAMPLES; s++) {
            sync_device();
            double t0 = now_s();
            cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, 0);
            sync_device();
            if (s >= 0) t[s] = (now_s() - t0) * 1e3;
        }
        copy_ms = median(t, SAMPLES);
    }
    cudaFree(src);
    cudaFree(dst);
    cudaGetLastError();
    CT_SCOPE {
        ctx c = {.a = ct_randn(CT_SHAPE(n), .device = CT_CUDA(0)), .b = ct_randn(CT_SHAPE(n), .device = CT_CUDA(0))};
        double ms = ct_ok() ? time_ms(run_add, &c, 1) : 0;
        char f[160];
        snprintf(f, sizeof f, "numel=%lld dtype=float32 gbps=%.0f copy_ms=%.4f copy_gbps=%.0f", (long long)n,
                 ms > 0 ? 3.0 * (double)bytes / (ms * 1e-3) / 1e9 : 0, copy_ms,
                 copy_ms > 0 ? 2.0 * (double)bytes / (copy_ms * 1e-3) / 1e9 : 0);
        report("add", f, ms);
    }
}

static void bench_softmax(int argc, char **argv, const char *name, int64_t cols) {
    if (!wanted(argc, argv, name)) return;
    CT_SCOPE {
        const int64_t rows = 8192;
        ctx c = {.a = ct_requires_grad_(ct_randn(CT_SHAPE(rows, cols), .device = CT_CUDA(0)), true),
                 .grad = ct_randn(CT_SHAPE(rows, cols), .device = CT_CUDA(0))};
        double ms = ct_ok() ? time_ms(run_softmax, &c, cols > 4096 ? 1 : 10) : 0;
        char f[64];
        snprintf(f, sizeof f, "rows=%lld cols=%lld pass=fwd+bwd", (long long)rows, (long long)cols);
        report(name, f, ms);
    }
}

static void bench_layer_norm(int argc, char **argv) {
    if (!wanted(argc, argv, "layer_norm_768")) return;
    CT_SCOPE {
        const int64_t rows = 8192, cols = 768;
        ctx c = {.a = ct_requires_grad_(ct_randn(CT_SHAPE(rows, cols), .device = CT_CUDA(0)), true),
                 .w = ct_requires_grad_(ct_randn(CT_SHAPE(cols), .device = CT_CUDA(0)), true),
                 .bias = ct_requires_grad_(ct_randn(CT_SHAPE(cols), .device = CT_CUDA(0)), true),
                 .grad = ct_randn(CT_SHAPE(rows, cols), .device = CT_CUDA(0))};
        double ms = ct_ok() ? time_ms(run_layer_norm, &c, 10) : 0;
        report("layer_norm_768", "rows=8192 cols=768 pass=fwd+bwd", ms);
    }
}

static void bench_cross_entropy(int argc, char **argv) {
    if (!wanted(argc, argv, "cross_entropy_50304")) return;
    CT_SCOPE {
        const int64_t rows = 8192, classes = 50304;
        ctx c = {.a = ct_requires_grad_(ct_randn(CT_SHAPE(rows, classes), .device = CT_CUDA(0)), true),
                 .b = ct_randint(0, classes, CT_SHAPE(rows), .device = CT_CUDA(0))};
        double ms = ct_ok() ? time_ms(run_cross_entropy, &c, 1) : 0;
        report("cross_entropy_50304", "rows=8192 classes=50304 pass=fwd+bwd", ms);
    }
}

/* examples/fashion_cnn.c's network, Adam (lr 1e-3), batch 256 of random images and labels. */
static void bench_fashion_cnn(int argc, char **argv) {
    if (!wanted(argc, argv, "fashion_cnn_step")) return;
    CT_SCOPE {
        ct_module *net = ct_sequential(
            ct_conv2d_module(1, 32, CT_SHAPE(3), .padding = CT_SHAPE(1)), ct_relu_module(), ct_max_pool2d_module(CT_SHAPE(2)),
            ct_conv2d_module(32, 64, CT_SHAPE(3), .padding = CT_SHAPE(1)), ct_relu_module(), ct_max_pool2d_module(CT_SHAPE(2)),
            ct_flatten_module(), ct_linear(3136, 128), ct_relu_module(), ct_linear(128, 10));
        ct_module_to(net, CT_CUDA(0));
        ctx c = {.net = net,
                 .opt = ct_adam(ct_parameters(net), .lr = 1e-3),
                 .a = ct_randn(CT_SHAPE(256, 1, 28, 28), .device = CT_CUDA(0)),
                 .b = ct_randint(0, 10, CT_SHAPE(256), .device = CT_CUDA(0))};
        double ms = ct_ok() ? time_ms(run_train_step, &c, 5) : 0;
        report("fashion_cnn_step", "batch=256 optimizer=adam", ms);
    }
}

int main(int argc, char **argv) {
    ct_init();
    ct_manual_seed(0);
    if (!ct_cuda_is_available()) {
        printf("bench=gpu case=all skipped=\"no CUDA GPU available\"\n");
        ct_shutdown();
        return 0;
    }
    bench_matmul(argc, argv, "matmul_f32", CT_F32, false);
    bench_matmul(argc, argv, "matmul_tf32", CT_F32, true);
    bench_matmul(argc, argv, "matmul_bf16", CT_BF16, false);
    bench_add(argc, argv);
    bench_softmax(argc, argv, "softmax_50304", 50304);
    bench_softmax(argc, argv, "softmax_1024", 1024);
    bench_layer_norm(argc, argv);
    bench_cross_entropy(argc, argv);
    bench_fashion_cnn(argc, argv);
    ct_shutdown();
    return 0;
}

#else /* no CUDA in this build */

int main(void) {
    printf("bench=gpu case=all skipped=\"ctorch was built without CUDA\"\n");
    return 0;
}

#endif
