# Tests of configuration loading; included by tests/CMakeLists.txt.
# config_test: kubeconfig loading and merging, in-cluster config, exec credential plugins.
# Links kube_informer_client when that target carries the config sources; otherwise it compiles
# them itself.
if(TARGET config_test)
  return()
endif()
include(${PROJECT_SOURCE_DIR}/src/config/config.cmake)
set(_kube_config_test_sources
  ${CMAKE_CURRENT_LIST_DIR}/kubeconfig_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/exec_credential_test.cc)
set(_kube_config_in_client OFF)
if(TARGET kube_informer_client)
  get_target_property(_kube_client_sources kube_informer_client SOURCES)
  if("${_kube_client_sources}" MATCHES "config/kubeconfig\\.cc")
    set(_kube_config_in_client ON)
  endif()
endif()
if(_kube_config_in_client)
  kube_informer_test(config_test
    SOURCES ${_kube_config_test_sources}
    LIBS kube_informer_client kube_informer_core
    LABELS client)
else()
  kube_informer_test(config_test
    SOURCES ${_kube_config_test_sources} ${KUBE_INFORMER_CONFIG_SOURCES}
    LIBS kube_informer_core yaml-cpp
    LABELS client)
endif()
