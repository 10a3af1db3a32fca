// ProtobufListDecoder: a protobuf list response (`application/vnd.kubernetes.protobuf`) decoded
// while it arrives, in pieces of any size: the protobuf twin of `ListDecoder` (list_decoder.h).
//
// Reads from: the HTTP client's body sink (`HttpRequest::body_sink`), on its I/O thread.
// Feeds: `ResourceClient::List`, and through it the reflector's list and pager.
// client-go: runtime/serializer/protobuf decodes a whole list body at once; this does the same
// work without ever holding the body.
//
// A body is the magic `k8s\0` and a runtime.Unknown {1: typeMeta, 2: raw, 3: contentEncoding,
// 4: contentType}; `raw` is the list's message, whose `items` field (number 2 in every built-in
// list) occurs once per item. The decoder walks both messages as bytes arrive, field header by
// field header. Once typeMeta names a built-in list kind (the API server writes typeMeta before
// raw), each `items` occurrence is gathered alone, made its final `Object` (which keeps the
// protobuf message, with the item kind and the list's apiVersion as its TypeMeta: see
// `ProtobufMessageDecoder::DecodeObject`) and dropped. Every other
// field of the list (its metadata) is kept in a "skeleton" message, decoded at `Finish` by the
// whole-body transcoder, which also applies its envelope checks. So what stays is the skeleton
// plus at most one item's bytes.
//
// When streaming does not apply (typeMeta after raw, a kind that is not a built-in list), the
// body is kept whole and decoded at `Finish` by `ProtobufToJson` and `DecodeList`: the same result,
// without the memory bound.
//
// Errors (from `Finish`) name where the body failed: the item index and its body offsets, and
// the transcoder's type.field path. A kind without a protobuf form sets `unknown_kind()` (the
// caller falls back to JSON); its error is kNotFound.
#ifndef KUBE_SRC_CLIENT_PROTOBUF_LIST_DECODER_H_
#define KUBE_SRC_CLIENT_PROTOBUF_LIST_DECODER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/executor.h"
#include "client/decode_window.h"
#include "kube/object.h"
#include "kube/proto/protobuf.h"
#include "kube/status.h"

namespace kube::internal {

// Thread-compatible, as `ListDecoder`.
class ProtobufListDecoder {
 public:
  explicit ProtobufListDecoder(ProtobufOptions options = {});
  ProtobufListDecoder(const ProtobufListDecoder&) = delete;
  ProtobufListDecoder& operator=(const ProtobufListDecoder&) = delete;

  // As `ListDecoder::SetItemSink`.
  void SetItemSink(std::function<void(std::vector<ObjectPtr>)> sink, size_t batch);

  // As `ListDecoder::UseWorkers`: items are gathered into batches and decoded on `pool`'s
  // workers; results, errors (the first in body order wins) and the order of items are those
  // without it.
  // `batch_items` (tests) caps the items per batch below `DecodeWindow::kBatchItems`.
  void UseWorkers(std::shared_ptr<Executor> pool, size_t batch_items = DecodeWindow::kBatchItems);

  // Takes the next piece of the body. Never fails; errors wait for `Finish` (after the first
  // error the rest of the body is ignored).
  void Feed(std::string_view piece);

  // The body has ended: the list, or the error. Call once.
  Result<ObjectList> Finish();

  // Whether the body named a kind without a built-in protobuf form.
  bool unknown_kind() const { return unknown_kind_; }
  // Items decoded so far (handed on or kept).
  size_t items_decoded() const { return handed_ + items_.size(); }
  // The most body bytes held at once, for tests and benchmarks.
  size_t peak_held_bytes() const { return peak_held_; }

 private:
  enum class Phase {
    kMagic,         // the first four bytes
    kEnvHeader,     // a field header of the envelope
    kEnvCollect,    // the payload of typeMeta, contentEncoding or contentType, into `collect_`
    kEnvSkip,       // the payload of an unknown envelope field
    kListHeader,    // a field header of the list message (inside raw)
    kItem,          // an item's payload, into `item_`
    kSkeletonCopy,  // the payload of another list field, into `skeleton_`
    kKeepAll,       // no streaming: everything goes to `whole_`
    kFailed,
  };
  // A field header read from `header_`: complete, needs more bytes, or malformed.
  enum class HeaderState { kDone, kMore, kBad };
  struct Header {
    uint32_t number = 0;
    uint8_t wire = 0;
    uint64_t length = 0;  // payload bytes that follow the header
  };

  size_t FeedEnvelopeHeader(std::string_view piece);
  size_t FeedListHeader(std::string_view piece);
  HeaderState ParseHeader(Header* h) const;
  void EnterRaw(uint64_t length);
  void KeepAll();
  void FinishEnvelopeField();
  void FinishItem();
  void FinishItem(std::string_view item);
  // Fails with the first error in body order: with workers, an item before this point may still
  // fail to decode, and its error wins.
  void Fail(Status status);
  void FailNow(Status status);
  void NoteHeld();
  // With workers: the item just gathered into `pending_` is complete.
  void FrameDone();
  // With workers: `pending_`'s complete items become a batch in flight.
  void FlushFrames();
  // As `ListDecoder::Deliver`; a failed batch fails the decoder with its item's error.
  void Deliver(size_t limit);
  // As `ListDecoder::Take`.
  void Take(ObjectPtr obj);
  std::string Where() const;

  ProtobufOptions options_;
  ProtobufMessageDecoder message_decoder_;
  Phase phase_ = Phase::kMagic;
  Status error_;
  bool unknown_kind_ = false;
  uint64_t offset_ = 0;  // body bytes consumed

  std::string header_;  // the field header being read
  std::string head_;    // every byte before raw's payload (the whole body once kKeepAll)

  // Envelope.
  uint32_t collect_field_ = 0;
  uint64_t left_ = 0;  // payload bytes left of the current field
  std::string collect_;
  bool have_type_meta_ = false;
  std::string type_meta_;  // the typeMeta message
  std::string api_version_;
  std::string kind_;
  std::string content_encoding_;
  std::string content_type_;
  bool saw_raw_ = false;

  // The list message.
  ProtobufListShape shape_;
  uint64_t raw_left_ = 0;  // bytes of raw not yet read
  std::string skeleton_;   // the list message without its items
  std::string item_;
  uint64_t item_offset_ = 0;  // body offset of the item's payload
  size_t item_index_ = 0;

  std::vector<ObjectPtr> items_;
  size_t peak_held_ = 0;
  std::function<void(std::vector<ObjectPtr>)> sink_;
  size_t batch_ = 0;
  size_t handed_ = 0;

  // UseWorkers.
  std::shared_ptr<Executor> pool_;
  size_t batch_items_ = DecodeWindow::kBatchItems;
  std::unique_ptr<DecodeWindow> window_;
  std::shared_ptr<DecodeBatch> pending_;  // items gathered, not yet in flight
  size_t item_begin_ = 0;                 // where the item in progress starts in `pending_`
};

// Whether a Content-Type is Kubernetes' protobuf (with or without parameters such as
// `;stream=watch`).
bool IsProtobufContentType(std::string_view content_type);

}  // namespace kube::internal

#endif  // KUBE_SRC_CLIENT_PROTOBUF_LIST_DECODER_H_
