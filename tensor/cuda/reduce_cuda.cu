// CUDA reductions, softmax/log_softmax and scans over the plan of reduce_impl.h.
//
// Reductions: one block per output (threads stride over the inner block, then warp shuffles and
// shared memory), one thread per output when the inner block is short, and column tiles (below)
// when neighbouring outputs are neighbours in memory and the reduced dims are strided.
// f32/f16/bf16 accumulate in float (PyTorch's accumulate type on CUDA: f64 arithmetic is 2 to 64
// times slower than f32 depending on the GPU), f64 inputs or outputs in double; each thread adds
// its share serially and the shares meet in a tree (warp shuffles, then the block's warps), so
// the rounding error grows with the per-thread share and the tree's depth, not the row length.
// The CPU accumulates everything in double. Integer sum/prod/max/min are exact in int64
// (unsigned, so overflow wraps as PyTorch's). max/min keep the
// first extreme: a thread visits its elements in increasing position, and merges prefer the
// lower position on ties and the first NaN, which always wins.
//
// cumsum/cumprod: one thread per row, in double (int64 for integers), like the CPU. softmax and
// log_softmax are in softmax_cuda.cu.
#include "block_reduce.cuh"
#include "dtype_cuda.cuh"
#include "reduce_cuda.h"

#include <type_traits>

enum { SUM = 0, MEAN, PROD, MAX, MIN, VAR, NORM, LSE, ALL, ANY };
enum { SOFTMAX = 0, LOG_SOFTMAX, CUMSUM, CUMPROD };

// One partial result, F the float accumulate type. a: sum / product / extreme / mean (var); b: M2
// (var); i: integer accumulator (and all/any); idx: position of the extreme; n: count.
template <typename F> struct Acc {
    F a, b;
    int64_t i, idx, n;
};

template <typename F> __device__ __forceinline__ Acc<F> ct_shfl_down(Acc<F> v, int o) {
    Acc<F> r = {ct_shfl_down(v.a, o), ct_shfl_down(v.b, o), ct_shfl_down(v.i, o), ct_shfl_down(v.idx, o),
                ct_shfl_down(v.n, o)};
    return r;
}

// Float accumulation for f32/f16/bf16 in and out; double when either side is f64 (or the input is
// an integer: all/any, and the float kinds of integer inputs PyTorch allows).
static bool float_acc(const ct__cuda_red &P) {
    bool in = P.in_dtype == CT_CU_F32 || P.in_dtype == CT_CU_F16 || P.in_dtype == CT_CU_BF16;
    return in && P.out_dtype != CT_CU_F64;
}

// An element as F: 16-bit floats and f32 straight to float.
template <typename F> __device__ __forceinline__ F load_acc(const char *x, int dt) {
    if constexpr (std::is_same<F, float>::value) {
        switch (dt) {
        case CT_CU_F32: return *(const float *)x;
        case CT_CU_F16: return __half2float(*(const __half *)x);
        case CT_CU_BF16: return __bfloat162float(*(const __nv_bfloat16 *)x);
        default: return (float)ct_cu_load_f64(x, dt);
        }
    } else {
        return ct_cu_load_f64(x, dt);
    }
}

__device__ __forceinline__ bool is_int_kind(const ct__cuda_red &P) {
    return P.int_acc && (P.kind == SUM || P.kind == PROD || P.kind == MAX || P.kind == MIN);
}

template <typename F> __device__ __forceinline__ F min_nan(F m, F v) { return (v < m || v != v) ? v : m; }

template <typename F> __device__ Acc<F> acc_init(const ct__cuda_red &P) {
    Acc<F> A = {0, 0, 0, 0, 0};
    if (P.kind == PROD) A.a = 1, A.i = 1;
    if (P.kind == NORM && P.p == -INFINITY) A.a = (F)INFINITY;
    if (P.kind == ALL) A.i = 1;
    return A;
}

// Adds the element at inner position k (byte pointer x) to A.
template <typename F> __device__ void acc_add(Acc<F> &A, const ct__cuda_red &P, const char *x, int64_t k) {
    if (is_int_kind(P)) {
        int64_t v = ct_cu_load_i64(x, P.in_dtype);
        switch (P.kind) {
        case SUM: A.i = (int64_t)((uint64_t)A.i + (uint64_t)v); break;
        case PROD: A.i = (int64_t)((uint64_t)A.i * (uint64_t)v); break;
        default:
            if (A.n == 0 || (P.kind == MAX ? v > A.i : v < A.i)) A.i = v, A.idx = k;
            break;
        }
        A.n++;
        return;
    }
    F v = load_acc<F>(x, P.in_dtype);
    switch (P.kind) {
    case SUM:
    case MEAN: A.a += v; break;
    case PROD: A.a *= v; break;
    case MAX:
    case MIN:
        if (A.n == 0 || (A.a == A.a && ((P.kind == MAX ? v > A.a : v < A.a) || v != v))) A.a = v, A.idx = k;
        break;
    case VAR: { // Welford
        F delta = v - A.a;
        A.a += delta / (F)(A.n + 1);
        A.b += delta * (v - A.a);
        break;
    }
    case NORM: {
        F p = (F)P.p, f = fabs(v);
        if (p == 0) A.a += v != 0;
        else if (p == 1) A.a += f;
        else if (p == 2) A.a += v * v;
        else if (P.p == INFINITY) A.a = ct_max_nan(A.a, f);
        else if (P.p == -INFINITY) A.a = min_nan(A.a, f);
        else A.a += pow(f, p);
        break;
    }
    case ALL: A.i &= v != 0; break;
    case ANY: A.i |= v != 0; break;
    default: break;
    }
    A.n++;
}

template <typename F> struct AccMerge {
    const ct__cuda_red *P;
    __device__ Acc<F> operator()(Acc<F> A, Acc<F> B) const {
        if (B.n == 0) return A;
        if (A.n == 0) return B;
        switch (P->kind) {
        case SUM:
        case MEAN:
            A.a += B.a;
            A.i = (int64_t)((uint64_t)A.i + (uint64_t)B.i);
            break;
        case PROD:
            A.a *= B.a;
            A.i = (int64_t)((uint64_t)A.i * (uint64_t)B.i);
            break;
        case MAX:
        case MIN: {
            bool is_max = P->kind == MAX, take;
            if (is_int_kind(*P)) {
                take = (is_max ? B.i > A.i : B.i < A.i) || (B.i == A.i && B.idx < A.idx);
            } else {
                bool an = A.a != A.a, bn = B.a != B.a;
                if (an || bn) take = bn && (!an || B.idx < A.idx);
                else take = (is_max ? B.a > A.a : B.a < A.a) || (B.a == A.a && B.idx < A.idx);
            }
            if (take) A.a = B.a, A.i = B.i, A.idx = B.idx;
            break;
        }
        case VAR: { // Chan et al.
            F na = (F)A.n, nb = (F)B.n, n = na + nb, delta = B.a - A.a;
            A.a += delta * nb / n;
            A.b += B.b + delta * delta * na * nb / n;
            break;
        }
        case NORM:
            if (P->p == INFINITY) A.a = ct_max_nan(A.a, B.a);
            else if (P->p == -INFINITY) A.a = min_nan(A.a, B.a);
            else A.a += B.a;
            break;
        case LSE: A.a += B.a; break; // the sum of exp (the shift is common)
        case ALL: A.i &= B.i; break;
        case ANY: A.i |= B.i; break;
        default: break;
        }
        A.n += B.n;
        return A;
    }
};

struct MaxNan {
    template <typename F> __device__ F operator()(F a, F b) const { return ct_max_nan(a, b); }
};

template <typename F> __device__ void acc_finish(const Acc<F> &A, const ct__cuda_red &P, F shift, char *out, char *idx_out) {
    if (idx_out) *(int64_t *)idx_out = A.idx;
    if (!out) return;
    if (is_int_kind(P)) {
        ct_cu_store_i64(out, P.out_dtype, A.i);
        return;
    }
    F v = A.a;
    switch (P.kind) {
    case MEAN: v = A.a / (F)P.ninner; break;
    case VAR: {
        F denom = (F)((double)A.n - P.correction);
        v = A.n == 0 ? (F)NAN : A.b / (denom > 0 ? denom : (F)0);
        if (P.take_sqrt) v = sqrt(v);
        break;
    }
    case NORM:
        if (P.p == 2) v = sqrt(A.a);
        else if (P.p != 0 && P.p != 1 && isfinite(P.p)) v = pow(A.a, (F)(1 / P.p));
        break;
    case LSE: v = log(A.a) + shift; break;
    case ALL:
    case ANY: v = (F)A.i; break;
    default: break;
    }
    ct_cu_store_f64(out, P.out_dtype, (double)v);
}

// Writes output o (and its index) from its accumulator.
template <typename F> __device__ void finish_output(const ct__cuda_red &P, int64_t o, const Acc<F> &A, F shift) {
    char *out = P.out ? P.out + ct_cu_offset(o, P.outer_ndim, P.outer_shape, P.outer_out) : NULL;
    char *idx = P.idx_out ? P.idx_out + ct_cu_offset(o, P.outer_ndim, P.outer_shape, P.outer_idx) : NULL;
    acc_finish(A, P, shift, out, idx);
}

__device__ __forceinline__ const char *inner_ptr(const ct__cuda_red &P, const char *base, int64_t k) {
    if (P.inner_ndim == 1) return base + k * P.inner_in[0];
    return base + ct_cu_offset(k, P.inner_ndim, P.inner_shape, P.inner_in);
}

// Reduces output o with `nthreads` threads (tid among them): BLOCK means the whole block
// cooperates and merges; otherwise the thread is alone.
template <bool BLOCK, typename F> __device__ void reduce_output(const ct__cuda_red &P, int64_t o, int tid, int nthreads) {
    const char *base = P.in + ct_cu_offset(o, P.outer_ndim, P.outer_shape, P.outer_in);
    AccMerge<F> merge = {&P};
    F shift = 0;
    Acc<F> A = acc_init<F>(P);
    if (P.kind == LSE) { // shift by the max when finite (PyTorch shifts by 0 otherwise)
        F m = (F)-INFINITY;
        for (int64_t k = tid; k < P.ninner; k += nthreads) m = ct_max_nan(m, load_acc<F>(inner_ptr(P, base, k), P.in_dtype));
        if (BLOCK) m = ct_block_reduce(m, MaxNan());
        shift = isfinite(m) ? m : (F)0;
        for (int64_t k = tid; k < P.ninner; k += nthreads) {
            A.a += exp(load_acc<F>(inner_ptr(P, base, k), P.in_dtype) - shift);
            A.n++;
        }
    } else {
        for (int64_t k = tid; k < P.ninner; k += nthreads) acc_add(A, P, inner_ptr(P, base, k), k);
    }
    if (BLOCK) {
        A = ct_block_reduce(A, merge);
        if (tid != 0) return;
    }
    finish_output(P, o, A, shift);
}

template <typename F> __global__ void reduce_block_kernel(const ct__cuda_red P) {
    for (int64_t o = blockIdx.x; o < P.nout; o += gridDim.x) reduce_output<true, F>(P, o, threadIdx.x, blockDim.x);
}

template <typename F> __global__ void reduce_thread_kernel(const ct__cuda_red P) {
    for (int64_t o = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; o < P.nout; o += (int64_t)gridDim.x * blockDim.x)
        reduce_output<false, F>(P, o, 0, 1);
}

// ---- column reductions: a block per tile of neighbouring outputs, the rows split over its warps ----
//
// Outputs adjacent in memory whose reduced dims are strided (dim 0 of [N, C]: a bias gradient)
// would leave most of the GPU idle with a block per output and read each column serially with a
// thread per output. Here a block covers TW = min(32, nout) neighbouring outputs: lane l of a
// warp takes output l % TW and row phase l / TW (RP = 32 / TW phases, so small C still fills the
// warp), giving each block R = warps * RP row slots. Slot s visits rows k0 + s, k0 + s + R, ...
// of the block's row range, so a warp reads whole row segments (coalesced). The slots' partials
// meet in shared memory and are folded in slot order; when the rows are also split over blockIdx.y
// (too few tiles to fill the GPU), each range's fold goes to a workspace and a second kernel folds
// the ranges in order. Every order is fixed by the shape and the SM count alone, so results are
// reproducible run to run. Accumulation as on the other paths (float or double, see above).
#define COL_MAX_WARPS 8
#define COL_MIN_ROWS 16 // rows a slot should visit at least, before adding warps or row ranges

struct ColCfg {
    bool use;
    int tw, rp, warps;
    int64_t tiles, splits;
};

static int dtype_size(int dt) {
    static const int sizes[] = {1, 1, 4, 8, 2, 2, 4, 8};
    return sizes[dt];
}

// Neighbouring outputs adjacent in memory while the reduced dims are strided: a column reduce.
static bool is_columns(const ct__cuda_red &P) {
    return P.outer_ndim > 0 && P.outer_in[0] == dtype_size(P.in_dtype) && P.inner_ndim > 0 &&
           P.inner_in[0] != dtype_size(P.in_dtype);
}

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }

// logsumexp needs the max before the sum: it stays on the block / thread paths.
static ColCfg col_config(const ct__cuda_red &P, int sm_count) {
    ColCfg c = {false, 0, 0, 0, 0, 0};
    if (P.nout == 0 || P.ninner <= 32 || P.kind == LSE || !is_columns(P)) return c;
    c.use = true;
    c.tw = P.nout < 32 ? (int)P.nout : 32;
    c.rp = 32 / c.tw;
    c.warps = (int)clamp64(P.ninner / ((int64_t)c.rp * COL_MIN_ROWS), 1, COL_MAX_WARPS);
    c.tiles = (P.nout + c.tw - 1) / c.tw;
    int64_t slots = (int64_t)c.warps * c.rp, blocks = 16 * (int64_t)sm_count; // enough loads in flight
    c.splits = clamp64((blocks + c.tiles - 1) / c.tiles, 1, clamp64(P.ninner / (slots * COL_MIN_ROWS), 1, 1024));
    return c;
}

template <typename F>
__global__ void reduce_columns_kernel(const ct__cuda_red P, int tw, int rp, int64_t tiles, int64_t splits, Acc<F> *ws) {
    __shared__ Acc<F> partial[32 * COL_MAX_WARPS];
    AccMerge<F> merge = {&P};
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, col = lane % tw, phase = lane / tw;
    bool active = phase < rp; // lanes past TW * RP have no slot
    int64_t nslots = (int64_t)(blockDim.x >> 5) * rp, slot = (int64_t)warp * rp + phase;
    int64_t chunk = (P.ninner + splits - 1) / splits, k0 = blockIdx.y * chunk;
    int64_t k1 = k0 + chunk < P.ninner ? k0 + chunk : P.ninner;
    for (int64_t tile = blockIdx.x; tile < tiles; tile += gridDim.x) {
        int64_t o = tile * tw + col;
        Acc<F> A = acc_init<F>(P);
        if (active && o < P.nout) {
            const char *base = P.in + ct_cu_offset(o, P.outer_ndim, P.outer_shape, P.outer_in);
            for (int64_t k = k0 + slot; k < k1; k += nslots) acc_add(A, P, inner_ptr(P, base, k), k);
        }
        if (active) partial[slot * tw + col] = A;
        __syncthreads();
        if (threadIdx.x < tw && o < P.nout) { // slot 0 of each output (col == threadIdx.x) folds
            Acc<F> B = partial[col];
            for (int64_t s = 1; s < nslots; s++) B = merge(B, partial[s * tw + col]);
            if (splits == 1) finish_output(P, o, B, (F)0);
            else ws[blockIdx.y * P.nout + o] = B;
        }
        __syncthreads(); // partial is reused by the next tile
    }
}

template <typename F> __global__ void reduce_columns_finish(const ct__cuda_red P, int64_t splits, const Acc<F> *ws) {
    AccMerge<F> merge = {&P};
    for (int64_t o = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; o < P.nout; o += (int64_t)gridDim.x * blockDim.x) {
        Acc<F> A = ws[o];
        for (int64_t s = 1; s < splits; s++) A = merge(A, ws[s * P.nout + o]);
        finish_output(P, o, A, (F)0);
    }
}

static unsigned grid_for(int64_t work, int64_t cap) { return (unsigned)(work < cap ? work : cap); }

extern "C" size_t ct__cuda_reduce_workspace(const ct__cuda_red *plan, int sm_count) {
    ColCfg c = col_config(*plan, sm_count);
    size_t acc = float_acc(*plan) ? sizeof(Acc<float>) : sizeof(Acc<double>);
    return c.use && c.splits > 1 ? (size_t)(c.splits * plan->nout) * acc : 0;
}

template <typename F> static cudaError_t reduce(const ct__cuda_red &P, int sm_count, void *workspace, cudaStream_t stream) {
    ColCfg c = col_config(P, sm_count);
    if (c.use) {
        if (c.splits > 1 && !workspace) return cudaErrorInvalidValue;
        dim3 grid(grid_for(c.tiles, 0x7fffffff), (unsigned)c.splits);
        reduce_columns_kernel<F><<<grid, 32 * c.warps, 0, stream>>>(P, c.tw, c.rp, c.tiles, c.splits, (Acc<F> *)workspace);
        cudaError_t e = cudaGetLastError();
        if (e != cudaSuccess || c.splits == 1) return e;
        int threads = 128;
        reduce_columns_finish<F><<<grid_for((P.nout + threads - 1) / threads, 65535), threads, 0, stream>>>(
            P, c.splits, (const Acc<F> *)workspace);
        return cudaGetLastError();
    }
    bool per_thread = P.ninner <= 32 || (is_columns(P) && P.nout >= 64 * (int64_t)sm_count);
    if (per_thread) {
        int threads = 128;
        reduce_thread_kernel<F><<<grid_for((P.nout + threads - 1) / threads, 65535), threads, 0, stream>>>(P);
    } else {
        int threads = 32;
        while (threads < 512 && threads < P.ninner / 4) threads *= 2;
        reduce_block_kernel<F><<<grid_for(P.nout, 1 << 20), threads, 0, stream>>>(P);
    }
    return cudaGetLastError();
}

extern "C" cudaError_t ct__cuda_reduce(const ct__cuda_red *plan, int sm_count, void *workspace, cudaStream_t stream) {
    if (plan->nout == 0) return cudaSuccess;
    return float_acc(*plan) ? reduce<float>(*plan, sm_count, workspace, stream)
                            : reduce<double>(*plan, sm_count, workspace, stream);
}

// ---- cumsum and cumprod: one thread per row ----

__global__ void scan_kernel(const ct__cuda_red P) {
    int64_t s_in = P.inner_ndim ? P.inner_in[0] : 0;
    bool is_sum = P.kind == CUMSUM;
    for (int64_t r = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; r < P.nout; r += (int64_t)gridDim.x * blockDim.x) {
        const char *in = P.in + ct_cu_offset(r, P.outer_ndim, P.outer_shape, P.outer_in);
        char *out = P.out + ct_cu_offset(r, P.outer_ndim, P.outer_shape, P.outer_out);
        if (P.int_acc) {
            uint64_t a = is_sum ? 0 : 1;
            for (int64_t k = 0; k < P.ninner; k++) {
                uint64_t v = (uint64_t)ct_cu_load_i64(in + k * s_in, P.in_dtype);
                a = is_sum ? a + v : a * v;
                *(int64_t *)(out + k * P.inner_out) = (int64_t)a;
            }
        } else {
            double a = is_sum ? 0 : 1;
            for (int64_t k = 0; k < P.ninner; k++) {
                double v = ct_cu_load_f64(in + k * s_in, P.in_dtype);
                a = is_sum ? a + v : a * v;
                ct_cu_store_f64(out + k * P.inner_out, P.out_dtype, a);
            }
        }
    }
}

extern "C" cudaError_t ct__cuda_rows(const ct__cuda_red *plan, int sm_count, cudaStream_t stream) {
    const ct__cuda_red &P = *plan;
    (void)sm_count;
    if (P.kind != CUMSUM && P.kind != CUMPROD) return cudaErrorInvalidValue; // softmax: softmax_cuda.cu
    if (P.nout == 0 || P.ninner == 0) return cudaSuccess;
    int threads = 128;
    scan_kernel<<<grid_for((P.nout + threads - 1) / threads, 65535), threads, 0, stream>>>(P);
    return cudaGetLastError();
}
