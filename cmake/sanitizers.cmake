# KUBE_INFORMER_SANITIZER is one string so that the invalid ASan+TSan pair cannot be asked for.
# Applied globally: every object file, including the tests', must be instrumented alike.
if(KUBE_INFORMER_SANITIZER STREQUAL "asan-ubsan")
  set(_kube_san -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
elseif(KUBE_INFORMER_SANITIZER STREQUAL "tsan")
  set(_kube_san -fsanitize=thread -fno-omit-frame-pointer)
elseif(NOT KUBE_INFORMER_SANITIZER STREQUAL "")
  message(FATAL_ERROR "KUBE_INFORMER_SANITIZER must be empty, asan-ubsan or tsan, not '${KUBE_INFORMER_SANITIZER}'")
endif()
if(_kube_san)
  # -O1 and line tables only: instrumented Boost.Beast code takes several times longer to compile
  # at -O2 with full debug info (CI time), and reports need no more than function and line.
  add_compile_options(${_kube_san} -O1 -g1)
  add_link_options(${_kube_san})
endif()

# KUBE_INFORMER_FUZZ builds the libFuzzer targets in fuzz/ (clang only). Every object file gets the
# coverage instrumentation (fuzzer-no-link) and ASan+UBSan; only the fuzz executables link
# libFuzzer's main (-fsanitize=fuzzer, fuzz/CMakeLists.txt). Not combined with
# KUBE_INFORMER_SANITIZER: the fuzz build is an ASan+UBSan build already.
option(KUBE_INFORMER_FUZZ "Build the libFuzzer targets in fuzz/ (clang only)" OFF)
if(KUBE_INFORMER_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "KUBE_INFORMER_FUZZ needs clang (e.g. -DCMAKE_CXX_COMPILER=clang++-14)")
  endif()
  if(_kube_san)
    message(FATAL_ERROR "KUBE_INFORMER_FUZZ already builds with ASan+UBSan; leave KUBE_INFORMER_SANITIZER empty")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
                      -fno-omit-frame-pointer -O1 -g1)
  add_link_options(-fsanitize=address,undefined)
endif()
