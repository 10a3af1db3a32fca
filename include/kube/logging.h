// Where the library's log lines go.
//
// kube-informer logs little: warnings (a handler threw, a watch broke, a resync period was
// adjusted) and errors. By default they go to stderr; embedders route them to their own logger.
// Log lines never contain credentials.
#ifndef KUBE_LOGGING_H_
#define KUBE_LOGGING_H_

#include <functional>
#include <string_view>

namespace kube {

enum class LogSeverity { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// Receives every log line at or above the minimum severity. Called from library threads,
// possibly concurrently: it must be thread-safe and must not call back into the library.
using LogSink =
    std::function<void(LogSeverity, std::string_view component, std::string_view message)>;

// Replaces the sink (nullptr restores the stderr default). Thread-safe.
void SetLogSink(LogSink sink);
// Lines below `severity` are dropped before formatting. Default kWarning. Thread-safe.
void SetMinLogSeverity(LogSeverity severity);

}  // namespace kube

#endif  // KUBE_LOGGING_H_
