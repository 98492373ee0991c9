//===- JsonChecks.cpp - Checks llvm::json::parse leaves out ---------------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#include "JsonChecks.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;

namespace qmlir::import_detail {

std::optional<size_t> findTooDeepNesting(StringRef text, unsigned maxDepth) {
  unsigned depth = 0;
  bool inString = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (inString) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        inString = false;
      continue;
    }
    if (c == '"') {
      inString = true;
    } else if (c == '[' || c == '{') {
      if (++depth > maxDepth)
        return i;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return std::nullopt;
}

namespace {
/// An open object or array while scanning.
struct Frame {
  bool isObject = false;
  /// The next string of this object is a key (after '{' or ',').
  bool expectKey = false;
  /// The key whose value is being read.
  std::string currentKey;
  StringSet<> keys;
};

/// The decoded text of the JSON string literal `token` (quotes included).
std::string decodeString(StringRef token) {
  if (!token.contains('\\'))
    return token.drop_front().drop_back().str();
  Expected<json::Value> value = json::parse(token);
  if (!value) {
    consumeError(value.takeError());
    return token.str();
  }
  std::optional<StringRef> string = value->getAsString();
  return string ? string->str() : token.str();
}
} // namespace

std::optional<DuplicateKey> findDuplicateKey(StringRef text) {
  std::vector<Frame> stack;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '{' || c == '[') {
      stack.emplace_back();
      stack.back().isObject = c == '{';
      stack.back().expectKey = c == '{';
    } else if (c == '}' || c == ']') {
      if (!stack.empty())
        stack.pop_back();
    } else if (c == ',') {
      if (!stack.empty() && stack.back().isObject)
        stack.back().expectKey = true;
    } else if (c == '"') {
      size_t start = i++;
      while (i < text.size() && text[i] != '"')
        i += text[i] == '\\' ? 2 : 1;
      if (stack.empty() || !stack.back().isObject || !stack.back().expectKey)
        continue;
      Frame &top = stack.back();
      top.expectKey = false;
      top.currentKey = decodeString(text.slice(start, i + 1));
      if (top.keys.insert(top.currentKey).second)
        continue;
      DuplicateKey duplicate;
      duplicate.offset = start;
      for (const Frame &frame : stack)
        if (frame.isObject)
          duplicate.path.push_back(frame.currentKey);
      return duplicate;
    }
  }
  return std::nullopt;
}

const char *describeKind(const json::Value &value) {
  switch (value.kind()) {
  case json::Value::Null:
    return "null";
  case json::Value::Boolean:
    return "a boolean";
  case json::Value::Number:
    return "a number";
  case json::Value::String:
    return "a string";
  case json::Value::Array:
    return "an array";
  case json::Value::Object:
    return "an object";
  }
  return "a value";
}

std::string quote(StringRef text) {
  std::string result = "'";
  raw_string_ostream os(result);
  printEscapedString(text, os);
  os << "'";
  return result;
}

namespace {
/// Like printing the value, but a number that llvm::json parsed as an
/// integral double shows as one ("2.0", where it prints "2").
void printForMessage(const json::Value &value, raw_ostream &os) {
  if (const json::Array *array = value.getAsArray()) {
    os << '[';
    for (size_t i = 0; i < array->size(); ++i) {
      if (i)
        os << ',';
      printForMessage((*array)[i], os);
    }
    os << ']';
    return;
  }
  std::string text;
  raw_string_ostream(text) << value;
  os << text;
  // An integer >= 0 would have a uint64 value; so this one is a double.
  std::optional<int64_t> integer = value.getAsInteger();
  if (integer && *integer >= 0 && !value.getAsUINT64() &&
      text.find_first_of(".eEn") == std::string::npos)
    os << ".0";
}
} // namespace

std::string printJson(const json::Value &value, size_t maxChars) {
  std::string result;
  raw_string_ostream os(result);
  printForMessage(value, os);
  if (result.size() > maxChars)
    result = result.substr(0, maxChars) + "...";
  return result;
}

std::string describeDuplicate(const DuplicateKey &duplicate) {
  std::string message = "duplicate key " + quote(duplicate.path.back());
  if (duplicate.path.size() < 2)
    return message;
  std::string enclosing;
  for (size_t i = 0; i + 1 < duplicate.path.size(); ++i)
    enclosing += (i ? "." : "") + duplicate.path[i];
  return message + " in " + quote(enclosing);
}

} // namespace qmlir::import_detail
