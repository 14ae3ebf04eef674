#include "algorithms/algorithm_spec.h"

#include "absl/strings/str_join.h"
#include "algorithms/ppo/job_config.h"
#include "algorithms/spo/job_config.h"
#include "algorithms/stream_x/job_config.h"

namespace rlx {
namespace {

// The algorithms jobs can name. Adding one: a line here and one in
// algorithms/registry.cc.
constexpr AlgorithmSpec kAlgorithms[] = {
    {"stream_ac", JobSpec::kStreamX, "stream_x", stream_x::CompleteJob, stream_x::CheckJob,
     stream_x::EstimateJob},
    {"stream_q", JobSpec::kStreamX, "stream_x", stream_x::CompleteJob, stream_x::CheckJob,
     stream_x::EstimateJob},
    {"stream_td", JobSpec::kStreamX, "stream_x", stream_x::CompleteJob, stream_x::CheckJob,
     stream_x::EstimateJob},
    {"ppo", JobSpec::kPpo, "ppo", ppo::CompletePpoJob, ppo::CheckJob, ppo::EstimateJob},
    {"appo", JobSpec::kPpo, "ppo", ppo::CompleteAppoJob, ppo::CheckJob, ppo::EstimateJob},
    {"spo", JobSpec::kSpo, "spo", spo::CompleteJob, spo::CheckJob, spo::EstimateJob},
};

}  // namespace

const AlgorithmSpec* FindAlgorithmSpec(const std::string& name) {
  for (const AlgorithmSpec& a : kAlgorithms) {
    if (name == a.name) return &a;
  }
  return nullptr;
}

std::string AlgorithmNames() {
  std::vector<std::string> names;
  for (const AlgorithmSpec& a : kAlgorithms) names.push_back(a.name);
  return absl::StrJoin(names, ", ");
}

int64_t MlpParameters(int64_t in, const std::vector<int64_t>& hidden, int64_t out) {
  int64_t total = 0;
  for (int64_t h : hidden) {
    total += (in + 1) * h;
    in = h;
  }
  return total + (in + 1) * out;
}

}  // namespace rlx
