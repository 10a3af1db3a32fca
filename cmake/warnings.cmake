# Warnings live on an INTERFACE target that our own targets link PRIVATE, so consumers of the
# installed library never inherit them.
add_library(kube_informer_warnings INTERFACE)
target_compile_options(kube_informer_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow
  # Options structs are filled with designated initializers that name only what they change
  # (STYLE 3.4); g++ 12 would warn about every field left to its default.
  -Wno-missing-field-initializers)
if(KUBE_INFORMER_WERROR)
  target_compile_options(kube_informer_warnings INTERFACE -Werror)
endif()
if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  # clang checks the KUBE_GUARDED_BY/KUBE_REQUIRES annotations (see src/base/thread_annotations.h).
  target_compile_options(kube_informer_warnings INTERFACE -Wthread-safety -Werror=thread-safety)
endif()
install(TARGETS kube_informer_warnings EXPORT kube-informer-targets)
