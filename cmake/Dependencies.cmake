# Every third-party library Sluice links, found through CMake config or pkg-config.
# A missing one stops configure with the Debian package that provides it.
find_package(PkgConfig QUIET)

macro(sluice_require_config name package)
  find_package(${name} CONFIG QUIET)
  if(NOT ${name}_FOUND)
    message(FATAL_ERROR "Sluice needs ${name}: install the Debian package '${package}' "
                        "(apt-get install ${package}), or run scripts/setup.")
  endif()
endmacro()

macro(sluice_require_pkg prefix module package)
  if(NOT PkgConfig_FOUND)
    message(FATAL_ERROR "Sluice needs pkg-config: apt-get install pkg-config, or run scripts/setup.")
  endif()
  pkg_check_modules(${prefix} QUIET IMPORTED_TARGET ${module})
  if(NOT ${prefix}_FOUND)
    message(FATAL_ERROR "Sluice needs ${module}: install the Debian package '${package}' "
                        "(apt-get install ${package}), or run scripts/setup.")
  endif()
endmacro()

find_package(Threads REQUIRED)
find_package(OpenSSL QUIET)
if(NOT OpenSSL_FOUND)
  message(FATAL_ERROR "Sluice needs OpenSSL: install the Debian package 'libssl-dev' "
                      "(apt-get install libssl-dev), or run scripts/setup.")
endif()
sluice_require_config(cpprestsdk libcpprest-dev)
sluice_require_config(yaml-cpp libyaml-cpp-dev)
sluice_require_config(spdlog libspdlog-dev)
sluice_require_config(prometheus-cpp prometheus-cpp-dev)
sluice_require_config(nlohmann_json nlohmann-json3-dev)
sluice_require_config(GTest "libgtest-dev libgmock-dev")
sluice_require_pkg(RDKAFKA rdkafka librdkafka-dev)
sluice_require_pkg(NATS libnats libnats-dev)

# yaml-cpp 0.7 in Debian exports the target without a namespace.
if(TARGET yaml-cpp::yaml-cpp)
  set(SLUICE_YAML_TARGET yaml-cpp::yaml-cpp)
else()
  set(SLUICE_YAML_TARGET yaml-cpp)
endif()
