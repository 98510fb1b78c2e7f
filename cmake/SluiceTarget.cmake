# Flags for Sluice's own targets: strict warnings (errors by default) and optional sanitizers.
function(sluice_target_flags target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow=local -Wnon-virtual-dtor
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
