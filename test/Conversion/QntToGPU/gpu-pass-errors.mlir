// Bad options and unwritable outputs of the GPU passes: one-line errors.
// RUN: not quant-opt %s --pass-pipeline="builtin.module(func.func(qnt-gpu-map-parallel-loops{block-size=0}))" 2>&1 | FileCheck %s --check-prefix=BLOCK
// RUN: not quant-opt %s --qnt-dump-gpu-binaries="dir=%t.missing/sub" 2>&1 | FileCheck %s --check-prefix=DUMP

// BLOCK: error: invalid value '0' for option 'block-size' (expected a positive number)
// DUMP: error: cannot write '{{.*}}.missing/sub/launches.txt': {{.*}}o such file or directory

func.func @f() {
  return
}
