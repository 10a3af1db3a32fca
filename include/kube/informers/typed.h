// Typed informers and listers in client-go's shape, for the built-in kinds the embedded server
// serves:
//
//   auto factory = kube::SharedInformerFactory::Create(client, {.default_resync = 30s});
//   kube::DeploymentInformer deployments = factory->Apps().V1().Deployments();
//   deployments.AddEventHandler(kube::TypedHandlerFuncs<kube::Deployment>{
//       .add = [](const kube::Deployment& d, bool) { std::cout << d.name() << "\n"; }});
//   factory->Start();
//   factory->WaitForCacheSync(30s);
//   for (const kube::Deployment& d :
//        deployments.Lister().Deployments("default").List(kube::labels::Everything())) { ... }
//
// Groups: `Core()` (Pod, Service, Endpoints, ConfigMap, Secret, Node, Event, ServiceAccount,
// Namespace), `Apps()` (Deployment, ReplicaSet, StatefulSet, DaemonSet), `Discovery()`
// (EndpointSlice), `Batch()` (Job, CronJob), `Coordination()` (Lease); each has `V1()`. Any other
// resource, custom ones included, goes through `factory->ForResource(gvr)`. The group accessors are
// members of `SharedInformerFactory`, defined in src/informers/typed.cc.
//
// Reads from: a `SharedInformerFactory` (informers/factory.h).
// Feeds: user code.
// client-go: informers/factory.go (the group accessors) and informers/<group>/interface.go.
#ifndef KUBE_INFORMERS_TYPED_H_
#define KUBE_INFORMERS_TYPED_H_

#include <span>

#include "kube/informers/apps_v1.h"
#include "kube/informers/batch_v1.h"
#include "kube/informers/coordination_v1.h"
#include "kube/informers/core_v1.h"
#include "kube/informers/discovery_v1.h"
#include "kube/informers/factory.h"
#include "kube/informers/typed_informer.h"

namespace kube {

// Every kind with a typed view above, core group first, in the order of the list in this file's
// top comment.
std::span<const KindInfo> TypedKinds();

}  // namespace kube

#endif  // KUBE_INFORMERS_TYPED_H_
