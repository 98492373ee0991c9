// RUN: quant-opt %s --split-input-file --qnt-gpu-distribute-reductions | FileCheck %s

// One row of 4096 (a norm of one token): the whole block reduces it. Lanes
// stride by 256 over the row, then shuffles within each warp, the 8 warp
// sums through shared memory, and lane 0 adds the total to the output.
// CHECK-LABEL: func.func @sum_of_squares
// CHECK-SAME: (%[[X:.*]]: memref<1x4096xf32>, %[[OUT:.*]]: memref<1xf32>)
// CHECK-NOT: linalg.generic
// CHECK: %[[C256:.*]] = arith.constant 256 : index
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %[[GRID:.*]], {{.*}}) threads(%[[TID:[^,]*]], {{.*}}) in ({{.*}} = %[[C256]],
// CHECK-SAME: workgroup(%[[SHARED:.*]] : memref<8xf32, #gpu.address_space<workgroup>>)
// CHECK: %[[LANE:.*]] = arith.remui %[[TID]], %{{.*}} : index
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[PART:.*]] = scf.for %[[K:.*]] = %[[LANE]] to %{{.*}} step %{{.*}} iter_args(%[[ACC:.*]] = %[[ZERO]]) -> (f32) {
// CHECK:   %[[V:.*]] = memref.load %[[X]][%{{.*}}, %[[K]]]
// CHECK:   %[[SQ:.*]] = arith.mulf %[[V]], %[[V]] : f32
// CHECK:   %[[NEXT:.*]] = arith.addf %[[ACC]], %[[SQ]] : f32
// CHECK:   scf.yield %[[NEXT]] : f32
// CHECK: gpu.shuffle xor %[[PART]], %c16_i32, %c32_i32
// CHECK-COUNT-4: gpu.shuffle xor
// CHECK: memref.store %{{.*}}, %[[SHARED]]
// CHECK: gpu.barrier
// CHECK-COUNT-8: memref.load %[[SHARED]]
// CHECK: scf.if
// CHECK:   %[[OLD:.*]] = memref.load %[[OUT]]
// CHECK:   %[[NEW:.*]] = arith.addf %[[OLD]], %{{.*}} : f32
// CHECK:   memref.store %[[NEW]], %[[OUT]]
func.func @sum_of_squares(%x: memref<1x4096xf32>, %out: memref<1xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<1x4096xf32>) outs(%out : memref<1xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %sq = arith.mulf %a, %a : f32
    %s = arith.addf %acc, %sq : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// Rows whose count is only known at run time (scores over the cache) get a
// warp each: 8 rows a block, no shared memory; the identity of max is -inf
// and the body's index ops read the loop indices.
// CHECK-LABEL: func.func @masked_max
// CHECK: %[[DIM:.*]] = memref.dim
// CHECK: %[[ROWS:.*]] = arith.muli %{{.*}}, %[[DIM]] : index
// CHECK: %[[GRID:.*]] = arith.ceildivui %[[ROWS]], %c8 : index
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %[[GRID]], {{.*}}) threads({{.*}}) in ({{.*}} = %c256,
// CHECK-NOT: workgroup
// CHECK: arith.constant 0xFF800000 : f32
// CHECK: scf.for
// CHECK:   arith.cmpi ule
// CHECK:   arith.select
// CHECK:   arith.maximumf
// CHECK-COUNT-5: gpu.shuffle xor
// CHECK-NOT: gpu.barrier
// CHECK: arith.maximumf
// CHECK-NOT: linalg.generic
func.func @masked_max(%x: memref<9x?x64xf32>, %out: memref<9x?xf32>, %limit: index) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x : memref<9x?x64xf32>) outs(%out : memref<9x?xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %i = linalg.index 2 : index
    %ok = arith.cmpi ule, %i, %limit : index
    %ninf = arith.constant 0xFF800000 : f32
    %v = arith.select %ok, %a, %ninf : f32
    %m = arith.maximumf %v, %acc : f32
    linalg.yield %m : f32
  }
  return
}

// -----

// Not distributed: the reduction is not the innermost loop, the
// accumulator is used twice, and a generic with no reduction.
// CHECK-LABEL: func.func @left_alone
// CHECK-NOT: gpu.launch
// CHECK-COUNT-3: linalg.generic
func.func @left_alone(%x: memref<8x16xf32>, %row: memref<16xf32>, %y: memref<8x16xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>],
                  iterator_types = ["reduction", "parallel"]}
      ins(%x : memref<8x16xf32>) outs(%row : memref<16xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %s = arith.addf %acc, %a : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1, d0)>, affine_map<(d0, d1) -> (d0)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<8x16xf32>) outs(%row : memref<16xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %p = arith.mulf %acc, %a : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<8x16xf32>) outs(%y : memref<8x16xf32>) {
  ^bb0(%a: f32, %b: f32):
    %s = arith.addf %a, %a : f32
    linalg.yield %s : f32
  }
  return
}
