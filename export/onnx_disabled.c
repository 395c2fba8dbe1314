/* ct_onnx_export in a build without protoc-c / libprotobuf-c / onnx.proto (meson feature `onnx`). */
#include "ctorch/export.h"

bool ct_onnx_export_opt(ct_module *m, ct_tensor_list inputs, const char *path, ct_onnx_opts opts) {
    (void)m, (void)inputs, (void)path, (void)opts;
    ct_error(CT_ERR_UNSUPPORTED, "ctorch was built without ONNX export (protoc-c not found)");
    return false;
}
