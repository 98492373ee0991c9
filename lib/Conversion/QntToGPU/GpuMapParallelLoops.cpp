//===- GpuMapParallelLoops.cpp - --qnt-gpu-map-parallel-loops -------------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Conversion/QntToGPU/QntToGPU.h"

#include "mlir/Dialect/GPU/Transforms/ParallelLoopMapper.h"
#include "mlir/Dialect/SCF/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/IR/PatternMatch.h"

namespace qmlir {
#define GEN_PASS_DEF_QNTGPUMAPPARALLELLOOPSPASS
#include "qmlir/Conversion/Passes.h.inc"
} // namespace qmlir

using namespace mlir;

namespace {
struct QntGpuMapParallelLoopsPass
    : public qmlir::impl::QntGpuMapParallelLoopsPassBase<
          QntGpuMapParallelLoopsPass> {
  using Base::Base;

  SmallVector<scf::ParallelOp> outermostUnmapped() {
    SmallVector<scf::ParallelOp> loops;
    getOperation().walk([&](scf::ParallelOp loop) {
      if (!loop->getParentOfType<scf::ParallelOp>() &&
          !loop->getAttr(gpu::getMappingAttrName()))
        loops.push_back(loop);
    });
    return loops;
  }

  void runOnOperation() override {
    if (blockSize <= 0) {
      getOperation().emitError()
          << "invalid value '" << static_cast<int64_t>(blockSize)
          << "' for option 'block-size' (expected a positive number)";
      return signalPassFailure();
    }
    IRRewriter rewriter(&getContext());
    // One dimension per loop nest, then tiles of blockSize points.
    for (scf::ParallelOp loop : outermostUnmapped()) {
      if (loop.getNumLoops() == 1)
        continue;
      std::vector<unsigned> all(loop.getNumLoops());
      std::iota(all.begin(), all.end(), 0u);
      rewriter.setInsertionPoint(loop);
      collapseParallelLoops(rewriter, loop, {all});
    }
    MLIRContext *ctx = &getContext();
    AffineMap id = AffineMap::getMultiDimIdentityMap(1, ctx);
    auto map = [&](gpu::Processor p) {
      return gpu::ParallelLoopDimMappingAttr::get(ctx, p, id, id);
    };
    for (scf::ParallelOp loop : outermostUnmapped()) {
      auto [outer, inner] =
          scf::tileParallelLoop(loop, {blockSize}, /*noMinMaxBounds=*/true);
      if (failed(gpu::setMappingAttr(outer, {map(gpu::Processor::BlockX)})) ||
          failed(gpu::setMappingAttr(inner, {map(gpu::Processor::ThreadX)}))) {
        outer.emitError("could not map the parallel loop to the GPU");
        return signalPassFailure();
      }
    }
  }
};
} // namespace
