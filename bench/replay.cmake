add_executable(replay_bench
  ${CMAKE_CURRENT_LIST_DIR}/replay_bench.cc
  ${CMAKE_CURRENT_LIST_DIR}/baseline_replay_service.cc)
target_compile_options(replay_bench PRIVATE ${RLX_WARNINGS})
target_link_libraries(replay_bench PRIVATE rlx::replay absl::flags absl::flags_parse
  absl::flags_usage)
