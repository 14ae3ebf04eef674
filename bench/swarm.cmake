# Swarm navigation: env throughput, baselines, GNN policy (bench/swarm_bench.cc).
add_executable(swarm_bench ${CMAKE_CURRENT_LIST_DIR}/swarm_bench.cc)
target_compile_options(swarm_bench PRIVATE ${RLX_WARNINGS})
target_link_libraries(swarm_bench PRIVATE rlx::swarm rlx::job_spec rlx::envs absl::flags absl::flags_parse absl::flags_usage
  absl::strings)
