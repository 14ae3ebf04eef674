// Builders shared by the replay tests.
#ifndef RLX_TESTS_REPLAY_REPLAY_TEST_UTIL_H_
#define RLX_TESTS_REPLAY_REPLAY_TEST_UTIL_H_

#include <memory>
#include <string>
#include <vector>

#include <cstring>

#include "core/tensor_codec.h"
#include "replay.pb.h"

namespace rlx {

// An item with one float32 tensor "x" of n elements filled with value, and the
// given actor id / step index in its metadata.
inline Item MakeItem(float value, int n = 4, int64_t actor = 0, int64_t step = 0,
                     double priority = 1.0) {
  Item item;
  NamedTensor* t = item.add_tensors();
  t->set_name("x");
  *t->mutable_tensor() = FloatTensor(std::vector<float>(n, value));
  item.mutable_metadata()->set_actor_id(actor);
  item.mutable_metadata()->set_step_index(step);
  item.set_priority(priority);
  return item;
}

inline std::vector<std::shared_ptr<const Item>> MakeItems(int count, int64_t actor = 0,
                                                    int64_t first_step = 0) {
  std::vector<std::shared_ptr<const Item>> items;
  for (int i = 0; i < count; ++i) {
    items.push_back(std::make_shared<const Item>(
        MakeItem(static_cast<float>(first_step + i), 4, actor, first_step + i)));
  }
  return items;
}

inline float FirstValue(const Item& item) {
  float v;
  std::memcpy(&v, item.tensors(0).tensor().data().data(), sizeof(v));
  return v;
}

inline TableConfig QueueTable(const std::string& name, int64_t max_size) {
  TableConfig c;
  c.set_name(name);
  c.set_max_size(max_size);
  c.mutable_sampler()->mutable_fifo();
  c.mutable_rate_limiter()->mutable_queue();
  return c;
}

inline TableConfig UniformTable(const std::string& name, int64_t max_size, int64_t min_size = 1) {
  TableConfig c;
  c.set_name(name);
  c.set_max_size(max_size);
  c.mutable_sampler()->mutable_uniform();
  c.mutable_rate_limiter()->mutable_min_size()->set_min_size(min_size);
  return c;
}

}  // namespace rlx

#endif  // RLX_TESTS_REPLAY_REPLAY_TEST_UTIL_H_
