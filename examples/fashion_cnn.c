/* A small convolutional network on Fashion-MNIST, as nn.Sequential:
 *   conv(1->32, 3x3, pad 1) ReLU maxpool2 conv(32->64, 3x3, pad 1) ReLU maxpool2
 *   flatten linear(3136->128) ReLU linear(128->10)
 * trained with Adam. `make demo` runs it.
 *   build/examples/fashion_cnn [--epochs N] [--batch-size B] [--lr X] [--data DIR] [--out FILE] [--device cpu|cuda[:N]]
 * Ends with test_accuracy=<0.xxxx> (published 2 Conv+pooling baseline: 0.916). */
#include "fashion_train.h"

int main(int argc, char **argv) {
    ct_init();
    ct_manual_seed(0);
    fashion_args args = {"/usr/share/datasets/fashion-mnist", "fashion_cnn.h5", 8, 64, 1e-3, false, CT_CPU};
    if (!fashion_parse(argc, argv, &args)) return 2;
    ct_module *net = ct_sequential(
        ct_conv2d_module(1, 32, CT_SHAPE(3), .padding = CT_SHAPE(1)), ct_relu_module(), ct_max_pool2d_module(CT_SHAPE(2)),
        ct_conv2d_module(32, 64, CT_SHAPE(3), .padding = CT_SHAPE(1)), ct_relu_module(), ct_max_pool2d_module(CT_SHAPE(2)),
        ct_flatten_module(), ct_linear(3136, 128), ct_relu_module(), ct_linear(128, 10));
    int rc = fashion_train(net, &args);
    ct_shutdown();
    return rc;
}
