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
