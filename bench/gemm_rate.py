#!/usr/bin/python3
"""The float32 GEMM rate of PyTorch's BLAS on this machine, in GFLOP/s, for
the bound on training throughput: a recurrent step's shape (a batch of 32
rows times R [4H, H]ᵀ, H = 64: 32×64 by 64×256) and a large square product.
Prints one JSON line: {"small_gflops": F, "large_gflops": F}."""
import argparse, json, time
import torch

p = argparse.ArgumentParser()
p.add_argument("--threads", type=int, default=2)
a = p.parse_args()
torch.set_num_threads(a.threads)


def rate(m, k, n, seconds):
    x, w = torch.randn(m, k), torch.randn(k, n)
    out = torch.empty(m, n)
    torch.mm(x, w, out=out)
    reps, t0 = 0, time.perf_counter()
    while True:
        for _ in range(16):
            torch.mm(x, w, out=out)
        reps += 16
        el = time.perf_counter() - t0
        if el >= seconds:
            return 2.0 * m * k * n * reps / el / 1e9


# The best of three short runs: the machine is shared.
small = max(rate(32, 64, 256, 0.3) for _ in range(3))
large = max(rate(1024, 1024, 1024, 0.5) for _ in range(3))
print(json.dumps({"small_gflops": small, "large_gflops": large}))
