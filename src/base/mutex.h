// Mutex, SharedMutex and their scoped locks: std::mutex and std::shared_mutex with the
// capability annotations clang needs (libstdc++'s types carry none).
//
// Waiting on a condition: `while (!ready_) lock.Wait(cv_);` rather than `cv.wait(lock, pred)`,
// because the analysis checks a lambda as a separate function and would report a false
// "requires holding mutex".
#ifndef KUBE_BASE_MUTEX_H_
#define KUBE_BASE_MUTEX_H_

#include <pthread.h>

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "base/thread_annotations.h"

namespace kube::internal {

class KUBE_CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;
  void Lock() KUBE_ACQUIRE() { mu_.lock(); }
  void Unlock() KUBE_RELEASE() { mu_.unlock(); }
  // For the analysis only: documents that the caller holds the lock.
  void AssertHeld() const {}
  std::mutex& native() { return mu_; }

 private:
  std::mutex mu_;
};

// A reader/writer lock that prefers writers: once a writer waits, new readers queue behind it,
// so a stream of lister queries cannot starve the informer's writes (Go's RWMutex behaves the
// same; glibc's default std::shared_mutex prefers readers).
class KUBE_CAPABILITY("shared_mutex") SharedMutex {
 public:
  SharedMutex() {
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
#if defined(__GLIBC__)
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
#endif
    pthread_rwlock_init(&rw_, &attr);
    pthread_rwlockattr_destroy(&attr);
  }
  ~SharedMutex() { pthread_rwlock_destroy(&rw_); }
  SharedMutex(const SharedMutex&) = delete;
  SharedMutex& operator=(const SharedMutex&) = delete;
  void Lock() KUBE_ACQUIRE() { pthread_rwlock_wrlock(&rw_); }
  void Unlock() KUBE_RELEASE() { pthread_rwlock_unlock(&rw_); }
  void ReaderLock() KUBE_ACQUIRE_SHARED() { pthread_rwlock_rdlock(&rw_); }
  void ReaderUnlock() KUBE_RELEASE_SHARED() { pthread_rwlock_unlock(&rw_); }

 private:
  pthread_rwlock_t rw_;
};

// Holds a Mutex for its scope; can wait on a condition variable.
class KUBE_SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) KUBE_ACQUIRE(mu) : lock_(mu.native()) {}
  ~MutexLock() KUBE_RELEASE() {}
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

  void Wait(std::condition_variable& cv) { cv.wait(lock_); }
  // Returns false on timeout.
  template <typename Clock, typename Duration>
  bool WaitUntil(std::condition_variable& cv,
                 const std::chrono::time_point<Clock, Duration>& deadline) {
    return cv.wait_until(lock_, deadline) == std::cv_status::no_timeout;
  }
  template <typename Rep, typename Period>
  bool WaitFor(std::condition_variable& cv, const std::chrono::duration<Rep, Period>& d) {
    return cv.wait_for(lock_, d) == std::cv_status::no_timeout;
  }
  // Releases the lock early (e.g. before calling user code); the destructor then does nothing.
  void Unlock() KUBE_RELEASE() { lock_.unlock(); }
  // Takes the lock again after `Unlock()`.
  void Relock() KUBE_ACQUIRE() { lock_.lock(); }

 private:
  std::unique_lock<std::mutex> lock_;
};

class KUBE_SCOPED_CAPABILITY WriterMutexLock {
 public:
  explicit WriterMutexLock(SharedMutex& mu) KUBE_ACQUIRE(mu) : mu_(mu) { mu_.Lock(); }
  ~WriterMutexLock() KUBE_RELEASE() { mu_.Unlock(); }
  WriterMutexLock(const WriterMutexLock&) = delete;
  WriterMutexLock& operator=(const WriterMutexLock&) = delete;

 private:
  SharedMutex& mu_;
};

class KUBE_SCOPED_CAPABILITY ReaderMutexLock {
 public:
  explicit ReaderMutexLock(SharedMutex& mu) KUBE_ACQUIRE_SHARED(mu) : mu_(mu) { mu_.ReaderLock(); }
  ~ReaderMutexLock() KUBE_RELEASE() { mu_.ReaderUnlock(); }
  ReaderMutexLock(const ReaderMutexLock&) = delete;
  ReaderMutexLock& operator=(const ReaderMutexLock&) = delete;

 private:
  SharedMutex& mu_;
};

}  // namespace kube::internal

#endif  // KUBE_BASE_MUTEX_H_
