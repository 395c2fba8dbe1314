/* Views: new shape/stride/offset over the same storage, never a copy (DESIGN §3). */
#include "tensor_impl.h"

#include <string.h>

static ct_tensor *make_view(const ct_tensor *t, const int64_t *shape, const int64_t *stride, int ndim, int64_t offset) {
    return ct__tensor_view(t, shape, stride, ndim, offset);
}

/* Resolves one -1 in `shape` against numel; PyTorch's messages for the failures. */
static bool infer_shape(const char *op, const ct_tensor *t, ct_shape *shape) {
    if (shape->ndim > CT_MAX_DIMS || shape->ndim < 0)
        return ct_error(CT_ERR_SHAPE, "%s: at most %d dimensions are supported, got %d", op, CT_MAX_DIMS, shape->ndim),
               false;
    int64_t numel = ct__numel(t->shape, t->ndim), known = 1;
    int infer = -1;
    for (int i = 0; i < shape->ndim; i++) {
        if (shape->d[i] == -1) {
            if (infer >= 0) return ct_error(CT_ERR_SHAPE, "%s: only one dimension can be inferred", op), false;
            infer = i;
        } else if (shape->d[i] < 0) {
            return ct_error(CT_ERR_SHAPE, "%s: invalid shape dimension %lld", op, (long long)shape->d[i]), false;
        } else {
            known *= shape->d[i];
        }
    }
    if (infer >= 0) {
        if (known == 0 && numel == 0)
            return ct_error(CT_ERR_SHAPE,
                            "%s: cannot reshape tensor of 0 elements into shape %s because the unspecified dimension "
                            "size -1 can be any value and is ambiguous",
                            op, ct__shape_str(shape->d, shape->ndim)),
                   false;
        if (known == 0 || numel % known != 0)
            return ct_error(CT_ERR_SHAPE, "%s: shape '%s' is invalid for input of size %lld", op,
                            ct__shape_str(shape->d, shape->ndim), (long long)numel),
                   false;
        shape->d[infer] = numel / known;
        known = numel;
    }
    if (known != numel)
        return ct_error(CT_ERR_SHAPE, "%s: shape '%s' is invalid for input of size %lld", op,
                        ct__shape_str(shape->d, shape->ndim), (long long)numel),
               false;
    return true;
}

/* PyTorch's computeStride: strides for viewing t as `shape` without copying, or false. Groups of
 * old dims that are contiguous among themselves ("chunks") can be re-split freely. */
static bool view_strides(const ct_tensor *t, const ct_shape *shape, int64_t *stride) {
    int64_t numel = ct__numel(t->shape, t->ndim);
    if (numel == 0) {
        ct__contiguous_strides(shape->d, shape->ndim, stride);
        return true;
    }
    int view_d = shape->ndim - 1;
    int64_t chunk_base_stride = t->ndim ? t->stride[t->ndim - 1] : 1;
    int64_t tensor_numel = 1, view_numel = 1;
    for (int tensor_d = t->ndim - 1; tensor_d >= 0; tensor_d--) {
        tensor_numel *= t->shape[tensor_d];
        if (tensor_d == 0 ||
            (t->shape[tensor_d - 1] != 1 && t->stride[tensor_d - 1] != tensor_numel * chunk_base_stride)) {
            while (view_d >= 0 && (view_numel < tensor_numel || shape->d[view_d] == 1)) {
                stride[view_d] = view_numel * chunk_base_stride;
                view_numel *= shape->d[view_d];
                view_d--;
            }
            if (view_numel != tensor_numel) return false;
            if (tensor_d > 0) {
                chunk_base_stride = t->stride[tensor_d - 1];
                tensor_numel = 1;
                view_numel = 1;
            }
        }
    }
    /* Trailing size-1 view dims (only possible for 0-d inputs). */
    for (; view_d >= 0; view_d--) stride[view_d] = 1;
    return true;
}

ct_tensor *ct__view(const ct_tensor *t, ct_shape shape) {
    if (!CT__CHECK("view", t)) return NULL;
    if (!infer_shape("view", t, &shape)) return NULL;
    int64_t stride[CT_MAX_DIMS];
    if (!view_strides(t, &shape, stride))
        return ct_error(CT_ERR_SHAPE,
                        "view: view size is not compatible with input tensor's size and stride (at least one dimension "
                        "spans across two contiguous subspaces). Use .reshape(...) instead.");
    return make_view(t, shape.d, stride, shape.ndim, t->offset);
}

ct_tensor *ct__reshape(const ct_tensor *t, ct_shape shape) {
    if (!CT__CHECK("reshape", t)) return NULL;
    if (!infer_shape("reshape", t, &shape)) return NULL;
    int64_t stride[CT_MAX_DIMS];
    if (view_strides(t, &shape, stride)) return make_view(t, shape.d, stride, shape.ndim, t->offset);
    /* The copy is an intermediate: only the view of it goes to the caller's scope. */
    ct_scope_begin();
    ct_tensor *c = ct_contiguous(t), *out = NULL;
    if (c) {
        ct__contiguous_strides(shape.d, shape.ndim, stride);
        out = ct_keep(make_view(c, shape.d, stride, shape.ndim, c->offset));
    }
    ct_scope_end();
    return out;
}

ct_tensor *ct__permute(const ct_tensor *t, ct_dims dims) {
    if (!CT__CHECK("permute", t)) return NULL;
    if (dims.ndim != t->ndim)
        return ct_error(CT_ERR_SHAPE,
                        "permute(sparse_coo): number of dimensions in the tensor input does not match the length of "
                        "the desired ordering of dimensions i.e. input.dim() = %d is not equal to len(dims) = %d",
                        t->ndim, dims.ndim);
    int64_t shape[CT_MAX_DIMS], stride[CT_MAX_DIMS];
    bool seen[CT_MAX_DIMS] = {0};
    for (int i = 0; i < dims.ndim; i++) {
        int d = ct__wrap_dim("permute", (int)dims.d[i], t->ndim);
        if (d < 0) return NULL;
        if (seen[d]) return ct_error(CT_ERR_ARG, "permute: duplicate dims are not allowed (dim %d repeats)", d);
        seen[d] = true;
        shape[i] = t->shape[d];
        stride[i] = t->stride[d];
    }
    return make_view(t, shape, stride, t->ndim, t->offset);
}

ct_tensor *ct__transpose(const ct_tensor *t, int dim0, int dim1) {
    if (!CT__CHECK("transpose", t)) return NULL;
    int a = ct__wrap_dim("transpose", dim0, t->ndim), b = a < 0 ? -1 : ct__wrap_dim("transpose", dim1, t->ndim);
    if (b < 0) return NULL;
    if (t->ndim == 0) return make_view(t, NULL, NULL, 0, t->offset);
    int64_t shape[CT_MAX_DIMS], stride[CT_MAX_DIMS];
    memcpy(shape, t->shape, sizeof shape);
    memcpy(stride, t->stride, sizeof stride);
    shape[a] = t->shape[b], shape[b] = t->shape[a];
    stride[a] = t->stride[b], stride[b] = t->stride[a];
    return make_view(t, shape, stride, t->ndim, t->offset);
}

ct_tensor *ct__t(const ct_tensor *t) {
    if (!CT__CHECK("t", t)) return NULL;
    if (t->ndim > 2) return ct_error(CT_ERR_SHAPE, "t() expects a tensor with <= 2 dimensions, but self is %dD", t->ndim);
    return t->ndim < 2 ? make_view(t, t->shape, t->stride, t->ndim, t->offset) : ct_transpose(t, 0, 1);
}

ct_tensor *ct__movedim(const ct_tensor *t, int source, int destination) {
    if (!CT__CHECK("movedim", t)) return NULL;
    int s = ct__wrap_dim("movedim", source, t->ndim), d = s < 0 ? -1 : ct__wrap_dim("movedim", destination, t->ndim);
    if (d < 0) return NULL;
    ct_dims order = {.ndim = t->ndim};
    int rest = 0;
    for (int i = 0; i < t->ndim; i++) {
        if (i == d) {
            order.d[i] = s;
            continue;
        }
        if (rest == s) rest++;
        order.d[i] = rest++;
    }
    return ct_permute(t, order);
}

ct_tensor *ct__expand(const ct_tensor *t, ct_shape shape) {
    if (!CT__CHECK("expand", t)) return NULL;
    if (shape.ndim < t->ndim)
        return ct_error(CT_ERR_SHAPE,
                        "expand: the number of sizes provided (%d) must be greater or equal to the number of "
                        "dimensions in the tensor (%d)",
                        shape.ndim, t->ndim);
    if (shape.ndim > CT_MAX_DIMS) return ct_error(CT_ERR_SHAPE, "expand: at most %d dimensions", CT_MAX_DIMS);
    int64_t out_shape[CT_MAX_DIMS], stride[CT_MAX_DIMS];
    int lead = shape.ndim - t->ndim;
    for (int i = shape.ndim - 1; i >= 0; i--) {
        int k = i - lead;
        int64_t want = shape.d[i];
        if (k < 0) {
            if (want < 0)
                return ct_error(CT_ERR_SHAPE, "expand: The expanded size of the tensor (%lld) isn't allowed in a "
                                              "leading, non-existing dimension %d", (long long)want, i);
            out_shape[i] = want;
            stride[i] = 0;
            continue;
        }
        int64_t have = t->shape[k];
        if (want == -1) want = have;
        if (have == want) {
            out_shape[i] = have;
            stride[i] = t->stride[k];
        } else if (have == 1 && want >= 0) {
            out_shape[i] = want;
            stride[i] = 0;
        } else {
            return ct_error(CT_ERR_SHAPE,
                            "expand: The expanded size of the tensor (%lld) must match the existing size (%lld) at "
                            "non-singleton dimension %d.  Target sizes: %s.  Tensor sizes: %s",
                            (long long)want, (long long)have, i, ct__shape_str(shape.d, shape.ndim),
                            ct__shape_str(t->shape, t->ndim));
        }
    }
    return make_view(t, out_shape, stride, shape.ndim, t->offset);
}

ct_tensor *ct__broadcast_to(const ct_tensor *t, ct_shape shape) { return ct_expand(t, shape); }

ct_tensor *ct__expand_as(const ct_tensor *t, const ct_tensor *other) {
    if (!CT__CHECK("expand_as", t, other)) return NULL;
    return ct_expand(t, ct_shape_of(other));
}

ct_tensor *ct__slice(const ct_tensor *t, int dim, int64_t start, int64_t end, int64_t step) {
    if (!CT__CHECK("slice", t)) return NULL;
    if (t->ndim == 0) return ct_error(CT_ERR_INDEX, "slice: cannot slice a 0-d tensor");
    int d = ct__wrap_dim("slice", dim, t->ndim);
    if (d < 0) return NULL;
    if (step <= 0) return ct_error(CT_ERR_ARG, "slice: slice step must be positive, got %lld", (long long)step);
    int64_t size = t->shape[d];
    if (start < 0) start += size;
    if (end != CT_END && end < 0) end += size;
    if (start < 0) start = 0;
    if (start > size) start = size;
    if (end < start) end = start;
    if (end > size) end = size;
    int64_t shape[CT_MAX_DIMS], stride[CT_MAX_DIMS];
    memcpy(shape, t->shape, sizeof shape);
    memcpy(stride, t->stride, sizeof stride);
    shape[d] = (end - start + step - 1) / step;
    stride[d] = t->stride[d] * step;
    return make_view(t, shape, stride, t->ndim, t->offset + start * t->stride[d]);
}

ct_tensor *ct__narrow(const ct_tensor *t, int dim, int64_t start, int64_t length) {
    if (!CT__CHECK("narrow", t)) return NULL;
    if (t->ndim == 0) return ct_error(CT_ERR_INDEX, "narrow() cannot be applied to a 0-dim tensor.");
    int d = ct__wrap_dim("narrow", dim, t->ndim);
    if (d < 0) return NULL;
    int64_t size = t->shape[d];
    if (start < -size || start > size)
        return ct_error(CT_ERR_INDEX, "narrow: start (%lld) is out of bounds for dimension %d of size %lld",
                        (long long)start, d, (long long)size);
    if (start < 0) start += size;
    if (length < 0 || start + length > size)
        return ct_error(CT_ERR_INDEX, "narrow: start (%lld) + length (%lld) exceeds dimension size (%lld).",
                        (long long)start, (long long)length, (long long)size);
    return ct_slice(t, d, start, start + length, 1);
}

ct_tensor *ct__select(const ct_tensor *t, int dim, int64_t index) {
    if (!CT__CHECK("select", t)) return NULL;
    if (t->ndim == 0) return ct_error(CT_ERR_INDEX, "select() cannot be applied to a 0-dim tensor.");
    int d = ct__wrap_dim("select", dim, t->ndim);
    if (d < 0) return NULL;
    int64_t size = t->shape[d];
    if (index < -size || index >= size)
        return ct_error(CT_ERR_INDEX, "select(): index %lld out of range for tensor of size %s at dimension %d",
                        (long long)index, ct__shape_str(t->shape, t->ndim), d);
    if (index < 0) index += size;
    int64_t shape[CT_MAX_DIMS], stride[CT_MAX_DIMS];
    for (int i = 0, j = 0; i < t->ndim; i++) {
        if (i == d) continue;
        shape[j] = t->shape[i];
        stride[j++] = t->stride[i];
    }
    return make_view(t, shape, stride, t->ndim - 1, t->offset + index * t->stride[d]);
}

ct_tensor *ct__squeeze(const ct_tensor *t) {
    if (!CT__CHECK("squeeze", t)) return NULL;
    int64_t shape[CT_MAX_DIMS], stride[CT_MAX_DIMS];
    int n = 0;
    for (int i = 0; i < t->ndim; i++) {
        if (t->shape[i] == 1) continue;
        shape[n] = t->shape[i];
        stride[n++] = t->stride[i];
    }
    return make_view(t, shape, stride, n, t->offset);
}

ct_tensor *ct__squeeze_dim(const ct_tensor *t, int dim) {
    if (!CT__CHECK("squeeze", t)) return NULL;
    int d = ct__wrap_dim("squeeze", dim, t->ndim);
    if (d < 0) return NULL;
    if (t->ndim == 0 || t->shape[d] != 1) return make_view(t, t->shape, t->stride, t->ndim, t->offset);
    return ct_select(t, d, 0);
}

ct_tensor *ct__unsqueeze(const ct_tensor *t, int dim) {
    if (!CT__CHECK("unsqueeze", t)) return NULL;
    if (t->ndim >= CT_MAX_DIMS) return ct_error(CT_ERR_SHAPE, "unsqueeze: at most %d dimensions", CT_MAX_DIMS);
    int d = ct__wrap_dim("unsqueeze", dim, t->ndim + 1);
    if (d < 0) return NULL;
    int64_t shape[CT_MAX_DIMS], stride[CT_MAX_DIMS];
    for (int i = 0, j = 0; i <= t->ndim; i++) {
        if (i == d) {
            shape[i] = 1;
            stride[i] = d < t->ndim ? t->shape[d] * t->stride[d] : 1;
            continue;
        }
        shape[i] = t->shape[j];
        stride[i] = t->stride[j++];
    }
    return make_view(t, shape, stride, t->ndim + 1, t->offset);
}

ct_tensor *ct__flatten3(const ct_tensor *t, int start_dim, int end_dim) {
    if (!CT__CHECK("flatten", t)) return NULL;
    int s = ct__wrap_dim("flatten", start_dim, t->ndim), e = s < 0 ? -1 : ct__wrap_dim("flatten", end_dim, t->ndim);
    if (e < 0) return NULL;
    if (s > e) return ct_error(CT_ERR_ARG, "flatten() has invalid args: start_dim cannot come after end_dim");
    if (t->ndim == 0) return ct_reshape(t, CT_SHAPE(1));
    ct_shape shape = {.ndim = t->ndim - (e - s)};
    for (int i = 0, j = 0; i < t->ndim; i++) {
        if (i > s && i <= e) {
            shape.d[j - 1] *= t->shape[i];
            continue;
        }
        shape.d[j++] = t->shape[i];
    }
    return ct_reshape(t, shape);
}

ct_tensor *ct__unflatten(const ct_tensor *t, int dim, ct_shape sizes) {
    if (!CT__CHECK("unflatten", t)) return NULL;
    int d = ct__wrap_dim("unflatten", dim, t->ndim);
    if (d < 0) return NULL;
    if (t->ndim == 0)
        return ct_error(CT_ERR_INDEX, "unflatten: Dimension specified as %d but tensor has no dimensions", dim);
    if (sizes.ndim == 0) return ct_error(CT_ERR_ARG, "unflatten: sizes must be non-empty");
    if (sizes.ndim > 0 && sizes.ndim <= CT_MAX_DIMS) { /* PyTorch's own wording for a product that does not fit */
        int64_t known = 1, n_infer = 0;
        for (int i = 0; i < sizes.ndim; i++) {
            if (sizes.d[i] == -1) n_infer++;
            else known *= sizes.d[i];
        }
        if (n_infer <= 1 && (known != 0 || t->shape[d] != 0) &&
            (n_infer ? known == 0 || t->shape[d] % known != 0 : known != t->shape[d]))
            return ct_error(CT_ERR_SHAPE,
                            "unflatten: Provided sizes %s don't multiply up to the size of dim %d (%lld) in the input "
                            "tensor",
                            ct__shape_str(sizes.d, sizes.ndim), d, (long long)t->shape[d]);
    }
    if (t->ndim - 1 + sizes.ndim > CT_MAX_DIMS) return ct_error(CT_ERR_SHAPE, "unflatten: at most %d dimensions", CT_MAX_DIMS);
    ct_tensor tmp = *t; /* infer -1 against the one dim being split */
    tmp.ndim = 1;
    tmp.shape[0] = t->shape[d];
    if (!infer_shape("unflatten", &tmp, &sizes)) return NULL;
    ct_shape shape = {.ndim = 0};
    for (int i = 0; i < t->ndim; i++) {
        if (i == d)
            for (int k = 0; k < sizes.ndim; k++) shape.d[shape.ndim++] = sizes.d[k];
        else
            shape.d[shape.ndim++] = t->shape[i];
    }
    return ct_view(t, shape);
}

ct_tensor *ct__ravel(const ct_tensor *t) { return ct_reshape(t, CT_SHAPE(-1)); }

ct_tensor *ct__unfold(const ct_tensor *t, int dim, int64_t size, int64_t step) {
    if (!CT__CHECK("unfold", t)) return NULL;
    int d = ct__wrap_dim("unfold", dim, t->ndim);
    if (d < 0) return NULL;
    int64_t len = t->ndim ? t->shape[d] : 1;
    if (size < 0 || size > len)
        return ct_error(CT_ERR_ARG, "unfold: maximum size for tensor at dimension %d is %lld but size is %lld", d,
                        (long long)len, (long long)size);
    if (step <= 0) return ct_error(CT_ERR_ARG, "unfold: step is %lld but must be > 0", (long long)step);
    if (t->ndim + 1 > CT_MAX_DIMS) return ct_error(CT_ERR_SHAPE, "unfold: at most %d dimensions", CT_MAX_DIMS);
    if (t->ndim == 0) /* a 0-d tensor unfolds into a vector of `size` (0 or 1) */
        return make_view(t, (const int64_t[]){size}, (const int64_t[]){1}, 1, t->offset);
    int64_t shape[CT_MAX_DIMS], stride[CT_MAX_DIMS];
    memcpy(shape, t->shape, sizeof shape);
    memcpy(stride, t->stride, sizeof stride);
    int nd = t->ndim;
    shape[d] = (len - size) / step + 1;
    stride[d] = t->stride[d] * step;
    shape[nd] = size;
    stride[nd] = t->stride[d];
    return make_view(t, shape, stride, nd + 1, t->offset);
}

ct_tensor *ct__diagonal(const ct_tensor *t, int64_t offset, int dim1, int dim2) {
    if (!CT__CHECK("diagonal", t)) return NULL;
    int a = ct__wrap_dim("diagonal", dim1, t->ndim), b = a < 0 ? -1 : ct__wrap_dim("diagonal", dim2, t->ndim);
    if (b < 0) return NULL;
    if (t->ndim < 2) return ct_error(CT_ERR_SHAPE, "diagonal: expected a tensor with at least 2 dimensions, got %d", t->ndim);
    if (a == b) return ct_error(CT_ERR_ARG, "diagonal dimensions cannot be identical %d, %d", dim1, dim2);
    int64_t diag_size, start = t->offset;
    if (offset >= 0) {
        diag_size = t->shape[b] - offset < t->shape[a] ? t->shape[b] - offset : t->shape[a];
        if (diag_size > 0) start += offset * t->stride[b];
    } else {
        diag_size = t->shape[a] + offset < t->shape[b] ? t->shape[a] + offset : t->shape[b];
        if (diag_size > 0) start -= offset * t->stride[a];
    }
    if (diag_size < 0) diag_size = 0;
    int64_t shape[CT_MAX_DIMS], stride[CT_MAX_DIMS];
    int n = 0;
    for (int i = 0; i < t->ndim; i++) {
        if (i == a || i == b) continue;
        shape[n] = t->shape[i];
        stride[n++] = t->stride[i];
    }
    shape[n] = diag_size;
    stride[n++] = t->stride[a] + t->stride[b];
    return make_view(t, shape, stride, n, start);
}

ct_tensor *ct__as_strided(const ct_tensor *t, ct_shape shape, ct_shape stride, int64_t storage_offset) {
    if (!CT__CHECK("as_strided", t)) return NULL;
    if (!ct__check_shape("as_strided", &shape)) return NULL;
    if (stride.ndim != shape.ndim)
        return ct_error(CT_ERR_ARG, "as_strided: mismatch in length of strides and shape (%d vs %d)", stride.ndim,
                        shape.ndim);
    if (storage_offset < 0)
        return ct_error(CT_ERR_ARG, "as_strided: Tensor: invalid storage offset %lld", (long long)storage_offset);
    int64_t max = storage_offset;
    bool empty = false;
    for (int i = 0; i < shape.ndim; i++) {
        if (stride.d[i] < 0) return ct_error(CT_ERR_ARG, "as_strided: Negative strides are not supported at the moment, got strides: %s", ct__shape_str(stride.d, stride.ndim));
        if (shape.d[i] == 0) empty = true;
        max += (shape.d[i] - 1) * stride.d[i];
    }
    int64_t capacity = (int64_t)(t->storage->nbytes / ct_dtype_size(t->dtype));
    if (!empty && max >= capacity)
        return ct_error(CT_ERR_INDEX,
                        "as_strided: setStorage: sizes %s, strides %s, storage offset %lld, and itemsize %zu requiring "
                        "a storage size of %lld are out of bounds for storage of size %zu",
                        ct__shape_str(shape.d, shape.ndim), ct__shape_str(stride.d, stride.ndim),
                        (long long)storage_offset, ct_dtype_size(t->dtype),
                        (long long)((max + 1) * (int64_t)ct_dtype_size(t->dtype)), t->storage->nbytes);
    return make_view(t, shape.d, stride.d, shape.ndim, storage_offset);
}

ct_tensor *ct__alias(const ct_tensor *t) {
    if (!CT__CHECK("alias", t)) return NULL;
    return make_view(t, t->shape, t->stride, t->ndim, t->offset);
}
