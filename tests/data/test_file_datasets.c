/* File datasets: Fashion-MNIST through ct_mnist_open against ct_mnist_load, and small CIFAR-10
 * batches, HDF5 files (written with the HDF5 C API), llm.c / raw token files and text files
 * written here, every value checked exactly; then each reader's errors on missing, truncated and
 * corrupt files, each message naming the file. */
#define _XOPEN_SOURCE 700
#include "../../nn/state_file_impl.h"
#include "../common/testutil.h"

#include <ctorch/data.h>
#include <hdf5.h>
#include <zlib.h>

#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FASHION_DIR "/usr/share/datasets/fashion-mnist"

static char tmpdir[256];

static const char *path_of(const char *name) {
    static char buf[4][512];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, 512, "%s/%s", tmpdir, name);
    return p;
}

static void write_file(const char *name, const void *data, size_t n) {
    FILE *f = fopen(path_of(name), "wb");
    assert_non_null(f);
    if (n) assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static int make_tmpdir(void **state) {
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ctorch-file-datasets-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state) {
    (void)state;
    return nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void get(ct_dataset *ds, int64_t i, ct_sample *s) {
    if (!ct_dataset_get_seeded(ds, i, 0, s)) fail_msg("get %lld: %s", (long long)i, ct_last_error());
}

/* ---- Fashion-MNIST ------------------------------------------------------------------------------ */

static void check_against_load(ct_dataset_split split, int64_t n, const int64_t *indices, int k) {
    ct_dataset *ds = ct_mnist_open(FASHION_DIR, split);
    assert_non_null(ds);
    assert_int_equal(ct_dataset_len(ds), n);
    assert_string_equal(ct_dataset_name(ds), "MNIST");
    ct_tensor *images, *labels;
    assert_true(ct_mnist_load(FASHION_DIR, split, &images, &labels));
    for (int j = 0; j < k; j++) {
        ct_sample s;
        get(ds, indices[j], &s);
        assert_int_equal(ct_dtype_of(s.x), CT_F32);
        assert_int_equal(ct_dtype_of(s.y), CT_I64);
        assert_int_equal(ct_ndim(s.y), 0);
        ct_tensor *want = ct_select(images, 0, indices[j]);
        tu_assert_values(s.x, CT_SHAPE(1, 28, 28), tu_values(want), 0, 0);
        assert_int_equal((int64_t)ct_item(s.y), (int64_t)ct_get(labels, CT_SHAPE(indices[j])));
    }
    ct_dataset_free(ds);
}

static void test_fashion_mnist(void **state) {
    (void)state;
    if (access(FASHION_DIR "/t10k-images-idx3-ubyte.gz", R_OK) != 0) {
        skip(); /* dataset-fashion-mnist is not installed */
    }
    check_against_load(CT_SPLIT_TEST, 10000, (int64_t[]){0, 1, 4321, 9999}, 4);
    check_against_load(CT_SPLIT_TRAIN, 60000, (int64_t[]){0, 31337, 59999}, 3);
    /* known values: the first test labels (ankle boot, pullover, trouser) and a pixel */
    ct_dataset *ds = ct_mnist_open(FASHION_DIR, CT_SPLIT_TEST);
    ct_sample s;
    const int64_t first_labels[3] = {9, 2, 1};
    for (int i = 0; i < 3; i++) {
        get(ds, i, &s);
        assert_int_equal((int64_t)ct_item(s.y), first_labels[i]);
    }
    get(ds, 0, &s);
    /* bytes 12..14 of row 14 of test image 0 are 98, 136, 110 (read from the .gz with Python) */
    for (int w = 12; w <= 14; w++)
        assert_true(ct_get(s.x, CT_SHAPE(0, 14, w)) == (double)((float)(w == 12 ? 98 : w == 13 ? 136 : 110) / 255.0f));
    ct_dataset_free(ds);
    assert_null(ct_mnist_open("/nonexistent/mnist", CT_SPLIT_TRAIN));
    tu_assert_error(CT_ERR_IO, "cannot open /nonexistent/mnist/train-images-idx3-ubyte.gz: No such file or directory");
    assert_null(ct_mnist_open(FASHION_DIR, (ct_dataset_split)3));
    tu_assert_error(CT_ERR_ARG, "split must be CT_SPLIT_TRAIN or CT_SPLIT_TEST, got 3");
}

/* IDX files for ct_mnist_open's errors: a gzipped images file cut short, a plain one whose
 * header promises more images than it holds, a labels file with the wrong magic number. */
static void put_be32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16), p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static size_t idx_file(unsigned char *b, uint32_t magic, uint32_t count, bool images, int stored) {
    put_be32(b, magic);
    put_be32(b + 4, count);
    size_t header = images ? 16 : 8;
    if (images) put_be32(b + 8, 28), put_be32(b + 12, 28);
    size_t item = images ? 784 : 1;
    uint32_t lcg = 12345; /* pixels that do not compress, so a cut .gz ends inside them */
    for (size_t j = 0; j < (size_t)stored * item; j++)
        lcg = lcg * 1664525u + 1013904223u, b[header + j] = (unsigned char)(images ? lcg >> 24 : j % 10);
    return header + (size_t)stored * item;
}

static void test_mnist_errors(void **state) {
    (void)state;
    static unsigned char img[16 + 3 * 784], lbl[8 + 3];
    char want[600];
    write_file("t10k-labels-idx1-ubyte", lbl, idx_file(lbl, 0x801, 3, false, 3));
    /* gzip of 3 whole images, cut in the middle of the compressed stream */
    size_t n = idx_file(img, 0x803, 3, true, 3);
    gzFile gz = gzopen(path_of("t10k-images-idx3-ubyte.gz"), "wb");
    assert_non_null(gz);
    assert_int_equal(gzwrite(gz, img, (unsigned)n), (int)n);
    gzclose(gz);
    FILE *f = fopen(path_of("t10k-images-idx3-ubyte.gz"), "rb");
    static unsigned char packed[1 << 14];
    size_t packed_n = fread(packed, 1, sizeof packed, f);
    fclose(f);
    write_file("t10k-images-idx3-ubyte.gz", packed, packed_n / 2);
    assert_null(ct_mnist_open(tmpdir, CT_SPLIT_TEST));
    assert_true(packed_n > 2000);
    snprintf(want, sizeof want, "mnist: %s is truncated: images 0..2 of 3 needs 2352 bytes, found",
             path_of("t10k-images-idx3-ubyte.gz"));
    tu_assert_error(CT_ERR_IO, want);
    remove(path_of("t10k-images-idx3-ubyte.gz"));
    /* plain file: the header says 3 images, 2 are there */
    write_file("t10k-images-idx3-ubyte", img, idx_file(img, 0x803, 3, true, 2));
    assert_null(ct_mnist_open(tmpdir, CT_SPLIT_TEST));
    snprintf(want, sizeof want, "mnist: %s is truncated: images 0..2 of 3 needs 2352 bytes, found 1568",
             path_of("t10k-images-idx3-ubyte"));
    tu_assert_error(CT_ERR_IO, want);
    /* whole files open; a labels file with an images magic number does not */
    write_file("t10k-images-idx3-ubyte", img, idx_file(img, 0x803, 3, true, 3));
    ct_dataset *ds = ct_mnist_open(tmpdir, CT_SPLIT_TEST);
    assert_non_null(ds);
    assert_int_equal(ct_dataset_len(ds), 3);
    ct_dataset_free(ds);
    write_file("t10k-labels-idx1-ubyte", lbl, idx_file(lbl, 0x803, 3, false, 3));
    assert_null(ct_mnist_open(tmpdir, CT_SPLIT_TEST));
    snprintf(want, sizeof want, "mnist: %s has the wrong magic number 0x00000803 (expected 0x00000801",
             path_of("t10k-labels-idx1-ubyte"));
    tu_assert_error(CT_ERR_IO, want);
    remove(path_of("t10k-images-idx3-ubyte"));
    remove(path_of("t10k-labels-idx1-ubyte"));
}

/* ---- CIFAR-10 ---------------------------------------------------------------------------------- */

#define REC 3073
/* Record r of a batch written here: label (r * 3 + salt) % 10, pixel p = (p * 7 + r + salt) % 256. */
static void cifar_record(unsigned char *rec, int r, int salt) {
    rec[0] = (unsigned char)((r * 3 + salt) % 10);
    for (int p = 0; p < 3072; p++) rec[1 + p] = (unsigned char)((p * 7 + r + salt) % 256);
}

static void write_batch(const char *name, int records, int salt, size_t cut) {
    size_t n = (size_t)records * REC;
    unsigned char *b = malloc(n ? n : 1);
    for (int r = 0; r < records; r++) cifar_record(b + (size_t)r * REC, r, salt);
    write_file(name, b, n - cut);
    free(b);
}

static void test_cifar10(void **state) {
    (void)state;
    const int counts[5] = {2, 3, 1, 2, 2};
    for (int f = 0; f < 5; f++) {
        char name[32];
        snprintf(name, sizeof name, "data_batch_%d.bin", f + 1);
        write_batch(name, counts[f], 10 * f, 0);
    }
    write_batch("test_batch.bin", 4, 77, 0);
    ct_dataset *train = ct_cifar10_open(tmpdir, CT_SPLIT_TRAIN), *test = ct_cifar10_open(tmpdir, CT_SPLIT_TEST);
    assert_non_null(train);
    assert_non_null(test);
    assert_int_equal(ct_dataset_len(train), 10);
    assert_int_equal(ct_dataset_len(test), 4);
    unsigned char rec[REC];
    double want[3072];
    for (int64_t i = 0, f = 0, r = 0; i < 10; i++, r++) {
        while (r >= counts[f]) r = 0, f++;
        cifar_record(rec, (int)r, 10 * (int)f);
        for (int p = 0; p < 3072; p++) want[p] = (double)(float)((float)rec[1 + p] / 255.0f);
        ct_sample s;
        get(train, i, &s);
        tu_assert_values(s.x, CT_SHAPE(3, 32, 32), want, 0, 0);
        assert_int_equal(ct_dtype_of(s.x), CT_F32);
        tu_assert_values(s.y, CT_SHAPE(), (double[]){rec[0]}, 0, 0);
        assert_int_equal(ct_dtype_of(s.y), CT_I64);
    }
    ct_sample s;
    get(test, 3, &s);
    cifar_record(rec, 3, 77);
    /* planes: red, green, blue; pixel (c, h, w) is byte 1 + c * 1024 + h * 32 + w */
    assert_true(ct_get(s.x, CT_SHAPE(2, 5, 9)) == (double)((float)rec[1 + 2048 + 5 * 32 + 9] / 255.0f));
    ct_dataset_free(train);
    ct_dataset_free(test);

    /* torchvision's extracted layout: dir/cifar-10-batches-bin */
    assert_int_equal(mkdir(path_of("cifar-10-batches-bin"), 0700), 0);
    write_batch("cifar-10-batches-bin/test_batch.bin", 1, 5, 0);
    test = ct_cifar10_open(tmpdir, CT_SPLIT_TEST);
    assert_int_equal(ct_dataset_len(test), 1);
    ct_dataset_free(test);
    remove(path_of("cifar-10-batches-bin/test_batch.bin"));
    rmdir(path_of("cifar-10-batches-bin"));

    /* errors: a missing batch, a truncated batch, a label that is not a class */
    char want_msg[600];
    remove(path_of("data_batch_3.bin"));
    assert_null(ct_cifar10_open(tmpdir, CT_SPLIT_TRAIN));
    snprintf(want_msg, sizeof want_msg, "cifar10: cannot open %s: No such file or directory", path_of("data_batch_3.bin"));
    tu_assert_error(CT_ERR_IO, want_msg);
    write_batch("data_batch_3.bin", 2, 0, 100);
    assert_null(ct_cifar10_open(tmpdir, CT_SPLIT_TRAIN));
    snprintf(want_msg, sizeof want_msg, "cifar10: %s is truncated: 6046 bytes are 1 records of 3073 bytes and 2973 bytes more",
             path_of("data_batch_3.bin"));
    tu_assert_error(CT_ERR_IO, want_msg);
    unsigned char bad[2 * REC];
    cifar_record(bad, 0, 0);
    cifar_record(bad + REC, 1, 0);
    bad[REC] = 12;
    write_file("test_batch.bin", bad, sizeof bad);
    test = ct_cifar10_open(tmpdir, CT_SPLIT_TEST);
    assert_non_null(test);
    get(test, 0, &s);
    assert_false(ct_dataset_get_seeded(test, 1, 0, &s));
    snprintf(want_msg, sizeof want_msg, "cifar10: %s: label 12 of record 1 is not a class (0..9)", path_of("test_batch.bin"));
    tu_assert_error(CT_ERR_IO, want_msg);
    ct_dataset_free(test);
}

/* ---- HDF5 -------------------------------------------------------------------------------------- */

static void h5_write(hid_t file, const char *name, hid_t type, int rank, const hsize_t *dims, const hsize_t *chunk,
                     const void *data) {
    hid_t space = H5Screate_simple(rank, dims, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (chunk) H5Pset_chunk(dcpl, rank, chunk), H5Pset_deflate(dcpl, 4);
    hid_t ds = H5Dcreate2(file, name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    assert_true(ds >= 0);
    assert_true(H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0);
    H5Dclose(ds);
    H5Pclose(dcpl);
    H5Sclose(space);
}

#define H5_ROWS 10
static unsigned char h5_images[H5_ROWS][2][3];
static int64_t h5_labels[H5_ROWS];
static float h5_feat[H5_ROWS][4];
static int16_t h5_small[H5_ROWS];

static void write_h5(const char *name, int label_rows) {
    for (int i = 0; i < H5_ROWS; i++) {
        for (int j = 0; j < 6; j++) h5_images[i][j / 3][j % 3] = (unsigned char)(i * 20 + j);
        h5_labels[i] = (int64_t)i * 1000000007LL;
        for (int j = 0; j < 4; j++) h5_feat[i][j] = (float)i + 0.125f * (float)j;
        h5_small[i] = (int16_t)(-300 * i);
    }
    hid_t f = H5Fcreate(path_of(name), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(f >= 0);
    h5_write(f, "images", H5T_STD_U8LE, 3, (hsize_t[]){H5_ROWS, 2, 3}, (hsize_t[]){4, 2, 3}, h5_images);
    h5_write(f, "labels", H5T_NATIVE_INT64, 1, (hsize_t[]){(hsize_t)label_rows}, NULL, h5_labels);
    h5_write(f, "feat", H5T_NATIVE_FLOAT, 2, (hsize_t[]){H5_ROWS, 4}, (hsize_t[]){3, 4}, h5_feat);
    h5_write(f, "small", H5T_NATIVE_INT16, 1, (hsize_t[]){H5_ROWS}, NULL, h5_small);
    H5Fclose(f);
}

static void check_h5_row(ct_dataset *ds, int64_t i) {
    ct_sample s;
    get(ds, i, &s);
    assert_int_equal(s.n, 4);
    assert_string_equal(s.names[0], "images");
    assert_string_equal(s.names[3], "small");
    double img[6], feat[4];
    for (int j = 0; j < 6; j++) img[j] = h5_images[i][j / 3][j % 3];
    for (int j = 0; j < 4; j++) feat[j] = h5_feat[i][j];
    tu_assert_values(s.fields[0], CT_SHAPE(2, 3), img, 0, 0);
    assert_int_equal(ct_dtype_of(s.fields[0]), CT_U8);
    assert_int_equal(ct_dtype_of(s.fields[1]), CT_I64);
    assert_int_equal(ct_ndim(s.fields[1]), 0);
    assert_int_equal(*(int64_t *)ct_data_ptr(s.fields[1]), h5_labels[i]);
    tu_assert_values(s.fields[2], CT_SHAPE(4), feat, 0, 0);
    assert_int_equal(ct_dtype_of(s.fields[2]), CT_F32);
    tu_assert_values(s.fields[3], CT_SHAPE(), (double[]){h5_small[i]}, 0, 0);
    assert_int_equal(ct_dtype_of(s.fields[3]), CT_I32);
}

/* Threads reading every row in their own order at once: the row caches and HDF5 calls must be
 * serialized. Counts the rows whose values differ from the file's. */
typedef struct reader {
    ct_dataset *ds;
    int id, wrong;
} reader;

static void *read_rows(void *arg) {
    reader *r = arg;
    for (int rep = 0; rep < 50; rep++)
        for (int64_t k = 0; k < H5_ROWS; k++) CT_SCOPE {
            int64_t i = (k * (2 * r->id + 1) + rep) % H5_ROWS; /* a different stride per thread */
            ct_sample s;
            if (!ct_dataset_get_seeded(r->ds, i, 0, &s)) { r->wrong++; break; }
            const unsigned char *img = ct_data_ptr(s.fields[0]);
            const float *feat = ct_data_ptr(s.fields[2]);
            r->wrong += memcmp(img, h5_images[i], 6) != 0 || *(int64_t *)ct_data_ptr(s.fields[1]) != h5_labels[i] ||
                        memcmp(feat, h5_feat[i], sizeof h5_feat[i]) != 0;
        }
    return NULL;
}

static void test_hdf5(void **state) {
    (void)state;
    int64_t open_ids = ct__state_file_open_ids();
    write_h5("data.h5", H5_ROWS);
    ct_dataset *ds = ct_hdf5_dataset_open(path_of("data.h5"), "images", "labels", "feat", "small");
    if (!ds) fail_msg("%s", ct_last_error());
    assert_int_equal(ct_dataset_len(ds), H5_ROWS);
    for (int64_t i = 0; i < H5_ROWS; i++) check_h5_row(ds, i);
    const int64_t order[] = {9, 0, 5, 4, 8, 1, 1, 7, 2, 6, 3}; /* across blocks, backwards, repeated */
    for (size_t k = 0; k < sizeof order / sizeof *order; k++) check_h5_row(ds, order[k]);
    pthread_t threads[4];
    reader readers[4];
    for (int t = 0; t < 4; t++) {
        readers[t] = (reader){ds, t, 0};
        assert_int_equal(pthread_create(&threads[t], NULL, read_rows, &readers[t]), 0);
    }
    for (int t = 0; t < 4; t++) {
        pthread_join(threads[t], NULL);
        assert_int_equal(readers[t].wrong, 0);
    }
    ct_dataset_free(ds);

    char want[700];
    assert_null(ct_hdf5_dataset_open(path_of("missing.h5"), "images"));
    snprintf(want, sizeof want, "hdf5: cannot open %s: No such file or directory", path_of("missing.h5"));
    tu_assert_error(CT_ERR_IO, want);
    write_file("text.h5", "not hdf5 at all", 15);
    assert_null(ct_hdf5_dataset_open(path_of("text.h5"), "images"));
    snprintf(want, sizeof want, "hdf5: cannot open %s as an HDF5 file", path_of("text.h5"));
    tu_assert_error(CT_ERR_IO, want);
    assert_null(ct_hdf5_dataset_open(path_of("data.h5"), "images", "nope"));
    snprintf(want, sizeof want, "hdf5: %s has no dataset 'nope'", path_of("data.h5"));
    tu_assert_error(CT_ERR_IO, want);

    /* truncated: the first half of the file */
    FILE *f = fopen(path_of("data.h5"), "rb");
    assert_non_null(f);
    static unsigned char bytes[1 << 16];
    size_t n = fread(bytes, 1, sizeof bytes, f);
    fclose(f);
    assert_true(n > 0 && n < sizeof bytes);
    write_file("cut.h5", bytes, n / 2);
    assert_null(ct_hdf5_dataset_open(path_of("cut.h5"), "images"));
    snprintf(want, sizeof want, "hdf5: cannot open %s as an HDF5 file (HDF5: truncated file", path_of("cut.h5"));
    tu_assert_error(CT_ERR_IO, want);

    /* float16 (h5py's type: float32 narrowed to binary16's fields) keeps its bits; strings fail */
    hid_t f16 = H5Tcopy(H5T_IEEE_F32LE);
    H5Tset_fields(f16, 15, 10, 5, 0, 10);
    H5Tset_size(f16, 2);
    H5Tset_ebias(f16, 15);
    const uint16_t halves[3][2] = {{0x3c00, 0xc000}, {0x3555, 0x7bff}, {0x0001, 0x8000}}; /* 1, -2, 1/3, 65504, ... */
    hid_t file = H5Fcreate(path_of("half.h5"), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    h5_write(file, "h", f16, 2, (hsize_t[]){3, 2}, NULL, halves);
    hid_t str = H5Tcopy(H5T_C_S1);
    H5Tset_size(str, 4);
    h5_write(file, "names", str, 1, (hsize_t[]){3}, NULL, "abcdefghijkl");
    H5Tclose(str);
    H5Tclose(f16);
    H5Fclose(file);
    ds = ct_hdf5_dataset_open(path_of("half.h5"), "h");
    assert_non_null(ds);
    for (int64_t i = 0; i < 3; i++) {
        ct_sample s;
        get(ds, i, &s);
        assert_int_equal(ct_dtype_of(s.x), CT_F16);
        assert_memory_equal(ct_data_ptr(s.x), halves[i], sizeof halves[i]);
    }
    ct_dataset_free(ds);
    assert_null(ct_hdf5_dataset_open(path_of("half.h5"), "h", "names"));
    snprintf(want, sizeof want, "hdf5: %s: dataset 'names' has a type ctorch cannot read", path_of("half.h5"));
    tu_assert_error(CT_ERR_DTYPE, want);

    /* row counts that differ */
    write_h5("short.h5", H5_ROWS - 1);
    assert_null(ct_hdf5_dataset_open(path_of("short.h5"), "images", "labels"));
    snprintf(want, sizeof want, "hdf5: %s: dataset 'labels' has 9 rows but 'images' has 10", path_of("short.h5"));
    tu_assert_error(CT_ERR_SHAPE, want);
    assert_int_equal(ct__state_file_open_ids(), open_ids); /* every HDF5 handle closed, on every path */
}

/* ---- token and text files ------------------------------------------------------------------------ */

static void write_llmc(const char *name, int32_t magic, int32_t version, int32_t count, const void *tokens,
                       size_t token_bytes) {
    unsigned char *b = calloc(1, 1024 + token_bytes);
    int32_t h[3] = {magic, version, count};
    memcpy(b, h, sizeof h);
    memcpy(b + 1024, tokens, token_bytes);
    write_file(name, b, 1024 + token_bytes);
    free(b);
}

/* Window i of T over tokens: x = tokens[iT .. iT+T), y shifted by one. */
static void check_windows(ct_dataset *ds, const int64_t *tokens, int64_t count, int64_t T) {
    assert_int_equal(ct_dataset_len(ds), (count - 1) / T);
    double *x = malloc((size_t)T * sizeof *x), *y = malloc((size_t)T * sizeof *y);
    for (int64_t i = 0; i < ct_dataset_len(ds); i++) {
        for (int64_t t = 0; t < T; t++) x[t] = (double)tokens[i * T + t], y[t] = (double)tokens[i * T + t + 1];
        ct_sample s;
        get(ds, i, &s);
        assert_int_equal(ct_dtype_of(s.x), CT_I64);
        tu_assert_values(s.x, CT_SHAPE(T), x, 0, 0);
        tu_assert_values(s.y, CT_SHAPE(T), y, 0, 0);
    }
    free(x);
    free(y);
}

static void test_token_files(void **state) {
    (void)state;
    enum { N = 21 };
    uint16_t t16[N];
    uint32_t t32[N];
    int64_t want16[N], want32[N];
    for (int i = 0; i < N; i++) {
        t16[i] = (uint16_t)(i == 7 ? 65535 : 1000 + 37 * i), want16[i] = t16[i];
        t32[i] = (uint32_t)(i == 3 ? 4000000000u : 100000u + 12345u * (uint32_t)i), want32[i] = t32[i];
    }
    write_llmc("gpt2.bin", 20240520, 1, N, t16, sizeof t16);
    write_llmc("llama3.bin", 20240801, 7, N, t32, sizeof t32);
    write_file("raw16.bin", t16, sizeof t16);
    write_file("raw32.bin", t32, sizeof t32);
    struct {
        const char *name;
        ct_token_format format;
        const int64_t *want;
    } cases[] = {{"gpt2.bin", CT_TOKENS_LLMC, want16}, {"llama3.bin", CT_TOKENS_LLMC, want32},
                 {"raw16.bin", CT_TOKENS_U16, want16}, {"raw32.bin", CT_TOKENS_U32, want32}};
    for (size_t c = 0; c < 4; c++)
        for (int64_t T = 1; T <= N - 1; T += 3) {
            ct_dataset *ds = ct_token_dataset_open(path_of(cases[c].name), T, .format = cases[c].format);
            if (!ds) fail_msg("%s: %s", cases[c].name, ct_last_error());
            check_windows(ds, cases[c].want, N, T);
            ct_dataset_free(ds);
        }

    char want[700];
#define TOKEN_ERROR(file, T, status, ...)                                       \
    do {                                                                        \
        assert_null(ct_token_dataset_open(path_of(file), (T)));                 \
        snprintf(want, sizeof want, __VA_ARGS__);                               \
        tu_assert_error(status, want);                                          \
    } while (0)
    TOKEN_ERROR("none.bin", 4, CT_ERR_IO, "tokens: cannot open %s: No such file or directory", path_of("none.bin"));
    static const unsigned char zeros[100];
    write_file("short.bin", zeros, sizeof zeros);
    TOKEN_ERROR("short.bin", 4, CT_ERR_IO, "tokens: %s is truncated: the header needs 1024 bytes, the file has 100",
                path_of("short.bin"));
    write_llmc("magic.bin", 12345, 1, N, t16, sizeof t16);
    TOKEN_ERROR("magic.bin", 4, CT_ERR_IO, "tokens: %s has the wrong magic number 12345", path_of("magic.bin"));
    write_llmc("version.bin", 20240520, 2, N, t16, sizeof t16);
    TOKEN_ERROR("version.bin", 4, CT_ERR_IO, "tokens: %s has header version 2, expected 1", path_of("version.bin"));
    write_llmc("cut.bin", 20240520, 1, 30, t16, sizeof t16);
    TOKEN_ERROR("cut.bin", 4, CT_ERR_IO, "tokens: %s is truncated: the header says 30 tokens (1084 bytes), the file has "
                "1066 bytes", path_of("cut.bin"));
    write_llmc("extra.bin", 20240520, 1, 20, t16, sizeof t16);
    TOKEN_ERROR("extra.bin", 4, CT_ERR_IO, "tokens: %s has 2 bytes after the 20 tokens its header counts",
                path_of("extra.bin"));
    TOKEN_ERROR("gpt2.bin", 21, CT_ERR_IO, "tokens: %s holds 21 tokens, too few for one window of T + 1 = 22",
                path_of("gpt2.bin"));
    TOKEN_ERROR("gpt2.bin", 0, CT_ERR_ARG, "tokens: T must be at least 1, got 0");
    write_file("odd.bin", t16, 9);
    assert_null(ct_token_dataset_open(path_of("odd.bin"), 2, .format = CT_TOKENS_U16));
    snprintf(want, sizeof want, "tokens: %s is truncated: 9 bytes is not a whole number of uint16 tokens", path_of("odd.bin"));
    tu_assert_error(CT_ERR_IO, want);
#undef TOKEN_ERROR
}

static void test_text_file(void **state) {
    (void)state;
    const char *text = "hello world\nhello again\n";
    int64_t n = (int64_t)strlen(text), bytes[64];
    write_file("input.txt", text, (size_t)n);
    for (int64_t i = 0; i < n; i++) bytes[i] = (unsigned char)text[i];
    for (int64_t T = 1; T < n; T += 4) {
        ct_dataset *ds = ct_text_dataset_open(path_of("input.txt"), T);
        assert_non_null(ds);
        check_windows(ds, bytes, n, T);
        ct_dataset_free(ds);
    }
    /* a character vocabulary: sorted(set(text)) */
    ct_text_vocab vocab;
    ct_dataset *ds = ct_text_dataset_open(path_of("input.txt"), 5, .vocab = &vocab);
    assert_non_null(ds);
    const char *chars = "\n adeghilnorw";
    assert_int_equal(vocab.size, (int)strlen(chars));
    assert_memory_equal(vocab.chars, chars, strlen(chars));
    int64_t ids[64];
    for (int64_t i = 0; i < n; i++) ids[i] = strchr(chars, text[i]) - chars;
    check_windows(ds, ids, n, 5);
    ct_dataset_free(ds);
    char want[600];
    assert_null(ct_text_dataset_open(path_of("input.txt"), n));
    snprintf(want, sizeof want, "text: %s holds 24 tokens, too few for one window of T + 1 = 25", path_of("input.txt"));
    tu_assert_error(CT_ERR_IO, want);
    assert_null(ct_text_dataset_open(path_of("nothing.txt"), 4));
    snprintf(want, sizeof want, "text: cannot open %s: No such file or directory", path_of("nothing.txt"));
    tu_assert_error(CT_ERR_IO, want);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fashion_mnist), cmocka_unit_test(test_mnist_errors),
        cmocka_unit_test(test_cifar10), cmocka_unit_test(test_hdf5),
        cmocka_unit_test(test_token_files), cmocka_unit_test(test_text_file),
    };
    if (make_tmpdir(NULL) != 0) return 1;
    int rc = TU_RUN("file_datasets", tests);
    remove_tmpdir(NULL);
    return rc;
}
