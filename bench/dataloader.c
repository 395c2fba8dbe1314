/* DataLoader throughput: samples per second through ct_dataloader_next (shuffled, batch 64,
 * default collate) with 0, 1 and 2 workers, for
 *   case=fashion: Fashion-MNIST's 60,000 training images through ct_mnist_open (the file's bytes in
 *                 memory, each sample converted to float32 [1, 28, 28] in [0, 1] when it is read), and
 *   case=hdf5:    the same images written to a temporary HDF5 file (uint8, chunked by 64 rows) and
 *                 read lazily through ct_hdf5_dataset_open (a cache of one chunk of rows per dataset).
 * The consumer touches nothing, so the figure is the loader's own cost per sample. */
#include <ctorch/ctorch.h>
#include <ctorch/data.h>

#include "bench_util.h"

#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FASHION_DIR "/usr/share/datasets/fashion-mnist"
#define BATCH 64

/* ---- case=hdf5: rows read lazily from a file (ct_hdf5_dataset_open) -------------------------------- */

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
    ct_dataset *fashion = ct_mnist_open(FASHION_DIR, CT_SPLIT_TRAIN);
    char path[] = "/tmp/ctorch_bench_dataloader_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0 || !h5_write(path, images, labels)) {
        fprintf(stderr, "writing the HDF5 file %s failed\n", path);
        return 1;
    }
    close(fd);
    ct_dataset *h5 = ct_hdf5_dataset_open(path, "images", "labels");
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
