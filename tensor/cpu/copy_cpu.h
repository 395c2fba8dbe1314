/* CPU copy/convert kernels (used by copy.c and by any CPU kernel that needs a conversion loop). */
#ifndef CTORCH_COPY_CPU_H
#define CTORCH_COPY_CPU_H

#include "../iter_impl.h"

/* The loop converting operand 1 (src dtype) into operand 0 (dst dtype). */
ct_loop_fn ct__cpu_copy_loop(ct_dtype dst, ct_dtype src);
/* dst[...] = src[...] with src broadcast to dst's shape; both on the CPU. */
void ct__cpu_copy(ct_tensor *dst, const ct_tensor *src);

#endif
