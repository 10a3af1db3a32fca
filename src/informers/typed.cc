// The typed informers' shared machinery: the factory's group accessors, kind descriptions and the
// field readers every typed view uses (see informers/typed_informer.h).
#include "kube/informers/typed.h"

#include <array>
#include <string>

namespace kube {

// Defined here rather than in factory.cc so that factory.h needs none of the typed headers.
CoreInformers SharedInformerFactory::Core() { return CoreInformers(*this); }
AppsInformers SharedInformerFactory::Apps() { return AppsInformers(*this); }
DiscoveryInformers SharedInformerFactory::Discovery() { return DiscoveryInformers(*this); }
BatchInformers SharedInformerFactory::Batch() { return BatchInformers(*this); }
CoordinationInformers SharedInformerFactory::Coordination() { return CoordinationInformers(*this); }

GroupVersionResource KindInfo::gvr() const {
  return {std::string(group), std::string(version), std::string(resource)};
}

ListerResource KindInfo::lister_resource() const {
  return {std::string(group), std::string(singular)};
}

ResourceScope KindInfo::scope() const {
  return {.namespaced = namespaced, .kind = std::string(kind)};
}

std::span<const KindInfo> TypedKinds() {
  static constexpr std::array kKinds = {
      Pod::kInfo,       Service::kInfo,       Endpoints::kInfo,  ConfigMap::kInfo,
      Secret::kInfo,    Node::kInfo,          Event::kInfo,      ServiceAccount::kInfo,
      Namespace::kInfo, Deployment::kInfo,    ReplicaSet::kInfo, StatefulSet::kInfo,
      DaemonSet::kInfo, EndpointSlice::kInfo, Job::kInfo,        CronJob::kInfo,
      Lease::kInfo,
  };
  return kKinds;
}

std::string TypedObject::key() const {
  if (ns().empty()) return std::string(name());
  std::string k(ns());
  k += '/';
  k += name();
  return k;
}

std::string TypedObject::StringOr(std::string_view path, std::string_view fallback) const {
  Result<std::string> v = object_->GetString(path);
  return v ? *std::move(v) : std::string(fallback);
}

int64_t TypedObject::IntOr(std::string_view path, int64_t fallback) const {
  return OptionalInt(path).value_or(fallback);
}

std::optional<int64_t> TypedObject::OptionalInt(std::string_view path) const {
  Result<int64_t> v = object_->GetInt64(path);
  if (!v) return std::nullopt;
  return *v;
}

bool TypedObject::BoolOr(std::string_view path, bool fallback) const {
  return OptionalBool(path).value_or(fallback);
}

std::optional<bool> TypedObject::OptionalBool(std::string_view path) const {
  Result<bool> v = object_->GetBool(path);
  if (!v) return std::nullopt;
  return *v;
}

StringMap TypedObject::StringMapAt(std::string_view path) const {
  Result<StringMap> v = object_->GetStringMap(path);
  return v ? *std::move(v) : StringMap{};
}

std::vector<std::string> TypedObject::StringListAt(std::string_view path) const {
  Result<std::vector<std::string>> v = object_->GetStringList(path);
  return v ? *std::move(v) : std::vector<std::string>{};
}

size_t TypedObject::ArraySize(std::string_view path) const {
  // `GetJson` gives the array minified; counting its top-level commas is one pass, where probing
  // `path[i]` for each i would rescan the object once per element.
  Result<std::string> json = object_->GetJson(path);
  if (!json || json->size() < 2 || (*json)[0] != '[') return 0;
  const std::string& s = *json;
  if (s == "[]") return 0;
  size_t count = 1;
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // skip the escaped character
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '[':
      case '{':
        ++depth;
        break;
      case ']':
      case '}':
        --depth;
        break;
      case ',':
        if (depth == 1) ++count;
        break;
      default:
        break;
    }
  }
  return count;
}

std::vector<std::string> TypedObject::StringsOfArray(std::string_view path,
                                                     std::string_view field) const {
  std::vector<std::string> out;
  size_t n = ArraySize(path);
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(StringOr(ItemPath(path, i, field)));
  }
  return out;
}

std::string TypedObject::ItemPath(std::string_view path, size_t i, std::string_view field) {
  std::string p(path);
  p += '[';
  p += std::to_string(i);
  p += ']';
  if (!field.empty()) {
    p += '.';
    p += field;
  }
  return p;
}

std::string TypedObject::ConditionStatus(std::string_view path, std::string_view type) const {
  size_t n = ArraySize(path);
  for (size_t i = 0; i < n; ++i) {
    if (StringOr(ItemPath(path, i, "type")) == type) return StringOr(ItemPath(path, i, "status"));
  }
  return "";
}

}  // namespace kube
