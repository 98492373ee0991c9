// The generated CPU kernels (convert-qnt-to-cpu) against the numpy reference
// (a rigorous f32 error bound), for each scheme family, the GEMV (M <= 8;
// 8 < M < 128 the GEMV on slices of 8 rows) and the tiles (M >= 128, cases
// 12 and 13), odd N (not a multiple of the 4 GEMV rows or of the tile
// columns) and per-channel K not a multiple of 32 (masked tail chunks), with
// the AVX2 kernels and the portable (lane by lane) ones. The same cases run
// with the AVX-512, VNNI, BF16 and AMX kernels where the CPU has them
// (cpu-kernels-{avx512,avx512vnni,avx512bf16,amx}.test, whose list,
// test/reference/cpu_cases.py, must stay these cases).
// RUN: rm -rf %t && mkdir -p %t
// RUN: %python %reference/qref.py gen --seed 1 --m 1 --k 128 --h 96 --n 19 --form matmul-tb > %t/1.mlir
// RUN: %python %reference/qref.py gen --seed 2 --m 9 --k 192 --h 64 --n 19 --form matmul-tb > %t/2.mlir
// RUN: %python %reference/qref.py gen --seed 3 --m 13 --k 77 --h 45 --n 33 --form matmul-tb > %t/3.mlir
// RUN: %python %reference/qref.py gen --seed 4 --m 5 --k 100 --h 64 --n 17 --form matmul-tb > %t/4.mlir
// RUN: %python %reference/qref.py gen --seed 5 --m 20 --k 256 --h 192 --n 40 --form matmul-tb > %t/5.mlir
// RUN: %python %reference/qref.py gen --seed 6 --m 4 --k 65 --h 33 --n 7 --form matmul-tb > %t/6.mlir
// RUN: %python %reference/qref.py gen --seed 7 --m 70 --k 1152 --h 96 --n 21 --form matmul-tb > %t/7.mlir
// RUN: %python %reference/qref.py gen --seed 8 --m 2 --k 2080 --h 96 --n 24 --form matmul-tb > %t/8.mlir
// RUN: %python %reference/qref.py gen --seed 9 --m 40 --k 1100 --h 300 --n 5 --form matmul-tb > %t/9.mlir
// RUN: %python %reference/qref.py gen --seed 10 --m 8 --k 2085 --h 64 --n 9 --form matmul-tb > %t/10.mlir
// RUN: %python %reference/qref.py gen --seed 11 --m 8 --k 1024 --h 64 --n 9 --form matmul-tb > %t/11.mlir
// RUN: %python %reference/qref.py gen --seed 12 --m 130 --k 200 --h 64 --n 37 --form matmul-tb > %t/12.mlir
// RUN: %python %reference/qref.py gen --seed 13 --m 144 --k 256 --h 64 --n 40 --form matmul-tb > %t/13.mlir
// W8A8 (act-int8, LLM.int8's outlier threshold): cases 14-17 and a batch.
// RUN: %python %reference/qref.py gen --seed 14 --m 1 --k 128 --h 96 --n 19 --form matmul-tb > %t/14.mlir
// RUN: %python %reference/qref.py gen --seed 15 --m 8 --k 77 --h 45 --n 33 --form matmul-tb > %t/15.mlir
// RUN: %python %reference/qref.py gen --seed 16 --m 20 --k 256 --h 192 --n 40 --form matmul-tb > %t/16.mlir
// RUN: %python %reference/qref.py gen --seed 17 --m 130 --k 200 --h 64 --n 37 --form matmul-tb > %t/17.mlir
// RUN: %python %reference/qref.py gen --seed 18 --m 3 --k 64 --h 32 --n 16 --form batch > %t/18.mlir

// RUN: %if cpu-avx2 %{ quant-opt %t/1.mlir --qnt-quantize-linear="scheme=nf4 group-size=32" --qnt-cpu-pipeline=isa=avx2 | mlir-runner -e main -entry-point-result=void %mlir_runner_libs | %python %reference/qref.py check --seed 1 --m 1 --k 128 --h 96 --n 19 --form matmul-tb --int-dot true --scheme nf4 --group-size 32 %}
// RUN: %if cpu-avx2 %{ quant-opt %t/2.mlir --qnt-quantize-linear="scheme=nf4 group-size=64 double-quant=true" --qnt-cpu-pipeline=isa=avx2 | mlir-runner -e main -entry-point-result=void %mlir_runner_libs | %python %reference/qref.py check --seed 2 --m 9 --k 192 --h 64 --n 19 --form matmul-tb --int-dot true --scheme nf4 --group-size 64 --double-quant true %}
// RUN: %if cpu-avx2 %{ quant-opt %t/3.mlir --qnt-quantize-linear="scheme=int4 symmetric=false group-size=0" --qnt-cpu-pipeline=isa=avx2 | mlir-runner -e main -entry-point-result=void %mlir_runner_libs | %python %reference/qref.py check --seed 3 --m 13 --k 77 --h 45 --n 33 --form matmul-tb --int-dot true --scheme int4 --symmetric false --group-size 0 %}
// RUN: %if cpu-avx2 %{ quant-opt %t/4.mlir --qnt-quantize-linear="scheme=int8" --qnt-cpu-pipeline=isa=avx2 | mlir-runner -e main -entry-point-result=void %mlir_runner_libs | %python %reference/qref.py check --seed 4 --m 5 --k 100 --h 64 --n 17 --form matmul-tb --int-dot true --scheme int8 %}
// RUN: %if cpu-avx2 %{ quant-opt %t/5.mlir --qnt-quantize-linear="scheme=int8 symmetric=false group-size=64" --qnt-cpu-pipeline=isa=avx2 | mlir-runner -e main -entry-point-result=void %mlir_runner_libs | %python %reference/qref.py check --seed 5 --m 20 --k 256 --h 192 --n 40 --form matmul-tb --int-dot true --scheme int8 --symmetric false --group-size 64 %}
// RUN: %if cpu-avx2 %{ quant-opt %t/6.mlir --qnt-quantize-linear="scheme=fp4 group-size=0" --qnt-cpu-pipeline=isa=avx2 | mlir-runner -e main -entry-point-result=void %mlir_runner_libs | %python %reference/qref.py check --seed 6 --m 4 --k 65 --h 33 --n 7 --form matmul-tb --int-dot true --scheme fp4 --group-size 0 %}
// RUN: %if cpu-avx2 %{ quant-opt %t/7.mlir --qnt-quantize-linear="scheme=int4 group-size=32" --qnt-cpu-pipeline=isa=avx2 | mlir-runner -e main -entry-point-result=void %mlir_runner_libs | %python %reference/qref.py check --seed 7 --m 70 --k 1152 --h 96 --n 21 --form matmul-tb --int-dot true --scheme int4 --group-size 32 %}
// RUN: %if cpu-avx2 %{ quant-opt %t/8.mlir --qnt-quantize-linear="scheme=int4 group-size=0" --qnt-cpu-pipeline=isa=avx2 | mlir-runner -e main -entry-point-result=void %mlir_runner_libs | %python %reference/qref.py check --seed 8 --m 2 --k 2080 --h 96 --n 24 --form matmul-tb --int-dot true --scheme int4 --group-size 0 %}
// RUN: %if cpu-avx2 %{ quant-opt %t/9.mlir --qnt-quantize-linear="scheme=int8 symmetric=false" --qnt-cpu-pipeline=isa=avx2 | mlir-runner -e main -entry-point-result=void %mlir_runner_libs | %python %reference/qref.py check --seed 9 --m 40 --k 1100 --h 300 --n 5 --form matmul-tb --int-dot true --scheme int8 --symmetric false %}
// The integer GEMV at its widest (8 activation rows): per channel with a
// long K ending in a partial block and a masked tail chunk, and nf4 in
// groups of 32 (one block per group).
// RUN: %if cpu-avx2 %{ quant-opt %t/10.mlir --qnt-quantize-linear="scheme=int4 group-size=0" --qnt-cpu-pipeline=isa=avx2 | mlir-runner -e main -entry-point-result=void %mlir_runner_libs | %python %reference/qref.py check --seed 10 --m 8 --k 2085 --h 64 --n 9 --form matmul-tb --int-dot true --scheme int4 --group-size 0 %}
// RUN: %if cpu-avx2 %{ quant-opt %t/11.mlir --qnt-quantize-linear="scheme=nf4 group-size=32" --qnt-cpu-pipeline=isa=avx2 | mlir-runner -e main -entry-point-result=void %mlir_runner_libs | %python %reference/qref.py check --seed 11 --m 8 --k 1024 --h 64 --n 9 --form matmul-tb --int-dot true --scheme nf4 --group-size 32 %}
// RUN: %if cpu-avx2 %{ quant-opt %t/12.mlir --qnt-quantize-linear="scheme=int4 symmetric=false group-size=0" --qnt-cpu-pipeline=isa=avx2 | mlir-runner -e main -entry-point-result=void %mlir_runner_libs | %python %reference/qref.py check --seed 12 --m 130 --k 200 --h 64 --n 37 --form matmul-tb --int-dot true --scheme int4 --symmetric false --group-size 0 %}
// RUN: %if cpu-avx2 %{ quant-opt %t/13.mlir --qnt-quantize-linear="scheme=nf4 group-size=64 double-quant=true" --qnt-cpu-pipeline=isa=avx2 | mlir-runner -e main -entry-point-result=void %mlir_runner_libs | %python %reference/qref.py check --seed 13 --m 144 --k 256 --h 64 --n 40 --form matmul-tb --int-dot true --scheme nf4 --group-size 64 --double-quant true %}
// RUN: %if cpu-avx2 %{ quant-opt %t/12.mlir --qnt-quantize-linear="scheme=int4 symmetric=false group-size=0" --qnt-cpu-pipeline="isa=avx2 int-dot=0" | mlir-runner -e main -entry-point-result=void %mlir_runner_libs | %python %reference/qref.py check --seed 12 --m 130 --k 200 --h 64 --n 37 --form matmul-tb --scheme int4 --symmetric false --group-size 0 %}
// RUN: %if cpu-avx2 %{ quant-opt %t/13.mlir --qnt-quantize-linear="scheme=nf4 group-size=64 double-quant=true" --qnt-cpu-pipeline="isa=avx2 int-dot=0" | mlir-runner -e main -entry-point-result=void %mlir_runner_libs | %python %reference/qref.py check --seed 13 --m 144 --k 256 --h 64 --n 40 --form matmul-tb --scheme nf4 --group-size 64 --double-quant true %}

// W8A8: activations per row to int8, integer sums, outliers (|x| >= T) in
// f32 (qref.py's reference: bnb's int8_vectorwise_quant per row). GEMV,
// masked tail, groups, pass slices (M = 20) and the kernel's own GEMV
// slices below AVX-512 VNNI (M = 130); each with the portable kernels too.
// RUN: %if cpu-avx2 %{ quant-opt %t/14.mlir --qnt-quantize-linear="scheme=int8 act-int8=1 outlier-threshold=2.5" --qnt-cpu-pipeline=isa=avx2 | mlir-runner -e main -entry-point-result=void %mlir_runner_libs | %python %reference/qref.py check --seed 14 --m 1 --k 128 --h 96 --n 19 --form matmul-tb --scheme int8 --act-int8 true --outlier-threshold 2.5 %}
// RUN: %if cpu-avx2 %{ quant-opt %t/15.mlir --qnt-quantize-linear="scheme=int8 act-int8=1 outlier-threshold=1.5" --qnt-cpu-pipeline=isa=avx2 | mlir-runner -e main -entry-point-result=void %mlir_runner_libs | %python %reference/qref.py check --seed 15 --m 8 --k 77 --h 45 --n 33 --form matmul-tb --scheme int8 --act-int8 true --outlier-threshold 1.5 %}
// RUN: %if cpu-avx2 %{ quant-opt %t/16.mlir --qnt-quantize-linear="scheme=int8 group-size=64 act-int8=1 outlier-threshold=2" --qnt-cpu-pipeline=isa=avx2 | mlir-runner -e main -entry-point-result=void %mlir_runner_libs | %python %reference/qref.py check --seed 16 --m 20 --k 256 --h 192 --n 40 --form matmul-tb --scheme int8 --group-size 64 --act-int8 true --outlier-threshold 2 %}
// RUN: %if cpu-avx2 %{ quant-opt %t/17.mlir --qnt-quantize-linear="scheme=int8 act-int8=1 outlier-threshold=2" --qnt-cpu-pipeline=isa=avx2 | mlir-runner -e main -entry-point-result=void %mlir_runner_libs | %python %reference/qref.py check --seed 17 --m 130 --k 200 --h 64 --n 37 --form matmul-tb --scheme int8 --act-int8 true --outlier-threshold 2 %}
// RUN: %if cpu-avx2 %{ quant-opt %t/17.mlir --qnt-quantize-linear="scheme=int8 act-int8=1" --qnt-cpu-pipeline="isa=avx2 openmp=1" | mlir-runner -e main -entry-point-result=void -shared-libs=%omp_lib %mlir_runner_libs | %python %reference/qref.py check --seed 17 --m 130 --k 200 --h 64 --n 37 --form matmul-tb --scheme int8 --act-int8 true %}
// RUN: quant-opt %t/14.mlir --qnt-quantize-linear="scheme=int8 act-int8=1 outlier-threshold=2.5" --qnt-cpu-pipeline=isa=generic | mlir-runner -e main -entry-point-result=void %mlir_runner_libs | %python %reference/qref.py check --seed 14 --m 1 --k 128 --h 96 --n 19 --form matmul-tb --scheme int8 --act-int8 true --outlier-threshold 2.5
// RUN: quant-opt %t/15.mlir --qnt-quantize-linear="scheme=int8 act-int8=1 outlier-threshold=1.5" --qnt-cpu-pipeline=isa=generic | mlir-runner -e main -entry-point-result=void %mlir_runner_libs | %python %reference/qref.py check --seed 15 --m 8 --k 77 --h 45 --n 33 --form matmul-tb --scheme int8 --act-int8 true --outlier-threshold 1.5
// RUN: quant-opt %t/17.mlir --qnt-quantize-linear="scheme=int8 act-int8=1 outlier-threshold=2" --qnt-cpu-pipeline=isa=generic | mlir-runner -e main -entry-point-result=void %mlir_runner_libs | %python %reference/qref.py check --seed 17 --m 130 --k 200 --h 64 --n 37 --form matmul-tb --scheme int8 --act-int8 true --outlier-threshold 2
// The reference lowering: 2-D and batched (3-D) matmuls.
// RUN: quant-opt %t/16.mlir --qnt-quantize-linear="scheme=int8 group-size=64 act-int8=1 outlier-threshold=2" --qnt-cpu-pipeline=kernels=0 | mlir-runner -e main -entry-point-result=void %mlir_runner_libs | %python %reference/qref.py check --seed 16 --m 20 --k 256 --h 192 --n 40 --form matmul-tb --scheme int8 --group-size 64 --act-int8 true --outlier-threshold 2
// RUN: quant-opt %t/18.mlir --qnt-quantize-linear="scheme=int8 act-int8=1 outlier-threshold=2" --qnt-cpu-pipeline=isa=avx2 | mlir-runner -e main -entry-point-result=void %mlir_runner_libs | %python %reference/qref.py check --seed 18 --m 3 --k 64 --h 32 --n 16 --form batch --scheme int8 --act-int8 true --outlier-threshold 2
// A check that knows the threshold fails the kernel without it (and the
// reverse): the reference tells the two apart on these cases.
// RUN: %if cpu-avx2 %{ quant-opt %t/17.mlir --qnt-quantize-linear="scheme=int8 act-int8=1" --qnt-cpu-pipeline=isa=avx2 | mlir-runner -e main -entry-point-result=void %mlir_runner_libs | not %python %reference/qref.py check --seed 17 --m 130 --k 200 --h 64 --n 37 --form matmul-tb --scheme int8 --act-int8 true --outlier-threshold 2 | FileCheck %s --check-prefix=WRONG %}
// RUN: quant-opt %t/15.mlir --qnt-quantize-linear="scheme=int8 act-int8=1 outlier-threshold=1.5" --qnt-cpu-pipeline=isa=generic | mlir-runner -e main -entry-point-result=void %mlir_runner_libs | not %python %reference/qref.py check --seed 15 --m 8 --k 77 --h 45 --n 33 --form matmul-tb --scheme int8 --act-int8 true | FileCheck %s --check-prefix=WRONG
// WRONG: FAIL int8 sym g0 a8

// The portable kernels, same cases.
// RUN: quant-opt %t/1.mlir --qnt-quantize-linear="scheme=nf4 group-size=32" --qnt-cpu-pipeline=isa=generic | mlir-runner -e main -entry-point-result=void %mlir_runner_libs | %python %reference/qref.py check --seed 1 --m 1 --k 128 --h 96 --n 19 --form matmul-tb --scheme nf4 --group-size 32
// RUN: quant-opt %t/2.mlir --qnt-quantize-linear="scheme=nf4 group-size=64 double-quant=true" --qnt-cpu-pipeline=isa=generic | mlir-runner -e main -entry-point-result=void %mlir_runner_libs | %python %reference/qref.py check --seed 2 --m 9 --k 192 --h 64 --n 19 --form matmul-tb --scheme nf4 --group-size 64 --double-quant true
// RUN: quant-opt %t/3.mlir --qnt-quantize-linear="scheme=int4 symmetric=false group-size=0" --qnt-cpu-pipeline=isa=generic | mlir-runner -e main -entry-point-result=void %mlir_runner_libs | %python %reference/qref.py check --seed 3 --m 13 --k 77 --h 45 --n 33 --form matmul-tb --scheme int4 --symmetric false --group-size 0
// RUN: quant-opt %t/4.mlir --qnt-quantize-linear="scheme=int8" --qnt-cpu-pipeline=isa=generic | mlir-runner -e main -entry-point-result=void %mlir_runner_libs | %python %reference/qref.py check --seed 4 --m 5 --k 100 --h 64 --n 17 --form matmul-tb --scheme int8
// RUN: quant-opt %t/6.mlir --qnt-quantize-linear="scheme=fp4 group-size=0" --qnt-cpu-pipeline=isa=generic | mlir-runner -e main -entry-point-result=void %mlir_runner_libs | %python %reference/qref.py check --seed 6 --m 4 --k 65 --h 33 --n 7 --form matmul-tb --scheme fp4 --group-size 0
// RUN: quant-opt %t/7.mlir --qnt-quantize-linear="scheme=int4 group-size=32" --qnt-cpu-pipeline=isa=generic | mlir-runner -e main -entry-point-result=void %mlir_runner_libs | %python %reference/qref.py check --seed 7 --m 70 --k 1152 --h 96 --n 21 --form matmul-tb --scheme int4 --group-size 32
// RUN: quant-opt %t/12.mlir --qnt-quantize-linear="scheme=int4 symmetric=false group-size=0" --qnt-cpu-pipeline=isa=generic | mlir-runner -e main -entry-point-result=void %mlir_runner_libs | %python %reference/qref.py check --seed 12 --m 130 --k 200 --h 64 --n 37 --form matmul-tb --scheme int4 --symmetric false --group-size 0
// RUN: quant-opt %t/13.mlir --qnt-quantize-linear="scheme=nf4 group-size=64 double-quant=true" --qnt-cpu-pipeline=isa=generic | mlir-runner -e main -entry-point-result=void %mlir_runner_libs | %python %reference/qref.py check --seed 13 --m 144 --k 256 --h 64 --n 40 --form matmul-tb --scheme nf4 --group-size 64 --double-quant true

// Both cores (OpenMP) give the same check; the reference lowering too.
// RUN: %if cpu-avx2 %{ quant-opt %t/7.mlir --qnt-quantize-linear="scheme=int4 group-size=32" --qnt-cpu-pipeline="isa=avx2 openmp=1" | mlir-runner -e main -entry-point-result=void -shared-libs=%omp_lib %mlir_runner_libs | %python %reference/qref.py check --seed 7 --m 70 --k 1152 --h 96 --n 21 --form matmul-tb --int-dot true --scheme int4 --group-size 32 %}
// RUN: %if cpu-avx2 %{ quant-opt %t/13.mlir --qnt-quantize-linear="scheme=nf4 group-size=64 double-quant=true" --qnt-cpu-pipeline="isa=avx2 openmp=1" | mlir-runner -e main -entry-point-result=void -shared-libs=%omp_lib %mlir_runner_libs | %python %reference/qref.py check --seed 13 --m 144 --k 256 --h 64 --n 40 --form matmul-tb --int-dot true --scheme nf4 --group-size 64 --double-quant true %}
// RUN: quant-opt %t/2.mlir --qnt-quantize-linear="scheme=nf4 group-size=64 double-quant=true" --qnt-cpu-pipeline=kernels=0 | mlir-runner -e main -entry-point-result=void %mlir_runner_libs | %python %reference/qref.py check --seed 2 --m 9 --k 192 --h 64 --n 19 --form matmul-tb --scheme nf4 --group-size 64 --double-quant true
