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
