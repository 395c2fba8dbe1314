/* Exports the Fashion-MNIST CNN of examples/fashion_cnn.c to ONNX and checks the file in
 * onnxruntime against ctorch on 1000 test images. `make demo` runs it after fashion_cnn.
 *   build/examples/export_onnx [OUT.onnx] [--weights fashion_cnn.h5] [--data DIR]
 * Loads the weights fashion_cnn saved (or, when the file is absent, trains the model for 300
 * Adam steps so the comparison runs on a meaningful model), exports with a dynamic batch, runs
 * scripts/onnx_run.js (onnxruntime-node, installed by scripts/install-deps.sh) on the images and
 * ends with
 *   onnx_path=<path> onnxruntime_max_rel_err=<x> onnxruntime_argmax_agreement=<fraction>
 * where the error is max |ort - ctorch| / max |ctorch| over all 1000 x 10 logits. */
#include "fashion_train.h"

#include <ctorch/export.h>
#include <math.h>
#include <unistd.h>

#ifndef CT_SOURCE_ROOT
#define CT_SOURCE_ROOT "."
#endif

enum { N_IMAGES = 1000, N_CLASSES = 10, TRAIN_STEPS = 300 };

static ct_module *cnn(void) {
    return ct_sequential(
        ct_conv2d_module(1, 32, CT_SHAPE(3), .padding = CT_SHAPE(1)), ct_relu_module(), ct_max_pool2d_module(CT_SHAPE(2)),
        ct_conv2d_module(32, 64, CT_SHAPE(3), .padding = CT_SHAPE(1)), ct_relu_module(), ct_max_pool2d_module(CT_SHAPE(2)),
        ct_flatten_module(), ct_linear(3136, 128), ct_relu_module(), ct_linear(128, 10));
}

/* A short Adam run over shuffled mini-batches of 64 (the weights file is absent). */
static bool train_briefly(ct_module *net, const char *data) {
    ct_tensor *images, *labels;
    if (!ct_mnist_load(data, CT_SPLIT_TRAIN, &images, &labels)) return false;
    ct_tensor *x = fashion_prepare(images, false);
    ct_optimizer *opt = ct_adam(ct_parameters(net), .lr = 1e-3);
    ct_tensor *order = ct_randperm(ct_size(x, 0));
    for (int64_t s = 0; s < TRAIN_STEPS && ct_ok(); s++) CT_SCOPE {
        ct_tensor *idx = ct_narrow(order, 0, s * 64, 64);
        ct_tensor *loss = ct_cross_entropy(ct_forward(net, ct_index_select(x, 0, idx)), ct_index_select(labels, 0, idx));
        ct_zero_grad(opt);
        if (ct_backward(loss) && ct_step(opt) && (s + 1) % 100 == 0) printf("step %lld/%d  loss %.4f\n", (long long)s + 1, TRAIN_STEPS, ct_item(loss));
    }
    return ct_ok();
}

static bool write_f32(const char *path, const ct_tensor *t) {
    ct_tensor *c = ct_contiguous(ct_to_dtype(t, CT_F32));
    FILE *f = c ? fopen(path, "wb") : NULL;
    if (!f) return false;
    size_t n = (size_t)ct_numel(c);
    bool ok = fwrite(ct_data_ptr(c), sizeof(float), n, f) == n;
    return fclose(f) == 0 && ok;
}

int main(int argc, char **argv) {
    const char *out = "fashion_cnn.onnx", *weights = "fashion_cnn.h5", *data = "/usr/share/datasets/fashion-mnist";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--weights") && i + 1 < argc) weights = argv[++i];
        else if (!strcmp(argv[i], "--data") && i + 1 < argc) data = argv[++i];
        else if (argv[i][0] != '-') out = argv[i];
        else return fprintf(stderr, "usage: %s [OUT.onnx] [--weights FILE.h5] [--data DIR]\n", argv[0]), 2;
    }
    ct_init();
    ct_manual_seed(0);
    int rc = 1;
    CT_SCOPE {
        ct_module *net = cnn();
        ct_tensor *test_images, *test_labels;
        if (!ct_mnist_load(data, CT_SPLIT_TEST, &test_images, &test_labels)) {
            fprintf(stderr, "%s\n(install the dataset with: apt-get install dataset-fashion-mnist)\n", ct_last_error());
            break;
        }
        if (access(weights, R_OK) == 0) {
            if (!ct_load_state(net, weights)) { fprintf(stderr, "loading %s: %s\n", weights, ct_last_error()); break; }
            printf("loaded %s\n", weights);
        } else {
            printf("%s not found (make demo trains it with fashion_cnn): training %d steps instead\n", weights, TRAIN_STEPS);
            if (!train_briefly(net, data)) { fprintf(stderr, "training: %s\n", ct_last_error()); break; }
        }
        ct_tensor *x = ct_narrow(fashion_prepare(test_images, false), 0, 0, N_IMAGES);
        ct_tensor *y = ct_narrow(test_labels, 0, 0, N_IMAGES);

        if (!ct_onnx_export(net, ct_narrow(x, 0, 0, 1), out, .dynamic_batch = true)) {
            fprintf(stderr, "export: %s\n", ct_last_error());
            break;
        }
        printf("exported %s\n", out);

        /* onnxruntime on the 1000 images, through the node script */
        char in_path[64], prefix[64], cmd[1024];
        snprintf(in_path, sizeof in_path, "/tmp/export_onnx_%d_in.f32", (int)getpid());
        snprintf(prefix, sizeof prefix, "/tmp/export_onnx_%d_out", (int)getpid());
        if (!write_f32(in_path, x)) { fprintf(stderr, "cannot write %s\n", in_path); break; }
        snprintf(cmd, sizeof cmd, "node %s/scripts/onnx_run.js %s %s %dx1x28x28:%s", CT_SOURCE_ROOT, out, prefix, N_IMAGES, in_path);
        fflush(stdout); /* before node writes to the same stream */
        int st = system(cmd);
        unlink(in_path);
        char out_path[80];
        snprintf(out_path, sizeof out_path, "%s0.bin", prefix);
        if (st != 0) {
            fprintf(stderr, "onnxruntime failed (%s); is onnxruntime-node installed? (scripts/install-deps.sh)\n", cmd);
            unlink(out_path);
            break;
        }
        float *ort = malloc(sizeof(float) * N_IMAGES * N_CLASSES);
        FILE *f = fopen(out_path, "rb");
        size_t got = f && ort ? fread(ort, sizeof(float), N_IMAGES * N_CLASSES, f) : 0;
        if (f) fclose(f);
        unlink(out_path);
        if (got != N_IMAGES * N_CLASSES) { fprintf(stderr, "onnxruntime wrote %zu of %d logits\n", got, N_IMAGES * N_CLASSES); free(ort); break; }

        /* ctorch's logits of the same images, in eval mode */
        ct_module_eval(net);
        ct_tensor *logits = NULL;
        CT_NO_GRAD { logits = ct_contiguous(ct_forward(net, x)); }
        const float *ref = logits ? ct_data_ptr(logits) : NULL;
        if (!ref) { fprintf(stderr, "forward: %s\n", ct_last_error()); free(ort); break; }
        double diff = 0, scale = 0;
        int agree = 0;
        for (int i = 0; i < N_IMAGES; i++) {
            int a = 0, b = 0;
            for (int k = 0; k < N_CLASSES; k++) {
                double d = fabs((double)ort[i * N_CLASSES + k] - ref[i * N_CLASSES + k]);
                diff = d > diff || isnan(d) ? d : diff;
                scale = fmax(scale, fabs(ref[i * N_CLASSES + k]));
                if (ort[i * N_CLASSES + k] > ort[i * N_CLASSES + a]) a = k;
                if (ref[i * N_CLASSES + k] > ref[i * N_CLASSES + b]) b = k;
            }
            agree += a == b;
        }
        free(ort);
        printf("ctorch test accuracy on these %d images: %.4f\n", N_IMAGES, fashion_accuracy(net, x, y, CT_CPU));
        printf("onnx_path=%s onnxruntime_max_rel_err=%.3g onnxruntime_argmax_agreement=%.4f\n", out, scale > 0 ? diff / scale : diff,
               (double)agree / N_IMAGES);
        rc = 0;
    }
    ct_shutdown();
    return rc;
}
