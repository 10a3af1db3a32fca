#include "tests/testing/convergence.h"

#include <algorithm>
#include <string>
#include <thread>

namespace kube::testing {
namespace {

std::string KeyOf(const Object& o) {
  if (o.ns().empty()) return std::string(o.name());
  return std::string(o.ns()) + "/" + std::string(o.name());
}

uint64_t VersionOf(const Object& o) { return std::stoull(std::string(o.resource_version())); }

}  // namespace

void ReplayHandler::Apply(const Object& o, bool deleted) {
  if (delay_.count() > 0) std::this_thread::sleep_for(delay_);
  notifications_++;
  uint64_t rv = VersionOf(o);
  std::string key = KeyOf(o);
  std::lock_guard<std::mutex> l(mu_);
  uint64_t& last = last_rv_[key];
  // A tombstone from a relist carries the last cached state, whose version may equal the last
  // one seen; anything older is a reordering.
  if (rv < last) out_of_order_++;
  last = std::max(last, rv);
  if (deleted) {
    state_.erase(key);
  } else {
    state_[key] = rv;
  }
}

KeyVersions ReplayHandler::state() const {
  std::lock_guard<std::mutex> l(mu_);
  return state_;
}

KeyVersions CacheState(const SharedIndexInformer& informer) {
  KeyVersions out;
  for (const ObjectPtr& o : informer.GetIndexer()->List()) out[KeyOf(*o)] = VersionOf(*o);
  return out;
}

Result<KeyVersions> ServerState(const ResourceClient& client, const std::string& label_selector) {
  KeyVersions out;
  ListOptions options;
  options.label_selector = label_selector;
  options.limit = 500;
  for (;;) {
    auto page = client.List(options);
    if (!page) return page.error();
    for (const ObjectPtr& o : page->items) out[KeyOf(*o)] = VersionOf(*o);
    if (page->continue_token.empty()) return out;
    options.continue_token = page->continue_token;
  }
}

}  // namespace kube::testing
