// WatchStream: events to watch lines; see watch_stream.h.
//
// Reads from: a WatchPlan and its Watcher. Feeds: the HTTP session.
#include "server/watch_stream.h"

#include <chrono>
#include <nlohmann/json.hpp>

#include "server/content_type.h"
#include "server/object_json.h"
#include "server/table.h"

namespace kube::server {
namespace {

constexpr size_t kEventsPerTake = 256;

std::string_view Prefix(std::string_view type) {
  if (type == "ADDED") return R"({"type":"ADDED","object":)";
  if (type == "MODIFIED") return R"({"type":"MODIFIED","object":)";
  if (type == "DELETED") return R"({"type":"DELETED","object":)";
  if (type == "BOOKMARK") return R"({"type":"BOOKMARK","object":)";
  return R"({"type":"ERROR","object":)";
}
constexpr std::string_view kSuffix = "}\n";

void AddOwned(WatchStream::Output* out, std::string text) {
  auto s = std::make_shared<const std::string>(std::move(text));
  out->pieces.push_back(*s);
  out->bytes += s->size();
  out->keep_alive.push_back(std::move(s));
}

// One protobuf frame as a whole line (content_type.h).
template <typename T>  // a stored ObjectPtr, or JSON text
void AddFrame(WatchStream::Output* out, std::string_view type, const T& object) {
  out->line_starts.push_back(out->pieces.size());
  std::string frame;
  AppendWatchFrame(type, object, &frame);
  AddOwned(out, std::move(frame));
}

}  // namespace

WatchStream::WatchStream(std::shared_ptr<WatchPlan> plan)
    : plan_(std::move(plan)), last_rv_(plan_->start_rv) {
  if (plan_->error_event) initial_done_ = true;
}

bool WatchStream::Matches(const Object& obj) const {
  if (!plan_->ns.empty() && obj.ns() != plan_->ns) return false;
  return plan_->labels.Matches(obj) && plan_->fields.Matches(obj);
}

void WatchStream::Emit(Output* out, std::string_view type, const ObjectPtr& obj) {
  if (plan_->protobuf) return AddFrame(out, type, obj);
  out->line_starts.push_back(out->pieces.size());
  std::string_view prefix = Prefix(type);
  out->pieces.push_back(prefix);
  out->bytes += prefix.size();
  if (plan_->table) {
    nlohmann::json table = BuildTable(*plan_->info, {obj}, plan_->include, !table_columns_sent_,
                                      std::chrono::system_clock::now());
    table_columns_sent_ = true;
    table["metadata"] = {{"resourceVersion", std::string(obj->resource_version())}};
    AddOwned(out, Dump(table));
  } else {
    std::string_view body = obj->json();
    out->pieces.push_back(body);
    out->bytes += body.size();
    out->keep_alive.push_back(obj);
  }
  out->pieces.push_back(kSuffix);
  out->bytes += kSuffix.size();
}

void WatchStream::EmitBookmark(Output* out, uint64_t rv, bool initial_end) {
  nlohmann::json meta = {{"resourceVersion", std::to_string(rv)}};
  if (initial_end) meta["annotations"] = {{"k8s.io/initial-events-end", "true"}};
  nlohmann::json obj = {
      {"kind", plan_->info->kind}, {"apiVersion", plan_->info->api_version()}, {"metadata", meta}};
  if (plan_->protobuf) return AddFrame(out, "BOOKMARK", std::string_view(Dump(obj)));
  out->line_starts.push_back(out->pieces.size());
  std::string_view prefix = Prefix("BOOKMARK");
  out->pieces.push_back(prefix);
  out->bytes += prefix.size();
  AddOwned(out, Dump(obj));
  out->pieces.push_back(kSuffix);
  out->bytes += kSuffix.size();
}

void WatchStream::Fill(Output* out, size_t max_bytes) {
  if (ended_) return;
  if (plan_->error_event && plan_->protobuf) {
    AddFrame(out, "ERROR", std::string_view(*plan_->error_event));
    ended_ = true;
    return;
  }
  if (plan_->error_event) {
    out->line_starts.push_back(out->pieces.size());
    std::string_view prefix = Prefix("ERROR");
    out->pieces.push_back(prefix);
    out->bytes += prefix.size();
    AddOwned(out, *plan_->error_event);
    out->pieces.push_back(kSuffix);
    out->bytes += kSuffix.size();
    ended_ = true;
    return;
  }
  while (next_initial_ < plan_->initial.size() && out->bytes < max_bytes) {
    const ObjectPtr& obj = plan_->initial[next_initial_++];
    if (Matches(*obj)) Emit(out, "ADDED", obj);
  }
  if (next_initial_ < plan_->initial.size()) return;
  if (!initial_done_) {
    initial_done_ = true;
    if (plan_->initial_events_end) EmitBookmark(out, plan_->start_rv, true);
  }
  Drain(out, max_bytes);
}

void WatchStream::Drain(Output* out, size_t max_bytes) {
  while (!ended_ && out->bytes < max_bytes) {
    Watcher::Batch batch = plan_->watcher->Take(kEventsPerTake);
    if (batch.cut) cut_ = true;
    for (const EventPtr& e : batch.events) {
      last_rv_ = std::max(last_rv_, e->rv);
      bool now = e->type != EventType::kDeleted && Matches(*e->object);
      bool before = e->previous && Matches(*e->previous);
      switch (e->type) {
        case EventType::kAdded:
          if (now) Emit(out, "ADDED", e->object);
          break;
        case EventType::kModified:
          if (now && before) {
            Emit(out, "MODIFIED", e->object);
          } else if (now) {
            Emit(out, "ADDED", e->object);
          } else if (before) {
            Emit(out, "DELETED", e->PreviousAtRv());
          }
          break;
        case EventType::kDeleted:
          if (before) Emit(out, "DELETED", e->object);
          break;
      }
    }
    if (batch.end != Watcher::End::kNone) ended_ = true;
    if (batch.events.size() < kEventsPerTake) break;
  }
}

void WatchStream::FillWithBookmark(Output* out, uint64_t current_rv) {
  Fill(out, SIZE_MAX);
  if (ended_ || in_initial()) return;
  EmitBookmark(out, std::max(current_rv, last_rv_), false);
}

}  // namespace kube::server
