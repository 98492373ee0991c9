//===- Report.cpp - --qnt-report ------------------------------------------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Dialect/Qnt/Transforms/LinearMatcher.h"
#include "qmlir/Dialect/Qnt/Transforms/Passes.h"

#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/ToolOutputFile.h"

#include <cmath>

namespace qmlir::qnt {
#define GEN_PASS_DEF_QNTREPORTPASS
#include "qmlir/Dialect/Qnt/Transforms/Passes.h.inc"
} // namespace qmlir::qnt

using namespace mlir;
using namespace qmlir;
using namespace qmlir::qnt;

namespace {
/// One row of the report.
struct Row {
  std::string name;
  std::string scheme;
  int64_t n = 0, k = 0;
  numerics::StorageBreakdown bytes;
  /// Error sums; `count == 0` when the weight's values were not available.
  double sumSq = 0, sumErrSq = 0;
  int64_t count = 0;
};

/// A short name for a weight: the NameLoc name, else file:line:col.
std::string shortName(Location loc) {
  if (auto name = llvm::dyn_cast<NameLoc>(loc))
    return name.getName().str();
  if (auto flc = llvm::dyn_cast<FileLineColLoc>(loc))
    return (llvm::sys::path::filename(flc.getFilename().getValue()) + ":" +
            llvm::Twine(flc.getLine()) + ":" + llvm::Twine(flc.getColumn()))
        .str();
  if (auto fused = llvm::dyn_cast<FusedLoc>(loc))
    if (!fused.getLocations().empty())
      return shortName(fused.getLocations().front());
  return "<unknown>";
}

std::string schemeString(SchemeAttr scheme) {
  std::string s;
  llvm::raw_string_ostream os(s);
  Attribute(scheme).print(os);
  return s;
}

/// Formats a byte count with a decimal unit ("7.50 GB" = 7.5e9 bytes), the
/// way model sizes are usually quoted.
std::string human(double bytes) {
  const char *units[] = {"B", "kB", "MB", "GB", "TB"};
  int u = 0;
  while (bytes >= 1000.0 && u < 4) {
    bytes /= 1000.0;
    ++u;
  }
  std::string s;
  llvm::raw_string_ostream(s) << llvm::format("%.2f %s", bytes, units[u]);
  return s;
}

/// A CSV field, quoted when it holds a comma or a quote (RFC 4180).
std::string csvField(StringRef field) {
  if (!field.contains(',') && !field.contains('"'))
    return field.str();
  std::string quoted = "\"";
  for (char c : field) {
    if (c == '"')
      quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

struct Totals {
  int64_t params = 0, quantBytes = 0, errCount = 0;
  double sumSq = 0, sumErrSq = 0;
};

void printTable(llvm::raw_ostream &os, ArrayRef<Row> rows, bool csv,
                StringRef scheme) {
  Totals t;
  if (!csv)
    os << "qnt-report: scheme " << scheme
       << " (sizes in decimal units; RMSE/SQNR of the dequantized weight)\n";
  if (csv)
    os << "weight,scheme,n,k,params,fp32_bytes,fp16_bytes,code_bytes,"
          "scale_bytes,zero_point_bytes,dq_bytes,quant_bytes,bits_per_weight,"
          "pct_fp32,pct_fp16,rmse,sqnr_db\n";
  else
    os << llvm::format("%-28s %-14s %12s %10s %10s %10s %7s %7s %7s %10s "
                       "%8s\n",
                       "weight", "N x K", "params", "FP32", "FP16",
                       "quantized", "bits/w", "%FP32", "%FP16", "RMSE",
                       "SQNR dB");
  auto errCols = [&](double sumSq, double sumErrSq, int64_t count) {
    if (count == 0)
      return std::make_pair(std::string("-"), std::string("-"));
    std::string rmse, sqnr = "inf";
    llvm::raw_string_ostream(rmse)
        << llvm::format("%.3e", std::sqrt(sumErrSq / count));
    if (sumErrSq != 0) {
      sqnr.clear();
      llvm::raw_string_ostream(sqnr)
          << llvm::format("%.2f", 10.0 * std::log10(sumSq / sumErrSq));
    }
    return std::make_pair(rmse, sqnr);
  };
  auto line = [&](StringRef name, StringRef scheme, StringRef shape,
                  int64_t params, int64_t q, double sumSq, double sumErrSq,
                  int64_t count, const numerics::StorageBreakdown *b) {
    double bpw = params ? 8.0 * q / params : 0.0;
    double p32 = params ? 100.0 * q / (4.0 * params) : 0.0;
    double p16 = params ? 100.0 * q / (2.0 * params) : 0.0;
    auto [rmse, sqnr] = errCols(sumSq, sumErrSq, count);
    if (csv) {
      os << csvField(name) << "," << csvField(scheme) << "," << shape << ","
         << params << ","
         << 4 * params << "," << 2 * params << ",";
      if (b)
        os << b->codeBytes << "," << b->scaleBytes << "," << b->zeroPointBytes
           << "," << b->dqBytes;
      else
        os << ",,,";
      os << "," << q << llvm::format(",%.4f,%.3f,%.3f,", bpw, p32, p16)
         << rmse << "," << sqnr << "\n";
      return;
    }
    os << llvm::format("%-28s %-14s %12lld %10s %10s %10s %7.3f %6.2f%% "
                       "%6.2f%% %10s %8s\n",
                       name.str().c_str(), shape.str().c_str(),
                       (long long)params, human(4.0 * params).c_str(),
                       human(2.0 * params).c_str(), human(q).c_str(), bpw,
                       p32, p16, rmse.c_str(), sqnr.c_str());
  };
  for (const Row &r : rows) {
    int64_t params = r.n * r.k;
    std::string shape = std::to_string(r.n) + (csv ? "," : " x ") +
                        std::to_string(r.k);
    line(r.name, r.scheme, shape, params, r.bytes.total(), r.sumSq,
         r.sumErrSq, r.count, &r.bytes);
    t.params += params;
    t.quantBytes += r.bytes.total();
    if (r.count > 0) {
      t.sumSq += r.sumSq;
      t.sumErrSq += r.sumErrSq;
      t.errCount += r.count;
    }
  }
  // Totals: error figures cover only the weights whose values were known.
  line("total (" + std::to_string(rows.size()) + " weights)", "",
       csv ? "," : "", t.params, t.quantBytes, t.sumSq, t.sumErrSq,
       t.errCount, nullptr);
  if (!csv && t.params > 0)
    os << llvm::format("summary: %s of weights -> %s quantized (%.2f%% of "
                       "FP32, %.2f%% of FP16), %.3f bits per weight\n",
                       human(4.0 * t.params).c_str(),
                       human(t.quantBytes).c_str(),
                       100.0 * t.quantBytes / (4.0 * t.params),
                       100.0 * t.quantBytes / (2.0 * t.params),
                       8.0 * t.quantBytes / t.params);
}

struct QntReportPass : public qnt::impl::QntReportPassBase<QntReportPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    FailureOr<LinearSelection> sel =
        parseSelection(module, scheme, symmetric, groupSize, doubleQuant,
                       computeType, actInt8, outlierThreshold, minSize, skip);
    if (failed(sel))
      return signalPassFailure();
    if (format != "table" && format != "csv") {
      module.emitError() << "invalid value '" << format
                         << "' for option 'format' (expected table or csv)";
      return signalPassFailure();
    }

    SmallVector<Row> rows;
    module.walk([&](Operation *op) {
      if (auto mm = dyn_cast<MatmulOp>(op)) {
        rows.push_back(existingRow(mm));
        return;
      }
      auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
      if (!linalgOp || !looksLinear(linalgOp))
        return;
      std::string why;
      FailureOr<LinearMatch> match = matchLinear(linalgOp, why);
      if (succeeded(match))
        why = sel->rejects(*match);
      if (!why.empty()) {
        if (emitRemarks)
          op->emitRemark() << "not in the report: " << why;
        return;
      }
      rows.push_back(measure(*match, sel->scheme));
    });

    std::string error;
    std::unique_ptr<llvm::ToolOutputFile> file =
        openOutputFile(output, &error);
    if (!file) {
      module.emitError() << "cannot write report to '" << output
                         << "': " << error;
      return signalPassFailure();
    }
    printTable(file->os(), rows, format == "csv", schemeString(sel->scheme));
    file->keep();
    markAllAnalysesPreserved();
  }

  /// Quantizes the weight's values (when known) and measures the error.
  Row measure(const LinearMatch &match, SchemeAttr scheme) {
    Row row;
    row.name = shortName(match.op->getLoc());
    row.scheme = schemeString(scheme);
    row.n = match.n;
    row.k = match.k;
    numerics::Scheme s = scheme.toNumerics();
    row.bytes = numerics::storageFor(s, match.n, match.k);
    std::vector<float> w;
    if (failed(match.readWeightNK(w)))
      return row;
    numerics::QuantizedWeight q = numerics::quantize(s, w.data(), row.n,
                                                     row.k);
    std::vector<float> deq = numerics::dequantize(q);
    for (size_t i = 0; i < w.size(); ++i) {
      double d = static_cast<double>(w[i]) - deq[i];
      row.sumSq += static_cast<double>(w[i]) * w[i];
      row.sumErrSq += d * d;
    }
    row.count = static_cast<int64_t>(w.size());
    return row;
  }

  /// A weight that is already quantized: sizes only.
  Row existingRow(MatmulOp mm) {
    Row row;
    row.name = shortName(mm.getLoc());
    row.scheme = schemeString(mm.getScheme());
    row.n = mm.getN();
    row.k = mm.getK();
    row.bytes = numerics::storageFor(mm.getScheme().toNumerics(), row.n,
                                     row.k);
    return row;
  }
};
} // namespace
