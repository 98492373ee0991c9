// An int4 (group 128, bf16) linear layer followed by a ReLU, compiled whole
// by --qnt-cuda-pipeline and called from e2e.cpp through its C interface:
// the quantized matmul runs as a generated skinny tensor-core kernel (M = 4),
// the ReLU as a generic
// tiled kernel, and the host code allocates, copies and launches on the
// device.
#id = affine_map<(m, n) -> (m, n)>
func.func @layer(%x: tensor<4x512xbf16>, %c: tensor<384x256xi8>, %s: tensor<384x4xf32>, %i: tensor<4x384xbf16>) -> tensor<4x384xbf16> attributes {llvm.emit_c_interface} {
  %y = qnt.matmul #qnt.scheme<int4, group = 128, compute = bf16> %x : tensor<4x512xbf16>, %c : tensor<384x256xi8> scales(%s : tensor<384x4xf32>) outs(%i : tensor<4x384xbf16>) -> tensor<4x384xbf16>
  %zero = arith.constant 0.0 : bf16
  %r = linalg.generic {indexing_maps = [#id], iterator_types = ["parallel", "parallel"]} outs(%y : tensor<4x384xbf16>) {
  ^bb0(%v: bf16):
    %m = arith.maximumf %v, %zero : bf16
    linalg.yield %m : bf16
  } -> tensor<4x384xbf16>
  return %r : tensor<4x384xbf16>
}
