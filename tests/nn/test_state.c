/* HDF5 state files: round trips of every dtype, shape (0-d, 0-size) and layout, bit for bit; the
 * file read back by h5dump and h5py (when installed) with dotted dataset names and the documented
 * types, and h5py-written files read by ctorch; load_tensors_into with PyTorch's strict and
 * non-strict rules, changing nothing on any error; missing, garbage, truncated and odd files;
 * atomic writes (no temporary file left after success or failure); HDF5 handles and scope
 * entries all released on every path. */
#include "../common/testutil.h"
#include "../../nn/state_file_impl.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- files ------------------------------------------------------------------------------------ */

static char test_dir[64];

/* test_dir/name, in a ring of buffers. */
static const char *path_of(const char *name) {
    static char ring[8][256];
    static unsigned next;
    char *p = ring[next++ % 8];
    snprintf(p, 256, "%s/%s", test_dir, name);
    return p;
}

/* Files in test_dir whose names contain ".tmp-": a save must never leave one. */
static int temp_files(void) {
    DIR *d = opendir(test_dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));) n += strstr(e->d_name, ".tmp-") != NULL;
    if (d) closedir(d);
    return n;
}

static void write_bytes(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

static int64_t file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (int64_t)st.st_size : -1;
}

/* The whole output of a shell command (malloc'd), with its exit status. */
static char *run_command(const char *cmd, int *status) {
    FILE *p = popen(cmd, "r");
    if (!p) fail_msg("popen %s failed", cmd);
    size_t len = 0, cap = 4096;
    char *out = malloc(cap);
    for (size_t got; (got = fread(out + len, 1, cap - len - 1, p)) > 0;) {
        len += got;
        if (cap - len < 2) out = realloc(out, cap *= 2);
    }
    out[len] = 0;
    int rc = pclose(p);
    *status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    return out;
}

static bool have_h5dump(void) { return system("command -v h5dump >/dev/null 2>&1") == 0; }
static bool have_h5py(void) { return system("/usr/bin/python3 -c 'import h5py' >/dev/null 2>&1") == 0; }

/* ---- tensors ---------------------------------------------------------------------------------- */

/* The named item of a list, or fails the test. */
static ct_tensor *find(ct_named_tensors ts, const char *name) {
    for (int i = 0; i < ts.n; i++)
        if (!strcmp(ts.items[i].name, name)) return ts.items[i].tensor;
    fail_msg("no tensor named '%s' among %d", name, ts.n);
    return NULL;
}

/* got has want's dtype, shape, device CPU, contiguity, and the same bytes in logical order. */
static void assert_same_bits(const ct_tensor *got, const ct_tensor *want, const char *name) {
    if (!got) fail_msg("%s: NULL (%s)", name, ct_last_error());
    assert_int_equal(ct_dtype_of(got), ct_dtype_of(want));
    ct_shape g = ct_shape_of(got), w = ct_shape_of(want);
    assert_int_equal(g.ndim, w.ndim);
    for (int d = 0; d < g.ndim; d++) assert_int_equal(g.d[d], w.d[d]);
    assert_true(ct_device_equal(ct_device_of(got), CT_CPU));
    assert_true(ct_is_contiguous(got));
    size_t n = (size_t)ct_numel(want) * ct_dtype_size(ct_dtype_of(want));
    if (n && memcmp(ct_data_ptr(got), ct_data_ptr(ct_contiguous(ct_to(want, CT_CPU))), n) != 0)
        fail_msg("%s: values differ after the round trip", name);
}

/* A snapshot of a tensor's values, to prove a failed load changed nothing. */
static ct_tensor *snapshot(const ct_tensor *t) { return ct_clone(t); }
static void assert_unchanged(const ct_tensor *t, const ct_tensor *snap) {
    assert_true(ct_item(ct_all(ct_eq(t, snap))) != 0);
}

static ct_tensor *f32s(ct_shape shape, const float *v) { return ct_from_data(v, shape, CT_F32); }

/* ---- round trips ------------------------------------------------------------------------------ */

static const ct_dtype all_dtypes[] = {CT_BOOL, CT_U8, CT_I32, CT_I64, CT_F16, CT_BF16, CT_F32, CT_F64};

static void test_round_trip_every_dtype_shape_and_layout(void **state) {
    (void)state;
    uint64_t rng = 11;
    const char *path = path_of("round.h5");
    for (size_t k = 0; k < sizeof all_dtypes / sizeof all_dtypes[0]; k++) CT_SCOPE {
        ct_dtype dt = all_dtypes[k];
        double lo = dt == CT_U8 ? 0 : -100, hi = 100;
        ct_named_tensor items[16];
        char names[16][32];
        int n = 0;
#define ADD(label, expr)                                                                     \
    do {                                                                                     \
        snprintf(names[n], sizeof names[n], "%s.%s", ct_dtype_name(dt), label);               \
        items[n] = (ct_named_tensor){names[n], (expr)};                                      \
        assert_non_null(items[n].tensor);                                                    \
        n++;                                                                                 \
    } while (0)
        ADD("scalar", tu_random(&rng, CT_SHAPE(), dt, TU_CONTIGUOUS, lo, hi));
        ADD("empty", tu_random(&rng, CT_SHAPE(0), dt, TU_CONTIGUOUS, lo, hi));
        ADD("empty2d", tu_random(&rng, CT_SHAPE(0, 3), dt, TU_CONTIGUOUS, lo, hi));
        ADD("empty_inner", tu_random(&rng, CT_SHAPE(2, 0, 4), dt, TU_CONTIGUOUS, lo, hi));
        ADD("vec", tu_random(&rng, CT_SHAPE(7), dt, TU_CONTIGUOUS, lo, hi));
        ADD("cube", tu_random(&rng, CT_SHAPE(2, 3, 4), dt, TU_CONTIGUOUS, lo, hi));
        ADD("many_dims", tu_random(&rng, CT_SHAPE(1, 2, 1, 3, 1, 2, 1, 1, 2, 1, 1, 1, 1, 1, 1, 2), dt, TU_CONTIGUOUS, lo, hi));
        for (int layout = TU_TRANSPOSED; layout < TU_NUM_LAYOUTS; layout++)
            ADD(tu_layout_names[layout], tu_random(&rng, CT_SHAPE(3, 5), dt, (tu_layout)layout, lo, hi));
        ADD("select", ct_select(tu_random(&rng, CT_SHAPE(3, 5), dt, TU_TRANSPOSED, lo, hi), 1, 2));
#undef ADD
        assert_true(ct_save_tensors(path, ((ct_named_tensors){n, items})));
        ct_named_tensors back = ct_load_tensors(path);
        assert_non_null(back.items);
        assert_int_equal(back.n, n);
        for (int i = 0; i < n; i++) {
            assert_string_equal(back.items[i].name, items[i].name); /* file order is creation order */
            assert_same_bits(back.items[i].tensor, items[i].tensor, items[i].name);
        }
    }
    assert_int_equal(temp_files(), 0);
}

static void test_special_float_values_survive_bit_for_bit(void **state) {
    (void)state;
    const double v[] = {NAN, INFINITY, -INFINITY, -0.0, 0.0, 65504, 6e-8, -1e-5, 3.3895e38, 1e-40};
    ct_dtype fdt[] = {CT_F16, CT_BF16, CT_F32, CT_F64};
    ct_named_tensor items[4];
    for (int i = 0; i < 4; i++)
        items[i] = (ct_named_tensor){ct_dtype_name(fdt[i]), ct_to_dtype(ct_from_data(v, CT_SHAPE(10), CT_F64), fdt[i])};
    const char *path = path_of("special.h5");
    assert_true(ct_save_tensors(path, ((ct_named_tensors){4, items})));
    ct_named_tensors back = ct_load_tensors(path);
    assert_int_equal(back.n, 4);
    for (int i = 0; i < 4; i++) assert_same_bits(back.items[i].tensor, items[i].tensor, items[i].name);
}

static void test_order_names_and_overwrite(void **state) {
    (void)state;
    const char *path = path_of("order.h5");
    ct_tensor *a = ct_ones(CT_SHAPE(2)), *b = ct_zeros(CT_SHAPE(3), .dtype = CT_I64);
    /* creation order, not name order; any byte but '/' in a name */
    assert_true(ct_save_tensors(path, CT_NAMED_TENSORS({"z.last", a}, {"a first", b}, {"m", a}, {"\xc3\xa9t\xc3\xa9.0", b})));
    ct_named_tensors back = ct_load_tensors(path);
    assert_int_equal(back.n, 4);
    assert_string_equal(back.items[0].name, "z.last");
    assert_string_equal(back.items[1].name, "a first");
    assert_string_equal(back.items[2].name, "m");
    assert_string_equal(back.items[3].name, "\xc3\xa9t\xc3\xa9.0");
    /* saving again replaces the file as a whole */
    assert_true(ct_save_tensors(path, CT_NAMED_TENSORS({"only", ct_full(CT_SHAPE(), 7, .dtype = CT_I32)})));
    back = ct_load_tensors(path);
    assert_int_equal(back.n, 1);
    assert_string_equal(back.items[0].name, "only");
    assert_int_equal(ct_ndim(back.items[0].tensor), 0);
    assert_true(ct_item(back.items[0].tensor) == 7);
    /* an empty list makes a file with no datasets */
    assert_true(ct_save_tensors(path, ((ct_named_tensors){0, NULL})));
    back = ct_load_tensors(path);
    assert_int_equal(back.n, 0);
    assert_non_null(back.items);
    assert_true(ct_ok());
    assert_int_equal(temp_files(), 0);
}

static void test_results_belong_to_the_scope(void **state) {
    (void)state;
    const char *path = path_of("scope.h5");
    assert_true(ct_save_tensors(path, CT_NAMED_TENSORS({"w", ct_ones(CT_SHAPE(4, 4))}, {"b", ct_ones(CT_SHAPE(4))})));
    int64_t before = ct_scope_size();
    CT_SCOPE {
        ct_named_tensors back = ct_load_tensors(path);
        assert_int_equal(back.n, 2);
        assert_int_equal(ct_refcount(back.items[0].tensor), 1);
    }
    assert_int_equal(ct_scope_size(), before);
    ct_tensor *w = ct_zeros(CT_SHAPE(4, 4)), *b = ct_zeros(CT_SHAPE(4));
    before = ct_scope_size();
    assert_true(ct_load_tensors_into(path, CT_NAMED_TENSORS({"w", w}, {"b", b}), true));
    assert_int_equal(ct_scope_size(), before); /* the temporaries are gone */
    assert_int_equal(ct_refcount(w), 1);
}

static void test_cuda_tensors_are_copied_to_the_host(void **state) {
    (void)state;
    if (!ct_cuda_is_available()) return; /* covered on GPU machines */
    const char *path = path_of("cuda.h5");
    ct_tensor *host = ct_arange(0, 12, 1, .dtype = CT_F32);
    ct_tensor *dev = ct_to(host, CT_CUDA(0));
    assert_true(ct_save_tensors(path, CT_NAMED_TENSORS({"x", dev})));
    ct_named_tensors back = ct_load_tensors(path);
    assert_same_bits(back.items[0].tensor, host, "x");
    ct_tensor *into = ct_zeros(CT_SHAPE(12), .device = CT_CUDA(0));
    assert_true(ct_load_tensors_into(path, CT_NAMED_TENSORS({"x", into}), true));
    assert_same_bits(ct_to(into, CT_CPU), host, "x on cuda");
}

/* ---- other readers ---------------------------------------------------------------------------- */

/* A small file with every dtype under dotted names, with known values. */
static void save_reference_file(const char *path) {
    bool bools[] = {true, false, true};
    uint8_t bytes[] = {0, 200, 255};
    int32_t ints[] = {-5, 0, 2147483647};
    int64_t longs[] = {-9000000000LL};
    double doubles[] = {0.25, -8, 1e300, 3};
    ct_tensor *two_by_three = f32s(CT_SHAPE(2, 3), (float[]){1, 2, 3, 4, 5, 6});
    bool ok = ct_save_tensors(path, CT_NAMED_TENSORS(
        {"0.weight", ct_transpose(two_by_three, 0, 1)}, /* written as the 3x2 it shows */
        {"blocks.3.attn.qkv.weight", f32s(CT_SHAPE(3), (float[]){0.5f, -1.25f, 3})},
        {"step", ct_from_data(longs, CT_SHAPE(), CT_I64)},
        {"mask", ct_from_data(bools, CT_SHAPE(3), CT_BOOL)},
        {"bytes", ct_from_data(bytes, CT_SHAPE(3), CT_U8)},
        {"ints", ct_from_data(ints, CT_SHAPE(3), CT_I32)},
        {"doubles", ct_reshape(ct_from_data(doubles, CT_SHAPE(4), CT_F64), CT_SHAPE(2, 2))},
        {"half", ct_to_dtype(f32s(CT_SHAPE(2), (float[]){1.5f, -2}), CT_F16)},
        {"brain", ct_to_dtype(f32s(CT_SHAPE(2), (float[]){1.5f, -2}), CT_BF16)},
        {"empty", ct_zeros(CT_SHAPE(0, 3))}));
    if (!ok) fail_msg("save: %s", ct_last_error());
}

static void test_h5dump_lists_dotted_names(void **state) {
    (void)state;
    if (!have_h5dump()) {
        printf("[  SKIPPED ] h5dump (package hdf5-tools) is not installed\n");
        return;
    }
    const char *path = path_of("dump.h5");
    save_reference_file(path);
    char cmd[512];
    int status;
    snprintf(cmd, sizeof cmd, "h5dump -H '%s'", path);
    char *out = run_command(cmd, &status);
    assert_int_equal(status, 0);
    const char *want[] = {
        "DATASET \"0.weight\"", "DATASET \"blocks.3.attn.qkv.weight\"", "DATASET \"step\"", "DATASET \"mask\"",
        "DATASET \"half\"", "DATASET \"brain\"", "DATASET \"empty\"", "H5T_IEEE_F32LE", "H5T_IEEE_F64LE",
        "H5T_STD_I64LE", "H5T_STD_I32LE", "H5T_STD_U8LE", "H5T_STD_U16LE", "16-bit little-endian floating-point",
        "\"FALSE\"            0", "\"TRUE\"             1", "DATASPACE  SCALAR",
        "DATASPACE  SIMPLE { ( 3, 2 ) / ( 3, 2 ) }", "DATASPACE  SIMPLE { ( 0, 3 ) / ( 0, 3 ) }",
        "ATTRIBUTE \"ctorch_dtype\"",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(out, want[i])) fail_msg("h5dump -H lacks '%s':\n%s", want[i], out);
    assert_null(strstr(out, "GROUP \"/0\"")); /* dotted names are not groups */
    assert_null(strstr(out, "GROUP \"blocks\""));
    free(out);
    snprintf(cmd, sizeof cmd, "h5dump -d /0.weight -d /step -d /half '%s'", path);
    out = run_command(cmd, &status);
    assert_int_equal(status, 0);
    if (!strstr(out, "(0,0): 1, 4,") || !strstr(out, "(2,0): 3, 6") || !strstr(out, "(0): -9000000000") ||
        !strstr(out, "(0): 1.5, -2"))
        fail_msg("h5dump values:\n%s", out);
    free(out);
}

/* Prints "name dtype shape [attrs] values" per dataset, sorted by name. */
static const char *const h5py_reader =
    "import sys, h5py\n"
    "with h5py.File(sys.argv[1], 'r') as f:\n"
    "    for k in sorted(f.keys()):\n"
    "        d = f[k]\n"
    "        a = ''.join(' %s=%s' % (n, v.decode() if isinstance(v, bytes) else v) for n, v in d.attrs.items())\n"
    "        print(k, d.dtype, d.shape, a.strip() or '-', d[()].tolist())\n";

static void test_h5py_reads_the_same_values(void **state) {
    (void)state;
    if (!have_h5py()) {
        printf("[  SKIPPED ] /usr/bin/python3 has no h5py\n");
        return;
    }
    const char *path = path_of("py.h5"), *script = path_of("read.py");
    save_reference_file(path);
    write_bytes(script, h5py_reader, strlen(h5py_reader));
    char cmd[512];
    int status;
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s' '%s' 2>&1", script, path);
    char *out = run_command(cmd, &status);
    const char *want =
        "0.weight float32 (3, 2) - [[1.0, 4.0], [2.0, 5.0], [3.0, 6.0]]\n"
        "blocks.3.attn.qkv.weight float32 (3,) - [0.5, -1.25, 3.0]\n"
        "brain uint16 (2,) ctorch_dtype=bfloat16 [16320, 49152]\n"
        "bytes uint8 (3,) - [0, 200, 255]\n"
        "doubles float64 (2, 2) - [[0.25, -8.0], [1e+300, 3.0]]\n"
        "empty float32 (0, 3) - []\n"
        "half float16 (2,) - [1.5, -2.0]\n"
        "ints int32 (3,) - [-5, 0, 2147483647]\n"
        "mask bool (3,) - [True, False, True]\n"
        "step int64 () - -9000000000\n";
    if (status != 0 || strcmp(out, want) != 0) fail_msg("h5py read (status %d):\n%s\nwanted:\n%s", status, out, want);
    free(out);
}

/* h5py writes a file (its own defaults: name order, chunked and compressed data, big-endian
 * values, groups, types ctorch lacks); ctorch reads what it supports and names what it does not. */
static void test_reads_files_h5py_wrote(void **state) {
    (void)state;
    if (!have_h5py()) {
        printf("[  SKIPPED ] /usr/bin/python3 has no h5py\n");
        return;
    }
    const char *good = path_of("from_py.h5"), *script = path_of("write.py");
    const char *writer =
        "import sys, h5py, numpy as np\n"
        "d = sys.argv[1]\n"
        "with h5py.File(d + '/from_py.h5', 'w') as f:\n"
        "    f['z.w'] = np.arange(6, dtype='>f8').reshape(2, 3)\n"
        "    f.create_dataset('a.gz', data=np.arange(1000, dtype=np.float32), chunks=(100,), compression='gzip')\n"
        "    f['m'] = np.array([True, False])\n"
        "    f['h'] = np.array([0.5, -3], dtype=np.float16)\n"
        "    f['s'] = np.int32(-4)\n"
        "with h5py.File(d + '/int16.h5', 'w') as f:\n"
        "    f['ok'] = np.float32(1)\n"
        "    f['bad.x'] = np.array([1, 2], dtype=np.int16)\n"
        "with h5py.File(d + '/strings.h5', 'w') as f:\n"
        "    f['name'] = 'hello'\n"
        "with h5py.File(d + '/group.h5', 'w') as f:\n"
        "    f['blocks/0/w'] = np.float32(1)\n"
        "with h5py.File(d + '/null.h5', 'w') as f:\n"
        "    f['e'] = h5py.Empty('f4')\n";
    write_bytes(script, writer, strlen(writer));
    char cmd[512];
    int status;
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s' '%s' 2>&1", script, test_dir);
    free(run_command(cmd, &status));
    assert_int_equal(status, 0);

    ct_named_tensors back = ct_load_tensors(good);
    if (!back.items) fail_msg("%s", ct_last_error());
    assert_int_equal(back.n, 5);
    assert_string_equal(back.items[0].name, "a.gz"); /* h5py files list in name order */
    assert_string_equal(back.items[4].name, "z.w");
    ct_tensor *zw = find(back, "z.w");
    assert_int_equal(ct_dtype_of(zw), CT_F64);
    tu_assert_values(zw, CT_SHAPE(2, 3), (double[]){0, 1, 2, 3, 4, 5}, 0, 0);
    ct_tensor *gz = find(back, "a.gz");
    assert_int_equal(ct_dtype_of(gz), CT_F32);
    assert_true(ct_item(ct_sum(gz)) == 999 * 1000 / 2);
    assert_int_equal(ct_dtype_of(find(back, "m")), CT_BOOL);
    tu_assert_values(find(back, "m"), CT_SHAPE(2), (double[]){1, 0}, 0, 0);
    assert_int_equal(ct_dtype_of(find(back, "h")), CT_F16);
    tu_assert_values(find(back, "h"), CT_SHAPE(2), (double[]){0.5, -3}, 0, 0);
    assert_int_equal(ct_dtype_of(find(back, "s")), CT_I32);
    tu_assert_values(find(back, "s"), CT_SHAPE(), (double[]){-4}, 0, 0);

    int64_t ids = ct__state_file_open_ids();
    const char *unsupported = path_of("int16.h5");
    ct_named_tensors none = ct_load_tensors(unsupported);
    assert_null(none.items);
    assert_int_equal(none.n, 0);
    char needle[300];
    snprintf(needle, sizeof needle, "load_tensors: dataset 'bad.x' of '%s' has an unsupported type (int16)", unsupported);
    tu_assert_error(CT_ERR_DTYPE, needle);
    /* non-strict loading reads only what dest names: the int16 dataset is not in the way */
    ct_tensor *ok = ct_zeros(CT_SHAPE());
    assert_true(ct_load_tensors_into(unsupported, CT_NAMED_TENSORS({"ok", ok}), false));
    assert_true(ct_item(ok) == 1);
    ct_tensor *bad = ct_zeros(CT_SHAPE(2));
    assert_false(ct_load_tensors_into(unsupported, CT_NAMED_TENSORS({"ok", ok}, {"bad.x", bad}), false));
    tu_assert_error(CT_ERR_DTYPE, "unsupported type (int16)");
    assert_null(ct_load_tensors(path_of("strings.h5")).items);
    tu_assert_error(CT_ERR_DTYPE, "unsupported type (string)");
    assert_null(ct_load_tensors(path_of("group.h5")).items);
    tu_assert_error(CT_ERR_IO, "'blocks' in");
    assert_null(ct_load_tensors(path_of("null.h5")).items);
    tu_assert_error(CT_ERR_IO, "dataset 'e'");
    assert_int_equal(ct__state_file_open_ids(), ids);
}

/* ---- load_tensors_into ------------------------------------------------------------------------ */

/* A file like a two-layer model's state dict, plus one extra entry. */
static const char *save_model_file(void) {
    const char *path = path_of("model.h5");
    bool ok = ct_save_tensors(path, CT_NAMED_TENSORS(
        {"0.weight", f32s(CT_SHAPE(2, 3), (float[]){1, 2, 3, 4, 5, 6})},
        {"0.bias", f32s(CT_SHAPE(2), (float[]){-1, -2})},
        {"extra", ct_full(CT_SHAPE(), 9, .dtype = CT_I64)}));
    if (!ok) fail_msg("save: %s", ct_last_error());
    return path;
}

static void test_load_into_copies_by_name(void **state) {
    (void)state;
    const char *path = save_model_file();
    /* a strided f64 destination that requires grad: converted, written through the view, no graph */
    ct_tensor *base = ct_zeros(CT_SHAPE(3, 2), .dtype = CT_F64);
    ct_tensor *w = ct_transpose(base, 0, 1);
    ct_tensor *b = ct_requires_grad_(ct_zeros(CT_SHAPE(2)), true);
    ct_tensor *step = ct_zeros(CT_SHAPE(), .dtype = CT_I64);
    assert_true(ct_load_tensors_into(path, CT_NAMED_TENSORS({"extra", step}, {"0.bias", b}, {"0.weight", w}), true));
    tu_assert_values(w, CT_SHAPE(2, 3), (double[]){1, 2, 3, 4, 5, 6}, 0, 0);
    tu_assert_values(base, CT_SHAPE(3, 2), (double[]){1, 4, 2, 5, 3, 6}, 0, 0);
    tu_assert_values(b, CT_SHAPE(2), (double[]){-1, -2}, 0, 0);
    assert_true(ct_is_leaf(b) && ct_requires_grad(b));
    assert_null(ct_grad_fn_name(b));
    assert_true(ct_item(step) == 9);
    /* non-strict: missing and unexpected keys are fine */
    ct_tensor *w2 = ct_zeros(CT_SHAPE(2, 3)), *other = ct_full(CT_SHAPE(4), 5);
    assert_true(ct_load_tensors_into(path, CT_NAMED_TENSORS({"0.weight", w2}, {"1.weight", other}), false));
    tu_assert_values(w2, CT_SHAPE(2, 3), (double[]){1, 2, 3, 4, 5, 6}, 0, 0);
    tu_assert_values(other, CT_SHAPE(4), (double[]){5, 5, 5, 5}, 0, 0);
    assert_true(ct_load_tensors_into(path, ((ct_named_tensors){0, NULL}), false));
    assert_true(ct_ok());
}

static void test_load_into_strict_lists_every_problem_and_changes_nothing(void **state) {
    (void)state;
    const char *path = save_model_file();
    ct_tensor *w = ct_full(CT_SHAPE(2, 3), 7), *b = ct_full(CT_SHAPE(2), 7), *w1 = ct_full(CT_SHAPE(2), 7);
    ct_tensor *sw = snapshot(w), *sb = snapshot(b), *sw1 = snapshot(w1);
    int64_t ids = ct__state_file_open_ids();
    char want[1024];

    assert_false(ct_load_tensors_into(path, CT_NAMED_TENSORS({"0.weight", w}, {"0.bias", b}, {"1.weight", w1}), true));
    snprintf(want, sizeof want,
             "load_tensors_into: Error(s) in loading state_dict from '%s':\n"
             "\tMissing key(s) in state_dict: \"1.weight\". \n"
             "\tUnexpected key(s) in state_dict: \"extra\". ", path);
    assert_string_equal(ct_last_error(), want);
    tu_assert_error(CT_ERR_ARG, "Missing key(s)");
    assert_unchanged(w, sw), assert_unchanged(b, sb), assert_unchanged(w1, sw1);

    /* several missing keys, and a size mismatch listed after them */
    ct_tensor *b_wrong = ct_full(CT_SHAPE(3), 7), *sbw = snapshot(b_wrong);
    assert_false(ct_load_tensors_into(path, CT_NAMED_TENSORS({"2.w", w1}, {"0.weight", w}, {"0.bias", b_wrong},
                                                              {"extra", ct_zeros(CT_SHAPE(), .dtype = CT_I64)},
                                                              {"2.b", w1}), true));
    snprintf(want, sizeof want,
             "load_tensors_into: Error(s) in loading state_dict from '%s':\n"
             "\tMissing key(s) in state_dict: \"2.w\", \"2.b\". \n"
             "\tsize mismatch for 0.bias: copying a param with shape [2] from checkpoint, the shape in current model "
             "is [3].", path);
    assert_string_equal(ct_last_error(), want);
    ct_clear_error();
    assert_unchanged(w, sw), assert_unchanged(b_wrong, sbw), assert_unchanged(w1, sw1);

    /* non-strict still refuses mismatched shapes (0-d against [2, 3] too) and writes nothing */
    ct_tensor *scalar = ct_full(CT_SHAPE(), 7), *ss = snapshot(scalar);
    assert_false(ct_load_tensors_into(path, CT_NAMED_TENSORS({"0.bias", b}, {"0.weight", scalar}, {"nothing", w1}), false));
    snprintf(want, sizeof want,
             "load_tensors_into: Error(s) in loading state_dict from '%s':\n"
             "\tsize mismatch for 0.weight: copying a param with shape [2, 3] from checkpoint, the shape in current "
             "model is [].", path);
    assert_string_equal(ct_last_error(), want);
    tu_assert_error(CT_ERR_SHAPE, "size mismatch");
    assert_unchanged(b, sb), assert_unchanged(scalar, ss);

    /* bad destinations are refused before the file is opened */
    ct_tensor *expanded = ct_expand(ct_zeros(CT_SHAPE(1, 3)), CT_SHAPE(2, 3));
    assert_false(ct_load_tensors_into(path, CT_NAMED_TENSORS({"0.bias", b}, {"0.weight", expanded}), true));
    tu_assert_error(CT_ERR_ARG, "more than one element of the written-to tensor refers to a single memory location");
    assert_unchanged(b, sb);
    assert_false(ct_load_tensors_into(path, CT_NAMED_TENSORS({"0.bias", b}, {"0.bias", b}), false));
    tu_assert_error(CT_ERR_ARG, "duplicate name '0.bias'");
    assert_false(ct_load_tensors_into(path, CT_NAMED_TENSORS({NULL, b}), false));
    tu_assert_error(CT_ERR_ARG, "tensor 0 has no name");
    assert_false(ct_load_tensors_into(path, CT_NAMED_TENSORS({"0.bias", NULL}), false));
    tu_assert_error(CT_ERR_NULL, "tensor '0.bias' is NULL");
    /* a NULL from a failed op keeps the first error */
    assert_false(ct_load_tensors_into(path, CT_NAMED_TENSORS({"0.bias", ct_reshape(b, CT_SHAPE(5))}), false));
    tu_assert_error(CT_ERR_SHAPE, "invalid for input of size 2");
    assert_int_equal(ct__state_file_open_ids(), ids);
}

/* ---- damaged and foreign files ---------------------------------------------------------------- */

static void test_missing_garbage_truncated_files(void **state) {
    (void)state;
    ct_tensor *dest = ct_full(CT_SHAPE(1000), 3), *snap = snapshot(dest);
    int64_t ids = ct__state_file_open_ids();
    char want[512];

    const char *missing = path_of("missing.h5");
    ct_named_tensors r = ct_load_tensors(missing);
    assert_null(r.items);
    assert_int_equal(r.n, 0);
    snprintf(want, sizeof want, "load_tensors: cannot open '%s': No such file or directory", missing);
    assert_string_equal(ct_last_error(), want);
    tu_assert_error(CT_ERR_IO, want);
    assert_false(ct_load_tensors_into(missing, CT_NAMED_TENSORS({"x", dest}), true));
    tu_assert_error(CT_ERR_IO, "load_tensors_into: cannot open");

    const char *garbage = path_of("garbage.h5");
    char junk[4096];
    for (size_t i = 0; i < sizeof junk; i++) junk[i] = (char)(i * 7 + 3);
    write_bytes(garbage, junk, sizeof junk);
    assert_null(ct_load_tensors(garbage).items);
    snprintf(want, sizeof want, "load_tensors: '%s' is not an HDF5 file", garbage);
    tu_assert_error(CT_ERR_IO, want);
    const char *empty = path_of("empty.h5");
    write_bytes(empty, "", 0);
    assert_null(ct_load_tensors(empty).items);
    tu_assert_error(CT_ERR_IO, "is not an HDF5 file");
    assert_null(ct_load_tensors(test_dir).items);
    tu_assert_error(CT_ERR_IO, "Is a directory");

    /* a real file cut short, at several lengths: superblock only, half the data, all but a byte */
    const char *whole = path_of("whole.h5"), *cut = path_of("cut.h5");
    assert_true(ct_save_tensors(whole, CT_NAMED_TENSORS({"x", ct_arange(0, 1000, 1, .dtype = CT_F32)},
                                                        {"y", ct_arange(0, 1000, 1, .dtype = CT_F32)})));
    int64_t size = file_size(whole);
    assert_true(size > 8000);
    FILE *in = fopen(whole, "rb");
    char *bytes = malloc((size_t)size);
    assert_int_equal(fread(bytes, 1, (size_t)size, in), (size_t)size);
    fclose(in);
    const int64_t lengths[] = {100, 1500, size / 2, size - 1};
    for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
        write_bytes(cut, bytes, (size_t)size);
        assert_int_equal(truncate(cut, lengths[i]), 0);
        assert_null(ct_load_tensors(cut).items);
        snprintf(want, sizeof want, "load_tensors: cannot read '%s': the file is truncated or corrupt", cut);
        tu_assert_error(CT_ERR_IO, want);
        assert_false(ct_load_tensors_into(cut, CT_NAMED_TENSORS({"x", dest}), false));
        tu_assert_error(CT_ERR_IO, "truncated or corrupt");
        assert_unchanged(dest, snap);
    }
    free(bytes);
    assert_int_equal(ct__state_file_open_ids(), ids);
}

/* Loads a damaged file in a child process and checks the error there: HDF5 1.10 leaks an internal
 * block after a metadata checksum failure and, with its error printing on, complains about it at
 * exit ("infinite loop closing library"); _exit skips that. */
static void assert_corrupt_in_child(const char *path, const char *needle) {
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        ct_named_tensors r = ct_load_tensors(path);
        _exit(!r.items && ct_last_status() == CT_ERR_IO && strstr(ct_last_error(), needle) ? 0 : 1);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) fail_msg("loading %s did not fail with '%s'", path, needle);
}

static void test_corrupt_metadata_is_detected(void **state) {
    (void)state;
    const char *whole = path_of("meta.h5"), *bad = path_of("meta_bad.h5");
    assert_true(ct_save_tensors(whole, CT_NAMED_TENSORS({"x", ct_ones(CT_SHAPE(10))}, {"y", ct_ones(CT_SHAPE(3))})));
    int64_t size = file_size(whole);
    char *bytes = malloc((size_t)(size > 0 ? size : 1));
    FILE *in = fopen(whole, "rb");
    assert_int_equal(fread(bytes, 1, (size_t)size, in), (size_t)size);
    fclose(in);
    /* the object headers ("OHDR", checksummed): the root group's, then x's, then y's */
    int64_t headers[3], found = 0;
    for (int64_t i = 0; i + 4 <= size && found < 3; i++)
        if (!memcmp(bytes + i, "OHDR", 4)) headers[found++] = i;
    assert_int_equal(found, 3);
    char want[512];
    struct { int64_t at; const char *fmt; } cases[] = {
        {20, "load_tensors: cannot read '%s': the file is truncated or corrupt (HDF5: "}, /* superblock */
        {headers[0] + 12, "load_tensors: cannot list the datasets of '%s': the file is truncated or corrupt"},
        {headers[1] + 12, "load_tensors: cannot read 'x' in '%s': the file is truncated or corrupt"},
        {headers[2] + 12, "load_tensors: cannot read 'y' in '%s': the file is truncated or corrupt"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        bytes[cases[c].at] ^= 0x5a;
        write_bytes(bad, bytes, (size_t)size);
        bytes[cases[c].at] ^= 0x5a;
        snprintf(want, sizeof want, cases[c].fmt, bad);
        assert_corrupt_in_child(bad, want);
    }
    free(bytes);
}

/* ---- saving: validation, atomic replacement, failures ----------------------------------------- */

static void test_save_errors_leave_no_file(void **state) {
    (void)state;
    ct_tensor *t = ct_ones(CT_SHAPE(2));
    const char *path = path_of("bad_save.h5");
    int64_t ids = ct__state_file_open_ids();
    assert_false(ct_save_tensors(path, CT_NAMED_TENSORS({"", t})));
    tu_assert_error(CT_ERR_ARG, "tensor 0 has an invalid name ''");
    assert_false(ct_save_tensors(path, CT_NAMED_TENSORS({"a", t}, {"blocks/0", t})));
    tu_assert_error(CT_ERR_ARG, "tensor 1 has an invalid name 'blocks/0'");
    assert_false(ct_save_tensors(path, CT_NAMED_TENSORS({".", t})));
    tu_assert_error(CT_ERR_ARG, "invalid name '.'");
    assert_false(ct_save_tensors(path, CT_NAMED_TENSORS({NULL, t})));
    tu_assert_error(CT_ERR_ARG, "invalid name '(null)'");
    assert_false(ct_save_tensors(path, CT_NAMED_TENSORS({"a", t}, {"b", t}, {"a", t})));
    tu_assert_error(CT_ERR_ARG, "duplicate name 'a'");
    assert_false(ct_save_tensors(path, CT_NAMED_TENSORS({"a", NULL})));
    tu_assert_error(CT_ERR_NULL, "tensor 'a' is NULL");
    assert_false(ct_save_tensors(path, CT_NAMED_TENSORS({"a", ct_mm(t, t)})));
    tu_assert_error(CT_ERR_SHAPE, "mm");
    assert_false(ct_save_tensors(NULL, CT_NAMED_TENSORS({"a", t})));
    tu_assert_error(CT_ERR_ARG, "path is NULL");
    assert_false(ct_save_tensors(path, ((ct_named_tensors){-1, NULL})));
    tu_assert_error(CT_ERR_ARG, "invalid list");
    assert_int_equal(file_size(path), -1);

    /* a directory that does not exist */
    const char *nowhere = path_of("no/such/dir/x.h5");
    assert_false(ct_save_tensors(nowhere, CT_NAMED_TENSORS({"a", t})));
    tu_assert_error(CT_ERR_IO, "No such file or directory");

    /* the final rename fails (path is a non-empty directory): the temporary file goes too */
    const char *dir = path_of("occupied");
    assert_int_equal(mkdir(dir, 0755), 0);
    char inside[300];
    snprintf(inside, sizeof inside, "%s/keep", dir);
    write_bytes(inside, "x", 1);
    assert_false(ct_save_tensors(dir, CT_NAMED_TENSORS({"a", t})));
    char want[512];
    snprintf(want, sizeof want, "save_tensors: cannot rename '%s.tmp-%ld' to '%s'", dir, (long)getpid(), dir);
    tu_assert_error(CT_ERR_IO, want);
    assert_int_equal(temp_files(), 0);
    assert_int_equal(file_size(inside), 1);
    unlink(inside);
    rmdir(dir);
    assert_int_equal(ct__state_file_open_ids(), ids);
}

static void test_failed_save_keeps_the_old_file(void **state) {
    (void)state;
    const char *path = path_of("keep.h5");
    ct_tensor *old = ct_arange(0, 5, 1, .dtype = CT_F32);
    assert_true(ct_save_tensors(path, CT_NAMED_TENSORS({"old", old})));
    /* a stale temporary file from a crashed save (same pid) is overwritten, then renamed */
    char stale[300];
    snprintf(stale, sizeof stale, "%s.tmp-%ld", path, (long)getpid());
    write_bytes(stale, "half-written", 12);
    assert_false(ct_save_tensors(path, CT_NAMED_TENSORS({"new", old}, {"new", old})));
    ct_clear_error();
    ct_named_tensors back = ct_load_tensors(path);
    assert_int_equal(back.n, 1);
    assert_string_equal(back.items[0].name, "old");
    assert_same_bits(back.items[0].tensor, old, "old");
    assert_true(ct_save_tensors(path, CT_NAMED_TENSORS({"new", old})));
    assert_int_equal(temp_files(), 0);
    assert_string_equal(ct_load_tensors(path).items[0].name, "new");
}

static void test_no_handles_leak(void **state) {
    (void)state;
    const char *path = path_of("leak.h5");
    ct_tensor *t = ct_ones(CT_SHAPE(3, 3), .dtype = CT_BF16);
    assert_true(ct_save_tensors(path, CT_NAMED_TENSORS({"t", t}, {"b", ct_ones(CT_SHAPE(2), .dtype = CT_BOOL)})));
    int64_t ids = ct__state_file_open_ids();
    for (int i = 0; i < 200; i++) CT_SCOPE {
        assert_true(ct_save_tensors(path, CT_NAMED_TENSORS({"t", t}, {"b", ct_ones(CT_SHAPE(2), .dtype = CT_BOOL)})));
        assert_int_equal(ct_load_tensors(path).n, 2);
        assert_true(ct_load_tensors_into(path, CT_NAMED_TENSORS({"t", t}), false));
        assert_false(ct_load_tensors_into(path, CT_NAMED_TENSORS({"t", ct_ones(CT_SHAPE(2))}), true));
        ct_clear_error();
    }
    assert_int_equal(ct__state_file_open_ids(), ids);
    /* the handler of HDF5's error stack is restored: nothing was printed, nothing is pending */
    assert_true(ct_ok());
}

int main(void) {
    snprintf(test_dir, sizeof test_dir, "/tmp/ct_state_XXXXXX");
    if (!mkdtemp(test_dir)) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_every_dtype_shape_and_layout),
        cmocka_unit_test(test_special_float_values_survive_bit_for_bit),
        cmocka_unit_test(test_order_names_and_overwrite),
        cmocka_unit_test(test_results_belong_to_the_scope),
        cmocka_unit_test(test_cuda_tensors_are_copied_to_the_host),
        cmocka_unit_test(test_h5dump_lists_dotted_names),
        cmocka_unit_test(test_h5py_reads_the_same_values),
        cmocka_unit_test(test_reads_files_h5py_wrote),
        cmocka_unit_test(test_load_into_copies_by_name),
        cmocka_unit_test(test_load_into_strict_lists_every_problem_and_changes_nothing),
        cmocka_unit_test(test_missing_garbage_truncated_files),
        cmocka_unit_test(test_corrupt_metadata_is_detected),
        cmocka_unit_test(test_save_errors_leave_no_file),
        cmocka_unit_test(test_failed_save_keeps_the_old_file),
        cmocka_unit_test(test_no_handles_leak),
    };
    int rc = TU_RUN("state", tests);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", test_dir);
    if (system(cmd) != 0) rc = 1;
    return rc;
}
