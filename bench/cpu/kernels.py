#!/usr/bin/env python3
"""Times the generated CPU kernels (convert-qnt-to-cpu) on the issue's shapes.

For each scheme, (K, N) and M, writes a module whose main builds a weight
(codes from an index hash, constant scales), runs R chained qnt.matmul calls
between two rtclock() calls and prints the mean time; compiles it with
quant-opt --qnt-cpu-pipeline="openmp=1" and runs it with mlir-runner (libomp,
both cores). A STREAM-like read (sum of a 1 GiB f32 buffer, parallel rows,
8-lane vector loads, four accumulators; fastest of 5 passes) in the same
harness gives the machine's bandwidth, and independent chains of each
peak instruction (f32 FMA; with --prepare also vdpbf16ps and vpdpwssd)
their peak rates. Every shape runs both kernel paths: integer (the
default, int-dot) and f32 activations (int-dot=0; for M > 8 both take the
f32 tiles below AVX-512 VNNI); the unquantized f32 layer (the contraction
the model compiler emits, same pipeline) is the baseline. Prints a
markdown table:
µs per call (fastest of the calls), GB/s of weight bytes, % of the measured read bandwidth,
GFLOP/s.

  bench/cpu/kernels.py [--build build] [--quick] > OUT.md

For a machine without LLVM (the GPU machine's AVX-512 host CPU): --isa
names the kernel levels to time (each row's path is then `int <isa>`, the
default kernels, for each level below avx512bf16, and `bf16 <isa>`, the
scheme with compute = bf16, at avx512 and avx512bf16);
--prepare DIR compiles every case into a stand-alone executable there
(llc, a C stub for the timer and printer, libomp copied beside them) and
writes DIR/cases.json; --run DIR (python3 alone) runs them on this machine
and prints the table. Threads: OMP_NUM_THREADS, and taskset to pin them.

  bench/cpu/kernels.py --isa avx2,avx512,avx512vnni,avx512bf16 --prepare .cpubench
  OMP_NUM_THREADS=2 taskset -c 0,1 bench/cpu/kernels.py --run .cpubench > OUT.md
"""
import argparse, json, os, platform, shutil, subprocess, sys, time

SCHEMES = [("nf4", "nf4, group = 64", 64, False, 4), ("nf4+dq", "nf4, group = 64, double_quant", 64, True, 4),
           ("int4-g32", "int4, group = 32", 32, False, 4), ("int4-g64", "int4, group = 64", 64, False, 4),
           ("int8", "int8", 0, False, 8),
           # W8A8 with LLM.int8's threshold (x is all ones here: no outliers).
           ("int8-w8a8", "int8, act = int8, outlier_threshold = 6.0", 0, False, 8)]
SHAPES = [(4096, 14336), (14336, 4096)]


def main_module(body, seconds, probe):
    """The harness's main(): `body` (MLIR, may use %c0 and %c1) defines the
    f64 %`seconds` and the f32 %`probe` (a result value, printed so that the
    work cannot be dropped); main prints both."""
    return f"""
func.func private @rtclock() -> f64
func.func private @printF64(f64)
func.func private @printNewline()
func.func @main() {{
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
{body}
  %probe_f64 = arith.extf {probe} : f32 to f64
  call @printF64({seconds}) : (f64) -> ()
  call @printNewline() : () -> ()
  call @printF64(%probe_f64) : (f64) -> ()
  call @printNewline() : () -> ()
  return
}}
"""


def fastest(reps, iter_args, types, body, yields):
    """An scf.for of `reps` rounds carrying `iter_args` (with %bst, the
    fastest round's seconds, last), each round's `body` between two
    rtclock() calls; the results are named %res (a multi-result value)."""
    return f"""  %inf = arith.constant 1.0e9 : f64
  %rounds = arith.constant {reps} : index
  %res:{len(types) + 1} = scf.for %it = %c0 to %rounds step %c1 iter_args({iter_args}, %bst = %inf) -> ({", ".join(types)}, f64) {{
    %t0 = func.call @rtclock() : () -> f64
{body}
    %t1 = func.call @rtclock() : () -> f64
    %dt = arith.subf %t1, %t0 : f64
    %nb = arith.minimumf %bst, %dt : f64
    scf.yield {yields}, %nb : {", ".join(types)}, f64
  }}"""


def timed(m, n, k, reps, setup, ops):
    """main(): `setup` (defines the weight operands), x [M, K] of ones, y = 0;
    `ops` (texts with {{acc}} and {{w}}: y = op(acc), one per weight copy w
    = 0, 1, ..., chained) once to warm up, then `reps` rounds, each between
    two rtclock() calls; prints the fastest round's seconds per op (this
    shared VM's speed varies from second to second) and y[0, 0]. Several
    weight copies keep a small weight from staying in the 32 MiB L3."""
    yt = f"tensor<{m}x{n}xf32>"

    def chain(acc, prefix):
        lines = []
        for w, op in enumerate(ops):
            lines.append(f"%{prefix}{w} = " + op.format(acc=acc, w=w))
            acc = f"%{prefix}{w}"
        return "\n    ".join(lines), acc

    warm, warm_out = chain("%y0", "warm")
    step, step_out = chain("%acc", "r")
    body = f"""  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %s001 = arith.constant 0.01 : f32
  %c7i8 = arith.constant 7 : i8{setup}
  %xe = tensor.empty() : tensor<{m}x{k}xf32>
  %x = linalg.fill ins(%one : f32) outs(%xe : tensor<{m}x{k}xf32>) -> tensor<{m}x{k}xf32>
  %ye = tensor.empty() : {yt}
  %y0 = linalg.fill ins(%zero : f32) outs(%ye : {yt}) -> {yt}
  {warm}
{fastest(reps, f"%acc = {warm_out}", [yt], "    " + step, step_out)}
  %nops = arith.constant {float(len(ops))} : f64
  %per = arith.divf %res#1, %nops : f64
  %probe = tensor.extract %res#0[%c0, %c0] : {yt}"""
    return main_module(body, "%per", "%probe")


def module(spec, group, dq, bits, m, n, k, reps):
    """A quantized layer: codes from an index hash, constant scales."""
    groups = 1 if group == 0 else k // group
    cols = k if bits == 8 else k // 2
    sc_t = "i8" if dq else "f32"
    blocks = (n * groups + 255) // 256
    extra_args, setup = "", ""
    if dq:
        setup = f"""
  %dqe = tensor.empty() : tensor<{blocks}xf32>
  %dqs = linalg.fill ins(%s001 : f32) outs(%dqe : tensor<{blocks}xf32>) -> tensor<{blocks}xf32>
  %dqoe = tensor.empty() : tensor<f32>
  %dqo = linalg.fill ins(%zero : f32) outs(%dqoe : tensor<f32>) -> tensor<f32>"""
        extra_args = f" dq(%dqs : tensor<{blocks}xf32>, %dqo : tensor<f32>)"
    sc_fill = "%c7i8" if dq else "%s001"
    copies = min(8, -(-64 * 2 ** 20 // (n * cols)))  # 64 MiB of codes: twice the L3.
    for w in range(copies):
        setup += f"""
  %ce{w} = tensor.empty() : tensor<{n}x{cols}xi8>
  %codes{w} = linalg.generic {{indexing_maps = [affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]}} outs(%ce{w} : tensor<{n}x{cols}xi8>) {{
  ^bb0(%o: i8):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %h = arith.muli %i, %j : index
    %h2 = arith.addi %h, %j : index
    %h3 = arith.addi %h2, %c{w}_idx : index
    %v = arith.index_cast %h3 : index to i8
    linalg.yield %v : i8
  }} -> tensor<{n}x{cols}xi8>"""
    setup = "".join(f"\n  %c{w}_idx = arith.constant {w} : index" for w in range(copies)) + setup + f"""
  %se = tensor.empty() : tensor<{n}x{groups}x{sc_t}>
  %sc = linalg.fill ins({sc_fill} : {sc_t}) outs(%se : tensor<{n}x{groups}x{sc_t}>) -> tensor<{n}x{groups}x{sc_t}>"""
    op = (f"qnt.matmul <{spec}> %x : tensor<{m}x{k}xf32>, %codes{{w}} : tensor<{n}x{cols}xi8> "
          f"scales(%sc : tensor<{n}x{groups}x{sc_t}>){extra_args} "
          f"outs({{acc}} : tensor<{m}x{n}xf32>) -> tensor<{m}x{n}xf32>")
    return timed(m, n, k, reps, setup, [op] * copies)


def f32_module(m, n, k, reps):
    """The unquantized layer: x [M, K] times an f32 weight [N, K]^T, the
    contraction the whole-model compiler emits for an f32 linear layer."""
    setup = f"""
  %we = tensor.empty() : tensor<{n}x{k}xf32>
  %w = linalg.fill ins(%s001 : f32) outs(%we : tensor<{n}x{k}xf32>) -> tensor<{n}x{k}xf32>"""
    # As LlamaBuilder::linear builds it: loops (n, t, k), fast-math sums.
    op = ("linalg.generic {{indexing_maps = [affine_map<(n, t, l) -> (t, l)>, affine_map<(n, t, l) -> (n, l)>, "
          "affine_map<(n, t, l) -> (t, n)>], iterator_types = [\"parallel\", \"parallel\", \"reduction\"]}} "
          f"ins(%x, %w : tensor<{m}x{k}xf32>, tensor<{n}x{k}xf32>) outs({{acc}} : tensor<{m}x{n}xf32>) {{{{\n"
          "  ^bb0(%a: f32, %b: f32, %c: f32):\n"
          "    %p = arith.mulf %a, %b fastmath<reassoc,contract> : f32\n"
          "    %q = arith.addf %c, %p fastmath<reassoc,contract> : f32\n"
          "    linalg.yield %q : f32\n"
          f"  }}}} -> tensor<{m}x{n}xf32>")
    return timed(m, n, k, reps, setup, [op])


STREAM = main_module("""  %one = arith.constant 1.0 : f32
  %z8 = arith.constant dense<0.0> : vector<8xf32>
  %c8 = arith.constant 8 : index
  %c16 = arith.constant 16 : index
  %c24 = arith.constant 24 : index
  %c32 = arith.constant 32 : index
  %rows = arith.constant 256 : index
  %cols = arith.constant 1048576 : index
  %ae = tensor.empty() : tensor<256x1048576xf32>
  %a = linalg.fill ins(%one : f32) outs(%ae : tensor<256x1048576xf32>) -> tensor<256x1048576xf32>
  %m = bufferization.to_buffer %a read_only : tensor<256x1048576xf32> to memref<256x1048576xf32>
  %sums = memref.alloc() : memref<256xf32>
""" + fastest(5, "%pass_sum = %one", ["f32"], """    scf.parallel (%i) = (%c0) to (%rows) step (%c1) {
      %r:4 = scf.for %j = %c0 to %cols step %c32 iter_args(%s0 = %z8, %s1 = %z8, %s2 = %z8, %s3 = %z8) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>) {
        %j1 = arith.addi %j, %c8 : index
        %j2 = arith.addi %j, %c16 : index
        %j3 = arith.addi %j, %c24 : index
        %v0 = vector.load %m[%i, %j] : memref<256x1048576xf32>, vector<8xf32>
        %v1 = vector.load %m[%i, %j1] : memref<256x1048576xf32>, vector<8xf32>
        %v2 = vector.load %m[%i, %j2] : memref<256x1048576xf32>, vector<8xf32>
        %v3 = vector.load %m[%i, %j3] : memref<256x1048576xf32>, vector<8xf32>
        %n0 = arith.addf %s0, %v0 : vector<8xf32>
        %n1 = arith.addf %s1, %v1 : vector<8xf32>
        %n2 = arith.addf %s2, %v2 : vector<8xf32>
        %n3 = arith.addf %s3, %v3 : vector<8xf32>
        scf.yield %n0, %n1, %n2, %n3 : vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>
      }
      %p0 = arith.addf %r#0, %r#1 : vector<8xf32>
      %p1 = arith.addf %r#2, %r#3 : vector<8xf32>
      %p = arith.addf %p0, %p1 : vector<8xf32>
      %s = vector.reduction <add>, %p : vector<8xf32> into f32
      memref.store %s, %sums[%i] : memref<256xf32>
      scf.reduce
    }
    %sum0 = memref.load %sums[%c0] : memref<256xf32>""", "%sum0"), "%res#1", "%res#0")


# Peak instructions: (accumulator element, lanes, operand type, operand
# values, the op with {acc}, {a}, {b} or an LLVM intrinsic's name).
PEAK_OPS = {
    "fma8": ("f32", 8, "vector<8xf32>", "0.999999", "0.000001", "vector.fma {acc}, {a}, {b} : vector<8xf32>"),
    "fma16": ("f32", 16, "vector<16xf32>", "0.999999", "0.000001", "vector.fma {acc}, {a}, {b} : vector<16xf32>"),
    "dpbf16": ("f32", 16, "vector<32xbf16>", "0.001", "0.001", "llvm.x86.avx512bf16.dpbf16ps.512"),
    "dpwssd": ("i32", 16, "vector<32xi16>", "1", "1", "llvm.x86.avx512.vpdpwssd.512"),
}


def peak_flops(op):
    """Flops (multiply-adds x 2) per instruction of a PEAK_OPS entry."""
    _, lanes, operand, *_ = PEAK_OPS[op]
    return 2 * lanes * (2 if operand.startswith("vector<32x") else 1)


def peak_module(op, iters=20_000_000, accs=12):
    """Independent chains of `op` (PEAK_OPS) on every core: the peak rate of
    that instruction as the same harness sees it."""
    elem, lanes, operand, a, b, text = PEAK_OPS[op]
    acc_t = f"vector<{lanes}x{elem}>"
    add = "arith.addi" if elem == "i32" else "arith.addf"
    names = [f"%a{j}" for j in range(accs)]
    init = ", ".join(f"{n} = %v{j}" for j, n in enumerate(names))  # distinct: no CSE
    types = ", ".join([acc_t] * accs)
    wrapper = ""
    if text.startswith("llvm.x86."):  # Through an always-inline function, as the kernels call them.
        sig = f"({acc_t}, {operand}, {operand}) -> {acc_t}"
        wrapper = f"""llvm.func internal @peak_op(%acc: {acc_t}, %a: {operand}, %b: {operand}) -> {acc_t} attributes {{always_inline}} {{
  %r = llvm.call_intrinsic "{text}"(%acc, %a, %b) : {sig}
  llvm.return %r : {acc_t}
}}"""
        text = f"llvm.call @peak_op({{acc}}, {{a}}, {{b}}) : {sig}"
    body = "\n      ".join(f"%n{j} = " + text.format(acc=names[j], a="%mul", b="%add") for j in range(accs))
    yields = ", ".join(f"%n{j}" for j in range(accs))
    total = "%r#0"
    lines = []
    for j in range(1, accs):
        lines.append(f"%s{j} = {add} {total}, %r#{j} : {acc_t}")
        total = f"%s{j}"
    sums = "\n    ".join(lines)
    inits = "\n  ".join(f"%v{j} = arith.constant dense<{j + 1 if elem == 'i32' else 1.0 + j / 64}> : {acc_t}"
                        for j in range(accs))
    final = (f"%si = vector.reduction <add>, {total} : {acc_t} into i32\n    %s = arith.sitofp %si : i32 to f32"
             if elem == "i32" else f"%s = vector.reduction <add>, {total} : {acc_t} into f32")
    return wrapper + main_module(f"""  %threads = arith.constant 64 : index
  %iters = arith.constant {iters // 32} : index
  {inits}
  %mul = arith.constant dense<{a}> : {operand}
  %add = arith.constant dense<{b}> : {operand}
  %out = memref.alloc() : memref<64xf32>
  %t0 = call @rtclock() : () -> f64
  scf.parallel (%t) = (%c0) to (%threads) step (%c1) {{
    %r:{accs} = scf.for %i = %c0 to %iters step %c1 iter_args({init}) -> ({types}) {{
      {body}
      scf.yield {yields} : {types}
    }}
    {sums}
    {final}
    memref.store %s, %out[%t] : memref<64xf32>
    scf.reduce
  }}
  %t1 = call @rtclock() : () -> f64
  %dt = arith.subf %t1, %t0 : f64
  %p = memref.load %out[%c0] : memref<64xf32>""", "%dt", "%p")


LLVM = "/usr/lib/llvm-22"


def lower(build, text, options="openmp=1"):
    return subprocess.run([os.path.join(build, "bin", "quant-opt"), "-", "--qnt-cpu-pipeline=" + options],
                          input=text, capture_output=True, text=True, check=True).stdout


def run(build, text, options="openmp=1"):
    """JIT: the seconds main() prints."""
    libs = ",".join(os.path.join(LLVM, "lib", l) for l in
                    ("libmlir_c_runner_utils.so", "libmlir_runner_utils.so", "libomp.so"))
    out = subprocess.run([os.path.join(LLVM, "bin", "mlir-runner"), "-e", "main", "-entry-point-result=void",
                          "-O3", "-shared-libs=" + libs], input=lower(build, text, options),
                         capture_output=True, text=True, check=True).stdout
    return float(out.split()[0])


# What the executables need of MLIR's runner libraries (which need libLLVM).
STUB = r"""#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
double rtclock(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }
void printF64(double v) { printf("%.9g", v); }
void printNewline(void) { printf("\n"); }
void bench_main(void);
/* AMX kernels need the tile state, which Linux grants on request. */
int main(void) { syscall(SYS_arch_prctl, 0x1023, 18); bench_main(); return 0; }
"""


def build_exe(build, text, options, path, cpu="x86-64-v3"):
    """A stand-alone executable of the module (kernels carry their own ISA's
    target features; the rest is compiled for `cpu`)."""
    mlir = lower(build, text, options).replace("@main(", "@bench_main(")
    ir = subprocess.run([os.path.join(LLVM, "bin", "mlir-translate"), "--mlir-to-llvmir"], input=mlir,
                        capture_output=True, text=True, check=True).stdout
    target = ["-O3", "-mtriple=x86_64-unknown-linux-gnu", "-mcpu=" + cpu]
    subprocess.run([os.path.join(LLVM, "bin", "opt"), *target, "-o", path + ".bc"], input=ir, text=True, check=True)
    subprocess.run([os.path.join(LLVM, "bin", "llc"), *target, "-filetype=obj", "-relocation-model=pic",
                    path + ".bc", "-o", path + ".o"], check=True)
    stub = os.path.join(os.path.dirname(path), "stub.c")
    subprocess.run(["cc", "-O2", stub, path + ".o", "-L" + os.path.dirname(path), "-l:libomp.so.5",
                    "-Wl,-rpath,$ORIGIN", "-o", path], check=True)
    os.remove(path + ".bc")
    os.remove(path + ".o")


def run_exe(path):
    out = subprocess.run([path], capture_output=True, text=True, check=True).stdout
    return float(out.split()[0])


def cases(isas, ms, wanted):
    """(row fields, module text, pipeline options, weight bytes) of every
    timed case; fields = (scheme, path, k, n, m)."""
    out = []
    for k, n in SHAPES if "f32" in wanted else []:
        for m in ms:
            reps = 5 if m <= 8 else 1
            out.append((("f32", "unquantized", k, n, m), f32_module(m, n, k, reps), "openmp=1", n * k * 4))
    for name, spec, group, dq, bits in SCHEMES:
        if name not in wanted:
            continue
        for k, n in SHAPES:
            for m in ms:
                reps = 20 if m <= 8 else 2
                groups = 1 if group == 0 else k // group
                wbytes = n * k * bits / 8 + n * groups * (1 if dq else 4)
                if "act = int8" in spec:  # Integer arithmetic only.
                    paths = [("int" + (f" {isa}" if isa else ""), spec,
                              "openmp=1" + (f" isa={isa}" if isa else ""))
                             for isa in (isas or [None]) if isa != "avx512bf16"]
                elif isas is None:
                    paths = [("int", spec, "openmp=1"), ("f32", spec, "openmp=1 int-dot=0")]
                else:  # At avx512bf16 the f32 compute kernels are avx512vnni's.
                    paths = [(f"int {isa}", spec, f"openmp=1 isa={isa}") for isa in isas
                             if isa not in ("avx512bf16", "amx")]
                    paths += [(f"bf16 {isa}", spec + ", compute = bf16", f"openmp=1 isa={isa}")
                              for isa in isas if isa in ("avx512", "avx512bf16", "amx")]
                for path, sp, options in paths:
                    out.append(((name, path, k, n, m), module(sp, group, dq, bits, m, n, k, reps), options, wbytes))
    return out


FMA_ITERS = 20_000_000
# The peak modules and the CPU each needs (its /proc/cpuinfo flag).
PEAK_CPUS = {"fma8": "x86-64-v3", "fma16": "x86-64-v4", "dpbf16": "sapphirerapids", "dpwssd": "icelake-server"}
PEAK_FLAGS = {"fma8": "fma", "fma16": "avx512f", "dpbf16": "avx512_bf16", "dpwssd": "avx512_vnni"}


def prepare(build, isas, ms, wanted, where):
    os.makedirs(where, exist_ok=True)
    shutil.copy(os.path.join(LLVM, "lib", "libomp.so.5"), where)
    with open(os.path.join(where, "stub.c"), "w") as f:
        f.write(STUB)
    manifest = {"isas": isas, "fma": []}
    build_exe(build, STREAM, "openmp=1", os.path.join(where, "stream"))
    for op, cpu in PEAK_CPUS.items():
        build_exe(build, peak_module(op, FMA_ITERS), "openmp=1", os.path.join(where, op), cpu=cpu)
        manifest["fma"].append(op)
    manifest["cases"] = []
    for i, (fields, text, options, wbytes) in enumerate(cases(isas, ms, wanted)):
        name = f"case{i}"
        build_exe(build, text, options, os.path.join(where, name))
        manifest["cases"].append([name, list(fields), wbytes])
        print(f"{name}: {fields}", file=sys.stderr, flush=True)
    os.remove(os.path.join(where, "stub.c"))
    with open(os.path.join(where, "cases.json"), "w") as f:
        json.dump(manifest, f)


def header(bw, peak, peak_text, threads_text):
    cpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    model = next((l.split(":", 1)[1].strip() for l in cpu.splitlines() if l.startswith("Model name")), platform.processor())
    print(f"# Generated CPU kernels (convert-qnt-to-cpu), {time.strftime('%Y-%m-%d')}\n")
    print(f"Machine: {model}, {os.cpu_count()} cores; {threads_text}.")
    print(f"Measured read bandwidth (sum of 1 GiB of f32, same harness): {bw:.1f} GB/s.")
    print(f"Measured f32 FMA peak ({peak_text}): {peak:.0f} GFLOP/s.\n")
    print("| scheme | path | K x N | M | µs / call | weight GB/s | % of read bandwidth | GFLOP/s | % of FMA peak |")
    print("|---|---|---|---|---|---|---|---|---|")

    def row(fields, t, wbytes):
        name, path, k, n, m = fields
        gbs = wbytes / t / 1e9
        gflops = 2 * m * n * k / t / 1e9
        print(f"| {name} | {path} | {k} x {n} | {m} | {t * 1e6:.0f} | {gbs:.1f} | {100 * gbs / bw:.0f} % | {gflops:.1f} "
              f"| {100 * gflops / peak:.0f} % |", flush=True)
    return row


def peak_gflops(op, secs):
    return 64 * (FMA_ITERS // 32) * 12 * peak_flops(op) / secs / 1e9


def run_prepared(where):
    with open(os.path.join(where, "cases.json")) as f:
        manifest = json.load(f)
    exe = lambda name: os.path.join(where, name)
    bw = 256 * 1048576 * 4 / run_exe(exe("stream")) / 1e9
    flags = set(next(l for l in open("/proc/cpuinfo") if l.startswith("flags")).split())
    peaks = {op: peak_gflops(op, min(run_exe(exe(op)) for _ in range(3)))
             for op in manifest["fma"] if PEAK_FLAGS[op] in flags}
    fma = max((op for op in peaks if op.startswith("fma")), key=peaks.get)
    threads = os.environ.get("OMP_NUM_THREADS", "all")
    cpus = ",".join(map(str, sorted(os.sched_getaffinity(0))))
    row = header(bw, peaks[fma], f"12 independent {fma[3:]}-lane FMA chains per thread. Other instructions' "
                 "peaks (12 independent chains, GFLOP/s counting a multiply-add as 2): "
                 + ", ".join(f"{op}: {p:.0f}" for op, p in peaks.items()),
                 f"kernels: {', '.join(manifest['isas'])} (compiled elsewhere); OpenMP threads: {threads}; "
                 f"CPUs {cpus}")
    for name, fields, wbytes in manifest["cases"]:
        row(fields, run_exe(exe(name)), wbytes)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--build", default="build")
    p.add_argument("--quick", action="store_true", help="M = 1 only")
    p.add_argument("--m", default="1,8,512", help="comma-separated activation rows (default 1,8,512)")
    p.add_argument("--isa", help="comma-separated kernel levels (default: native, int and f32 paths)")
    p.add_argument("--schemes", help="comma-separated scheme names (default: all, and the f32 path)")
    p.add_argument("--prepare", metavar="DIR", help="compile executables into DIR, do not run")
    p.add_argument("--run", metavar="DIR", help="run the executables --prepare made")
    a = p.parse_args()
    isas = a.isa.split(",") if a.isa else None
    ms = [1] if a.quick else [int(m) for m in a.m.split(",")]
    wanted = a.schemes.split(",") if a.schemes else ["f32"] + [s[0] for s in SCHEMES]
    unknown = [w for w in wanted if w not in [s[0] for s in SCHEMES] + ["f32"]]
    if unknown:
        p.error(f"unknown scheme {unknown[0]} (expected f32 or one of "
                + ", ".join(s[0] for s in SCHEMES) + ")")
    if a.prepare:
        return prepare(a.build, isas or ["avx2"], ms, wanted, a.prepare)
    if a.run:
        return run_prepared(a.run)
    secs = run(a.build, STREAM)
    bw = 256 * 1048576 * 4 / secs / 1e9
    peak = peak_gflops("fma8", min(run(a.build, peak_module("fma8", FMA_ITERS)) for _ in range(3)))
    row = header(bw, peak, "12 independent 8-lane FMA chains per thread, all cores",
                 "kernels for this machine (`isa=native`), OpenMP on all cores" if isas is None
                 else f"kernels: {a.isa}, OpenMP on all cores")
    for fields, text, options, wbytes in cases(isas, ms, wanted):
        row(fields, run(a.build, text, options), wbytes)


if __name__ == "__main__":
    sys.exit(main())
