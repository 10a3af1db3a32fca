// [3] Reflector: lists a resource, then watches it from the list's resourceVersion, feeding the
// delta FIFO; resumes broken watches from the last version and relists when that is gone.
//
// Reads from: a ListerWatcher (HTTP through the resource client, or a test fake).
// Feeds: the delta FIFO.
// client-go: tools/cache/reflector.go, tools/pager/pager.go.
//
// Bnn numbers (B01-B63) name the behaviour contracts of docs/behaviours.md, each with its tests.
#ifndef KUBE_CACHE_REFLECTOR_H_
#define KUBE_CACHE_REFLECTOR_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "kube/cache/delta_fifo.h"
#include "kube/cache/list_watch.h"
#include "kube/clock.h"
#include "kube/group_version.h"
#include "kube/status.h"

namespace kube {

struct ReflectorOptions {
  // B15: each watch asks the server to end it after a random time in [min, 2*min].
  std::chrono::seconds min_watch_timeout{300};
  // B13: list page size; 0 = client-go's rules (500 when the list may be served from etcd).
  int64_t page_size = 0;
  // B22: start with a streaming list (`sendInitialEvents=true`) instead of list+watch.
  bool use_watch_list = false;
  // Unlike client-go, which trusts a silent watch until its timeout: a watch that delivers no
  // event and no bookmark for this long is taken as a half-open connection and restarted from the
  // last resourceVersion. 0 = never.
  std::chrono::milliseconds watch_progress_timeout{std::chrono::minutes(3)};
  // B19 backoff: initial, cap, reset after quiet, jitter factor.
  std::chrono::milliseconds backoff_initial{800};
  std::chrono::milliseconds backoff_cap{30000};
  std::chrono::milliseconds backoff_reset_after{120000};
  double backoff_jitter = 1.0;
  // Unlike client-go, which retries every 30 s forever: a list refused with 403/404 (a deleted
  // CRD, missing RBAC) backs off up to this longer cap, with one warning per streak (every error
  // still reaches the watch error handler).
  std::chrono::milliseconds permanent_error_backoff_cap{std::chrono::minutes(5)};
  // B21: when set, events and list items of another kind are reported and skipped.
  std::optional<GroupVersionKind> expected_gvk;
  // B60: after each watch-list's initial events, list the same data at the end bookmark's
  // resourceVersion (resourceVersionMatch=Exact) and compare the two by UID, after the transform.
  // A difference is logged as an error naming the differing keys and reported to the watch error
  // handler; unlike client-go, which panics, the informer keeps running. Meant for CI: it keeps
  // the initial events in memory until the check and lists once more per watch-list. Also turned
  // on by the environment variable KUBE_WATCHLIST_INCONSISTENCY_DETECTOR=true.
  bool watch_list_consistency_check = false;
  // Seed for timeout and jitter randomness (0 = random device); tests fix it.
  uint64_t random_seed = 0;
};

}  // namespace kube

#endif  // KUBE_CACHE_REFLECTOR_H_
