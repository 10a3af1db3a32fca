#include "client/decode_window.h"

#include <sched.h>

#include <condition_variable>
#include <thread>
#include <utility>

namespace kube::internal {

std::shared_ptr<Executor> SharedDecodePool() {
  static auto* pool = [] {
    // The cores this process may run on (taskset, a container's cpuset), else all of them.
    size_t cores = std::thread::hardware_concurrency();
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) == 0) {
      cores = static_cast<size_t>(CPU_COUNT(&set));
    }
    if (cores <= 1) return new std::shared_ptr<Executor>();
    // Decoding never blocks, so the pool never needs more workers than cores.
    return new std::shared_ptr<Executor>(
        Executor::Create({.threads = cores, .max_threads = cores, .name = "kube-decode"}));
  }();
  return *pool;
}

struct DecodeWindow::Shared {
  explicit Shared(DecodeFn fn) : decode(std::move(fn)) {}
  const DecodeFn decode;
  Mutex mu;
  std::condition_variable decoded;  // a batch was decoded
  std::set<uint64_t> done KUBE_GUARDED_BY(mu);
  bool abandoned KUBE_GUARDED_BY(mu) = false;

  void Run(uint64_t seq, DecodeBatch& batch) KUBE_EXCLUDES(mu) {
    {
      MutexLock l(mu);
      if (abandoned) return;
    }
    decode(batch);
    {
      MutexLock l(mu);
      done.insert(seq);
    }
    decoded.notify_all();
  }
};

DecodeWindow::DecodeWindow(std::shared_ptr<Executor> pool, DecodeFn decode)
    : pool_(std::move(pool)), shared_(std::make_shared<Shared>(std::move(decode))) {}

DecodeWindow::~DecodeWindow() {
  MutexLock l(shared_->mu);
  shared_->abandoned = true;
}

void DecodeWindow::Push(std::shared_ptr<DecodeBatch> batch) {
  const uint64_t seq = next_seq_++;
  held_bytes_ += batch->text.capacity();
  order_.emplace_back(seq, batch);
  if (pool_ == nullptr || pool_->InWorker()) {
    shared_->Run(seq, *batch);
    return;
  }
  pool_->Post([shared = shared_, seq, batch = std::move(batch)] { shared->Run(seq, *batch); });
}

std::vector<std::shared_ptr<DecodeBatch>> DecodeWindow::Abandon() {
  {
    MutexLock l(shared_->mu);
    shared_->abandoned = true;
  }
  std::vector<std::shared_ptr<DecodeBatch>> batches;
  batches.reserve(order_.size());
  for (auto& [seq, batch] : order_) batches.push_back(std::move(batch));
  order_.clear();
  held_bytes_ = 0;
  return batches;
}

std::shared_ptr<DecodeBatch> DecodeWindow::PopFront(bool wait) {
  if (order_.empty()) return nullptr;
  const uint64_t seq = order_.front().first;
  {
    MutexLock l(shared_->mu);
    while (shared_->done.count(seq) == 0) {
      if (!wait) return nullptr;
      l.Wait(shared_->decoded);
    }
    shared_->done.erase(seq);
  }
  std::shared_ptr<DecodeBatch> batch = std::move(order_.front().second);
  order_.pop_front();
  held_bytes_ -= batch->text.capacity();
  return batch;
}

std::shared_ptr<DecodeBatch> DecodeWindow::DeliverInOrder(
    size_t limit, const std::function<void(ObjectPtr)>& take) {
  while (true) {
    std::shared_ptr<DecodeBatch> b = PopFront(/*wait=*/in_flight() > limit);
    if (b == nullptr) return nullptr;
    for (ObjectPtr& obj : b->objects) take(std::move(obj));
    if (b->failed_at != SIZE_MAX) return b;
  }
}

}  // namespace kube::internal
