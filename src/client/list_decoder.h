// ListDecoder: a list response (`PodList`, ...) decoded while it arrives, in pieces of any size.
//
// Reads from: the HTTP client's body sink (`HttpRequest::body_sink`), on its I/O thread.
// Feeds: `ResourceClient::List`, and through it the reflector's list and pager.
// client-go: rest/request.go decodes a whole list body at once; this does the same work as
// `DecodeList` (src/object.cc) without ever holding the body.
//
// Each complete element of `items` is decoded into its final `Object` (`Object::Parse`, with the
// list's apiVersion and item kind as defaults) as soon as the separator after it has arrived, and
// its bytes are dropped. What stays is the list minus its items (the "skeleton": header, metadata,
// anything after `items`) plus at most the item in progress, so memory during a list is the
// decoded objects, not the body as well.
//
// Results and errors are exactly `DecodeList`'s for every input. Nothing is reported before
// `Finish`: the skeleton is decoded there by `DecodeList` itself, which applies all its header
// checks and, for a malformed body, simdjson's verdict. That verdict equals the verdict over the
// whole body because every dropped item was a complete, valid JSON object followed by `,` or `]`
// and less than 1000 levels deep: it adds no error of its own. Whenever streaming cannot keep
// that promise, the decoder keeps bytes instead:
//   - `apiVersion` and `kind` not (plain strings) before `items`, a key with escapes before
//     `items`, `items` not an array, or a malformed start: the whole body is kept and handed to
//     `DecodeList` at the end (API servers write TypeMeta first, so this is the odd case);
//   - an item that does not decode, is not an object, is deeper than 999 levels, or is followed
//     by anything but `,`/`]`: that item and everything after it are kept; the items dropped
//     before it stand in as `{}` so `DecodeList` reports the same index.
#ifndef KUBE_SRC_CLIENT_LIST_DECODER_H_
#define KUBE_SRC_CLIENT_LIST_DECODER_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/executor.h"
#include "client/decode_window.h"
#include "kube/object.h"
#include "kube/status.h"

namespace kube::internal {

// Thread-compatible: fed from one thread at a time; `Finish` may run on another thread once the
// feeding thread's calls happen-before it (as `HttpClient::Do` returning guarantees).
class ListDecoder {
 public:
  ListDecoder() = default;
  ListDecoder(const ListDecoder&) = delete;
  ListDecoder& operator=(const ListDecoder&) = delete;

  // Hands decoded items on in batches of `batch` as they are decoded, instead of keeping them
  // for `Finish` (which then returns only the rest). Items handed on are well-formed objects of
  // a list whose header has been checked, but the body may still turn out broken after them:
  // the caller must treat them like the pages of a paginated list that fails halfway. Set it
  // before the first `Feed`. The sink runs inside `Feed`.
  void SetItemSink(std::function<void(std::vector<ObjectPtr>)> sink, size_t batch);

  // Decodes the items on `pool`'s workers (decode_window.h): the feeding thread only finds where
  // items end and hands them on in batches. Results, errors, the order of items and the sink's
  // batches are exactly those without it; the sink still runs on the feeding thread (inside
  // `Feed`), and `Finish` waits for the batches still in flight. The bytes and objects in flight
  // are bounded by `DecodeWindow`'s limits. Set it before the first `Feed`; null decodes on the
  // feeding thread. The pool must outlive the decoder's `Finish`.
  // `batch_items` (tests) caps the items per batch below `DecodeWindow::kBatchItems`.
  void UseWorkers(std::shared_ptr<Executor> pool, size_t batch_items = DecodeWindow::kBatchItems);

  // Takes the next piece of the body. Never fails; errors wait for `Finish`.
  void Feed(std::string_view piece);

  // The body has ended: the list, or the error, that `DecodeList` gives for the whole body.
  // Call once.
  Result<ObjectList> Finish();

  // Items decoded so far (handed on or kept).
  size_t items_decoded() const { return handed_ + items_.size(); }
  // The most body bytes held at once, for tests and benchmarks.
  size_t peak_held_bytes() const { return peak_held_; }
  // Bytes of header members (before `items`) searched so far, re-searches included: linear in
  // the header's size however it is cut into pieces.
  size_t HeaderBytesScannedForTesting() const { return header_bytes_scanned_; }

 private:
  enum class State {
    kHeader,  // before `items`: bytes go to `head_`, members scanned from `cursor_`
    kItems,   // inside `items`: bytes go to `buf_`, items decoded and dropped
    kSuffix,  // after `items`' ']': bytes go to `suffix_`
    kKeep,    // everything from here is kept (in `head_`, or in `buf_` from `cursor_`)
  };

  void ScanHeader();
  void ScanItems();
  void KeepFromCursor();  // kItems -> kKeep
  void NoteHeld();

  // With workers: `frames_` (items framed in `buf_` up to `text_end`) become a batch in flight,
  // and `buf_` keeps only what follows `text_end`.
  void FlushFrames(size_t text_end);
  // Takes back decoded batches in order and hands their items on: waiting while more than
  // `limit` are in flight, then those ready. Stops at a failed item, from which the body is kept
  // (kKeep).
  void Deliver(size_t limit);
  void KeepFromFailed(const DecodeBatch& batch);
  // Appends a decoded item, handing `items_` to the sink once it holds a batch.
  void Take(ObjectPtr obj);

  State state_ = State::kHeader;
  bool keep_all_ = false;  // kKeep reached from kHeader: `head_` is the whole body

  // kHeader.
  std::string head_;  // the body up to and including `items`' '['
  size_t cursor_ = 0;
  bool opened_ = false;
  bool header_plain_ = true;
  bool have_api_version_ = false;
  bool have_kind_ = false;
  std::string api_version_;
  std::string kind_;
  std::string item_kind_;

  // kItems (and kKeep after it): `buf_[cursor_...]` is undecoded; `cursor_` sits after '[' or
  // after the last item's ','.
  std::string buf_;
  size_t item_end_ = 0;  // one past the current item once found, else 0
  size_t next_try_ = 0;  // retry the end search once the item (or header member) is this big
  size_t header_bytes_scanned_ = 0;
  size_t placeholders_ = 0;  // items dropped before a kept one (kKeep only)

  // kSuffix.
  std::string suffix_;

  std::vector<ObjectPtr> items_;
  size_t peak_held_ = 0;

  // SetItemSink.
  std::function<void(std::vector<ObjectPtr>)> sink_;
  size_t batch_ = 0;
  size_t handed_ = 0;  // items given to `sink_`

  // UseWorkers.
  std::shared_ptr<Executor> pool_;
  size_t batch_items_ = DecodeWindow::kBatchItems;
  std::unique_ptr<DecodeWindow> window_;
  std::vector<DecodeBatch::Item> frames_;  // framed in `buf_`, not yet in a batch
  size_t framed_ = 0;                      // items framed so far
};

}  // namespace kube::internal

#endif  // KUBE_SRC_CLIENT_LIST_DECODER_H_
