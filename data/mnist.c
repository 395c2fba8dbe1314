/* MNIST / Fashion-MNIST reader: the gzipped IDX files of the original distribution.
 *
 * IDX layout (all integers big-endian):
 *   magic     4 bytes: 0x00 0x00, the element type (0x08 = unsigned byte), the number of dims
 *   sizes     one uint32 per dim
 *   data      the elements in row-major order
 * so the images file has magic 0x00000803 and sizes [N, 28, 28], the labels file 0x00000801 and
 * [N]. zlib's gzread reads through the compression (and reads an uncompressed file as is), so one
 * reader handles both the .gz files and unpacked copies. */
#include "data_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define IDX_UBYTE 0x08
#define MNIST_SIDE CT__MNIST_SIDE
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

/* The pixels of n images of 28x28 bytes, read in whole images per chunk so that a truncation
 * message can say which images were missing. */
static uint8_t *read_images(idx_file *f, int64_t n) {
    const int64_t pixels = (int64_t)MNIST_SIDE * MNIST_SIDE;
    uint8_t *out = malloc(n ? (size_t)(n * pixels) : 1);
    if (!out) return ct_error(CT_ERR_OOM, "mnist: out of memory for %lld images", (long long)n);
    const int64_t per_chunk = CHUNK / pixels;
    for (int64_t i = 0; i < n; i += per_chunk) {
        int64_t k = n - i < per_chunk ? n - i : per_chunk;
        char what[96];
        snprintf(what, sizeof what, "images %lld..%lld of %lld", (long long)i, (long long)(i + k - 1), (long long)n);
        if (!idx_read(f, out + i * pixels, (size_t)(k * pixels), what)) return free(out), NULL;
    }
    return out;
}

/* n label bytes, each a class 0..9. */
static uint8_t *read_labels(idx_file *f, int64_t n) {
    uint8_t *out = malloc(n ? (size_t)n : 1);
    if (!out) return ct_error(CT_ERR_OOM, "mnist: out of memory for %lld labels", (long long)n);
    if (!idx_read(f, out, (size_t)n, "the labels")) return free(out), NULL;
    for (int64_t i = 0; i < n; i++)
        if (out[i] >= MNIST_CLASSES) {
            ct_error(CT_ERR_IO, "mnist: %s: label %u at index %lld is not a class (0..%d)", f->path, out[i],
                     (long long)i, MNIST_CLASSES - 1);
            return free(out), NULL;
        }
    return out;
}

static bool check_args(const char *dir, ct_dataset_split split) {
    if (!dir) return ct_error(CT_ERR_ARG, "mnist: dir must not be NULL"), false;
    if (split != CT_SPLIT_TRAIN && split != CT_SPLIT_TEST)
        return ct_error(CT_ERR_ARG, "mnist: split must be CT_SPLIT_TRAIN or CT_SPLIT_TEST, got %d", (int)split), false;
    return true;
}

/* Both headers are checked (magic numbers, image size, equal counts) before any data is read, so
 * a corrupt count fails fast instead of allocating for it. */
bool ct__mnist_read(const char *dir, ct_dataset_split split, uint8_t **pixels, uint8_t **labels, int64_t *n) {
    *pixels = *labels = NULL;
    *n = 0;
    if (!check_args(dir, split)) return false;
    const char *prefix = split == CT_SPLIT_TRAIN ? "train" : "t10k";
    char name[64];
    idx_file fi = {0}, fl = {0};
    uint32_t isz[3], lsz[1];
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
    *pixels = read_images(&fi, isz[0]);
    *labels = *pixels ? read_labels(&fl, lsz[0]) : NULL;
    if (!*labels) free(*pixels), *pixels = NULL;
    else *n = isz[0];
done:
    if (fi.gz) gzclose(fi.gz);
    if (fl.gz) gzclose(fl.gz);
    return *labels != NULL;
}

ct_tensor *ct__unit_image(const uint8_t *bytes, ct_shape shape) {
    ct_tensor *t = ct_empty(shape, .dtype = CT_F32);
    if (!t) return NULL;
    float *out = ct_data_ptr(t);
    for (int64_t j = 0, n = ct_numel(t); j < n; j++) out[j] = (float)bytes[j] / 255.0f;
    return t;
}

bool ct_mnist_load(const char *dir, ct_dataset_split split, ct_tensor **images, ct_tensor **labels) {
    if (images) *images = NULL;
    if (labels) *labels = NULL;
    if (!dir || !images || !labels) {
        ct_error(CT_ERR_ARG, "mnist: dir, images and labels must not be NULL");
        return false;
    }
    uint8_t *px, *lb;
    int64_t n;
    if (!ct__mnist_read(dir, split, &px, &lb, &n)) return false;
    ct_tensor *x = NULL, *y = NULL;
    CT_SCOPE { /* a failure part-way leaves nothing behind */
        x = ct__unit_image(px, CT_SHAPE(n, 1, MNIST_SIDE, MNIST_SIDE));
        y = ct_empty(CT_SHAPE(n), .dtype = CT_I64);
        if (x && y) {
            int64_t *out = ct_data_ptr(y);
            for (int64_t i = 0; i < n; i++) out[i] = lb[i];
            ct_keep(x), ct_keep(y);
        } else {
            x = y = NULL;
        }
    }
    free(px);
    free(lb);
    if (x) *images = x, *labels = y;
    return x != NULL;
}

/* ---- the lazy dataset (ct_mnist_open) ------------------------------------------------------- */
/* Holds the raw bytes (47 MB for the training split, a quarter of the float tensor) and converts
 * one image per get: read-only state, so get needs no lock. */
typedef struct mnist_state {
    uint8_t *pixels, *labels;
    int64_t n;
} mnist_state;

static int64_t mnist_len(void *state) { return ((mnist_state *)state)->n; }

static bool mnist_get(void *state, int64_t i, uint64_t seed, ct_sample *out) {
    (void)seed;
    const mnist_state *s = state;
    const int64_t pixels = (int64_t)MNIST_SIDE * MNIST_SIDE;
    ct_tensor *x = ct__unit_image(s->pixels + i * pixels, CT_SHAPE(1, MNIST_SIDE, MNIST_SIDE));
    ct_tensor *y = ct_scalar_tensor((double)s->labels[i], .dtype = CT_I64);
    return x && y && ct_sample_add(out, "x", x) && ct_sample_add(out, "y", y);
}

static void mnist_destroy(void *state) {
    mnist_state *s = state;
    free(s->pixels);
    free(s->labels);
    free(s);
}

static const ct_dataset_vtable mnist_vtable = {"MNIST", mnist_len, mnist_get, mnist_destroy};

ct_dataset *ct_mnist_open(const char *dir, ct_dataset_split split) {
    mnist_state *s = calloc(1, sizeof *s);
    if (!s) return ct_error(CT_ERR_OOM, "mnist: out of memory");
    if (!ct__mnist_read(dir, split, &s->pixels, &s->labels, &s->n)) return free(s), NULL;
    return ct_dataset_new(&mnist_vtable, s);
}
