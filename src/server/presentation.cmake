# Sources of the kubectl-facing documents; included by CMakeLists.txt.
set(KUBE_SERVER_PRESENTATION_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/resource_catalog.cc
  ${CMAKE_CURRENT_LIST_DIR}/discovery.cc
  ${CMAKE_CURRENT_LIST_DIR}/table.cc
  ${CMAKE_CURRENT_LIST_DIR}/patch.cc)
