//===- ReplayMain.cpp - Runs a fuzz target over files, without libFuzzer --===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// The fuzz targets built as plain programs (any compiler, no libFuzzer):
// `<target>-replay FILE|DIR...` feeds each file (a directory: each file in
// it) to LLVMFuzzerTestOneInput once. CI replays the committed corpora and
// crash regressions this way (test/Fuzz); under scripts/test.sh --sanitize
// they run with ASan and UBSan.
//
//===----------------------------------------------------------------------===//

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv) {
  namespace fs = std::filesystem;
  std::vector<fs::path> files;
  for (int i = 1; i < argc; ++i) {
    std::error_code ec;
    if (fs::is_directory(argv[i], ec)) {
      for (const fs::directory_entry &e : fs::directory_iterator(argv[i]))
        if (e.is_regular_file())
          files.push_back(e.path());
    } else if (fs::is_regular_file(argv[i], ec)) {
      files.push_back(argv[i]);
    } else {
      std::fprintf(stderr, "%s: error: %s: no such file or directory\n",
                   argv[0], argv[i]);
      return 1;
    }
  }
  std::sort(files.begin(), files.end());
  for (const fs::path &f : files) {
    std::ifstream in(f, std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                            std::istreambuf_iterator<char>());
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t *>(bytes.data()),
                           bytes.size());
  }
  std::printf("replayed %zu inputs\n", files.size());
  return 0;
}
