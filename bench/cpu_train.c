/* CPU training steps of the three models of ../shared/bench/cpu_torch.py, with identical
 * definitions, optimizers and batch sizes, on random data:
 *   bench=cpu_train case=<mlp|cnn|gpt> batch=<b> ms_per_step=<median> threads=<n>
 * A step is forward, cross-entropy, zero_grad, backward and the optimizer step, in a scope (as a
 * training loop runs it). Median of the steps after 5 warm-up steps (like cpu_torch.py). Compare
 * with ../shared/bench/cpu_torch_best.sh run right after on the same machine.
 *   build/bench/cpu_train [--steps N] [--only mlp,cnn,gpt] */
#include <ctorch/ctorch.h>

#include "bench_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- the GPT of cpu_torch.py: pre-LayerNorm blocks, causal attention, GELU(tanh) MLP x4 ---- */

typedef struct block_state {
    ct_module *ln1, *ln2, *qkv, *proj, *fc, *fc2;
    int64_t heads;
    ct_tensor *causal; /* [T, T] bool, true above the diagonal */
} block_state;

static ct_tensor *block_forward(ct_module *m, ct_tensor *x) {
    block_state *s = ct_module_state(m);
    int64_t b = ct_size(x, 0), t = ct_size(x, 1), c = ct_size(x, 2), h = s->heads;
    ct_tensor_list qkv = ct_split(ct_forward(s->qkv, ct_forward(s->ln1, x)), c, 2);
    ct_tensor *q = ct_transpose(ct_view(qkv.items[0], CT_SHAPE(b, t, h, c / h)), 1, 2);
    ct_tensor *k = ct_transpose(ct_view(qkv.items[1], CT_SHAPE(b, t, h, c / h)), 1, 2);
    ct_tensor *v = ct_transpose(ct_view(qkv.items[2], CT_SHAPE(b, t, h, c / h)), 1, 2);
    ct_tensor *att = ct_div_scalar(ct_matmul(q, ct_transpose(k, -2, -1)), sqrt((double)(c / h)));
    att = ct_softmax(ct_masked_fill(att, s->causal, -INFINITY), -1);
    x = ct_add(x, ct_forward(s->proj, ct_reshape(ct_transpose(ct_matmul(att, v), 1, 2), CT_SHAPE(b, t, c))));
    return ct_add(x, ct_forward(s->fc2, ct_gelu(ct_forward(s->fc, ct_forward(s->ln2, x)), .approximate = CT_GELU_TANH)));
}

static void block_destroy(ct_module *m) { ct_release(((block_state *)ct_module_state(m))->causal); }
static const ct_module_vtable block_vtable = {.name = "Block", .forward = block_forward, .destroy_state = block_destroy};

static ct_module *block_new(int64_t c, int64_t h, int64_t t) {
    ct_module *m = ct_module_new(&block_vtable, sizeof(block_state));
    block_state *s = ct_module_state(m);
    s->ln1 = ct_register_module(m, "ln1", ct_layer_norm_module(CT_SHAPE(c)));
    s->ln2 = ct_register_module(m, "ln2", ct_layer_norm_module(CT_SHAPE(c)));
    s->qkv = ct_register_module(m, "qkv", ct_linear(c, 3 * c));
    s->proj = ct_register_module(m, "proj", ct_linear(c, c));
    s->fc = ct_register_module(m, "fc", ct_linear(c, 4 * c));
    s->fc2 = ct_register_module(m, "fc2", ct_linear(4 * c, c));
    s->heads = h;
    s->causal = ct_retain(ct_triu(ct_ones(CT_SHAPE(t, t), .dtype = CT_BOOL), 1));
    return m;
}

typedef struct gpt_state {
    ct_module *wte, *wpe, *blocks, *lnf, *head;
    ct_tensor *positions;
} gpt_state;

static ct_tensor *gpt_forward(ct_module *m, ct_tensor *idx) {
    gpt_state *s = ct_module_state(m);
    ct_tensor *x = ct_add(ct_forward(s->wte, idx), ct_forward(s->wpe, ct_narrow(s->positions, 0, 0, ct_size(idx, 1))));
    return ct_forward(s->head, ct_forward(s->lnf, ct_forward(s->blocks, x)));
}

static void gpt_destroy(ct_module *m) { ct_release(((gpt_state *)ct_module_state(m))->positions); }
static const ct_module_vtable gpt_vtable = {.name = "GPT", .forward = gpt_forward, .destroy_state = gpt_destroy};

static ct_module *gpt_new(int64_t vocab, int64_t t, int64_t layers, int64_t heads, int64_t c) {
    ct_module *m = ct_module_new(&gpt_vtable, sizeof(gpt_state));
    gpt_state *s = ct_module_state(m);
    s->wte = ct_register_module(m, "wte", ct_embedding_module(vocab, c));
    s->wpe = ct_register_module(m, "wpe", ct_embedding_module(t, c));
    s->blocks = ct_register_module(m, "blocks", ct_sequential());
    for (int64_t i = 0; i < layers; i++) ct_module_list_append(s->blocks, block_new(c, heads, t));
    s->lnf = ct_register_module(m, "lnf", ct_layer_norm_module(CT_SHAPE(c)));
    s->head = ct_register_module(m, "head", ct_linear(c, vocab, .bias = false));
    s->positions = ct_retain(ct_arange(0, (double)t, 1));
    return m;
}

/* ---- the benchmark ---- */

static void bench(const char *name, ct_module *model, ct_optimizer *opt, ct_tensor *x, ct_tensor *y, int steps) {
    double *times = malloc(sizeof *times * (size_t)steps);
    int n = 0;
    for (int i = 0; i < steps; i++) {
        double t0 = now_s();
        CT_SCOPE {
            ct_tensor *out = ct_forward(model, x);
            int64_t classes = ct_size(out, -1);
            ct_tensor *loss = ct_cross_entropy(ct_reshape(out, CT_SHAPE(-1, classes)), ct_reshape(y, CT_SHAPE(-1)));
            ct_zero_grad(opt);
            ct_backward(loss);
            ct_step(opt);
        }
        if (!ct_ok()) {
            fprintf(stderr, "bench cpu_train %s: %s\n", name, ct_last_error());
            exit(1);
        }
        times[n++] = now_s() - t0;
    }
    int skip = n > 5 ? 5 : 0;
    printf("bench=cpu_train case=%s batch=%lld ms_per_step=%.2f threads=%d\n", name, (long long)ct_size(x, 0),
           median(times + skip, n - skip) * 1e3, ct_get_num_threads());
    fflush(stdout);
    free(times);
}

int main(int argc, char **argv) {
    ct_init();
    int steps = 50;
    const char *only = "mlp,cnn,gpt";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--steps")) steps = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--only")) only = argv[i + 1];
    }
    ct_manual_seed(0);
    if (strstr(only, "mlp")) CT_SCOPE {
        ct_module *m = ct_sequential(ct_linear(784, 256), ct_relu_module(), ct_linear(256, 256), ct_relu_module(), ct_linear(256, 10));
        bench("mlp", m, ct_sgd(ct_parameters(m), .lr = 0.01, .momentum = 0.9), ct_randn(CT_SHAPE(128, 784)),
              ct_randint(0, 10, CT_SHAPE(128)), steps);
    }
    if (strstr(only, "cnn")) CT_SCOPE {
        ct_module *m = ct_sequential(
            ct_conv2d_module(1, 32, CT_SHAPE(3), .padding = CT_SHAPE(1)), ct_relu_module(), ct_max_pool2d_module(CT_SHAPE(2)),
            ct_conv2d_module(32, 64, CT_SHAPE(3), .padding = CT_SHAPE(1)), ct_relu_module(), ct_max_pool2d_module(CT_SHAPE(2)),
            ct_flatten_module(), ct_linear(3136, 128), ct_relu_module(), ct_linear(128, 10));
        bench("cnn", m, ct_adam(ct_parameters(m), .lr = 1e-3), ct_randn(CT_SHAPE(64, 1, 28, 28)), ct_randint(0, 10, CT_SHAPE(64)), steps);
    }
    if (strstr(only, "gpt")) CT_SCOPE {
        ct_module *m = gpt_new(96, 128, 4, 4, 128);
        bench("gpt", m, ct_adamw(ct_parameters(m), .lr = 3e-4), ct_randint(0, 96, CT_SHAPE(16, 128)), ct_randint(0, 96, CT_SHAPE(16, 128)),
              steps);
    }
    ct_shutdown();
    return 0;
}
