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

}  // namespace kube::fuzz

#endif  // KUBE_FUZZ_FUZZ_CHECK_H_
