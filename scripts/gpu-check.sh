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
#       the same for a sweep of GEMV parameters (rows per warp, warps per
#       block, unroll) over the M = 1 cases, plus an ncu profile of one.
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

SWEEP="2,8,1 1,8,1 4,4,1 4,8,1 2,8,2 2,4,4 1,8,4"

prepare_sweep() {
  scripts/setup.sh
  ninja -C build qnt-gpu-harness
  rm -rf "$G" && mkdir -p "$G/bin"
  for v in $SWEEP; do
    IFS=, read -r r w u <<< "$v"
    d="$G/sweep-r${r}w${w}u${u}"
    mkdir -p "$d"
    python3 bench/gpu/gen_cases.py --set sweep "$d"
    build/bin/quant-opt "$d/cases.mlir" \
      --qnt-cuda-pipeline="chip=sm_90 format=bin gemv-rows-per-warp=$r gemv-warps-per-block=$w gemv-unroll=$u" \
      --qnt-dump-gpu-binaries="dir=$d" -o /dev/null
  done
  cp build/bin/qnt-gpu-harness build/lib/libQMLIRCudaRuntime.so "$G/bin/"
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
  ncu --section SpeedOfLight --section Occupancy --section WarpStateStats \
    --section MemoryWorkloadAnalysis -k regex:qnt_gemv_int4 -c 1 \
    "$G/bin/qnt-gpu-harness" "$G/sweep-r2w8u1" --bench --filter int4g128_bf16_m1_n28672 \
    --iters 1 2>&1 | tee "$out/ncu.log" | tail -n 60
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
