/* The training loop shared by examples/fashion_mlp.c and examples/fashion_cnn.c: Fashion-MNIST
 * from the Debian package, shuffled mini-batches, cross-entropy, Adam with the learning rate
 * annealed on a cosine over the epochs (CosineAnnealingLR), progress lines with
 * throughput and ETA, test accuracy, and the state dict saved to HDF5. */
#ifndef FASHION_TRAIN_H
#define FASHION_TRAIN_H

#include <ctorch/ctorch.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct fashion_args {
    const char *data;  /* directory with the four IDX .gz files */
    const char *out;   /* where the state dict goes */
    int epochs;
    int64_t batch_size;
    double lr;
    bool flatten;      /* the MLP takes [N, 784], the CNN [N, 1, 28, 28] */
} fashion_args;

static inline double fashion_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* --epochs N --batch-size B --lr X --data DIR --out FILE override the defaults in *a. */
static inline bool fashion_parse(int argc, char **argv, fashion_args *a) {
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) break;
        if (!strcmp(argv[i], "--epochs")) a->epochs = atoi(v), i++;
        else if (!strcmp(argv[i], "--batch-size")) a->batch_size = atoll(v), i++;
        else if (!strcmp(argv[i], "--lr")) a->lr = atof(v), i++;
        else if (!strcmp(argv[i], "--data")) a->data = v, i++;
        else if (!strcmp(argv[i], "--out")) a->out = v, i++;
        else return fprintf(stderr, "unknown option %s\n", argv[i]), false;
    }
    return a->epochs > 0 && a->batch_size > 0 && a->lr > 0;
}

/* Images normalized with the training set's mean and std (0.2860, 0.3530), as the usual
 * torchvision recipe does. */
static inline ct_tensor *fashion_prepare(ct_tensor *images, bool flatten) {
    ct_tensor *x = ct_div_scalar(ct_sub_scalar(images, 0.2860), 0.3530);
    return flatten ? ct_flatten(x, 1) : x;
}

static inline double fashion_accuracy(ct_module *net, ct_tensor *x, ct_tensor *y) {
    int64_t n = ct_size(x, 0), correct = 0;
    ct_module_eval(net);
    for (int64_t start = 0; start < n; start += 1000) CT_SCOPE CT_NO_GRAD {
        int64_t len = n - start < 1000 ? n - start : 1000;
        ct_tensor *pred = ct_argmax(ct_forward(net, ct_narrow(x, 0, start, len)), .dim = CT_DIMS(1));
        correct += (int64_t)ct_item(ct_sum(ct_eq(pred, ct_narrow(y, 0, start, len))));
    }
    ct_module_train(net, true);
    return (double)correct / (double)n;
}

static inline int fashion_train(ct_module *net, const fashion_args *a) {
    ct_tensor *train_images, *train_labels, *test_images, *test_labels;
    if (!ct_mnist_load(a->data, CT_SPLIT_TRAIN, &train_images, &train_labels) ||
        !ct_mnist_load(a->data, CT_SPLIT_TEST, &test_images, &test_labels)) {
        fprintf(stderr, "%s\n(install the dataset with: apt-get install dataset-fashion-mnist)\n", ct_last_error());
        return 1;
    }
    ct_tensor *x = fashion_prepare(train_images, a->flatten), *x_test = fashion_prepare(test_images, a->flatten);
    printf("%s\n%lld parameters; %lld training and %lld test images\n", ct_module_str(net), (long long)ct_num_parameters(net),
           (long long)ct_size(x, 0), (long long)ct_size(x_test, 0));
    ct_optimizer *opt = ct_adam(ct_parameters(net), .lr = a->lr);
    ct_scheduler *schedule = ct_cosine_annealing_lr(opt, a->epochs);
    int64_t n = ct_size(x, 0), steps = (n + a->batch_size - 1) / a->batch_size;
    double start = fashion_now();
    for (int epoch = 1; epoch <= a->epochs; epoch++) {
        double loss_sum = 0, epoch_start = fashion_now();
        CT_SCOPE {
            ct_tensor *order = ct_randperm(n);
            for (int64_t s = 0; s < steps; s++) CT_SCOPE {
                int64_t len = n - s * a->batch_size < a->batch_size ? n - s * a->batch_size : a->batch_size;
                ct_tensor *idx = ct_narrow(order, 0, s * a->batch_size, len);
                ct_tensor *loss = ct_cross_entropy(ct_forward(net, ct_index_select(x, 0, idx)), ct_index_select(train_labels, 0, idx));
                ct_zero_grad(opt);
                if (!ct_backward(loss) || !ct_step(opt)) break;
                loss_sum += ct_item(loss);
            }
        }
        if (!ct_ok()) {
            fprintf(stderr, "training failed: %s\n", ct_last_error());
            return 1;
        }
        ct_scheduler_step(schedule);
        double now = fashion_now(), per_epoch = (now - start) / epoch;
        printf("epoch %2d/%d  loss %.4f  %.0f images/s  test accuracy %.4f  elapsed %.0fs  ETA %.0fs\n", epoch, a->epochs,
               loss_sum / (double)steps, (double)n / (now - epoch_start), fashion_accuracy(net, x_test, test_labels), now - start,
               per_epoch * (a->epochs - epoch));
        fflush(stdout);
    }
    if (!ct_save_state(net, a->out)) {
        fprintf(stderr, "saving %s: %s\n", a->out, ct_last_error());
        return 1;
    }
    printf("saved %s\n", a->out);
    printf("test_accuracy=%.4f\n", fashion_accuracy(net, x_test, test_labels));
    return 0;
}

#endif /* FASHION_TRAIN_H */
