# -*- Python -*-
# lit configuration of the quant-mlir IR and integration tests.

import os
import shutil
import subprocess

import lit.formats
from lit.llvm import llvm_config

config.name = "QMLIR"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.qmlir_obj_root, "test")
config.excludes = ["lit.cfg.py", "lit.site.cfg.py", "reference", "Inputs"]

llvm_config.use_default_substitutions()

# %python is the interpreter CMake found (the one scripts/setup.sh gave numpy),
# ahead of LLVM's default, which is lit's own interpreter.
config.substitutions.insert(
    0, ("%python", config.python_executable or shutil.which("python3")))

config.substitutions.append(("%PATH%", config.environment["PATH"]))
runner_libs = "{0}/libmlir_runner_utils.so,{0}/libmlir_c_runner_utils.so".format(
    config.llvm_lib_dir)
config.substitutions.append(("%mlir_runner_libs", "-shared-libs=" + runner_libs))
config.substitutions.append(("%runner_lib_list", runner_libs))
config.substitutions.append(
    ("%amx_lib", os.path.join(config.qmlir_obj_root, "lib",
                              "libQMLIRAmxTileState.so")))
config.substitutions.append(
    ("%reference", os.path.join(config.qmlir_src_root, "test", "reference")))
config.substitutions.append(("%examples",
                             os.path.join(config.qmlir_src_root, "examples")))

llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.with_environment("PATH", config.qmlir_tools_dir, append_path=True)

tools = ["quant-opt", "quant-compile", "quant-run", "qnt-tokenize", "qnt-capi-test",
         "gguf-fuzzer-replay", "hf-fuzzer-replay", "model-fuzzer-replay",
         "mlir-fuzzer-replay",
         "mlir-runner", "mlir-translate", "opt", "llc"]
llvm_config.add_tool_substitutions(tools, [config.qmlir_tools_dir,
                                           config.llvm_tools_dir])

# The CUDA toolkit's PTX assembler checks generated PTX (no GPU needed).
ptxas = shutil.which("ptxas") or (
    "/usr/local/cuda/bin/ptxas" if os.path.exists("/usr/local/cuda/bin/ptxas")
    else None)
if ptxas:
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", ptxas))

# The CUDA runtime (built when a toolkit is present) for link checks.
if os.path.exists(os.path.join(config.qmlir_obj_root, "lib",
                               "libQMLIRCudaRuntime.so")):
    config.available_features.add("cuda-runtime")
config.substitutions.append(("%qmlir_obj", config.qmlir_obj_root))
# A C++ compiler for programs linked with the project's libraries: `c++`, or
# in an instrumented build (sanitizers, fuzzing) its compiler and flags.
instrument = getattr(config, "instrument_flags", "")
if instrument:
    config.available_features.add("instrumented")
    config.substitutions.append(
        ("%host_cxx", "{} {}".format(config.host_cxx, instrument)))
else:
    config.substitutions.append(("%host_cxx", "c++"))
config.substitutions.append(("%qmlir_src", config.qmlir_src_root))

# GPU execution tests need a CUDA driver and a device.
if shutil.which("nvidia-smi") and os.path.exists("/dev/nvidia0"):
    config.available_features.add("cuda")

# The real model that scripts/setup.sh installs (tests that need it say
# `REQUIRES: smollm2`).
smollm2 = os.environ.get("QMLIR_SMOLLM2_GGUF") or os.path.join(
    os.environ.get("QMLIR_MODEL_CACHE",
                   os.path.expanduser("~/.cache/quant-mlir")),
    "SmolLM2-135M-Instruct.Q4_1.gguf")
if os.path.exists(smollm2):
    config.available_features.add("smollm2")
    config.substitutions.append(("%smollm2", smollm2))
    config.environment["QMLIR_SMOLLM2_GGUF"] = smollm2
minilm = os.environ.get("QMLIR_MINILM_DIR") or os.path.join(
    os.environ.get("QMLIR_MODEL_CACHE",
                   os.path.expanduser("~/.cache/quant-mlir")),
    "all-MiniLM-L6-v2")
if os.path.exists(os.path.join(minilm, "model.safetensors")):
    config.available_features.add("minilm")
    config.environment["QMLIR_MINILM_DIR"] = minilm

# The Python package, built into build/python_packages (pytest imports it
# from there).
python_packages = os.path.join(config.qmlir_obj_root, "python_packages")
package_dir = os.path.join(python_packages, "qmlir")
if os.path.isdir(package_dir) and any(
        f.startswith("_qmlir") for f in os.listdir(package_dir)):
    config.available_features.add("python-bindings")
    config.environment["PYTHONPATH"] = python_packages
# WikiText-2 (test) from the workplace's shared data next to the checkout,
# or where QMLIR_WIKITEXT says.
wikitext = os.environ.get("QMLIR_WIKITEXT") or os.path.join(
    config.qmlir_src_root, "..", "shared", "data", "wikitext-2",
    "wiki.test.raw")
if os.path.exists(wikitext):
    config.available_features.add("wikitext")
    config.substitutions.append(("%wikitext", os.path.abspath(wikitext)))

# The generated CPU kernels' instruction sets this machine can run.
try:
    with open("/proc/cpuinfo") as f:
        cpu_flags = set(f.read().split())
except OSError:
    cpu_flags = set()
# Features of the kernel levels this CPU runs (CpuDispatch.h's order, read
# here from /proc/cpuinfo, independently of the runtime's cpuid checks):
# cpu-avx2, cpu-avx512, cpu-avx512vnni, cpu-avx512bf16, cpu-amx; and
# %cpu_best, the best level's name, which quant-run --verbose must report.
cpu_levels = [
    ("avx2", {"avx2", "fma"}),
    ("avx512", {"avx512f"}),
    ("avx512vnni", {"avx512vl", "avx512bw", "avx512_vnni"}),
    ("avx512bf16", {"avx512_bf16"}),
    ("amx", {"amx_tile", "amx_bf16", "amx_int8"}),
]
cpu_best = "generic"
for level, needs in cpu_levels:
    if not needs <= cpu_flags:
        break
    cpu_best = level
    config.available_features.add("cpu-" + level)
config.substitutions.append(("%cpu_best", cpu_best))
# Whether the CPU kernels built for this machine (isa=native) run their GEMV
# on the integer path (convert-qnt-to-cpu int-dot: AVX2 or AVX-512 only);
# `qref.py check --int-dot` then checks against that path.
config.substitutions.append(
    ("%int_dot", "true" if "avx2" in cpu_flags else "false"))
config.substitutions.append(
    ("%omp_lib", os.path.join(config.llvm_lib_dir, "libomp.so")))

# A private mount namespace with a small tmpfs (root, unshare): the tests of
# a full disk.
if os.geteuid() == 0 and shutil.which("unshare") and subprocess.run(
        ["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /mnt"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0:
    config.available_features.add("tmpfs")
