// Internal logging: `KUBE_LOG(kWarning, "reflector") << "watch ended: " << status;`
// The stream is only built when the severity passes the threshold.
#ifndef KUBE_BASE_LOGGING_H_
#define KUBE_BASE_LOGGING_H_

#include <sstream>
#include <string_view>

#include "kube/logging.h"

namespace kube::internal {

bool LogEnabled(LogSeverity severity);
void EmitLog(LogSeverity severity, std::string_view component, std::string_view message);

class LogMessage {
 public:
  LogMessage(LogSeverity severity, std::string_view component)
      : severity_(severity), component_(component) {}
  ~LogMessage() { EmitLog(severity_, component_, stream_.str()); }
  std::ostream& stream() { return stream_; }

 private:
  LogSeverity severity_;
  std::string_view component_;
  std::ostringstream stream_;
};

}  // namespace kube::internal

#define KUBE_LOG(severity, component)                                 \
  if (!::kube::internal::LogEnabled(::kube::LogSeverity::severity)) { \
  } else                                                              \
    ::kube::internal::LogMessage(::kube::LogSeverity::severity, component).stream()

#endif  // KUBE_BASE_LOGGING_H_
