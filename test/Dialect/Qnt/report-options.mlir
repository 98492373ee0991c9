// Bad report options: a one-line error naming the option or the file.
// RUN: not quant-opt %s --qnt-report="format=xml" 2>&1 | FileCheck %s --check-prefix=FORMAT
// RUN: not quant-opt %s --qnt-report="output=%t.missing/dir/report.txt" 2>&1 | FileCheck %s --check-prefix=OUTPUT
// RUN: not quant-opt %s --qnt-report="scheme=nf5" 2>&1 | FileCheck %s --check-prefix=SCHEME

// FORMAT: error: invalid value 'xml' for option 'format' (expected table or csv)
// OUTPUT: error: cannot write report to '{{.*}}.missing/dir/report.txt': {{.*}}o such file or directory
// SCHEME: error: invalid value 'nf5' for option 'scheme' (expected int8, int4, nf4 or fp4)

func.func @f() {
  return
}
