// A user of the installed library: touches each component the umbrella target links (core,
// cache, client, controller) and prints "ok" when they agree.
#include <iostream>

#include "kube/cache/thread_safe_store.h"
#include "kube/config/kubeconfig.h"
#include "kube/labels.h"
#include "kube/metrics/metrics.h"
#include "kube/object.h"
#include "kube/workqueue/rate_limiter.h"

int main() {
  kube::Result<kube::ObjectPtr> pod = kube::Object::Parse(
      R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","namespace":"default",)"
      R"("labels":{"app":"web"}}})");
  if (!pod) return 1;
  auto store = kube::ThreadSafeStore::Create();
  if (!store->Add(*pod).ok()) return 2;
  kube::Result<kube::LabelSelector> selector = kube::LabelSelector::Parse("app=web");
  if (!selector || store->ListMatching(*selector).size() != 1) return 3;
  if (store->ListMatching(kube::labels::Nothing()).size() != 0) return 4;
  if (kube::ParseKubeconfig("{", "inline")) return 5;  // the client component
  kube::metrics::Registry registry;                    // core's metrics registry
  (void)registry.Render();
  kube::workqueue::TokenBucket bucket(10, 1);  // the controller component
  if (bucket.Reserve().count() != 0) return 6;
  std::cout << "ok\n";
  return 0;
}
