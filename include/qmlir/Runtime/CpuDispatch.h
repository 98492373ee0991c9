//===- CpuDispatch.h - Choosing CPU kernels at load time --------*- C++ -*-===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// A library compiled for a named CPU (`quant-compile --cpu x86-64`) holds
// each CPU kernel for AVX-512, AVX2 + FMA and plain x86-64 (the integer
// kernels also for AVX-512 VNNI, bf16-compute ones for AVX-512 BF16), and
// calls the best one at or below the level that the int32 global
// `qnt_cpu_isa` (a CpuLevel, 0 until set) selects. The runtime sets it after
// loading the library, to the best level this CPU supports, or to the one the
// environment variable QMLIR_CPU_ISA (one of kCpuLevels' names) asks for. Plain
// C++: the compiler uses the names and levels, the runtime programs the rest.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_RUNTIME_CPUDISPATCH_H
#define QMLIR_RUNTIME_CPUDISPATCH_H

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace qmlir::runtime {

/// The symbol of the level global in a dispatching library.
inline constexpr const char *kCpuIsaSymbol = "qnt_cpu_isa";

/// Kernel levels, in the global's encoding.
enum class CpuLevel : int32_t {
  Generic = 0,
  Avx2 = 1,
  Avx512 = 2,
  /// AVX-512 with VNNI (vpdpwssd; AVX512_VNNI + VL + BW).
  Avx512Vnni = 3,
  /// AVX-512 with VNNI and BF16 (vdpbf16ps, vcvtne2ps2bf16):
  /// Cooper Lake, Sapphire Rapids, Zen 4 and later.
  Avx512Bf16 = 4
};

/// Every level, lowest first.
inline constexpr CpuLevel kCpuLevels[] = {
    CpuLevel::Generic, CpuLevel::Avx2, CpuLevel::Avx512, CpuLevel::Avx512Vnni,
    CpuLevel::Avx512Bf16};

/// "generic", "avx2", "avx512", "avx512vnni" or "avx512bf16" (also the
/// compiler's `isa` names).
inline const char *cpuLevelName(CpuLevel level) {
  switch (level) {
  case CpuLevel::Generic:
    return "generic";
  case CpuLevel::Avx2:
    return "avx2";
  case CpuLevel::Avx512:
    return "avx512";
  case CpuLevel::Avx512Vnni:
    return "avx512vnni";
  case CpuLevel::Avx512Bf16:
    return "avx512bf16";
  }
  return "unknown";
}

/// The level `name` (a cpuLevelName) stands for.
/// "generic, avx2, ..., avx512bf16": the names, for messages.
inline std::string cpuLevelNames() {
  std::string names;
  for (CpuLevel level : kCpuLevels)
    names += (names.empty() ? "" : ", ") + std::string(cpuLevelName(level));
  return names;
}

inline std::optional<CpuLevel> parseCpuLevel(std::string_view name) {
  for (CpuLevel level : kCpuLevels)
    if (name == cpuLevelName(level))
      return level;
  return std::nullopt;
}

/// The best level this CPU runs (AVX-512 BF16: the VNNI level's features
/// and avx512bf16; AVX-512 VNNI: avx512f, avx512vl, avx512bw and
/// avx512vnni; AVX-512: avx512f; AVX2: avx2 and fma); the compiler's
/// `isa=native` asks the same.
inline CpuLevel detectCpuLevel() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  bool avx512 = avx2 && __builtin_cpu_supports("avx512f");
  bool vnni = avx512 && __builtin_cpu_supports("avx512vl") &&
              __builtin_cpu_supports("avx512bw") &&
              __builtin_cpu_supports("avx512vnni");
  if (vnni && __builtin_cpu_supports("avx512bf16"))
    return CpuLevel::Avx512Bf16;
  if (vnni)
    return CpuLevel::Avx512Vnni;
  if (avx512)
    return CpuLevel::Avx512;
  if (avx2)
    return CpuLevel::Avx2;
#endif
  return CpuLevel::Generic;
}

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
