/* A multilayer perceptron on Fashion-MNIST: 784-256-128-10 with ReLU, Adam, 20 epochs.
 *   build/examples/fashion_mlp [--epochs N] [--batch-size B] [--lr X] [--data DIR] [--out FILE]
 * Ends with test_accuracy=<0.xxxx> (the dataset's published MLP baseline, 256-128-100, is 0.883). */
#include "fashion_train.h"

int main(int argc, char **argv) {
    ct_init();
    ct_manual_seed(0);
    fashion_args args = {"/usr/share/datasets/fashion-mnist", "fashion_mlp.h5", 20, 128, 1e-3, true};
    if (!fashion_parse(argc, argv, &args)) return 2;
    ct_module *net = ct_sequential(ct_linear(784, 256), ct_relu_module(), ct_linear(256, 128), ct_relu_module(), ct_linear(128, 10));
    int rc = fashion_train(net, &args);
    ct_shutdown();
    return rc;
}
