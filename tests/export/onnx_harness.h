/* The export suite's harness: models are exported and their ctorch outputs recorded by each test
 * (ox_case), then one test at the end (ox_check_all) runs python3-onnx's checker over every file
 * and onnxruntime (scripts/onnx_run.js) over every input set in one process each, since node's
 * and python's start-up cost more than the small models, and compares the outputs.
 *
 * Error measure: max_i |ort_i - ct_i| / max_i |ct_i| per output (relative to the output's largest
 * magnitude, so values near zero do not turn rounding into huge ratios). */
#ifndef CTORCH_ONNX_HARNESS_H
#define CTORCH_ONNX_HARNESS_H

#include "../common/testutil.h"

#include <ctorch/export.h>

/* A module whose forward is fn over its input list (one output); params go to ox_fn_state. */
typedef ct_tensor *(*ox_fn)(ct_module *m, ct_tensor_list in);
ct_module *ox_fn_module(ox_fn fn);

/* Exports m on inputs sets[0] with opts to <tmp>/<name>.onnx (asserting success), records m's
 * eval-mode outputs for every set and queues an onnxruntime run for each. */
void ox_case(const char *name, ct_module *m, int n_sets, const ct_tensor_list *sets, ct_onnx_opts opts);
#define OX_CASE(name, m, opts, ...)                                                              \
    ox_case((name), (m), (int)(sizeof((ct_tensor_list[]){__VA_ARGS__}) / sizeof(ct_tensor_list)), \
            (const ct_tensor_list[]){__VA_ARGS__}, (opts))
/* The temporary directory's path for a file name (static buffer, valid until the next call). */
const char *ox_path(const char *file);
/* Whether a file exists. */
bool ox_exists(const char *path);

/* The last test of a program: checker + onnxruntime over everything queued; fails naming every
 * case over tol. */
void ox_check_all(void **state);
/* The largest error measured by ox_check_all. */
double ox_max_error(void);

/* Skips (77) with the reason when ONNX export is not built, node/onnxruntime-node or python3-onnx
 * is missing; otherwise runs the group in a fresh temporary directory (removed after). */
int ox_run(const char *name, const struct CMUnitTest *tests, size_t n);
#define OX_RUN(name, tests) ox_run((name), (tests), sizeof(tests) / sizeof((tests)[0]))

/* Runs a shell command, returning its stdout (malloc'd) and exit status in *status. */
char *ox_capture(const char *cmd, int *status);
/* The initializer names of a model, sorted, space-separated (malloc'd; through python3-onnx). */
char *ox_initializer_names(const char *model);
/* The python that imports onnx and the node command running onnx_run.js (set by ox_run). */
extern char ox_python[64];
extern char ox_node_script[1024];

#endif
