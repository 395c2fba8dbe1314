/* The export suite's harness (onnx_harness.h). */
#include "onnx_harness.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef CT_SOURCE_ROOT
#error "CT_SOURCE_ROOT must name the source tree (tests/meson.build defines it)"
#endif

#define OX_MAX_OUT 4

char ox_python[64];
char ox_node_script[1024];
static char tmpdir[256];

/* ---- the function module ---- */
typedef struct fn_state { ox_fn fn; } fn_state;
static ct_tensor_list fn_forward(ct_module *m, ct_tensor_list in) {
    fn_state *s = ct_module_state(m);
    ct_tensor *y = s->fn(m, in);
    return y ? ct_tensor_list_copy(CT_TENSORS(y)) : (ct_tensor_list){0};
}
static const ct_module_vtable fn_vtable = {.name = "Fn", .forward_list = fn_forward};
ct_module *ox_fn_module(ox_fn fn) {
    ct_module *m = ct_module_new(&fn_vtable, sizeof(fn_state));
    if (m) ((fn_state *)ct_module_state(m))->fn = fn;
    return m;
}

/* ---- queued runs ---- */
typedef struct run {
    char name[96];        /* case name and set */
    int n_out;
    int64_t numel[OX_MAX_OUT];
    char dims[OX_MAX_OUT][64];
    float *want[OX_MAX_OUT];
    char prefix[320];
} run;
static run *runs;
static int n_runs, cap_runs;
static char **models;
static int n_models;
static double max_err;

const char *ox_path(const char *file) {
    static char buf[512];
    snprintf(buf, sizeof buf, "%s/%s", tmpdir, file);
    return buf;
}
bool ox_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

static void dims_str(char *buf, size_t size, const ct_tensor *t) {
    size_t k = 0;
    buf[0] = 0;
    for (int d = 0; d < ct_ndim(t) && k < size; d++)
        k += (size_t)snprintf(buf + k, size - k, "%s%lld", d ? "x" : "", (long long)ct_size(t, d));
}

/* Writes t as raw f32 or int64 (integer dtypes); appends "[i64:]DIMS:FILE" to spec. */
static void write_input(const ct_tensor *t, const char *file, char *spec, size_t size) {
    int64_t n = ct_numel(t);
    double *v = tu_values(t);
    bool integral = !ct_dtype_is_floating(ct_dtype_of(t));
    FILE *f = fopen(file, "wb");
    if (!f) fail_msg("cannot write %s", file);
    for (int64_t i = 0; i < n; i++) {
        if (integral) {
            int64_t x = (int64_t)v[i];
            fwrite(&x, sizeof x, 1, f);
        } else {
            float x = (float)v[i];
            fwrite(&x, sizeof x, 1, f);
        }
    }
    fclose(f);
    char dims[64];
    dims_str(dims, sizeof dims, t);
    size_t k = strlen(spec);
    snprintf(spec + k, size - k, " %s%s:%s", integral ? "i64:" : "", ct_ndim(t) ? dims : "1", file);
}

void ox_case(const char *name, ct_module *m, int n_sets, const ct_tensor_list *sets, ct_onnx_opts opts) {
    assert_non_null(m);
    char file[128];
    snprintf(file, sizeof file, "%s.onnx", name);
    char *model = strdup(ox_path(file));
    if (!ct_onnx_export_opt(m, sets[0], model, opts)) fail_msg("export of %s: %s", name, ct_last_error());
    models = realloc(models, (size_t)(n_models + 1) * sizeof *models);
    models[n_models++] = model;
    bool training = ct_module_is_training(m);
    ct_module_eval(m);
    for (int s = 0; s < n_sets; s++) {
        if (n_runs == cap_runs) runs = realloc(runs, (size_t)(cap_runs = cap_runs ? 2 * cap_runs : 64) * sizeof *runs);
        run *r = &runs[n_runs++];
        memset(r, 0, sizeof *r);
        snprintf(r->name, sizeof r->name, "%s (input set %d)", name, s);
        snprintf(file, sizeof file, "%s_s%d_out", name, s);
        snprintf(r->prefix, sizeof r->prefix, "%s", ox_path(file));
        char spec[2048] = "";
        for (int i = 0; i < sets[s].n; i++) {
            snprintf(file, sizeof file, "%s_s%d_in%d.bin", name, s, i);
            write_input(sets[s].items[i], ox_path(file), spec, sizeof spec);
        }
        ct_tensor_list out = {0};
        CT_NO_GRAD { out = ct_forward_list(m, sets[s]); }
        if (!out.n || out.n > OX_MAX_OUT) fail_msg("forward of %s: %s", name, ct_last_error());
        r->n_out = out.n;
        for (int i = 0; i < out.n; i++) {
            int64_t n = ct_numel(out.items[i]);
            double *v = tu_values(out.items[i]);
            r->numel[i] = n;
            r->want[i] = malloc((size_t)(n ? n : 1) * sizeof(float));
            for (int64_t k = 0; k < n; k++) r->want[i][k] = (float)v[k];
            dims_str(r->dims[i], sizeof r->dims[i], out.items[i]);
        }
        /* the job line, appended to the jobs file */
        FILE *jobs = fopen(ox_path("jobs.txt"), "a");
        assert_non_null(jobs);
        fprintf(jobs, "%s %s%s\n", model, r->prefix, spec);
        fclose(jobs);
    }
    ct_module_train(m, training);
}

char *ox_capture(const char *cmd, int *status) {
    FILE *p = popen(cmd, "r");
    if (!p) return *status = -1, NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n - 1, p)) > 0) {
        n += got;
        if (cap - n < 2) buf = realloc(buf, cap *= 2);
    }
    buf[n] = 0;
    int st = pclose(p);
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return buf;
}

static double compare(const run *r, int i, const char *got_dims) {
    char file[400];
    snprintf(file, sizeof file, "%s%d.bin", r->prefix, i);
    FILE *f = fopen(file, "rb");
    if (!f) fail_msg("%s: onnxruntime wrote no output %d", r->name, i);
    float *got = malloc((size_t)(r->numel[i] ? r->numel[i] : 1) * sizeof *got);
    size_t n = fread(got, sizeof *got, (size_t)r->numel[i], f);
    fclose(f);
    if (strcmp(got_dims, r->dims[i]) || (int64_t)n != r->numel[i])
        fail_msg("%s: output %d has shape %s in onnxruntime, %s in ctorch", r->name, i, got_dims, r->dims[i]);
    double diff = 0, scale = 0;
    for (int64_t k = 0; k < r->numel[i]; k++) {
        double d = fabs((double)got[k] - r->want[i][k]);
        if (!(d <= diff)) diff = d; /* NaN propagates */
        scale = fmax(scale, fabs(r->want[i][k]));
    }
    free(got);
    return scale > 0 ? diff / scale : diff;
}

void ox_check_all(void **state) {
    (void)state;
    if (!n_models) return;
    /* the checker over every file in one python */
    size_t size = 256 + (size_t)n_models * 320;
    char *cmd = malloc(size);
    size_t k = (size_t)snprintf(cmd, size, "%s %s/scripts/onnx_check.py", ox_python, CT_SOURCE_ROOT);
    for (int i = 0; i < n_models; i++) k += (size_t)snprintf(cmd + k, size - k, " %s", models[i]);
    snprintf(cmd + k, size - k, " 2>&1");
    int st;
    char *out = ox_capture(cmd, &st);
    free(cmd);
    if (st != 0) fail_msg("onnx checker failed:\n%s", out ? out : "");
    free(out);
    /* onnxruntime over every input set in one node */
    char node_cmd[2048];
    snprintf(node_cmd, sizeof node_cmd, "node %s --jobs %s 2>&1", ox_node_script, ox_path("jobs.txt"));
    out = ox_capture(node_cmd, &st);
    if (st != 0 || !out) fail_msg("onnx_run.js failed: %s", out ? out : "");
    int failures = 0;
    char *save = NULL;
    int job = 0;
    for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        int n;
        char verdict[16];
        int used = 0;
        if (sscanf(line, "job %d %15s %n", &n, verdict, &used) != 2 || n != job || n >= n_runs) continue;
        job++;
        run *r = &runs[n];
        if (strcmp(verdict, "ok")) {
            print_error("%s: onnxruntime: %s\n", r->name, line + used);
            failures++;
            continue;
        }
        char *dims_save = NULL, *rest = line + used;
        for (int i = 0; i < r->n_out; i++) {
            char *d = strtok_r(i ? NULL : rest, " ", &dims_save);
            double err = compare(r, i, d ? d : "?");
            print_message("  %-48s output %d  max rel err %.3g\n", r->name, i, err);
            if (!(err <= 1e-5)) {
                print_error("%s: output %d differs from ctorch by %.3g relative (> 1e-5)\n", r->name, i, err);
                failures++;
            }
            if (err > max_err || isnan(err)) max_err = err;
        }
    }
    free(out);
    if (job != n_runs) fail_msg("onnx_run.js reported %d of %d runs", job, n_runs);
    if (failures) fail_msg("%d run(s) differ from ctorch", failures);
}

double ox_max_error(void) { return max_err; }

static void cleanup(void) {
    for (int i = 0; i < n_runs; i++)
        for (int k = 0; k < runs[i].n_out; k++) free(runs[i].want[k]);
    for (int i = 0; i < n_models; i++) free(models[i]);
    free(runs), free(models);
    if (tmpdir[0]) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    }
}

/* Why the suite cannot run here (NULL: it can). */
static const char *missing(void) {
#ifndef CT_HAVE_ONNX
    return "ctorch was built without ONNX export (meson feature onnx: protoc-c, libprotobuf-c, libonnx-dev)";
#else
    int st;
    const char *ort = getenv("CT_ONNXRUNTIME_NODE");
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", ort ? ort : CT_SOURCE_ROOT "/.deps/node/node_modules/onnxruntime-node");
    if (!ox_exists(dir)) return "onnxruntime-node is not installed (scripts/install-deps.sh puts it in .deps/node)";
    free(ox_capture("node --version >/dev/null 2>&1", &st));
    if (st != 0) return "node is not installed (needed for onnxruntime-node)";
    static const char *const pythons[] = {"python3", "/usr/bin/python3"};
    for (size_t i = 0; i < sizeof pythons / sizeof *pythons; i++) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "%s -c 'import onnx' >/dev/null 2>&1", pythons[i]);
        free(ox_capture(cmd, &st));
        if (st == 0) {
            snprintf(ox_python, sizeof ox_python, "%s", pythons[i]);
            snprintf(ox_node_script, sizeof ox_node_script, "%s/scripts/onnx_run.js", CT_SOURCE_ROOT);
            return NULL;
        }
    }
    return "python3-onnx is not installed (the checker: apt-get install python3-onnx)";
#endif
}

int ox_run(const char *name, const struct CMUnitTest *tests, size_t n) {
    const char *why = missing();
    if (why) {
#ifndef CT_HAVE_ONNX
        /* the entry point exists and says so */
        ct_init();
        bool ok = ct_onnx_export(NULL, NULL, "x.onnx");
        bool right = !ok && ct_last_status() == CT_ERR_UNSUPPORTED;
        ct_shutdown();
        if (!right) return fprintf(stderr, "ct_onnx_export without ONNX did not fail with CT_ERR_UNSUPPORTED\n"), 1;
#endif
        printf("[  SKIPPED ] %zu test(s): %s: %s\n", n, name, why);
        return 77;
    }
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ct_onnx_XXXXXX");
    if (!mkdtemp(tmpdir)) return fprintf(stderr, "cannot make a temporary directory\n"), 1;
    int rc = tu_run(name, tests, n);
    cleanup();
    return rc;
}

char *ox_initializer_names(const char *model) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s -c \"import onnx, sys; print(' '.join(sorted(i.name for i in onnx.load(sys.argv[1]).graph.initializer)))\" %s",
             ox_python, model);
    int st;
    char *out = ox_capture(cmd, &st);
    if (st != 0) fail_msg("reading the initializers of %s: %s", model, out ? out : "");
    return out;
}
