/* HDF5 files of named tensors (include/ctorch/serialize.h has the format).
 *
 * Layout of a file written here:
 *
 *   /                       root group, links tracked and indexed in creation order
 *   /0.weight               dataset, float32, dataspace (out, in), contiguous, no timestamps
 *   /0.bias                 dataset, float32, dataspace (out)
 *   /step                   dataset, int64, scalar dataspace (a 0-d tensor)
 *
 * Every call runs as an "HDF5 session": a process-wide lock (the serial HDF5 library is not
 * thread-safe), HDF5's automatic error printing switched off (its messages become ctorch errors
 * instead, with HDF5's innermost description appended), and the two datatypes HDF5 does not
 * predefine (float16 and bool, built as h5py builds them) created for the call. Every handle is
 * closed on every path; the file itself is opened with H5F_CLOSE_STRONG so closing it also closes
 * anything still open in it.
 *
 * Saving writes "<path>.tmp-<pid>", closes it, fsyncs it and renames it over path (then fsyncs the
 * directory), so path holds either the old file or the whole new one. Loading into existing
 * tensors reads every matching dataset into temporaries and checks all names and shapes before
 * the first copy, so a failure changes nothing. */
#include "../tensor/tensor_impl.h"
#include "ctorch/autograd.h"
#include "ctorch/serialize.h"
#include "state_file_impl.h"

#include <hdf5.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* HDF5 1.12 renamed a few calls; these spell them for 1.10 and later. */
#if H5_VERSION_GE(1, 12, 0)
#define h5_iterate_links H5Literate2
typedef H5L_info2_t h5_link_info;
#define h5_is_hdf5(path) H5Fis_accessible((path), H5P_DEFAULT)
#else
#define h5_iterate_links H5Literate
typedef H5L_info_t h5_link_info;
#define h5_is_hdf5(path) H5Fis_hdf5(path)
#endif

/* The attribute naming a dtype HDF5 has no type for (bfloat16, stored as its raw uint16 bits). */
#define DTYPE_ATTR "ctorch_dtype"

/* ---- HDF5 sessions ------------------------------------------------------------------------- */

static pthread_mutex_t h5_lock = PTHREAD_MUTEX_INITIALIZER;

typedef struct h5_session {
    H5E_auto2_t saved_func; /* the caller's automatic error handler, restored at the end */
    void *saved_data;
    hid_t f16;     /* IEEE binary16: sign bit 15, exponent bits 10..14 (bias 15), mantissa 0..9 */
    hid_t boolean; /* enum over int8 {FALSE = 0, TRUE = 1}; C's bool is one byte holding 0 or 1 */
} h5_session;

static void h5_begin(h5_session *s) {
    pthread_mutex_lock(&h5_lock);
    H5Eget_auto2(H5E_DEFAULT, &s->saved_func, &s->saved_data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
#ifdef H5T_IEEE_F16LE
    s->f16 = H5Tcopy(H5T_IEEE_F16LE); /* HDF5 >= 1.14.4 predefines it, identical bits */
#else
    /* h5py's float16: a copy of float32 narrowed to binary16's fields. */
    s->f16 = H5Tcopy(H5T_IEEE_F32LE);
    H5Tset_fields(s->f16, 15, 10, 5, 0, 10);
    H5Tset_size(s->f16, 2);
    H5Tset_ebias(s->f16, 15);
#endif
    s->boolean = H5Tenum_create(H5T_NATIVE_INT8);
    int8_t no = 0, yes = 1;
    H5Tenum_insert(s->boolean, "FALSE", &no);
    H5Tenum_insert(s->boolean, "TRUE", &yes);
}

static void h5_end(h5_session *s) {
    H5Tclose(s->f16);
    H5Tclose(s->boolean);
    H5Eclear2(H5E_DEFAULT);
    H5Eset_auto2(H5E_DEFAULT, s->saved_func, s->saved_data);
    pthread_mutex_unlock(&h5_lock);
}

static herr_t keep_innermost(unsigned n, const H5E_error2_t *err, void *buf) {
    if (n == 0 && err->desc) snprintf(buf, 200, "%s", err->desc);
    return 0;
}

/* " (HDF5: <the most specific message on HDF5's error stack>)", or "" when it is empty; clears
 * the stack. The text lives in buf (at least 256 bytes). */
static const char *h5_why(char *buf) {
    char inner[200] = "";
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, keep_innermost, inner);
    H5Eclear2(H5E_DEFAULT);
    if (inner[0]) snprintf(buf, 256, " (HDF5: %s)", inner);
    else buf[0] = 0;
    return buf;
}

/* The lock and error text for other HDF5 users in the library (data/hdf5_dataset.c). */
void ct__h5_lock(void) { pthread_mutex_lock(&h5_lock); }
void ct__h5_unlock(void) { pthread_mutex_unlock(&h5_lock); }
const char *ct__h5_why(char *buf) { return h5_why(buf); }

/* HDF5 has no public count of open dataspaces, transient datatypes or property lists, but it
 * numbers the identifiers of each kind consecutively: every identifier between a probe made on
 * the first call and one made now that is still valid was opened since and not closed. */
static hid_t probe(int kind) {
    switch (kind) {
    case 0: return H5Screate(H5S_SCALAR);
    case 1: return H5Tcopy(H5T_NATIVE_INT);
    default: return H5Pcreate(H5P_FILE_ACCESS);
    }
}

int64_t ct__state_file_open_ids(void) {
    static hid_t first[3] = {H5I_INVALID_HID, H5I_INVALID_HID, H5I_INVALID_HID};
    pthread_mutex_lock(&h5_lock);
    int64_t total = (int64_t)H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL); /* files, datasets, attributes... */
    for (int kind = 0; kind < 3; kind++) {
        hid_t now = probe(kind);
        if (first[kind] == H5I_INVALID_HID) first[kind] = now;
        for (hid_t id = first[kind] + 1; id < now; id++) total += H5Iis_valid(id) > 0;
        if (kind == 0) H5Sclose(now);
        else if (kind == 1) H5Tclose(now);
        else H5Pclose(now);
    }
    pthread_mutex_unlock(&h5_lock);
    return total;
}

/* ---- dtypes <-> HDF5 types ------------------------------------------------------------------ */

/* The type stored in the file for a dtype. */
static hid_t file_type(const h5_session *s, ct_dtype dtype) {
    switch (dtype) {
    case CT_BOOL: return s->boolean;
    case CT_U8: return H5T_STD_U8LE;
    case CT_I32: return H5T_STD_I32LE;
    case CT_I64: return H5T_STD_I64LE;
    case CT_F16: return s->f16;
    case CT_BF16: return H5T_STD_U16LE;
    case CT_F32: return H5T_IEEE_F32LE;
    case CT_F64: return H5T_IEEE_F64LE;
    default: return H5I_INVALID_HID;
    }
}

/* The type describing a dtype's elements in memory (HDF5 converts byte orders between the two). */
static hid_t mem_type(const h5_session *s, ct_dtype dtype) {
    switch (dtype) {
    case CT_BOOL: return s->boolean;
    case CT_U8: return H5T_NATIVE_UINT8;
    case CT_I32: return H5T_NATIVE_INT32;
    case CT_I64: return H5T_NATIVE_INT64;
    case CT_F16: return s->f16;
    case CT_BF16: return H5T_NATIVE_UINT16;
    case CT_F32: return H5T_NATIVE_FLOAT;
    case CT_F64: return H5T_NATIVE_DOUBLE;
    default: return H5I_INVALID_HID;
    }
}

/* The dataset's ctorch_dtype attribute into buf ("" when absent or not a short string). */
static void read_dtype_attr(hid_t dset, char *buf, size_t n) {
    buf[0] = 0;
    if (H5Aexists(dset, DTYPE_ATTR) <= 0) return;
    hid_t attr = H5Aopen(dset, DTYPE_ATTR, H5P_DEFAULT);
    hid_t atype = attr >= 0 ? H5Aget_type(attr) : H5I_INVALID_HID;
    if (atype >= 0 && H5Tget_class(atype) == H5T_STRING && !H5Tis_variable_str(atype) && H5Tget_size(atype) < n) {
        hid_t mtype = H5Tcopy(H5T_C_S1);
        H5Tset_size(mtype, H5Tget_size(atype) + 1); /* room for the terminator */
        if (H5Aread(attr, mtype, buf) < 0) buf[0] = 0;
        H5Tclose(mtype);
    }
    if (atype >= 0) H5Tclose(atype);
    if (attr >= 0) H5Aclose(attr);
}

/* Is an enum type h5py's bool: one-byte integer base, exactly FALSE = 0 and TRUE = 1? */
static bool is_bool_enum(hid_t type) {
    if (H5Tget_size(type) != 1 || H5Tget_nmembers(type) != 2) return false;
    for (unsigned i = 0; i < 2; i++) {
        char *name = H5Tget_member_name(type, i);
        int8_t value = -1;
        bool ok = name && H5Tget_member_value(type, i, &value) >= 0 &&
                  ((!strcmp(name, "FALSE") && value == 0) || (!strcmp(name, "TRUE") && value == 1));
        H5free_memory(name);
        if (!ok) return false;
    }
    return true;
}

/* The dtype a stored type loads as, or -1 with a short description of the type in what. */
static int classify(hid_t type, hid_t dset, char *what, size_t n) {
    size_t size = H5Tget_size(type);
    char attr[32];
    switch (H5Tget_class(type)) {
    case H5T_FLOAT: {
        size_t spos, epos, esize, mpos, msize;
        if (size == 4) return CT_F32;
        if (size == 8) return CT_F64;
        if (size == 2 && H5Tget_fields(type, &spos, &epos, &esize, &mpos, &msize) >= 0) {
            if (esize == 5 && msize == 10) return CT_F16;
            if (esize == 8 && msize == 7) return CT_BF16;
        }
        snprintf(what, n, "%zu-bit float", size * 8);
        return -1;
    }
    case H5T_INTEGER: {
        bool is_signed = H5Tget_sign(type) == H5T_SGN_2;
        read_dtype_attr(dset, attr, sizeof attr);
        if (size == 2 && !is_signed && !strcmp(attr, "bfloat16")) return CT_BF16;
        if (size == 2 && !is_signed && !strcmp(attr, "float16")) return CT_F16;
        if (size == 1 && !is_signed) return CT_U8;
        if (size == 4 && is_signed) return CT_I32;
        if (size == 8 && is_signed) return CT_I64;
        snprintf(what, n, "%sint%zu", is_signed ? "" : "u", size * 8);
        return -1;
    }
    case H5T_ENUM:
        if (is_bool_enum(type)) return CT_BOOL;
        snprintf(what, n, "enum");
        return -1;
    case H5T_STRING: snprintf(what, n, "string"); return -1;
    case H5T_COMPOUND: snprintf(what, n, "compound"); return -1;
    case H5T_ARRAY: snprintf(what, n, "array"); return -1;
    case H5T_VLEN: snprintf(what, n, "variable-length"); return -1;
    case H5T_OPAQUE: snprintf(what, n, "opaque"); return -1;
    case H5T_REFERENCE: snprintf(what, n, "reference"); return -1;
    case H5T_BITFIELD: snprintf(what, n, "bitfield"); return -1;
    case H5T_TIME: snprintf(what, n, "time"); return -1;
    default: snprintf(what, n, "unknown"); return -1;
    }
}

/* ---- saving --------------------------------------------------------------------------------- */

static bool valid_name(const char *name) {
    return name && name[0] && strcmp(name, ".") != 0 && !strchr(name, '/');
}

static bool check_save_args(const char *op, const char *path, ct_named_tensors ts) {
    if (!path) return ct_error(CT_ERR_ARG, "%s: path is NULL", op), false;
    if (ts.n < 0 || (ts.n > 0 && !ts.items))
        return ct_error(CT_ERR_ARG, "%s: invalid list of %d tensors", op, ts.n), false;
    for (int i = 0; i < ts.n; i++) {
        const char *name = ts.items[i].name;
        if (!valid_name(name))
            return ct_error(CT_ERR_ARG, "%s: tensor %d has an invalid name '%s' for '%s' (names are non-empty, not "
                            "\".\" and without '/')", op, i, name ? name : "(null)", path), false;
        if (!ts.items[i].tensor) {
            if (ct_ok()) ct_error(CT_ERR_NULL, "%s: tensor '%s' is NULL", op, name);
            return false;
        }
        for (int j = 0; j < i; j++)
            if (!strcmp(ts.items[j].name, name))
                return ct_error(CT_ERR_ARG, "%s: duplicate name '%s' for '%s'", op, name, path), false;
    }
    return true;
}

/* Writes one dataset: a contiguous host copy of t (any device, any strides). HDF5 clears its
 * error stack on entering any call, so the reason is taken right after the call that failed. */
static bool write_dataset(const char *op, const h5_session *s, hid_t file, const char *name, const ct_tensor *t,
                          const char *path) {
    bool ok = false;
    char why[256] = "";
    CT_SCOPE {
        ct_tensor *host = ct_to(ct_contiguous(t), CT_CPU);
        if (!host) break;
        ct_dtype dtype = ct_dtype_of(host);
        int ndim = ct_ndim(host);
        hsize_t dims[CT_MAX_DIMS];
        for (int d = 0; d < ndim; d++) dims[d] = (hsize_t)ct_size(host, d);
        hid_t space = ndim == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(ndim, dims, NULL);
        hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
        H5Pset_obj_track_times(dcpl, false); /* the same tensors give the same bytes */
        hid_t dset = space >= 0 && dcpl >= 0
                         ? H5Dcreate2(file, name, file_type(s, dtype), space, H5P_DEFAULT, dcpl, H5P_DEFAULT)
                         : H5I_INVALID_HID;
        ok = dset >= 0 || (h5_why(why), false);
        if (ok && ct_numel(host) > 0)
            ok = H5Dwrite(dset, mem_type(s, dtype), H5S_ALL, H5S_ALL, H5P_DEFAULT, ct_data_ptr(host)) >= 0 ||
                 (h5_why(why), false);
        if (ok && dtype == CT_BF16) { /* numpy has no bfloat16: name it for readers */
            hid_t atype = H5Tcopy(H5T_C_S1), aspace = H5Screate(H5S_SCALAR);
            H5Tset_size(atype, strlen("bfloat16"));
            hid_t attr = H5Acreate2(dset, DTYPE_ATTR, atype, aspace, H5P_DEFAULT, H5P_DEFAULT);
            ok = (attr >= 0 && H5Awrite(attr, atype, "bfloat16") >= 0) || (h5_why(why), false);
            if (attr >= 0) H5Aclose(attr);
            H5Sclose(aspace);
            H5Tclose(atype);
        }
        if (dset >= 0 && H5Dclose(dset) < 0 && ok) ok = false, h5_why(why);
        if (dcpl >= 0) H5Pclose(dcpl);
        if (space >= 0) H5Sclose(space);
        if (!ok) ct_error(CT_ERR_IO, "%s: cannot write dataset '%s' to '%s'%s", op, name, path, why);
    }
    return ok;
}

/* Flushes a file (or directory) to disk; false with errno set on failure. */
static bool sync_path(const char *path, int flags) {
    int fd = open(path, flags);
    if (fd < 0) return false;
    int rc = fsync(fd);
    int err = errno;
    close(fd);
    errno = err;
    return rc == 0;
}

/* Writes every tensor into a new HDF5 file at tmp; false with an error (tmp may exist). */
static bool write_file(const char *op, const h5_session *s, const char *tmp, const char *path, ct_named_tensors ts) {
    char why[256];
    /* Create the file ourselves first: HDF5 does not report why a file cannot be created. */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    if (fd < 0) return ct_error(CT_ERR_IO, "%s: cannot create '%s': %s", op, tmp, strerror(errno)), false;
    close(fd);
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE), fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_link_creation_order(fcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED);
    H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
    /* HDF5 1.8's file format: every metadata block carries a checksum, so a damaged file is
     * reported instead of misread, and any HDF5 from 1.8 on (h5py included) reads it. */
    H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_V18);
    hid_t file = H5Fcreate(tmp, H5F_ACC_TRUNC, fcpl, fapl);
    if (file < 0) ct_error(CT_ERR_IO, "%s: cannot create '%s'%s", op, tmp, h5_why(why));
    H5Pclose(fcpl);
    H5Pclose(fapl);
    if (file < 0) return false;
    bool ok = true;
    for (int i = 0; ok && i < ts.n; i++) ok = write_dataset(op, s, file, ts.items[i].name, ts.items[i].tensor, path);
    if (H5Fclose(file) < 0 && ok)
        ok = false, ct_error(CT_ERR_IO, "%s: cannot finish writing '%s'%s", op, tmp, h5_why(why));
    if (ok && !sync_path(tmp, O_RDONLY))
        ok = false, ct_error(CT_ERR_IO, "%s: cannot flush '%s' to disk: %s", op, tmp, strerror(errno));
    return ok;
}

bool ct_save_tensors(const char *path, ct_named_tensors tensors) {
    const char *op = "save_tensors";
    if (!check_save_args(op, path, tensors)) return false;
    size_t tmp_len = strlen(path) + 32;
    char *tmp = malloc(tmp_len);
    if (!tmp) return ct_error(CT_ERR_OOM, "%s: out of memory", op), false;
    snprintf(tmp, tmp_len, "%s.tmp-%ld", path, (long)getpid());
    h5_session s;
    h5_begin(&s);
    bool ok = write_file(op, &s, tmp, path, tensors);
    if (ok && rename(tmp, path) != 0)
        ok = false, ct_error(CT_ERR_IO, "%s: cannot rename '%s' to '%s': %s", op, tmp, path, strerror(errno));
    if (!ok) unlink(tmp);
    h5_end(&s);
    if (ok) { /* make the rename itself durable (best effort: some file systems refuse) */
        char *dir = strdup(path);
        if (dir) sync_path(dirname(dir), O_RDONLY | O_DIRECTORY);
        free(dir);
    }
    free(tmp);
    return ok;
}

/* ---- loading -------------------------------------------------------------------------------- */

/* Opens path read-only, telling a missing file, a non-HDF5 file and a damaged one apart. */
static hid_t open_file(const char *op, const char *path) {
    char why[256];
    struct stat st;
    if (!path) return ct_error(CT_ERR_ARG, "%s: path is NULL", op), H5I_INVALID_HID;
    if (stat(path, &st) != 0)
        return ct_error(CT_ERR_IO, "%s: cannot open '%s': %s", op, path, strerror(errno)), H5I_INVALID_HID;
    if (S_ISDIR(st.st_mode))
        return ct_error(CT_ERR_IO, "%s: cannot open '%s': %s", op, path, strerror(EISDIR)), H5I_INVALID_HID;
    htri_t is_h5 = h5_is_hdf5(path);
    if (is_h5 == 0) {
        H5Eclear2(H5E_DEFAULT);
        return ct_error(CT_ERR_IO, "%s: '%s' is not an HDF5 file", op, path), H5I_INVALID_HID;
    }
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
    hid_t file = is_h5 > 0 ? H5Fopen(path, H5F_ACC_RDONLY, fapl) : H5I_INVALID_HID;
    if (file < 0) ct_error(CT_ERR_IO, "%s: cannot read '%s': the file is truncated or corrupt%s", op, path, h5_why(why));
    H5Pclose(fapl);
    return file;
}

/* The root group's link names, in creation order when the file tracks it (files written here),
 * else in name order (h5py's default). */
typedef struct name_list {
    char **names;
    int n, cap;
} name_list;

static void name_list_free(name_list *l) {
    for (int i = 0; i < l->n; i++) free(l->names[i]);
    free(l->names);
}

static herr_t collect_name(hid_t group, const char *name, const h5_link_info *info, void *data) {
    (void)group, (void)info;
    name_list *l = data;
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 16;
        char **grown = realloc(l->names, (size_t)cap * sizeof *grown);
        if (!grown) return -1;
        l->names = grown, l->cap = cap;
    }
    if (!(l->names[l->n] = strdup(name))) return -1;
    l->n++;
    return 0;
}

static bool list_names(const char *op, hid_t file, const char *path, name_list *out) {
    char why[256];
    *out = (name_list){0};
    /* Creation order needs the file to index it (files written here do); else name order. */
    if (h5_iterate_links(file, H5_INDEX_CRT_ORDER, H5_ITER_INC, NULL, collect_name, out) >= 0) return true;
    name_list_free(out);
    *out = (name_list){0};
    if (h5_iterate_links(file, H5_INDEX_NAME, H5_ITER_INC, NULL, collect_name, out) >= 0) return true;
    ct_error(CT_ERR_IO, "%s: cannot list the datasets of '%s': the file is truncated or corrupt%s", op, path,
             h5_why(why));
    name_list_free(out);
    *out = (name_list){0};
    return false;
}

/* An open dataset with the dtype and shape it loads as. */
typedef struct dataset {
    hid_t id;
    ct_dtype dtype;
    ct_shape shape;
} dataset;

static bool open_dataset(const char *op, hid_t file, const char *path, const char *name, dataset *ds) {
    char why[256] = "", what[64];
    ds->id = H5I_INVALID_HID;
    hid_t obj = H5Oopen(file, name, H5P_DEFAULT);
    if (obj < 0)
        return ct_error(CT_ERR_IO, "%s: cannot read '%s' in '%s': the file is truncated or corrupt%s", op, name, path,
                        h5_why(why)), false;
    H5I_type_t kind_of_obj = H5Iget_type(obj);
    H5Oclose(obj);
    if (kind_of_obj != H5I_DATASET)
        return ct_error(CT_ERR_IO, "%s: '%s' in '%s' is a %s, not a dataset (state files hold one dataset per "
                        "dotted name at the root)", op, name, path, kind_of_obj == H5I_GROUP ? "group" : "named type"),
               false;
    ds->id = H5Dopen2(file, name, H5P_DEFAULT);
    hid_t type = ds->id >= 0 ? H5Dget_type(ds->id) : H5I_INVALID_HID;
    if (ds->id < 0 || type < 0) h5_why(why); /* before the next call clears HDF5's error stack */
    hid_t space = type >= 0 ? H5Dget_space(ds->id) : H5I_INVALID_HID;
    if (type >= 0 && space < 0) h5_why(why);
    bool ok = type >= 0 && space >= 0;
    if (!ok) ct_error(CT_ERR_IO, "%s: cannot read dataset '%s' of '%s': the file is truncated or corrupt%s", op, name,
                      path, why);
    int dtype = ok ? classify(type, ds->id, what, sizeof what) : 0;
    if (ok && dtype < 0) {
        ok = false;
        ct_error(CT_ERR_DTYPE, "%s: dataset '%s' of '%s' has an unsupported type (%s); ctorch loads bool, uint8, "
                 "int32, int64, float16, bfloat16, float32 and float64", op, name, path, what);
    }
    H5S_class_t kind = ok ? H5Sget_simple_extent_type(space) : H5S_NO_CLASS;
    int ndim = kind == H5S_SIMPLE ? H5Sget_simple_extent_ndims(space) : 0;
    if (ok && kind != H5S_SCALAR && kind != H5S_SIMPLE) {
        ok = false;
        ct_error(CT_ERR_IO, "%s: dataset '%s' of '%s' has no dataspace (an empty/null dataset holds no tensor)", op,
                 name, path);
    } else if (ok && (ndim < 0 || ndim > CT_MAX_DIMS)) {
        ok = false;
        ct_error(CT_ERR_SHAPE, "%s: dataset '%s' of '%s' has %d dimensions; tensors have at most %d", op, name, path,
                 ndim, CT_MAX_DIMS);
    }
    if (ok) {
        hsize_t dims[CT_MAX_DIMS];
        H5Sget_simple_extent_dims(space, dims, NULL);
        ds->dtype = (ct_dtype)dtype;
        ds->shape.ndim = ndim;
        for (int d = 0; d < ndim; d++) {
            if (dims[d] > (hsize_t)INT64_MAX / 2) {
                ok = false;
                ct_error(CT_ERR_IO, "%s: dataset '%s' of '%s' has an impossible size: the file is corrupt", op, name,
                         path);
            }
            ds->shape.d[d] = (int64_t)dims[d];
        }
    }
    if (space >= 0) H5Sclose(space);
    if (type >= 0) H5Tclose(type);
    if (!ok && ds->id >= 0) H5Dclose(ds->id), ds->id = H5I_INVALID_HID;
    return ok;
}

/* Reads an open dataset into a new contiguous CPU tensor of its dtype (scope-owned); closes it. */
static ct_tensor *read_dataset(const char *op, const h5_session *s, dataset *ds, const char *path, const char *name) {
    char why[256];
    ct_tensor *t = ct_empty(ds->shape, .dtype = ds->dtype);
    if (t && ct_numel(t) > 0 && H5Dread(ds->id, mem_type(s, ds->dtype), H5S_ALL, H5S_ALL, H5P_DEFAULT, ct_data_ptr(t)) < 0) {
        ct_error(CT_ERR_IO, "%s: cannot read dataset '%s' of '%s': the file is truncated or corrupt%s", op, name, path,
                 h5_why(why));
        t = NULL;
    }
    H5Dclose(ds->id);
    ds->id = H5I_INVALID_HID;
    return t;
}

ct_named_tensors ct_load_tensors(const char *path) {
    const char *op = "load_tensors";
    ct_named_tensors out = {0, NULL};
    h5_session s;
    h5_begin(&s);
    name_list names = {0};
    hid_t file = open_file(op, path);
    bool ok = file >= 0 && list_names(op, file, path, &names);
    /* One scope-owned block holds the items and, after them, the names. */
    size_t bytes = (size_t)names.n * sizeof(ct_named_tensor);
    for (int i = 0; i < names.n; i++) bytes += strlen(names.names[i]) + 1;
    ct_named_tensor *items = ok ? ct_scope_alloc(bytes) : NULL;
    ok = items != NULL;
    ct_scope_begin(); /* the tensors read, kept into the caller's scope when all succeeded */
    char *text = items ? (char *)(items + names.n) : NULL;
    for (int i = 0; ok && i < names.n; i++) {
        dataset ds;
        items[i].name = strcpy(text, names.names[i]);
        text += strlen(text) + 1;
        items[i].tensor = open_dataset(op, file, path, names.names[i], &ds)
                              ? read_dataset(op, &s, &ds, path, names.names[i]) : NULL;
        ok = items[i].tensor != NULL;
    }
    for (int i = 0; ok && i < names.n; i++) ct_keep(items[i].tensor);
    ct_scope_end();
    name_list_free(&names);
    if (file >= 0) H5Fclose(file);
    h5_end(&s);
    if (ok) out = (ct_named_tensors){names.n, items};
    return out;
}

/* ---- loading into existing tensors ----------------------------------------------------------- */

/* A growing message (for the list of every key and shape problem). */
typedef struct text {
    char *s;
    size_t len, cap;
} text;

CT_PRINTF(2, 3) static void text_add(text *t, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if (t->len + (size_t)n + 1 > t->cap) {
        size_t cap = (t->len + (size_t)n + 1) * 2;
        char *grown = realloc(t->s, cap);
        if (!grown) return;
        t->s = grown, t->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    t->len += (size_t)n;
}

/* Sorted indices of names, for matching by binary search. */
static const char *const *sort_names;
static int cmp_index(const void *a, const void *b) {
    return strcmp(sort_names[*(const int *)a], sort_names[*(const int *)b]);
}

static bool check_dest(const char *op, ct_named_tensors dest) {
    if (dest.n < 0 || (dest.n > 0 && !dest.items))
        return ct_error(CT_ERR_ARG, "%s: invalid list of %d tensors", op, dest.n), false;
    for (int i = 0; i < dest.n; i++) {
        const char *name = dest.items[i].name;
        ct_tensor *t = dest.items[i].tensor;
        if (!name) return ct_error(CT_ERR_ARG, "%s: tensor %d has no name", op, i), false;
        if (!t) {
            if (ct_ok()) ct_error(CT_ERR_NULL, "%s: tensor '%s' is NULL", op, name);
            return false;
        }
        for (int j = 0; j < i; j++)
            if (!strcmp(dest.items[j].name, name)) return ct_error(CT_ERR_ARG, "%s: duplicate name '%s'", op, name), false;
        if (!ct__check_writable(op, t)) return false;
        if (!ct__is_cpu(t) && !ct__is_contiguous(t))
            return ct_error(CT_ERR_UNSUPPORTED, "%s: tensor '%s' on %s is not contiguous; strided copies there are not "
                            "implemented yet", op, name, ct_device_name(ct__device(t))), false;
    }
    return true;
}

/* For every dest tensor the index of the file's dataset of that name, or -1; flags the file's
 * datasets that matched. */
static bool match_names(ct_named_tensors dest, const name_list *names, int *match, bool *matched) {
    int *order = malloc((size_t)(names->n ? names->n : 1) * sizeof *order);
    if (!order) return ct_error(CT_ERR_OOM, "load_tensors_into: out of memory"), false;
    for (int i = 0; i < names->n; i++) order[i] = i;
    sort_names = (const char *const *)names->names; /* safe: callers hold h5_lock */
    qsort(order, (size_t)names->n, sizeof *order, cmp_index);
    for (int i = 0; i < dest.n; i++) {
        int lo = 0, hi = names->n;
        match[i] = -1;
        while (lo < hi) {
            int mid = (lo + hi) / 2, c = strcmp(names->names[order[mid]], dest.items[i].name);
            if (c == 0) {
                match[i] = order[mid];
                matched[order[mid]] = true;
                break;
            }
            if (c < 0) lo = mid + 1;
            else hi = mid;
        }
    }
    free(order);
    return true;
}

/* Reads the matched datasets into temporaries (src[i] for dest i, NULL when unmatched) and
 * reports every key and shape problem at once. */
static bool read_matches(const char *op, const h5_session *s, hid_t file, const char *path, ct_named_tensors dest,
                         bool strict, const name_list *names, const int *match, const bool *matched, ct_tensor **src) {
    text problems = {0};
    bool key_error = false, ok = true;
    if (strict) {
        const char *sep = "\n\tMissing key(s) in state_dict: ";
        for (int i = 0; i < dest.n; i++)
            if (match[i] < 0) text_add(&problems, "%s\"%s\"", sep, dest.items[i].name), sep = ", ", key_error = true;
        if (key_error) text_add(&problems, ". ");
        sep = "\n\tUnexpected key(s) in state_dict: ";
        bool unexpected = false;
        for (int j = 0; j < names->n; j++)
            if (!matched[j]) text_add(&problems, "%s\"%s\"", sep, names->names[j]), sep = ", ", unexpected = true;
        if (unexpected) text_add(&problems, ". ");
        key_error |= unexpected;
    }
    /* Shapes come from the dataspaces: nothing is read while any problem stands. */
    dataset *open = calloc((size_t)(dest.n ? dest.n : 1), sizeof *open);
    if (!open) ok = false, ct_error(CT_ERR_OOM, "%s: out of memory", op);
    for (int i = 0; ok && i < dest.n; i++) {
        open[i].id = H5I_INVALID_HID;
        if (match[i] < 0) continue;
        if (!open_dataset(op, file, path, names->names[match[i]], &open[i])) {
            ok = false;
            break;
        }
        const ct_tensor *t = dest.items[i].tensor;
        if (!ct__same_shape(open[i].shape.d, open[i].shape.ndim, t->shape, t->ndim))
            text_add(&problems, "\n\tsize mismatch for %s: copying a param with shape %s from checkpoint, the shape in "
                     "current model is %s.", dest.items[i].name, ct__shape_str(open[i].shape.d, open[i].shape.ndim),
                     ct__shape_str(t->shape, t->ndim));
    }
    if (ok && problems.len) {
        ok = false;
        ct_error(key_error ? CT_ERR_ARG : CT_ERR_SHAPE, "%s: Error(s) in loading state_dict from '%s':%s", op, path,
                 problems.s ? problems.s : "");
    }
    for (int i = 0; ok && i < dest.n; i++)
        if (match[i] >= 0) ok = (src[i] = read_dataset(op, s, &open[i], path, dest.items[i].name)) != NULL;
    for (int i = 0; open && i < dest.n; i++)
        if (open[i].id >= 0) H5Dclose(open[i].id);
    free(open);
    free(problems.s);
    return ok;
}

bool ct_load_tensors_into(const char *path, ct_named_tensors dest, bool strict) {
    const char *op = "load_tensors_into";
    if (!check_dest(op, dest)) return false;
    bool ok = false;
    ct_scope_begin(); /* the temporaries read from the file */
    int *match = malloc((size_t)(dest.n ? dest.n : 1) * sizeof *match);
    ct_tensor **src = calloc((size_t)(dest.n ? dest.n : 1), sizeof *src);
    bool *matched = NULL;
    name_list names = {0};
    h5_session s;
    h5_begin(&s);
    hid_t file = open_file(op, path);
    if (file >= 0 && list_names(op, file, path, &names)) {
        matched = calloc((size_t)(names.n ? names.n : 1), sizeof *matched);
        if (!match || !src || !matched) ct_error(CT_ERR_OOM, "%s: out of memory", op);
        else if (match_names(dest, &names, match, matched))
            ok = read_matches(op, &s, file, path, dest, strict, &names, match, matched, src);
    }
    if (file >= 0) H5Fclose(file);
    h5_end(&s);
    /* Everything is read and checked: only now write into dest. */
    if (ok) CT_NO_GRAD {
        for (int i = 0; ok && i < dest.n; i++)
            if (src[i]) ok = ct_copy_(dest.items[i].tensor, src[i]) != NULL;
    }
    name_list_free(&names);
    free(matched);
    free(src);
    free(match);
    ct_scope_end();
    return ok;
}
