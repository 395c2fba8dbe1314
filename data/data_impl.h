/* Private to data/: the pieces the dataset readers and transforms share. */
#ifndef CTORCH_DATA_IMPL_H
#define CTORCH_DATA_IMPL_H

#include "../tensor/philox.h"
#include "ctorch/data.h"

#include <stddef.h>
#include <stdint.h>

/* ---- seeds and random draws ------------------------------------------------------------------ */
/* Everything random in data/ is a pure function of a 64-bit seed, through Philox with tag
 * CT__DATA_TAG (a counter space the tensor RNG never uses: its tag word is always 0). A sample's
 * seed comes from the loader (base seed, epoch, index), so a worker thread needs no generator of
 * its own and results cannot depend on which worker draws. */
#define CT__DATA_TAG 0xDA7Au

/* An independent seed for part k of a seed's consumer (the k-th transform of a compose, the inner
 * dataset of a transformed view): two Philox words of block k. */
static inline uint64_t ct__seed_child(uint64_t seed, uint64_t k) {
    ct_philox4 r = ct_philox_block(seed, k, 1, CT__DATA_TAG);
    return (uint64_t)r.v[0] << 32 | r.v[1];
}

/* The k-th U[0, 1) double of a seed (53 bits). */
static inline double ct__seed_uniform(uint64_t seed, uint64_t k) {
    ct_philox4 r = ct_philox_block(seed, k, 0, CT__DATA_TAG);
    return ct_philox_u01d(r.v[0], r.v[1]);
}

/* The k-th integer of a seed in [0, n) (n >= 1; floor of a 53-bit uniform: bias below 2^-40 for
 * any n a dataset or an image can have). */
static inline int64_t ct__seed_below(uint64_t seed, uint64_t k, int64_t n) {
    int64_t v = (int64_t)(ct__seed_uniform(seed, k) * (double)n);
    return v < n ? v : n - 1;
}

/* ---- read-only memory-mapped files ---------------------------------------------------------- */
/* CIFAR batches and token files are mapped, not read: pages come in on first touch and are shared
 * by every worker thread, so get is a memcpy with no lock. */
typedef struct ct__mapped_file {
    const unsigned char *data; /* NULL for an empty file */
    size_t size;
    char *path; /* malloc'd copy, for messages */
} ct__mapped_file;

/* Maps path; on failure CT_ERR_IO "<who>: cannot open <path>: <strerror>" and *m is zeroed. */
bool ct__map_file(ct__mapped_file *m, const char *path, const char *who);
void ct__unmap_file(ct__mapped_file *m);

/* ---- MNIST --------------------------------------------------------------------------------- */
/* The raw bytes of a split: *pixels holds n * 28 * 28 bytes, *labels n bytes (each 0..9), both
 * malloc'd. Validation and messages as ct_mnist_load. */
#define CT__MNIST_SIDE 28
bool ct__mnist_read(const char *dir, ct_dataset_split split, uint8_t **pixels, uint8_t **labels, int64_t *n);

/* ---- samples -------------------------------------------------------------------------------- */
/* bytes[0..n) / 255 as float32 of `shape`, as torchvision's ToTensor scales uint8 images. */
ct_tensor *ct__unit_image(const uint8_t *bytes, ct_shape shape);

/* ---- transforms ----------------------------------------------------------------------------- */
/* A transform with parameters: fn gets params as its user pointer; free_params (may be NULL)
 * releases them with the transform's last reference. The transform is scope-owned. */
ct_transform *ct__transform_make(const char *name, ct_transform_fn fn, void *params, void (*free_params)(void *));

#endif /* CTORCH_DATA_IMPL_H */
