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
#if defined(__linux__) && defined(__x86_64__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

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
  Avx512Bf16 = 4,
  /// The BF16 level and AMX (tile registers; AMX-BF16, AMX-INT8): Sapphire
  /// Rapids and later, where the OS grants the tile state (Linux:
  /// arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA)).
  Amx = 5
};

/// Every level, lowest first.
inline constexpr CpuLevel kCpuLevels[] = {
    CpuLevel::Generic,    CpuLevel::Avx2,       CpuLevel::Avx512,
    CpuLevel::Avx512Vnni, CpuLevel::Avx512Bf16, CpuLevel::Amx};

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
  case CpuLevel::Amx:
    return "amx";
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

/// Whether this process may run AMX instructions: the CPU has AMX-TILE,
/// AMX-BF16 and AMX-INT8, and (Linux) the kernel grants the tile data state
/// on request; the request is per process and idempotent.
inline bool amxUsable() {
#if defined(__linux__) && defined(__x86_64__)
  if (!__builtin_cpu_supports("amx-tile") ||
      !__builtin_cpu_supports("amx-bf16") ||
      !__builtin_cpu_supports("amx-int8"))
    return false;
  constexpr long kReqXcompPerm = 0x1023, kXfeatureXtileData = 18;
  return syscall(SYS_arch_prctl, kReqXcompPerm, kXfeatureXtileData) == 0;
#else
  return false;
#endif
}

/// The best level this CPU runs (AMX: the BF16 level and amxUsable();
/// AVX-512 BF16: the VNNI level's features
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
  bool bf16 = vnni && __builtin_cpu_supports("avx512bf16");
  if (bf16 && amxUsable())
    return CpuLevel::Amx;
  if (bf16)
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

/// Sets the level global of a library loaded with dlopen, if it has one;
/// first requests the AMX tile state where the CPU has AMX.
/// `description` tells which kernels run ("avx2 (runtime dispatch: ...)"
/// or that the library was compiled for one CPU).
bool initCpuDispatch(void *library, std::string &description,
                     std::string &error);

} // namespace qmlir::runtime

#endif // QMLIR_RUNTIME_CPUDISPATCH_H
