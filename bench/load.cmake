# load_bench: --clients actor loops (in process) against one replay_server and
# one learner (processes); latency, RSS, errors (docs/benchmarks.md, "Load").
if(TARGET rlx_test_util AND TARGET actor)
  add_executable(load_bench ${CMAKE_CURRENT_LIST_DIR}/load_bench.cc)
  target_compile_options(load_bench PRIVATE ${RLX_WARNINGS})
  target_link_libraries(load_bench PRIVATE rlx::actor rlx::replay_client rlx::test_util
    absl::flags absl::flags_parse absl::flags_usage absl::str_format)
  add_dependencies(load_bench replay_server learner)
endif()
