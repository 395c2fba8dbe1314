/* A tour of what ctorch has so far: tensors, views that share memory, broadcasting ops,
 * reductions, matrix products, seeded randomness, scopes and errors. `make demo` runs it until
 * training exists (issue 4 turns the demo into Fashion-MNIST training). */
#include <ctorch/ctorch.h>

#include <stdio.h>

int main(void) {
    ct_init();
    ct_manual_seed(0);
    printf("ctorch %s, CUDA available: %s\n\n", ct_version(), ct_cuda_is_available() ? "yes" : "no");

    CT_SCOPE {
        /* Views share storage: writing through a column view changes the base. */
        ct_tensor *a = ct_arange(0, 12, 1, .dtype = CT_F32);
        ct_tensor *m = ct_view(a, CT_SHAPE(3, 4));
        ct_fill_(ct_select(m, 1, 2), -1);
        printf("m = a.view(3, 4) after m[:, 2] = -1:\n%s\n", ct_str(m));
        printf("m.t() is contiguous: %s; shares storage with a: %s\n\n", ct_is_contiguous(ct_t(m)) ? "yes" : "no",
               ct_shares_storage(ct_t(m), a) ? "yes" : "no");

        /* Broadcasting, promotion, reductions. */
        ct_tensor *row = ct_from_data((double[]){0.5, 1, 2, 4}, CT_SHAPE(4), CT_F64);
        ct_tensor *scaled = ct_mul(m, row); /* float32 x float64 -> float64, (3,4) * (4,) */
        printf("m * [0.5, 1, 2, 4] =\n%s\n", ct_str(scaled));
        printf("sum over dim 1 (keepdim):\n%s\n", ct_str(ct_sum(scaled, .dim = CT_DIMS(1), .keepdim = true)));
        printf("softmax over dim 1:\n%s\n\n", ct_str(ct_softmax(m, 1)));

        /* A small two-layer forward pass on random data. */
        ct_tensor *x = ct_randn(CT_SHAPE(4, 8));
        ct_tensor *w1 = ct_mul_scalar(ct_randn(CT_SHAPE(8, 16)), 0.35);
        ct_tensor *w2 = ct_mul_scalar(ct_randn(CT_SHAPE(16, 3)), 0.25);
        ct_tensor *logits = ct_matmul(ct_relu(ct_matmul(x, w1)), w2);
        ct_tensor *probs = ct_softmax(logits, -1);
        printf("class probabilities of a random 8-16-3 MLP on 4 inputs:\n%s\n", ct_str(probs));
        printf("predicted classes: %s\n\n", ct_str(ct_argmax(probs, .dim = CT_DIMS(1))));

        /* A failing expression is checked once, at the end; the first message survives. */
        ct_tensor *bad = ct_softmax(ct_matmul(ct_view(ct_t(m), CT_SHAPE(12)), w1), 0);
        if (!bad) printf("expected error: %s\n", ct_last_error());
        ct_clear_error();
        bad = ct_matmul(x, w2);
        if (!bad) printf("expected error: %s\n", ct_last_error());
        ct_clear_error();
    }
    ct_shutdown();
    return 0;
}
