/* CIFAR-10 binary batches (https://www.cs.toronto.edu/~kriz/cifar.html, "binary version").
 *
 * Each file is a run of 3073-byte records: one label byte (0..9), then the 32x32 image as three
 * planes of 1024 bytes (red, green, blue), each plane row-major. That is already the [3, 32, 32]
 * layout of a CHW tensor, so a sample is one record's pixel bytes scaled to [0, 1]. The training
 * split is the five data_batch_<k>.bin files in order, the test split test_batch.bin; files are
 * mapped, and a file that is not a whole number of records is reported as truncated. */
#include "data_impl.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CIFAR_SIDE 32
#define CIFAR_PIXELS (3 * CIFAR_SIDE * CIFAR_SIDE)
#define CIFAR_RECORD (1 + CIFAR_PIXELS)
#define CIFAR_CLASSES 10
#define CIFAR_TRAIN_FILES 5

typedef struct cifar_state {
    int nfiles;
    ct__mapped_file files[CIFAR_TRAIN_FILES];
    int64_t ends[CIFAR_TRAIN_FILES]; /* cumulative record counts */
} cifar_state;

static int64_t cifar_len(void *state) {
    cifar_state *s = state;
    return s->ends[s->nfiles - 1];
}

static bool cifar_get(void *state, int64_t i, uint64_t seed, ct_sample *out) {
    (void)seed;
    cifar_state *s = state;
    int f = 0;
    while (i >= s->ends[f]) f++;
    int64_t r = i - (f ? s->ends[f - 1] : 0);
    const uint8_t *rec = s->files[f].data + r * CIFAR_RECORD;
    if (rec[0] >= CIFAR_CLASSES)
        return ct_error(CT_ERR_IO, "cifar10: %s: label %u of record %" PRId64 " is not a class (0..%d)",
                        s->files[f].path, rec[0], r, CIFAR_CLASSES - 1), false;
    ct_tensor *x = ct__unit_image(rec + 1, CT_SHAPE(3, CIFAR_SIDE, CIFAR_SIDE));
    ct_tensor *y = ct_scalar_tensor((double)rec[0], .dtype = CT_I64);
    return x && y && ct_sample_add(out, "x", x) && ct_sample_add(out, "y", y);
}

static void cifar_destroy(void *state) {
    cifar_state *s = state;
    for (int f = 0; f < s->nfiles; f++) ct__unmap_file(&s->files[f]);
    free(s);
}

static const ct_dataset_vtable cifar_vtable = {"CIFAR10", cifar_len, cifar_get, cifar_destroy};

/* dir itself when it holds the first file, else torchvision's extracted dir/cifar-10-batches-bin. */
static void batch_path(char *path, size_t size, const char *dir, const char *name) {
    struct stat st;
    snprintf(path, size, "%s/cifar-10-batches-bin/%s", dir, name);
    if (stat(path, &st) != 0) snprintf(path, size, "%s/%s", dir, name);
}

ct_dataset *ct_cifar10_open(const char *dir, ct_dataset_split split) {
    if (!dir) return ct_error(CT_ERR_ARG, "cifar10: dir must not be NULL");
    if (split != CT_SPLIT_TRAIN && split != CT_SPLIT_TEST)
        return ct_error(CT_ERR_ARG, "cifar10: split must be CT_SPLIT_TRAIN or CT_SPLIT_TEST, got %d", (int)split);
    cifar_state *s = calloc(1, sizeof *s);
    if (!s) return ct_error(CT_ERR_OOM, "cifar10: out of memory");
    int nfiles = split == CT_SPLIT_TRAIN ? CIFAR_TRAIN_FILES : 1;
    for (int f = 0; f < nfiles; f++) {
        char name[32], path[4096];
        if (split == CT_SPLIT_TRAIN) snprintf(name, sizeof name, "data_batch_%d.bin", f + 1);
        else snprintf(name, sizeof name, "test_batch.bin");
        batch_path(path, sizeof path, dir, name);
        if (!ct__map_file(&s->files[f], path, "cifar10")) return cifar_destroy(s), NULL;
        s->nfiles = f + 1;
        size_t size = s->files[f].size;
        if (size % CIFAR_RECORD) {
            ct_error(CT_ERR_IO, "cifar10: %s is truncated: %zu bytes are %zu records of %d bytes and %zu bytes more",
                     path, size, size / CIFAR_RECORD, CIFAR_RECORD, size % CIFAR_RECORD);
            return cifar_destroy(s), NULL;
        }
        s->ends[f] = (f ? s->ends[f - 1] : 0) + (int64_t)(size / CIFAR_RECORD);
    }
    return ct_dataset_new(&cifar_vtable, s);
}
