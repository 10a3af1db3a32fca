// StringMap and StringMapView: the shapes of labels and annotations.
//
// `StringMap` is what callers build (e.g. a label set for `LabelSelector::FromMap`).
// `StringMapView` is what an `Object` hands out: a read-only, key-sorted view whose strings live
// inside the object, so it costs no allocation. It is valid as long as the object it came from.
#ifndef KUBE_STRING_MAP_H_
#define KUBE_STRING_MAP_H_

#include <algorithm>
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace kube {

using StringMap = std::map<std::string, std::string, std::less<>>;

class StringMapView {
 public:
  using value_type = std::pair<std::string_view, std::string_view>;
  using const_iterator = const value_type*;

  StringMapView() = default;
  // `sorted` must be sorted by key with unique keys; the view does not copy it.
  explicit StringMapView(std::span<const value_type> sorted) : entries_(sorted) {}

  // The value for `key`, if present. O(log n).
  std::optional<std::string_view> Get(std::string_view key) const {
    auto it = std::lower_bound(entries_.begin(), entries_.end(), key,
                               [](const value_type& e, std::string_view k) { return e.first < k; });
    if (it == entries_.end() || it->first != key) return std::nullopt;
    return it->second;
  }
  bool Has(std::string_view key) const { return Get(key).has_value(); }

  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  const_iterator begin() const { return entries_.data(); }
  const_iterator end() const { return entries_.data() + entries_.size(); }

  // An owning copy.
  StringMap ToMap() const {
    StringMap m;
    for (const auto& [k, v] : entries_) m.emplace(k, v);
    return m;
  }

 private:
  std::span<const value_type> entries_;
};

}  // namespace kube

#endif  // KUBE_STRING_MAP_H_
