//===- MappedFile.h - Model files mapped read-only --------------*- C++ -*-===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// Internal to lib/Import: how the readers of model files (GGUF,
// safetensors) map a file and give back the pages of a tensor they are done
// with, so that streaming a model keeps about one tensor resident.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_LIB_IMPORT_MAPPEDFILE_H
#define QMLIR_LIB_IMPORT_MAPPEDFILE_H

#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"

#include <memory>

namespace qmlir::import {

/// Maps `path` read-only (small files may be read into memory instead);
/// fails with "<path>: cannot open: <reason>".
llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>>
openModelFile(llvm::StringRef path);

/// Drops the whole pages of [data, data + bytes) from the process when
/// `buffer` is a mapping (madvise on heap memory would zero it); the bytes
/// stay readable, reread from the file.
void releasePages(const llvm::MemoryBuffer &buffer, const void *data,
                  uint64_t bytes);

} // namespace qmlir::import

#endif // QMLIR_LIB_IMPORT_MAPPEDFILE_H
