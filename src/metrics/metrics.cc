// The metrics registry and the Prometheus text format 0.0.4 writer.
#include "kube/metrics/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <deque>
#include <exception>
#include <map>
#include <system_error>

#include "base/logging.h"
#include "base/mutex.h"

namespace kube::metrics {
namespace {

using internal::Mutex;
using internal::MutexLock;

enum class Type { kCounter, kGauge, kHistogram };

std::string_view TypeName(Type t) {
  switch (t) {
    case Type::kCounter:
      return "counter";
    case Type::kGauge:
      return "gauge";
    case Type::kHistogram:
      return "histogram";
  }
  return "untyped";
}

bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// [a-zA-Z_:][a-zA-Z0-9_:]*
bool ValidMetricName(std::string_view n) {
  if (n.empty() || !(IsAlpha(n[0]) || n[0] == ':')) return false;
  return std::all_of(n.begin(), n.end(),
                     [](char c) { return IsAlpha(c) || IsDigit(c) || c == ':'; });
}

// [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__" (reserved), and not "le" (histograms' own).
bool ValidLabels(const Labels& labels) {
  for (const auto& [n, v] : labels) {
    if (n.empty() || !IsAlpha(n[0]) || n.rfind("__", 0) == 0 || n == "le") return false;
    if (!std::all_of(n.begin(), n.end(), [](char c) { return IsAlpha(c) || IsDigit(c); })) {
      return false;
    }
  }
  return true;
}

// HELP text escapes backslash and newline; label values also escape the double quote.
void AppendEscaped(std::string* out, std::string_view s, bool quote) {
  for (char c : s) {
    if (c == '\\') {
      out->append("\\\\");
    } else if (c == '\n') {
      out->append("\\n");
    } else if (quote && c == '"') {
      out->append("\\\"");
    } else {
      out->push_back(c);
    }
  }
}

// `{a="x",b="y"}`, with `le` last when given; nothing when there are no labels.
void AppendLabels(std::string* out, const Labels& labels, const std::string* le = nullptr) {
  if (labels.empty() && le == nullptr) return;
  out->push_back('{');
  bool first = true;
  auto one = [&](std::string_view name, std::string_view value) {
    if (!first) out->push_back(',');
    first = false;
    out->append(name);
    out->append("=\"");
    AppendEscaped(out, value, /*quote=*/true);
    out->push_back('"');
  };
  for (const auto& [n, v] : labels) one(n, v);
  if (le != nullptr) one("le", *le);
  out->push_back('}');
}

void AppendSample(std::string* out, std::string_view name, std::string_view suffix,
                  const Labels& labels, const std::string& value, const std::string* le = nullptr) {
  out->append(name);
  out->append(suffix);
  AppendLabels(out, labels, le);
  out->push_back(' ');
  out->append(value);
  out->push_back('\n');
}

// What Render() writes for one family, copied under the registry's lock.
struct FamilySnapshot {
  Type type;
  std::string help;
  std::vector<std::pair<Labels, double>> values;                   // counters and gauges
  std::vector<double> bounds;                                      // histograms
  std::vector<std::pair<Labels, Histogram::Snapshot>> histograms;  // histograms
};

}  // namespace

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  // Go's strconv.FormatFloat(v, 'g', -1, 64), which client_golang uses: the shortest digits that
  // read back as `v`, in exponent form when the exponent is < -4 or >= max(digits, 6)... unless
  // the digits are all before the point.
  char buf[64];
  auto sci = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  std::string_view s(buf, sci.ptr - buf);
  const size_t e = s.find('e');
  int exp = 0;
  std::from_chars(s.data() + e + 1 + (s[e + 1] == '+' ? 1 : 0), s.data() + s.size(), exp);
  int digits = 0;
  for (size_t i = 0; i < e; ++i) digits += IsDigit(s[i]) ? 1 : 0;
  int eprec = 6;
  if (eprec > digits && digits >= exp + 1) eprec = digits;
  if (exp < -4 || exp >= eprec) return std::string(s);
  auto fixed = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed);
  return std::string(buf, fixed.ptr - buf);
}

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      counts_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1)) {}

void Histogram::Observe(double v) noexcept {
  const size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::Snap() const {
  Snapshot s;
  s.cumulative.reserve(bounds_.size() + 1);
  std::uint64_t total = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    total += counts_[i].load(std::memory_order_relaxed);
    s.cumulative.push_back(total);
  }
  s.count = total;
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

std::vector<double> ExponentialBuckets(double start, double factor, int count) {
  std::vector<double> b;
  for (int i = 0; i < count; ++i, start *= factor) b.push_back(start);
  return b;
}

std::vector<double> LinearBuckets(double start, double width, int count) {
  std::vector<double> b;
  for (int i = 0; i < count; ++i) b.push_back(start + i * width);
  return b;
}

const std::vector<double>& DefaultBuckets() {
  static const std::vector<double> b = {.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10};
  return b;
}

void Collection::AddCounter(std::string_view name, std::string_view help, Labels labels,
                            double value) {
  samples_.push_back({true, std::string(name), std::string(help), std::move(labels), value});
}

void Collection::AddGauge(std::string_view name, std::string_view help, Labels labels,
                          double value) {
  samples_.push_back({false, std::string(name), std::string(help), std::move(labels), value});
}

// A registered collector. Its lock is held while it runs, so removal waits for a running call.
struct CollectorHandle::Entry {
  Mutex mu;
  Collector fn KUBE_GUARDED_BY(mu);
  bool removed KUBE_GUARDED_BY(mu) = false;
};

CollectorHandle& CollectorHandle::operator=(CollectorHandle&& o) noexcept {
  if (this != &o) {
    Reset();
    entry_ = std::move(o.entry_);
  }
  return *this;
}

void CollectorHandle::Reset() noexcept {
  if (!entry_) return;
  Collector fn;
  {
    MutexLock l(entry_->mu);
    entry_->removed = true;
    fn = std::move(entry_->fn);  // destroyed outside the lock
  }
  entry_.reset();
}

struct Registry::Impl {
  struct Family {
    Type type;
    std::string help;
    std::vector<double> bounds;
    std::map<Labels, std::unique_ptr<Counter>> counters;
    std::map<Labels, std::unique_ptr<Gauge>> gauges;
    std::map<Labels, std::unique_ptr<Histogram>> histograms;
  };

  mutable Mutex mu;
  std::map<std::string, Family, std::less<>> families KUBE_GUARDED_BY(mu);
  // Metrics handed out for a rejected name: never rendered, kept alive for their users.
  std::deque<std::unique_ptr<Counter>> detached_counters KUBE_GUARDED_BY(mu);
  std::deque<std::unique_ptr<Gauge>> detached_gauges KUBE_GUARDED_BY(mu);
  std::deque<std::unique_ptr<Histogram>> detached_histograms KUBE_GUARDED_BY(mu);
  mutable std::vector<std::shared_ptr<CollectorHandle::Entry>> collectors KUBE_GUARDED_BY(mu);

  // The family `name` of `type`, created if new; null (after a warning) if the name is invalid,
  // taken by another type, or (histograms) registered with other bounds.
  Family* FamilyLocked(std::string_view name, std::string_view help, Type type,
                       const Labels& labels, const std::vector<double>* bounds) KUBE_REQUIRES(mu) {
    if (!ValidMetricName(name) || !ValidLabels(labels)) {
      KUBE_LOG(kWarning, "metrics")
          << "invalid metric or label name in " << name << "; the metric is not rendered";
      return nullptr;
    }
    auto it = families.find(name);
    if (it == families.end()) {
      Family f{type, std::string(help), bounds ? *bounds : std::vector<double>{}, {}, {}, {}};
      it = families.emplace(std::string(name), std::move(f)).first;
    }
    Family& f = it->second;
    if (f.type != type || (bounds != nullptr && f.bounds != *bounds)) {
      KUBE_LOG(kWarning, "metrics")
          << "metric " << name << " is already registered as a " << TypeName(f.type)
          << " (or with other buckets); the new one is not rendered";
      return nullptr;
    }
    return &f;
  }
};

Registry::Registry() : impl_(std::make_unique<Impl>()) {}
Registry::~Registry() = default;

std::shared_ptr<Registry> Registry::Default() {
  static auto* registry = new std::shared_ptr<Registry>(std::make_shared<Registry>());
  return *registry;
}

Counter& Registry::GetCounter(std::string_view name, std::string_view help, const Labels& labels) {
  MutexLock l(impl_->mu);
  Impl::Family* f = impl_->FamilyLocked(name, help, Type::kCounter, labels, nullptr);
  if (f == nullptr) return *impl_->detached_counters.emplace_back(std::make_unique<Counter>());
  auto& slot = f->counters[labels];
  if (!slot) slot = std::make_unique<Counter>();
  return *slot;
}

Gauge& Registry::GetGauge(std::string_view name, std::string_view help, const Labels& labels) {
  MutexLock l(impl_->mu);
  Impl::Family* f = impl_->FamilyLocked(name, help, Type::kGauge, labels, nullptr);
  if (f == nullptr) return *impl_->detached_gauges.emplace_back(std::make_unique<Gauge>());
  auto& slot = f->gauges[labels];
  if (!slot) slot = std::make_unique<Gauge>();
  return *slot;
}

Histogram& Registry::GetHistogram(std::string_view name, std::string_view help,
                                  std::vector<double> bounds, const Labels& labels) {
  // The +Inf bucket is implicit; an explicit one would be rendered twice.
  while (!bounds.empty() && std::isinf(bounds.back()) && bounds.back() > 0) bounds.pop_back();
  MutexLock l(impl_->mu);
  bool sorted = std::is_sorted(bounds.begin(), bounds.end()) &&
                std::adjacent_find(bounds.begin(), bounds.end()) == bounds.end();
  Impl::Family* f =
      sorted ? impl_->FamilyLocked(name, help, Type::kHistogram, labels, &bounds) : nullptr;
  if (f == nullptr) {
    if (!sorted) {
      KUBE_LOG(kWarning, "metrics") << "histogram " << name << ": unsorted bounds";
    }
    return *impl_->detached_histograms.emplace_back(std::make_unique<Histogram>(bounds));
  }
  auto& slot = f->histograms[labels];
  if (!slot) slot = std::make_unique<Histogram>(std::move(bounds));
  return *slot;
}

CollectorHandle Registry::AddCollector(Collector collector) {
  auto entry = std::make_shared<CollectorHandle::Entry>();
  {
    MutexLock l(entry->mu);
    entry->fn = std::move(collector);
  }
  MutexLock l(impl_->mu);
  impl_->collectors.push_back(entry);
  return CollectorHandle(std::move(entry));
}

std::string Registry::Render() const {
  std::map<std::string, FamilySnapshot, std::less<>> snap;
  std::vector<std::shared_ptr<CollectorHandle::Entry>> collectors;
  {
    MutexLock l(impl_->mu);
    for (const auto& [name, f] : impl_->families) {
      FamilySnapshot& s = snap[name];
      s.type = f.type;
      s.help = f.help;
      s.bounds = f.bounds;
      for (const auto& [labels, c] : f.counters) s.values.emplace_back(labels, c->Value());
      for (const auto& [labels, g] : f.gauges) s.values.emplace_back(labels, g->Value());
      for (const auto& [labels, h] : f.histograms) s.histograms.emplace_back(labels, h->Snap());
    }
    collectors = impl_->collectors;
  }

  Collection collection;
  std::vector<const CollectorHandle::Entry*> removed;
  for (const auto& entry : collectors) {
    MutexLock l(entry->mu);
    if (entry->removed) {
      removed.push_back(entry.get());
      continue;
    }
    try {
      entry->fn(collection);
    } catch (const std::exception& e) {
      KUBE_LOG(kError, "metrics") << "collector threw: " << e.what();
    } catch (...) {
      KUBE_LOG(kError, "metrics") << "collector threw a non-standard exception";
    }
  }
  if (!removed.empty()) {
    MutexLock l(impl_->mu);
    auto& c = impl_->collectors;
    c.erase(std::remove_if(c.begin(), c.end(),
                           [&](const auto& e) {
                             return std::find(removed.begin(), removed.end(), e.get()) !=
                                    removed.end();
                           }),
            c.end());
  }

  for (const Collection::Sample& s : collection.samples()) {
    const Type type = s.is_counter ? Type::kCounter : Type::kGauge;
    if (!ValidMetricName(s.name) || !ValidLabels(s.labels)) {
      KUBE_LOG(kWarning, "metrics") << "collected sample " << s.name << " has an invalid name";
      continue;
    }
    auto [it, inserted] = snap.try_emplace(s.name);
    if (inserted) {
      it->second.type = type;
      it->second.help = s.help;
    } else if (it->second.type != type) {
      KUBE_LOG(kWarning, "metrics") << "collected sample " << s.name << " is not a "
                                    << TypeName(it->second.type) << "; dropped";
      continue;
    }
    it->second.values.emplace_back(s.labels, s.value);
  }

  std::string out;
  for (const auto& [name, f] : snap) {
    out.append("# HELP ").append(name).push_back(' ');
    AppendEscaped(&out, f.help, /*quote=*/false);
    out.append("\n# TYPE ").append(name).push_back(' ');
    out.append(TypeName(f.type)).push_back('\n');
    for (const auto& [labels, v] : f.values) AppendSample(&out, name, "", labels, FormatValue(v));
    for (const auto& [labels, h] : f.histograms) {
      for (size_t i = 0; i < f.bounds.size(); ++i) {
        const std::string le = FormatValue(f.bounds[i]);
        AppendSample(&out, name, "_bucket", labels, std::to_string(h.cumulative[i]), &le);
      }
      const std::string inf = "+Inf";
      AppendSample(&out, name, "_bucket", labels, std::to_string(h.count), &inf);
      AppendSample(&out, name, "_sum", labels, FormatValue(h.sum));
      AppendSample(&out, name, "_count", labels, std::to_string(h.count));
    }
  }
  return out;
}

}  // namespace kube::metrics
