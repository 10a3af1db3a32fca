#include "client/protobuf_list_decoder.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "base/strings.h"
#include "proto/wire.h"

namespace kube::internal {
namespace {

using proto::kBytes;
using proto::kFixed32;
using proto::kFixed64;
using proto::kVarint;

// Envelope fields other than raw hold a few names; anything larger is not a Kubernetes body.
constexpr uint64_t kMaxEnvelopeField = 64 * 1024;
// A longest tag plus a longest length.
constexpr size_t kMaxHeader = 20;
// An item buffer larger than this is released after its item instead of kept for the next.
constexpr size_t kKeepItemCapacity = size_t{1} << 20;

// Reads a varint from `s` at `*pos`: 1 done, 0 needs more bytes, -1 malformed.
int ReadVarintAt(std::string_view s, size_t* pos, uint64_t* v) {
  const auto* begin = reinterpret_cast<const uint8_t*>(s.data()) + *pos;
  const auto* end = reinterpret_cast<const uint8_t*>(s.data()) + s.size();
  const uint8_t* p = begin;
  if (proto::ReadVarint(&p, end, v)) {
    *pos += static_cast<size_t>(p - begin);
    return 1;
  }
  return end - begin < 10 ? 0 : -1;
}

}  // namespace

bool IsProtobufContentType(std::string_view content_type) {
  std::string_view media =
      internal::Trim(content_type.substr(0, content_type.find(';')), internal::kOptionalWhitespace);
  return media.size() == kProtobufContentType.size() &&
         internal::AsciiLower(media) == kProtobufContentType;
}

ProtobufListDecoder::ProtobufListDecoder(ProtobufOptions options)
    : options_(options), message_decoder_(options) {}

void ProtobufListDecoder::SetItemSink(std::function<void(std::vector<ObjectPtr>)> sink,
                                      size_t batch) {
  sink_ = std::move(sink);
  batch_ = std::max<size_t>(batch, 1);
}

namespace {

// The error of items[index], at body bytes [offset, offset + size).
Status ItemError(std::string_view kind, size_t index, uint64_t offset, size_t size,
                 const Status& error) {
  return Status(error.code(), "protobuf " + std::string(kind) + ": items[" + std::to_string(index) +
                                  "] (body bytes " + std::to_string(offset) + "-" +
                                  std::to_string(offset + size) + "): " + error.message());
}

}  // namespace

void ProtobufListDecoder::UseWorkers(std::shared_ptr<Executor> pool, size_t batch_items) {
  pool_ = std::move(pool);
  batch_items_ = std::clamp<size_t>(batch_items, 1, DecodeWindow::kBatchItems);
}

void ProtobufListDecoder::Fail(Status status) {
  if (phase_ == Phase::kFailed) return;
  if (window_ != nullptr) {
    FlushFrames();
    Deliver(0);
    if (phase_ == Phase::kFailed) return;
  }
  FailNow(std::move(status));
}

void ProtobufListDecoder::FailNow(Status status) {
  if (phase_ == Phase::kFailed) return;
  window_.reset();
  pending_.reset();
  phase_ = Phase::kFailed;
  error_ = std::move(status);
  std::string().swap(head_);
  std::string().swap(item_);
  std::string().swap(skeleton_);
}

std::string ProtobufListDecoder::Where() const {
  switch (phase_) {
    case Phase::kMagic:
      return "inside the k8s\\0 magic";
    case Phase::kEnvHeader:
      return "inside a field header of the envelope (runtime.Unknown)";
    case Phase::kEnvCollect:
    case Phase::kEnvSkip:
      return "inside field " + std::to_string(collect_field_) + " of the envelope";
    case Phase::kListHeader:
      return "inside a field header of the " + kind_ + " message";
    case Phase::kItem:
      return "inside items[" + std::to_string(item_index_) + "] (which starts at byte " +
             std::to_string(item_offset_) + ")";
    case Phase::kSkeletonCopy:
      return "inside a field of the " + kind_ + " message";
    case Phase::kKeepAll:
    case Phase::kFailed:
      break;
  }
  return "";
}

void ProtobufListDecoder::NoteHeld() {
  size_t held = head_.size() + header_.size() + collect_.size() + skeleton_.size() + item_.size() +
                type_meta_.size() + (window_ != nullptr ? window_->held_bytes() : 0) +
                (pending_ != nullptr ? pending_->text.size() : 0);
  peak_held_ = std::max(peak_held_, held);
}

ProtobufListDecoder::HeaderState ProtobufListDecoder::ParseHeader(Header* h) const {
  size_t pos = 0;
  uint64_t tag = 0;
  int r = ReadVarintAt(header_, &pos, &tag);
  if (r <= 0) return r == 0 ? HeaderState::kMore : HeaderState::kBad;
  h->number = static_cast<uint32_t>(std::min<uint64_t>(tag >> 3, 0xFFFFFFFFu));
  h->wire = static_cast<uint8_t>(tag & 7);
  if (tag >> 3 == 0 || tag >> 3 > proto::kMaxFieldNumber) return HeaderState::kBad;
  uint64_t value = 0;
  switch (h->wire) {
    case kVarint:
      r = ReadVarintAt(header_, &pos, &value);
      if (r <= 0) return r == 0 ? HeaderState::kMore : HeaderState::kBad;
      h->length = 0;
      return HeaderState::kDone;
    case kFixed64:
      h->length = 8;
      return HeaderState::kDone;
    case kFixed32:
      h->length = 4;
      return HeaderState::kDone;
    case kBytes:
      r = ReadVarintAt(header_, &pos, &h->length);
      if (r <= 0) return r == 0 ? HeaderState::kMore : HeaderState::kBad;
      return HeaderState::kDone;
    default:
      return HeaderState::kBad;
  }
}

void ProtobufListDecoder::KeepAll() { phase_ = Phase::kKeepAll; }

void ProtobufListDecoder::EnterRaw(uint64_t length) {
  raw_left_ = length;
  std::string().swap(head_);  // the envelope so far is in type_meta_
  phase_ = length == 0 ? Phase::kEnvHeader : Phase::kListHeader;
  if (pool_ != nullptr) {
    window_ = std::make_unique<DecodeWindow>(
        pool_,
        [options = options_, api_version = api_version_, kind = kind_, item_kind = shape_.item_kind,
         type_meta = shape_.items_have_type_meta](DecodeBatch& b) {
          ProtobufMessageDecoder decoder(options);
          b.objects.reserve(b.items.size());
          for (size_t i = 0; i < b.items.size(); ++i) {
            const DecodeBatch::Item& it = b.items[i];
            std::string_view item(b.text.data() + it.begin, it.end - it.begin);
            Result<ObjectPtr> object =
                decoder.DecodeObject(api_version, item_kind, item, type_meta);
            if (!object) {
              b.failed_at = i;
              b.error = ItemError(kind, b.first_index + i, it.offset, item.size(), object.error());
              return;
            }
            b.objects.push_back(*std::move(object));
          }
        });
  }
}

void ProtobufListDecoder::FrameDone() {
  const size_t end = pending_->text.size();
  pending_->items.push_back({item_begin_, item_begin_, end, item_offset_});
  ++item_index_;
  phase_ = raw_left_ == 0 ? Phase::kEnvHeader : Phase::kListHeader;
  if (pending_->items.size() >= batch_items_ ||
      pending_->text.size() >= DecodeWindow::kBatchBytes) {
    FlushFrames();
    Deliver(DecodeWindow::kMaxInFlight);
  }
}

void ProtobufListDecoder::FlushFrames() {
  if (pending_ == nullptr || pending_->items.empty()) return;
  pending_->text_end = pending_->items.back().end;
  pending_->first_index = item_index_ - pending_->items.size();
  window_->Push(std::exchange(pending_, nullptr));
}

void ProtobufListDecoder::Take(ObjectPtr obj) {
  items_.push_back(std::move(obj));
  if (sink_ && items_.size() >= batch_) {
    handed_ += items_.size();
    sink_(std::exchange(items_, {}));
  }
}

void ProtobufListDecoder::Deliver(size_t limit) {
  if (window_ == nullptr) return;
  std::shared_ptr<DecodeBatch> failed =
      window_->DeliverInOrder(limit, [this](ObjectPtr obj) { Take(std::move(obj)); });
  if (failed != nullptr) FailNow(std::move(failed->error));
}

void ProtobufListDecoder::FinishEnvelopeField() {
  switch (collect_field_) {
    case 1: {
      // typeMeta {1: apiVersion, 2: kind}; occurrences merge, as concatenated messages do.
      type_meta_ += collect_;
      std::string probe(kProtobufMagic);
      proto::PutBytesField(1, type_meta_, &probe);
      Result<ProtobufEnvelope> env = ParseProtobufEnvelope(probe);
      if (!env) {
        Fail(env.error());
        return;
      }
      have_type_meta_ = true;
      api_version_.assign(env->api_version);
      kind_.assign(env->kind);
      break;
    }
    case 3:
      content_encoding_ = collect_;
      break;
    case 4:
      content_type_ = collect_;
      break;
    default:
      break;
  }
  collect_.clear();
}

size_t ProtobufListDecoder::FeedEnvelopeHeader(std::string_view piece) {
  size_t used = 0;
  Header h;
  HeaderState state = HeaderState::kMore;
  while (used < piece.size()) {
    header_ += piece[used++];
    state = ParseHeader(&h);
    if (state != HeaderState::kMore || header_.size() >= kMaxHeader) break;
  }
  head_.append(piece.substr(0, used));
  offset_ += used;
  if (state == HeaderState::kMore) {
    if (header_.size() < kMaxHeader) return used;
    state = HeaderState::kBad;
  }
  if (state == HeaderState::kBad) {
    Fail(
        InvalidArgumentError("protobuf: malformed field header in the envelope (runtime.Unknown) "
                             "at byte " +
                             std::to_string(offset_ - header_.size())));
    return used;
  }
  const size_t header_size = header_.size();
  header_.clear();
  if (h.number <= 4 && h.wire != kBytes) {
    // As ParseProtobufEnvelope, which the whole-body path applies: fields 1-4 are messages or
    // strings.
    Fail(InvalidArgumentError("protobuf: envelope (runtime.Unknown): field " +
                              std::to_string(h.number) + " is not length-delimited at byte " +
                              std::to_string(offset_ - header_size)));
    return used;
  }
  if (h.number == 2 && h.wire == kBytes) {
    if (saw_raw_) {
      Fail(
          InvalidArgumentError("protobuf: the envelope (runtime.Unknown) holds raw twice, the "
                               "second at byte " +
                               std::to_string(offset_)));
      return used;
    }
    saw_raw_ = true;
    if (h.length > options_.max_body_bytes) {
      Fail(InvalidArgumentError("protobuf: the " + (kind_.empty() ? "list" : kind_) +
                                " message declares " + std::to_string(h.length) +
                                " bytes, over the limit of " +
                                std::to_string(options_.max_body_bytes)));
      return used;
    }
    if (!have_type_meta_) {
      KeepAll();  // typeMeta after raw: decode the whole body at the end
      return used;
    }
    Result<ProtobufListShape> shape = LookupProtobufListShape(api_version_, kind_);
    if (shape) {
      shape_ = *std::move(shape);
      EnterRaw(h.length);
      return used;
    }
    if (!HasProtobufForm(api_version_, kind_)) {
      unknown_kind_ = true;
      Fail(NotFoundError("protobuf: no built-in protobuf type for apiVersion \"" + api_version_ +
                         "\" kind \"" + kind_ + "\""));
      return used;
    }
    KeepAll();  // a built-in kind but not a list: `DecodeList` reports it
    return used;
  }
  if (h.wire == kBytes && (h.number == 1 || h.number == 3 || h.number == 4)) {
    if (h.length > kMaxEnvelopeField) {
      Fail(InvalidArgumentError("protobuf: envelope field " + std::to_string(h.number) + " of " +
                                std::to_string(h.length) + " bytes at byte " +
                                std::to_string(offset_) + " is too large"));
      return used;
    }
    collect_field_ = h.number;
    left_ = h.length;
    if (left_ == 0) {
      FinishEnvelopeField();
    } else {
      phase_ = Phase::kEnvCollect;
    }
    return used;
  }
  collect_field_ = h.number;
  left_ = h.length;
  if (left_ > 0) phase_ = Phase::kEnvSkip;
  return used;
}

size_t ProtobufListDecoder::FeedListHeader(std::string_view piece) {
  size_t used = 0;
  Header h;
  HeaderState state = HeaderState::kMore;
  while (used < piece.size() && raw_left_ > 0) {
    header_ += piece[used++];
    --raw_left_;
    state = ParseHeader(&h);
    if (state != HeaderState::kMore || header_.size() >= kMaxHeader) break;
  }
  offset_ += used;
  if (state == HeaderState::kMore) {
    if (header_.size() < kMaxHeader && raw_left_ > 0) return used;
    if (header_.size() < kMaxHeader) {
      Fail(InvalidArgumentError("protobuf: the " + kind_ +
                                " message ends inside a field header "
                                "at byte " +
                                std::to_string(offset_ - header_.size())));
      return used;
    }
    state = HeaderState::kBad;
  }
  if (state == HeaderState::kBad) {
    Fail(InvalidArgumentError("protobuf: malformed field header in the " + kind_ +
                              " message at byte " + std::to_string(offset_ - header_.size())));
    return used;
  }
  if (h.length > raw_left_) {
    Fail(InvalidArgumentError("protobuf: field " + std::to_string(h.number) + " of the " + kind_ +
                              " message at byte " + std::to_string(offset_ - header_.size()) +
                              " declares " + std::to_string(h.length) + " bytes, but only " +
                              std::to_string(raw_left_) + " remain in the message"));
    return used;
  }
  left_ = h.length;
  if (h.number == shape_.items_field && h.wire == kBytes) {
    header_.clear();
    item_offset_ = offset_;
    phase_ = Phase::kItem;
    if (window_ != nullptr) {
      if (pending_ == nullptr) pending_ = std::make_shared<DecodeBatch>();
      item_begin_ = pending_->text.size();
      if (left_ == 0) FrameDone();
      return used;
    }
    if (left_ == 0) FinishItem();
    return used;
  }
  skeleton_ += header_;  // the transcoder at `Finish` checks it like any other field
  header_.clear();
  phase_ = left_ > 0 ? Phase::kSkeletonCopy : Phase::kListHeader;
  return used;
}

void ProtobufListDecoder::FinishItem() { FinishItem(item_); }

void ProtobufListDecoder::FinishItem(std::string_view item) {
  // Equal to what `DecodeList` makes of the same list's JSON; the object keeps the protobuf.
  Result<ObjectPtr> object = message_decoder_.DecodeObject(api_version_, shape_.item_kind, item,
                                                           shape_.items_have_type_meta);
  if (!object) {
    Fail(ItemError(kind_, item_index_, item_offset_, item.size(), object.error()));
    return;
  }
  ++item_index_;
  if (item_.capacity() > kKeepItemCapacity) {
    std::string().swap(item_);
  } else {
    item_.clear();
  }
  phase_ = raw_left_ == 0 ? Phase::kEnvHeader : Phase::kListHeader;
  Take(*std::move(object));
}

void ProtobufListDecoder::Feed(std::string_view piece) {
  while (!piece.empty()) {
    size_t used = 0;
    switch (phase_) {
      case Phase::kFailed:
        return;
      case Phase::kKeepAll:
        if (head_.size() + piece.size() > options_.max_body_bytes) {
          Fail(InvalidArgumentError("protobuf: body exceeds the limit of " +
                                    std::to_string(options_.max_body_bytes) + " bytes"));
          return;
        }
        head_.append(piece);
        used = piece.size();
        offset_ += used;
        break;
      case Phase::kMagic:
        used = std::min(kProtobufMagic.size() - head_.size(), piece.size());
        head_.append(piece.substr(0, used));
        offset_ += used;
        if (head_.size() == kProtobufMagic.size()) {
          if (head_ != kProtobufMagic) {
            Fail(
                InvalidArgumentError("protobuf: not a Kubernetes protobuf body (no k8s\\0 magic)"));
            return;
          }
          phase_ = Phase::kEnvHeader;
        }
        break;
      case Phase::kEnvHeader:
        used = FeedEnvelopeHeader(piece);
        break;
      case Phase::kEnvCollect:
      case Phase::kEnvSkip:
        used = static_cast<size_t>(std::min<uint64_t>(left_, piece.size()));
        head_.append(piece.substr(0, used));
        if (phase_ == Phase::kEnvCollect) collect_.append(piece.substr(0, used));
        left_ -= used;
        offset_ += used;
        if (left_ == 0) {
          if (phase_ == Phase::kEnvCollect) FinishEnvelopeField();
          if (phase_ != Phase::kFailed) phase_ = Phase::kEnvHeader;
        }
        break;
      case Phase::kListHeader:
        if (raw_left_ == 0) {
          phase_ = Phase::kEnvHeader;
          continue;
        }
        used = FeedListHeader(piece);
        break;
      case Phase::kItem:
      case Phase::kSkeletonCopy:
        if (phase_ == Phase::kItem && window_ != nullptr) {
          // Gathered into the batch; decoded on a worker.
          used = static_cast<size_t>(std::min<uint64_t>(left_, piece.size()));
          pending_->text.append(piece.substr(0, used));
          left_ -= used;
          raw_left_ -= used;
          offset_ += used;
          if (left_ == 0) FrameDone();
          break;
        }
        if (phase_ == Phase::kItem && item_.empty() && left_ <= piece.size()) {
          // The whole item is in this piece: decode it where it lies.
          used = static_cast<size_t>(left_);
          left_ = 0;
          raw_left_ -= used;
          offset_ += used;
          FinishItem(piece.substr(0, used));
          break;
        }
        used = static_cast<size_t>(std::min<uint64_t>(left_, piece.size()));
        (phase_ == Phase::kItem ? item_ : skeleton_).append(piece.substr(0, used));
        left_ -= used;
        raw_left_ -= used;
        offset_ += used;
        if (left_ == 0) {
          if (phase_ == Phase::kItem) {
            NoteHeld();
            FinishItem();
          } else {
            phase_ = raw_left_ == 0 ? Phase::kEnvHeader : Phase::kListHeader;
          }
        }
        break;
    }
    piece.remove_prefix(used);
    NoteHeld();
  }
  if (window_ != nullptr) Deliver(DecodeWindow::kMaxInFlight);
}

Result<ObjectList> ProtobufListDecoder::Finish() {
  if (window_ != nullptr) {
    // Every item before the end decides first: an item error wins over a truncated body.
    FlushFrames();
    Deliver(0);
    window_.reset();
  }
  if (phase_ == Phase::kFailed) return error_;
  if (phase_ == Phase::kMagic) {
    return InvalidArgumentError("protobuf: the body (" + std::to_string(offset_) +
                                " bytes) ends before the k8s\\0 magic is complete");
  }
  const bool at_boundary = header_.empty() && (phase_ == Phase::kEnvHeader ||
                                               (phase_ == Phase::kListHeader && raw_left_ == 0));
  if (at_boundary && !saw_raw_) {
    // Every list body has one (a truncated body may end right before it).
    return InvalidArgumentError("protobuf: the body ends at byte " + std::to_string(offset_) +
                                " without the envelope's raw message (truncated?)");
  }
  if (phase_ == Phase::kKeepAll) {
    Result<std::string> json = ProtobufToJson(head_, options_);
    if (!json) {
      if (json.error().code() == StatusCode::kNotFound) unknown_kind_ = true;
      return json.error();
    }
    return DecodeList(*json);
  }
  if (!at_boundary) {
    return InvalidArgumentError("protobuf: the body is truncated at byte " +
                                std::to_string(offset_) + ", " + Where());
  }
  // The list without its items, in the envelope the server sent: the transcoder checks the
  // envelope and the list's other fields exactly as for a whole body.
  std::string body(kProtobufMagic);
  proto::PutBytesField(1, type_meta_, &body);
  proto::PutBytesField(2, skeleton_, &body);
  if (!content_encoding_.empty()) proto::PutBytesField(3, content_encoding_, &body);
  if (!content_type_.empty()) proto::PutBytesField(4, content_type_, &body);
  Result<std::string> json = ProtobufToJson(body, options_);
  if (!json) return json.error().WithContext("protobuf " + kind_ + " without its items");
  Result<ObjectList> list = DecodeList(*json);
  if (!list) return list;
  if (!list->items.empty()) return InternalError("protobuf list decoder: items outside `items`");
  list->items = std::move(items_);
  return list;
}

}  // namespace kube::internal
