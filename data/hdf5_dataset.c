/* Rows of named HDF5 datasets as samples, read lazily.
 *
 * Every named dataset has the same number of rows (dim 0); sample i is row i of each. Reading
 * row by row would cost an HDF5 call (and, for a chunked dataset, a chunk decompression) per
 * sample, so each field keeps one block of rows: the rows of one chunk when the dataset is chunked
 * (HDF5 reads and decompresses whole chunks anyway), about 1 MiB of rows otherwise, at most
 * 16 MiB. A get outside the cached block reads the block that holds the row: sequential access
 * reads each chunk once; a shuffled epoch reads one block per sample, as any chunked reader must.
 *
 * Debian's HDF5 is built without its thread-safety option, so every HDF5 call (here and in the
 * state-file code) runs under one process-wide lock, and the row caches are guarded by it too. */
#include "../nn/state_file_impl.h"
#include "data_impl.h"

#include <hdf5.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define BLOCK_BYTES ((size_t)1 << 20)
#define BLOCK_BYTES_MAX ((size_t)16 << 20)

typedef struct h5_field {
    char *name;
    hid_t dset;
    hid_t memtype; /* the type rows are read as */
    bool own_memtype;
    ct_dtype dtype;
    int rank;
    hsize_t dims[H5S_MAX_RANK];
    ct_shape row_shape; /* dims[1:] */
    size_t row_bytes;
    int64_t block_rows;
    int64_t cached_start; /* first row in cache; -1 when empty */
    int64_t cached_rows;
    unsigned char *cache;
} h5_field;

typedef struct h5_state {
    char *path;
    hid_t file;
    int n;
    int64_t rows;
    h5_field fields[CT_SAMPLE_MAX_FIELDS];
} h5_state;

/* An HDF5 call sequence: the lock held and HDF5's printing of errors off (they become ctorch
 * errors with HDF5's innermost message). */
typedef struct h5_call {
    H5E_auto2_t func;
    void *data;
} h5_call;

static void enter(h5_call *c) {
    ct__h5_lock();
    H5Eget_auto2(H5E_DEFAULT, &c->func, &c->data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

static void leave(h5_call *c) {
    H5Eclear2(H5E_DEFAULT);
    H5Eset_auto2(H5E_DEFAULT, c->func, c->data);
    ct__h5_unlock();
}

static int64_t h5_len(void *state) { return ((h5_state *)state)->rows; }

/* Reads the block of rows holding row i into f's cache (lock held). */
static bool read_block(h5_state *s, h5_field *f, int64_t i) {
    int64_t start = i / f->block_rows * f->block_rows;
    int64_t rows = s->rows - start < f->block_rows ? s->rows - start : f->block_rows;
    hsize_t off[H5S_MAX_RANK] = {0}, count[H5S_MAX_RANK];
    memcpy(count, f->dims, sizeof count);
    off[0] = (hsize_t)start, count[0] = (hsize_t)rows;
    hid_t fspace = H5Dget_space(f->dset), mspace = H5Screate_simple(f->rank, count, NULL);
    herr_t r = -1;
    if (fspace >= 0 && mspace >= 0 && H5Sselect_hyperslab(fspace, H5S_SELECT_SET, off, NULL, count, NULL) >= 0)
        r = H5Dread(f->dset, f->memtype, mspace, fspace, H5P_DEFAULT, f->cache);
    if (fspace >= 0) H5Sclose(fspace);
    if (mspace >= 0) H5Sclose(mspace);
    if (r < 0) {
        char why[256];
        f->cached_start = -1;
        return ct_error(CT_ERR_IO, "hdf5: %s: reading rows %" PRId64 "..%" PRId64 " of dataset '%s' failed%s", s->path,
                        start, start + rows - 1, f->name, ct__h5_why(why)), false;
    }
    f->cached_start = start, f->cached_rows = rows;
    return true;
}

static bool h5_get(void *state, int64_t i, uint64_t seed, ct_sample *out) {
    (void)seed;
    h5_state *s = state;
    h5_call c;
    bool ok = true;
    enter(&c);
    for (int k = 0; ok && k < s->n; k++) {
        h5_field *f = &s->fields[k];
        if (f->cached_start < 0 || i < f->cached_start || i >= f->cached_start + f->cached_rows)
            ok = read_block(s, f, i);
        ct_tensor *t = ok ? ct_empty(f->row_shape, .dtype = f->dtype) : NULL;
        if (t && f->row_bytes) memcpy(ct_data_ptr(t), f->cache + (size_t)(i - f->cached_start) * f->row_bytes, f->row_bytes);
        ok = t && ct_sample_add(out, f->name, t);
    }
    leave(&c);
    return ok;
}

static void close_fields(h5_state *s) {
    for (int k = 0; k < s->n; k++) {
        h5_field *f = &s->fields[k];
        if (f->own_memtype) H5Tclose(f->memtype);
        if (f->dset >= 0) H5Dclose(f->dset);
        free(f->cache);
        free(f->name);
    }
    if (s->file >= 0) H5Fclose(s->file);
}

static void h5_destroy(void *state) {
    h5_state *s = state;
    h5_call c;
    enter(&c);
    close_fields(s);
    leave(&c);
    free(s->path);
    free(s);
}

static const ct_dataset_vtable h5_vtable = {"HDF5Dataset", h5_len, h5_get, h5_destroy};

/* The ctorch dtype of a dataset's file type and the memory type that reads it (lock held). */
static bool pick_type(h5_state *s, h5_field *f) {
    hid_t ft = H5Dget_type(f->dset);
    if (ft < 0) return false;
    H5T_class_t cls = H5Tget_class(ft);
    size_t size = H5Tget_size(ft);
    bool is_unsigned = cls == H5T_INTEGER && H5Tget_sign(ft) == H5T_SGN_NONE;
    bool ok = true;
    f->memtype = -1;
    if (cls == H5T_INTEGER) {
        if (size == 1 && is_unsigned) f->dtype = CT_U8, f->memtype = H5T_NATIVE_UINT8;
        else if (size <= 2 || (size == 4 && !is_unsigned)) f->dtype = CT_I32, f->memtype = H5T_NATIVE_INT32;
        else f->dtype = CT_I64, f->memtype = H5T_NATIVE_INT64;
    } else if (cls == H5T_FLOAT && size == 2) {
        f->dtype = CT_F16, f->memtype = H5Tcopy(ft), f->own_memtype = true; /* IEEE half bits as stored */
        H5Tset_order(f->memtype, H5T_ORDER_LE);
    } else if (cls == H5T_FLOAT && size == 4) {
        f->dtype = CT_F32, f->memtype = H5T_NATIVE_FLOAT;
    } else if (cls == H5T_FLOAT && size == 8) {
        f->dtype = CT_F64, f->memtype = H5T_NATIVE_DOUBLE;
    } else {
        ct_error(CT_ERR_DTYPE, "hdf5: %s: dataset '%s' has a type ctorch cannot read (HDF5 class %d, %zu bytes): "
                 "integers and floats are supported", s->path, f->name, (int)cls, size);
        ok = false;
    }
    H5Tclose(ft);
    return ok;
}

/* Shape, dtype and block size of field k (lock held). */
static bool open_field(h5_state *s, int k, const char *name) {
    h5_field *f = &s->fields[k];
    char why[256];
    f->dset = -1;
    f->cached_start = -1;
    s->n = k + 1;
    if (!(f->name = strdup(name))) return ct_error(CT_ERR_OOM, "hdf5: out of memory"), false;
    if (H5Lexists(s->file, name, H5P_DEFAULT) <= 0 || (f->dset = H5Dopen2(s->file, name, H5P_DEFAULT)) < 0)
        return ct_error(CT_ERR_IO, "hdf5: %s has no dataset '%s'%s", s->path, name, ct__h5_why(why)), false;
    hid_t space = H5Dget_space(f->dset);
    f->rank = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
    if (f->rank > 0 && f->rank <= CT_MAX_DIMS + 1) H5Sget_simple_extent_dims(space, f->dims, NULL);
    if (space >= 0) H5Sclose(space);
    if (f->rank < 1)
        return ct_error(CT_ERR_IO, "hdf5: %s: dataset '%s' is a scalar: it has no rows to index", s->path, name), false;
    if (f->rank > CT_MAX_DIMS + 1)
        return ct_error(CT_ERR_IO, "hdf5: %s: dataset '%s' has %d dims, at most %d are supported", s->path, name,
                        f->rank, CT_MAX_DIMS + 1), false;
    if (!pick_type(s, f)) return false;
    f->row_shape.ndim = f->rank - 1;
    f->row_bytes = ct_dtype_size(f->dtype);
    for (int d = 1; d < f->rank; d++) f->row_shape.d[d - 1] = (int64_t)f->dims[d], f->row_bytes *= f->dims[d];
    int64_t rows = (int64_t)f->dims[0];
    if (k == 0) s->rows = rows;
    else if (rows != s->rows)
        return ct_error(CT_ERR_SHAPE, "hdf5: %s: dataset '%s' has %" PRId64 " rows but '%s' has %" PRId64, s->path,
                        name, rows, s->fields[0].name, s->rows), false;
    /* Block: the chunk's rows when chunked, else about BLOCK_BYTES; capped by BLOCK_BYTES_MAX. */
    int64_t block = f->row_bytes ? (int64_t)(BLOCK_BYTES / f->row_bytes) : rows;
    hid_t plist = H5Dget_create_plist(f->dset);
    if (plist >= 0) {
        hsize_t chunk[H5S_MAX_RANK];
        if (H5Pget_layout(plist) == H5D_CHUNKED && H5Pget_chunk(plist, f->rank, chunk) == f->rank)
            block = (int64_t)chunk[0];
        H5Pclose(plist);
    }
    if (f->row_bytes && (size_t)block * f->row_bytes > BLOCK_BYTES_MAX) block = (int64_t)(BLOCK_BYTES_MAX / f->row_bytes);
    if (block > rows) block = rows;
    f->block_rows = block < 1 ? 1 : block;
    f->cache = malloc(f->row_bytes * (size_t)f->block_rows + 1);
    if (!f->cache) return ct_error(CT_ERR_OOM, "hdf5: out of memory for a block of '%s'", name), false;
    return true;
}

ct_dataset *ct_hdf5_dataset_open_names(const char *path, ct_names fields) {
    if (!ct_ok()) return NULL;
    if (!path) return ct_error(CT_ERR_ARG, "hdf5: path is NULL");
    if (fields.n < 1 || fields.n > CT_SAMPLE_MAX_FIELDS)
        return ct_error(CT_ERR_ARG, "hdf5: %s: needs 1 to %d dataset names, got %d", path, CT_SAMPLE_MAX_FIELDS, fields.n);
    for (int k = 0; k < fields.n; k++)
        if (!fields.items[k]) return ct_error(CT_ERR_ARG, "hdf5: %s: dataset name %d is NULL", path, k);
    struct stat st;
    if (stat(path, &st) != 0) return ct_error(CT_ERR_IO, "hdf5: cannot open %s: %s", path, strerror(errno));
    h5_state *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(path))) return free(s), ct_error(CT_ERR_OOM, "hdf5: out of memory");
    h5_call c;
    char why[256];
    bool ok = true;
    enter(&c);
    s->file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (s->file < 0) {
        ct_error(CT_ERR_IO, "hdf5: cannot open %s as an HDF5 file%s", path, ct__h5_why(why));
        ok = false;
    }
    for (int k = 0; ok && k < fields.n; k++) ok = open_field(s, k, fields.items[k]);
    if (!ok) close_fields(s);
    leave(&c);
    if (!ok) return free(s->path), free(s), NULL;
    return ct_dataset_new(&h5_vtable, s);
}
