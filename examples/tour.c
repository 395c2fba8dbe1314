/* A tour of what ctorch has so far: tensors, views that share memory, scopes, errors.
 * `make demo` runs it until training exists (issue 4 turns the demo into Fashion-MNIST). */
#include <ctorch/ctorch.h>

#include <stdio.h>

int main(void) {
    ct_init();
    printf("ctorch %s, CUDA available: %s\n", ct_version(), ct_cuda_is_available() ? "yes" : "no");

    CT_SCOPE {
        ct_tensor *a = ct_arange(0, 12, 1, .dtype = CT_F32);
        ct_tensor *m = ct_view(a, CT_SHAPE(3, 4));
        ct_tensor *col = ct_select(m, 1, 2); /* column 2: a strided view */
        ct_fill_(col, -1);                   /* writes through to a */
        printf("a after writing column 2 of its 3x4 view: ");
        for (int i = 0; i < 12; i++) printf("%g ", ct_get(a, CT_SHAPE(i)));
        printf("\nview shares storage: %s, transposed view contiguous: %s\n", ct_shares_storage(a, col) ? "yes" : "no",
               ct_is_contiguous(ct_t(m)) ? "yes" : "no");

        /* A failing expression is checked once, at the end; the first message survives. */
        ct_tensor *bad = ct_contiguous(ct_transpose(ct_view(ct_t(m), CT_SHAPE(12)), 0, 0));
        if (!bad) printf("expected error: %s\n", ct_last_error());
        ct_clear_error();
    }
    ct_shutdown();
    return 0;
}
