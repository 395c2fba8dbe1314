/* The training loop shared by examples/fashion_mlp.c and examples/fashion_cnn.c: Fashion-MNIST
 * from the Debian package, shuffled mini-batches from a DataLoader with two workers, cross-entropy, Adam with the learning rate
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
    ct_device device;  /* where the model and each batch live (zero-initialized: the CPU) */
} fashion_args;

/* "cpu", "cuda" (= cuda:0) or "cuda:N"; false for anything else. */
static inline bool fashion_device(const char *s, ct_device *d) {
    char *end;
    if (!strcmp(s, "cpu")) return *d = CT_CPU, true;
    if (!strcmp(s, "cuda")) return *d = CT_CUDA(0), true;
    if (strncmp(s, "cuda:", 5) || !s[5]) return false;
    long i = strtol(s + 5, &end, 10);
    if (*end || i < 0 || i > 127) return false;
    return *d = CT_CUDA(i), true;
}

static inline double fashion_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* --epochs N --batch-size B --lr X --data DIR --out FILE --device cpu|cuda[:N] override the
 * defaults in *a. */
static inline bool fashion_parse(int argc, char **argv, fashion_args *a) {
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) break;
        if (!strcmp(argv[i], "--epochs")) a->epochs = atoi(v), i++;
        else if (!strcmp(argv[i], "--batch-size")) a->batch_size = atoll(v), i++;
        else if (!strcmp(argv[i], "--lr")) a->lr = atof(v), i++;
        else if (!strcmp(argv[i], "--data")) a->data = v, i++;
        else if (!strcmp(argv[i], "--out")) a->out = v, i++;
        else if (!strcmp(argv[i], "--device")) {
            if (!fashion_device(v, &a->device)) return fprintf(stderr, "unknown device %s (cpu, cuda or cuda:N)\n", v), false;
            i++;
        }
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

/* A shuffling loader over (x, y) (torch's TensorDataset: sample i is row i of each, as views)
 * with two worker threads that prefetch the next batches. */
static inline ct_dataloader *fashion_loader(ct_tensor *x, ct_tensor *y, int64_t batch_size, bool pin_memory) {
    ct_dataset *ds = ct_tensor_dataset(x, y);
    ct_dataloader *loader = ds ? ct_dataloader_new(ds, .batch_size = batch_size, .shuffle = true, .num_workers = 2,
                                                   .persistent_workers = true, .pin_memory = pin_memory)
                               : NULL;
    ct_dataset_free(ds); /* the loader holds its own reference */
    return loader;
}

/* The data stays on the host; each batch moves to the model's device (a no-op on the CPU). */
static inline double fashion_accuracy(ct_module *net, ct_tensor *x, ct_tensor *y, ct_device device) {
    int64_t n = ct_size(x, 0), correct = 0;
    ct_module_eval(net);
    for (int64_t start = 0; start < n; start += 1000) CT_SCOPE CT_NO_GRAD {
        int64_t len = n - start < 1000 ? n - start : 1000;
        ct_tensor *pred = ct_argmax(ct_forward(net, ct_to(ct_narrow(x, 0, start, len), device)), .dim = CT_DIMS(1));
        correct += (int64_t)ct_item(ct_sum(ct_eq(pred, ct_to(ct_narrow(y, 0, start, len), device))));
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
    if (!ct_module_to(net, a->device)) {
        fprintf(stderr, "moving the model to %s: %s\n", ct_device_name(a->device), ct_last_error());
        return 1;
    }
    printf("%s\n%lld parameters; %lld training and %lld test images\n", ct_module_str(net), (long long)ct_num_parameters(net),
           (long long)ct_size(x, 0), (long long)ct_size(x_test, 0));
    ct_optimizer *opt = ct_adam(ct_parameters(net), .lr = a->lr);
    ct_scheduler *schedule = ct_cosine_annealing_lr(opt, a->epochs);
    int64_t n = ct_size(x, 0);
    ct_dataloader *loader = fashion_loader(x, train_labels, a->batch_size, a->device.type == CT_DEVICE_CUDA);
    if (!loader) {
        fprintf(stderr, "making the DataLoader failed: %s\n", ct_last_error());
        return 1;
    }
    int64_t steps = ct_dataloader_len(loader);
    double start = fashion_now();
    for (int epoch = 1; epoch <= a->epochs; epoch++) {
        double loss_sum = 0, epoch_start = fashion_now();
        ct_batch b; /* its tensors belong to the loader until the next call */
        while (ct_dataloader_next(loader, &b)) CT_SCOPE {
            ct_tensor *loss = ct_cross_entropy(ct_forward(net, ct_to(b.x, a->device)), ct_to(b.y, a->device));
            ct_zero_grad(opt);
            if (!ct_backward(loss) || !ct_step(opt)) break; /* the pending error ends the loop */
            loss_sum += ct_item(loss);
        }
        if (!ct_ok()) {
            fprintf(stderr, "training failed: %s\n", ct_last_error());
            ct_dataloader_free(loader);
            return 1;
        }
        ct_scheduler_step(schedule);
        double now = fashion_now(), per_epoch = (now - start) / epoch;
        printf("epoch %2d/%d  loss %.4f  %.0f images/s  test accuracy %.4f  elapsed %.0fs  ETA %.0fs\n", epoch, a->epochs,
               loss_sum / (double)steps, (double)n / (now - epoch_start), fashion_accuracy(net, x_test, test_labels, a->device), now - start,
               per_epoch * (a->epochs - epoch));
        fflush(stdout);
    }
    ct_dataloader_free(loader);
    if (!ct_module_to(net, CT_CPU) || !ct_save_state(net, a->out)) {
        fprintf(stderr, "saving %s: %s\n", a->out, ct_last_error());
        return 1;
    }
    printf("saved %s\n", a->out);
    printf("test_accuracy=%.4f\n", fashion_accuracy(net, x_test, test_labels, CT_CPU));
    return 0;
}

#endif /* FASHION_TRAIN_H */
