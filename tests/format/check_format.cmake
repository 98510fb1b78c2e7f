# clang-format --dry-run -Werror over every C++ file (.cc, .h) of the tree, with the checked-in
# .clang-format. Run by CTest (tests/format/CMakeLists.txt):
#   cmake -DROOT=<source dir> -DCLANG_FORMAT=<clang-format> -P check_format.cmake
# Left out: hidden folders, build directories (a CMakeCache.txt at their top), and scripts/ and
# e2e/, which hold no C++ of the build (scripts/lib/node/pause.c is C for the node's image).
# The fix for a failure: clang-format -i <the files it names>.
if(NOT CLANG_FORMAT)
  message(FATAL_ERROR "clang-format not found: scripts/setup installs it")
endif()
file(GLOB tops RELATIVE "${ROOT}" "${ROOT}/*")
set(files)
foreach(top IN LISTS tops)
  if(NOT IS_DIRECTORY "${ROOT}/${top}" OR top MATCHES "^\\." OR EXISTS "${ROOT}/${top}/CMakeCache.txt"
     OR top STREQUAL "scripts" OR top STREQUAL "e2e")
    continue()
  endif()
  file(GLOB_RECURSE found RELATIVE "${ROOT}" "${ROOT}/${top}/*.cc" "${ROOT}/${top}/*.h")
  list(APPEND files ${found})
endforeach()
list(LENGTH files count)
if(count LESS 100)
  message(FATAL_ERROR "found only ${count} C++ files below ${ROOT}: is ROOT the source directory?")
endif()
execute_process(COMMAND "${CLANG_FORMAT}" --dry-run -Werror ${files}
                WORKING_DIRECTORY "${ROOT}" RESULT_VARIABLE result ERROR_VARIABLE errors)
if(NOT result EQUAL 0)
  string(REGEX MATCHALL "[^\n]*: error: [^\n]*" lines "${errors}")
  list(LENGTH lines problems)
  list(SUBLIST lines 0 20 shown)
  list(JOIN shown "\n" shown)
  message(FATAL_ERROR "${problems} places differ from .clang-format (first 20 below); "
                      "run clang-format -i on the files named:\n${shown}")
endif()
message(STATUS "${count} C++ files match .clang-format")
