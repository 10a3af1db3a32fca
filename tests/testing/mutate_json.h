// MutateJson: random byte-level edits of a JSON text, for tests that compare a decoder with a
// reference on inputs that are mostly broken and sometimes still valid.
#ifndef KUBE_TESTS_TESTING_MUTATE_JSON_H_
#define KUBE_TESTS_TESTING_MUTATE_JSON_H_

#include <cstddef>
#include <random>
#include <string>
#include <string_view>

namespace kube::testing {

// One to three edits of `doc`: a byte replaced or inserted from JSON's own alphabet (and a control
// character), or one to three bytes erased. Most results are malformed; some change values, keys
// or structure and stay valid.
inline std::string MutateJson(std::string doc, std::mt19937& rng) {
  constexpr std::string_view kAlphabet = "{}[],:\"\\ 0123456789.eE+-tfnrul\x01u";
  const int edits = 1 + static_cast<int>(rng() % 3);
  for (int e = 0; e < edits && !doc.empty(); ++e) {
    const size_t at = rng() % doc.size();
    const char c = kAlphabet[rng() % kAlphabet.size()];
    switch (rng() % 3) {
      case 0:
        doc[at] = c;
        break;
      case 1:
        doc.insert(doc.begin() + static_cast<std::ptrdiff_t>(at), c);
        break;
      default:
        doc.erase(at, 1 + rng() % 3);
        break;
    }
  }
  return doc;
}

}  // namespace kube::testing

#endif  // KUBE_TESTS_TESTING_MUTATE_JSON_H_
