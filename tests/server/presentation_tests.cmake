# Tests of the kubectl-facing documents; included by CMakeLists.txt.
