# Flags for Sluice's own targets: strict warnings (errors by default) and optional sanitizers.
function(sluice_target_flags target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic $<$<CXX_COMPILER_ID:GNU>:-Wshadow=local> -Wnon-virtual-dtor
                                           -Wimplicit-fallthrough -Wswitch)
  if(SLUICE_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR} ${CMAKE_BINARY_DIR}/generated)
endfunction()

if(SLUICE_SANITIZE)
  # vptr is off: cpprestsdk's header templates (astreambuf.h) are instantiated both in our adapter
  # files and inside libcpprest.so, and UBSan then reports a false "not an object of type
  # basic_streambuf" on calls through the library's copy of the type info.
  add_compile_options(-fsanitize=address,undefined -fno-sanitize=vptr -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

if(SLUICE_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "SLUICE_FUZZ needs clang (libFuzzer): configure with -DCMAKE_CXX_COMPILER=clang++ "
                        "-DCMAKE_C_COMPILER=clang (scripts/setup installs clang and libclang-rt-14-dev).")
  endif()
  # Every library the fuzz targets link is instrumented for coverage (fuzzer-no-link) and built with
  # the same sanitizers as the sanitize tier; only the targets themselves link libFuzzer's main().
  add_compile_options(-fsanitize=address,undefined,fuzzer-no-link -fno-sanitize=vptr -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
