# Stream-x learning benchmarks: per-update cost against bare LibTorch autograd
# (update_bench, one torch TU) and learning curves over seeds (learning_bench).
add_executable(update_bench ${CMAKE_CURRENT_LIST_DIR}/update_bench.cc)
target_compile_options(update_bench PRIVATE ${RLX_WARNINGS})
target_link_libraries(update_bench PRIVATE rlx::stream_trainer ${TORCH_LIBRARIES}
  absl::flags absl::flags_parse absl::str_format)

add_executable(learning_bench ${CMAKE_CURRENT_LIST_DIR}/learning_bench.cc)
target_compile_options(learning_bench PRIVATE ${RLX_WARNINGS})
target_link_libraries(learning_bench PRIVATE rlx::stream_trainer rlx::ppo_trainer absl::flags
  absl::flags_parse absl::str_format)

# One PPO update's inputs and outputs, for bench/ppo_parity_check.py.
add_executable(ppo_parity_dump ${CMAKE_CURRENT_LIST_DIR}/ppo_parity_dump.cc)
target_compile_options(ppo_parity_dump PRIVATE ${RLX_WARNINGS})
target_link_libraries(ppo_parity_dump PRIVATE rlx::ppo_trainer absl::flags absl::flags_parse
  absl::str_format)

# Start-up time and peak RSS of a process with each network backend.
add_executable(startup_bench ${CMAKE_CURRENT_LIST_DIR}/startup_bench.cc)
target_compile_options(startup_bench PRIVATE ${RLX_WARNINGS})
target_link_libraries(startup_bench PRIVATE absl::flags absl::flags_parse absl::strings)
add_dependencies(startup_bench stream_train)
