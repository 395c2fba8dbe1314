/* ctorch data: datasets and the readers behind them (torchvision.datasets, torch.utils.data).
 * Conventions as in ctorch/tensor.h: results belong to the innermost scope; failures return
 * false (or NULL) with an error (CT_ERR_IO for files) naming the file. */
#ifndef CTORCH_DATA_H
#define CTORCH_DATA_H

#include "ctorch/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Which part of a dataset to read (ct_split is the tensor op). */
typedef enum ct_dataset_split { CT_SPLIT_TRAIN = 0, CT_SPLIT_TEST } ct_dataset_split;

/* ---- samples and datasets (torch.utils.data.Dataset) -------------------------------------- */
/* data:dataset */

/* A sample: named tensors ("x", "y", "tokens", ...). A batch is the same struct with a leading
 * batch dimension on every field. x and y mirror fields[0] and fields[1] (NULL past n), so the
 * common (input, target) pair reads b.x, b.y as in PyTorch's `for x, y in loader`. */
#define CT_SAMPLE_MAX_FIELDS 8
typedef struct ct_sample {
    int n;                                  /* fields in use */
    const char *names[CT_SAMPLE_MAX_FIELDS]; /* static strings, owned by the dataset */
    ct_tensor *fields[CT_SAMPLE_MAX_FIELDS];
    ct_tensor *x, *y;
} ct_sample;
typedef ct_sample ct_batch;

/* A dataset is a handle with a vtable; composition datasets hold references to their parts.
 * get may be called from several threads at once (the DataLoader's workers) and must be
 * thread-safe; it puts its tensors in the calling thread's innermost scope. seed is the sample's
 * own random seed (derived by the loader from its base seed, the epoch and the index), which
 * random transforms must use so results never depend on the number of workers. */
typedef struct ct_dataset ct_dataset;
typedef struct ct_dataset_vtable {
    const char *name;
    int64_t (*len)(void *state);
    bool (*get)(void *state, int64_t index, uint64_t seed, ct_sample *out);
    void (*destroy)(void *state);
} ct_dataset_vtable;

/* Takes ownership of state (destroy runs with the last reference). */
ct_dataset *ct_dataset_new(const ct_dataset_vtable *vtable, void *state);
/* References: ct_dataset_retain adds one; ct_dataset_free drops one (NULL is ignored). */
ct_dataset *ct_dataset_retain(ct_dataset *ds);
void ct_dataset_free(ct_dataset *ds);
int64_t ct_dataset_len(const ct_dataset *ds);
const char *ct_dataset_name(const ct_dataset *ds);
/* Sample `index` (negative counts from the end); an out-of-range index is CT_ERR_INDEX naming the
 * index and the length. ct_dataset_get draws the sample seed from the default generator. */
bool ct_dataset_get(ct_dataset *ds, int64_t index, ct_sample *out);
bool ct_dataset_get_seeded(ct_dataset *ds, int64_t index, uint64_t seed, ct_sample *out);
/* Appends a field to a sample (false with an error past CT_SAMPLE_MAX_FIELDS); keeps x/y in step. */
bool ct_sample_add(ct_sample *s, const char *name, ct_tensor *value);
/* The field called name, or NULL. */
ct_tensor *ct_sample_field(const ct_sample *s, const char *name);

/* data:dataset-impl (composition, file datasets, transforms) */

/* data:loader (samplers, collate, DataLoader) */

/* ---- MNIST and Fashion-MNIST ---------------------------------------------------------------- */
/* data:mnist */

/* Reads the IDX files of MNIST or Fashion-MNIST from dir: train-images-idx3-ubyte.gz and
 * train-labels-idx1-ubyte.gz (CT_SPLIT_TRAIN) or t10k-*.gz (CT_SPLIT_TEST), each also accepted
 * without .gz (uncompressed). *images becomes float32 [N, 1, 28, 28] with pixels scaled to [0, 1]
 * (as torchvision's ToTensor), *labels int64 [N] with classes 0..9. On failure both are NULL and
 * the error (CT_ERR_IO) names the file: missing, truncated, not gzip, wrong magic number, wrong
 * image size, image and label counts that differ, or a label out of range. */
bool ct_mnist_load(const char *dir, ct_dataset_split split, ct_tensor **images, ct_tensor **labels);

#ifdef __cplusplus
}
#endif
#endif /* CTORCH_DATA_H */
