# Helpers shared by the component CMakeLists.

set(RLX_WARNINGS -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare)

# rlx_torch_pch(target): precompile LibTorch's umbrella header for a target with
# several translation units that include it (~20 s per TU otherwise).
function(rlx_torch_pch target)
  target_precompile_headers(${target} PRIVATE <torch/torch.h>)
endfunction()

# rlx_test(name SOURCES ... LIBS ... [LABELS ...] [TIMEOUT s])
function(rlx_test name)
  cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} GTest::gtest GTest::gmock GTest::gtest_main)
  target_compile_options(${name} PRIVATE ${RLX_WARNINGS})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  # Sanitizer builds run several times slower (RLX_TEST_TIMEOUT_SCALE below).
  math(EXPR T_TIMEOUT "${T_TIMEOUT} * ${RLX_TEST_TIMEOUT_SCALE}")
  math(EXPR discovery_timeout "60 * ${RLX_TEST_TIMEOUT_SCALE}")
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT ${discovery_timeout}
    PROPERTIES TIMEOUT ${T_TIMEOUT} ENVIRONMENT "RLX_BIN_DIR=${PROJECT_BINARY_DIR}/bin")
  if(T_LABELS)
    # Labels are set after discovery, from a file CTest reads after the
    # discovered tests: gtest_discover_tests' PROPERTIES cannot carry a list
    # (LABELS "e2e;chaos" would keep only "e2e").
    set(label_file "${CMAKE_CURRENT_BINARY_DIR}/${name}_labels.cmake")
    file(WRITE "${label_file}"
      "foreach(t IN LISTS ${name}_TESTS)\n"
      "  set_tests_properties(\"\${t}\" PROPERTIES LABELS \"${T_LABELS}\")\n"
      "endforeach()\n")
    set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${label_file}")
  endif()
endfunction()

# ---- Checking builds (docs/testing.md) ---------------------------------------
# RLX_SANITIZE=address|thread instruments everything built (libraries, binaries,
# tests, the LibTorch module); scripts/sanitize.sh configures build-asan/ and
# build-tsan/ with it. Third-party libraries (Debian's gRPC, protobuf, Abseil,
# LibTorch) stay uninstrumented: see tests/sanitizers/*.supp.
# Test timeouts (rlx_test) are multiplied by RLX_TEST_TIMEOUT_SCALE: 1 in plain
# builds, 3 under ASan, 5 under TSan unless set.
if(RLX_SANITIZE STREQUAL "address")
  set(rlx_default_timeout_scale 3)
elseif(RLX_SANITIZE STREQUAL "thread")
  set(rlx_default_timeout_scale 5)
else()
  set(rlx_default_timeout_scale 1)
endif()
set(RLX_TEST_TIMEOUT_SCALE ${rlx_default_timeout_scale} CACHE STRING
    "Multiplier of the test timeouts (sanitizer builds run slower)")
if(RLX_SANITIZE STREQUAL "address")
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
elseif(RLX_SANITIZE STREQUAL "thread")
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  # Debian's protobuf, Abseil and gRPC are built without TSan, and their
  # headers change class layouts when __SANITIZE_THREAD__ is defined
  # (protobuf's MapFieldBase gains two counters, so every map field, ours in
  # learner.proto and google.protobuf.Struct's, disagrees with libprotobuf's
  # compiled code: a SEGV in Map::find). The macro is undefined so that
  # headers compile as they did for the libraries; our code tests RLX_TSAN.
  add_compile_options(-U__SANITIZE_THREAD__ -DRLX_TSAN=1)
  # Target clones (models/simd.h) cannot run under TSan; on a host with
  # x86-64-v3 (AVX2, FMA) the same functions are compiled for it alone
  # (RLX_TSAN_X86_64_V3), so that TSan runs the arithmetic plain builds run
  # on this machine (everything else stays baseline, as in plain builds).
  if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64" AND EXISTS /proc/cpuinfo)
    file(READ /proc/cpuinfo rlx_cpuinfo LIMIT 8192)
    if(rlx_cpuinfo MATCHES " avx2 " AND rlx_cpuinfo MATCHES " fma " AND rlx_cpuinfo MATCHES " bmi2 ")
      add_compile_definitions(RLX_TSAN_X86_64_V3=1)
    endif()
  endif()
  add_link_options(-fsanitize=thread)
  # Debian's Abseil is not built with TSan, so absl::Mutex, CondVar and
  # Notification synchronise nothing TSan can see: every executable gets the
  # annotations of tests/sanitizers/tsan_absl_sync.cc (linked in at the end of
  # the configure step, once every executable exists).
  # gRPC hands operations between its threads invisibly too: the edges of
  # tests/sanitizers/tsan_grpc_sync.cc.
  add_library(rlx_tsan_absl_sync OBJECT ${PROJECT_SOURCE_DIR}/tests/sanitizers/tsan_absl_sync.cc
                                        ${PROJECT_SOURCE_DIR}/tests/sanitizers/tsan_grpc_sync.cc)
  target_link_libraries(rlx_tsan_absl_sync PRIVATE absl::synchronization absl::time gRPC::grpc++)
  function(rlx_tsan_link_absl_sync dir)
    get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
    foreach(t IN LISTS targets)
      get_target_property(type ${t} TYPE)
      if(type STREQUAL "EXECUTABLE")
        target_sources(${t} PRIVATE $<TARGET_OBJECTS:rlx_tsan_absl_sync>)
        target_link_libraries(${t} PRIVATE ${CMAKE_DL_LIBS} absl::status)
        # Exported, so that calls from the shared libraries (gRPC) land here too.
        target_link_options(${t} PRIVATE "LINKER:--export-dynamic-symbol=_ZN4absl7debian3*"
                            "LINKER:--export-dynamic-symbol=_ZNK4absl7debian3*"
                            "LINKER:--export-dynamic-symbol=grpc_call_start_batch"
                            "LINKER:--export-dynamic-symbol=grpc_completion_queue_next"
                            "LINKER:--export-dynamic-symbol=grpc_completion_queue_pluck"
                            "LINKER:--export-dynamic-symbol=_Z14grpc_cq_end_op*"
                            "LINKER:--export-dynamic-symbol=_ZN9grpc_core8Executor*")
      endif()
    endforeach()
    get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
    foreach(sub IN LISTS subdirs)
      rlx_tsan_link_absl_sync(${sub})
    endforeach()
  endfunction()
  cmake_language(DEFER DIRECTORY ${PROJECT_SOURCE_DIR}
                 CALL rlx_tsan_link_absl_sync ${PROJECT_SOURCE_DIR})
elseif(NOT RLX_SANITIZE STREQUAL "")
  message(FATAL_ERROR "RLX_SANITIZE must be address, thread or empty, got '${RLX_SANITIZE}'")
endif()

# RLX_FUZZ=ON builds the libFuzzer targets of tests/fuzz (scripts/fuzz.sh):
# clang only; the fuzzers get -fsanitize=fuzzer,address,undefined and the
# project libraries they link -fsanitize=fuzzer-no-link,address,undefined
# (coverage feedback and the same checks inside the code under test).
if(RLX_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "RLX_FUZZ needs clang (libFuzzer), got ${CMAKE_CXX_COMPILER_ID}: "
                        "configure with -DCMAKE_CXX_COMPILER=clang++ (scripts/fuzz.sh does)")
  endif()
  if(NOT RLX_SANITIZE STREQUAL "")
    message(FATAL_ERROR "RLX_FUZZ brings its own sanitizers; leave RLX_SANITIZE empty")
  endif()
  # Other executables that link an instrumented library still link (the
  # fuzzers themselves are built by the `fuzzers` target). Not shared
  # libraries: the LibTorch module links with --no-undefined.
  add_link_options("$<$<STREQUAL:$<TARGET_PROPERTY:TYPE>,EXECUTABLE>:-fsanitize=address,undefined>")
endif()
set(RLX_FUZZ_LIB_FLAGS -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)

# rlx_fuzz_instrument(target): adds RLX_FUZZ_LIB_FLAGS to every project library in
# the link closure of target (imported, i.e. third-party, libraries are left alone).
function(rlx_fuzz_instrument target)
  get_target_property(libs ${target} LINK_LIBRARIES)
  get_target_property(ilibs ${target} INTERFACE_LINK_LIBRARIES)
  foreach(lib IN LISTS libs ilibs)
    string(REGEX REPLACE "^\\$<LINK_ONLY:(.*)>$" "\\1" lib "${lib}")
    if(NOT TARGET "${lib}")
      continue()
    endif()
    get_target_property(aliased ${lib} ALIASED_TARGET)
    if(aliased)
      set(lib ${aliased})
    endif()
    get_target_property(imported ${lib} IMPORTED)
    get_target_property(type ${lib} TYPE)
    if(imported OR NOT type MATCHES "^(STATIC|OBJECT)_LIBRARY$")
      continue()
    endif()
    get_property(done GLOBAL PROPERTY RLX_FUZZ_INSTRUMENTED)
    if(lib IN_LIST done)
      continue()
    endif()
    set_property(GLOBAL APPEND PROPERTY RLX_FUZZ_INSTRUMENTED ${lib})
    target_compile_options(${lib} PRIVATE ${RLX_FUZZ_LIB_FLAGS})
    rlx_fuzz_instrument(${lib})
  endforeach()
endfunction()
