#!/usr/bin/env python3
"""Prints an MLIR module with the linear layers of Llama-3-8B (synthetic).

Every projection of the 32 decoder layers and the LM head is a linalg.matmul
on a [1, K] activation with an elided [K, N] weight: enough for --qnt-report
to compute exact sizes (no values, so no error figures) without 15 GB of data.
Shapes: hidden 4096, FFN 14336, 32 query heads and 8 KV heads of 128, vocab
128256.
"""

HIDDEN, FFN, KV, VOCAB, LAYERS = 4096, 14336, 1024, 128256, 32
PROJ = [("q_proj", HIDDEN, HIDDEN), ("k_proj", HIDDEN, KV),
        ("v_proj", HIDDEN, KV), ("o_proj", HIDDEN, HIDDEN),
        ("gate_proj", HIDDEN, FFN), ("up_proj", HIDDEN, FFN),
        ("down_proj", FFN, HIDDEN)]


def matmul(ident, name, k, n):
    """One linear layer named `name` (its location) with an elided weight."""
    return (f'  %w_{ident} = arith.constant dense_resource<__elided__> : '
            f'tensor<{k}x{n}xf32>\n'
            f'  %i_{ident} = tensor.empty() : tensor<1x{n}xf32>\n'
            f'  %y_{ident} = linalg.matmul ins(%x{k}, %w_{ident} : '
            f'tensor<1x{k}xf32>, tensor<{k}x{n}xf32>) outs(%i_{ident} : '
            f'tensor<1x{n}xf32>) -> tensor<1x{n}xf32> loc("{name}")\n')


def main():
    print("func.func @llama3_8b_linears(%x4096: tensor<1x4096xf32>, "
          "%x14336: tensor<1x14336xf32>) {")
    for layer in range(LAYERS):
        for proj, k, n in PROJ:
            print(matmul(f"l{layer}_{proj}", f"model.layers.{layer}.{proj}",
                         k, n), end="")
    print(matmul("lm_head", "lm_head", HIDDEN, VOCAB), end="")
    print("  return\n}")


if __name__ == "__main__":
    main()
