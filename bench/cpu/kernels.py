#!/usr/bin/env python3
"""Times the generated CPU kernels (convert-qnt-to-cpu) on the issue's shapes.

For each scheme, (K, N) and M, writes a module whose main builds a weight
(codes from an index hash, constant scales), runs R chained qnt.matmul calls
between two rtclock() calls and prints the mean time; compiles it with
quant-opt --qnt-cpu-pipeline="openmp=1" and runs it with mlir-runner (libomp,
both cores). A STREAM-like read (sum of a 1 GiB f32 buffer, parallel rows)
in the same harness gives the machine's bandwidth. Prints a markdown table:
µs per call, GB/s of weight bytes, % of the measured read bandwidth,
GFLOP/s.

  bench/cpu/kernels.py [--build build] [--quick] > OUT.md
"""
import argparse, os, platform, subprocess, sys, time

SCHEMES = [("nf4", "nf4, group = 64", 64, False, 4), ("nf4+dq", "nf4, group = 64, double_quant", 64, True, 4),
           ("int4-g32", "int4, group = 32", 32, False, 4), ("int4-g64", "int4, group = 64", 64, False, 4),
           ("int8", "int8", 0, False, 8)]
SHAPES = [(4096, 14336), (14336, 4096)]


def module(spec, group, dq, bits, m, n, k, reps):
    groups = 1 if group == 0 else k // group
    cols = k if bits == 8 else k // 2
    sc_t = "i8" if dq else "f32"
    blocks = (n * groups + 255) // 256
    extra_args, extra_ops = "", ""
    if dq:
        extra_ops = f"""
  %dqe = tensor.empty() : tensor<{blocks}xf32>
  %dqs = linalg.fill ins(%s001 : f32) outs(%dqe : tensor<{blocks}xf32>) -> tensor<{blocks}xf32>
  %dqoe = tensor.empty() : tensor<f32>
  %dqo = linalg.fill ins(%zero : f32) outs(%dqoe : tensor<f32>) -> tensor<f32>"""
        extra_args = f" dq(%dqs : tensor<{blocks}xf32>, %dqo : tensor<f32>)"
    sc_fill = "%c7i8" if dq else "%s001"
    return f"""
func.func private @rtclock() -> f64
func.func private @printF64(f64)
func.func private @printNewline()
func.func @main() {{
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %s001 = arith.constant 0.01 : f32
  %c7i8 = arith.constant 7 : i8
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %reps = arith.constant {reps} : index
  %ce = tensor.empty() : tensor<{n}x{cols}xi8>
  %codes = linalg.generic {{indexing_maps = [affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]}} outs(%ce : tensor<{n}x{cols}xi8>) {{
  ^bb0(%o: i8):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %h = arith.muli %i, %j : index
    %h2 = arith.addi %h, %j : index
    %v = arith.index_cast %h2 : index to i8
    linalg.yield %v : i8
  }} -> tensor<{n}x{cols}xi8>
  %se = tensor.empty() : tensor<{n}x{groups}x{sc_t}>
  %sc = linalg.fill ins({sc_fill} : {sc_t}) outs(%se : tensor<{n}x{groups}x{sc_t}>) -> tensor<{n}x{groups}x{sc_t}>{extra_ops}
  %xe = tensor.empty() : tensor<{m}x{k}xf32>
  %x = linalg.fill ins(%one : f32) outs(%xe : tensor<{m}x{k}xf32>) -> tensor<{m}x{k}xf32>
  %ye = tensor.empty() : tensor<{m}x{n}xf32>
  %y0 = linalg.fill ins(%zero : f32) outs(%ye : tensor<{m}x{n}xf32>) -> tensor<{m}x{n}xf32>
  %warm = qnt.matmul <{spec}> %x : tensor<{m}x{k}xf32>, %codes : tensor<{n}x{cols}xi8> scales(%sc : tensor<{n}x{groups}x{sc_t}>){extra_args} outs(%y0 : tensor<{m}x{n}xf32>) -> tensor<{m}x{n}xf32>
  %t0 = call @rtclock() : () -> f64
  %y = scf.for %it = %c0 to %reps step %c1 iter_args(%acc = %warm) -> tensor<{m}x{n}xf32> {{
    %r = qnt.matmul <{spec}> %x : tensor<{m}x{k}xf32>, %codes : tensor<{n}x{cols}xi8> scales(%sc : tensor<{n}x{groups}x{sc_t}>){extra_args} outs(%acc : tensor<{m}x{n}xf32>) -> tensor<{m}x{n}xf32>
    scf.yield %r : tensor<{m}x{n}xf32>
  }}
  %t1 = call @rtclock() : () -> f64
  %dt = arith.subf %t1, %t0 : f64
  call @printF64(%dt) : (f64) -> ()
  call @printNewline() : () -> ()
  %probe = tensor.extract %y[%c0, %c0] : tensor<{m}x{n}xf32>
  %pd = arith.extf %probe : f32 to f64
  call @printF64(%pd) : (f64) -> ()
  call @printNewline() : () -> ()
  return
}}
"""


STREAM = """
func.func private @rtclock() -> f64
func.func private @printF64(f64)
func.func private @printNewline()
func.func @main() {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %ae = tensor.empty() : tensor<256x1048576xf32>
  %a = linalg.fill ins(%one : f32) outs(%ae : tensor<256x1048576xf32>) -> tensor<256x1048576xf32>
  %se = tensor.empty() : tensor<256xf32>
  %s0 = linalg.fill ins(%zero : f32) outs(%se : tensor<256xf32>) -> tensor<256xf32>
  %t0 = call @rtclock() : () -> f64
  %s = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>], iterator_types = ["parallel", "reduction"]} ins(%a : tensor<256x1048576xf32>) outs(%s0 : tensor<256xf32>) {
  ^bb0(%v: f32, %acc: f32):
    %r = arith.addf %acc, %v fastmath<reassoc> : f32
    linalg.yield %r : f32
  } -> tensor<256xf32>
  %t1 = call @rtclock() : () -> f64
  %dt = arith.subf %t1, %t0 : f64
  call @printF64(%dt) : (f64) -> ()
  call @printNewline() : () -> ()
  %c0 = arith.constant 0 : index
  %p = tensor.extract %s[%c0] : tensor<256xf32>
  %pd = arith.extf %p : f32 to f64
  call @printF64(%pd) : (f64) -> ()
  call @printNewline() : () -> ()
  return
}
"""


def run(build, text):
    llvm = "/usr/lib/llvm-22"
    opt = subprocess.run([os.path.join(build, "bin", "quant-opt"), "-", "--qnt-cpu-pipeline=openmp=1"],
                         input=text, capture_output=True, text=True, check=True).stdout
    libs = ",".join(os.path.join(llvm, "lib", l) for l in
                    ("libmlir_c_runner_utils.so", "libmlir_runner_utils.so", "libomp.so"))
    out = subprocess.run([os.path.join(llvm, "bin", "mlir-runner"), "-e", "main", "-entry-point-result=void",
                          "-O3", "-shared-libs=" + libs], input=opt, capture_output=True, text=True, check=True).stdout
    return float(out.split()[0])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--build", default="build")
    p.add_argument("--quick", action="store_true", help="M = 1 only")
    a = p.parse_args()
    secs = min(run(a.build, STREAM) for _ in range(3))
    bw = 256 * 1048576 * 4 / secs / 1e9
    cpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    model = next((l.split(":", 1)[1].strip() for l in cpu.splitlines() if l.startswith("Model name")), platform.processor())
    print(f"# Generated CPU kernels (convert-qnt-to-cpu), {time.strftime('%Y-%m-%d')}\n")
    print(f"Machine: {model}, {os.cpu_count()} cores; kernels for this machine (`isa=native`), OpenMP on all cores.")
    print(f"Measured read bandwidth (sum of 1 GiB of f32, same harness): {bw:.1f} GB/s.\n")
    print("| scheme | K x N | M | µs / call | weight GB/s | % of read bandwidth | GFLOP/s |")
    print("|---|---|---|---|---|---|---|")
    for name, spec, group, dq, bits in SCHEMES:
        for k, n in SHAPES:
            for m in ([1] if a.quick else [1, 8, 512]):
                reps = 20 if m <= 8 else 2
                t = run(a.build, module(spec, group, dq, bits, m, n, k, reps)) / reps
                groups = 1 if group == 0 else k // group
                wbytes = n * k * bits / 8 + n * groups * (1 if dq else 4)
                gbs = wbytes / t / 1e9
                gflops = 2 * m * n * k / t / 1e9
                print(f"| {name} | {k} x {n} | {m} | {t * 1e6:.0f} | {gbs:.1f} | {100 * gbs / bw:.0f} % | {gflops:.1f} |", flush=True)


if __name__ == "__main__":
    sys.exit(main())
