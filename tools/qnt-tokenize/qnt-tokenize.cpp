//===- qnt-tokenize.cpp - Tokenize text with a model's own tokenizer ------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// Runs the runtime tokenizer of a GGUF model (or of a tokenizer file that
// --save wrote) over a text and prints the ids on one line, separated by
// spaces, so that a script can compare them with another tokenizer's.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Import/Gguf.h"
#include "qmlir/Import/GgufTokenizer.h"
#include "qmlir/Runtime/Tokenizer.h"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

using qmlir::runtime::Tokenizer;

namespace {

constexpr const char *kUsage =
    "usage: qnt-tokenize MODEL [--text T | --file F] [--special] [--decode]\n"
    "                          [--words] [--save OUT] [--time]\n"
    "  MODEL      a GGUF model, or a tokenizer file written by --save\n"
    "  --text T   the input (default: standard input)\n"
    "  --file F   read the input from F\n"
    "  --special  match control tokens (<|im_start|>) in the text\n"
    "  --decode   the input is token ids; print the text they stand for\n"
    "  --words    print the pre-tokenizer's words as byte ranges start:end\n"
    "  --save OUT write the tokenizer file OUT (and tokenize only with\n"
    "             --text or --file)\n"
    "  --time     print the token count and the encoding time to stderr\n"
    "Prints the ids of the whole input on one line, separated by spaces.\n";

[[noreturn]] void die(const std::string &message) {
  std::fprintf(stderr, "qnt-tokenize: %s\n", message.c_str());
  std::exit(1);
}

struct Options {
  std::string model;
  std::optional<std::string> text, file, save;
  bool special = false, decode = false, words = false, time = false;
};

Options parseArgs(int argc, char **argv) {
  Options opts;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc)
        die("option " + arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    } else if (arg == "--text") {
      opts.text = value();
    } else if (arg == "--file") {
      opts.file = value();
    } else if (arg == "--save") {
      opts.save = value();
    } else if (arg == "--special") {
      opts.special = true;
    } else if (arg == "--decode") {
      opts.decode = true;
    } else if (arg == "--words") {
      opts.words = true;
    } else if (arg == "--time") {
      opts.time = true;
    } else if (arg.size() > 1 && arg[0] == '-') {
      die("unknown option '" + arg + "' (see --help)");
    } else if (opts.model.empty()) {
      opts.model = arg;
    } else {
      die("unexpected argument '" + arg + "' (see --help)");
    }
  }
  if (opts.model.empty())
    die("no model given (usage: qnt-tokenize MODEL [options], see --help)");
  if (opts.text && opts.file)
    die("--text and --file cannot be used together");
  if (opts.decode && opts.words)
    die("--decode and --words cannot be used together");
  return opts;
}

std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    die("cannot open '" + path + "': " + std::strerror(errno));
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

/// The tokenizer of a GGUF model or of a tokenizer file, told apart by the
/// first bytes.
Tokenizer loadTokenizer(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    die("cannot open '" + path + "': " + std::strerror(errno));
  char magic[8] = {};
  in.read(magic, sizeof(magic));
  in.close();
  bool isTokenizerFile =
      std::memcmp(magic, qmlir::runtime::kTokenizerFileMagic, 8) == 0;
  if (!isTokenizerFile && std::memcmp(magic, "GGUF", 4) != 0)
    die("'" + path + "' is neither a GGUF model nor a tokenizer file");
  if (!isTokenizerFile) {
    auto file = qmlir::gguf::GgufFile::open(path);
    if (!file)
      die(llvm::toString(file.takeError()));
    auto tok = qmlir::gguf::tokenizerFromGguf(**file);
    if (!tok)
      die(llvm::toString(tok.takeError()));
    return std::move(*tok);
  }
  std::string error;
  std::optional<Tokenizer> tok = Tokenizer::load(path, error);
  if (!tok)
    die(error);
  return std::move(*tok);
}

std::vector<int32_t> parseIds(const std::string &input, size_t vocabSize) {
  std::vector<int32_t> ids;
  std::istringstream words(input);
  std::string word;
  while (words >> word) {
    char *end = nullptr;
    errno = 0;
    long long id = std::strtoll(word.c_str(), &end, 10);
    if (*end != '\0' || errno != 0)
      die("bad token id '" + word + "' (input word " +
          std::to_string(ids.size() + 1) + ")");
    if (id < 0 || static_cast<unsigned long long>(id) >= vocabSize)
      die("token id " + word + " is out of range (the vocabulary has " +
          std::to_string(vocabSize) + " tokens)");
    ids.push_back(static_cast<int32_t>(id));
  }
  return ids;
}

} // namespace

int main(int argc, char **argv) {
  Options opts = parseArgs(argc, argv);
  Tokenizer tok = loadTokenizer(opts.model);
  if (opts.save) {
    std::string error;
    if (!tok.save(*opts.save, error))
      die(error);
    if (!opts.text && !opts.file)
      return 0;
  }

  std::string input;
  if (opts.text)
    input = *opts.text;
  else if (opts.file)
    input = readFile(*opts.file);
  else
    input.assign(std::istreambuf_iterator<char>(std::cin), {});

  std::string out;
  if (opts.decode) {
    out = tok.decode(parseIds(input, tok.vocabSize()));
  } else if (opts.words) {
    for (std::string_view word : tok.preTokenize(input)) {
      size_t start = word.data() - input.data();
      out += std::to_string(start) + ":" + std::to_string(start + word.size()) +
             " ";
    }
    if (!out.empty())
      out.pop_back();
    out += '\n';
  } else {
    auto start = std::chrono::steady_clock::now();
    std::vector<int32_t> ids = tok.encode(input, opts.special);
    std::chrono::duration<double> seconds =
        std::chrono::steady_clock::now() - start;
    if (opts.time)
      std::fprintf(stderr,
                   "qnt-tokenize: %zu tokens from %zu bytes in %.3f s\n",
                   ids.size(), input.size(), seconds.count());
    for (size_t i = 0; i < ids.size(); ++i) {
      if (i)
        out += ' ';
      out += std::to_string(ids[i]);
    }
    out += '\n';
  }
  if (std::fwrite(out.data(), 1, out.size(), stdout) != out.size() ||
      std::fflush(stdout) != 0)
    die(std::string("cannot write the output: ") + std::strerror(errno));
  return 0;
}
