// Checks that the reference checks are sensitive: a float (unquantized) run,
// a run with double quant checked as plain nf4, a run with group 32 checked
// as group 64, and nf4 constants checked as fp4 (check-ir) must be rejected.
// RUN: %python %reference/qref.py gen --seed 21 --m 2 --k 128 --h 64 --n 24 > %t.mlir
// RUN: quant-opt %t.mlir --qnt-cpu-pipeline \
// RUN:   | mlir-runner -e main -entry-point-result=void %mlir_runner_libs \
// RUN:   | not %python %reference/qref.py check --int-dot %int_dot --seed 21 --m 2 --k 128 --h 64 --n 24 --scheme nf4 \
// RUN:   | FileCheck %s --check-prefix=FLOAT
// FLOAT: FAIL nf4 g64 f32: element
// RUN: quant-opt %t.mlir --qnt-quantize-linear="scheme=nf4 double-quant=true" --qnt-cpu-pipeline \
// RUN:   | mlir-runner -e main -entry-point-result=void %mlir_runner_libs \
// RUN:   | not %python %reference/qref.py check --int-dot %int_dot --seed 21 --m 2 --k 128 --h 64 --n 24 --scheme nf4 \
// RUN:   | FileCheck %s --check-prefix=DQ
// DQ: FAIL nf4 g64 f32: element
// RUN: quant-opt %t.mlir --qnt-quantize-linear="scheme=int4 group-size=32" --qnt-cpu-pipeline \
// RUN:   | mlir-runner -e main -entry-point-result=void %mlir_runner_libs \
// RUN:   | not %python %reference/qref.py check --int-dot %int_dot --seed 21 --m 2 --k 128 --h 64 --n 24 --scheme int4 --group-size 64 \
// RUN:   | FileCheck %s --check-prefix=GROUP
// GROUP: FAIL int4 sym g64 f32: element
// RUN: quant-opt %t.mlir --qnt-quantize-linear="scheme=nf4" \
// RUN:   | not %python %reference/qref.py check-ir --seed 21 --m 2 --k 128 --h 64 --n 24 --scheme fp4 \
// RUN:   | FileCheck %s --check-prefix=IR
// IR: FAIL fp4 g64 f32: op 1: attributes <nf4, group = 64>, expected <fp4, group = 64>
// IR: codes differ
