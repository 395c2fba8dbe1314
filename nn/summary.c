/* The model summary (DESIGN §6): one forward pass under no grad with a forward hook on every leaf
 * module records each layer's output shape, its own parameter count, FLOPs and activation memory.
 *
 * Counting as the deployment literature does: a multiply-add is 2 FLOPs. An output element of a
 * Linear or convolution layer is a dot product of fan_in = weight elements per output channel
 * terms: fan_in multiplies and fan_in - 1 adds, plus one add for the bias, so
 *     FLOPs = outputs x 2 fan_in        (with bias; conv: 2 H W M C K K)
 *     FLOPs = outputs x (2 fan_in - 1)  (without)
 * A transposed convolution scatters every input element through the kernel instead: inputs x
 * 2 x (weight elements per input channel) multiply-adds, plus one add per output for the bias.
 * Other layers (activations, pooling, normalization) are counted as 0: their cost is memory,
 * which the activation column shows (output elements x bytes per element). */
#include "module_impl.h"

#include <stdio.h>
#include <string.h>

typedef struct layer_row {
    const ct_module *module;
    const char *name, *type;
    ct_shape out_shape;
    int64_t params, flops, activation_bytes;
} layer_row;

typedef struct summary_run {
    layer_row *rows;
    int n, cap;
} summary_run;

static int64_t own_params(const ct_module *m) {
    int64_t n = 0;
    for (int i = 0; i < m->n_params; i++)
        if (m->params[i].tensor) n += ct_numel(m->params[i].tensor);
    return n;
}

static int64_t layer_flops(const ct_module *m, const ct_tensor *in, const ct_tensor *out) {
    const char *type = m->vtable->name;
    ct_member_tensor *w = NULL;
    bool bias = false;
    for (int i = 0; i < m->n_params; i++) {
        if (!strcmp(m->params[i].name, "weight")) w = &m->params[i];
        if (!strcmp(m->params[i].name, "bias")) bias = m->params[i].tensor != NULL;
    }
    if (!w || !w->tensor) return 0;
    int64_t weight_numel = ct_numel(w->tensor), channels = ct_size(w->tensor, 0);
    if (!strcmp(type, "Linear") || !strncmp(type, "Conv", 4)) {
        if (!strncmp(type, "ConvTranspose", 13)) {
            int64_t per_input = weight_numel / channels;
            return ct_numel(in) * 2 * per_input + (bias ? ct_numel(out) : 0);
        }
        int64_t fan_in = weight_numel / channels;
        return ct_numel(out) * (2 * fan_in - (bias ? 0 : 1));
    }
    return 0;
}

static ct_tensor_list record_layer(ct_module *m, ct_tensor_list inputs, ct_tensor_list outputs, void *user) {
    summary_run *run = user;
    if (run->n == run->cap) return CT_NO_TENSORS; /* sized for every module up front */
    const ct_tensor *out = outputs.items[0];
    layer_row *r = &run->rows[run->n++];
    r->module = m;
    r->type = m->vtable->name;
    r->out_shape = ct_shape_of(out);
    r->params = own_params(m);
    r->flops = inputs.n ? layer_flops(m, inputs.items[0], out) : 0;
    r->activation_bytes = 0;
    for (int i = 0; i < outputs.n; i++)
        if (outputs.items[i]) r->activation_bytes += ct_numel(outputs.items[i]) * (int64_t)ct_dtype_size(ct_dtype_of(outputs.items[i]));
    return CT_NO_TENSORS;
}

static void format_count(char *buf, size_t size, int64_t v) {
    if (v >= 1000000000) snprintf(buf, size, "%.2f G", (double)v / 1e9);
    else if (v >= 1000000) snprintf(buf, size, "%.2f M", (double)v / 1e6);
    else if (v >= 1000) snprintf(buf, size, "%.2f K", (double)v / 1e3);
    else snprintf(buf, size, "%lld", (long long)v);
}

ct_model_stats ct_model_summary_opt(ct_module *m, ct_tensor *input, ct_summary_opts opts) {
    ct_model_stats stats = {0};
    if (!m || !input) {
        if (ct_ok()) ct_error(CT_ERR_NULL, "model_summary: %s is NULL (did an earlier call fail?)", m ? "input" : "module");
        return stats;
    }
    CT_SCOPE {
        ct_named_modules all = ct_named_modules_of(m);
        summary_run run = {.rows = ct_scope_alloc(sizeof(layer_row) * (size_t)(all.n ? all.n : 1)), .cap = all.n};
        ct_hook_handle **handles = ct_scope_alloc(sizeof *handles * (size_t)(all.n ? all.n : 1));
        int leaves = 0;
        for (int i = 0; run.rows && handles && i < all.n; i++) {
            if (all.items[i].module->n_children) continue;
            handles[leaves++] = ct_register_forward_hook(all.items[i].module, record_layer, &run);
        }
        ct_tensor *out = NULL;
        CT_NO_GRAD out = ct_forward(m, input);
        for (int i = 0; i < leaves; i++) ct_hook_remove(handles[i]);
        if (!out) break;
        /* rows come in call order; each is named by its module's dotted name */
        for (int r = 0; r < run.n; r++) {
            run.rows[r].name = "";
            for (int i = 0; i < all.n; i++)
                if (all.items[i].module == run.rows[r].module) run.rows[r].name = all.items[i].name;
        }
        FILE *f = opts.out ? opts.out : stdout;
        fprintf(f, "%-24s %-16s %-20s %12s %12s %12s\n", "layer", "type", "output shape", "params", "FLOPs", "activations");
        for (int r = 0; r < run.n; r++) {
            layer_row *row = &run.rows[r];
            char p[32], fl[32], act[32];
            format_count(p, sizeof p, row->params);
            format_count(fl, sizeof fl, row->flops);
            format_count(act, sizeof act, row->activation_bytes);
            fprintf(f, "%-24s %-16s %-20s %12s %12s %11sB\n", row->name, row->type, ct__shape_str(row->out_shape.d, row->out_shape.ndim), p,
                    fl, act);
            stats.flops += row->flops;
            stats.activation_bytes += row->activation_bytes;
        }
        stats.params = ct_num_parameters(m);
        char p[32], fl[32], act[32];
        format_count(p, sizeof p, stats.params);
        format_count(fl, sizeof fl, stats.flops);
        format_count(act, sizeof act, stats.activation_bytes);
        fprintf(f, "total: %s parameters, %s FLOPs per forward, %sB of activations\n", p, fl, act);
    }
    return stats;
}
