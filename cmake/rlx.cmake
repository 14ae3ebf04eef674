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
  set(props TIMEOUT ${T_TIMEOUT} ENVIRONMENT "RLX_BIN_DIR=${PROJECT_BINARY_DIR}/bin")
  if(T_LABELS)
    list(APPEND props LABELS "${T_LABELS}")
  endif()
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES ${props})
endfunction()
