/* Anomaly mode's record of where a forward op was called: the call stack as text, taken when the
 * node is recorded and printed when its backward produces NaN or Inf. Program symbols appear
 * when the program is linked with -rdynamic; addresses otherwise (addr2line resolves them). */
#include "autograd_impl.h"

#include <execinfo.h>
#include <stdlib.h>
#include <string.h>

#define TRACE_FRAMES 24

char *ct__anomaly_capture(void) {
    void *frames[TRACE_FRAMES];
    int n = backtrace(frames, TRACE_FRAMES);
    char **names = backtrace_symbols(frames, n);
    if (!names) return NULL;
    size_t len = 1;
    for (int i = 2; i < n; i++) len += strlen(names[i]) + 3; /* skip capture and ct__record */
    char *text = malloc(len);
    if (text) {
        char *p = text;
        *p = '\0';
        for (int i = 2; i < n; i++) p += sprintf(p, "  %s\n", names[i]);
    }
    free(names);
    return text;
}
