//===- GpuHostBuffers.cpp - --qnt-gpu-host-buffers ------------------------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Conversion/QntToGPU/QntToGPU.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace qmlir {
#define GEN_PASS_DEF_QNTGPUHOSTBUFFERSPASS
#include "qmlir/Conversion/Passes.h.inc"
} // namespace qmlir

using namespace mlir;

namespace {
struct QntGpuHostBuffersPass
    : public qmlir::impl::QntGpuHostBuffersPassBase<QntGpuHostBuffersPass> {
  void runOnOperation() override {
    getOperation().walk([&](func::FuncOp func) {
      if (!func.isDeclaration()) {
        func.walk([&](scf::ForOp loop) { carryInPlace(loop); });
        moveToDevice(func);
      }
    });
  }

  /// A loop that yields a new buffer each iteration (a model's hidden state
  /// over its layers) would leave every iteration's buffer unfreed: where
  /// the loop starts from a buffer not used after it, the iterations
  /// copy their result into that buffer instead, and the new buffers stay
  /// in (and are freed at the end of) their iteration.
  static void carryInPlace(scf::ForOp loop) {
    auto yield = cast<scf::YieldOp>(loop.getBody()->getTerminator());
    OpBuilder b(yield);
    for (auto [init, iterArg, yielded] :
         llvm::zip(loop.getInitArgs(), loop.getRegionIterArgs(),
                   yield.getOperands())) {
      auto type = dyn_cast<MemRefType>(iterArg.getType());
      // The initial buffer: allocated here, used before the loop only.
      auto usedBefore = [&](Operation *user) {
        return user == loop || (user->getBlock() == loop->getBlock() &&
                                user->isBeforeInBlock(loop));
      };
      if (!type || !type.getLayout().isIdentity() ||
          !init.getDefiningOp<memref::AllocOp>() ||
          !llvm::all_of(init.getUsers(), usedBefore) || yielded == iterArg ||
          !loop.getRegion().isAncestor(yielded.getParentRegion()))
        continue;
      memref::CopyOp::create(b, yield.getLoc(), yielded, iterArg);
      yield->replaceUsesOfWith(yielded, iterArg);
    }
  }

  /// True when the buffer, a view of it, or a loop result it starts, reaches
  /// a terminator (return, yield).
  static bool escapes(Value buffer) {
    SmallVector<Value> work = {buffer};
    while (!work.empty()) {
      Value v = work.pop_back_val();
      for (Operation *user : v.getUsers()) {
        if (user->hasTrait<OpTrait::IsTerminator>())
          return true;
        if (isa<ViewLikeOpInterface, memref::CastOp>(user))
          for (Value r : user->getResults())
            work.push_back(r);
        // A loop started from it may hand it on as its result.
        if (auto loop = dyn_cast<scf::ForOp>(user))
          for (OpOperand &init : loop.getInitArgsMutable())
            if (init.get() == v)
              work.push_back(loop.getTiedLoopResult(&init));
      }
    }
    return false;
  }

  void moveToDevice(func::FuncOp func) {
    SmallVector<Operation *> ops;
    func.walk([&](Operation *op) {
      if (isa<memref::AllocOp, memref::DeallocOp, memref::CopyOp,
              memref::GetGlobalOp>(op))
        ops.push_back(op);
    });
    OpBuilder b(func.getContext());
    Block &entry = func.getBody().front();
    // One device copy per host constant, made at entry, freed at returns.
    llvm::DenseMap<Attribute, Value> deviceGlobals;
    for (Operation *op : ops) {
      Location loc = op->getLoc();
      if (auto alloc = dyn_cast<memref::AllocOp>(op)) {
        b.setInsertionPoint(alloc);
        auto dev = gpu::AllocOp::create(
            b, loc, alloc.getType(), /*asyncToken=*/Type(), ValueRange{},
            alloc.getDynamicSizes(), alloc.getSymbolOperands());
        alloc.replaceAllUsesWith(dev.getMemref());
        alloc.erase();
        // A buffer that does not leave its block dies at the block's end;
        // one that is returned or yielded belongs to the receiver.
        if (!escapes(dev.getMemref())) {
          b.setInsertionPoint(dev->getBlock()->getTerminator());
          gpu::DeallocOp::create(b, loc, Type(), ValueRange{},
                                 dev.getMemref());
        }
      } else if (auto dealloc = dyn_cast<memref::DeallocOp>(op)) {
        b.setInsertionPoint(dealloc);
        gpu::DeallocOp::create(b, loc, /*asyncToken=*/Type(), ValueRange{},
                               dealloc.getMemref());
        dealloc.erase();
      } else if (auto copy = dyn_cast<memref::CopyOp>(op)) {
        b.setInsertionPoint(copy);
        // gpu.memcpy copies whole identity-layout buffers (its lowering
        // ignores a view's offset); views are copied by a kernel.
        auto identity = [](Value v) {
          return cast<MemRefType>(v.getType()).getLayout().isIdentity();
        };
        if (identity(copy.getSource()) && identity(copy.getTarget()))
          gpu::MemcpyOp::create(b, loc, /*asyncToken=*/Type(), ValueRange{},
                                copy.getTarget(), copy.getSource());
        else
          linalg::CopyOp::create(b, loc, copy.getSource(), copy.getTarget());
        copy.erase();
      } else if (auto get = dyn_cast<memref::GetGlobalOp>(op)) {
        Value &dev = deviceGlobals[get.getNameAttr()];
        if (!dev) {
          b.setInsertionPointToStart(&entry);
          auto host = memref::GetGlobalOp::create(b, loc, get.getType(),
                                                  get.getNameAttr());
          dev = gpu::AllocOp::create(b, loc, get.getType(), Type(),
                                     ValueRange{}, ValueRange{}, ValueRange{})
                    .getMemref();
          gpu::MemcpyOp::create(b, loc, Type(), ValueRange{}, dev, host);
          func.walk([&](func::ReturnOp ret) {
            b.setInsertionPoint(ret);
            gpu::DeallocOp::create(b, loc, Type(), ValueRange{}, dev);
          });
        }
        get.replaceAllUsesWith(dev);
        get.erase();
      }
    }
  }
};
} // namespace
