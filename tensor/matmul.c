/* Matrix products: mm, bmm, matmul, mv, dot, outer, addmm, baddbmm. Every op validates with
 * PyTorch's messages, then reduces to one batched strided GEMM (matmul_impl.h). Operands whose
 * last two dims are row-major (ld, 1) or column-major (1, ld) go to the kernel as they are, with a
 * transpose flag; only other layouts are copied. */
#include "matmul_impl.h"

#include "ctorch/cuda.h"

#include <limits.h>
#include <stdatomic.h>
#include <string.h>

const ct_matmul_kernels *ct__matmul_kernels(ct_device device) {
#ifdef CT_HAVE_CUDA
    if (device.type == CT_DEVICE_CUDA) return &ct__matmul_cuda_kernels;
#endif
    return device.type == CT_DEVICE_CPU ? &ct__matmul_cpu_kernels : NULL;
}

/* ---- the float32 matmul precision (torch.backends.cuda.matmul.allow_tf32) -------------------------- */

/* One setting, as in PyTorch where allow_tf32 = True is set_float32_matmul_precision("high") and
 * allow_tf32 reads precision != "highest". Default "highest" (PyTorch >= 1.12). */
static _Atomic int matmul_precision = 0;
static const char *const precision_names[] = {"highest", "high", "medium"};

int ct__float32_matmul_precision(void) { return matmul_precision; }

void ct_set_allow_tf32(bool allow) { matmul_precision = allow ? 1 : 0; }

bool ct_get_allow_tf32(void) { return matmul_precision != 0; }

bool ct_set_float32_matmul_precision(const char *precision) {
    for (int i = 0; i < 3; i++)
        if (precision && !strcmp(precision, precision_names[i])) {
            matmul_precision = i;
            return true;
        }
    ct_error(CT_ERR_ARG, "set_float32_matmul_precision: Invalid precision \"%s\": expected highest, high or medium",
             precision ? precision : "(null)");
    return false;
}

const char *ct_get_float32_matmul_precision(void) { return precision_names[matmul_precision]; }

static bool check_same_dtype(const char *op, const ct_tensor *a, const ct_tensor *b) {
    if (a->dtype == b->dtype) return true;
    ct_error(CT_ERR_DTYPE, "%s: expected scalar type %s but found %s", op, ct__torch_type_name(a->dtype),
             ct__torch_type_name(b->dtype));
    return false;
}

/* kernel_name is the PyTorch kernel that rejects bool ("addmm_impl_cpu_", "bmm", "dot", ...). */
static bool check_not_bool(const char *op, const char *kernel_name, ct_dtype dtype) {
    if (dtype != CT_BOOL) return true;
    ct_error(CT_ERR_DTYPE, "%s: \"%s\" not implemented for 'Bool'", op, kernel_name);
    return false;
}

/* Whether a rows x cols matrix with element strides (sr, sc) is a BLAS operand as it is: row-major
 * with leading dimension ld (trans false) or column-major (trans true). Size-1 dims accept any
 * stride; ld always satisfies BLAS's ld >= max(1, minor size). */
static bool blas_layout(int64_t rows, int64_t cols, int64_t sr, int64_t sc, bool *trans, int64_t *ld) {
    int64_t min_row_ld = cols > 1 ? cols : 1, min_col_ld = rows > 1 ? rows : 1;
    if ((sc == 1 || cols == 1) && (rows == 1 || sr >= min_row_ld)) {
        *trans = false;
        *ld = rows == 1 ? min_row_ld : sr;
    } else if ((sr == 1 || rows == 1) && (cols == 1 || sc >= min_col_ld)) {
        *trans = true;
        *ld = cols == 1 ? min_col_ld : sc;
    } else {
        return false;
    }
    return *ld <= INT_MAX;
}

/* x in dtype with BLAS-ready last two dims: x itself when it already is, else a contiguous copy. */
static const ct_tensor *gemm_operand(const ct_tensor *x, ct_dtype dtype, bool *trans, int64_t *ld) {
    int nd = x->ndim;
    int64_t rows = x->shape[nd - 2], cols = x->shape[nd - 1];
    if (x->dtype == dtype && blas_layout(rows, cols, x->stride[nd - 2], x->stride[nd - 1], trans, ld)) return x;
    ct_tensor *c = ct__contiguous_as(x, dtype);
    if (!c) return NULL;
    *trans = false;
    *ld = cols > 1 ? cols : 1;
    return c;
}

/* Broadcast of the batch dims (all but the last two) of a and b. */
static bool batch_shape(const char *op, const ct_tensor *a, const ct_tensor *b, ct_shape *out) {
    int na = a->ndim - 2, nb = b->ndim - 2;
    out->ndim = na > nb ? na : nb;
    for (int i = 0; i < out->ndim; i++) {
        int ia = i - (out->ndim - na), ib = i - (out->ndim - nb);
        int64_t sa = ia >= 0 ? a->shape[ia] : 1, sb = ib >= 0 ? b->shape[ib] : 1;
        if (sa != sb && sa != 1 && sb != 1) {
            ct_error(CT_ERR_SHAPE,
                     "%s: The size of tensor a (%lld) must match the size of tensor b (%lld) at non-singleton "
                     "dimension %d",
                     op, (long long)sa, (long long)sb, i);
            return false;
        }
        out->d[i] = sa == 1 ? sb : sa;
    }
    return true;
}

/* Stride of x's batch dim aligned with dim d of a batch shape of nbatch dims; 0 where broadcast. */
static int64_t batch_stride(const ct_tensor *x, int nbatch, int d) {
    int dx = d - (nbatch - (x->ndim - 2));
    return dx >= 0 && x->shape[dx] != 1 ? x->stride[dx] : 0;
}

/* PyTorch's expand message when input cannot broadcast to shape (the product's shape). */
static bool check_expandable(const char *op, const ct_tensor *input, const int64_t *shape, int ndim) {
    if (input->ndim > ndim) {
        ct_error(CT_ERR_SHAPE,
                 "%s: expand(%s, size=%s): the number of sizes provided (%d) must be greater or equal to the number "
                 "of dimensions in the tensor (%d)",
                 op, ct__shape_str(input->shape, input->ndim), ct__shape_str(shape, ndim), ndim, input->ndim);
        return false;
    }
    for (int i = 0; i < input->ndim; i++) {
        int d = i + ndim - input->ndim;
        if (input->shape[i] != 1 && input->shape[i] != shape[d]) {
            ct_error(CT_ERR_SHAPE,
                     "%s: The expanded size of the tensor (%lld) must match the existing size (%lld) at "
                     "non-singleton dimension %d.  Target sizes: %s.  Tensor sizes: %s",
                     op, (long long)shape[d], (long long)input->shape[i], d, ct__shape_str(shape, ndim),
                     ct__shape_str(input->shape, input->ndim));
            return false;
        }
    }
    return true;
}

/* Whether the device's fused bias GEMM can compute out = input + alpha * (a @ b): a single product
 * (addmm, linear) with beta 1 whose input is a row of n contiguous values broadcast over the m
 * rows ([n], [1, n], or [m, n] with row stride 0) in the product's dtype. As PyTorch's cuBLASLt
 * path, only for sizes above 1 and below 65535 * 32 (cuBLASLt's bias epilogue limits). */
static bool bias_epilogue_fits(const ct_matmul_kernels *kernels, const ct_gemm_args *g, const ct_tensor *input,
                               const ct_tensor *c) {
    const int64_t lim = 65535 * 32;
    if (!kernels->gemm_bias || g->beta != 1 || g->batch_ndim != 0 || input->dtype != g->dtype ||
        c->dtype != g->dtype)
        return false;
    if (g->m <= 1 || g->n <= 1 || g->k <= 1 || g->m >= lim || g->n >= lim || g->k >= lim) return false;
    int nd = input->ndim;
    bool row = nd == 1 || (nd == 2 && (input->shape[0] == 1 || input->stride[0] == 0));
    return row && input->shape[nd - 1] == g->n && input->stride[nd - 1] == 1;
}

/* out = beta * input + alpha * (a @ b) for validated a (..., m, k), b (..., k, n) of one dtype with
 * broadcastable batch dims; input (may be NULL) broadcasts to the result and is not read when
 * beta == 0. The result is contiguous and owned by the caller's scope. */
static ct_tensor *gemm_op(const char *op, const ct_tensor *a, const ct_tensor *b, const ct_tensor *input,
                          double alpha, double beta) {
    ct_shape shape;
    if (!batch_shape(op, a, b, &shape)) return NULL;
    int nbatch = shape.ndim;
    int64_t m = a->shape[a->ndim - 2], k = a->shape[a->ndim - 1], n = b->shape[b->ndim - 1];
    shape.d[shape.ndim++] = m;
    shape.d[shape.ndim++] = n;
    if (input && !check_expandable(op, input, shape.d, shape.ndim)) return NULL;
    const ct_matmul_kernels *kernels = ct__matmul_kernels(ct__device(a));
    if (!kernels || !kernels->gemm)
        return ct__no_kernel(op, ct__device(a));
    if (m > INT_MAX || n > INT_MAX || k > INT_MAX)
        return ct_error(CT_ERR_UNSUPPORTED, "%s: matrix sizes above %d are not supported", op, INT_MAX);
    bool cuda = ct__device(a).type == CT_DEVICE_CUDA;
    if (cuda && !ct_dtype_is_floating(a->dtype)) /* as PyTorch: cuBLAS has no integer GEMM */
        return ct_error(CT_ERR_DTYPE, "%s: \"%s\" not implemented for '%s'", op, nbatch ? "bmm_cuda" : "addmm_cuda",
                        ct__torch_type_name(a->dtype));
    ct_tensor *out = ct__tensor_new(shape.d, shape.ndim, a->dtype, ct__device(a));
    if (!out || ct__numel(shape.d, shape.ndim) == 0) return out;

    /* 16-bit floats compute in f32 on the CPU: convert, multiply, convert back (cuBLAS takes them
     * as they are and accumulates in f32). */
    ct_dtype cdt = !cuda && (a->dtype == CT_F16 || a->dtype == CT_BF16) ? CT_F32 : a->dtype;
    bool ok = false;
    ct_scope_begin();
    ct_gemm_args g = {.dtype = cdt, .device = ct__device(a).index, .m = m, .n = n, .k = k, .alpha = alpha, .beta = beta, .batch_ndim = nbatch};
    const ct_tensor *ta = NULL, *tb = NULL;
    ct_tensor *c = cdt == out->dtype ? out : ct__tensor_new(shape.d, shape.ndim, cdt, ct__device(a));
    if (ct__numel(a->shape, a->ndim) == 0 || ct__numel(b->shape, b->ndim) == 0) {
        /* k == 0 (m, n and the batch are non-empty): nothing to read, BLAS only needs valid lds. */
        ta = a, tb = b, g.lda = 1, g.ldb = n > 1 ? n : 1;
    } else {
        ta = gemm_operand(a, cdt, &g.transa, &g.lda);
        tb = gemm_operand(b, cdt, &g.transb, &g.ldb);
    }
    if (!ta || !tb || !c) goto done;
    g.a = ct__data(ta), g.b = ct__data(tb), g.c = ct__data(c), g.ldc = n > 1 ? n : 1;
    for (int d = 0; d < nbatch; d++) {
        g.batch_shape[d] = shape.d[d];
        g.stride_a[d] = batch_stride(ta, nbatch, d);
        g.stride_b[d] = batch_stride(tb, nbatch, d);
        g.stride_c[d] = c->stride[d];
    }
    bool fused = false;
    if (input && beta != 0 && bias_epilogue_fits(kernels, &g, input, c)) {
        g.beta = 0;
        if (!kernels->gemm_bias(&g, ct__data(input), &fused)) goto done;
    }
    if (!fused) { /* C = input (broadcast), then C = beta C + alpha A B */
        g.beta = input && beta != 0 ? beta : 0;
        if (g.beta != 0 && !ct__copy_into(op, c, input)) goto done;
        if (!kernels->gemm(&g)) goto done;
    }
    ok = c == out || ct__copy_into(op, out, c);
done:
    ct_scope_end();
    return ok ? out : NULL;
}

/* A view of contiguous t with a new shape of the same numel. */
static ct_tensor *reshaped(const ct_tensor *t, const int64_t *shape, int ndim) {
    int64_t stride[CT_MAX_DIMS];
    ct__contiguous_strides(shape, ndim, stride);
    return ct__tensor_view(t, shape, stride, ndim, t->offset);
}

/* ---- the 2-D and 1-D products -------------------------------------------------------------------- */

static ct_tensor *mm_impl(const char *op, const ct_tensor *a, const ct_tensor *b) {
    if (a->shape[1] != b->shape[0])
        return ct_error(CT_ERR_SHAPE, "%s: mat1 and mat2 shapes cannot be multiplied (%s and %s)", op,
                        ct__shape_x(a->shape, 2), ct__shape_x(b->shape, 2));
    if (!check_same_dtype(op, a, b) || !check_not_bool(op, "addmm_impl_cpu_", a->dtype)) return NULL;
    return gemm_op(op, a, b, NULL, 1, 0);
}

ct_tensor *ct__mm(const ct_tensor *a, const ct_tensor *b) {
    if (!CT__CHECK("mm", a, b) || !ct__check_same_device("mm", 2, (const ct_tensor *const[]){a, b})) return NULL;
    if (a->ndim != 2) return ct_error(CT_ERR_SHAPE, "mm: self must be a matrix");
    if (b->ndim != 2) return ct_error(CT_ERR_SHAPE, "mm: mat2 must be a matrix");
    return mm_impl("mm", a, b);
}

static ct_tensor *dot_impl(const char *op, const ct_tensor *a, const ct_tensor *b) {
    if (a->shape[0] != b->shape[0])
        return ct_error(CT_ERR_SHAPE,
                        "%s: inconsistent tensor size, expected tensor [%lld] and src [%lld] to have the same number "
                        "of elements, but got %lld and %lld elements respectively",
                        op, (long long)a->shape[0], (long long)b->shape[0], (long long)a->shape[0],
                        (long long)b->shape[0]);
    if (a->dtype != b->dtype)
        return ct_error(CT_ERR_DTYPE, "%s: expected both vectors to have same dtype, but found %s and %s", op,
                        ct__torch_type_name(a->dtype), ct__torch_type_name(b->dtype));
    if (!check_not_bool(op, "dot", a->dtype)) return NULL;
    ct_tensor *out = NULL;
    ct_scope_begin();
    /* (1, k) @ (k, 1), then the 1x1 result seen as 0-d. */
    ct_tensor *prod = gemm_op(op, ct_unsqueeze(a, 0), ct_unsqueeze(b, 1), NULL, 1, 0);
    if (prod) out = ct_keep(reshaped(prod, NULL, 0));
    ct_scope_end();
    return out;
}

ct_tensor *ct__dot(const ct_tensor *a, const ct_tensor *b) {
    if (!CT__CHECK("dot", a, b) || !ct__check_same_device("dot", 2, (const ct_tensor *const[]){a, b})) return NULL;
    if (a->ndim != 1 || b->ndim != 1)
        return ct_error(CT_ERR_SHAPE, "dot: 1D tensors expected, but got %dD and %dD tensors", a->ndim, b->ndim);
    return dot_impl("dot", a, b);
}

static ct_tensor *mv_impl(const char *op, const ct_tensor *a, const ct_tensor *v) {
    if (a->shape[1] != v->shape[0])
        return ct_error(CT_ERR_SHAPE, "%s: size mismatch, got %lld, %lldx%lld,%lld", op, (long long)a->shape[0],
                        (long long)a->shape[0], (long long)a->shape[1], (long long)v->shape[0]);
    if (!check_same_dtype(op, a, v) || !check_not_bool(op, "addmv_impl_cpu", a->dtype)) return NULL;
    ct_tensor *out = NULL;
    ct_scope_begin();
    ct_tensor *prod = gemm_op(op, a, ct_unsqueeze(v, 1), NULL, 1, 0);
    if (prod) out = ct_keep(reshaped(prod, a->shape, 1));
    ct_scope_end();
    return out;
}

ct_tensor *ct__mv(const ct_tensor *a, const ct_tensor *v) {
    if (!CT__CHECK("mv", a, v) || !ct__check_same_device("mv", 2, (const ct_tensor *const[]){a, v})) return NULL;
    if (a->ndim != 2 || v->ndim != 1)
        return ct_error(CT_ERR_SHAPE, "mv: vector + matrix @ vector expected, got 1, %d, %d", a->ndim, v->ndim);
    return mv_impl("mv", a, v);
}

ct_tensor *ct__outer(const ct_tensor *a, const ct_tensor *b) {
    if (!CT__CHECK("outer", a, b) || !ct__check_same_device("outer", 2, (const ct_tensor *const[]){a, b}))
        return NULL;
    if (a->ndim != 1) return ct_error(CT_ERR_SHAPE, "outer: Expected 1-D argument self, but got %d-D", a->ndim);
    if (b->ndim != 1) return ct_error(CT_ERR_SHAPE, "outer: Expected 1-D argument vec2, but got %d-D", b->ndim);
    /* outer is a broadcast multiply in PyTorch: types promote, and bools multiply as 0/1. */
    ct_dtype dtype = ct__result_type(2, (const ct_tensor *const[]){a, b});
    ct_dtype cdt = dtype == CT_BOOL ? CT_U8 : dtype;
    ct_tensor *out = NULL;
    ct_scope_begin();
    const ct_tensor *ca = a->dtype == cdt ? a : ct__contiguous_as(a, cdt);
    const ct_tensor *cb = b->dtype == cdt ? b : ct__contiguous_as(b, cdt);
    ct_tensor *prod = ca && cb ? gemm_op("outer", ct_unsqueeze(ca, 1), ct_unsqueeze(cb, 0), NULL, 1, 0) : NULL;
    if (prod && cdt != dtype) prod = ct_to_dtype(prod, dtype);
    out = ct_keep(prod);
    ct_scope_end();
    return out;
}

/* ---- batched products ---------------------------------------------------------------------------- */

static ct_tensor *bmm_checks(const char *op, const ct_tensor *a, const ct_tensor *b) {
    if (!CT__CHECK(op, a, b) || !ct__check_same_device(op, 2, (const ct_tensor *const[]){a, b})) return NULL;
    if (a->ndim != 3) return ct_error(CT_ERR_SHAPE, "%s: batch1 must be a 3D tensor", op);
    if (b->ndim != 3) return ct_error(CT_ERR_SHAPE, "%s: batch2 must be a 3D tensor", op);
    if (b->shape[0] != a->shape[0] || b->shape[1] != a->shape[2])
        return ct_error(CT_ERR_SHAPE,
                        "%s: Expected size for first two dimensions of batch2 tensor to be: [%lld, %lld] but got: "
                        "[%lld, %lld].",
                        op, (long long)a->shape[0], (long long)a->shape[2], (long long)b->shape[0],
                        (long long)b->shape[1]);
    if (!check_same_dtype(op, a, b) || !check_not_bool(op, "bmm", a->dtype)) return NULL;
    return (ct_tensor *)a; /* any non-NULL: checks passed */
}

ct_tensor *ct__bmm(const ct_tensor *a, const ct_tensor *b) {
    if (!bmm_checks("bmm", a, b)) return NULL;
    return gemm_op("bmm", a, b, NULL, 1, 0);
}

ct_tensor *ct__addmm_opt(const ct_tensor *input, const ct_tensor *a, const ct_tensor *b, ct_addmm_opts opts) {
    if (!CT__CHECK("addmm", input, a, b) ||
        !ct__check_same_device("addmm", 3, (const ct_tensor *const[]){input, a, b}))
        return NULL;
    if (a->ndim != 2) return ct_error(CT_ERR_SHAPE, "addmm: mat1 must be a matrix, got %d-D tensor", a->ndim);
    if (b->ndim != 2) return ct_error(CT_ERR_SHAPE, "addmm: mat2 must be a matrix, got %d-D tensor", b->ndim);
    if (a->shape[1] != b->shape[0])
        return ct_error(CT_ERR_SHAPE, "addmm: mat1 and mat2 shapes cannot be multiplied (%s and %s)",
                        ct__shape_x(a->shape, 2), ct__shape_x(b->shape, 2));
    if (input->dtype != b->dtype) return ct_error(CT_ERR_DTYPE, "addmm: self and mat2 must have the same dtype");
    if (!check_same_dtype("addmm", a, b) || !check_not_bool("addmm", "addmm_impl_cpu_", a->dtype)) return NULL;
    return gemm_op("addmm", a, b, input, opts.alpha, opts.beta);
}

ct_tensor *ct__baddbmm_opt(const ct_tensor *input, const ct_tensor *a, const ct_tensor *b, ct_addmm_opts opts) {
    if (!CT__CHECK("baddbmm", input, a, b) ||
        !ct__check_same_device("baddbmm", 3, (const ct_tensor *const[]){input, a, b}))
        return NULL;
    if (!bmm_checks("baddbmm", a, b)) return NULL;
    return gemm_op("baddbmm", a, b, input, opts.alpha, opts.beta); /* input converts to the batches' dtype */
}

/* Whether the batch dims of a (ndim >= 3) fold into its row dim as one strided dim, so that
 * (..., m, k) @ (k, n) is a single (B*m, k) @ (k, n) product, as PyTorch folds it. */
static bool rows_fold(const ct_tensor *a) {
    for (int d = a->ndim - 3; d >= 0; d--)
        if (a->shape[d] != 1 && a->stride[d] != a->stride[d + 1] * a->shape[d + 1]) return false;
    return true;
}

ct_tensor *ct__matmul(const ct_tensor *a, const ct_tensor *b) {
    if (!CT__CHECK("matmul", a, b) || !ct__check_same_device("matmul", 2, (const ct_tensor *const[]){a, b}))
        return NULL;
    int na = a->ndim, nb = b->ndim;
    if (na == 0 || nb == 0)
        return ct_error(CT_ERR_SHAPE, "matmul: both arguments to matmul need to be at least 1D, but they are %dD and %dD",
                        na, nb);
    if (na == 1 && nb == 1) return dot_impl("matmul", a, b);
    if (na == 2 && nb == 1) return mv_impl("matmul", a, b);
    if (na == 2 && nb == 2) return mm_impl("matmul", a, b);
    ct_tensor *out = NULL;
    ct_scope_begin();
    /* 1-D operands become a row (left) or a column (right) matrix; the added dim is removed at the end. */
    const ct_tensor *ma = na == 1 ? ct_unsqueeze(a, 0) : a, *mb = nb == 1 ? ct_unsqueeze(b, 1) : b;
    int64_t m = ma->shape[ma->ndim - 2], k = ma->shape[ma->ndim - 1], n = mb->shape[mb->ndim - 1];
    int64_t kb = mb->shape[mb->ndim - 2];
    ct_shape batch;
    ct_tensor *prod = NULL;
    if (!ma || !mb || !batch_shape("matmul", ma, mb, &batch)) goto done;
    if (k != kb) {
        if (na >= 3 && nb == 1) { /* PyTorch folds this into one mv */
            int64_t rows = ct__numel(ma->shape, ma->ndim - 1);
            ct_error(CT_ERR_SHAPE, "matmul: size mismatch, got %lld, %lldx%lld,%lld", (long long)rows, (long long)rows,
                     (long long)k, (long long)kb);
        } else if (na == 1 && nb == 2) {
            ct_error(CT_ERR_SHAPE, "matmul: mat1 and mat2 shapes cannot be multiplied (1x%lld and %lldx%lld)",
                     (long long)k, (long long)kb, (long long)n);
        } else if (na >= 3 && nb == 2) { /* PyTorch folds this into one mm */
            ct_error(CT_ERR_SHAPE, "matmul: mat1 and mat2 shapes cannot be multiplied (%lldx%lld and %lldx%lld)",
                     (long long)(ct__numel(ma->shape, ma->ndim - 1)), (long long)k, (long long)kb, (long long)n);
        } else if (na == 2) { /* PyTorch folds this as (b^T @ a^T)^T */
            int64_t cols = ct__numel(mb->shape, mb->ndim) / kb;
            ct_error(CT_ERR_SHAPE, "matmul: mat1 and mat2 shapes cannot be multiplied (%lldx%lld and %lldx%lld)",
                     (long long)cols, (long long)kb, (long long)k, (long long)m);
        } else if (na == 1) { /* PyTorch folds this as b^T @ a */
            ct_error(CT_ERR_SHAPE, "matmul: size mismatch, got %lld, %lldx%lld,%lld",
                     (long long)(ct__numel(mb->shape, mb->ndim) / kb), (long long)(ct__numel(mb->shape, mb->ndim) / kb),
                     (long long)kb, (long long)k);
        } else {
            int64_t nbt = ct__numel(batch.d, batch.ndim);
            ct_error(CT_ERR_SHAPE,
                     "matmul: Expected size for first two dimensions of batch2 tensor to be: [%lld, %lld] but got: "
                     "[%lld, %lld].",
                     (long long)nbt, (long long)k, (long long)nbt, (long long)kb);
        }
        goto done;
    }
    if (!check_same_dtype("matmul", a, b)) goto done;
    if (!check_not_bool("matmul", nb <= 2 ? "addmm_impl_cpu_" : "bmm", a->dtype)) goto done;
    if (ma->ndim >= 3 && mb->ndim == 2 && rows_fold(ma)) {
        int64_t rows = ct__numel(ma->shape, ma->ndim - 1);
        ct_tensor *flat = ct__tensor_view(ma, (int64_t[]){rows, k},
                                          (int64_t[]){ma->stride[ma->ndim - 2], ma->stride[ma->ndim - 1]}, 2,
                                          ma->offset);
        prod = flat ? gemm_op("matmul", flat, mb, NULL, 1, 0) : NULL;
    } else {
        prod = gemm_op("matmul", ma, mb, NULL, 1, 0);
    }
    if (!prod) goto done;
    /* Result shape: batch, then m unless a was 1-D, then n unless b was 1-D. */
    int64_t shape[CT_MAX_DIMS];
    int nd = batch.ndim;
    memcpy(shape, batch.d, sizeof(int64_t) * (size_t)nd);
    if (na != 1) shape[nd++] = m;
    if (nb != 1) shape[nd++] = n;
    out = ct_keep(reshaped(prod, shape, nd));
done:
    ct_scope_end();
    return out;
}
