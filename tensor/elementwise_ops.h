/* The elementwise op codes, in a neutral header (no ct_tensor, no C11 atomics) so that CUDA
 * kernels (tensor/cuda/elementwise_cuda.cu) switch on the same enums as the CPU tables. */
#ifndef CTORCH_ELEMENTWISE_OPS_H
#define CTORCH_ELEMENTWISE_OPS_H

typedef enum ct_ew_binary {
    CT_EW_ADD = 0, /* x + alpha * y */
    CT_EW_MUL,
    CT_EW_DIV,       /* true division (floating dtypes only) */
    CT_EW_DIV_TRUNC,
    CT_EW_DIV_FLOOR,
    CT_EW_POW,
    CT_EW_MINIMUM,
    CT_EW_MAXIMUM,
    CT_EW_REMAINDER,
    CT_EW_ATAN2,
    CT_EW_GELU_BACKWARD,      /* x * gelu'(y): the gradient x of gelu at y, in one pass */
    CT_EW_GELU_TANH_BACKWARD, /* the same for the tanh approximation */
    CT_EW_RELU_BACKWARD,      /* y <= 0 ? 0 : x: relu's gradient x masked by its output y */
    /* -> bool */
    CT_EW_EQ,
    CT_EW_NE,
    CT_EW_LT,
    CT_EW_LE,
    CT_EW_GT,
    CT_EW_GE,
    CT_EW_LOGICAL_AND,
    CT_EW_LOGICAL_OR,
    CT_EW_LOGICAL_XOR,
    CT_EW_NUM_BINARY
} ct_ew_binary;

typedef enum ct_ew_unary {
    CT_EW_NEG = 0,
    CT_EW_ABS,
    CT_EW_SIGN,
    CT_EW_SQUARE,
    CT_EW_RELU,
    CT_EW_CLAMP, /* p0 = min, p1 = max, already within the dtype's range */
    CT_EW_FLOOR,
    CT_EW_CEIL,
    CT_EW_ROUND,
    CT_EW_TRUNC,
    CT_EW_NAN_TO_NUM, /* p0 = nan, p1 = posinf, p2 = neginf replacements */
    /* floating dtypes only */
    CT_EW_SQRT,
    CT_EW_RSQRT,
    CT_EW_RECIPROCAL,
    CT_EW_EXP,
    CT_EW_LOG,
    CT_EW_LOG2,
    CT_EW_LOG1P,
    CT_EW_EXPM1,
    CT_EW_SIN,
    CT_EW_COS,
    CT_EW_TAN,
    CT_EW_TANH,
    CT_EW_ERF,
    CT_EW_SIGMOID,
    CT_EW_SILU,
    CT_EW_GELU,
    CT_EW_GELU_TANH,
    CT_EW_LEAKY_RELU, /* p0 = negative slope */
    CT_EW_ELU,        /* p0 = alpha */
    CT_EW_SOFTPLUS,   /* p0 = beta, p1 = threshold */
    /* -> bool */
    CT_EW_ISNAN,
    CT_EW_ISINF,
    CT_EW_ISFINITE,
    CT_EW_LOGICAL_NOT,
    CT_EW_NUM_UNARY
} ct_ew_unary;

#endif /* CTORCH_ELEMENTWISE_OPS_H */
