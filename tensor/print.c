/* PyTorch-style printing, following torch/_tensor_str.py (1.13) with its default print options:
 * precision 4, linewidth 80, threshold 1000 elements, 3 edge items. One formatter decides, from the
 * visible elements only, between integer-valued ("1."), fixed ("1.5000") and scientific
 * ("1.0000e-05") notation and the common column width; rows wrap at the line width. */
#include "tensor_impl.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define PRECISION 4
#define LINEWIDTH 80
#define THRESHOLD 1000
#define EDGEITEMS 3

/* A growable string; `failed` latches allocation failure. */
typedef struct strbuf {
    char *s;
    size_t len, cap;
    bool failed;
} strbuf;

static void sb_append(strbuf *b, const char *text, size_t n) {
    if (b->failed) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1) cap *= 2;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->failed = true;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
    memcpy(b->s + b->len, text, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void sb_puts(strbuf *b, const char *text) { sb_append(b, text, strlen(text)); }
static void sb_spaces(strbuf *b, int n) {
    for (int i = 0; i < n; i++) sb_append(b, " ", 1);
}

/* One element, read exactly: integers as int64 (beyond 2^53 too), floats as double (16-bit floats
 * widened through float, as PyTorch prints them after .float()). */
typedef struct elem {
    double f;
    int64_t i;
} elem;

typedef struct printer {
    const ct_tensor *t; /* on the CPU */
    bool floating, is_bool, summarize;
    /* the formatter */
    bool int_mode, sci_mode;
    int width;
} printer;

static elem load(const printer *p, int64_t offset) {
    const char *ptr = (const char *)p->t->storage->data + offset * (int64_t)ct_dtype_size(p->t->dtype);
    elem e = {0, 0};
    switch (p->t->dtype) {
    case CT_BOOL: e.i = *(const bool *)ptr; break;
    case CT_U8: e.i = *(const uint8_t *)ptr; break;
    case CT_I32: e.i = *(const int32_t *)ptr; break;
    case CT_I64: e.i = *(const int64_t *)ptr; break;
    default: e.f = ct__load_f64(ptr, p->t->dtype); break;
    }
    return e;
}

/* Calls fn on each visible element (all, or the edge items of every dim when summarizing), in
 * logical order. */
typedef void (*visit_fn)(printer *p, elem e, void *ctx);
static void visit(printer *p, int dim, int64_t offset, visit_fn fn, void *ctx) {
    const ct_tensor *t = p->t;
    if (dim == t->ndim) {
        fn(p, load(p, offset), ctx);
        return;
    }
    int64_t n = t->shape[dim];
    bool cut = p->summarize && n > 2 * EDGEITEMS;
    for (int64_t i = 0; i < n; i++) {
        if (cut && i == EDGEITEMS) i = n - EDGEITEMS;
        visit(p, dim + 1, offset + i * t->stride[dim], fn, ctx);
    }
}

static int fmt(char *buf, size_t cap, const char *f, ...) __attribute__((format(printf, 3, 4)));
static int fmt(char *buf, size_t cap, const char *f, ...) {
    va_list ap;
    va_start(ap, f);
    int n = vsnprintf(buf, cap, f, ap);
    va_end(ap);
    return n;
}

/* Python's "{}".format for a bool or integer element. */
static int format_int(const printer *p, elem e, char *buf, size_t cap) {
    if (p->is_bool) return fmt(buf, cap, "%s", e.i ? "True" : "False");
    return fmt(buf, cap, "%lld", (long long)e.i);
}

typedef struct scan {
    int64_t count; /* nonzero finite values */
    double min_abs, max_abs;
    bool all_integral;
} scan;

static void scan_value(printer *p, elem e, void *ctx) {
    scan *s = ctx;
    char buf[64];
    if (!p->floating) {
        int n = format_int(p, e, buf, sizeof buf);
        if (n > p->width) p->width = n;
        return;
    }
    double v = e.f, a = fabs(v);
    if (!isfinite(v) || v == 0) return;
    if (s->count == 0 || a < s->min_abs) s->min_abs = a;
    if (s->count == 0 || a > s->max_abs) s->max_abs = a;
    if (v != ceil(v)) s->all_integral = false;
    s->count++;
}

typedef enum { W_SCI, W_INT, W_FIXED } width_kind;
static void widen(printer *p, elem e, void *ctx) {
    width_kind kind = *(width_kind *)ctx;
    double v = e.f;
    if (!isfinite(v) || v == 0) return;
    char buf[512];
    int n = kind == W_SCI ? fmt(buf, sizeof buf, "%.*e", PRECISION, v)
            : kind == W_INT ? fmt(buf, sizeof buf, "%.0f", v) + 1
                            : fmt(buf, sizeof buf, "%.*f", PRECISION, v);
    if (n > p->width) p->width = n;
}

/* torch._tensor_str._Formatter.__init__ over the visible elements. */
static void build_formatter(printer *p) {
    p->int_mode = true;
    p->sci_mode = false;
    p->width = 1;
    scan s = {.all_integral = true};
    visit(p, 0, p->t->offset, scan_value, &s);
    if (!p->floating || s.count == 0) return;
    width_kind kind;
    if (s.all_integral) {
        p->sci_mode = s.max_abs / s.min_abs > 1000. || s.max_abs > 1.e8;
        kind = p->sci_mode ? W_SCI : W_INT;
    } else {
        p->int_mode = false;
        p->sci_mode = s.max_abs / s.min_abs > 1000. || s.max_abs > 1.e8 || s.min_abs < 1.e-4;
        kind = p->sci_mode ? W_SCI : W_FIXED;
    }
    visit(p, 0, p->t->offset, widen, &kind);
}

/* _Formatter.format: the element right-aligned to the common width. */
static void format_elem(const printer *p, elem e, strbuf *b) {
    char buf[512];
    int n;
    if (!p->floating) {
        n = format_int(p, e, buf, sizeof buf);
    } else if (isnan(e.f)) {
        n = fmt(buf, sizeof buf, "nan"); /* never "-nan" */
    } else if (isinf(e.f)) {
        n = fmt(buf, sizeof buf, "%sinf", e.f < 0 ? "-" : "");
    } else if (p->sci_mode) {
        n = fmt(buf, sizeof buf, "%.*e", PRECISION, e.f);
    } else if (p->int_mode) {
        n = fmt(buf, sizeof buf, "%.0f.", e.f);
    } else {
        n = fmt(buf, sizeof buf, "%.*f", PRECISION, e.f);
    }
    if (n > (int)sizeof buf - 1) n = (int)sizeof buf - 1;
    sb_spaces(b, p->width - n);
    sb_append(b, buf, (size_t)n);
}

/* _vector_str: elements (and " ..." when summarized) packed into lines of the line width. */
static void vector_str(const printer *p, int64_t offset, int indent, strbuf *b) {
    const ct_tensor *t = p->t;
    int dim = t->ndim - 1;
    int64_t n = t->shape[dim];
    int per_line = (LINEWIDTH - indent) / (p->width + 2);
    if (per_line < 1) per_line = 1;
    bool cut = p->summarize && n > 2 * EDGEITEMS;
    int64_t items = cut ? 2 * EDGEITEMS + 1 : n;
    sb_puts(b, "[");
    for (int64_t k = 0; k < items; k++) {
        if (k > 0) {
            if (k % per_line == 0) {
                sb_puts(b, ",\n");
                sb_spaces(b, indent + 1);
            } else {
                sb_puts(b, ", ");
            }
        }
        if (cut && k == EDGEITEMS) {
            sb_puts(b, " ...");
            continue;
        }
        int64_t i = cut && k > EDGEITEMS ? n - (items - k) : k;
        format_elem(p, load(p, offset + i * t->stride[dim]), b);
    }
    sb_puts(b, "]");
}

/* _tensor_str_with_formatter for the sub-tensor at `dim` starting at element `offset`. */
static void tensor_str(const printer *p, int dim, int64_t offset, int indent, strbuf *b) {
    const ct_tensor *t = p->t;
    int rest = t->ndim - dim;
    if (rest == 0) {
        format_elem(p, load(p, offset), b);
        return;
    }
    if (rest == 1) {
        vector_str(p, offset, indent, b);
        return;
    }
    int64_t n = t->shape[dim];
    bool cut = p->summarize && n > 2 * EDGEITEMS;
    sb_puts(b, "[");
    for (int64_t i = 0; i < n; i++) {
        if (i > 0) {
            sb_puts(b, ",");
            for (int k = 0; k < rest - 1; k++) sb_puts(b, "\n");
            sb_spaces(b, indent + 1);
        }
        if (cut && i == EDGEITEMS) {
            sb_puts(b, "...,");
            for (int k = 0; k < rest - 1; k++) sb_puts(b, "\n");
            sb_spaces(b, indent + 1);
            i = n - EDGEITEMS;
        }
        tensor_str(p, dim + 1, offset + i * t->stride[dim], indent + 1, b);
    }
    sb_puts(b, "]");
}

/* _add_suffixes: ", suffix" on the last line while it fits in the line width, else on a new line.
 * last_line copies PyTorch's len(s) - s.rfind('\n') + 1 (rfind is -1 without a newline). */
static void format_suffixes(strbuf *b, const char *const *suffixes, int n, int indent) {
    const char *nl = b->failed || !b->s ? NULL : strrchr(b->s, '\n');
    size_t last_line = nl ? (size_t)(b->s + b->len - nl) + 1 : b->len + 2;
    for (int k = 0; k < n; k++) {
        size_t len = strlen(suffixes[k]);
        if (last_line + len + 2 > LINEWIDTH) {
            sb_puts(b, ",\n");
            sb_spaces(b, indent);
            last_line = (size_t)indent + len;
        } else {
            sb_puts(b, ", ");
            last_line += len + 2;
        }
        sb_puts(b, suffixes[k]);
    }
    sb_puts(b, ")");
}

/* The full repr of a CPU tensor t shown as being on `device`. */
static void repr(const ct_tensor *t, ct_device device, strbuf *b) {
    static const int indent = 7; /* strlen("tensor(") */
    char device_s[64], size_s[CT_MAX_DIMS * 24 + 16], dtype_s[64];
    const char *suffixes[3];
    int nsuffix = 0;
    sb_puts(b, "tensor(");
    if (device.type != CT_DEVICE_CPU) {
        fmt(device_s, sizeof device_s, "device='%s'", ct_device_name(device));
        suffixes[nsuffix++] = device_s;
    }
    fmt(dtype_s, sizeof dtype_s, "dtype=torch.%s", ct_dtype_name(t->dtype));
    int64_t numel = ct__numel(t->shape, t->ndim);
    if (numel == 0) {
        if (t->ndim != 1) { /* Python's tuple str of the shape */
            size_t at = (size_t)fmt(size_s, sizeof size_s, "size=(");
            for (int d = 0; d < t->ndim; d++)
                at += (size_t)fmt(size_s + at, sizeof size_s - at, d ? ", %lld" : "%lld", (long long)t->shape[d]);
            fmt(size_s + at, sizeof size_s - at, t->ndim == 1 ? ",)" : ")");
            suffixes[nsuffix++] = size_s;
        }
        if (t->dtype != ct_get_default_dtype()) suffixes[nsuffix++] = dtype_s;
        sb_puts(b, "[]");
    } else {
        if (t->dtype != ct_get_default_dtype() && t->dtype != CT_I64 && t->dtype != CT_BOOL)
            suffixes[nsuffix++] = dtype_s;
        printer p = {
            .t = t,
            .floating = ct_dtype_is_floating(t->dtype),
            .is_bool = t->dtype == CT_BOOL,
            .summarize = numel > THRESHOLD,
        };
        build_formatter(&p);
        tensor_str(&p, 0, t->offset, indent, b);
    }
    format_suffixes(b, suffixes, nsuffix, indent);
}

const char *ct_str(const ct_tensor *t) {
    if (!CT__CHECK("str", t)) return NULL;
    strbuf b = {0};
    bool ok = true;
    CT_SCOPE {
        const ct_tensor *host = ct__is_cpu(t) ? t : ct__to(t, CT_CPU);
        if (!host) {
            ok = false;
            break;
        }
        repr(host, ct__device(t), &b);
    }
    char *out = NULL;
    if (ok && !b.failed) {
        out = ct_scope_alloc(b.len + 1);
        if (out) memcpy(out, b.s, b.len + 1);
    } else if (ok) {
        ct_error(CT_ERR_OOM, "str: out of memory");
    }
    free(b.s);
    return out;
}

void ct_fprint(FILE *f, const ct_tensor *t) {
    CT_SCOPE {
        const char *s = ct_str(t);
        if (s) fprintf(f, "%s\n", s);
    }
}

void ct_print(const ct_tensor *t) { ct_fprint(stdout, t); }
