/* gradcheck: the Jacobian backward computes against central differences in f64.
 *
 * For input x (n elements) and output y (m elements), numerical column j is
 * (f(x + eps e_j) - f(x - eps e_j)) / 2 eps; analytical row k is d(y_k)/dx from autograd_grad
 * with a one-hot grad_output on y_k. Elements are addressed through the input's own strides, so
 * non-contiguous inputs are checked as they are (overlapping ones, which one perturbation would
 * move several elements of, are refused as PyTorch refuses them). */
#include "autograd_impl.h"

#include <math.h>
#include <stdlib.h>

/* Storage offsets (elements) of t's elements in logical order, into offs[numel]. */
static void element_offsets(const ct_tensor *t, int64_t *offs) {
    int64_t n = ct__numel(t->shape, t->ndim), idx[CT_MAX_DIMS] = {0};
    for (int64_t k = 0; k < n; k++) {
        int64_t off = t->offset;
        for (int d = 0; d < t->ndim; d++) off += idx[d] * t->stride[d];
        offs[k] = off;
        for (int d = t->ndim - 1; d >= 0; d--) {
            if (++idx[d] < t->shape[d]) break;
            idx[d] = 0;
        }
    }
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static bool check_input(int i, const ct_tensor *t, int64_t *offs) {
    if (t->dtype != CT_F64 || !ct__is_cpu(t)) {
        ct_error(CT_ERR_DTYPE, "gradcheck: input %d is %s on %s; gradcheck needs float64 CPU inputs", i,
                 ct_dtype_name(t->dtype), ct_device_name(ct__device(t)));
        return false;
    }
    int64_t n = ct__numel(t->shape, t->ndim);
    element_offsets(t, offs);
    int64_t *sorted = malloc((size_t)(n ? n : 1) * sizeof *sorted);
    if (!sorted) return ct_error(CT_ERR_OOM, "gradcheck: out of memory") != NULL;
    memcpy(sorted, offs, (size_t)n * sizeof *sorted);
    qsort(sorted, (size_t)n, sizeof *sorted, cmp_i64);
    bool overlap = false;
    for (int64_t k = 1; k < n && !overlap; k++) overlap = sorted[k] == sorted[k - 1];
    free(sorted);
    if (overlap)
        ct_error(CT_ERR_ARG, "gradcheck: input %d has overlapping memory (e.g. from expand); gradcheck only supports inputs "
                             "that are non-overlapping", i);
    return !overlap;
}

/* f(inputs) as doubles in logical order (numel values into out), without recording a graph. */
static bool evaluate(ct_gradcheck_fn fn, void *user, ct_tensor *const *inputs, double *out, int64_t m) {
    bool ok = false;
    CT_NO_GRAD CT_SCOPE {
        ct_tensor *y = fn(inputs, user);
        ok = y && ct_numel(y) == m && ct_copy_to_f64(y, out, m);
    }
    return ok;
}

bool ct_gradcheck_opt(ct_gradcheck_fn fn, void *user, ct_tensor_list inputs, ct_gradcheck_opts opts) {
    if (!ct_ok()) return false;
    if (!fn) return ct_error(CT_ERR_ARG, "gradcheck: function is NULL") != NULL;
    for (int i = 0; i < inputs.n; i++)
        if (!CT__CHECK("gradcheck", inputs.items[i])) return false;
    bool ok = true;
    ct_scope_begin();
    ct_tensor *y = fn(inputs.items, user);
    int64_t m = y ? ct__numel(y->shape, y->ndim) : 0;
    if (!y) ok = false;
    else if (!y->requires_grad) ok = ct_error(CT_ERR_STATE, "gradcheck: the output does not require grad (no input that requires grad reaches it)") != NULL;
    double *plus = ct_scope_alloc((size_t)(m ? m : 1) * sizeof(double)), *minus = ct_scope_alloc((size_t)(m ? m : 1) * sizeof(double));
    ok = ok && plus && minus;
    for (int i = 0; ok && i < inputs.n; i++) {
        ct_tensor *x = inputs.items[i];
        if (!x->requires_grad) continue;
        int64_t n = ct__numel(x->shape, x->ndim);
        int64_t *offs = ct_scope_alloc((size_t)(n ? n : 1) * sizeof *offs);
        double *numerical = ct_scope_alloc((size_t)(n * m > 0 ? n * m : 1) * sizeof(double)); /* [j][k] */
        ok = offs && numerical && check_input(i, x, offs);
        double *data = ok ? (double *)x->storage->data : NULL;
        for (int64_t j = 0; ok && j < n; j++) {
            double v = data[offs[j]];
            data[offs[j]] = v + opts.eps;
            ok = evaluate(fn, user, inputs.items, plus, m);
            data[offs[j]] = v - opts.eps;
            ok = ok && evaluate(fn, user, inputs.items, minus, m);
            data[offs[j]] = v;
            for (int64_t k = 0; ok && k < m; k++) numerical[j * m + k] = (plus[k] - minus[k]) / (2 * opts.eps);
        }
        /* analytical rows, one backward per output element */
        for (int64_t k = 0; ok && k < m; k++) CT_SCOPE {
            ct_tensor *onehot = ct_zeros_like(y);
            double *gv = onehot ? (double *)ct_data_ptr(ct_contiguous(onehot)) : NULL;
            ok = gv && y->dtype == CT_F64;
            if (!ok) {
                if (ct_ok()) ct_error(CT_ERR_DTYPE, "gradcheck: the output is %s; gradcheck needs a float64 output", ct_dtype_name(y->dtype));
                break;
            }
            gv[k] = 1;
            ct_tensor_list g = ct_autograd_grad(CT_TENSORS(y), CT_TENSORS(x), CT_TENSORS(onehot), .retain_graph = true,
                                                .allow_unused = true);
            ok = ct_ok();
            double *row = ok ? ct_scope_alloc((size_t)(n ? n : 1) * sizeof(double)) : NULL;
            if (!row) { ok = false; break; }
            if (g.items[0]) ok = ct_copy_to_f64(g.items[0], row, n);
            else for (int64_t j = 0; j < n; j++) row[j] = 0;
            for (int64_t j = 0; ok && j < n; j++) {
                double a = row[j], num = numerical[j * m + k];
                if (fabs(a - num) <= opts.atol + opts.rtol * fabs(num)) continue;
                ok = ct_error(CT_ERR_ARG, "gradcheck: Jacobian mismatch for output 0 with respect to input %d at input element "
                                          "%lld, output element %lld: numerical %.10g, analytical %.10g",
                              i, (long long)j, (long long)k, num, a) != NULL;
            }
        }
    }
    ct_scope_end();
    return ok && ct_ok();
}
