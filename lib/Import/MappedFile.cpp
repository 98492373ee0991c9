//===- MappedFile.cpp - Model files mapped read-only ----------------------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#include "MappedFile.h"

#include "llvm/Support/Process.h"

#include <sys/mman.h>

using namespace llvm;

Expected<std::unique_ptr<MemoryBuffer>>
qmlir::import::openModelFile(StringRef path) {
  ErrorOr<std::unique_ptr<MemoryBuffer>> buffer =
      MemoryBuffer::getFile(path, /*IsText=*/false,
                            /*RequiresNullTerminator=*/false,
                            /*IsVolatile=*/false);
  if (std::error_code ec = buffer.getError())
    return createStringError(ec, path + ": cannot open: " + ec.message());
  return std::move(*buffer);
}

void qmlir::import::releasePages(const MemoryBuffer &buffer, const void *data,
                                 uint64_t bytes) {
  if (buffer.getBufferKind() != MemoryBuffer::MemoryBuffer_MMap)
    return;
  uintptr_t page = sys::Process::getPageSizeEstimate();
  uintptr_t first = reinterpret_cast<uintptr_t>(data);
  uintptr_t last = first + bytes;
  first = (first + page - 1) / page * page;
  last = last / page * page;
  if (last > first)
    ::madvise(reinterpret_cast<void *>(first), last - first, MADV_DONTNEED);
}
