#!/usr/bin/python3
"""PyTorch's figures for bench/conv.c: prints "<case> <ms>" per case, the median of 21 forward +
backward steps after a second of warm-up, f32, with torch.set_num_threads(argv[1]) (default 1)."""
import sys
import time

import torch
import torch.nn.functional as F

torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
torch.manual_seed(0)
cases = [("conv1", (64, 1, 28, 28), (32, 1, 3, 3), False), ("conv2", (64, 32, 14, 14), (64, 32, 3, 3), True)]
for name, xs, ws, input_grad in cases:
    x = torch.randn(xs).requires_grad_(input_grad)
    w = (torch.randn(ws) * 0.1).requires_grad_()
    b = torch.zeros(ws[0]).requires_grad_()
    g = torch.randn(xs[0], ws[0], xs[2], xs[3])

    def step():
        x.grad = w.grad = b.grad = None
        F.conv2d(x, w, b, padding=1).backward(g)

    start = time.perf_counter()
    while time.perf_counter() - start < 1.0:
        step()
    ms = []
    for r in range(21):
        t0 = time.perf_counter()
        step()
        ms.append((time.perf_counter() - t0) * 1e3)
    ms.sort()
    print(f"{name} {ms[len(ms) // 2]:.3f}")
