// RUN: quant-opt %s --qnt-gpu-host-buffers | FileCheck %s

// Host allocations, copies and deallocations move to the device; a host
// constant gets a device copy at entry, freed before the return; a buffer
// that is returned is left to the caller.
memref.global "private" constant @table : memref<4xf32> = dense<[1.0, 2.0, 3.0, 4.0]>

// CHECK-LABEL: func.func @f
// CHECK-SAME: (%[[ARG:.*]]: memref<4xf32>)
// CHECK: %[[HOST:.*]] = memref.get_global @table
// CHECK: %[[DEV:.*]] = gpu.alloc () : memref<4xf32>
// CHECK: gpu.memcpy %[[DEV]], %[[HOST]]
// CHECK: %[[TMP:.*]] = gpu.alloc () : memref<4xf32>
// CHECK: gpu.memcpy %[[TMP]], %[[DEV]]
// CHECK: %[[RET:.*]] = gpu.alloc () : memref<4xf32>
// CHECK: gpu.memcpy %[[RET]], %[[ARG]]
// CHECK-DAG: gpu.dealloc %[[TMP]]
// CHECK-DAG: gpu.dealloc %[[DEV]]
// CHECK-NOT: gpu.dealloc %[[RET]]
// CHECK: return %[[RET]]
// CHECK-NOT: memref.alloc
// CHECK-NOT: memref.copy
func.func @f(%arg: memref<4xf32>) -> memref<4xf32> {
  %g = memref.get_global @table : memref<4xf32>
  %tmp = memref.alloc() : memref<4xf32>
  memref.copy %g, %tmp : memref<4xf32> to memref<4xf32>
  %ret = memref.alloc() : memref<4xf32>
  memref.copy %arg, %ret : memref<4xf32> to memref<4xf32>
  return %ret : memref<4xf32>
}

// A copy into a strided view (a KV cache slot) is a kernel (linalg.copy),
// not gpu.memcpy, whose lowering would drop the view's offset.
// CHECK-LABEL: func.func @into_view
// CHECK: %[[SRC:.*]] = gpu.alloc () : memref<2x8xf32>
// CHECK: %[[VIEW:.*]] = memref.subview
// CHECK: linalg.copy ins(%[[SRC]] : memref<2x8xf32>) outs(%[[VIEW]] : memref<2x8xf32, strided<[8, 1], offset: ?>>)
// CHECK-NOT: gpu.memcpy
// CHECK: gpu.dealloc %[[SRC]]
func.func @into_view(%cache: memref<16x8xf32>, %pos: index) {
  %src = memref.alloc() : memref<2x8xf32>
  %slot = memref.subview %cache[%pos, 0] [2, 8] [1, 1] : memref<16x8xf32> to memref<2x8xf32, strided<[8, 1], offset: ?>>
  memref.copy %src, %slot : memref<2x8xf32> to memref<2x8xf32, strided<[8, 1], offset: ?>>
  return
}

// A loop that yields a fresh buffer per iteration (the hidden state over
// the layers) copies it into its initial buffer, so that every iteration's
// buffer is freed in that iteration; the initial buffer, returned through
// the loop, is the caller's.
// CHECK-LABEL: func.func @carried
// CHECK: %[[INIT:.*]] = gpu.alloc () : memref<4xf32>
// CHECK: %[[R:.*]] = scf.for {{.*}} iter_args(%[[H:.*]] = %[[INIT]])
// CHECK:   %[[NEXT:.*]] = gpu.alloc () : memref<4xf32>
// CHECK:   gpu.memcpy %[[H]], %[[NEXT]]
// CHECK:   gpu.dealloc %[[NEXT]]
// CHECK:   scf.yield %[[H]]
// CHECK-NOT: gpu.dealloc
// CHECK: return %[[R]]
func.func @carried(%n: index) -> memref<4xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %init = memref.alloc() : memref<4xf32>
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%h = %init) -> (memref<4xf32>) {
    %next = memref.alloc() : memref<4xf32>
    memref.copy %h, %next : memref<4xf32> to memref<4xf32>
    scf.yield %next : memref<4xf32>
  }
  return %r : memref<4xf32>
}
