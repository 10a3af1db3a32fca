// Deterministic, realistic Pod JSON for benchmarks.
//
// Each Pod looks like what kube-apiserver returns for a Deployment's replica: labels,
// annotations, an owner ReplicaSet, three managedFields entries with fieldsV1, two containers
// with ports, env, resources, probes and volume mounts, volumes, and a status with conditions and
// container statuses. About 3.8-4 KB minified. Pod `i` is always the same bytes.
#ifndef KUBE_BENCH_POD_GENERATOR_H_
#define KUBE_BENCH_POD_GENERATOR_H_

#include <cstddef>
#include <cstdint>
#include <string>

namespace kube::bench {

// Minified JSON of Pod number `index`, with apiVersion and kind.
std::string MakePodJson(size_t index, uint64_t seed = 1);

// A PodList body as kube-apiserver sends it: minified, items without apiVersion/kind, list
// metadata with a resourceVersion. Holds Pods `first` .. `first + count - 1`.
std::string MakePodListJson(size_t count, size_t first = 0, uint64_t seed = 1);

}  // namespace kube::bench

#endif  // KUBE_BENCH_POD_GENERATOR_H_
