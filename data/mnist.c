/* MNIST / Fashion-MNIST reader: the gzipped IDX files of the original distribution.
 *
 * IDX layout (all integers big-endian):
 *   magic     4 bytes: 0x00 0x00, the element type (0x08 = unsigned byte), the number of dims
 *   sizes     one uint32 per dim
 *   data      the elements in row-major order
 * so the images file has magic 0x00000803 and sizes [N, 28, 28], the labels file 0x00000801 and
 * [N]. zlib's gzread reads through the compression (and reads an uncompressed file as is), so one
 * reader handles both the .gz files and unpacked copies. */
#include "ctorch/data.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define IDX_UBYTE 0x08
#define MNIST_SIDE 28
#define MNIST_CLASSES 10
#define CHUNK (1 << 16)

/* An open IDX file and its path, for messages. */
typedef struct idx_file {
    gzFile gz;
    char path[4096];
} idx_file;

/* Opens dir/name.gz, or dir/name when only the unpacked file exists. */
static bool idx_open(idx_file *f, const char *dir, const char *name) {
    snprintf(f->path, sizeof f->path, "%s/%s.gz", dir, name);
    f->gz = gzopen(f->path, "rb");
    if (!f->gz && errno == ENOENT) {
        char plain[sizeof f->path];
        snprintf(plain, sizeof plain, "%s/%s", dir, name);
        if ((f->gz = gzopen(plain, "rb"))) memcpy(f->path, plain, sizeof plain);
        else if (errno != ENOENT) snprintf(f->path, sizeof f->path, "%s", plain); /* report that one */
        else errno = ENOENT;
    }
    if (!f->gz) {
        ct_error(CT_ERR_IO, "mnist: cannot open %s: %s", f->path, strerror(errno ? errno : ENOMEM));
        return false;
    }
    gzbuffer(f->gz, CHUNK);
    return true;
}

/* Reads exactly n bytes; a short read is a truncated file, a zlib failure corrupt data. `what`
 * says what was being read, for the message. */
static bool idx_read(idx_file *f, void *buf, size_t n, const char *what) {
    size_t got = 0;
    while (got < n) {
        unsigned want = n - got > CHUNK ? CHUNK : (unsigned)(n - got);
        int r = gzread(f->gz, (unsigned char *)buf + got, want);
        if (r < 0) {
            int errnum;
            const char *msg = gzerror(f->gz, &errnum);
            size_t plen = strlen(f->path); /* zlib's message starts with the path: say it once */
            if (strncmp(msg, f->path, plen) == 0 && msg[plen] == ':') msg += plen + (msg[plen + 1] == ' ' ? 2 : 1);
            ct_error(CT_ERR_IO, "mnist: %s is corrupt (reading %s): %s", f->path, what,
                     errnum == Z_ERRNO ? strerror(errno) : msg);
            return false;
        }
        if (r == 0) {
            ct_error(CT_ERR_IO, "mnist: %s is truncated: %s needs %zu bytes, found %zu", f->path, what, n, got);
            return false;
        }
        got += (size_t)r;
    }
    return true;
}

static uint32_t be32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Reads the header of an unsigned-byte IDX file of ndim dims into sizes. */
static bool idx_header(idx_file *f, int ndim, uint32_t *sizes) {
    unsigned char h[4 * 3];
    if (!idx_read(f, h, 4, "the magic number")) return false;
    uint32_t magic = be32(h), want = IDX_UBYTE << 8 | (uint32_t)ndim;
    if (magic != want) {
        ct_error(CT_ERR_IO, "mnist: %s has the wrong magic number 0x%08x (expected 0x%08x: an IDX file of %s)",
                 f->path, magic, want, ndim == 3 ? "images" : "labels");
        return false;
    }
    if (!idx_read(f, h, 4 * (size_t)ndim, "the header's sizes")) return false;
    for (int d = 0; d < ndim; d++) sizes[d] = be32(h + 4 * d);
    return true;
}

/* Pixels of n images of 28x28 bytes -> float32 [n, 1, 28, 28] in [0, 1]. */
static ct_tensor *read_images(idx_file *f, int64_t n) {
    const int64_t pixels = (int64_t)MNIST_SIDE * MNIST_SIDE;
    ct_tensor *images = ct_empty(CT_SHAPE(n, 1, MNIST_SIDE, MNIST_SIDE), .dtype = CT_F32);
    unsigned char *buf = malloc(CHUNK);
    if (!images || !buf) {
        free(buf);
        return images ? ct_error(CT_ERR_OOM, "mnist: out of memory") : NULL;
    }
    float *out = ct_data_ptr(images);
    /* Whole images per chunk, so a truncation message can say which. */
    const int64_t per_chunk = CHUNK / pixels;
    bool ok = true;
    for (int64_t i = 0; ok && i < n; i += per_chunk) {
        int64_t k = n - i < per_chunk ? n - i : per_chunk;
        char what[96];
        snprintf(what, sizeof what, "images %lld..%lld of %lld", (long long)i, (long long)(i + k - 1), (long long)n);
        ok = idx_read(f, buf, (size_t)(k * pixels), what);
        for (int64_t j = 0; ok && j < k * pixels; j++) out[i * pixels + j] = (float)buf[j] / 255.0f;
    }
    free(buf);
    return ok ? images : NULL;
}

/* n label bytes -> int64 [n], each a class 0..9. */
static ct_tensor *read_labels(idx_file *f, int64_t n) {
    ct_tensor *labels = ct_empty(CT_SHAPE(n), .dtype = CT_I64);
    unsigned char *buf = malloc(n ? (size_t)n : 1);
    if (!labels || !buf) {
        free(buf);
        return labels ? ct_error(CT_ERR_OOM, "mnist: out of memory") : NULL;
    }
    bool ok = idx_read(f, buf, (size_t)n, "the labels");
    int64_t *out = ct_data_ptr(labels);
    for (int64_t i = 0; ok && i < n; i++) {
        if (buf[i] >= MNIST_CLASSES) {
            ct_error(CT_ERR_IO, "mnist: %s: label %u at index %lld is not a class (0..%d)", f->path, buf[i],
                     (long long)i, MNIST_CLASSES - 1);
            ok = false;
        }
        out[i] = buf[i];
    }
    free(buf);
    return ok ? labels : NULL;
}

/* Both headers are checked (magic numbers, image size, equal counts) before any data is read, so
 * a corrupt count fails fast instead of allocating for it. */
static bool load(const char *dir, const char *prefix, ct_tensor **images, ct_tensor **labels) {
    char name[64];
    idx_file fi = {0}, fl = {0};
    uint32_t isz[3], lsz[1];
    bool ok = false;
    snprintf(name, sizeof name, "%s-images-idx3-ubyte", prefix);
    if (!idx_open(&fi, dir, name) || !idx_header(&fi, 3, isz)) goto done;
    if (isz[1] != MNIST_SIDE || isz[2] != MNIST_SIDE) {
        ct_error(CT_ERR_IO, "mnist: %s holds %ux%u images, expected %dx%d", fi.path, isz[1], isz[2], MNIST_SIDE,
                 MNIST_SIDE);
        goto done;
    }
    snprintf(name, sizeof name, "%s-labels-idx1-ubyte", prefix);
    if (!idx_open(&fl, dir, name) || !idx_header(&fl, 1, lsz)) goto done;
    if (isz[0] != lsz[0]) {
        ct_error(CT_ERR_IO, "mnist: %s holds %u images but %s holds %u labels", fi.path, isz[0], fl.path, lsz[0]);
        goto done;
    }
    *images = read_images(&fi, isz[0]);
    *labels = *images ? read_labels(&fl, lsz[0]) : NULL;
    ok = *labels != NULL;
done:
    if (fi.gz) gzclose(fi.gz);
    if (fl.gz) gzclose(fl.gz);
    return ok;
}

bool ct_mnist_load(const char *dir, ct_dataset_split split, ct_tensor **images, ct_tensor **labels) {
    if (images) *images = NULL;
    if (labels) *labels = NULL;
    if (!dir || !images || !labels) {
        ct_error(CT_ERR_ARG, "mnist: dir, images and labels must not be NULL");
        return false;
    }
    if (split != CT_SPLIT_TRAIN && split != CT_SPLIT_TEST) {
        ct_error(CT_ERR_ARG, "mnist: split must be CT_SPLIT_TRAIN or CT_SPLIT_TEST, got %d", (int)split);
        return false;
    }
    ct_tensor *x = NULL, *y = NULL;
    bool ok = false;
    CT_SCOPE { /* a failure part-way leaves nothing behind */
        ok = load(dir, split == CT_SPLIT_TRAIN ? "train" : "t10k", &x, &y);
        if (ok) ct_keep(x), ct_keep(y);
    }
    if (ok) *images = x, *labels = y;
    return ok;
}
