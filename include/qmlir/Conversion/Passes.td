//===- Passes.td - qnt conversion passes ------------------*- tablegen -*-===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_CONVERSION_PASSES_TD
#define QMLIR_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertQntToLinalgPass : Pass<"convert-qnt-to-linalg"> {
  let summary = "Lower qnt ops to linalg, arith and tensor (reference lowering)";
  let description = [{
    The reference lowering: `qnt.dequantize` becomes a `linalg.generic` that
    unpacks the codes (table lookups for nf4/fp4, scale and zero point for the
    int kinds, the dynamic map for double-quantized scales); `qnt.matmul`
    becomes that dequantization followed by a contraction in the scheme's
    compute type with f32 accumulation; `qnt.quantize` becomes reductions
    and elementwise generics that compute the same codes as the numerics
    library. It favours obviously-correct IR over speed and serves as the
    numerical reference for the optimised backends.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::tensor::TensorDialect"];
}

def ConvertQntToCPUPass : Pass<"convert-qnt-to-cpu", "::mlir::ModuleOp"> {
  let summary = "Lower qnt.matmul to calls of generated, vectorized CPU kernels";
  let description = [{
    Replaces every `qnt.matmul` that a CPU kernel can compute (f32
    activations and result; 2-D; static shapes; groups of a multiple of 32
    along K, or one group per row) with a call to a function
    this pass generates, specialised for the layer's scheme and shape and
    written with the vector dialect on buffers. The kernel dequantizes in
    registers, 32 weights at a time: a 4-bit chunk is 16 bytes whose high and
    low nibbles become two 16-lane index vectors, looked up in a 16-entry
    table already multiplied by the group's scale (nf4/fp4 values, or the
    int4 values minus the zero point; `vpermps` on AVX-512, two `vpermps` and
    a blend on AVX2, lane by lane otherwise); 8-bit codes are widened,
    offset and scaled. The dequantized weights equal the reference
    lowering's bit for bit; only the order of the f32 sums differs. A bf16
    or f16 compute type rounds activations and dequantized weights to it
    (and back) before the f32 products, as the reference lowering does; the
    integer path below is for f32 compute only.

    f32 path: up to 8 activation rows, a fused GEMV, rows of the weight
    split among the threads (`scf.parallel`), the activations
    de-interleaved to the nibble order; 9 to 127 rows, the GEMV on slices
    of 8 rows (tensor.extract_slice / insert_slice); from 128 rows (the
    tiles' one-off decode into a k-major buffer measured slower below),
    f32 tiles: each thread
    decodes a tile of 32 (AVX-512) or 16 weight rows x a K tile (16 KiB)
    into a k-major buffer of its own and runs an outer-product micro-kernel
    over the activation rows (12 rows x 2 vectors of 16 lanes on AVX-512,
    6 x 2 of 8 lanes otherwise): per k one broadcast activation and two
    FMAs per row, the accumulators' lanes being output columns.

    bf16 compute type on AVX-512 BF16 (`isa=avx512bf16`): the GEMV converts
    the activations to bf16 once, looks a 4-bit chunk's 32 bf16 weights up
    with one `vpermw` of the group's scaled table and sums pairs with
    `vdpbf16ps`; the tiles take f32 FMAs on bf16-rounded operands. With AMX
    (`isa=amx`) the tiles multiply in the tile unit instead: activations
    converted to bf16 once (rows padded to 32), each thread's 32 weight rows
    decoded into bf16 pairs (AMX's B layout), per 16 x 32 activation rows
    and K step of 32 two A tiles, two B tiles and four `tdpbf16ps` into 16 x
    16 f32 tiles (`amx` dialect), stored and added to the result per K tile;
    per-channel W8A8 the same on int8 codes (`tdpbssd`). With `amx` as the
    only target these tiles start at 9 rows (no GEMV slices below 128).

    Integer path (`int-dot`, the default; AVX2/AVX-512, f32 compute;
    include/qmlir/Numerics/IntDot.h): each block of K of each activation
    row (32 to 256 values, inside one group) is scaled to 14-bit integers
    and rounded; 4-bit codes become 16-bit integer weights through two
    `pshufb` lookups (the low and high bytes of the 16 integer values: int4
    codes minus the zero point, or the nf4/fp4 table scaled to a 12-14-bit
    integer range), 8-bit codes are widened; `vpmaddwd` multiplies and sums
    pairs exactly in 32 bits (on AVX-512 VNNI with BW: 512-bit, the chunk's
    32 integer weights from one `vpermw` of a 16-bit table and one
    `vpdpwssd` per chunk and activation row), and each
    block's sum is converted and scaled by (activation scale x weight
    scale). Results differ from the f32 path
    by the activation rounding (half a step of the block's largest value /
    8191) and, for tables, the table rounding. Up to 8 activation rows: a
    GEMV, one weight row per thread iteration (slices of 8 rows up to
    127). From 128 rows: on AVX-512 VNNI
    integer tiles (16 weight rows' 16-bit pairs side by side, 12 activation
    rows, one 512-bit `vpdpwssd` per row and pair with the activation pair
    broadcast, int32 sums scaled per block); on AVX2/AVX-512 the f32 tiles
    (measured faster at M = 512 than the integer GEMV run per 8 rows).

    Each output element is summed by one thread in a fixed order, so
    results do not depend on the thread count. Operands reach the kernel
    through `bufferization.to_buffer`; the result is a copy of `init` that
    the kernel accumulates into. Other matmuls are left for
    `convert-qnt-to-linalg`.
  }];
  let options = [
    Option<"isa", "isa", "std::string", /*default=*/"\"native\"",
           "Instruction set of the kernels: amx, avx512bf16, avx512vnni, avx512, "
           "avx2, generic, native (the best this machine has short of amx), or dispatch "
           "(all of them, chosen at run time through the qnt_cpu_isa global, "
           "see Runtime/CpuDispatch.h)">,
    Option<"intDot", "int-dot", "bool", /*default=*/"true",
           "On AVX2/AVX-512: quantize the activations per block to 14-bit "
           "integers and sum integer products exactly (vpmaddwd), see "
           "Numerics/IntDot.h; off: f32 dequantization">
  ];
  let dependentDialects = ["::mlir::func::FuncDialect",
                           "::mlir::LLVM::LLVMDialect",
                           "::mlir::amx::AMXDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect"];
}

def ConvertQntToGPUPass : Pass<"convert-qnt-to-gpu", "::mlir::ModuleOp"> {
  let summary = "Lower qnt.matmul to launches of generated GPU kernels";
  let description = [{
    Replaces every `qnt.matmul` with a launch of a kernel that this pass
    generates into `gpu.module @qnt_kernels`, specialised for the layer's
    scheme, shape and element types: with bf16/f16 activations a skinny
    tensor-core kernel for up to 16 rows (weights as the mma A operand) or
    a tensor-core GEMM for more; otherwise a fused dequant-GEMV (16-byte
    loads of packed codes, dequantization in registers, warp-shuffle
    reductions; up to 8 activation rows per block, more rows through the
    grid). The operands
    reach the kernel through `bufferization.to_buffer`; the result is a copy
    of `init` that the kernel accumulates into, so one-shot bufferization
    handles the rest. The module is marked `gpu.container_module`.

    ```mlir
    %y = qnt.matmul #qnt.scheme<nf4, group = 64> %x : tensor<1x4096xbf16>, ...
    // becomes
    gpu.launch_func @qnt_kernels::@qnt_gemv_nf4_m1_n4096_k4096
        blocks in (%c512, %c1, %c1) threads in (%c128, %c1, %c1)
        args(%xb : memref<1x4096xbf16>, %codes : memref<4096x2048xi8>, ...)
    ```
  }];
  let options = [
    Option<"rowsPerWarp", "rows-per-warp", "int64_t", /*default=*/"0",
           "GEMV output channels per warp (0: chosen per shape)">,
    Option<"warpsPerBlock", "warps-per-block", "int64_t", /*default=*/"0",
           "GEMV warps per block (0: chosen per shape)">,
    Option<"unroll", "unroll", "int64_t", /*default=*/"0",
           "GEMV 16-byte chunks loaded per row before use, at most (the "
           "largest count up to this that divides a lane's chunks; 0: chosen "
           "per shape)">,
    Option<"skinnyWarps", "skinny-warps", "int64_t", /*default=*/"0",
           "Skinny-kernel warps per block, splitting K (0: chosen per shape)">,
    Option<"skinnyUnroll", "skinny-unroll", "int64_t", /*default=*/"0",
           "Skinny-kernel windows loaded at once, at most (the largest count "
           "up to this that divides the windows of K; 0: chosen per shape)">,
    Option<"skinnyTiles", "skinny-tiles", "int64_t", /*default=*/"0",
           "Skinny-kernel tiles of 16 output channels per block, sharing "
           "the activation loads (1, 2 or 4; 0: chosen per shape)">,
    Option<"wgmma", "wgmma", "bool", /*default=*/"false",
           "Layers with 64 or more bf16/f16 rows use the Hopper warpgroup "
           "GEMM (wgmma.mma_async; the kernels then need sm_90a)">
  ];
  let dependentDialects = ["::mlir::gpu::GPUDialect",
                           "::mlir::NVVM::NVVMDialect",
                           "::mlir::LLVM::LLVMDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::tensor::TensorDialect"];
}

def QntGpuHostBuffersPass : Pass<"qnt-gpu-host-buffers", "::mlir::ModuleOp"> {
  let summary = "Keep every host-side buffer in device memory";
  let description = [{
    In the CUDA pipeline a host function's buffers live on the device: the
    caller passes device pointers, and this pass turns the host functions'
    `memref.alloc` / `memref.dealloc` / `memref.copy` into `gpu.alloc` /
    `gpu.dealloc` / `gpu.memcpy` (a copy to or from a strided view becomes
    `linalg.copy`, a kernel: gpu.memcpy's lowering ignores view offsets),
    and gives every host constant
    (`memref.get_global`) a device copy made at function entry and freed at
    each return. An allocation that does not leave its block (returned,
    yielded) is freed at the block's end; a returned one belongs to the
    caller. A loop that yields a fresh buffer per iteration from an initial
    buffer of its own copies each result into that buffer instead, so that
    no iteration's buffer outlives it. Runs after bufferization and before
    kernel outlining.
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::linalg::LinalgDialect"];
}

def QntGpuMapParallelLoopsPass
    : Pass<"qnt-gpu-map-parallel-loops", "::mlir::func::FuncOp"> {
  let summary = "Map the host's parallel loops to blocks and threads";
  let description = [{
    The generic GPU lowering of the linalg ops left after the quantized
    matmuls (elementwise, reductions over a loop nest): every outermost
    `scf.parallel` is collapsed to one dimension, tiled by `block-size`, and
    mapped tiles -> block x, points -> thread x, ready for
    `convert-parallel-loops-to-gpu`. Sequential loops inside (reductions)
    stay in the thread.
  }];
  let options = [
    Option<"blockSize", "block-size", "int64_t", /*default=*/"256",
           "Threads per block">
  ];
  let dependentDialects = ["::mlir::gpu::GPUDialect", "::mlir::scf::SCFDialect",
                           "::mlir::affine::AffineDialect"];
}

def QntGpuDistributeReductionsPass
    : Pass<"qnt-gpu-distribute-reductions", "::mlir::func::FuncOp"> {
  let summary = "Reduce each row of a linalg reduction with a warp or a block";
  let description = [{
    A `linalg.generic` on buffers whose only reduction loop is the innermost
    one and whose body yields `combiner(acc, x)` (f32 `addf`, `maximumf`,
    `maxnumf`, `minimumf`, `minnumf`) becomes a `gpu.launch` of 256 threads
    a block: a warp per output element, or the whole block when there are
    fewer than 264 output elements (known at compile time) and rows are
    longer than 128. The lanes combine strided elements of the row, then
    reduce across the warp with `gpu.shuffle xor` and, for a block, through
    shared memory; lane 0 combines the total into the output. The sum is
    reassociated (a tree, as every parallel reduction); max and min are
    exact. Other generics are left to the parallel-loop lowering, which
    walks a whole row in one thread.
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect", "::mlir::scf::SCFDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect"];
}

def QntDumpGpuBinariesPass : Pass<"qnt-dump-gpu-binaries", "::mlir::ModuleOp"> {
  let summary = "Write each gpu.binary object and its launches to files";
  let description = [{
    For programs that load generated kernels themselves (GPU tests and
    benchmarks): writes every object of every `gpu.binary` to
    `<dir>/<binary>.<chip>.<format>` and, for each `gpu.launch_func` with
    constant sizes, one line to `<dir>/launches.txt`:
    `<function> <binary> <kernel> <gridX> <gridY> <gridZ> <blockX> <blockY>
    <blockZ> <dynamic shared bytes>`. The IR is unchanged.
  }];
  let options = [
    Option<"dir", "dir", "std::string", /*default=*/"\".\"",
           "Directory to write the files to">
  ];
}

#endif // QMLIR_CONVERSION_PASSES_TD
