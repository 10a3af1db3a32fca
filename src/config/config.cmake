# Configuration loading: kubeconfig, in-cluster config, exec credential plugins.
# Sets KUBE_INFORMER_CONFIG_SOURCES for the kube_informer_client target (src/client) and for
# tests/config/config_tests.cmake. The sources need yaml-cpp (link it PRIVATE) and
# ${PROJECT_SOURCE_DIR}/src on the include path (for base/mutex.h).
find_package(yaml-cpp REQUIRED)
set(KUBE_INFORMER_CONFIG_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/rest_config.cc
  ${CMAKE_CURRENT_LIST_DIR}/kubeconfig.cc
  ${CMAKE_CURRENT_LIST_DIR}/exec_credential.cc)
