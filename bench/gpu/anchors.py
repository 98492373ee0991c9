#!/usr/bin/env python3
"""Anchor timings on the GPU machine, in the same run as our kernels:
cuBLAS bf16 (torch.matmul) and torch's int4 tinygemm (g128) for each
(K, N) and M of the benchmark. Median of triton.testing.do_bench (device
events, L2 flushed between runs). Prints `anchor <name> <us>` lines.
"""

import torch
import triton.testing

SHAPES = [(4096, 6144), (4096, 4096), (4096, 28672), (14336, 4096)]


def bench(fn):
    return triton.testing.do_bench(fn, warmup=25, rep=200, return_mode="median") * 1e3


def tinygemm(x, k, n):
    """torch int4 weight-only matmul, group 128 (None if unavailable)."""
    w = torch.randint(0, 16, (n, k // 2), dtype=torch.uint8, device="cuda")
    try:
        packed = torch._convert_weight_to_int4pack(w, 8)
        sz = torch.randn(k // 128, n, 2, dtype=torch.bfloat16, device="cuda")
        torch._weight_int4pack_mm(x, packed, 128, sz)
    except Exception as e:  # API differs across torch versions
        print(f"# tinygemm unavailable: {type(e).__name__}: {e}")
        return None
    return lambda: torch._weight_int4pack_mm(x, packed, 128, sz)


def main():
    torch.manual_seed(0)
    print(f"# device {torch.cuda.get_device_name()} torch {torch.__version__}")
    # cuBLAS initialises lazily: one untimed product first (else the first
    # case's median can include it).
    for m in (1, 16, 2048):
        bench(lambda: torch.randn(m, 4096, dtype=torch.bfloat16, device="cuda")
              @ torch.randn(4096, 4096, dtype=torch.bfloat16, device="cuda"))
    for k, n in SHAPES:
        w = torch.randn(k, n, dtype=torch.bfloat16, device="cuda")
        for m in (1, 16, 2048):
            x = torch.randn(m, k, dtype=torch.bfloat16, device="cuda")
            print(f"anchor cublas_bf16_m{m}_n{n}_k{k} {bench(lambda: x @ w):.2f}",
                  flush=True)
            fn = tinygemm(x, k, n)
            if fn:
                print(f"anchor tinygemm_int4_m{m}_n{n}_k{k} {bench(fn):.2f}",
                      flush=True)


if __name__ == "__main__":
    main()
