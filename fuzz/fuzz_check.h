// FUZZ_CHECK: the invariant checks of the fuzz targets. A failed check prints what broke and
// aborts, which libFuzzer reports as a crash and saves the input that caused it.
#ifndef KUBE_FUZZ_FUZZ_CHECK_H_
#define KUBE_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#define FUZZ_CHECK(cond, what)                                                               \
  do {                                                                                       \
    if (!(cond)) {                                                                           \
      std::fprintf(stderr, "%s:%d: invariant broken: %s\n  %s\n", __FILE__, __LINE__, #cond, \
                   std::string(what).c_str());                                               \
      std::abort();                                                                          \
    }                                                                                        \
  } while (0)

namespace kube::fuzz {

inline std::string_view AsText(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Reads the first byte of `*input` (0 when it is empty) and drops it: fuzz targets use leading
// bytes to choose options, so the mutator explores those choices with the text.
inline uint8_t TakeByte(std::string_view* input) {
  if (input->empty()) return 0;
  uint8_t b = static_cast<uint8_t>(input->front());
  input->remove_prefix(1);
  return b;
}

// The deep-nesting mode of the targets that take JSON bodies: the first `\x01` in `text` and the
// three bytes after it become one nested value, `[[...]]` or `{"a":{"a":...0}}`, whose depth the
// first two bytes choose (up to 262,140 levels: far past Go's 10,000 and the server's 1,000) and
// whose kind the third byte's low bit chooses. Text without `\x01` comes back unchanged. A short
// input thus stands for a body of hundreds of kilobytes that no mutation would reach.
inline std::string ExpandNesting(std::string_view text) {
  size_t at = text.find('\x01');
  if (at == std::string_view::npos || text.size() - at < 4) return std::string(text);
  auto byte = [&](size_t i) { return static_cast<size_t>(static_cast<uint8_t>(text[at + i])); };
  const size_t depth = ((byte(1) << 8) | byte(2)) * 4;
  const bool objects = (byte(3) & 1) != 0;
  std::string out(text.substr(0, at));
  out.reserve(text.size() + depth * 6);
  for (size_t i = 0; i < depth; ++i) out += objects ? "{\"a\":" : "[";
  if (objects) out += "0";
  out.append(depth, objects ? '}' : ']');
  out += text.substr(at + 4);
  return out;
}

}  // namespace kube::fuzz

#endif  // KUBE_FUZZ_FUZZ_CHECK_H_
