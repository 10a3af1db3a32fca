// The pieces every list decoder shares: `DecodeList` and its whole-body fallback (src/object.cc)
// and the streaming `ListDecoder` (src/client/list_decoder.cc), which must read a list's header
// exactly as `DecodeList` does.
#ifndef KUBE_SRC_OBJECT_LIST_H_
#define KUBE_SRC_OBJECT_LIST_H_

#include <optional>
#include <string_view>

namespace kube::internal {

// The kind a list's items default to: the list's kind without "List" ("" when it does not end in
// "List"). Their apiVersion defaults to the list's.
inline std::string_view ItemKind(std::string_view list_kind) {
  constexpr std::string_view kSuffix = "List";
  if (list_kind.size() >= kSuffix.size() &&
      list_kind.substr(list_kind.size() - kSuffix.size()) == kSuffix) {
    return list_kind.substr(0, list_kind.size() - kSuffix.size());
  }
  return "";
}

// A member's value as written, when it is a string that needs no decoding: a string without
// escapes gives its body; anything else (escapes, another type) gives nullopt. The scans read
// `apiVersion` and `kind` before `items` with it.
inline std::optional<std::string_view> PlainString(std::string_view value) {
  if (value.size() < 2 || value.front() != '"' || value.back() != '"') return std::nullopt;
  std::string_view body = value.substr(1, value.size() - 2);
  if (body.find('\\') != std::string_view::npos) return std::nullopt;
  return body;
}

}  // namespace kube::internal

#endif  // KUBE_SRC_OBJECT_LIST_H_
