"""The CUDA benchmark's torch side (bench/gpu.sh pairs its lines with build/bench/gpu's): the same
cases, sizes, warm-up, samples and repetitions as bench/gpu.c, in torch eager on cuda:0.

    python3 bench/gpu_torch.py [case ...]

Prints `bench=gpu case=<case> torch_ms=<median ms>` per case."""
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

SAMPLES, WARMUP = 15, 3
dev = torch.device("cuda:0")


def time_ms(fn, reps):
    for _ in range(WARMUP):
        fn()
    torch.cuda.synchronize()
    t = []
    for _ in range(SAMPLES):
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        torch.cuda.synchronize()
        t.append((time.perf_counter() - t0) * 1e3 / reps)
    return statistics.median_low(t) if SAMPLES % 2 == 0 else statistics.median(t)


def matmul(dtype, tf32):
    torch.backends.cuda.matmul.allow_tf32 = tf32
    a = torch.randn(4096, 4096, device=dev, dtype=dtype)
    b = torch.randn(4096, 4096, device=dev, dtype=dtype)
    ms = time_ms(lambda: a @ b, 5)
    torch.backends.cuda.matmul.allow_tf32 = False
    return ms


def add():
    n = 256 << 20
    a = torch.randn(n, device=dev)
    b = torch.randn(n, device=dev)
    return time_ms(lambda: a + b, 1)


def softmax(cols):
    x = torch.randn(8192, cols, device=dev, requires_grad=True)
    g = torch.randn(8192, cols, device=dev)
    return time_ms(lambda: torch.softmax(x, 1).backward(g), 1 if cols > 4096 else 10)


def layer_norm():
    x = torch.randn(8192, 768, device=dev, requires_grad=True)
    w = torch.randn(768, device=dev, requires_grad=True)
    b = torch.randn(768, device=dev, requires_grad=True)
    g = torch.randn(8192, 768, device=dev)
    return time_ms(lambda: F.layer_norm(x, (768,), w, b).backward(g), 10)


def cross_entropy():
    x = torch.randn(8192, 50304, device=dev, requires_grad=True)
    y = torch.randint(0, 50304, (8192,), device=dev)
    return time_ms(lambda: F.cross_entropy(x, y).backward(), 1)


def fashion_cnn_step():
    net = nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10)).to(dev)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    x = torch.randn(256, 1, 28, 28, device=dev)
    y = torch.randint(0, 10, (256,), device=dev)

    def step():
        opt.zero_grad()
        F.cross_entropy(net(x), y).backward()
        opt.step()
    return time_ms(step, 5)


CASES = {
    "matmul_f32": lambda: matmul(torch.float32, False),
    "matmul_tf32": lambda: matmul(torch.float32, True),
    "matmul_bf16": lambda: matmul(torch.bfloat16, False),
    "add": add,
    "softmax_50304": lambda: softmax(50304),
    "softmax_1024": lambda: softmax(1024),
    "layer_norm_768": layer_norm,
    "cross_entropy_50304": cross_entropy,
    "fashion_cnn_step": fashion_cnn_step,
}

if __name__ == "__main__":
    if not torch.cuda.is_available():
        print('bench=gpu case=all skipped="torch sees no CUDA GPU"')
        sys.exit(0)
    torch.manual_seed(0)
    for name in sys.argv[1:] or CASES:
        ms = CASES[name]()
        print(f"bench=gpu case={name} torch_ms={ms:.4f} torch={torch.__version__} "
              f"gpu=\"{torch.cuda.get_device_name(0)}\"", flush=True)
        torch.cuda.empty_cache()
