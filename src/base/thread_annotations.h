// Clang thread-safety annotations (abseil's names, KUBE_ prefix). g++ ignores them, so they expand
// to nothing there; the CI's clang-14 job checks them with -Werror=thread-safety.
#ifndef KUBE_BASE_THREAD_ANNOTATIONS_H_
#define KUBE_BASE_THREAD_ANNOTATIONS_H_

#if defined(__clang__)
#define KUBE_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define KUBE_THREAD_ANNOTATION(x)
#endif

#define KUBE_CAPABILITY(x) KUBE_THREAD_ANNOTATION(capability(x))
#define KUBE_SCOPED_CAPABILITY KUBE_THREAD_ANNOTATION(scoped_lockable)
#define KUBE_GUARDED_BY(x) KUBE_THREAD_ANNOTATION(guarded_by(x))
#define KUBE_PT_GUARDED_BY(x) KUBE_THREAD_ANNOTATION(pt_guarded_by(x))
#define KUBE_ACQUIRED_AFTER(...) KUBE_THREAD_ANNOTATION(acquired_after(__VA_ARGS__))
#define KUBE_ACQUIRED_BEFORE(...) KUBE_THREAD_ANNOTATION(acquired_before(__VA_ARGS__))
#define KUBE_REQUIRES(...) KUBE_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define KUBE_REQUIRES_SHARED(...) KUBE_THREAD_ANNOTATION(requires_shared_capability(__VA_ARGS__))
#define KUBE_ACQUIRE(...) KUBE_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define KUBE_ACQUIRE_SHARED(...) KUBE_THREAD_ANNOTATION(acquire_shared_capability(__VA_ARGS__))
#define KUBE_RELEASE(...) KUBE_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define KUBE_RELEASE_SHARED(...) KUBE_THREAD_ANNOTATION(release_shared_capability(__VA_ARGS__))
#define KUBE_RELEASE_GENERIC(...) KUBE_THREAD_ANNOTATION(release_generic_capability(__VA_ARGS__))
#define KUBE_TRY_ACQUIRE(...) KUBE_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
#define KUBE_EXCLUDES(...) KUBE_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define KUBE_RETURN_CAPABILITY(x) KUBE_THREAD_ANNOTATION(lock_returned(x))
#define KUBE_NO_THREAD_SAFETY_ANALYSIS KUBE_THREAD_ANNOTATION(no_thread_safety_analysis)

#endif  // KUBE_BASE_THREAD_ANNOTATIONS_H_
