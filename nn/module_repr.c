/* PyTorch's module repr:
 *     Name(extra)                                  no children, one line of extra_repr
 *     Name(\n  extra\n  (child): <child repr>\n)   otherwise, children's lines indented by 2 */
#include "module_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Writes s with every line after the first indented by `indent` spaces (PyTorch's _addindent). */
static void put_indented(FILE *f, const char *s, int indent) {
    for (; *s; s++) {
        fputc(*s, f);
        if (*s == '\n') fprintf(f, "%*s", indent, "");
    }
}

static void write_module(FILE *f, const ct_module *m) {
    char extra[512] = "";
    if (m->vtable->extra_repr) m->vtable->extra_repr(m, extra, sizeof extra);
    fprintf(f, "%s(", m->vtable->name);
    if (!m->n_children) {
        if (strchr(extra, '\n')) {
            fputs("\n  ", f);
            put_indented(f, extra, 2);
            fputc('\n', f);
        } else {
            fputs(extra, f);
        }
        fputc(')', f);
        return;
    }
    if (*extra) {
        fputs("\n  ", f);
        put_indented(f, extra, 2);
    }
    for (int i = 0; i < m->n_children; i++) {
        char *child = NULL;
        size_t len = 0;
        FILE *cf = open_memstream(&child, &len);
        if (!cf) continue;
        write_module(cf, m->children[i].module);
        fclose(cf);
        fprintf(f, "\n  (%s): ", m->children[i].name);
        put_indented(f, child, 2);
        free(child);
    }
    fputs("\n)", f);
}

const char *ct_module_str(const ct_module *m) {
    if (!m) return ct_ok() ? ct_error(CT_ERR_NULL, "module_str: module is NULL (did an earlier call fail?)") : NULL;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) return ct_error(CT_ERR_OOM, "CPU out of memory printing a module");
    write_module(f, m);
    fclose(f);
    char *out = ct_scope_alloc(len + 1);
    if (out) memcpy(out, text, len + 1);
    free(text);
    return out;
}
