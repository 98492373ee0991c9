// int4 asymmetric group 32 on matmul-shaped linalg.generic ops (layer 1 reads the weight as (k, n), layer 2 as (n, k)), N = 20 (not a multiple of 8), edge-case weights.
// RUN: %python %reference/qref.py gen --seed 4 --m 3 --k 128 --h 96 --n 20 --form generic --edge > %t.mlir
// RUN: quant-opt %t.mlir --qnt-quantize-linear="scheme=int4 symmetric=false group-size=32" --qnt-cpu-pipeline \
// RUN:   | mlir-runner -e main -entry-point-result=void %mlir_runner_libs \
// RUN:   | %python %reference/qref.py check --int-dot %int_dot --seed 4 --m 3 --k 128 --h 96 --n 20 --form generic --edge --scheme int4 --symmetric false --group-size 32
