//===- AmxTileState.cpp - Asks Linux for the AMX tile state at load -------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// A process runs AMX instructions only after asking the kernel for the tile
// data state (arch_prctl). quant-run and the model runtime ask when they
// load a model; a program that only loads libraries (mlir-runner running
// kernels compiled with isa=amx, as the lit tests do) loads this one with
// them (`-shared-libs=libQMLIRAmxTileState.so,...`): its initializer asks.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Runtime/CpuDispatch.h"

namespace {
struct RequestAmxTileState {
  RequestAmxTileState() { (void)qmlir::runtime::amxUsable(); }
} requestAmxTileState;
} // namespace
