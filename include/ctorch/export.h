/* ONNX export (torch.onnx.export): one forward pass of a module is traced and written as an ONNX
 * model (docs/onnx.md). Built when meson finds protoc-c, libprotobuf-c and the system onnx.proto
 * (the feature option `onnx`); without them the functions exist and fail with CT_ERR_UNSUPPORTED. */
#ifndef CTORCH_EXPORT_H
#define CTORCH_EXPORT_H

#include "ctorch/nn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One dynamic axis of an input beyond the batch: input index, axis, symbolic name ("seq"). */
typedef struct ct_onnx_dynamic_axis {
    int input;
    int axis;
    const char *name;
} ct_onnx_dynamic_axis;

typedef struct ct_onnx_opts {
    /* Graph input/output names (arrays of n strings); NULL: "input" (several: "input_0", ...)
     * and "output" ("output_0", ...). */
    const char *const *input_names;
    int n_input_names;
    const char *const *output_names;
    int n_output_names;
    bool dynamic_batch; /* dim 0 of every input and output is the symbolic "batch" */
    const ct_onnx_dynamic_axis *dynamic_axes;
    int n_dynamic_axes;
    int opset_version;        /* default 17; 13..17 accepted */
    bool do_constant_folding; /* default true: ops over parameters/constants only become initializers */
} ct_onnx_opts;

/* Exports m's eval-mode forward on the example inputs (the module's mode is restored after) to
 * path, written through a temporary file renamed into place. Returns false with an error:
 * CT_ERR_UNSUPPORTED for an op with no ONNX mapping (the message names it and its module; no
 * file is written) or a build without ONNX, CT_ERR_IO when the file cannot be written,
 * CT_ERR_ARG for bad options. */
bool ct_onnx_export_opt(ct_module *m, ct_tensor_list inputs, const char *path, ct_onnx_opts opts);
#define CT__ONNX_OPTS(...) CT_OPTS(ct_onnx_opts, .opset_version = 17, .do_constant_folding = true, __VA_ARGS__)
#define ct_onnx_export(m, x, path, ...) ct_onnx_export_opt((m), CT_TENSORS(x), (path), CT__ONNX_OPTS(__VA_ARGS__))
#define ct_onnx_export_list(m, inputs, path, ...) ct_onnx_export_opt((m), (inputs), (path), CT__ONNX_OPTS(__VA_ARGS__))

#ifdef __cplusplus
}
#endif
#endif /* CTORCH_EXPORT_H */
