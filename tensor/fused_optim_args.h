/* Adam/AdamW's per-step factors, computed once on the host from the hyperparameters and the step
 * (fused_optim.c: ct__adam_factors) and shared by the CPU loops and the CUDA kernels. Plain C/C++. */
#ifndef CTORCH_FUSED_OPTIM_ARGS_H
#define CTORCH_FUSED_OPTIM_ARGS_H

typedef struct ct__fo_adam_args {
    double beta1, beta2, eps;
    double weight_decay;          /* Adam's coupled decay (0 for AdamW) */
    double decay;                 /* AdamW's 1 - lr * weight_decay (1 for Adam) */
    double step_size;             /* lr / (1 - beta1^t) */
    double bias_correction2_sqrt; /* sqrt(1 - beta2^t) */
    int maximize;
} ct__fo_adam_args;

#endif /* CTORCH_FUSED_OPTIM_ARGS_H */
