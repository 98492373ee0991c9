// RUN: quant-opt %s --split-input-file --qnt-outer-parallel-loops --canonicalize | FileCheck %s
// RUN: quant-opt %s --split-input-file --qnt-outer-parallel-loops=min-parallel-work=0 --canonicalize | FileCheck %s --check-prefix=ALL

// A 2-D loop keeps its first dimension parallel and loops over the second;
// 64 x 512 iterations are enough work for the threads.
// CHECK-LABEL: func.func @large
// CHECK: scf.parallel (%[[I:.*]]) = (%c0) to (%c64) step (%c1) {
// CHECK-NEXT: scf.for %[[J:.*]] = %c0 to %c512 step %c1 {
// CHECK-NEXT: memref.store %{{.*}}, %{{.*}}[%[[I]], %[[J]]]
// ALL-LABEL: func.func @large
// ALL: scf.parallel
func.func @large(%out: memref<64x512xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %c512 = arith.constant 512 : index
  %one = arith.constant 1.0 : f32
  scf.parallel (%i, %j) = (%c0, %c0) to (%c64, %c512) step (%c1, %c1) {
    memref.store %one, %out[%i, %j] : memref<64x512xf32>
  }
  return
}

// -----

// One row of 576 (a decode step's norm or residual): one thread.
// CHECK-LABEL: func.func @small
// CHECK-NOT: scf.parallel
// CHECK: scf.for %{{.*}} = %c0 to %c576 step %c1 {
// CHECK-NOT: scf.parallel
// ALL-LABEL: func.func @small
// ALL: scf.parallel
func.func @small(%out: memref<1x576xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c576 = arith.constant 576 : index
  %one = arith.constant 1.0 : f32
  scf.parallel (%i, %j) = (%c0, %c0) to (%c1, %c576) step (%c1, %c1) {
    memref.store %one, %out[%i, %j] : memref<1x576xf32>
  }
  return
}

// -----

// Known at run time only (9 heads x a cache length): both copies, chosen by
// the iterations counted through the inner loop (a reduction over 64).
// CHECK-LABEL: func.func @dynamic
// CHECK-SAME: (%{{.*}}: memref<9x?xf32>, %[[S:.*]]: index)
// CHECK: %[[WORK:.*]] = arith.muli %[[S]], %c576 : index
// CHECK: %[[SMALL:.*]] = arith.cmpi ult, %[[WORK]], %c16384 : index
// CHECK: scf.if %[[SMALL]] {
// CHECK:   scf.for
// CHECK-NOT: scf.parallel
// CHECK: } else {
// CHECK:   scf.parallel
func.func @dynamic(%out: memref<9x?xf32>, %s: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c9 = arith.constant 9 : index
  %c64 = arith.constant 64 : index
  %one = arith.constant 1.0 : f32
  scf.parallel (%h, %j) = (%c0, %c0) to (%c9, %s) step (%c1, %c1) {
    scf.for %d = %c0 to %c64 step %c1 {
      memref.store %one, %out[%h, %j] : memref<9x?xf32>
    }
  }
  return
}

// -----

// A generated kernel (private) splits its own work: left parallel.
// CHECK-LABEL: func.func private @kernel
// CHECK: scf.parallel
func.func private @kernel(%out: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %one = arith.constant 1.0 : f32
  scf.parallel (%i) = (%c0) to (%c4) step (%c1) {
    memref.store %one, %out[%i] : memref<4xf32>
  }
  return
}
func.func @use(%out: memref<4xf32>) {
  call @kernel(%out) : (memref<4xf32>) -> ()
  return
}
