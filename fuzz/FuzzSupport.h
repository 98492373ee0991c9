//===- FuzzSupport.h - Helpers shared by the fuzz targets -------*- C++ -*-===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// The readers that take a path get the fuzzer's bytes through an anonymous
// in-memory file (memfd), named /proc/self/fd/N: no disk writes, and the
// reader maps it as it maps a real file.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_FUZZ_FUZZSUPPORT_H
#define QMLIR_FUZZ_FUZZSUPPORT_H

#include <cstdint>
#include <cstdlib>
#include <string>
#include <sys/mman.h>
#include <unistd.h>

namespace qmlir::fuzz {

/// An in-memory file holding `size` bytes; closed when it goes out of scope.
class MemFile {
public:
  MemFile(const uint8_t *data, size_t size) {
    fd = memfd_create("qmlir-fuzz", 0);
    if (fd < 0)
      std::abort();
    for (size_t done = 0; done < size;) {
      ssize_t n = write(fd, data + done, size - done);
      if (n <= 0)
        std::abort();
      done += size_t(n);
    }
  }
  ~MemFile() { close(fd); }
  std::string path() const { return "/proc/self/fd/" + std::to_string(fd); }

private:
  int fd = -1;
};

} // namespace qmlir::fuzz

#endif // QMLIR_FUZZ_FUZZSUPPORT_H
