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

/* A list of names, for fields and HDF5 datasets: CT_NAMES("image", "label"). */
typedef struct ct_names {
    int n;
    const char *const *items;
} ct_names;
#define CT_NAMES(...) ((ct_names){.n = CT__NARGS(__VA_ARGS__), .items = (const char *const[]){__VA_ARGS__}})

/* ---- composition (torch.utils.data: TensorDataset, Subset, ConcatDataset, random_split) ---- */
/* Composed datasets hold references to their parts (the caller keeps its own) and pass the
 * sample seed through unchanged. Free every dataset handle with ct_dataset_free. */

/* TensorDataset: sample i holds row i of each tensor (a view sharing its storage, as tensors[i]
 * in PyTorch). ct_tensor_dataset(x, y, ...) names its fields "x", "y", "field2", "field3", ...;
 * ct_tensor_dataset_named(CT_TENSORS(a, b), CT_NAMES("image", "label")) names them. Every tensor
 * needs at least one dimension and all the same size of dim 0 (CT_ERR_SHAPE naming the sizes). */
ct_dataset *ct_tensor_dataset_named(ct_tensor_list tensors, ct_names names);
#define ct_tensor_dataset(...) ct_tensor_dataset_named(CT_TENSORS(__VA_ARGS__), (ct_names){0, NULL})
/* Subset: sample j is ds[indices[j]]. Indices may be negative (from the end) and repeat; one out
 * of range is CT_ERR_INDEX naming it. The indices are copied. */
ct_dataset *ct_subset(ct_dataset *ds, const int64_t *indices, int64_t n);
/* ConcatDataset: the parts one after another: ct_concat_dataset(train, extra). */
ct_dataset *ct_concat_dataset_list(ct_dataset *const *parts, int n);
#define ct_concat_dataset(...) \
    ct_concat_dataset_list((ct_dataset *const[]){__VA_ARGS__}, CT__NARGS(__VA_ARGS__))
/* random_split: n disjoint random Subsets of ds, written to out[0..n). lengths are either counts
 * summing to len(ds), or fractions summing to 1 (PyTorch's rule: floor(len * f) each, then the
 * remainder handed out one by one from the first split on). The permutation is a function of
 * seed only (ctorch's Philox, not torch's generator: same sizes as PyTorch, other members). */
bool ct_random_split(ct_dataset *ds, const double *lengths, int n, uint64_t seed, ct_dataset **out);

/* ---- file datasets --------------------------------------------------------------------------- */
/* Errors are CT_ERR_IO naming the file: missing, truncated, wrong magic or header. Every get is
 * thread-safe. Fields "x" and "y" unless said otherwise. */

/* MNIST / Fashion-MNIST from the files ct_mnist_load reads (.gz or plain IDX): x float32
 * [1, 28, 28] in [0, 1] (the same values as ct_mnist_load's), y int64 0-d. The file's bytes stay
 * in memory (a quarter of the float tensor's size); images are converted per get. */
ct_dataset *ct_mnist_open(const char *dir, ct_dataset_split split);
/* CIFAR-10 binary batches in dir (or dir/cifar-10-batches-bin): data_batch_1.bin ..
 * data_batch_5.bin (train) or test_batch.bin (test), records of 1 label byte + 3072 pixel bytes
 * (1024 red, 1024 green, 1024 blue, rows of 32). Memory-mapped. x float32 [3, 32, 32] in [0, 1],
 * y int64 0-d. A file that is not whole records is truncated; a label above 9 fails its get. */
ct_dataset *ct_cifar10_open(const char *dir, ct_dataset_split split);
/* Rows of HDF5 datasets, read lazily: ct_hdf5_dataset_open("train.h5", "images", "labels").
 * Sample i has one field per name (named as the dataset), row i of that dataset: shape
 * dims[1:], dtype from the file's type (uint8 -> uint8; other integers up to 32 bits -> int32;
 * 64-bit integers and uint32 -> int64; float16/32/64 -> float16/32/64). All datasets need the same
 * number of rows. Each keeps a cache of one block of rows (its chunk's rows when chunked, about
 * 1 MiB otherwise), so sequential access reads each chunk once. HDF5 calls are serialized with
 * the state-file code's lock (Debian's HDF5 is not thread-safe). */
ct_dataset *ct_hdf5_dataset_open_names(const char *path, ct_names fields);
#define ct_hdf5_dataset_open(path, ...) ct_hdf5_dataset_open_names((path), CT_NAMES(__VA_ARGS__))

/* Token files for language models, memory-mapped. Sample i is the window of T + 1 tokens starting
 * at i * T: x = tokens[i*T : i*T + T], y = tokens[i*T + 1 : i*T + T + 1], both int64 [T]. Windows
 * do not overlap (consecutive windows share their boundary token, as llm.c's loader steps by T and
 * reads T + 1), so len = (ntokens - 1) / T; random positions come from a shuffling sampler.
 * CT_TOKENS_LLMC reads llm.c's .bin files: a header of 256 int32 (magic 20240520 with version 1
 * and uint16 tokens, as GPT-2's; or magic 20240801 with version 7 and uint32 tokens, as LLaMA 3's;
 * then the token count) and exactly that many tokens after it. CT_TOKENS_U16 / CT_TOKENS_U32 read a
 * headerless file of little-endian tokens of that width. T + 1 more than the tokens is an error. */
typedef enum ct_token_format { CT_TOKENS_LLMC = 0, CT_TOKENS_U16, CT_TOKENS_U32 } ct_token_format;
typedef struct ct_token_opts {
    ct_token_format format;
} ct_token_opts;
ct_dataset *ct_token_dataset_open_opt(const char *path, int64_t T, ct_token_opts opts);
#define ct_token_dataset_open(path, T, ...) \
    ct_token_dataset_open_opt((path), (T), CT_OPTS(ct_token_opts, .format = CT_TOKENS_LLMC, __VA_ARGS__))
/* Plain text as tokens, windows as above: each byte is a token 0..255; with .vocab the tokens are
 * character ids instead, 0..vocab->size-1 in byte order of the characters the file uses (as
 * nanoGPT's shakespeare_char: chars = sorted(set(text))), and *vocab receives the table
 * (vocab->chars[id] is the byte of id). */
typedef struct ct_text_vocab {
    int size;
    unsigned char chars[256];
} ct_text_vocab;
typedef struct ct_text_opts {
    ct_text_vocab *vocab; /* NULL: byte tokens */
} ct_text_opts;
ct_dataset *ct_text_dataset_open_opt(const char *path, int64_t T, ct_text_opts opts);
#define ct_text_dataset_open(path, T, ...) \
    ct_text_dataset_open_opt((path), (T), CT_OPTS(ct_text_opts, .vocab = NULL, __VA_ARGS__))

/* ---- transforms (torchvision.transforms on tensors) ------------------------------------------ */
/* A transform maps one tensor to another. Transforms are scope objects like tensors (keep them
 * with ct_keep/ct_retain); compose and ct_transformed hold their own references, so
 *     ct_dataset *train = ct_transformed(cifar, "x", ct_compose(ct_random_crop(CT_SHAPE(32), .padding
 *         = CT_SHAPE(4)), ct_random_horizontal_flip(), ct_normalize(mean, std, 3)));
 * needs no cleanup beyond ct_dataset_free(train). Random transforms draw from Philox keyed by the
 * seed they are given (the sample's seed: ct_dataset_get_seeded, derived by the DataLoader from
 * its seed, the epoch and the index), never from a generator, so a sample's augmentation is the
 * same whichever worker thread loads it and however many workers there are. */
typedef struct ct_transform ct_transform;
/* A custom transform: returns the new tensor (scope-owned) or NULL with an error. */
typedef ct_tensor *(*ct_transform_fn)(const ct_tensor *x, uint64_t seed, void *user);
ct_transform *ct_transform_new(const char *name, ct_transform_fn fn, void *user);
ct_tensor *ct_transform_apply(const ct_transform *t, const ct_tensor *x, uint64_t seed);
const char *ct_transform_name(const ct_transform *t);
/* Compose: applies the transforms in order; the k-th draws from a seed derived from (seed, k). */
ct_transform *ct_compose_list(ct_transform *const *items, int n);
#define ct_compose(...) ct_compose_list((ct_transform *const[]){__VA_ARGS__}, CT__NARGS(__VA_ARGS__))
/* A view of ds whose field `field` (copied name) goes through t. The inner dataset gets a seed
 * derived from the sample's, the transform another. A sample without that field is CT_ERR_ARG. */
ct_dataset *ct_transformed(ct_dataset *ds, const char *field, ct_transform *t);

/* Normalize: (x - mean[c]) / std[c] over the channel dim (dim -3 of a [..., C, H, W] float
 * tensor); channels is 1 (broadcast over C) or C. std must not be 0. */
ct_transform *ct_normalize(const double *mean, const double *std, int channels);
/* RandomCrop: pads the last two dims ([..., H, W]) by padding (1 value: all sides; 2: left/right,
 * top/bottom; 4: left, top, right, bottom), with fill when mode is constant, then crops size (1
 * value: square; 2: H, W) at a uniform random offset. pad_if_needed pads H and W up to size first.
 * A crop larger than the padded image is CT_ERR_SHAPE (torchvision's message). */
typedef struct ct_random_crop_opts {
    ct_shape padding;
    double fill;
    ct_pad_mode padding_mode;
    bool pad_if_needed;
} ct_random_crop_opts;
ct_transform *ct_random_crop_opt(ct_shape size, ct_random_crop_opts opts);
#define ct_random_crop(size, ...)                                                              \
    ct_random_crop_opt((size), CT_OPTS(ct_random_crop_opts, .padding = CT_SHAPE(), .fill = 0,    \
                                       .padding_mode = CT_PAD_CONSTANT, .pad_if_needed = false, __VA_ARGS__))
/* RandomHorizontalFlip: reverses the last dim with probability p (default 0.5). */
typedef struct ct_flip_opts {
    double p;
} ct_flip_opts;
ct_transform *ct_random_horizontal_flip_opt(ct_flip_opts opts);
#define ct_random_horizontal_flip(...) ct_random_horizontal_flip_opt(CT_OPTS(ct_flip_opts, .p = 0.5, __VA_ARGS__))
/* Convert and scale: x.to(dtype) * mul / div (either skipped when 1), e.g. uint8 images to
 * float32 in [0, 1] as ToTensor: ct_convert(CT_F32, .div = 255). */
typedef struct ct_convert_opts {
    double mul, div;
} ct_convert_opts;
ct_transform *ct_convert_opt(ct_dtype dtype, ct_convert_opts opts);
#define ct_convert(dtype, ...) ct_convert_opt((dtype), CT_OPTS(ct_convert_opts, .mul = 1, .div = 1, __VA_ARGS__))

/* data:loader (samplers, collate, DataLoader) */

/* ---- samplers (torch.utils.data.Sampler) ----------------------------------------------------- */

/* A sampler yields the dataset indices of one epoch at a time. It is a reference-counted handle
 * over a vtable, like ct_dataset: ct_sampler_free drops a reference, a DataLoader holds its own.
 * Samplers that shuffle take a seed: 0 draws a fresh seed per epoch from the default generator
 * (PyTorch's generator=None), any other value seeds the sampler's own generator once, which then
 * advances from epoch to epoch (PyTorch's generator=torch.Generator().manual_seed(seed)). The
 * shuffle orders come from ctorch's Philox generator, so they differ from PyTorch's mt19937. */
typedef struct ct_sampler ct_sampler;
typedef struct ct_sampler_vtable {
    const char *name;
    int64_t (*len)(void *state);               /* indices per epoch */
    bool (*indices)(void *state, int64_t *out); /* writes the next epoch's len(state) indices */
    void (*set_epoch)(void *state, int64_t epoch); /* optional (DistributedSampler) */
    void (*destroy)(void *state);              /* optional */
} ct_sampler_vtable;

/* Takes ownership of state (destroy runs with the last reference). */
ct_sampler *ct_sampler_new(const ct_sampler_vtable *vtable, void *state);
ct_sampler *ct_sampler_retain(ct_sampler *s);
void ct_sampler_free(ct_sampler *s);
const char *ct_sampler_name(const ct_sampler *s);
/* len(sampler) as in PyTorch: indices per epoch, batches per epoch for a batch sampler. */
int64_t ct_sampler_len(const ct_sampler *s);
/* The next epoch's indices as int64 [n] (a batch sampler: its batches one after another, batch b
 * at [b * batch_size, ...)); NULL with an error. */
ct_tensor *ct_sampler_indices(ct_sampler *s);
/* Batch size of a batch sampler; 0 for a sampler of single indices. */
int64_t ct_sampler_batch_size(const ct_sampler *s);
/* DistributedSampler.set_epoch (reshuffles with seed + epoch); CT_ERR_STATE for samplers
 * without an epoch. */
bool ct_sampler_set_epoch(ct_sampler *s, int64_t epoch);

/* SequentialSampler: 0, 1, ..., n-1. */
ct_sampler *ct_sequential_sampler(int64_t n);

/* RandomSampler(data_source, replacement, num_samples, generator): a permutation per epoch, or
 * num_samples indices drawn uniformly with replacement. num_samples 0 means n; without replacement
 * more than n samples concatenate permutations (as PyTorch). */
typedef struct ct_random_sampler_opts {
    bool replacement;
    int64_t num_samples;
    uint64_t seed;
} ct_random_sampler_opts;
ct_sampler *ct_random_sampler_opt(int64_t n, ct_random_sampler_opts opts);
#define ct_random_sampler(n, ...)                                                                   \
    ct_random_sampler_opt((n), CT_OPTS(ct_random_sampler_opts, .replacement = false, .num_samples = 0, \
                                       .seed = 0, __VA_ARGS__))

/* WeightedRandomSampler(weights, num_samples, replacement=True, generator): indices drawn with
 * probabilities proportional to weights (1-D, non-negative, any floating or integer dtype). */
typedef struct ct_weighted_sampler_opts {
    bool replacement;
    uint64_t seed;
} ct_weighted_sampler_opts;
ct_sampler *ct_weighted_random_sampler_opt(const ct_tensor *weights, int64_t num_samples,
                                           ct_weighted_sampler_opts opts);
#define ct_weighted_random_sampler(weights, num_samples, ...)                                       \
    ct_weighted_random_sampler_opt((weights), (num_samples),                                         \
                                   CT_OPTS(ct_weighted_sampler_opts, .replacement = true, .seed = 0, __VA_ARGS__))

/* SubsetRandomSampler(indices, generator): the given indices (1-D integer tensor, copied) in a
 * random order each epoch. */
typedef struct ct_subset_sampler_opts {
    uint64_t seed;
} ct_subset_sampler_opts;
ct_sampler *ct_subset_random_sampler_opt(const ct_tensor *indices, ct_subset_sampler_opts opts);
#define ct_subset_random_sampler(indices, ...)                                                      \
    ct_subset_random_sampler_opt((indices), CT_OPTS(ct_subset_sampler_opts, .seed = 0, __VA_ARGS__))

/* BatchSampler(sampler, batch_size, drop_last): groups the sampler's indices into batches of
 * batch_size, the last one shorter unless drop_last. Holds its own reference to sampler. */
typedef struct ct_batch_sampler_opts {
    bool drop_last;
} ct_batch_sampler_opts;
ct_sampler *ct_batch_sampler_opt(ct_sampler *sampler, int64_t batch_size, ct_batch_sampler_opts opts);
#define ct_batch_sampler(sampler, batch_size, ...)                                                  \
    ct_batch_sampler_opt((sampler), (batch_size), CT_OPTS(ct_batch_sampler_opts, .drop_last = false, __VA_ARGS__))

/* DistributedSampler(dataset, num_replicas, rank, shuffle=True, seed=0, drop_last=False), with
 * PyTorch's algorithm: a permutation from a generator seeded with seed + epoch (set_epoch), padded
 * by repeating indices from its start up to a multiple of num_replicas (or truncated to one with
 * drop_last), then every num_replicas-th index starting at rank. Here seed 0 is a seed. */
typedef struct ct_distributed_sampler_opts {
    bool shuffle;
    uint64_t seed;
    bool drop_last;
} ct_distributed_sampler_opts;
ct_sampler *ct_distributed_sampler_opt(int64_t n, int64_t num_replicas, int64_t rank,
                                       ct_distributed_sampler_opts opts);
#define ct_distributed_sampler(n, num_replicas, rank, ...)                                          \
    ct_distributed_sampler_opt((n), (num_replicas), (rank),                                          \
                               CT_OPTS(ct_distributed_sampler_opts, .shuffle = true, .seed = 0,      \
                                       .drop_last = false, __VA_ARGS__))

/* ---- collate ---------------------------------------------------------------------------------- */

/* A collate callback (PyTorch's collate_fn): turns n samples into one batch, its tensors in the
 * calling thread's innermost scope. It runs on the DataLoader's worker threads, so it must be
 * thread-safe. Returns false with an error (ct_error) on failure. */
typedef bool (*ct_collate_fn)(const ct_sample *samples, int64_t n, ct_batch *out, void *user);

/* default_collate: each field stacked along a new dim 0 (0-d fields become [n]); the fields are
 * matched by position and must have the same names in every sample. Samples whose shapes differ
 * give CT_ERR_SHAPE naming the field, the sample and both shapes. */
bool ct_default_collate(const ct_sample *samples, int64_t n, ct_batch *out);

/* ---- DataLoader (torch.utils.data.DataLoader) ------------------------------------------------- */

typedef struct ct_dataloader ct_dataloader;
/* Runs once on each worker thread as it starts (every epoch unless persistent_workers); false
 * with an error fails the batches of that worker. */
typedef bool (*ct_worker_init_fn)(int worker_id, void *user);

typedef struct ct_dataloader_opts {
    int64_t batch_size;          /* 1 */
    bool shuffle;                /* false: a random sampler when true */
    ct_sampler *sampler;         /* NULL: sequential or random; the loader takes its own reference */
    ct_sampler *batch_sampler;   /* NULL; excludes batch_size, shuffle, sampler and drop_last */
    bool drop_last;              /* false */
    int num_workers;             /* 0: batches are built on the calling thread */
    int prefetch_factor;         /* 2 batches in flight per worker */
    bool persistent_workers;     /* false: workers stop at the end of each epoch */
    bool pin_memory;             /* false; ignored with a warning without CUDA */
    double timeout_s;            /* 0: wait as long as it takes */
    ct_worker_init_fn worker_init;
    ct_collate_fn collate;       /* NULL: ct_default_collate */
    void *user;                  /* passed to worker_init and collate */
    uint64_t seed;               /* 0: a base seed drawn from the default generator per epoch */
} ct_dataloader_opts;

/* A loader over ds (it takes its own reference). Sample k of an epoch (k counts positions in the
 * sampler's order) is read with ct_dataset_get_seeded and a seed derived from the epoch's base
 * seed, the epoch number and k, so batches are identical for any num_workers. Option errors use
 * PyTorch's messages. */
ct_dataloader *ct_dataloader_new_opt(ct_dataset *ds, ct_dataloader_opts opts);
#define ct_dataloader_new(ds, ...)                                                                  \
    ct_dataloader_new_opt((ds), CT_OPTS(ct_dataloader_opts, .batch_size = 1, .shuffle = false,        \
                                        .sampler = NULL, .batch_sampler = NULL, .drop_last = false,  \
                                        .num_workers = 0, .prefetch_factor = 2,                      \
                                        .persistent_workers = false, .pin_memory = false,            \
                                        .timeout_s = 0, .worker_init = NULL, .collate = NULL,        \
                                        .user = NULL, .seed = 0, __VA_ARGS__))
/* The next batch of the current epoch, in sampler order. false at the end of the epoch (the next
 * call starts the next epoch) or with an error: a worker's error comes back here as
 * "DataLoader worker <id>: <message>" in the batch's turn, a batch slower than timeout_s as
 * CT_ERR_STATE; either ends the epoch. The batch's tensors belong to the loader and stay valid
 * until the next call or ct_dataloader_free: ct_keep or ct_retain them to hold them longer. */
bool ct_dataloader_next(ct_dataloader *dl, ct_batch *out);
/* Batches per epoch (len(loader)). */
int64_t ct_dataloader_len(const ct_dataloader *dl);
/* Forwards to the sampler's set_epoch (DistributedSampler); CT_ERR_STATE if it has none. */
bool ct_dataloader_set_epoch(ct_dataloader *dl, int64_t epoch);
/* Stops the workers (also mid-epoch: it waits for the samples being read to finish) and frees
 * the loader and its references. NULL is ignored. */
void ct_dataloader_free(ct_dataloader *dl);

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
