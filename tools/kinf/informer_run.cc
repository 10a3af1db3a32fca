// StopSignals and EventPrinter; see informer_run.h.
#include "kinf/informer_run.h"

#include <pthread.h>
#include <signal.h>

#include <cstdio>

#include "kinf/client_flags.h"

namespace kinf {
namespace {

sigset_t StopSet() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

}  // namespace

StopSignals::StopSignals() {
  sigset_t set = StopSet();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  waiter_ = std::thread([this, set] {
    int sig = 0;
    sigwait(&set, &sig);
    std::lock_guard<std::mutex> l(mu_);
    stopped_ = true;
    cv_.notify_all();
  });
}

StopSignals::~StopSignals() {
  // The waiter is still in sigwait unless a signal came: a signal aimed at it ends that wait.
  if (!stopped()) pthread_kill(waiter_.native_handle(), SIGTERM);
  waiter_.join();
}

bool StopSignals::Wait(std::optional<std::chrono::milliseconds> timeout) {
  std::unique_lock<std::mutex> l(mu_);
  if (!timeout) {
    cv_.wait(l, [this] { return stopped_; });
    return true;
  }
  return cv_.wait_for(l, *timeout, [this] { return stopped_; });
}

bool StopSignals::stopped() const {
  std::lock_guard<std::mutex> l(mu_);
  return stopped_;
}

std::variant<InformerRun, int> PrepareInformerRun(
    const std::string& command, const std::vector<std::string>& args,
    std::shared_ptr<kube::ResourceEventHandler> handler) {
  ClientFlags flags;
  double for_seconds = 0;
  std::optional<int> done = ParseClientFlags(
      command, args, &flags,
      [&](FlagSet& set) {
        set.Double("for",
                   "stop after this many seconds (sync: from `synced`; default: at "
                   "SIGINT/SIGTERM)",
                   &for_seconds);
        set.String("snapshot",
                   "keep the cache in a snapshot in this directory and start from it next time "
                   "(a warm restart: the watch resumes without a list)",
                   &flags.snapshot_dir);
        set.Double("snapshot-interval",
                   "with --snapshot: write the snapshot at most this often, in seconds, while "
                   "running (default 60; 0 = only at exit)",
                   &flags.snapshot_interval_seconds);
      },
      {{'\0', "for"}, {'\0', "snapshot"}, {'\0', "snapshot-interval"}});
  if (done) return *done;
  if (flags.snapshot_interval_seconds < 0) {
    PrintError(command, "--snapshot-interval must not be negative");
    return 2;
  }
  if (for_seconds < 0) {
    PrintError(command, "--for must not be negative");
    return 2;
  }
  kube::Result<Target> target = ResolveTarget(flags);
  if (!target) {
    PrintError(command, target.error().ToString());
    return 1;
  }
  InformerRun run;
  if (for_seconds > 0) {
    run.run_for = std::chrono::milliseconds(static_cast<int64_t>(for_seconds * 1000));
  }
  run.factory = MakeFactory(*target, flags);
  run.informer =
      run.factory
          ->ForResource(target->gvr, {.namespaced = target->namespaced, .kind = target->kind})
          .Informer();
  kube::Result<kube::RegistrationPtr> registration =
      run.informer->AddEventHandler(std::move(handler));
  if (!registration) {
    PrintError(command, registration.error().ToString());
    return 1;
  }
  run.registration = *registration;
  return run;
}

void PrintLine(std::string_view line) {
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

void EventPrinter::OnAdd(const kube::ObjectPtr& obj, bool is_in_initial_list) {
  std::lock_guard<std::mutex> l(mu_);
  state_[ObjectKey(*obj)] = std::string(obj->resource_version());
  if (is_in_initial_list) ++initial_adds_;
  if (!is_in_initial_list || print_initial_) Emit("ADD", *obj);
  changed_.notify_all();
}

void EventPrinter::OnUpdate(const kube::ObjectPtr& old_obj, const kube::ObjectPtr& new_obj) {
  (void)old_obj;
  std::lock_guard<std::mutex> l(mu_);
  state_[ObjectKey(*new_obj)] = std::string(new_obj->resource_version());
  Emit("UPDATE", *new_obj);
  changed_.notify_all();
}

void EventPrinter::OnDelete(const kube::DeletedObject& obj) {
  std::lock_guard<std::mutex> l(mu_);
  state_.erase(ObjectKey(*obj.object()));
  Emit("DELETE", *obj.object());
  changed_.notify_all();
}

size_t EventPrinter::initial_adds() const {
  std::lock_guard<std::mutex> l(mu_);
  return initial_adds_;
}

// Called with mu_ held, so lines keep the order of the notifications.
void EventPrinter::Emit(std::string_view type, const kube::Object& obj) {
  if (finished_) return;
  std::string line(type);
  line += ' ';
  line += ObjectKey(obj);
  line += ' ';
  line += obj.resource_version();
  if (released_) {
    PrintLine(line);
  } else {
    held_.push_back(std::move(line));
  }
}

void EventPrinter::Release(const std::string& first_line) {
  std::lock_guard<std::mutex> l(mu_);
  if (!first_line.empty()) PrintLine(first_line);
  for (const std::string& line : held_) PrintLine(line);
  held_.clear();
  released_ = true;
}

bool EventPrinter::Finish(const kube::Store& store, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock<std::mutex> l(mu_);
  std::map<std::string, std::string> cached;
  bool caught_up = false;
  while (true) {
    // The cache is written before its notifications are handed out, so it can be ahead of the
    // lines printed, never behind for long: wait for the handler to catch up.
    cached.clear();
    for (const kube::ObjectPtr& obj : store.List()) {
      cached[ObjectKey(*obj)] = std::string(obj->resource_version());
    }
    caught_up = cached == state_;
    if (caught_up || std::chrono::steady_clock::now() >= deadline) break;
    changed_.wait_until(l, deadline);
  }
  finished_ = true;
  PrintLine("final " + std::to_string(cached.size()));
  for (const auto& [key, rv] : cached) PrintLine(key + " " + rv);
  return caught_up;
}

}  // namespace kinf
