// Bad option values: a one-line error naming the option and the valid values.
// RUN: not quant-opt %s --qnt-quantize-linear="scheme=int3" 2>&1 | FileCheck %s --check-prefix=SCHEME
// RUN: not quant-opt %s --qnt-quantize-linear="scheme=int8 compute-type=f64" 2>&1 | FileCheck %s --check-prefix=COMPUTE
// RUN: not quant-opt %s --qnt-quantize-linear="scheme=nf4 symmetric=false" 2>&1 | FileCheck %s --check-prefix=SYM
// RUN: not quant-opt %s --qnt-quantize-linear="scheme=int4 double-quant=true" 2>&1 | FileCheck %s --check-prefix=DQ
// RUN: not quant-opt %s --qnt-quantize-linear="scheme=int4 group-size=-7" 2>&1 | FileCheck %s --check-prefix=GROUP
// RUN: not quant-opt %s --qnt-quantize-linear="scheme=int4 min-size=-1" 2>&1 | FileCheck %s --check-prefix=MINSIZE
// RUN: not quant-opt %s --qnt-quantize-linear="scheme=int4 skip=(" 2>&1 | FileCheck %s --check-prefix=SKIP
// RUN: not quant-opt %s --qnt-quantize-linear="scheme=int4 group-size=abc" 2>&1 | FileCheck %s --check-prefix=PARSE
// RUN: not quant-opt %s --qnt-quantize-linear="scheme=int4 act-int8=1" 2>&1 | FileCheck %s --check-prefix=ACT
// RUN: not quant-opt %s --qnt-quantize-linear="scheme=int8 symmetric=0 act-int8=1" 2>&1 | FileCheck %s --check-prefix=ACT
// RUN: not quant-opt %s --qnt-quantize-linear="scheme=int8 compute-type=bf16 act-int8=1" 2>&1 | FileCheck %s --check-prefix=ACTCOMPUTE
// RUN: not quant-opt %s --qnt-quantize-linear="scheme=int8 outlier-threshold=6" 2>&1 | FileCheck %s --check-prefix=THRESHOLD
// RUN: not quant-opt %s --qnt-quantize-linear="scheme=int8 act-int8=1 outlier-threshold=-2" 2>&1 | FileCheck %s --check-prefix=THRESHOLD

// SCHEME: error: invalid value 'int3' for option 'scheme' (expected int8, int4, nf4 or fp4)
// COMPUTE: error: invalid value 'f64' for option 'compute-type' (expected f32, bf16 or f16)
// SYM: error: invalid value 'false' for option 'symmetric': 'nf4' is symmetric only
// DQ: error: invalid value 'true' for option 'double-quant': it needs scheme nf4 or fp4
// GROUP: error: invalid value '-7' for option 'group-size' (expected -1, 0 or a positive number)
// MINSIZE: error: invalid value '-1' for option 'min-size' (expected >= 0)
// SKIP: error: invalid value '(' for option 'skip': parentheses not balanced
// PARSE: for the --group-size option: 'abc' value invalid
// ACT: error: invalid value 'true' for option 'act-int8': it needs scheme int8, symmetric
// ACTCOMPUTE: error: invalid value 'true' for option 'act-int8': it computes in integers, not bf16
// THRESHOLD: error: invalid value '{{.*}}' for option 'outlier-threshold' (expected a positive number, with act-int8)

func.func @f() {
  return
}
