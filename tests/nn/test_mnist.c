/* MNIST / Fashion-MNIST reader: the real Fashion-MNIST test split when it is installed (shapes,
 * value range, the first labels, 1000 images per class), small valid IDX files written here (exact
 * pixel values, both splits, gzipped and unpacked, zero images), and every error path on corrupt
 * files, each message naming the file. The .gz files are written by a minimal gzip writer (stored
 * deflate blocks and CRC-32), so the test needs no zlib of its own. */
#include "../common/testutil.h"

#include <ctorch/data.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FASHION_DIR "/usr/share/datasets/fashion-mnist"

/* ---- writing IDX files --------------------------------------------------------------------------- */

static uint32_t crc32_of(const unsigned char *p, size_t n) {
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = c & 1 ? (c >> 1) ^ 0xedb88320u : c >> 1;
    }
    return ~c;
}

static void put_le(FILE *f, uint32_t v, int bytes) {
    for (int i = 0; i < bytes; i++) fputc((int)(v >> (8 * i)) & 0xff, f);
}

/* Writes data as a gzip member of stored (uncompressed) deflate blocks; corrupt_crc writes a
 * wrong CRC-32 so that zlib rejects the data at its end. */
static void write_gz(const char *path, const unsigned char *data, size_t n, bool corrupt_crc) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    static const unsigned char header[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff};
    fwrite(header, 1, sizeof header, f);
    size_t off = 0;
    do {
        size_t len = n - off > 65535 ? 65535 : n - off;
        fputc(off + len == n ? 1 : 0, f); /* BFINAL, BTYPE = 00 (stored) */
        put_le(f, (uint32_t)len, 2);
        put_le(f, (uint32_t)~len & 0xffff, 2);
        fwrite(data + off, 1, len, f);
        off += len;
    } while (off < n);
    put_le(f, crc32_of(data, n) ^ (corrupt_crc ? 1u : 0u), 4);
    put_le(f, (uint32_t)n, 4);
    fclose(f);
}

static void write_raw(const char *path, const unsigned char *data, size_t n) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fwrite(data, 1, n, f);
    fclose(f);
}

static void put_be(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16), p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* An IDX file in memory: magic, sizes, then the bytes; *len gets its length. */
typedef struct idx_spec {
    uint32_t magic;
    int ndim;
    uint32_t sizes[3];
    const unsigned char *data;
    size_t data_len;
} idx_spec;

static unsigned char *idx_bytes(const idx_spec *s, size_t *len) {
    *len = 4 + 4 * (size_t)s->ndim + s->data_len;
    unsigned char *b = test_malloc(*len);
    put_be(b, s->magic);
    for (int d = 0; d < s->ndim; d++) put_be(b + 4 + 4 * d, s->sizes[d]);
    if (s->data_len) memcpy(b + 4 + 4 * s->ndim, s->data, s->data_len);
    return b;
}

/* A temporary directory, removed with its files at teardown. */
static char tmpdir[64];

static int make_tmpdir(void **state) {
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ct_mnist_XXXXXX");
    if (!mkdtemp(tmpdir)) return -1;
    ct_clear_error();
    ct_scope_begin();
    return 0;
}

static const char *const file_names[] = {
    "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",  "train-images-idx3-ubyte",    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",     "t10k-labels-idx1-ubyte",
};

static char *path_of(const char *name) {
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    return path;
}

static void clear_files(void) {
    for (size_t i = 0; i < sizeof file_names / sizeof file_names[0]; i++) unlink(path_of(file_names[i]));
}

static int remove_tmpdir(void **state) {
    (void)state;
    ct_scope_end();
    ct_clear_error();
    clear_files();
    return rmdir(tmpdir);
}

/* Pixel j of image i in the synthetic files. */
static unsigned char pixel(int i, int j) { return (unsigned char)((i * 37 + j * 11) % 256); }

/* Writes an images file of n synthetic 28x28 images (or the given spec changes) and a labels file
 * with labels[i]; gz chooses compressed or unpacked files. */
static void write_dataset(const char *prefix, int n, const unsigned char *labels, bool gz) {
    unsigned char *px = test_malloc((size_t)n * 784 + 1);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < 784; j++) px[(size_t)i * 784 + j] = pixel(i, j);
    idx_spec im = {0x803, 3, {(uint32_t)n, 28, 28}, px, (size_t)n * 784};
    idx_spec lb = {0x801, 1, {(uint32_t)n}, labels, (size_t)n};
    char name[64];
    size_t len;
    unsigned char *b = idx_bytes(&im, &len);
    snprintf(name, sizeof name, "%s-images-idx3-ubyte%s", prefix, gz ? ".gz" : "");
    if (gz) write_gz(path_of(name), b, len, false);
    else write_raw(path_of(name), b, len);
    test_free(b);
    b = idx_bytes(&lb, &len);
    snprintf(name, sizeof name, "%s-labels-idx1-ubyte%s", prefix, gz ? ".gz" : "");
    if (gz) write_gz(path_of(name), b, len, false);
    else write_raw(path_of(name), b, len);
    test_free(b);
    test_free(px);
}

/* Asserts the loaded tensors hold the synthetic dataset of n images with these labels. */
static void assert_dataset(const ct_tensor *x, const ct_tensor *y, int n, const unsigned char *labels) {
    assert_int_equal(ct_dtype_of(x), CT_F32);
    assert_int_equal(ct_dtype_of(y), CT_I64);
    double *want = test_malloc(sizeof(double) * ((size_t)n * 784 + 1));
    for (int i = 0; i < n; i++)
        for (int j = 0; j < 784; j++) want[(size_t)i * 784 + j] = (float)pixel(i, j) / 255.0f;
    tu_assert_values(x, CT_SHAPE(n, 1, 28, 28), want, 0, 0);
    for (int i = 0; i < n; i++) want[i] = labels[i];
    tu_assert_values(y, CT_SHAPE(n), want, 0, 0);
    test_free(want);
}

/* ---- the real dataset ------------------------------------------------------------------------- */

static void test_fashion_mnist_test_split(void **state) {
    (void)state;
    if (access(FASHION_DIR "/t10k-images-idx3-ubyte.gz", R_OK) != 0) {
        printf("[  SKIPPED ] Fashion-MNIST is not installed in " FASHION_DIR "\n");
        skip();
    }
    ct_tensor *x, *y;
    if (!ct_mnist_load(FASHION_DIR, CT_SPLIT_TEST, &x, &y)) fail_msg("%s", ct_last_error());
    assert_int_equal(ct_dtype_of(x), CT_F32);
    assert_int_equal(ct_dtype_of(y), CT_I64);
    ct_shape s = ct_shape_of(x);
    assert_int_equal(s.ndim, 4);
    assert_int_equal(s.d[0], 10000);
    assert_int_equal(s.d[1], 1);
    assert_int_equal(s.d[2], 28);
    assert_int_equal(s.d[3], 28);
    assert_int_equal(ct_ndim(y), 1);
    assert_int_equal(ct_size(y, 0), 10000);
    /* pixels span [0, 1] exactly; the mean is Fashion-MNIST's well-known 0.2868 (test split) */
    assert_true(ct_item(ct_min(x)) == 0 && ct_item(ct_max(x)) == 1);
    double mean = ct_item(ct_mean(ct_to_dtype(x, CT_F64)));
    if (fabs(mean - 0.28684928071228494) > 1e-7) /* f32 pixels */ fail_msg("pixel mean %.12f", mean);
    /* the first labels, and 1000 images of each class */
    double *v = tu_values(y);
    static const double first[10] = {9, 2, 1, 1, 6, 1, 4, 6, 5, 7};
    for (int i = 0; i < 10; i++) assert_int_equal((int)v[i], (int)first[i]);
    int hist[10] = {0};
    for (int i = 0; i < 10000; i++) {
        assert_true(v[i] >= 0 && v[i] <= 9);
        hist[(int)v[i]]++;
    }
    for (int c = 0; c < 10; c++) assert_int_equal(hist[c], 1000);
    /* the first image's pixel sum (bytes), as numpy reads the file: 33456 / 255 */
    double sum = ct_item(ct_sum(ct_to_dtype(ct_select(x, 0, 0), CT_F64)));
    if (fabs(sum * 255 - 33456) > 1e-3) fail_msg("first image sums to %.6f / 255", sum * 255);
}

/* ---- synthetic files ----------------------------------------------------------------------------- */

static void test_valid_files(void **state) {
    (void)state;
    static const unsigned char train_labels[5] = {3, 0, 9, 1, 3}, test_labels[3] = {7, 7, 2};
    write_dataset("train", 5, train_labels, true);
    write_dataset("t10k", 3, test_labels, true);
    ct_tensor *x, *y;
    if (!ct_mnist_load(tmpdir, CT_SPLIT_TRAIN, &x, &y)) fail_msg("%s", ct_last_error());
    assert_dataset(x, y, 5, train_labels);
    if (!ct_mnist_load(tmpdir, CT_SPLIT_TEST, &x, &y)) fail_msg("%s", ct_last_error());
    assert_dataset(x, y, 3, test_labels);
    /* the results belong to the caller's scope, like any tensor */
    int64_t before = ct_scope_size();
    CT_SCOPE { assert_true(ct_mnist_load(tmpdir, CT_SPLIT_TEST, &x, &y)); }
    assert_int_equal(ct_scope_size(), before);

    /* unpacked files are read as well */
    clear_files();
    write_dataset("train", 4, train_labels, false);
    if (!ct_mnist_load(tmpdir, CT_SPLIT_TRAIN, &x, &y)) fail_msg("%s", ct_last_error());
    assert_dataset(x, y, 4, train_labels);

    /* a file spanning several stored blocks and read chunks: 300 images */
    clear_files();
    unsigned char many[300];
    for (int i = 0; i < 300; i++) many[i] = (unsigned char)(i * 7 % 10);
    write_dataset("t10k", 300, many, true);
    if (!ct_mnist_load(tmpdir, CT_SPLIT_TEST, &x, &y)) fail_msg("%s", ct_last_error());
    assert_dataset(x, y, 300, many);

    /* zero images */
    clear_files();
    write_dataset("train", 0, NULL, true);
    if (!ct_mnist_load(tmpdir, CT_SPLIT_TRAIN, &x, &y)) fail_msg("%s", ct_last_error());
    assert_int_equal(ct_numel(x), 0);
    assert_int_equal(ct_size(x, 3), 28);
    assert_int_equal(ct_numel(y), 0);
    assert_true(ct_ok());
}

/* Loads the train split expecting failure with status and a message containing both needles. */
static void assert_load_fails(ct_status status, const char *needle, const char *needle2) {
    ct_tensor *x = (ct_tensor *)1, *y = (ct_tensor *)1;
    int64_t before = ct_scope_size();
    assert_false(ct_mnist_load(tmpdir, CT_SPLIT_TRAIN, &x, &y));
    assert_null(x);
    assert_null(y);
    assert_int_equal(ct_scope_size(), before); /* nothing half-made left behind */
    if (needle2 && !strstr(ct_last_error(), needle2)) fail_msg("error \"%s\" lacks \"%s\"", ct_last_error(), needle2);
    tu_assert_error(status, needle);
}

/* Writes one file (gzipped) from a spec, with the header cut to keep bytes when keep > 0. */
static void write_spec(const char *name, const idx_spec *s, size_t keep, bool corrupt_crc) {
    size_t len;
    unsigned char *b = idx_bytes(s, &len);
    write_gz(path_of(name), b, keep ? keep : len, corrupt_crc);
    test_free(b);
}

static void test_error_paths(void **state) {
    (void)state;
    static const unsigned char labels[4] = {1, 2, 3, 4};
    unsigned char px[4 * 784];
    for (int j = 0; j < 4 * 784; j++) px[j] = (unsigned char)j;
    const idx_spec images = {0x803, 3, {4, 28, 28}, px, sizeof px};
    const idx_spec lbls = {0x801, 1, {4}, labels, 4};
    const char *img = "train-images-idx3-ubyte.gz", *lbl = "train-labels-idx1-ubyte.gz";
    char want[512];

    /* missing directory, missing images file, missing labels file */
    ct_tensor *x, *y;
    assert_false(ct_mnist_load("/nonexistent/mnist", CT_SPLIT_TEST, &x, &y));
    tu_assert_error(CT_ERR_IO, "cannot open /nonexistent/mnist/t10k-images-idx3-ubyte.gz: No such file or directory");
    write_spec(lbl, &lbls, 0, false);
    snprintf(want, sizeof want, "cannot open %s", path_of(img));
    assert_load_fails(CT_ERR_IO, want, "No such file or directory");
    clear_files();
    write_spec(img, &images, 0, false);
    snprintf(want, sizeof want, "cannot open %s", path_of(lbl));
    assert_load_fails(CT_ERR_IO, want, NULL);

    /* truncated header, truncated pixels, truncated labels */
    write_spec(lbl, &lbls, 0, false);
    write_spec(img, &images, 3, false);
    snprintf(want, sizeof want, "%s is truncated: the magic number needs 4 bytes, found 3", path_of(img));
    assert_load_fails(CT_ERR_IO, want, NULL);
    write_spec(img, &images, 11, false);
    snprintf(want, sizeof want, "%s is truncated: the header's sizes needs 12 bytes, found 7", path_of(img));
    assert_load_fails(CT_ERR_IO, want, NULL);
    write_spec(img, &images, 16 + 3 * 784 + 100, false);
    snprintf(want, sizeof want, "%s is truncated: images 0..3 of 4 needs 3136 bytes, found 2452", path_of(img));
    assert_load_fails(CT_ERR_IO, want, NULL);
    write_spec(img, &images, 0, false);
    write_spec(lbl, &lbls, 10, false);
    snprintf(want, sizeof want, "%s is truncated: the labels needs 4 bytes, found 2", path_of(lbl));
    assert_load_fails(CT_ERR_IO, want, NULL);

    /* wrong magic numbers: the files swapped, and a non-IDX file */
    write_spec(img, &lbls, 0, false);
    write_spec(lbl, &images, 0, false);
    snprintf(want, sizeof want, "%s has the wrong magic number 0x00000801 (expected 0x00000803", path_of(img));
    assert_load_fails(CT_ERR_IO, want, NULL);
    write_spec(img, &images, 0, false);
    snprintf(want, sizeof want, "%s has the wrong magic number 0x00000803 (expected 0x00000801", path_of(lbl));
    assert_load_fails(CT_ERR_IO, want, NULL);
    write_raw(path_of(lbl), (const unsigned char *)"hello, world", 12); /* not gzip: read as is */
    snprintf(want, sizeof want, "%s has the wrong magic number 0x68656c6c", path_of(lbl));
    assert_load_fails(CT_ERR_IO, want, NULL);

    /* wrong image size */
    write_spec(lbl, &lbls, 0, false);
    const idx_spec big = {0x803, 3, {1, 32, 32}, px, 32 * 32};
    write_spec(img, &big, 0, false);
    snprintf(want, sizeof want, "%s holds 32x32 images, expected 28x28", path_of(img));
    assert_load_fails(CT_ERR_IO, want, NULL);

    /* counts that differ (checked before any data is read, so a huge count fails fast) */
    write_spec(img, &images, 0, false);
    const idx_spec three = {0x801, 1, {3}, labels, 3};
    write_spec(lbl, &three, 0, false);
    char want2[512];
    snprintf(want, sizeof want, "%s holds 4 images but ", path_of(img));
    snprintf(want2, sizeof want2, "but %s holds 3 labels", path_of(lbl));
    assert_load_fails(CT_ERR_IO, want, want2);
    const idx_spec huge_i = {0x803, 3, {0xfffffff0u, 28, 28}, px, 784};
    write_spec(img, &huge_i, 0, false);
    write_spec(lbl, &lbls, 0, false);
    assert_load_fails(CT_ERR_IO, "holds 4294967280 images but", "holds 4 labels");

    /* a label that is not a class */
    write_spec(img, &images, 0, false);
    const idx_spec bad = {0x801, 1, {4}, (const unsigned char[]){1, 2, 12, 4}, 4};
    write_spec(lbl, &bad, 0, false);
    snprintf(want, sizeof want, "%s: label 12 at index 2 is not a class (0..9)", path_of(lbl));
    assert_load_fails(CT_ERR_IO, want, NULL);

    /* corrupt gzip data (a wrong CRC-32) */
    write_spec(lbl, &lbls, 0, false);
    write_spec(img, &images, 0, true);
    snprintf(want, sizeof want, "mnist: %s is corrupt (reading ", path_of(img));
    assert_load_fails(CT_ERR_IO, want, "): incorrect data check");

    /* bad arguments */
    assert_false(ct_mnist_load(NULL, CT_SPLIT_TRAIN, &x, &y));
    tu_assert_error(CT_ERR_ARG, "mnist: dir, images and labels must not be NULL");
    assert_false(ct_mnist_load(tmpdir, CT_SPLIT_TRAIN, NULL, &y));
    tu_assert_error(CT_ERR_ARG, "must not be NULL");
    assert_false(ct_mnist_load(tmpdir, (ct_dataset_split)7, &x, &y));
    tu_assert_error(CT_ERR_ARG, "split must be CT_SPLIT_TRAIN or CT_SPLIT_TEST, got 7");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fashion_mnist_test_split),
        cmocka_unit_test_setup_teardown(test_valid_files, make_tmpdir, remove_tmpdir),
        cmocka_unit_test_setup_teardown(test_error_paths, make_tmpdir, remove_tmpdir),
    };
    return TU_RUN("nn_mnist", tests);
}
