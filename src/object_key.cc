#include "kube/object_key.h"

namespace kube {

std::string MetaNamespaceKey(std::string_view ns, std::string_view name) {
  std::string key;
  if (ns.empty()) {
    key.assign(name);
    return key;
  }
  key.reserve(ns.size() + 1 + name.size());
  key.append(ns).push_back('/');
  key.append(name);
  return key;
}

std::string MetaNamespaceKey(const Object& obj) { return MetaNamespaceKey(obj.ns(), obj.name()); }

Result<NamespaceAndName> SplitMetaNamespaceKey(std::string_view key) {
  size_t slash = key.find('/');
  if (slash == std::string_view::npos) return NamespaceAndName{"", std::string(key)};
  if (key.find('/', slash + 1) != std::string_view::npos) {
    return InvalidArgumentError("unexpected key format: \"" + std::string(key) + "\"");
  }
  return NamespaceAndName{std::string(key.substr(0, slash)), std::string(key.substr(slash + 1))};
}

}  // namespace kube
