/* The CUDA convolution kernels of conv_impl.h through cuDNN.
 *
 * conv_impl.h's three products map one to one onto cuDNN's convolution calls on NCHW tensors:
 *   forward          cols  = conv(image, W)            cudnnConvolutionForward (+ cudnnAddTensor bias[o])
 *   backward_input   image = col2im(Wᵀ cols)           cudnnConvolutionBackwardData (+ bias[c]: the
 *                                                      transposed convolution's bias)
 *   backward_weight  dW    = Σ_n cols ⊗ im2col(image)  cudnnConvolutionBackwardFilter
 * with the image as cuDNN's x [n, c, h, w], the columns as its y [n, o, oh, ow] and the weight
 * as its filter [o, c / groups, kh, kw]; a 1-d convolution arrives as 2-d with h = 1.
 *
 * Algorithms: cudnnFind*Algorithm times the candidates once per (device, kind, dtype, math,
 * geometry) key; the fastest that succeeds within WORKSPACE_CAP is cached (as PyTorch with
 * cudnn.benchmark = True), so later calls with that shape pay only the lookup.
 *
 * Math: f32 runs with CUDNN_DEFAULT_MATH (TF32 tensor cores allowed on Ampere and later) when
 * ct_get_cudnn_allow_tf32() is true, else CUDNN_FMA_MATH (plain f32); f16/bf16 accumulate in f32
 * on tensor cores; f64 in f64. */
#include "../conv_impl.h"
#include "cuda_impl.h"

#include <cudnn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEVICES 64
#define WORKSPACE_CAP ((size_t)1 << 30) /* algorithms needing more are skipped */

typedef struct dnn_slot {
    pthread_mutex_t lock; /* serialises set-stream + calls on the shared handle, and the cache */
    cudnnHandle_t handle;
    bool ready;
} dnn_slot;

static dnn_slot slots[MAX_DEVICES];
static pthread_once_t slots_once = PTHREAD_ONCE_INIT;

static void slots_init(void) {
    for (int i = 0; i < MAX_DEVICES; i++) pthread_mutex_init(&slots[i].lock, NULL);
}

static bool dnn_ok(const char *what, int device, cudnnStatus_t st) {
    if (st == CUDNN_STATUS_SUCCESS) return true;
    ct_error(st == CUDNN_STATUS_ALLOC_FAILED ? CT_ERR_OOM : CT_ERR_DEVICE, "convolution: cuDNN %s failed on cuda:%d: %s",
             what, device, cudnnGetErrorString(st));
    return false;
}

/* The device's cuDNN handle, locked and bound to the device's stream; NULL with a ct error. */
static cudnnHandle_t dnn_acquire(int device) {
    if (device < 0 || device >= MAX_DEVICES)
        return ct_error(CT_ERR_DEVICE, "convolution: cuda:%d is beyond the %d devices cuDNN handles are kept for",
                        device, MAX_DEVICES);
    pthread_once(&slots_once, slots_init);
    dnn_slot *s = &slots[device];
    pthread_mutex_lock(&s->lock);
    cudaStream_t stream = ct__cuda_stream(device);
    if (!s->ready) {
        if (!dnn_ok("handle creation", device, cudnnCreate(&s->handle))) goto fail;
        s->ready = true;
    }
    if (!dnn_ok("set stream", device, cudnnSetStream(s->handle, stream))) goto fail;
    return s->handle;
fail:
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

static void dnn_release(int device) { pthread_mutex_unlock(&slots[device].lock); }

/* ---- the algorithm cache -------------------------------------------------------------------------- */

typedef enum conv_kind { KIND_FORWARD, KIND_BACKWARD_DATA, KIND_BACKWARD_FILTER } conv_kind;

typedef struct algo_key {
    ct_conv_geom g; /* zero-initialised before filling, so memcmp compares the fields only */
    int kind;
    int math;
} algo_key;

typedef struct algo_entry {
    algo_key key;
    int algo;
    cudnnMathType_t math;
    size_t workspace;
} algo_entry;

/* One list for all devices (keys include the device); entries are copied out, so growing the
 * array never invalidates what a caller holds. A network has a handful of shapes: linear search. */
static algo_entry *cache;
static size_t cache_len, cache_cap;
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

static bool cache_find(const algo_key *k, algo_entry *out) {
    bool hit = false;
    pthread_mutex_lock(&cache_lock);
    for (size_t i = 0; i < cache_len && !hit; i++)
        if (!memcmp(&cache[i].key, k, sizeof *k)) *out = cache[i], hit = true;
    pthread_mutex_unlock(&cache_lock);
    return hit;
}

/* Remembers e; a failed allocation only means the search runs again next time. */
static void cache_add(const algo_entry *e) {
    pthread_mutex_lock(&cache_lock);
    if (cache_len == cache_cap) {
        size_t cap = cache_cap ? cache_cap * 2 : 64;
        algo_entry *grown = realloc(cache, cap * sizeof *grown);
        if (grown) cache = grown, cache_cap = cap;
    }
    if (cache_len < cache_cap) cache[cache_len++] = *e;
    pthread_mutex_unlock(&cache_lock);
}

/* ---- descriptors ----------------------------------------------------------------------------------- */

typedef struct conv_descs {
    cudnnTensorDescriptor_t image, cols, bias;
    cudnnFilterDescriptor_t weight;
    cudnnConvolutionDescriptor_t conv;
    cudnnDataType_t data;
    cudnnMathType_t math; /* the math type the key asks for */
} conv_descs;

static void descs_destroy(conv_descs *d) {
    if (d->image) cudnnDestroyTensorDescriptor(d->image);
    if (d->cols) cudnnDestroyTensorDescriptor(d->cols);
    if (d->bias) cudnnDestroyTensorDescriptor(d->bias);
    if (d->weight) cudnnDestroyFilterDescriptor(d->weight);
    if (d->conv) cudnnDestroyConvolutionDescriptor(d->conv);
}

static bool fits_int(const ct_conv_geom *g) {
    const int64_t v[] = {g->n, g->c, g->h, g->w, g->o, g->oh, g->ow, g->kh, g->kw, g->sh, g->sw, g->ph, g->pw, g->dh, g->dw};
    for (size_t i = 0; i < sizeof v / sizeof *v; i++)
        if (v[i] > INT32_MAX) return false;
    return true;
}

static bool descs_make(const ct_conv_geom *g, int64_t bias_channels, conv_descs *d) {
    memset(d, 0, sizeof *d);
    int dev = g->device;
    if (!fits_int(g)) {
        ct_error(CT_ERR_UNSUPPORTED, "convolution: sizes above %d are not supported by cuDNN", INT32_MAX);
        return false;
    }
    cudnnDataType_t compute;
    switch (g->dtype) {
    case CT_F64: d->data = compute = CUDNN_DATA_DOUBLE, d->math = CUDNN_DEFAULT_MATH; break;
    case CT_F16: d->data = CUDNN_DATA_HALF, compute = CUDNN_DATA_FLOAT, d->math = CUDNN_TENSOR_OP_MATH; break;
    case CT_BF16: d->data = CUDNN_DATA_BFLOAT16, compute = CUDNN_DATA_FLOAT, d->math = CUDNN_TENSOR_OP_MATH; break;
    case CT_F32:
        d->data = compute = CUDNN_DATA_FLOAT;
        d->math = ct__cudnn_allow_tf32() ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH;
        break;
    default:
        ct_error(CT_ERR_DTYPE, "convolution: cuDNN has no kernels for %s", ct_dtype_name(g->dtype));
        return false;
    }
    bool ok = dnn_ok("descriptor", dev, cudnnCreateTensorDescriptor(&d->image)) &&
              dnn_ok("descriptor", dev, cudnnCreateTensorDescriptor(&d->cols)) &&
              dnn_ok("descriptor", dev, cudnnCreateFilterDescriptor(&d->weight)) &&
              dnn_ok("descriptor", dev, cudnnCreateConvolutionDescriptor(&d->conv)) &&
              dnn_ok("descriptor", dev,
                     cudnnSetTensor4dDescriptor(d->image, CUDNN_TENSOR_NCHW, d->data, (int)g->n, (int)g->c, (int)g->h,
                                                (int)g->w)) &&
              dnn_ok("descriptor", dev,
                     cudnnSetTensor4dDescriptor(d->cols, CUDNN_TENSOR_NCHW, d->data, (int)g->n, (int)g->o, (int)g->oh,
                                                (int)g->ow)) &&
              dnn_ok("descriptor", dev,
                     cudnnSetFilter4dDescriptor(d->weight, d->data, CUDNN_TENSOR_NCHW, (int)g->o,
                                                (int)(g->c / g->groups), (int)g->kh, (int)g->kw)) &&
              dnn_ok("descriptor", dev,
                     cudnnSetConvolution2dDescriptor(d->conv, (int)g->ph, (int)g->pw, (int)g->sh, (int)g->sw,
                                                     (int)g->dh, (int)g->dw, CUDNN_CROSS_CORRELATION, compute)) &&
              dnn_ok("descriptor", dev, cudnnSetConvolutionGroupCount(d->conv, (int)g->groups)) &&
              dnn_ok("descriptor", dev, cudnnSetConvolutionMathType(d->conv, d->math));
    if (ok && bias_channels)
        ok = dnn_ok("descriptor", dev, cudnnCreateTensorDescriptor(&d->bias)) &&
             dnn_ok("descriptor", dev,
                    cudnnSetTensor4dDescriptor(d->bias, CUDNN_TENSOR_NCHW, d->data, 1, (int)bias_channels, 1, 1));
    if (!ok) descs_destroy(d);
    return ok;
}

/* Picks the first (fastest) of n timed results that succeeded within the workspace cap. */
#define PICK(perf, n, out)                                                                  \
    do {                                                                                    \
        for (int i_ = 0; i_ < (n); i_++)                                                    \
            if ((perf)[i_].status == CUDNN_STATUS_SUCCESS && (perf)[i_].memory <= WORKSPACE_CAP) { \
                (out)->algo = (int)(perf)[i_].algo;                                         \
                (out)->math = (perf)[i_].mathType;                                          \
                (out)->workspace = (perf)[i_].memory;                                       \
                found = true;                                                               \
                break;                                                                      \
            }                                                                               \
    } while (0)

/* The cached algorithm for this convolution into *out, timing the candidates on a miss. */
static bool choose(cudnnHandle_t h, const ct_conv_geom *g, conv_kind kind, conv_descs *d, algo_entry *out) {
    algo_key key;
    memset(&key, 0, sizeof key);
    key.g = *g, key.kind = kind, key.math = d->math;
    if (cache_find(&key, out)) return true;
    algo_entry e;
    memset(&e, 0, sizeof e);
    e.key = key;
    bool found = false;
    int n = 0;
    cudnnStatus_t st;
    enum { MAX_ALGOS = 16 };
    if (kind == KIND_FORWARD) {
        cudnnConvolutionFwdAlgoPerf_t perf[MAX_ALGOS];
        st = cudnnFindConvolutionForwardAlgorithm(h, d->image, d->weight, d->conv, d->cols, MAX_ALGOS, &n, perf);
        if (st == CUDNN_STATUS_SUCCESS) PICK(perf, n, &e);
    } else if (kind == KIND_BACKWARD_DATA) {
        cudnnConvolutionBwdDataAlgoPerf_t perf[MAX_ALGOS];
        st = cudnnFindConvolutionBackwardDataAlgorithm(h, d->weight, d->cols, d->conv, d->image, MAX_ALGOS, &n, perf);
        if (st == CUDNN_STATUS_SUCCESS) PICK(perf, n, &e);
    } else {
        cudnnConvolutionBwdFilterAlgoPerf_t perf[MAX_ALGOS];
        st = cudnnFindConvolutionBackwardFilterAlgorithm(h, d->image, d->cols, d->conv, d->weight, MAX_ALGOS, &n,
                                                          perf);
        if (st == CUDNN_STATUS_SUCCESS) PICK(perf, n, &e);
    }
    if (!dnn_ok("algorithm search", g->device, st)) return false;
    if (!found) {
        ct_error(CT_ERR_UNSUPPORTED,
                        "convolution: cuDNN found no algorithm for %s input [%lld, %lld, %lld, %lld] with weight "
                        "[%lld, %lld, %lld, %lld] and groups %lld",
                        ct_dtype_name(g->dtype), (long long)g->n, (long long)g->c, (long long)g->h, (long long)g->w,
                        (long long)g->o, (long long)(g->c / g->groups), (long long)g->kh, (long long)g->kw,
                        (long long)g->groups);
        return false;
    }
    /* plain f32 stays plain: the search ran under CUDNN_FMA_MATH and its choice must run so too */
    if (d->math == CUDNN_FMA_MATH) e.math = CUDNN_FMA_MATH;
    cache_add(&e);
    *out = e;
    return true;
}

/* ---- the three products --------------------------------------------------------------------------- */

static bool run(const ct_conv_geom *g, conv_kind kind, const void *src, const void *weight, const void *bias,
                int64_t bias_channels, void *dst) {
    int dev = g->device;
    conv_descs d;
    if (!descs_make(g, bias ? bias_channels : 0, &d)) return false;
    cudnnHandle_t h = dnn_acquire(dev);
    if (!h) {
        descs_destroy(&d);
        return false;
    }
    bool ok = false;
    void *ws = NULL;
    algo_entry chosen;
    const algo_entry *a = &chosen;
    if (!choose(h, g, kind, &d, &chosen) || !dnn_ok("math type", dev, cudnnSetConvolutionMathType(d.conv, a->math))) goto done;
    if (a->workspace && !(ws = ct__cuda_alloc(a->workspace, dev))) goto done;
    double one_d = 1, zero_d = 0;
    float one_f = 1, zero_f = 0;
    const void *one = g->dtype == CT_F64 ? (const void *)&one_d : (const void *)&one_f;
    const void *zero = g->dtype == CT_F64 ? (const void *)&zero_d : (const void *)&zero_f;
    cudnnStatus_t st;
    if (kind == KIND_FORWARD)
        st = cudnnConvolutionForward(h, one, d.image, src, d.weight, weight, d.conv, (cudnnConvolutionFwdAlgo_t)a->algo,
                                     ws, a->workspace, zero, d.cols, dst);
    else if (kind == KIND_BACKWARD_DATA)
        st = cudnnConvolutionBackwardData(h, one, d.weight, weight, d.cols, src, d.conv,
                                          (cudnnConvolutionBwdDataAlgo_t)a->algo, ws, a->workspace, zero, d.image, dst);
    else /* src = image, weight = the columns (dy), dst = dW */
        st = cudnnConvolutionBackwardFilter(h, one, d.image, src, d.cols, weight, d.conv,
                                            (cudnnConvolutionBwdFilterAlgo_t)a->algo, ws, a->workspace, zero, d.weight,
                                            dst);
    ok = dnn_ok(kind == KIND_FORWARD ? "forward" : kind == KIND_BACKWARD_DATA ? "backward data" : "backward filter", dev,
                st);
    if (ok && bias)
        ok = dnn_ok("bias add", dev,
                    cudnnAddTensor(h, one, d.bias, bias, one, kind == KIND_FORWARD ? d.cols : d.image, dst));
done:
    if (ws) ct__cuda_free(ws, dev);
    dnn_release(dev);
    descs_destroy(&d);
    return ok;
}

static bool cuda_forward(const ct_conv_geom *g, const void *image, const void *weight, const void *bias, void *cols) {
    return run(g, KIND_FORWARD, image, weight, bias, g->o, cols);
}

static bool cuda_backward_input(const ct_conv_geom *g, const void *cols, const void *weight, const void *bias,
                                void *image) {
    return run(g, KIND_BACKWARD_DATA, cols, weight, bias, g->c, image);
}

static bool cuda_backward_weight(const ct_conv_geom *g, const void *image, const void *cols, void *dweight) {
    return run(g, KIND_BACKWARD_FILTER, image, cols, NULL, 0, dweight);
}

const ct_conv_kernels ct__conv_cuda_kernels = {cuda_forward, cuda_backward_input, cuda_backward_weight};
