//===- GpuHostBuffers.cpp - --qnt-gpu-host-buffers ------------------------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Conversion/QntToGPU/QntToGPU.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
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
      if (!func.isDeclaration())
        moveToDevice(func);
    });
  }

  /// True when the buffer, or a view of it, reaches a terminator (return,
  /// yield) or an op this pass cannot see through.
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
        gpu::MemcpyOp::create(b, loc, /*asyncToken=*/Type(), ValueRange{},
                              copy.getTarget(), copy.getSource());
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
