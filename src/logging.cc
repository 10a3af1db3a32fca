#include "base/logging.h"

#include <atomic>
#include <cstdio>
#include <memory>
#include <string>

#include "base/mutex.h"

namespace kube {
namespace {

std::atomic<int> min_severity{static_cast<int>(LogSeverity::kWarning)};

internal::Mutex& SinkMutex() {
  static auto* mu = new internal::Mutex;
  return *mu;
}
std::shared_ptr<LogSink>& SinkSlot() {
  static auto* slot = new std::shared_ptr<LogSink>;
  return *slot;
}

std::string_view SeverityName(LogSeverity s) {
  switch (s) {
    case LogSeverity::kDebug:
      return "D";
    case LogSeverity::kInfo:
      return "I";
    case LogSeverity::kWarning:
      return "W";
    case LogSeverity::kError:
      return "E";
  }
  return "?";
}

}  // namespace

void SetLogSink(LogSink sink) {
  auto p = sink ? std::make_shared<LogSink>(std::move(sink)) : nullptr;
  internal::MutexLock l(SinkMutex());
  SinkSlot() = std::move(p);
}

void SetMinLogSeverity(LogSeverity severity) {
  min_severity.store(static_cast<int>(severity), std::memory_order_relaxed);
}

namespace internal {

bool LogEnabled(LogSeverity severity) {
  return static_cast<int>(severity) >= min_severity.load(std::memory_order_relaxed);
}

void EmitLog(LogSeverity severity, std::string_view component, std::string_view message) {
  std::shared_ptr<LogSink> sink;
  {
    MutexLock l(SinkMutex());
    sink = SinkSlot();
  }
  if (sink) {
    (*sink)(severity, component, message);
    return;
  }
  std::string line = "kube-informer ";
  line += SeverityName(severity);
  line += ' ';
  line += component;
  line += ": ";
  line += message;
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace internal
}  // namespace kube
