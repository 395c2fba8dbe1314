/* Autograd without nn: fit a one-hidden-layer tanh network to y = sin(3x) by hand-written SGD.
 *
 *   h = tanh(x W1 + b1)          x: [N, 1], W1: [1, H]
 *   y = h W2 + b2                W2: [H, 1]
 *   loss = mean((y - target)^2)
 *
 * The parameters are leaves that require grad; ct_backward fills their .grad; the update runs in
 * CT_NO_GRAD so it is not recorded, and .grad is cleared before the next step, as PyTorch's
 * optimizer.zero_grad() does. Each step's graph lives in the step's scope and is freed with it. */
#include <ctorch/ctorch.h>

#include <math.h>
#include <stdio.h>

#define N 256
#define H 32
#define STEPS 3000
#define LR 0.05

int main(void) {
    ct_init();
    ct_manual_seed(0);
    ct_tensor *x = ct_unsqueeze(ct_linspace(-1, 1, N), 1); /* [N, 1] */
    ct_tensor *target = ct_sin(ct_mul_scalar(x, 3));
    /* PyTorch's Linear initialisation: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) */
    ct_tensor *params[4] = {
        ct_uniform_(ct_empty(CT_SHAPE(1, H)), -1, 1),
        ct_uniform_(ct_empty(CT_SHAPE(H)), -1, 1),
        ct_uniform_(ct_empty(CT_SHAPE(H, 1)), -1 / sqrt(H), 1 / sqrt(H)),
        ct_uniform_(ct_empty(CT_SHAPE(1)), -1 / sqrt(H), 1 / sqrt(H)),
    };
    for (int i = 0; i < 4; i++) ct_requires_grad_(params[i], true);
    ct_tensor *w1 = params[0], *b1 = params[1], *w2 = params[2], *b2 = params[3];

    double loss_value = NAN;
    for (int step = 1; step <= STEPS; step++) CT_SCOPE {
        ct_tensor *h = ct_tanh(ct_add(ct_matmul(x, w1), b1));
        ct_tensor *y = ct_add(ct_matmul(h, w2), b2);
        ct_tensor *loss = ct_mean(ct_square(ct_sub(y, target)));
        if (!ct_backward(loss)) break;
        CT_NO_GRAD for (int i = 0; i < 4; i++) {
            ct_sub_(params[i], ct_grad(params[i]), .alpha = LR);
            ct_set_grad(params[i], NULL);
        }
        loss_value = ct_item(loss);
        if (step % 500 == 0) printf("step %4d  loss %.6f\n", step, loss_value);
    }
    if (!ct_ok()) {
        fprintf(stderr, "fit_curve: %s\n", ct_last_error());
        return 1;
    }
    printf("final_loss=%.6f\n", loss_value);
    ct_shutdown();
    return loss_value < 0.01 ? 0 : 1;
}
