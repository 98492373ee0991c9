//===- CpuDispatch.cpp - Choosing CPU kernels at load time ----------------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Runtime/CpuDispatch.h"

#include <cstdlib>
#include <dlfcn.h>

using namespace qmlir::runtime;

const char *qmlir::runtime::cpuLevelName(CpuLevel level) {
  switch (level) {
  case CpuLevel::Generic:
    return "generic";
  case CpuLevel::Avx2:
    return "avx2";
  case CpuLevel::Avx512:
    return "avx512";
  }
  return "unknown";
}

CpuLevel qmlir::runtime::detectCpuLevel() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (avx2 && __builtin_cpu_supports("avx512f"))
    return CpuLevel::Avx512;
  if (avx2)
    return CpuLevel::Avx2;
#endif
  return CpuLevel::Generic;
}

bool qmlir::runtime::chooseCpuLevel(CpuLevel &level, std::string &error) {
  CpuLevel best = detectCpuLevel();
  const char *asked = std::getenv("QMLIR_CPU_ISA");
  if (!asked || !*asked) {
    level = best;
    return true;
  }
  std::string name = asked;
  for (CpuLevel l : {CpuLevel::Generic, CpuLevel::Avx2, CpuLevel::Avx512}) {
    if (name != cpuLevelName(l))
      continue;
    if (l > best) {
      error = "QMLIR_CPU_ISA=" + name + ": this CPU cannot run " + name +
              " kernels (best: " + cpuLevelName(best) + ")";
      return false;
    }
    level = l;
    return true;
  }
  error = "QMLIR_CPU_ISA=" + name + ": unknown (expected generic, avx2 or " +
          "avx512)";
  return false;
}

bool qmlir::runtime::initCpuDispatch(void *library, std::string &description,
                                     std::string &error) {
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
