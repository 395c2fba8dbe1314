/* A multilayer perceptron on Fashion-MNIST, written as a module of its own (what a PyTorch user
 * writes as `class MLP(nn.Module)`): 784-256-128-10 with ReLU, Adam, 20 epochs.
 *   build/examples/fashion_mlp [--epochs N] [--batch-size B] [--lr X] [--data DIR] [--out FILE] [--device cpu|cuda[:N]]
 * Ends with test_accuracy=<0.xxxx> (the dataset's published MLP baseline, 256-128-100, is 0.883). */
#include "fashion_train.h"

/* The module's state: its layers (registered below, so they own nothing themselves). */
typedef struct mlp {
    ct_module *fc1, *fc2, *fc3;
} mlp;

static ct_tensor *mlp_forward(ct_module *m, ct_tensor *x) {
    mlp *s = ct_module_state(m);
    x = ct_relu(ct_forward(s->fc1, x));
    x = ct_relu(ct_forward(s->fc2, x));
    return ct_forward(s->fc3, x);
}

static const ct_module_vtable mlp_vtable = {.name = "MLP", .forward = mlp_forward};

static ct_module *mlp_new(int64_t in, int64_t hidden1, int64_t hidden2, int64_t classes) {
    ct_module *m = ct_module_new(&mlp_vtable, sizeof(mlp));
    mlp *s = ct_module_state(m);
    s->fc1 = ct_register_module(m, "fc1", ct_linear(in, hidden1));
    s->fc2 = ct_register_module(m, "fc2", ct_linear(hidden1, hidden2));
    s->fc3 = ct_register_module(m, "fc3", ct_linear(hidden2, classes));
    return ct_ok() ? m : NULL;
}

int main(int argc, char **argv) {
    ct_init();
    ct_manual_seed(0);
    fashion_args args = {"/usr/share/datasets/fashion-mnist", "fashion_mlp.h5", 20, 128, 1e-3, true, CT_CPU};
    if (!fashion_parse(argc, argv, &args)) return 2;
    int rc = fashion_train(mlp_new(784, 256, 128, 10), &args);
    ct_shutdown();
    return rc;
}
