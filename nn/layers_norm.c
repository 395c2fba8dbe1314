/* Normalization layers, Dropout and Embedding as modules over their functional forms, with
 * PyTorch's parameters, buffers, defaults and repr. */
#include "module_impl.h"

#include <stdio.h>
#include <string.h>

/* ---- BatchNorm1d / BatchNorm2d ------------------------------------------------------------------ */

typedef struct batch_norm_state {
    int64_t num_features;
    double eps, momentum;
    bool affine, track_running_stats;
    int dims_lo, dims_hi; /* accepted input ranks */
    ct_tensor *weight, *bias, *running_mean, *running_var, *num_batches_tracked;
} batch_norm_state;

static ct_tensor *batch_norm_forward(ct_module *m, ct_tensor *x) {
    batch_norm_state *s = m->state;
    if (!x) return NULL;
    int nd = ct_ndim(x);
    if (nd < s->dims_lo || nd > s->dims_hi) {
        if (s->dims_lo == s->dims_hi) return ct_error(CT_ERR_SHAPE, "%s: expected %dD input (got %dD input)", m->vtable->name, s->dims_lo, nd);
        return ct_error(CT_ERR_SHAPE, "%s: expected %dD or %dD input (got %dD input)", m->vtable->name, s->dims_lo, s->dims_hi, nd);
    }
    bool use_batch_stats = m->training || !s->track_running_stats;
    if (m->training && s->track_running_stats) CT_NO_GRAD ct_add_scalar_(s->num_batches_tracked, 1);
    return ct_batch_norm(x, use_batch_stats && !m->training ? NULL : s->running_mean, use_batch_stats && !m->training ? NULL : s->running_var,
                         s->weight, s->bias, use_batch_stats, .momentum = s->momentum, .eps = s->eps);
}

static void batch_norm_repr(const ct_module *m, char *buf, size_t size) {
    const batch_norm_state *s = m->state;
    snprintf(buf, size, "%lld, eps=%g, momentum=%g, affine=%s, track_running_stats=%s", (long long)s->num_features, s->eps,
             s->momentum, s->affine ? "True" : "False", s->track_running_stats ? "True" : "False");
}

static const ct_module_vtable batch_norm1d_vtable = {.name = "BatchNorm1d", .forward = batch_norm_forward, .extra_repr = batch_norm_repr};
static const ct_module_vtable batch_norm2d_vtable = {.name = "BatchNorm2d", .forward = batch_norm_forward, .extra_repr = batch_norm_repr};

static ct_module *batch_norm(const ct_module_vtable *vt, int lo, int hi, int64_t num_features, ct_batch_norm_module_opts o) {
    if (num_features <= 0) return ct_error(CT_ERR_ARG, "%s: num_features must be positive, got %lld", vt->name, (long long)num_features);
    ct_module *m = ct_module_new(vt, sizeof(batch_norm_state));
    if (!m) return NULL;
    batch_norm_state *s = m->state;
    *s = (batch_norm_state){num_features, o.eps, o.momentum, o.affine, o.track_running_stats, lo, hi, NULL, NULL, NULL, NULL, NULL};
    if (o.affine) {
        s->weight = ct_register_parameter(m, "weight", ct_ones(CT_SHAPE(num_features)));
        s->bias = ct_register_parameter(m, "bias", ct_zeros(CT_SHAPE(num_features)));
    }
    if (o.track_running_stats) {
        s->running_mean = ct_register_buffer(m, "running_mean", ct_zeros(CT_SHAPE(num_features)), true);
        s->running_var = ct_register_buffer(m, "running_var", ct_ones(CT_SHAPE(num_features)), true);
        s->num_batches_tracked = ct_register_buffer(m, "num_batches_tracked", ct_zeros(CT_SHAPE(), .dtype = CT_I64), true);
    }
    return ct_ok() ? m : NULL;
}

ct_module *ct_batch_norm1d_opt(int64_t num_features, ct_batch_norm_module_opts opts) {
    return batch_norm(&batch_norm1d_vtable, 2, 3, num_features, opts);
}
ct_module *ct_batch_norm2d_opt(int64_t num_features, ct_batch_norm_module_opts opts) {
    return batch_norm(&batch_norm2d_vtable, 4, 4, num_features, opts);
}

/* ---- LayerNorm, GroupNorm ------------------------------------------------------------------------ */

typedef struct layer_norm_state {
    ct_shape normalized_shape;
    double eps;
    bool affine;
    ct_tensor *weight, *bias;
} layer_norm_state;

static ct_tensor *layer_norm_forward(ct_module *m, ct_tensor *x) {
    const layer_norm_state *s = m->state;
    return ct_layer_norm(x, s->normalized_shape, s->weight, s->bias, .eps = s->eps);
}

static void layer_norm_repr(const ct_module *m, char *buf, size_t size) {
    const layer_norm_state *s = m->state;
    int k = snprintf(buf, size, "(");
    for (int i = 0; i < s->normalized_shape.ndim && k < (int)size; i++)
        k += snprintf(buf + k, size - (size_t)k, "%lld,%s", (long long)s->normalized_shape.d[i], i + 1 < s->normalized_shape.ndim ? " " : "");
    if (k < (int)size) snprintf(buf + k, size - (size_t)k, "), eps=%g, elementwise_affine=%s", s->eps, s->affine ? "True" : "False");
}

static const ct_module_vtable layer_norm_vtable = {.name = "LayerNorm", .forward = layer_norm_forward, .extra_repr = layer_norm_repr};

ct_module *ct_layer_norm_module_opt(ct_shape normalized_shape, ct_layer_norm_module_opts o) {
    ct_module *m = ct_module_new(&layer_norm_vtable, sizeof(layer_norm_state));
    if (!m) return NULL;
    layer_norm_state *s = m->state;
    *s = (layer_norm_state){normalized_shape, o.eps, o.elementwise_affine, NULL, NULL};
    if (o.elementwise_affine) {
        s->weight = ct_register_parameter(m, "weight", ct_ones(normalized_shape));
        if (o.bias) s->bias = ct_register_parameter(m, "bias", ct_zeros(normalized_shape));
    }
    return ct_ok() ? m : NULL;
}

typedef struct group_norm_state {
    int64_t num_groups, num_channels;
    double eps;
    bool affine;
    ct_tensor *weight, *bias;
} group_norm_state;

static ct_tensor *group_norm_forward(ct_module *m, ct_tensor *x) {
    const group_norm_state *s = m->state;
    return ct_group_norm(x, s->num_groups, s->weight, s->bias, .eps = s->eps);
}

static void group_norm_repr(const ct_module *m, char *buf, size_t size) {
    const group_norm_state *s = m->state;
    snprintf(buf, size, "%lld, %lld, eps=%g, affine=%s", (long long)s->num_groups, (long long)s->num_channels, s->eps,
             s->affine ? "True" : "False");
}

static const ct_module_vtable group_norm_vtable = {.name = "GroupNorm", .forward = group_norm_forward, .extra_repr = group_norm_repr};

ct_module *ct_group_norm_module_opt(int64_t num_groups, int64_t num_channels, ct_group_norm_module_opts o) {
    if (num_groups <= 0 || num_channels % num_groups)
        return ct_error(CT_ERR_ARG, "GroupNorm: num_channels must be divisible by num_groups (got %lld and %lld)", (long long)num_channels,
                        (long long)num_groups);
    ct_module *m = ct_module_new(&group_norm_vtable, sizeof(group_norm_state));
    if (!m) return NULL;
    group_norm_state *s = m->state;
    *s = (group_norm_state){num_groups, num_channels, o.eps, o.affine, NULL, NULL};
    if (o.affine) {
        s->weight = ct_register_parameter(m, "weight", ct_ones(CT_SHAPE(num_channels)));
        s->bias = ct_register_parameter(m, "bias", ct_zeros(CT_SHAPE(num_channels)));
    }
    return ct_ok() ? m : NULL;
}

/* ---- Dropout -------------------------------------------------------------------------------------- */

static ct_tensor *dropout_forward(ct_module *m, ct_tensor *x) {
    return ct_dropout(x, .p = *(double *)m->state, .training = m->training);
}

static void dropout_repr(const ct_module *m, char *buf, size_t size) { snprintf(buf, size, "p=%g, inplace=False", *(double *)m->state); }

static const ct_module_vtable dropout_vtable = {.name = "Dropout", .forward = dropout_forward, .extra_repr = dropout_repr};

ct_module *ct_dropout_module(double p) {
    if (p < 0 || p > 1) return ct_error(CT_ERR_ARG, "Dropout: dropout probability has to be between 0 and 1, but got %g", p);
    ct_module *m = ct_module_new(&dropout_vtable, sizeof(double));
    if (m) *(double *)m->state = p;
    return m;
}

/* ---- Embedding ------------------------------------------------------------------------------------- */

typedef struct embedding_state {
    int64_t num_embeddings, embedding_dim, padding_idx; /* padding_idx -1: none */
    ct_tensor *weight;
} embedding_state;

static ct_tensor *embedding_forward(ct_module *m, ct_tensor *indices) {
    const embedding_state *s = m->state;
    return ct_embedding(indices, s->weight, .padding_idx = s->padding_idx);
}

static void embedding_repr(const ct_module *m, char *buf, size_t size) {
    const embedding_state *s = m->state;
    if (s->padding_idx >= 0)
        snprintf(buf, size, "%lld, %lld, padding_idx=%lld", (long long)s->num_embeddings, (long long)s->embedding_dim, (long long)s->padding_idx);
    else
        snprintf(buf, size, "%lld, %lld", (long long)s->num_embeddings, (long long)s->embedding_dim);
}

static const ct_module_vtable embedding_vtable = {.name = "Embedding", .forward = embedding_forward, .extra_repr = embedding_repr};

/* PyTorch: weight ~ N(0, 1), the padding row zeroed; a negative padding_idx counts from the end. */
ct_module *ct_embedding_module_opt(int64_t num_embeddings, int64_t embedding_dim, ct_embedding_module_opts o) {
    int64_t pad = o.padding_idx;
    if (pad != CT_NO_PADDING_IDX) {
        if (pad >= num_embeddings || pad < -num_embeddings)
            return ct_error(CT_ERR_ARG, "Embedding: Padding_idx must be within num_embeddings");
        if (pad < 0) pad += num_embeddings;
    } else {
        pad = -1;
    }
    ct_module *m = ct_module_new(&embedding_vtable, sizeof(embedding_state));
    if (!m) return NULL;
    embedding_state *s = m->state;
    *s = (embedding_state){num_embeddings, embedding_dim, pad, NULL};
    ct_tensor *w = ct_normal_(ct_empty(CT_SHAPE(num_embeddings, embedding_dim)), 0, 1);
    if (w && pad >= 0) ct_fill_(ct_select(w, 0, pad), 0);
    s->weight = ct_register_parameter(m, "weight", w);
    return s->weight ? m : NULL;
}
