/* DataLoader throughput: samples per second through ct_dataloader_next (shuffled, batch 64,
 * default collate) with 0, 1 and 2 workers, for
 *   case=fashion: Fashion-MNIST's 60,000 training images in memory, each sample a view of its row
 *                 (as a TensorDataset returns), and
 *   case=hdf5:    the same images written to a temporary HDF5 file (uint8, chunked by 64 rows) and
 *                 read lazily, one row per sample, through a dataset over the HDF5 C API.
 * The consumer touches nothing, so the figure is the loader's own cost per sample. */
#include <ctorch/ctorch.h>
#include <ctorch/data.h>

#include "bench_util.h"

#include <hdf5.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FASHION_DIR "/usr/share/datasets/fashion-mnist"
#define BATCH 64

/* ---- case=fashion: rows of in-memory tensors ------------------------------------------------------ */

typedef struct rows {
    ct_tensor *images, *labels;
} rows;

static int64_t rows_len(void *state) { return ct_size(((rows *)state)->images, 0); }

static bool rows_get(void *state, int64_t i, uint64_t seed, ct_sample *out) {
    (void)seed;
    rows *r = state;
    return ct_sample_add(out, "image", ct_select(r->images, 0, i)) && ct_sample_add(out, "label", ct_select(r->labels, 0, i));
}

static void rows_destroy(void *state) {
    rows *r = state;
    ct_release(r->images), ct_release(r->labels);
    free(r);
}

static const ct_dataset_vtable rows_vtable = {"FashionRows", rows_len, rows_get, rows_destroy};

/* ---- case=hdf5: rows read lazily from a file ------------------------------------------------------- */

typedef struct h5rows {
    hid_t file, images;
    int64_t n;
    int64_t *labels; /* 8 bytes a row: read whole at open, as the images' rows are not */
    pthread_mutex_t lock; /* HDF5 serializes calls anyway; a lock also covers non-threadsafe builds */
} h5rows;

static int64_t h5_len(void *state) { return ((h5rows *)state)->n; }

/* Reads row i (row_elems values) of a rank-3 dataset of 28 x 28 rows into buf. */
static bool h5_read_row(hid_t dset, hid_t mem_type, int64_t i, int64_t row_elems, void *buf) {
    hid_t space = H5Dget_space(dset);
    hsize_t start[3] = {(hsize_t)i, 0, 0}, count[3] = {1, 28, 28};
    hsize_t mem_count = (hsize_t)row_elems;
    hid_t mem = H5Screate_simple(1, &mem_count, NULL);
    bool ok = H5Sselect_hyperslab(space, H5S_SELECT_SET, start, NULL, count, NULL) >= 0 &&
              H5Dread(dset, mem_type, mem, space, H5P_DEFAULT, buf) >= 0;
    H5Sclose(mem);
    H5Sclose(space);
    return ok;
}

static bool h5_get(void *state, int64_t i, uint64_t seed, ct_sample *out) {
    (void)seed;
    h5rows *h = state;
    ct_tensor *image = ct_empty(CT_SHAPE(1, 28, 28)), *label = ct_empty(CT_SHAPE(), .dtype = CT_I64);
    if (!image || !label) return false;
    unsigned char pixels[784];
    pthread_mutex_lock(&h->lock);
    bool ok = h5_read_row(h->images, H5T_NATIVE_UCHAR, i, 784, pixels);
    pthread_mutex_unlock(&h->lock);
    *(int64_t *)ct_data_ptr(label) = h->labels[i];
    if (!ok) return ct_error(CT_ERR_IO, "hdf5 bench: reading row %lld failed", (long long)i), false;
    float *p = ct_data_ptr(image);
    for (int k = 0; k < 784; k++) p[k] = (float)pixels[k] * (1.0f / 255.0f);
    return ct_sample_add(out, "image", image) && ct_sample_add(out, "label", label);
}

static void h5_destroy(void *state) {
    h5rows *h = state;
    H5Dclose(h->images);
    free(h->labels);
    H5Fclose(h->file);
    pthread_mutex_destroy(&h->lock);
    free(h);
}

static const ct_dataset_vtable h5_vtable = {"HDF5Rows", h5_len, h5_get, h5_destroy};

/* Writes images (float [N, 1, 28, 28] in [0, 1]) as uint8 "images" [N, 28, 28] chunked by BATCH rows,
 * and labels as int64 "labels" [N]. */
static bool h5_write(const char *path, ct_tensor *images, ct_tensor *labels) {
    int64_t n = ct_size(images, 0);
    unsigned char *pixels = malloc((size_t)n * 784);
    const float *src = ct_data_ptr(images);
    for (int64_t k = 0; k < n * 784; k++) pixels[k] = (unsigned char)(src[k] * 255.0f + 0.5f);
    hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t dims[3] = {(hsize_t)n, 28, 28}, chunk[3] = {BATCH, 28, 28};
    hid_t space = H5Screate_simple(3, dims, NULL), plist = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(plist, 3, chunk);
    hid_t dset = H5Dcreate2(file, "images", H5T_NATIVE_UCHAR, space, H5P_DEFAULT, plist, H5P_DEFAULT);
    bool ok = file >= 0 && dset >= 0 && H5Dwrite(dset, H5T_NATIVE_UCHAR, H5S_ALL, H5S_ALL, H5P_DEFAULT, pixels) >= 0;
    H5Dclose(dset), H5Pclose(plist), H5Sclose(space);
    hsize_t ldims[1] = {(hsize_t)n};
    space = H5Screate_simple(1, ldims, NULL);
    dset = H5Dcreate2(file, "labels", H5T_NATIVE_INT64, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    ok = ok && dset >= 0 && H5Dwrite(dset, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, ct_data_ptr(labels)) >= 0;
    H5Dclose(dset), H5Sclose(space), H5Fclose(file);
    free(pixels);
    return ok;
}

static ct_dataset *h5_open(const char *path) {
    h5rows *h = calloc(1, sizeof *h);
    h->file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    /* A chunk cache that can hold the whole dataset (64 MiB; HDF5's default is 1 MiB), so rows are
     * read from the file once and later epochs hit memory, as the OS page cache would for a flat
     * file. */
    hid_t access = H5Pcreate(H5P_DATASET_ACCESS);
    H5Pset_chunk_cache(access, 12421, 64u << 20, 1.0);
    h->images = H5Dopen2(h->file, "images", access);
    H5Pclose(access);
    hid_t space = H5Dget_space(h->images);
    hsize_t dims[3];
    H5Sget_simple_extent_dims(space, dims, NULL);
    H5Sclose(space);
    h->n = (int64_t)dims[0];
    h->labels = malloc((size_t)h->n * sizeof *h->labels);
    hid_t labels = H5Dopen2(h->file, "labels", H5P_DEFAULT);
    H5Dread(labels, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, h->labels);
    H5Dclose(labels);
    pthread_mutex_init(&h->lock, NULL);
    return ct_dataset_new(&h5_vtable, h);
}

/* ---- the measurement --------------------------------------------------------------------------- */

/* Samples per second over `epochs` shuffled epochs (after one batch of warm-up). */
static double measure(ct_dataset *ds, int workers, int epochs) {
    ct_dataloader *dl = ct_dataloader_new(ds, .batch_size = BATCH, .shuffle = true, .num_workers = workers,
                                          .persistent_workers = workers > 0);
    if (!dl) return -1;
    int64_t samples = 0;
    ct_batch b;
    double start = 0;
    for (int e = 0; e <= epochs; e++) {
        if (e == 1) start = now_s(), samples = 0;
        while (ct_dataloader_next(dl, &b)) samples += ct_size(b.x, 0);
    }
    double seconds = now_s() - start;
    bool ok = ct_ok();
    ct_dataloader_free(dl);
    return ok ? (double)samples / seconds : -1;
}

int main(void) {
    ct_init();
    ct_tensor *images, *labels;
    if (!ct_mnist_load(FASHION_DIR, CT_SPLIT_TRAIN, &images, &labels)) {
        fprintf(stderr, "%s\n(install the dataset with: apt-get install dataset-fashion-mnist)\n", ct_last_error());
        return 1;
    }
    rows *r = malloc(sizeof *r);
    *r = (rows){ct_retain(images), ct_retain(labels)};
    ct_dataset *fashion = ct_dataset_new(&rows_vtable, r);
    char path[] = "/tmp/ctorch_bench_dataloader_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0 || !h5_write(path, images, labels)) {
        fprintf(stderr, "writing the HDF5 file %s failed\n", path);
        return 1;
    }
    close(fd);
    ct_dataset *h5 = h5_open(path);
    struct {
        const char *name;
        ct_dataset *ds;
        int epochs;
    } cases[] = {{"fashion", fashion, 3}, {"hdf5", h5, 2}};
    int status = 0;
    for (int c = 0; c < 2; c++)
        for (int w = 0; w <= 2; w++) {
            double rate = measure(cases[c].ds, w, cases[c].epochs);
            if (rate < 0) {
                fprintf(stderr, "case %s failed: %s\n", cases[c].name, ct_last_error());
                status = 1;
                ct_clear_error();
                continue;
            }
            printf("bench=dataloader case=%s workers=%d batch=%d samples_per_s=%.0f\n", cases[c].name, w, BATCH, rate);
            fflush(stdout);
        }
    ct_dataset_free(fashion);
    ct_dataset_free(h5);
    unlink(path);
    ct_shutdown();
    return status;
}
