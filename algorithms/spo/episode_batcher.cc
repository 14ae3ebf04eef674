#include "algorithms/spo/episode_batcher.h"

#include <algorithm>
#include <utility>

namespace rlx::spo {

void EpisodeBatcher::Add(ppo::Unroll episode, double win_rate, bool spread) {
  const int64_t n = episode.length;
  if (n <= 0) return;
  episode.rewards.assign(n, 0.0f);
  if (spread) {
    std::fill(episode.rewards.begin(), episode.rewards.end(), static_cast<float>(win_rate / n));
  } else {
    episode.rewards.back() = static_cast<float>(win_rate);
  }
  episode.terminated.assign(n, 0);
  episode.terminated.back() = 1;
  ready_ += n;
  episodes_.push_back(std::move(episode));
}

bool EpisodeBatcher::Fill(ppo::Rollout* r) {
  const int64_t t_len = r->length, m = r->num_unrolls * t_len;
  if (ready_ < m || m == 0) return false;
  const int64_t dim = episodes_.front().obs_dim, width = episodes_.front().action_width;
  for (int64_t i = 0; i < m; ++i) {
    const ppo::Unroll& e = episodes_.front();
    const int64_t k = offset_;
    std::copy_n(&e.observations[k * dim], dim, &r->observations[i * dim]);
    std::copy_n(&e.actions[k * width], width, &r->actions[i * width]);
    r->log_probs[i] = e.log_probs[k];
    r->values[i] = e.values[k];
    r->rewards[i] = e.rewards[k];
    r->terminated[i] = e.terminated[k];
    r->truncated[i] = 0;
    const bool last = ++offset_ == e.length;
    if (last) {
      episodes_.pop_front();
      offset_ = 0;
    }
    if ((i + 1) % t_len == 0) {  // a row's end: what comes next in its episode
      float* next = &r->next_observations[(i / t_len) * dim];
      if (!last) {
        const ppo::Unroll& same = episodes_.front();
        std::copy_n(&same.observations[offset_ * dim], dim, next);
      } else {
        std::fill_n(next, dim, 0.0f);  // terminated: not read
      }
    }
  }
  ready_ -= m;
  return true;
}

void EpisodeBatcher::Clear() {
  episodes_.clear();
  offset_ = 0;
  ready_ = 0;
}

}  // namespace rlx::spo
