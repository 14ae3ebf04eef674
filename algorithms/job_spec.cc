#include "algorithms/job_spec.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>
#include <google/protobuf/util/json_util.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/status_macros.h"
#include "envs/multi_agent_registry.h"
#include "envs/registry.h"

namespace rlx {
namespace {

bool ValidName(const std::string& name) {
  // Names are folder names under the checkpoint and output folders: never
  // "." or "..", nothing hidden, no separators.
  if (name.empty() || name.size() > JobLimits::kMaxNameBytes || name[0] == '.') return false;
  for (char c : name) {
    if (!(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' ||
          c == '.')) {
      return false;
    }
  }
  return true;
}

std::string GiB(int64_t bytes) {
  return absl::StrFormat("%.2f GiB", static_cast<double>(bytes) / (1 << 30));
}

}  // namespace

std::string Shorten(const std::string& text) {
  constexpr size_t kShown = 64;
  if (text.size() <= kShown) return text;
  return absl::StrCat(text.substr(0, kShown), "... (", text.size(), " bytes)");
}

absl::StatusOr<JobMemoryEstimate> EstimateJobMemory(const JobSpec& spec) {
  const AlgorithmSpec* algorithm = FindAlgorithmSpec(spec.algorithm());
  if (algorithm == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("unknown algorithm '", Shorten(spec.algorithm()), "'"));
  }
  ASSIGN_OR_RETURN(ProblemSpec problem, JobProblem(spec));
  return algorithm->estimate(spec, problem);
}

absl::Status ValidateJobSpec(JobSpec* spec) {
  std::vector<std::string> errors;
  auto bad = [&](const std::string& field, const std::string& what) {
    errors.push_back(absl::StrCat(field, ": ", what));
  };
  // Defaults: generic fields first (the algorithm's may depend on them).
  if (spec->num_actors() == 0) spec->set_num_actors(2);
  if (spec->envs_per_actor() == 0) spec->set_envs_per_actor(1);
  if (spec->table().empty()) spec->set_table(absl::StrCat("job.", spec->name()));
  if (spec->table_max_size() == 0) spec->set_table_max_size(10000);
  if (spec->eval().every_learner_steps() > 0 && spec->eval().episodes() == 0) {
    spec->mutable_eval()->set_episodes(10);
  }
  if (spec->publish_every() == 0) spec->set_publish_every(1);
  if (spec->device().empty()) spec->set_device("cpu");
  if (spec->checkpoint_every_steps() == 0) spec->set_checkpoint_every_steps(20000);
  const AlgorithmSpec* algorithm = FindAlgorithmSpec(spec->algorithm());
  if (algorithm != nullptr) {
    if (spec->config_case() == JobSpec::CONFIG_NOT_SET) {
      // Selects the algorithm's (empty) config member.
      if (algorithm->config_case == JobSpec::kStreamX) spec->mutable_stream_x();
      if (algorithm->config_case == JobSpec::kPpo) spec->mutable_ppo();
      if (algorithm->config_case == JobSpec::kSpo) spec->mutable_spo();
    }
    if (spec->config_case() == algorithm->config_case) algorithm->complete(spec);
  }

  // Checks. Every field is checked and every bad one reported; user strings
  // are shortened in messages.
  using L = JobLimits;
  if (!ValidName(spec->name())) {
    bad("name", absl::StrCat("must be 1-", L::kMaxNameBytes,
                             " of [A-Za-z0-9_.-] not starting with '.', got '",
                             Shorten(spec->name()), "'"));
  }
  if (algorithm == nullptr) {
    bad("algorithm", absl::StrCat("unknown algorithm '", Shorten(spec->algorithm()), "' (",
                                  AlgorithmNames(), ")"));
  } else if (spec->config_case() != algorithm->config_case) {
    bad(algorithm->config_field,
        absl::StrCat("algorithm ", algorithm->name, " reads the ", algorithm->config_field,
                     " config; the job sets another algorithm family's"));
    algorithm = nullptr;  // its checks would read the wrong config
  }
  const bool multi_agent = IsMultiAgentEnv(spec->env());
  absl::Status env = absl::OkStatus();
  if (spec->env_options().size() > 1024) {
    env = absl::InvalidArgumentError("too long");
    bad("env_options", absl::StrCat("must be at most 1024 bytes, got ", spec->env_options().size()));
  } else if (multi_agent) {
    env = MakeMultiAgentEnv(spec->env(), spec->env_options()).status();
    if (!env.ok()) bad("env_options", Shorten(std::string(env.message())));
    if (algorithm != nullptr && algorithm->config_case != JobSpec::kPpo) {
      bad("env", absl::StrCat(spec->env(), " is a multi-agent env: it trains with ppo or appo, not ",
                              algorithm->name));
    } else if (spec->config_case() == JobSpec::kPpo && spec->ppo().normalize_observations()) {
      bad("ppo.normalize_observations", "not available with a multi-agent env (its observations "
                                        "are already scaled)");
    }
  } else {
    env = MakeEnv(spec->env()).status();
    if (!env.ok()) {
      bad("env", spec->env().size() > 64
                     ? absl::StrCat("unknown environment '", Shorten(spec->env()), "'")
                     : std::string(env.message()));
    } else if (!spec->env_options().empty()) {
      bad("env_options", absl::StrCat("only multi-agent envs take options; ", spec->env(),
                                      " takes none, got '", Shorten(spec->env_options()), "'"));
    }
  }
  auto in_range = [&](const std::string& field, int64_t value, int64_t low, int64_t high) {
    if (value < low || value > high) {
      bad(field, absl::StrCat("must be in [", low, ", ", high, "], got ", value));
      return false;
    }
    return true;
  };
  const bool actors_ok = in_range("num_actors", spec->num_actors(), 1, L::kMaxNumActors);
  const bool envs_ok = in_range("envs_per_actor", spec->envs_per_actor(), 1, L::kMaxEnvsPerActor);
  if (actors_ok && envs_ok &&
      int64_t{spec->num_actors()} * spec->envs_per_actor() > L::kMaxStreams) {
    bad("num_actors", absl::StrCat("num_actors * envs_per_actor must be <= ", L::kMaxStreams,
                                   " (one learner trace set per env), got ",
                                   int64_t{spec->num_actors()} * spec->envs_per_actor()));
  }
  in_range("table_max_size", spec->table_max_size(), 1, L::kMaxTableSize);
  if (spec->table().size() > 2 * L::kMaxNameBytes) {
    bad("table", absl::StrCat("must be at most ", 2 * L::kMaxNameBytes, " bytes, got '",
                              Shorten(spec->table()), "'"));
  }
  if (spec->eval().agents_size() > 0 && !multi_agent) {
    bad("eval.agents", "only for multi-agent envs");
  } else if (spec->eval().agents_size() > 8) {
    bad("eval.agents", absl::StrCat("at most 8 agent counts, got ", spec->eval().agents_size()));
  } else {
    for (int i = 0; i < spec->eval().agents_size(); ++i) {
      const std::string field = absl::StrCat("eval.agents[", i, "]");
      if (!in_range(field, spec->eval().agents(i), 1, 1024) || !env.ok()) continue;
      // The evaluator makes the env with the job's settings at this size.
      absl::Status sized = MakeMultiAgentEnv(
          spec->env(), absl::StrCat(spec->env_options(), ",agents=", spec->eval().agents(i))).status();
      // The options passed at the job's own size, so what fails here is the
      // size (a bounded message, not the user's text): shown whole.
      if (!sized.ok()) bad(field, std::string(sized.message()));
    }
  }
  const StopRule& stop = spec->stop();
  if (stop.max_env_steps() < 0) {
    bad("stop.max_env_steps", absl::StrCat("must be >= 0, got ", stop.max_env_steps()));
  }
  if (!(stop.max_wall_seconds() >= 0 && stop.max_wall_seconds() <= L::kMaxWallSeconds)) {
    bad("stop.max_wall_seconds", absl::StrCat("must be in [0, ", L::kMaxWallSeconds, "], got ",
                                              stop.max_wall_seconds()));
  }
  if (stop.has_target_eval_return() && !std::isfinite(stop.target_eval_return())) {
    bad("stop.target_eval_return", absl::StrCat("must be finite, got ", stop.target_eval_return()));
  }
  if (stop.max_env_steps() == 0 && stop.max_wall_seconds() == 0 && !stop.has_target_eval_return()) {
    bad("stop", "set at least one of max_env_steps, max_wall_seconds, target_eval_return");
  }
  if (stop.has_target_eval_return() && spec->eval().every_learner_steps() <= 0) {
    bad("stop.target_eval_return", "needs eval.every_learner_steps > 0");
  }
  if (spec->eval().every_learner_steps() < 0) {
    bad("eval.every_learner_steps",
        absl::StrCat("must be >= 0, got ", spec->eval().every_learner_steps()));
  }
  in_range("eval.episodes", spec->eval().episodes(), 0, L::kMaxEvalEpisodes);
  if (spec->publish_every() < 1) bad("publish_every", absl::StrCat("must be >= 1, got ", spec->publish_every()));
  if (spec->max_policy_lag() < -1) {
    bad("max_policy_lag", absl::StrCat("must be >= -1, got ", spec->max_policy_lag()));
  }
  if (spec->device() != "cpu" && spec->device() != "cuda") {
    bad("device", absl::StrCat("must be cpu or cuda, got '", Shorten(spec->device()), "'"));
  }
  if (spec->checkpoint_every_steps() < 1) {
    bad("checkpoint_every_steps",
        absl::StrCat("must be >= 1, got ", spec->checkpoint_every_steps()));
  }
  // Network sizes, whichever config holds them.
  const google::protobuf::RepeatedField<int64_t>* hidden = nullptr;
  std::string hidden_field;
  if (spec->has_stream_x()) {
    hidden = &spec->stream_x().hidden();
    hidden_field = "stream_x.hidden";
  } else if (spec->has_ppo()) {
    hidden = &spec->ppo().hidden();
    hidden_field = "ppo.hidden";
  } else if (spec->has_spo()) {
    hidden = &spec->spo().ppo().hidden();
    hidden_field = "spo.ppo.hidden";
  }
  bool sizes_ok = true;
  if (hidden != nullptr && hidden->size() > L::kMaxHiddenLayers) {
    bad(hidden_field, absl::StrCat("at most ", L::kMaxHiddenLayers, " layers, got ",
                                   hidden->size()));
    sizes_ok = false;
  } else if (hidden != nullptr) {
    for (int i = 0; i < hidden->size(); ++i) {
      sizes_ok &= in_range(absl::StrCat(hidden_field, "[", i, "]"), hidden->Get(i), 1,
                           L::kMaxHiddenWidth);
    }
  }
  // The algorithm's own checks (hyperparameter ranges against the problem),
  // every one of them.
  absl::StatusOr<ProblemSpec> problem = JobProblem(*spec);
  if (env.ok() && !problem.ok()) bad("env", std::string(problem.status().message()));
  if (problem.ok() && algorithm != nullptr) {
    algorithm->check(*spec, *problem, &errors);
    // What the job would need in memory, against the documented budgets.
    if (sizes_ok && actors_ok && envs_ok) {
      absl::StatusOr<JobMemoryEstimate> memory = algorithm->estimate(*spec, *problem);
      if (memory.ok()) {
        if (memory->largest_network > L::kMaxNetworkParameters) {
          bad(hidden_field, absl::StrCat("a network would have ", memory->largest_network,
                                         " parameters; the limit is ", L::kMaxNetworkParameters));
        } else if (memory->learner_bytes > L::kMaxLearnerBytes) {
          bad("num_actors", absl::StrCat("the learner would need about ", GiB(memory->learner_bytes),
                                         " (", memory->parameters, " parameters, one trace set per "
                                         "env of num_actors * envs_per_actor); the limit is ",
                                         GiB(L::kMaxLearnerBytes)));
        } else if (memory->actor_bytes > L::kMaxActorBytes) {
          bad("envs_per_actor", absl::StrCat("each actor would need about ",
                                             GiB(memory->actor_bytes), "; the limit is ",
                                             GiB(L::kMaxActorBytes)));
        }
      }
    }
  }
  if (errors.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("invalid job: ", absl::StrJoin(errors, "; ")));
}

absl::StatusOr<JobSpec> ParseJobSpec(const std::string& contents) {
  JobSpec spec;
  const std::string trimmed(absl::StripLeadingAsciiWhitespace(contents));
  if (!trimmed.empty() && trimmed[0] == '{') {
    auto status = google::protobuf::util::JsonStringToMessage(contents, &spec);
    if (!status.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("job file (JSON): ", status.ToString()));
    }
    return spec;
  }
  struct Collector : google::protobuf::io::ErrorCollector {
    std::string errors;
    void AddError(int line, int column, const std::string& message) override {
      absl::StrAppend(&errors, errors.empty() ? "" : "; ", "line ", line + 1, ":", column + 1,
                      ": ", message);
    }
  } collector;
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&collector);
  if (!parser.ParseFromString(contents, &spec)) {
    return absl::InvalidArgumentError(absl::StrCat("job file (text format): ", collector.errors));
  }
  return spec;
}

absl::StatusOr<ProblemSpec> ProblemFromEnvSpec(const EnvSpec& spec) {
  ProblemSpec problem;
  problem.observation_dim = spec.observation_space.flat_size();
  problem.time_limit = spec.max_episode_steps;
  if (spec.action_space.is_discrete()) {
    problem.discrete = true;
    problem.num_actions = spec.action_space.n;
  } else {
    problem.discrete = false;
    problem.action_dim = spec.action_space.flat_size();
    problem.action_low = spec.action_space.low;
    problem.action_high = spec.action_space.high;
  }
  RETURN_IF_ERROR(ValidateProblemSpec(problem));
  return problem;
}

ProblemSpec ProblemFromMultiAgentSpec(const MultiAgentSpec& spec) {
  ProblemSpec p;
  p.observation_dim = spec.graph_layout.width();
  p.discrete = false;
  p.action_dim = spec.action_space.flat_size();
  p.action_low = spec.action_space.low;
  p.action_high = spec.action_space.high;
  p.time_limit = spec.max_episode_steps;
  p.graph = spec.graph_layout;
  return p;
}

absl::StatusOr<ProblemSpec> JobProblem(const JobSpec& spec) {
  if (IsMultiAgentEnv(spec.env())) {
    ASSIGN_OR_RETURN(std::unique_ptr<MultiAgentEnv> env,
                     MakeMultiAgentEnv(spec.env(), spec.env_options()));
    return ProblemFromMultiAgentSpec(env->spec());
  }
  ASSIGN_OR_RETURN(std::unique_ptr<Env> env, MakeEnv(spec.env()));
  return ProblemFromEnvSpec(env->spec());
}

int JobAgentsPerEnv(const JobSpec& spec) {
  if (!IsMultiAgentEnv(spec.env())) return 1;
  absl::StatusOr<std::unique_ptr<MultiAgentEnv>> env =
      MakeMultiAgentEnv(spec.env(), spec.env_options());
  return env.ok() ? (*env)->spec().num_agents : 1;
}

}  // namespace rlx
