// [4] DeltaFifo: the queue between the reflector and the informer's cache.
//
// Reads from: the reflector (watch events, list pages, bookmarks) and the informer's resync timer.
// Feeds: the shared informer, which pops deltas in batches, applies them to the indexer and
// notifies handlers.
// client-go: tools/cache/the_real_fifo.go (RealFIFO, the default since 1.33/1.36) and
// delta_fifo.go (the original DeltaFIFO).
//
// Why an in-order queue rather than the original per-key DeltaFIFO: client-go itself switched
// (InOrderInformers, GA in 1.36) because per-key queues reorder events across objects — a
// controller could see a Pod's update before the creation of the ReplicaSet it points to. Here
// every delta keeps its arrival order (B53). Relists are queued as a bracketed stream
// (`ReplaceBegin`, the items, `ReplaceEnd`), so deletions are computed by the consumer against
// the indexer *after* every earlier delta has been applied: a delete can never be missed for an
// object whose add was still queued (B24's concern), and the relisted collection never has to be
// held whole in memory next to the cache (see `Replace`).
//
// Bnn numbers (B01-B63) name the behaviour contracts of docs/behaviours.md, each with its tests.
#ifndef KUBE_CACHE_DELTA_FIFO_H_
#define KUBE_CACHE_DELTA_FIFO_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "kube/object.h"
#include "kube/status.h"

namespace kube {

enum class DeltaType {
  kAdded,         // a watch ADDED
  kUpdated,       // a watch MODIFIED
  kDeleted,       // a watch DELETED (object: its last state)
  kReplaced,      // one item of a (re)list
  kReplaceBegin,  // a (re)list starts: the consumer starts collecting the keys it sees
  kReplaceEnd,    // a (re)list ended at `resource_version`: cached keys not seen are deleted
  kSyncAll,       // a resync: every cached object is re-delivered as an update (B54)
  kBookmark,      // the store's last version moves to `resource_version` (B49)
};
std::string_view DeltaTypeName(DeltaType t);

struct Delta {
  DeltaType type;
  ObjectPtr object;              // set for kAdded/kUpdated/kDeleted/kReplaced
  std::string resource_version;  // set for kReplaceEnd/kBookmark
  // For kAdded/kUpdated/kDeleted: the watch stream has reached the object's resourceVersion (the
  // reflector's last synced version moves to it). False for the initial events of a watch from
  // "" or "0" (B51), which carry their objects' own, older versions. Once such a delta is
  // applied, the cache reflects that version (`SharedIndexInformer::WaitForResourceVersion`).
  bool at_stream_version = false;
};

// Thread-safe. Producers never wait for the consumer, except `ReplaceItems`: a relist's items
// enter the queue only through it, and it waits, before queuing its items, until at most
// `max_replace_backlog` `kReplaced` deltas are queued. The reflector hands it every batch of a
// page as the batch is decoded (from the transport's I/O thread, which then waits: back-pressure
// holds within a page, not only between pages), so the relist items queued stay within about
// `max_replace_backlog` plus one batch (500 items), whatever the size of a page. The initial
// events of a streaming list (watch-list) arrive with the watch's events through `Push`, which
// never waits: they are not bounded.
class DeltaFifo {
 public:
  struct Options {
    // `ReplaceItems` waits while more than this many `kReplaced` deltas are queued (see the class
    // comment for what that bounds). 0 = no limit.
    size_t max_replace_backlog = 2048;
    // Applied to every object as it is queued (B35/B56): never to tombstones or resyncs.
    std::function<ObjectPtr(ObjectPtr)> transform;
  };

  // `on_ready` is called (without any lock held, on the producer's thread) when the queue goes
  // from empty to non-empty, so the consumer can schedule a drain; it must not block.
  DeltaFifo(Options options, std::function<void()> on_ready);
  ~DeltaFifo();
  DeltaFifo(const DeltaFifo&) = delete;
  DeltaFifo& operator=(const DeltaFifo&) = delete;

  // Queues one `kSyncAll` delta (a resync). kCancelled after `Close`.
  Status Resync();

  // A relist, streamed: call `ReplaceBegin`, then `ReplaceItems` for each batch of items as it
  // arrives, then `ReplaceEnd`. A relist that fails halfway simply starts again with
  // `ReplaceBegin`; the items queued were real states and do no harm. `ReplaceItems` first blocks
  // while the queue holds more than `max_replace_backlog` relist items (kCancelled if the queue
  // closes or `stop` is requested meanwhile), then queues all of `items` at once (each
  // transformed, `Options::transform`); a null item is kInvalidArgument (nothing is queued).
  Status ReplaceBegin();
  Status ReplaceItems(std::vector<ObjectPtr> items, std::stop_token stop = {});
  Status ReplaceEnd(std::string resource_version);

  // Queues several deltas in order under one lock, with at most one `on_ready` call: a watch
  // chunk's events become one push and one wake-up of the consumer. Object deltas are transformed
  // (`Options::transform`); a null object for an object delta is kInvalidArgument (nothing is
  // queued). Never blocks, even for `kReplaced` items. kCancelled after `Close`.
  Status Push(std::vector<Delta> deltas);

  // Removes and returns up to `max` deltas in order; empty when there are none. Never blocks.
  std::vector<Delta> PopBatch(size_t max);

  // Wakes a producer blocked in `ReplaceItems`; later pushes fail with kCancelled. Idempotent.
  void Close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kube

#endif  // KUBE_CACHE_DELTA_FIFO_H_
