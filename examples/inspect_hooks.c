/* Layer inspection with module hooks: a forward hook on every layer records the mean and standard
 * deviation of its output, a full backward hook the norm of the gradient flowing out of it
 * (grad_output); a small MLP trains on Fashion-MNIST for a few hundred steps and the table is
 * printed at the start and at the end, as one would look for dead or exploding layers.
 *   build/examples/inspect_hooks [--data DIR] */
#include <ctorch/ctorch.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct layer_stats {
    const char *name, *type;
    double act_mean, act_std, grad_norm;
} layer_stats;

static ct_tensor_list record_activation(ct_module *m, ct_tensor_list inputs, ct_tensor_list outputs, void *user) {
    (void)m, (void)inputs;
    layer_stats *s = user;
    CT_SCOPE CT_NO_GRAD {
        s->act_mean = ct_item(ct_mean(outputs.items[0]));
        s->act_std = ct_item(ct_std(outputs.items[0]));
    }
    return CT_NO_TENSORS; /* keep the output */
}

static ct_tensor_list record_gradient(ct_module *m, ct_tensor_list grad_input, ct_tensor_list grad_output, void *user) {
    (void)m, (void)grad_input;
    ((layer_stats *)user)->grad_norm = grad_output.items[0] ? ct_item(ct_norm(grad_output.items[0])) : NAN;
    return CT_NO_TENSORS; /* keep grad_input */
}

static void print_table(const char *title, const layer_stats *stats, int n) {
    printf("\n%s\n%-8s %-8s %12s %12s %14s\n", title, "layer", "type", "act mean", "act std", "grad norm");
    for (int i = 0; i < n; i++)
        printf("%-8s %-8s %12.4f %12.4f %14.6f\n", stats[i].name, stats[i].type, stats[i].act_mean, stats[i].act_std, stats[i].grad_norm);
}

int main(int argc, char **argv) {
    ct_init();
    ct_manual_seed(0);
    const char *data = argc > 2 && !strcmp(argv[1], "--data") ? argv[2] : "/usr/share/datasets/fashion-mnist";
    ct_tensor *images, *labels;
    if (!ct_mnist_load(data, CT_SPLIT_TRAIN, &images, &labels)) {
        fprintf(stderr, "%s\n", ct_last_error());
        return 1;
    }
    ct_tensor *x = ct_flatten(ct_div_scalar(ct_sub_scalar(images, 0.2860), 0.3530), 1);
    ct_module *net = ct_sequential(ct_linear(784, 128), ct_relu_module(), ct_linear(128, 64), ct_tanh_module(), ct_linear(64, 10));
    printf("%s\n", ct_module_str(net));

    /* one stats slot per layer, and both hooks on each */
    ct_named_modules layers = ct_named_children(net);
    layer_stats stats[16] = {{0}};
    for (int i = 0; i < layers.n; i++) {
        stats[i].name = layers.items[i].name;
        stats[i].type = ct_module_type_name(layers.items[i].module);
        ct_register_forward_hook(layers.items[i].module, record_activation, &stats[i]);
        ct_register_full_backward_hook(layers.items[i].module, record_gradient, &stats[i]);
    }
    ct_optimizer *opt = ct_sgd(ct_parameters(net), .lr = 0.05, .momentum = 0.9);
    const int64_t batch = 64, steps = 400;
    for (int64_t step = 0; step < steps; step++) CT_SCOPE {
        int64_t start = (step * batch) % ct_size(x, 0);
        ct_tensor *loss = ct_cross_entropy(ct_forward(net, ct_narrow(x, 0, start, batch)), ct_narrow(labels, 0, start, batch));
        ct_zero_grad(opt);
        ct_backward(loss);
        ct_step(opt);
        if (step == 0) print_table("after the first step", stats, layers.n);
        if (step == steps - 1) {
            print_table("after the last step", stats, layers.n);
            printf("\nloss %.4f after %lld steps\n", ct_item(loss), (long long)steps);
        }
    }
    if (!ct_ok()) {
        fprintf(stderr, "%s\n", ct_last_error());
        return 1;
    }
    ct_shutdown();
    return 0;
}
