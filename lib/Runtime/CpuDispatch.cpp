//===- CpuDispatch.cpp - Choosing CPU kernels at load time ----------------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Runtime/CpuDispatch.h"

#include <cstdlib>
#include <dlfcn.h>

using namespace qmlir::runtime;

bool qmlir::runtime::chooseCpuLevel(CpuLevel &level, std::string &error) {
  CpuLevel best = detectCpuLevel();
  const char *asked = std::getenv("QMLIR_CPU_ISA");
  if (!asked || !*asked) {
    level = best;
    return true;
  }
  std::string name = asked;
  std::optional<CpuLevel> named = parseCpuLevel(name);
  if (!named) {
    error = "QMLIR_CPU_ISA=" + name + ": unknown (expected " + cpuLevelNames() +
            ")";
    return false;
  }
  if (*named > best) {
    error = "QMLIR_CPU_ISA=" + name + ": this CPU cannot run " + name +
            " kernels (best: " + cpuLevelName(best) + ")";
    return false;
  }
  level = *named;
  return true;
}

bool qmlir::runtime::initCpuDispatch(void *library, std::string &description,
                                     std::string &error) {
  // AMX kernels (a library compiled for an AMX CPU, or the amx level) need
  // the tile state, which Linux grants per process on request.
  (void)amxUsable();
  auto *global = static_cast<int32_t *>(dlsym(library, kCpuIsaSymbol));
  if (!global) {
    description = "compiled for one CPU (no runtime dispatch)";
    return true;
  }
  CpuLevel level;
  if (!chooseCpuLevel(level, error))
    return false;
  *global = static_cast<int32_t>(level);
  description =
      std::string(cpuLevelName(level)) +
      " (runtime dispatch; this CPU's best: " + cpuLevelName(detectCpuLevel()) +
      ")";
  return true;
}
