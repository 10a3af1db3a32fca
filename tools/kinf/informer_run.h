// What `kinf watch` and `kinf sync` share: stopping on SIGINT/SIGTERM, and a handler that prints
// one line per notification and keeps the state those lines describe.
//
// Reads from: signals, an informer's notifications and cache.
// Feeds: watch.cc, sync.cc (stdout).
#ifndef KUBE_TOOLS_KINF_INFORMER_RUN_H_
#define KUBE_TOOLS_KINF_INFORMER_RUN_H_

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

#include "kube/cache/shared_informer.h"
#include "kube/cache/store.h"
#include "kube/informers/factory.h"

namespace kinf {

// SIGINT and SIGTERM as a condition to wait on. Construct it before any thread starts: it blocks
// both signals in the calling thread, so every thread started later inherits the mask and only
// its own waiter thread receives them. Thread-safe.
class StopSignals {
 public:
  StopSignals();
  // Wakes and joins the waiter. The signals stay blocked.
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  // Blocks until a stop signal arrives or `timeout` passes (nullopt: no timeout). Returns whether
  // a signal arrived (now or before).
  bool Wait(std::optional<std::chrono::milliseconds> timeout);
  bool stopped() const;

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopped_ = false;  // guarded by mu_
  std::thread waiter_;
};

// Prints `ADD|UPDATE|DELETE key resourceVersion` for each notification (resyncs print nothing)
// and keeps key -> resourceVersion as those lines describe it. Lines are held back until
// `Release` and are no longer printed after `Finish`. Thread-safe; stdout is flushed per line.
class EventPrinter : public kube::ResourceEventHandler {
 public:
  // `print_initial`: whether the adds of the initial list are printed (watch) or only counted
  // (sync).
  explicit EventPrinter(bool print_initial) : print_initial_(print_initial) {}

  void OnAdd(const kube::ObjectPtr& obj, bool is_in_initial_list) override;
  void OnUpdate(const kube::ObjectPtr& old_obj, const kube::ObjectPtr& new_obj) override;
  void OnDelete(const kube::DeletedObject& obj) override;
  void OnResync(const kube::ObjectPtr& obj) override { (void)obj; }

  // The number of initial-list adds received so far.
  size_t initial_adds() const;
  // Prints `first_line` (unless empty), then the held-back lines, and prints later lines at once.
  void Release(const std::string& first_line);
  // Waits (up to `timeout`) until the printed lines describe exactly the objects in `store`, so
  // that replaying them gives the cache; then prints `final N` and the store's `key
  // resourceVersion` lines, sorted, and stops printing notifications. Returns false when the
  // lines had not caught up with the store by then (the store is printed anyway).
  bool Finish(const kube::Store& store, std::chrono::milliseconds timeout);

 private:
  void Emit(std::string_view type, const kube::Object& obj);

  const bool print_initial_;
  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::map<std::string, std::string> state_;  // key -> resourceVersion
  size_t initial_adds_ = 0;
  bool released_ = false;
  bool finished_ = false;
  std::vector<std::string> held_;
};

// An informer for the command line's RESOURCE with a handler registered, not started yet.
struct InformerRun {
  std::unique_ptr<kube::SharedInformerFactory> factory;
  std::shared_ptr<kube::SharedIndexInformer> informer;
  kube::RegistrationPtr registration;
  std::optional<std::chrono::milliseconds> run_for;  // --for; nullopt: until a signal
};

// Parses `kinf <command> RESOURCE [client flags] [--for SECONDS]` (client_flags.h), resolves the
// resource and registers `handler` on a factory's informer for it. Returns the exit code instead
// when the command must end now (help: 0; bad usage: 2; an error: 1, printed on stderr).
std::variant<InformerRun, int> PrepareInformerRun(
    const std::string& command, const std::vector<std::string>& args,
    std::shared_ptr<kube::ResourceEventHandler> handler);

// Writes `line` and a newline to stdout and flushes.
void PrintLine(std::string_view line);

}  // namespace kinf

#endif  // KUBE_TOOLS_KINF_INFORMER_RUN_H_
