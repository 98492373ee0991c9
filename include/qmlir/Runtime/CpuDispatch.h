//===- CpuDispatch.h - Choosing CPU kernels at load time --------*- C++ -*-===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// A library compiled for a named CPU (`quant-compile --cpu x86-64`) holds
// each CPU kernel three times, for AVX-512, AVX2 + FMA and plain x86-64, and
// calls the one that the int32 global `qnt_cpu_isa` (a CpuLevel, 0 until
// set) selects. The runtime sets it after loading the library, to the best
// level this CPU supports, or to the one the environment variable
// QMLIR_CPU_ISA (generic, avx2 or avx512) asks for. Plain C++: the compiler
// uses the names and levels, the runtime programs the rest.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_RUNTIME_CPUDISPATCH_H
#define QMLIR_RUNTIME_CPUDISPATCH_H

#include <cstdint>
#include <string>

namespace qmlir::runtime {

/// The symbol of the level global in a dispatching library.
inline constexpr const char *kCpuIsaSymbol = "qnt_cpu_isa";

/// Kernel levels, in the global's encoding.
enum class CpuLevel : int32_t { Generic = 0, Avx2 = 1, Avx512 = 2 };

/// "generic", "avx2" or "avx512".
const char *cpuLevelName(CpuLevel level);

/// The best level this CPU runs (AVX-512: avx512f; AVX2: avx2 and fma).
CpuLevel detectCpuLevel();

/// The level to run: QMLIR_CPU_ISA's if set (an error if unknown or beyond
/// this CPU), else detectCpuLevel().
bool chooseCpuLevel(CpuLevel &level, std::string &error);

/// Sets the level global of a library loaded with dlopen, if it has one.
/// `description` tells which kernels run ("avx2 (runtime dispatch: ...)"
/// or that the library was compiled for one CPU).
bool initCpuDispatch(void *library, std::string &description,
                     std::string &error);

} // namespace qmlir::runtime

#endif // QMLIR_RUNTIME_CPUDISPATCH_H
