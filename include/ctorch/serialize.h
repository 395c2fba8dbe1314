/* ctorch serialization: HDF5 files of named tensors, the storage format of state dicts (DESIGN §6).
 *
 * A file holds one dataset per tensor at its root, named by the tensor's dotted name
 * ("0.weight", "blocks.3.attn.qkv.weight": no groups), so h5py (`f["0.weight"][...]`) and
 * `h5dump` read it directly. Datasets keep their creation order, which loading reproduces.
 *
 * Stored types (little-endian; what h5py writes for the same numpy dtype where one exists):
 *   float32, float64      H5T_IEEE_F32LE, H5T_IEEE_F64LE
 *   float16               16-bit IEEE float (1.5.10 bits, bias 15): h5py's float16 type
 *   bfloat16              H5T_STD_U16LE holding the raw bits, attribute ctorch_dtype = "bfloat16"
 *                         (numpy has no bfloat16; view the uint16 array with ml_dtypes.bfloat16)
 *   int64, int32, uint8   H5T_STD_I64LE, H5T_STD_I32LE, H5T_STD_U8LE
 *   bool                  enum of int8 {FALSE = 0, TRUE = 1}: h5py's bool type
 * 0-d tensors are scalar dataspaces, 0-size tensors empty simple dataspaces. Loading accepts the
 * same types in either byte order, a 16-bit float with bfloat16's layout, and uint16 with a
 * ctorch_dtype attribute of "float16"; anything else is an error naming the dataset.
 *
 * Writes go to "<path>.tmp-<pid>", which is flushed to disk and then renamed over path: a crash
 * never leaves a half-written file at path, and a failed save removes the temporary file. Errors
 * (CT_ERR_IO, CT_ERR_DTYPE, CT_ERR_SHAPE, CT_ERR_ARG) name the file and the dataset; HDF5's own
 * error printing is silenced and its innermost message appended to ctorch's. Calls are
 * serialized by a process-wide lock (the HDF5 library is not thread-safe). */
#ifndef CTORCH_SERIALIZE_H
#define CTORCH_SERIALIZE_H

#include "ctorch/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A tensor with its dotted name. */
typedef struct ct_named_tensor {
    const char *name;
    ct_tensor *tensor;
} ct_named_tensor;

/* A list of named tensors. Lists returned by ctorch own their item array and name strings through
 * the innermost scope (like ct_tensor_list); the tensors are scope-owned as usual.
 * CT_NAMED_TENSORS({"w", w}, {"b", b}) builds one on the stack for arguments. */
typedef struct ct_named_tensors {
    int n;
    ct_named_tensor *items;
} ct_named_tensors;
#define CT_NAMED_TENSORS(...)                                                                    \
    ((ct_named_tensors){.n = (int)(sizeof((ct_named_tensor[]){__VA_ARGS__}) / sizeof(ct_named_tensor)), \
                        .items = (ct_named_tensor[]){__VA_ARGS__}})

/* Writes the tensors (any device, dtype and strides) to path, replacing it atomically. Names must
 * be non-empty, unique, without '/' and not ".". Returns false with an error (and path untouched)
 * on failure. */
bool ct_save_tensors(const char *path, ct_named_tensors tensors);

/* Every dataset of the file, in file order, as contiguous CPU tensors of the stored dtype. On
 * failure returns {0, NULL} with an error; an empty file gives n == 0 with items non-NULL. */
ct_named_tensors ct_load_tensors(const char *path);

/* Copies the file's datasets into the existing tensors of dest with the same names, converting
 * the dtype as copy_ does and without recording autograd (PyTorch's load_state_dict). Shapes must
 * match: "size mismatch for 0.weight: copying a param with shape [2, 3] from checkpoint, the shape
 * in current model is [3, 3]." With strict, names of dest absent from the file ("Missing key(s) in
 * state_dict: ...") and datasets with no tensor in dest ("Unexpected key(s) in state_dict: ...")
 * are errors too, listed together. Everything is read and checked before the first write: on any
 * error it returns false and no tensor of dest has changed. */
bool ct_load_tensors_into(const char *path, ct_named_tensors dest, bool strict);

#ifdef __cplusplus
}
#endif
#endif /* CTORCH_SERIALIZE_H */
