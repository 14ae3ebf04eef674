# SPO against reward-model RLHF (bench/spo_bench.cc).
add_executable(spo_bench ${CMAKE_CURRENT_LIST_DIR}/spo_bench.cc)
target_compile_options(spo_bench PRIVATE ${RLX_WARNINGS})
target_link_libraries(spo_bench PRIVATE rlx::spo absl::flags absl::flags_parse absl::flags_usage
  absl::str_format absl::strings)
