// GroupVersion, GroupVersionKind and GroupVersionResource: how the API names a type.
//
// client-go: k8s.io/apimachinery/pkg/runtime/schema/group_version.go.
#ifndef KUBE_GROUP_VERSION_H_
#define KUBE_GROUP_VERSION_H_

#include <compare>
#include <functional>
#include <ostream>
#include <string>
#include <string_view>

#include "kube/status.h"

namespace kube {

struct GroupVersion {
  std::string group;    // "" for the core group
  std::string version;  // "v1"

  // "apps/v1", or "v1" for the core group.
  std::string ToString() const;
  // Parses an `apiVersion` ("v1", "apps/v1"). More than one '/' is an error.
  static Result<GroupVersion> Parse(std::string_view api_version);
  // The URL prefix: "/api/v1" for the core group, "/apis/GROUP/VERSION" otherwise.
  std::string ApiPrefix() const;

  auto operator<=>(const GroupVersion&) const = default;
};

struct GroupVersionKind {
  std::string group;
  std::string version;
  std::string kind;  // "Deployment"

  GroupVersion group_version() const { return {group, version}; }
  // "apps/v1, Kind=Deployment", as apimachinery prints it.
  std::string ToString() const;

  auto operator<=>(const GroupVersionKind&) const = default;
};

struct GroupVersionResource {
  std::string group;
  std::string version;
  std::string resource;  // lowercase plural: "deployments"

  GroupVersion group_version() const { return {group, version}; }
  // "apps/v1, Resource=deployments".
  std::string ToString() const;
  // "deployments.apps" (or "pods" in the core group): the name in server error messages.
  std::string GroupResource() const;

  auto operator<=>(const GroupVersionResource&) const = default;
};

std::ostream& operator<<(std::ostream& os, const GroupVersion& gv);
std::ostream& operator<<(std::ostream& os, const GroupVersionKind& gvk);
std::ostream& operator<<(std::ostream& os, const GroupVersionResource& gvr);

}  // namespace kube

template <>
struct std::hash<kube::GroupVersionResource> {
  size_t operator()(const kube::GroupVersionResource& r) const noexcept {
    std::hash<std::string> h;
    return h(r.group) * 31 * 31 + h(r.version) * 31 + h(r.resource);
  }
};
template <>
struct std::hash<kube::GroupVersionKind> {
  size_t operator()(const kube::GroupVersionKind& k) const noexcept {
    std::hash<std::string> h;
    return h(k.group) * 31 * 31 + h(k.version) * 31 + h(k.kind);
  }
};

#endif  // KUBE_GROUP_VERSION_H_
