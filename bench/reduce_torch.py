#!/usr/bin/python3
"""torch's figures for the cases of bench/reduce.c: 4096x4096 f32, median of 15 runs after 2 warm-ups.
Threads: torch.set_num_threads(n) with n from the first argument (default 1)."""
import sys
import time

import torch

n_threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
torch.set_num_threads(n_threads)
x = torch.rand(4096, 4096) * 8 - 4
cases = {
    "sum_all": lambda: x.sum(),
    "sum_dim1": lambda: x.sum(1),
    "sum_dim0": lambda: x.sum(0),
    "amax_dim1": lambda: x.amax(1),
    "softmax_dim1": lambda: torch.softmax(x, 1),
    "log_softmax_dim1": lambda: torch.log_softmax(x, 1),
}
for name, fn in cases.items():
    ms = []
    for r in range(-2, 15):
        t0 = time.perf_counter()
        fn()
        t1 = time.perf_counter()
        if r >= 0:
            ms.append((t1 - t0) * 1e3)
    ms.sort()
    print(f"bench=reduce-torch case={name} shape=4096x4096 threads={torch.get_num_threads()} ms={ms[len(ms) // 2]:.3f}")
