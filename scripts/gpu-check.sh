#!/usr/bin/env bash
# GPU tests and benchmarks of the generated CUDA kernels.
#
#   scripts/gpu-check.sh prepare   (build machine: LLVM/MLIR + CUDA toolkit)
#       builds quant-opt and qnt-gpu-harness, generates the test and bench
#       cases, compiles their kernels for sm_90 and puts everything the GPU
#       machine needs into .gpu/ (git-ignored; carry it with the device tool).
#   scripts/gpu-check.sh run [OUT]  (GPU machine: driver, python3 + torch)
#       runs the correctness cases, a whole compiled function (bench/gpu/e2e),
#       compute-sanitizer memcheck on a subset,
#       the kernel benchmark and the cuBLAS / tinygemm anchors; logs go to
#       OUT (default .gpu/results).
#   scripts/gpu-check.sh prepare-sweep / sweep [OUT]
#       the same for a sweep of kernel parameters (SWEEP: pipeline options)
#       over the M = 1 and M = 16 cases, plus ncu profiles of two skinny
#       kernels.
#   scripts/gpu-check.sh profile [OUT] (GPU machine, after prepare)
#       ncu profiles of one GEMV (M = 1) and one tensor-core GEMM (M = 2048)
#       case: speed of light, compute and memory workload, occupancy.
#   scripts/gpu-check.sh report DIR (build machine)
#       turns the logs of a run into bench/results/gpu-<date>.md.
set -euo pipefail
cd "$(dirname "$0")/.."
G=.gpu

prepare() {
  scripts/setup.sh
  ninja -C build qnt-gpu-harness
  rm -rf "$G" && mkdir -p "$G/test" "$G/bench" "$G/bin"
  for set in test bench; do
    python3 bench/gpu/gen_cases.py --set $set "$G/$set"
    build/bin/quant-opt "$G/$set/cases.mlir" \
      --qnt-cuda-pipeline="chip=sm_90 format=bin" \
      --qnt-dump-gpu-binaries="dir=$G/$set" -o /dev/null
  done
  cp build/bin/qnt-gpu-harness build/lib/libQMLIRCudaRuntime.so "$G/bin/"
  cp bench/gpu/anchors.py "$G/"
  # The end-to-end check: a whole compiled function (host code + fatbin).
  local llvm=/usr/lib/llvm-22/bin
  build/bin/quant-opt bench/gpu/e2e/layer.mlir --qnt-cuda-pipeline="chip=sm_90" |
    $llvm/mlir-translate --mlir-to-llvmir -o "$G/layer.ll"
  $llvm/llc -O2 -filetype=obj -relocation-model=pic "$G/layer.ll" -o "$G/layer.o"
  c++ -O2 -std=c++17 -Iinclude bench/gpu/e2e/e2e.cpp "$G/layer.o" \
    build/lib/Numerics/libQMLIRNumerics.a -L"$G/bin" -lQMLIRCudaRuntime \
    -L/usr/local/cuda/lib64/stubs -lcuda -Wl,-rpath,'$ORIGIN' \
    -o "$G/bin/e2e-layer"
  rm "$G/layer.ll" "$G/layer.o"
  du -sh "$G"
}

# name:pipeline options (the skinny kernel's warps per block and unroll).
SWEEP="default: w4u1:skinny-warps=4,skinny-unroll=1 w4u4:skinny-warps=4,skinny-unroll=4
w8u2:skinny-warps=8,skinny-unroll=2 w16u2:skinny-warps=16,skinny-unroll=2
w2u4:skinny-warps=2,skinny-unroll=4 w8u4:skinny-warps=8,skinny-unroll=4"

prepare_sweep() {
  scripts/setup.sh
  ninja -C build qnt-gpu-harness
  rm -rf "$G" && mkdir -p "$G/bin"
  for v in $SWEEP; do
    local name=${v%%:*} opts=${v#*:}
    local d="$G/sweep-$name"
    mkdir -p "$d"
    python3 bench/gpu/gen_cases.py --set sweep "$d"
    build/bin/quant-opt "$d/cases.mlir" \
      --qnt-cuda-pipeline="chip=sm_90 format=bin ${opts//,/ }" \
      --qnt-dump-gpu-binaries="dir=$d" -o /dev/null
  done
  cp build/bin/qnt-gpu-harness build/lib/libQMLIRCudaRuntime.so "$G/bin/"
  cp bench/gpu/anchors.py "$G/"
  du -sh "$G"
}

sweep() {
  local out=${1:-$G/results}
  mkdir -p "$out"
  export LD_LIBRARY_PATH="$PWD/$G/bin:${LD_LIBRARY_PATH:-}"
  for d in "$G"/sweep-*; do
    echo "== ${d#$G/}"
    "$G/bin/qnt-gpu-harness" "$d" --bench
  done 2>&1 | tee "$out/sweep.log"
  for c in int4g128_bf16_m1_n28672_k4096 int4g128_bf16_m1_n4096_k14336; do
    ncu --section SpeedOfLight --section Occupancy --section WarpStateStats \
      --section MemoryWorkloadAnalysis --section SchedulerStats -c 1 \
      "$G/bin/qnt-gpu-harness" "$G/sweep-default" --bench --filter "$c" \
      --iters 1 > "$out/ncu-$c.log" 2>&1
    grep -E "Duration|Throughput|Hit Rate|Occupancy|Registers|Issued|Eligible|Stall|Warp Cycles" "$out/ncu-$c.log" | head -n 40
  done
}

profile() {
  local out=${1:-$G/results}
  mkdir -p "$out"
  export LD_LIBRARY_PATH="$PWD/$G/bin:${LD_LIBRARY_PATH:-}"
  for c in int4g128_bf16_m1_n28672_k4096 int4g128_bf16_m2048_n28672_k4096; do
    ncu --section SpeedOfLight --section ComputeWorkloadAnalysis \
      --section MemoryWorkloadAnalysis --section Occupancy -c 1 \
      "$G/bin/qnt-gpu-harness" "$G/bench" --bench --filter "$c" --iters 1 \
      > "$out/ncu-$c.log" 2>&1
    grep -E "Duration|Throughput|Pipe|Occupancy|Registers" "$out/ncu-$c.log" | head -n 30
  done
}

run() {
  local out=${1:-$G/results}
  mkdir -p "$out"
  export LD_LIBRARY_PATH="$PWD/$G/bin:${LD_LIBRARY_PATH:-}"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/device.txt"
  local rc=0
  "$G/bin/qnt-gpu-harness" "$G/test" 2>&1 | tee "$out/test.log" || rc=1
  "$G/bin/e2e-layer" 2>&1 | tee -a "$out/test.log" || rc=1
  # memcheck every scheme's M=16 case (the sanitizer is slow).
  compute-sanitizer --tool memcheck --error-exitcode 3 \
    "$G/bin/qnt-gpu-harness" "$G/test" --filter _m16_ 2>&1 | tail -n 25 | tee "$out/memcheck.log" || rc=1
  "$G/bin/qnt-gpu-harness" "$G/bench" --bench 2>&1 | tee "$out/bench.log" || rc=1
  python3 "$G/anchors.py" 2>&1 | tee "$out/anchors.log" || rc=1
  return $rc
}

case "${1:-}" in
  prepare) prepare ;;
  prepare-sweep) prepare_sweep ;;
  sweep) shift; sweep "$@" ;;
  profile) shift; profile "$@" ;;
  run) shift; run "$@" ;;
  report) shift; python3 bench/gpu/report.py "$@" ;;
  *) echo "usage: scripts/gpu-check.sh prepare | run [OUT] | prepare-sweep | sweep [OUT] | profile [OUT] | report DIR" >&2; exit 2 ;;
esac
