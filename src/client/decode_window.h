// DecodeWindow: the items of one list body decoded on worker threads while the thread that
// receives the body only finds where the items begin and end, collected again in list order.
//
// Reads from: `ListDecoder` and `ProtobufListDecoder` (list_decoder.h, protobuf_list_decoder.h),
// which frame items on the HTTP client's I/O thread. Feeds: the same decoders, which hand the
// objects on in order. client-go has no counterpart (it decodes a list body whole, after it).
//
// A decoder gathers framed items into a `DecodeBatch` (the bytes and where each item lies) and
// `Push`es it; a worker of the shared decode pool decodes it; the decoder takes batches back with
// `PopFront`, oldest first, so the order of the list holds whatever order the workers finish in.
// The decoder bounds the batches in flight (`kMaxInFlight`) by waiting for the oldest, which
// bounds the body bytes and decoded objects held in the window however fast the body arrives.
//
// Errors stay the serial decoder's: a worker stops at the first item that does not decode and
// says which (`failed_at`); the decoder reacts to it when that batch's turn comes, after every
// item before it has been handed on, exactly where the serial decoder would have. A batch keeps
// its bytes until it is taken back, so a decoder that must keep the body from a failed item on
// still has every byte.
#ifndef KUBE_SRC_CLIENT_DECODE_WINDOW_H_
#define KUBE_SRC_CLIENT_DECODE_WINDOW_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "base/executor.h"
#include "base/mutex.h"
#include "kube/object.h"
#include "kube/status.h"

namespace kube::internal {

// One batch of framed items. The framing thread fills the first part and never touches the batch
// again until `PopFront` returns it; the worker fills the second part.
struct DecodeBatch {
  struct Item {
    size_t from = 0;      // where the text before the item starts (after the previous separator)
    size_t begin = 0;     // the item's first byte in `text`
    size_t end = 0;       // one past its last byte
    uint64_t offset = 0;  // its first byte in the whole body (for messages)
  };
  std::string text;
  std::vector<Item> items;
  size_t text_end = 0;     // the framed part of `text` ends here (what follows belongs to later)
  size_t first_index = 0;  // the list index of `items[0]`

  // Set by the worker: the objects of `items` in order, up to the first that failed.
  std::vector<ObjectPtr> objects;
  size_t failed_at = SIZE_MAX;  // index into `items` of the first failure, if any
  Status error;                 // why it failed (when the decode function says)
};

// The process-wide decode pool: one worker per core the process may run on (its CPU affinity),
// never more. Null with one core, where handing items to another thread could only add work.
std::shared_ptr<Executor> SharedDecodePool();

// Thread-compatible: one framing thread at a time calls it (a later call may come from another
// thread once the earlier ones happen-before it, as for the decoders). The decode function runs
// on the pool's workers, several batches at once: it must only read what it captured.
class DecodeWindow {
 public:
  // Batches a decoder keeps in flight before it waits for the oldest.
  static constexpr size_t kMaxInFlight = 4;
  // A batch is handed to the pool once it holds this many items or bytes (or the items end).
  static constexpr size_t kBatchItems = 128;
  static constexpr size_t kBatchBytes = size_t{256} << 10;

  using DecodeFn = std::function<void(DecodeBatch&)>;
  DecodeWindow(std::shared_ptr<Executor> pool, DecodeFn decode);
  // Abandons the batches in flight without waiting: those not yet started are dropped undecoded,
  // a running one finishes on its worker and is freed there.
  ~DecodeWindow();
  DecodeWindow(const DecodeWindow&) = delete;
  DecodeWindow& operator=(const DecodeWindow&) = delete;

  // Hands `batch` to a worker (or, called on a worker of the pool itself, decodes it here: a
  // worker never waits for its own pool).
  void Push(std::shared_ptr<DecodeBatch> batch);
  // The oldest batch once decoded; null if none is in flight, or if `wait` is false and the
  // oldest is not decoded yet.
  std::shared_ptr<DecodeBatch> PopFront(bool wait);
  // Takes decoded batches back, oldest first, waiting for the oldest while more than `limit` are
  // in flight, and passes their objects to `take` in list order. Returns the first batch holding
  // a failed item (after the objects before it), or null once no decoded batch is ready.
  std::shared_ptr<DecodeBatch> DeliverInOrder(size_t limit,
                                              const std::function<void(ObjectPtr)>& take);

  // Gives up the batches in flight, oldest first, without waiting: workers that have not
  // started them skip them, a running one finishes. Only their framing part (`text`, `items`,
  // `text_end`, `first_index`) may be read. The window is empty afterwards.
  std::vector<std::shared_ptr<DecodeBatch>> Abandon();

  size_t in_flight() const { return order_.size(); }
  // The bytes of the batches in flight (their `text` capacity).
  size_t held_bytes() const { return held_bytes_; }

 private:
  struct Shared;
  std::shared_ptr<Executor> pool_;
  std::shared_ptr<Shared> shared_;
  std::deque<std::pair<uint64_t, std::shared_ptr<DecodeBatch>>> order_;
  uint64_t next_seq_ = 0;
  size_t held_bytes_ = 0;
};

}  // namespace kube::internal

#endif  // KUBE_SRC_CLIENT_DECODE_WINDOW_H_
