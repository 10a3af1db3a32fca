#include "client/list_decoder.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "json/scan.h"
#include "object_list.h"

namespace kube::internal {
namespace {

// Items nested this deep are kept rather than dropped: inside the list they sit two levels
// deeper, where simdjson's DOM (1024 levels) may refuse the body that the item alone passes.
constexpr size_t kKeepDepth = 1000;

// How many bytes of `text` are '{' or '[' (they differ only in bit 0x20).
size_t CountOpeners(std::string_view text) {
  const char* p = text.data();
  const size_t n = text.size();
  size_t count = 0;
  size_t i = 0;
#if defined(__SSE2__)
  // SSE2 is part of x86-64: no run-time dispatch needed.
  // Per-byte counters (a match is -1, subtracted), summed before they can overflow.
  const __m128i zero = _mm_setzero_si128();
  const __m128i bit5 = _mm_set1_epi8(0x20);
  const __m128i open = _mm_set1_epi8('{');
  __m128i acc = zero;
  int rounds = 0;
  auto flush = [&] {
    __m128i sums = _mm_sad_epu8(acc, zero);
    count += static_cast<size_t>(_mm_cvtsi128_si32(sums) + _mm_extract_epi16(sums, 4));
    acc = zero;
    rounds = 0;
  };
  for (; i + 16 <= n; i += 16) {
    __m128i v = _mm_or_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i)), bit5);
    acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(v, open));
    if (++rounds == 255) flush();
  }
  flush();
#endif
  for (; i < n; ++i) count += (p[i] | 0x20) == '{';
  return count;
}

// Whether the valid JSON `item` nests `limit` or more levels deep. Counting brackets first spares
// the exact walk for all but bracket-heavy items.
bool NestsAtLeast(std::string_view item, size_t limit) {
  if (CountOpeners(item) < limit) return false;
  size_t depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < item.size(); ++i) {
    const char c = item[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if ((c | 0x20) == '{') {
      if (++depth >= limit) return true;
    } else if ((c | 0x20) == '}') {
      --depth;
    }
  }
  return false;
}

}  // namespace

void ListDecoder::Feed(std::string_view piece) {
  switch (state_) {
    case State::kHeader:
      head_.append(piece);
      ScanHeader();
      break;
    case State::kItems:
      buf_.append(piece);
      ScanItems();
      break;
    case State::kSuffix:
      suffix_.append(piece);
      break;
    case State::kKeep:
      (keep_all_ ? head_ : buf_).append(piece);
      break;
  }
  if (window_ != nullptr) Deliver(DecodeWindow::kMaxInFlight);
  NoteHeld();
}

// Walks the top-level members before `items` the way `DecodeList` does, re-reading the member in
// progress when a piece ends inside it (header members are small).
void ListDecoder::ScanHeader() {
  namespace json = internal::json;
  const std::string_view t = head_;
  const size_t n = t.size();
  auto keep_all = [this] {
    state_ = State::kKeep;
    keep_all_ = true;
  };
  while (true) {
    size_t i = json::SkipSpace(t, cursor_);
    if (i >= n) return;
    if (!opened_) {
      if (t[i] != '{') return keep_all();
      opened_ = true;
      cursor_ = i + 1;
      continue;
    }
    if (t[i] != '"') return keep_all();  // includes `{}`: DecodeList explains
    // The member in progress is searched again only once it has doubled: linear even for a huge
    // member (a server's or an attacker's) arriving in many small pieces.
    if (n - i < next_try_) return;
    header_bytes_scanned_ += n - i;
    next_try_ = 2 * (n - i);
    size_t key_end = json::SkipString(t, i);
    if (key_end == json::kNpos) return;
    std::string_view key = t.substr(i + 1, key_end - i - 2);
    // An escaped key could decode to "items", "kind" or "apiVersion", which the DOM would match
    // and the byte scan would not.
    if (key.find('\\') != std::string_view::npos) return keep_all();
    size_t colon = json::SkipSpace(t, key_end);
    if (colon >= n) return;
    if (t[colon] != ':') return keep_all();
    size_t value = json::SkipSpace(t, colon + 1);
    if (value >= n) return;
    if (key == "items") {
      if (t[value] != '[' || !header_plain_ || !have_api_version_ || !have_kind_) {
        return keep_all();
      }
      buf_.assign(t.substr(value + 1));
      head_.resize(value + 1);
      item_kind_ = ItemKind(kind_);
      state_ = State::kItems;
      if (pool_ != nullptr) {
        window_ = std::make_unique<DecodeWindow>(
            pool_, [api_version = api_version_, kind = item_kind_](DecodeBatch& b) {
              b.objects.reserve(b.items.size());
              for (size_t k = 0; k < b.items.size(); ++k) {
                const DecodeBatch::Item& it = b.items[k];
                std::string_view item(b.text.data() + it.begin, it.end - it.begin);
                Result<ObjectPtr> obj = Object::Parse(item, api_version, kind);
                if (!obj || NestsAtLeast(item, kKeepDepth)) {
                  b.failed_at = k;
                  return;
                }
                b.objects.push_back(*std::move(obj));
              }
            });
      }
      cursor_ = 0;
      next_try_ = 0;
      return ScanItems();
    }
    size_t value_end = json::SkipValue(t, value);
    if (value_end == json::kNpos || value_end >= n) return;
    if (key == "apiVersion" || key == "kind") {
      // The first occurrence counts, as in DecodeList (and the DOM's `at_key`).
      bool& have = key == "kind" ? have_kind_ : have_api_version_;
      if (!have && header_plain_) {
        std::optional<std::string_view> s = PlainString(t.substr(value, value_end - value));
        if (s) {
          (key == "kind" ? kind_ : api_version_).assign(*s);
          have = true;
        } else {
          header_plain_ = false;
        }
      }
    }
    size_t next = json::SkipSpace(t, value_end);
    if (next >= n) return;
    if (t[next] != ',') return keep_all();  // a '}' here: no items
    cursor_ = next + 1;
    next_try_ = 0;
  }
}

void ListDecoder::ScanItems() {
  namespace json = internal::json;
  std::string_view t = buf_;
  size_t n = t.size();
  while (true) {
    const size_t begin = json::SkipSpace(t, cursor_);
    if (begin >= n) break;
    if (item_end_ == 0) {
      if (t[begin] == ']' && framed_ == 0) {
        // `[]`: with no item decoded, the cursor has not passed a ','.
        suffix_.assign(t.substr(begin));
        buf_.clear();
        state_ = State::kSuffix;
        return;
      }
      if (t[begin] != '{') return KeepFromCursor();
      // Search for the end again only once the item has doubled: linear even for an item
      // that arrives in many small pieces.
      if (n - begin < next_try_) break;
      size_t end = json::SkipValue(t, begin);
      if (end == json::kNpos) {
        next_try_ = 2 * (n - begin);
        break;
      }
      item_end_ = end;
      next_try_ = 0;
    }
    const size_t sep = json::SkipSpace(t, item_end_);
    if (sep >= n) break;
    if (t[sep] != ',' && t[sep] != ']') return KeepFromCursor();
    if (window_ != nullptr) {
      // Framed here, decoded on a worker.
      frames_.push_back({cursor_, begin, item_end_, 0});
      ++framed_;
      item_end_ = 0;
      if (t[sep] == ']') {
        suffix_.assign(t.substr(sep));
        FlushFrames(sep);
        buf_.clear();
        state_ = State::kSuffix;
        return Deliver(DecodeWindow::kMaxInFlight);
      }
      cursor_ = sep + 1;
      if (frames_.size() >= batch_items_ ||
          cursor_ - frames_.front().from >= DecodeWindow::kBatchBytes) {
        FlushFrames(cursor_);
        Deliver(DecodeWindow::kMaxInFlight);
        if (state_ != State::kItems) return;  // a batch failed: kept from there
        t = buf_;
        n = t.size();
      }
      continue;
    }
    const std::string_view item = t.substr(begin, item_end_ - begin);
    Result<ObjectPtr> obj = Object::Parse(item, api_version_, item_kind_);
    if (!obj || NestsAtLeast(item, kKeepDepth)) return KeepFromCursor();
    Take(*std::move(obj));
    ++framed_;
    item_end_ = 0;
    if (t[sep] == ']') {
      suffix_.assign(t.substr(sep));
      buf_.clear();
      state_ = State::kSuffix;
      return;
    }
    cursor_ = sep + 1;
  }
  // With workers the framed items stay in `buf_` until their batch is flushed.
  if (window_ != nullptr) return;
  // Drop what was decoded; keep the item in progress.
  buf_.erase(0, cursor_);
  if (item_end_ != 0) item_end_ -= cursor_;
  cursor_ = 0;
}

// From here on nothing is dropped; the items dropped so far become `{}` placeholders.
void ListDecoder::KeepFromCursor() {
  if (window_ != nullptr) {
    // An item framed before the cursor may yet fail to decode: the first failure in list order
    // decides where keeping starts, as it would have without workers.
    if (!frames_.empty()) FlushFrames(cursor_);
    Deliver(0);
    if (state_ == State::kKeep) return;
    window_.reset();
  }
  buf_.erase(0, cursor_);
  cursor_ = 0;
  item_end_ = 0;
  placeholders_ = items_decoded();
  state_ = State::kKeep;
}

void ListDecoder::NoteHeld() {
  const size_t in_flight = window_ != nullptr ? window_->held_bytes() : 0;
  peak_held_ =
      std::max(peak_held_, head_.capacity() + buf_.capacity() + suffix_.capacity() + in_flight);
}

void ListDecoder::FlushFrames(size_t text_end) {
  auto batch = std::make_shared<DecodeBatch>();
  batch->first_index = framed_ - frames_.size();
  batch->items = std::exchange(frames_, {});
  batch->text_end = text_end;
  // The batch takes the buffer whole (no copy of its items); only what follows is copied back.
  std::string rest = buf_.substr(text_end);
  batch->text = std::move(buf_);
  buf_ = std::move(rest);
  cursor_ = 0;
  item_end_ = 0;
  window_->Push(std::move(batch));
  NoteHeld();
}

void ListDecoder::Take(ObjectPtr obj) {
  items_.push_back(std::move(obj));
  if (sink_ && items_.size() >= batch_) {
    handed_ += items_.size();
    sink_(std::exchange(items_, {}));
  }
}

void ListDecoder::Deliver(size_t limit) {
  if (window_ == nullptr) return;
  std::shared_ptr<DecodeBatch> failed =
      window_->DeliverInOrder(limit, [this](ObjectPtr obj) { Take(std::move(obj)); });
  if (failed != nullptr) KeepFromFailed(*failed);
}

// As `KeepFromCursor` at the failed item: its text and everything after it (the batches still in
// flight, what is not yet in a batch, the suffix) become the kept body.
void ListDecoder::KeepFromFailed(const DecodeBatch& batch) {
  const size_t from = batch.items[batch.failed_at].from;
  std::string kept(batch.text, from, batch.text_end - from);
  for (const std::shared_ptr<DecodeBatch>& later : window_->Abandon()) {
    kept.append(later->text, 0, later->text_end);
  }
  window_.reset();
  frames_.clear();
  kept += buf_;
  if (state_ == State::kSuffix) kept += suffix_;
  std::string().swap(suffix_);
  buf_ = std::move(kept);
  cursor_ = 0;
  item_end_ = 0;
  placeholders_ = items_decoded();
  state_ = State::kKeep;
  NoteHeld();
}

Result<ObjectList> ListDecoder::Finish() {
  if (state_ == State::kHeader || keep_all_) return DecodeList(head_);
  if (state_ == State::kItems) KeepFromCursor();  // the body ended inside `items`
  if (window_ != nullptr) {
    Deliver(0);  // may turn to kKeep
    window_.reset();
  }
  std::string reduced = std::move(head_);
  if (state_ == State::kSuffix) {
    reduced += suffix_;  // `[` + `]...`: the list without its items
  } else {
    reduced.reserve(reduced.size() + 3 * placeholders_ + buf_.size());
    for (size_t i = 0; i < placeholders_; ++i) reduced += "{},";
    reduced += buf_;
  }
  Result<ObjectList> list = DecodeList(reduced);
  if (!list || items_decoded() == 0) return list;
  // Defensive: the header checks in ScanHeader make these hold.
  if (list->api_version != api_version_ || list->kind != kind_) {
    return InternalError("list decoder: the list's apiVersion/kind changed after its items");
  }
  if (state_ == State::kSuffix) {
    if (!list->items.empty()) return InternalError("list decoder: items outside `items`");
    list->items = std::move(items_);
  } else {
    // The first `handed_` placeholders stand for items the sink has; the next ones for `items_`.
    if (list->items.size() < items_decoded()) return InternalError("list decoder: items lost");
    const auto handed = static_cast<std::ptrdiff_t>(handed_);
    std::move(items_.begin(), items_.end(), list->items.begin() + handed);
    list->items.erase(list->items.begin(), list->items.begin() + handed);
  }
  return list;
}

void ListDecoder::UseWorkers(std::shared_ptr<Executor> pool, size_t batch_items) {
  pool_ = std::move(pool);
  batch_items_ = std::clamp<size_t>(batch_items, 1, DecodeWindow::kBatchItems);
}

void ListDecoder::SetItemSink(std::function<void(std::vector<ObjectPtr>)> sink, size_t batch) {
  sink_ = std::move(sink);
  batch_ = std::max<size_t>(batch, 1);
}

}  // namespace kube::internal
