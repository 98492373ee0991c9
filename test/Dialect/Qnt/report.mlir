// The report of a hand-computable weight, in both formats; the IR is unchanged.
// RUN: quant-opt %s --qnt-report="scheme=int8" -o %t.ir > %t.table
// RUN: FileCheck %s --check-prefix=TABLE < %t.table
// RUN: FileCheck %s --check-prefix=IR < %t.ir
// RUN: quant-opt %s --qnt-report="scheme=int8 format=csv output=%t.csv" -o /dev/null
// RUN: FileCheck %s --check-prefix=CSV < %t.csv

// W^T = [[1, -2], [0.5, 0.25]] dequantizes (int8, per row) to
// [[64*2/127, -2], [0.5, 64*0.5/127]]: errors 0.0078740, 0, 0, 0.0019685, so
// RMSE = sqrt((0.0078740^2 + 0.0019685^2) / 4) = 4.058e-3 and
// SQNR = 10 log10(5.3125 / (0.0078740^2 + 0.0019685^2)) = 49.07 dB.
// Bytes: 4 codes + 2 f32 scales = 12 (24 bits per weight at this tiny size).
// TABLE: qnt-report: scheme #qnt.scheme<int8>
// TABLE: tiny {{ *}}2 x 2 {{ *}}4 {{ *}}16.00 B {{ *}}8.00 B {{ *}}12.00 B {{ *}}24.000 {{ *}}75.00% 150.00% {{ *}}4.058e-03 {{ *}}49.07

// The second weight is already quantized (int4, K = 4 in 2 groups of 2):
// 4 x 2 code bytes + 4 x 2 f32 scales = 40 B; no values, so no error.
// TABLE: already_quantized {{ *}}4 x 4 {{ *}}16 {{ *}}64.00 B {{ *}}32.00 B {{ *}}40.00 B {{ *}}20.000 {{ *}}62.50% 125.00% {{ *}}- {{ *}}-
// Totals: 20 parameters, 52 B; the error covers only the first weight.
// TABLE: total (2 weights) {{ *}}20 {{ *}}80.00 B {{ *}}40.00 B {{ *}}52.00 B {{ *}}20.800 {{ *}}65.00% 130.00% {{ *}}4.058e-03 {{ *}}49.07
// TABLE: summary: 80.00 B of weights -> 52.00 B quantized (65.00% of FP32, 130.00% of FP16), 20.800 bits per weight

// CSV: weight,scheme,n,k,params,fp32_bytes,fp16_bytes,code_bytes,scale_bytes,zero_point_bytes,dq_bytes,quant_bytes,bits_per_weight,pct_fp32,pct_fp16,rmse,sqnr_db
// CSV-NEXT: tiny,#qnt.scheme<int8>,2,2,4,16,8,4,8,0,0,12,24.0000,75.000,150.000,4.058e-03,49.07
// CSV-NEXT: already_quantized,"#qnt.scheme<int4, group = 2>",4,4,16,64,32,8,32,0,0,40,20.0000,62.500,125.000,-,-

// IR: linalg.matmul
// IR-NOT: qnt.matmul{{.*}}int8
func.func @f(%x: tensor<3x2xf32>, %init: tensor<3x2xf32>, %x4: tensor<1x4xf32>, %c: tensor<4x2xi8>, %s: tensor<4x2xf32>, %i4: tensor<1x4xf32>) -> (tensor<3x2xf32>, tensor<1x4xf32>) {
  %w = arith.constant dense<[[1.0, 0.5], [-2.0, 0.25]]> : tensor<2x2xf32>
  %y = linalg.matmul ins(%x, %w : tensor<3x2xf32>, tensor<2x2xf32>) outs(%init : tensor<3x2xf32>) -> tensor<3x2xf32> loc("tiny")
  %z = qnt.matmul #qnt.scheme<int4, group = 2> %x4 : tensor<1x4xf32>, %c : tensor<4x2xi8> scales(%s : tensor<4x2xf32>) outs(%i4 : tensor<1x4xf32>) -> tensor<1x4xf32> loc("already_quantized")
  return %y, %z : tensor<3x2xf32>, tensor<1x4xf32>
}
