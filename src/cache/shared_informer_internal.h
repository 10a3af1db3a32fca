// Private construction hook: the factory shares one executor among its informers.
#ifndef KUBE_CACHE_SHARED_INFORMER_INTERNAL_H_
#define KUBE_CACHE_SHARED_INFORMER_INTERNAL_H_

#include <memory>

#include "base/executor.h"
#include "kube/cache/shared_informer.h"

namespace kube::internal {

std::shared_ptr<SharedIndexInformer> NewSharedIndexInformer(std::shared_ptr<ListerWatcher> lw,
                                                            SharedInformerOptions options,
                                                            std::shared_ptr<Executor> executor);

}  // namespace kube::internal

#endif  // KUBE_CACHE_SHARED_INFORMER_INTERNAL_H_
