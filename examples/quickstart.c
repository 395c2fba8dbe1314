/* The program of DESIGN §1, as a user writes it: Fashion-MNIST from its files through a threaded
 * DataLoader, an MLP, AdamW, a checkpoint and an ONNX export. On a GPU when one is available.
 *
 *   build/examples/quickstart [epochs] [data dir]      (defaults: 1, the Debian package's folder)
 */
#include <ctorch/ctorch.h>

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    int epochs = argc > 1 ? atoi(argv[1]) : 1;
    const char *dir = argc > 2 ? argv[2] : "/usr/share/datasets/fashion-mnist";
    ct_init();
    ct_manual_seed(0);
    ct_device dev = ct_cuda_is_available() ? CT_CUDA(0) : CT_CPU;

    ct_dataset *train = ct_mnist_open(dir, CT_SPLIT_TRAIN), *test = ct_mnist_open(dir, CT_SPLIT_TEST);
    ct_dataloader *dl = ct_dataloader_new(train, .batch_size = 64, .shuffle = true, .num_workers = 2,
                                          .pin_memory = dev.type == CT_DEVICE_CUDA);
    ct_dataloader *test_dl = ct_dataloader_new(test, .batch_size = 1000);
    ct_module *net = ct_sequential(ct_flatten_module(), ct_linear(784, 256), ct_relu_module(), ct_linear(256, 10));
    ct_module_to(net, dev);
    ct_optimizer *opt = ct_adamw(ct_parameters(net), .lr = 1e-3, .weight_decay = 0.01);
    if (!ct_ok()) {
        fprintf(stderr, "%s\n", ct_last_error());
        return 1;
    }

    for (int epoch = 0; epoch < epochs; epoch++) {
        ct_batch b;
        double loss_sum = 0;
        int64_t steps = 0;
        while (ct_dataloader_next(dl, &b)) CT_SCOPE {
            ct_tensor *logits = ct_forward(net, ct_to(b.x, dev));
            ct_tensor *loss = ct_cross_entropy(logits, ct_to(b.y, dev));
            ct_zero_grad(opt);
            ct_backward(loss);
            ct_step(opt);
            loss_sum += ct_item(loss), steps++;
        }
        int64_t correct = 0, seen = 0;
        ct_module_eval(net);
        while (ct_dataloader_next(test_dl, &b)) CT_SCOPE CT_NO_GRAD {
            ct_tensor *pred = ct_argmax(ct_forward(net, ct_to(b.x, dev)), .dim = CT_DIMS(1));
            correct += (int64_t)ct_item(ct_sum(ct_eq(pred, ct_to(b.y, dev))));
            seen += ct_size(b.y, 0);
        }
        ct_module_train(net, true);
        if (!ct_ok()) break;
        printf("epoch %d on %s: loss %.4f  test accuracy %.4f\n", epoch + 1, ct_device_name(dev),
               loss_sum / (double)(steps ? steps : 1), (double)correct / (double)(seen ? seen : 1));
    }
    ct_module_to(net, CT_CPU);
    ct_save_state(net, "quickstart.h5");
    bool exported = false;
    CT_SCOPE {
        exported = ct_onnx_export(net, ct_zeros(CT_SHAPE(1, 1, 28, 28)), "quickstart.onnx", .dynamic_batch = true);
        if (!exported && ct_last_status() == CT_ERR_UNSUPPORTED)
            printf("(no ONNX export in this build: %s)\n", ct_last_error()), ct_clear_error();
    }
    int rc = ct_ok() ? 0 : (fprintf(stderr, "%s\n", ct_last_error()), 1);
    if (!rc) printf("saved quickstart.h5%s\n", exported ? " and quickstart.onnx" : "");
    ct_dataloader_free(dl);
    ct_dataloader_free(test_dl);
    ct_dataset_free(train);
    ct_dataset_free(test);
    ct_shutdown();
    return rc;
}
