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
  add_compile_options(${_kube_san})
  add_link_options(${_kube_san})
endif()
