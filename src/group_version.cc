#include "kube/group_version.h"

namespace kube {

std::string GroupVersion::ToString() const {
  return group.empty() ? version : group + "/" + version;
}

Result<GroupVersion> GroupVersion::Parse(std::string_view api_version) {
  if (api_version.empty()) return InvalidArgumentError("empty apiVersion");
  size_t slash = api_version.find('/');
  if (slash == std::string_view::npos) return GroupVersion{"", std::string(api_version)};
  if (api_version.find('/', slash + 1) != std::string_view::npos || slash == 0 ||
      slash + 1 == api_version.size()) {
    return InvalidArgumentError("unexpected GroupVersion string: " + std::string(api_version));
  }
  return GroupVersion{std::string(api_version.substr(0, slash)),
                      std::string(api_version.substr(slash + 1))};
}

std::string GroupVersion::ApiPrefix() const {
  return group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
}

std::string GroupVersionKind::ToString() const {
  return group_version().ToString() + ", Kind=" + kind;
}

std::string GroupVersionResource::ToString() const {
  return group_version().ToString() + ", Resource=" + resource;
}

std::string GroupVersionResource::GroupResource() const {
  return group.empty() ? resource : resource + "." + group;
}

std::ostream& operator<<(std::ostream& os, const GroupVersion& gv) { return os << gv.ToString(); }
std::ostream& operator<<(std::ostream& os, const GroupVersionKind& gvk) {
  return os << gvk.ToString();
}
std::ostream& operator<<(std::ostream& os, const GroupVersionResource& gvr) {
  return os << gvr.ToString();
}

}  // namespace kube
