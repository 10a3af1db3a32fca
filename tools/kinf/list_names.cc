// A list body reduced to names as it arrives; see list_names.h.
#include "kinf/list_names.h"

#include <algorithm>
#include <utility>

#include "client/list_decoder.h"
#include "kube/proto/protobuf.h"
#include "proto/special_wire.h"
#include "proto/wire.h"

namespace kinf {
namespace {

namespace wire = kube::internal::proto;

constexpr std::string_view kMagic("k8s\0", 4);
// Larger items or envelope fields are refused rather than buffered (a Pod is a few KB).
constexpr uint64_t kMaxField = uint64_t{64} << 20;
// 1678-01-01T00:00:00Z and 2261-12-31T23:59:59Z: the years a system_clock time point holds, and
// the years `Object::creation_time` answers (outside them: no time).
constexpr int64_t kYear1678 = -9214560000;
constexpr int64_t kYear2261End = 9214646399;

enum class HeaderRead { kDone, kMore, kBad };

struct FieldHeader {
  uint32_t number = 0;
  uint8_t wire = 0;
  size_t size = 0;       // the key, and the length or varint value
  uint64_t payload = 0;  // bytes after `size`
};

// Reads a field header from the start of `s`: kMore when `s` ends inside it.
HeaderRead ReadHeader(std::string_view s, FieldHeader* h) {
  const auto* begin = reinterpret_cast<const uint8_t*>(s.data());
  const uint8_t* p = begin;
  const uint8_t* end = begin + s.size();
  auto varint = [&](uint64_t* v) {
    if (wire::ReadVarint(&p, end, v)) return HeaderRead::kDone;
    return end - p < 10 ? HeaderRead::kMore : HeaderRead::kBad;
  };
  uint64_t key = 0;
  if (HeaderRead r = varint(&key); r != HeaderRead::kDone) return r;
  if ((key >> 3) == 0 || (key >> 3) > wire::kMaxFieldNumber) return HeaderRead::kBad;
  h->number = static_cast<uint32_t>(key >> 3);
  h->wire = static_cast<uint8_t>(key & 7);
  uint64_t value = 0;
  switch (h->wire) {
    case wire::kVarint:
      if (HeaderRead r = varint(&value); r != HeaderRead::kDone) return r;
      h->payload = 0;
      break;
    case wire::kFixed64:
      h->payload = 8;
      break;
    case wire::kFixed32:
      h->payload = 4;
      break;
    case wire::kBytes:
      if (HeaderRead r = varint(&value); r != HeaderRead::kDone) return r;
      h->payload = value;
      break;
    default:
      return HeaderRead::kBad;
  }
  h->size = static_cast<size_t>(p - begin);
  return HeaderRead::kDone;
}

// Calls `f(field)` for each field of a complete message; false when it is malformed.
template <typename F>
bool ForEachField(std::string_view message, F f) {
  const auto* p = reinterpret_cast<const uint8_t*>(message.data());
  const uint8_t* end = p + message.size();
  while (p < end) {
    wire::WireField field;
    if (wire::ReadField(&p, end, &field) != wire::WireError::kNone) return false;
    f(field);
  }
  return true;
}

std::string_view Payload(const wire::WireField& f) {
  return {reinterpret_cast<const char*>(f.data), static_cast<size_t>(f.value)};
}

}  // namespace

ListNameScanner::ListNameScanner(std::vector<ListedName>* rows) : rows_(rows) {}
ListNameScanner::~ListNameScanner() = default;

void ListNameScanner::Fail(std::string message) {
  if (phase_ == Phase::kFailed) return;
  error_ = kube::InvalidArgumentError("protobuf list: " + std::move(message));
  phase_ = Phase::kFailed;
  pending_.clear();
}

void ListNameScanner::Feed(std::string_view piece) {
  if (piece.empty() || phase_ == Phase::kFailed) return;
  if (phase_ == Phase::kStart) {
    if (piece[0] == kMagic[0]) {
      phase_ = Phase::kMagic;
    } else {
      phase_ = Phase::kJson;
      json_ = std::make_unique<kube::internal::ListDecoder>();
      json_->SetItemSink(
          [rows = rows_](std::vector<kube::ObjectPtr> items) {
            for (const kube::ObjectPtr& obj : items) {
              rows->push_back(
                  {std::string(obj->ns()), std::string(obj->name()), obj->creation_time()});
            }
          },
          500);
    }
  }
  if (phase_ == Phase::kJson) {
    json_->Feed(piece);
    return;
  }
  if (pending_.empty()) {
    size_t used = Step(piece);
    offset_ += used;
    if (phase_ != Phase::kFailed) pending_.assign(piece.substr(used));
  } else {
    pending_.append(piece);
    size_t used = Step(pending_);
    offset_ += used;
    if (phase_ != Phase::kFailed) pending_.erase(0, used);
  }
}

// Consumes what it can of `data` (which starts at body offset `offset_`); returns how much.
size_t ListNameScanner::Step(std::string_view data) {
  size_t pos = 0;
  while (phase_ != Phase::kFailed) {
    std::string_view rest = data.substr(pos);
    if (phase_ == Phase::kMagic) {
      if (rest.size() < kMagic.size()) return pos;
      if (rest.substr(0, kMagic.size()) != kMagic) {
        Fail("the body does not start with the protobuf magic");
        break;
      }
      pos += kMagic.size();
      phase_ = Phase::kEnvelope;
      continue;
    }
    if (phase_ == Phase::kSkip) {
      uint64_t n = std::min<uint64_t>(skip_left_, rest.size());
      pos += n;
      skip_left_ -= n;
      if (in_raw_) raw_left_ -= n;
      if (skip_left_ > 0) return pos;
      phase_ = after_skip_;
      continue;
    }
    if (phase_ == Phase::kList && raw_left_ == 0) {
      phase_ = Phase::kEnvelope;
      in_raw_ = false;
      continue;
    }
    if (rest.empty()) return pos;
    const bool list = phase_ == Phase::kList;
    std::string_view scope =
        list ? rest.substr(0, std::min<uint64_t>(rest.size(), raw_left_)) : rest;
    FieldHeader h;
    HeaderRead r = ReadHeader(scope, &h);
    const std::string at = " at byte " + std::to_string(offset_ + pos);
    if (r == HeaderRead::kMore && !(list && scope.size() == raw_left_)) return pos;
    if (r != HeaderRead::kDone) {
      Fail("malformed field header" + at);
      break;
    }
    if (list && h.size + h.payload > raw_left_) {
      Fail("a field of the list runs past its end" + at);
      break;
    }
    const bool bytes = h.wire == wire::kBytes;
    bool whole = false;  // the field is read whole (else skipped)
    if (list) {
      whole = bytes && (h.number == items_field_ || h.number == 1);
    } else if (bytes && h.number == 2) {  // raw: the list's message
      if (saw_raw_) {
        Fail("two raw fields in the envelope" + at);
        break;
      }
      pos += h.size;
      saw_raw_ = true;
      in_raw_ = true;
      raw_left_ = h.payload;
      phase_ = Phase::kList;
      continue;
    } else {
      whole = bytes && (h.number == 1 || h.number == 3);  // typeMeta, contentEncoding
    }
    if (!whole) {
      pos += h.size;
      if (list) raw_left_ -= h.size;
      skip_left_ = h.payload;
      after_skip_ = phase_;
      phase_ = Phase::kSkip;
      continue;
    }
    if (h.payload > kMaxField) {
      Fail("a field of " + std::to_string(h.payload) + " bytes" + at);
      break;
    }
    if (rest.size() < h.size + h.payload) return pos;  // wait for the whole field
    std::string_view payload = rest.substr(h.size, h.payload);
    if (list && h.number == items_field_) {
      if (!ParseItem(payload)) {
        Fail("malformed item" + at);
        break;
      }
    } else if (list) {
      ParseListMeta(payload);
    } else if (h.number == 3) {
      if (!payload.empty()) {
        Fail("contentEncoding \"" + std::string(payload) + "\" is not supported");
        break;
      }
    } else {  // typeMeta: {1: apiVersion, 2: kind}
      std::string api_version, kind;
      if (!ForEachField(payload, [&](const wire::WireField& f) {
            if (f.wire != wire::kBytes) return;
            if (f.number == 1) api_version = Payload(f);
            if (f.number == 2) kind = Payload(f);
          })) {
        Fail("malformed typeMeta" + at);
        break;
      }
      kube::Result<kube::ProtobufListShape> shape =
          kube::LookupProtobufListShape(api_version, kind);
      if (!shape) {
        unknown_kind_ = true;
        error_ = shape.error();
        phase_ = Phase::kFailed;
        break;
      }
      items_field_ = shape->items_field;
    }
    pos += h.size + h.payload;
    if (list) raw_left_ -= h.size + h.payload;
  }
  return pos;
}

bool ListNameScanner::ParseItem(std::string_view item) {
  ListedName row;
  bool ok = true;
  auto read_time = [&](std::string_view time) {  // {1: seconds, 2: nanos}
    uint64_t seconds = 0;
    uint64_t nanos = 0;
    ok = ForEachField(time,
                      [&](const wire::WireField& t) {
                        if (t.wire != wire::kVarint) return;
                        if (t.number == 1) seconds = t.value;
                        if (t.number == 2) nanos = t.value;
                      }) &&
         ok;
    if (seconds == 0 && nanos == 0) return;  // an empty message: JSON's `null`, no time
    // A time JSON cannot carry is a malformed item, as it is for the object decoder.
    const wire::UnixTime t = wire::ReadUnixTime(wire::Special::kTime, seconds, nanos);
    if (!wire::JsonCarriesUnixTime(t)) {
      ok = false;
      return;
    }
    if (wire::IsZeroUnixTime(t) || t.secs < kYear1678 || t.secs > kYear2261End) return;
    row.created = std::chrono::system_clock::time_point(std::chrono::seconds(t.secs));
  };
  auto read_meta = [&](std::string_view meta) {
    ok = ForEachField(meta,
                      [&](const wire::WireField& m) {
                        if (m.wire != wire::kBytes) return;
                        if (m.number == 1) row.name = Payload(m);
                        if (m.number == 3) row.ns = Payload(m);
                        if (m.number == 8) read_time(Payload(m));  // creationTimestamp
                      }) &&
         ok;
  };
  ok = ForEachField(item,
                    [&](const wire::WireField& f) {
                      // ObjectMeta is field 1 of every built-in kind.
                      if (f.number == 1 && f.wire == wire::kBytes) read_meta(Payload(f));
                    }) &&
       ok;
  if (!ok) return false;
  rows_->push_back(std::move(row));
  return true;
}

void ListNameScanner::ParseListMeta(std::string_view meta) {
  (void)ForEachField(meta, [&](const wire::WireField& f) {
    if (f.number == 3 && f.wire == wire::kBytes) continue_token_ = Payload(f);  // continue
  });
}

kube::Result<std::string> ListNameScanner::Finish() {
  switch (phase_) {
    case Phase::kFailed:
      return error_;
    case Phase::kJson: {
      kube::Result<kube::ObjectList> list = json_->Finish();
      if (!list) return list.error();
      for (const kube::ObjectPtr& obj : list->items) {
        rows_->push_back({std::string(obj->ns()), std::string(obj->name()), obj->creation_time()});
      }
      return list->continue_token;
    }
    case Phase::kStart:
      return kube::InvalidArgumentError("the list body is empty");
    default:
      break;
  }
  if (phase_ == Phase::kList && raw_left_ == 0) phase_ = Phase::kEnvelope;
  if (phase_ != Phase::kEnvelope || !pending_.empty() || !saw_raw_) {
    return kube::InvalidArgumentError("protobuf list: the body is truncated at byte " +
                                      std::to_string(offset_ + pending_.size()));
  }
  return continue_token_;
}

kube::Status ListNames(const kube::ResourceClient& client, kube::ListOptions options,
                       std::vector<ListedName>* rows, bool* unknown_kind) {
  *unknown_kind = false;
  while (true) {
    ListNameScanner scanner(rows);
    kube::HttpRequest req;
    std::string query = kube::ListQuery(options, false);
    req.path = client.Path() + (query.empty() ? "" : "?" + query);
    req.accept = client.protobuf() ? "application/vnd.kubernetes.protobuf, application/json"
                                   : "application/json";
    req.body_sink = [&scanner](std::string_view piece) { scanner.Feed(piece); };
    kube::Result<kube::HttpResponse> resp = client.http()->Do(req);
    if (!resp) return resp.error();
    if (resp->status < 200 || resp->status > 299) {
      return kube::StatusFromResponse(*resp, "GET " + req.path);
    }
    if (!resp->body.empty()) scanner.Feed(resp->body);  // an HttpClient that does not stream
    kube::Result<std::string> next = scanner.Finish();
    if (!next) {
      *unknown_kind = scanner.unknown_kind();
      if (*unknown_kind) return next.error();
      return kube::DataLossError("decoding the answer to GET " + req.path + ": " +
                                 next.error().message());
    }
    if (next->empty()) return kube::Status();
    if (*next == options.continue_token) {
      return kube::DataLossError("GET " + req.path +
                                 ": the server answered a continue token with the same token");
    }
    options.continue_token = *std::move(next);
    options.resource_version.clear();  // a continued list reads the token's snapshot
  }
}

}  // namespace kinf
