if(TARGET rlx_test_util AND TARGET actor)
  add_executable(e2e_bench ${CMAKE_CURRENT_LIST_DIR}/e2e_bench.cc)
  target_compile_options(e2e_bench PRIVATE ${RLX_WARNINGS})
  target_link_libraries(e2e_bench PRIVATE rlx::job rlx::ppo_trainer rlx::replay rlx::test_util absl::flags
    absl::flags_parse absl::flags_usage)
  add_dependencies(e2e_bench replay_server learner actor)
endif()
