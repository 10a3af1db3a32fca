# Tests of the kubectl-facing documents; included by CMakeLists.txt.
# server_presentation_test: resource catalog, discovery/OpenAPI, tables, patches (pure functions).
# Imported targets are directory-scoped, so the tests look nlohmann_json up again.
find_package(nlohmann_json REQUIRED)
kube_informer_test(server_presentation_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/resource_catalog_test.cc
          ${CMAKE_CURRENT_LIST_DIR}/discovery_test.cc
          ${CMAKE_CURRENT_LIST_DIR}/table_test.cc
          ${CMAKE_CURRENT_LIST_DIR}/patch_test.cc
  LIBS kube_informer_server kube_informer_testing nlohmann_json::nlohmann_json
  LABELS server)

# The real kubectl against `kinf serve` (skips itself, passing, when kubectl is missing).
if(TARGET kinf)
  add_test(NAME kubectl_e2e
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/kubectl_e2e.sh $<TARGET_FILE:kinf>)
  set_tests_properties(kubectl_e2e PROPERTIES LABELS "server;e2e" TIMEOUT 300
                       SKIP_REGULAR_EXPRESSION "SKIPPED: kubectl not installed")
  # kubectl's typed generators send protobuf bodies (content_type.cc).
  add_test(NAME kubectl_protobuf_e2e
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/kubectl_protobuf_e2e.sh $<TARGET_FILE:kinf>)
  set_tests_properties(kubectl_protobuf_e2e PROPERTIES LABELS "server;e2e" TIMEOUT 300
                       SKIP_REGULAR_EXPRESSION "SKIPPED: kubectl not installed")
endif()
