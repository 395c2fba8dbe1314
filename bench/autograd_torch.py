#!/usr/bin/python3
"""PyTorch eager's figure for bench/autograd.c's chain: prints microseconds per op (forward +
backward over a chain of argv[1] alternating mul/add ops on 1-element tensors, median of 31)."""
import sys
import time

import torch

ops = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
torch.set_num_threads(1)
x = torch.ones(1, requires_grad=True)
c = torch.full((1,), 1.0001)
times = []
start = time.perf_counter()
while time.perf_counter() - start < 1.0:  # warm up for a second, as bench/autograd.c does
    y = x
    for i in range(ops):
        y = y + c if i % 2 else y * c
    y.backward()
for r in range(31):
    x.grad = None
    t0 = time.perf_counter()
    y = x
    for i in range(ops):
        y = y + c if i % 2 else y * c
    y.backward()
    times.append((time.perf_counter() - t0) * 1e6 / ops)
times.sort()
print(f"{times[len(times) // 2]:.3f}")
