#include "cli/args.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace rlx::cli {
namespace {

using Kind = FlagSpec::Kind;

FlagSpec AddressFlag() {
  return {"address", Kind::kString, "learner of --state_dir's topology",
          "learner (JobService) HOST:PORT of a cluster (a compose cluster: HOST:50052)"};
}
// TLS and token flags of every command that talks to a server (the same
// names as the server binaries' flags; docs/deploy.md).
std::vector<FlagSpec> ClientSecurityFlags() {
  return {
      {"tls_ca", Kind::kString, "none (plaintext)",
       "PEM CA of the servers' certificates: connect over TLS and check them"},
      {"tls_cert", Kind::kString, "none", "PEM client certificate, for servers that require one"},
      {"tls_key", Kind::kString, "none", "PEM private key of --tls_cert"},
      {"tls_server_name", Kind::kString, "the address's host",
       "name to check in the server's certificate"},
      {"token_file", Kind::kString, "none",
       "file with the token to send (operator: submit/cancel; reader: status/list/watch)"},
  };
}
std::vector<FlagSpec> WithSecurity(std::vector<FlagSpec> flags) {
  for (FlagSpec& f : ClientSecurityFlags()) flags.push_back(std::move(f));
  return flags;
}

FlagSpec OutputFlag() {
  return {"output", Kind::kString, "text", "text, or json (one JSON object, for scripts)"};
}
FlagSpec StateDirFlag() {
  return {"state_dir", Kind::kString, ".rlx", "where `up` keeps the topology, port files and logs"};
}

std::vector<FlagSpec> UpFlags() {
  return {
      {"actors", Kind::kInt, "2", "actor processes to start"},
      StateDirFlag(),
      {"bin_dir", Kind::kString, "directory of rlctl",
       "where replay_server, learner, actor and evaluator are"},
      {"checkpoint_dir", Kind::kString, "<state_dir>/checkpoints", "learner and replay checkpoints"},
      {"out_dir", Kind::kString, "<state_dir>/out", "evaluator output (curves, best policies)"},
      {"metrics", Kind::kBool, "true",
       "serve /metrics from every process (free ports, in topology.txt); --metrics=false: none"},
      {"monitor", Kind::kBool, "false",
       "also run Prometheus on 127.0.0.1 (a free port) scraping every process, with the alert "
       "rules; storage in <state_dir>/monitor"},
      {"prometheus_binary", Kind::kString, "prometheus in $PATH, else /usr/bin/prometheus",
       "the Prometheus server of --monitor (Debian package prometheus)"},
      {"alert_rules", Kind::kString,
       "deploy/prometheus/alerts.yml above rlctl's directory, else in the source tree rlctl was "
       "built from",
       "alert rules file --monitor loads (a copy goes to <state_dir>/monitor/alerts.yml)"},
      {"scrape_interval_s", Kind::kInt, "5", "--monitor: scrape and rule evaluation interval"},
      {"start_timeout_s", Kind::kInt, "60", "seconds to wait for each process to serve"},
      {"restart_backoff_ms", Kind::kInt, "500",
       "wait before restarting a crashed process; doubles with each crash"},
      {"max_restart_backoff_ms", Kind::kInt, "30000", "longest wait before a restart"},
      {"stable_run_s", Kind::kInt, "60",
       "a process that ran this long before crashing restarts after the first wait again"},
  };
}

std::vector<CommandSpec> MakeCommands() {
  std::vector<CommandSpec> c;
  c.push_back({"up", "up [--actors=N] [--state_dir=DIR] [flags]",
               "start replay server, learner, actors and evaluator on this machine",
               "Starts a supervisor (`rlctl supervise`, in the background) that starts\n"
               "replay_server, learner, N actors and the evaluator on 127.0.0.1 (free ports,\n"
               "never the cluster's 50051-50053), logs in <state_dir>/logs/<name>.log, and\n"
               "records them in <state_dir>/topology.txt. Returns once every process serves\n"
               "and prints the learner address. Every process serves /metrics on a free\n"
               "port (--metrics=false: none); --monitor also starts Prometheus scraping them\n"
               "(with the alert rules of deploy/prometheus/alerts.yml) and prints its URL.\n"
               "The supervisor restarts a crashed process (after 0.5 s, doubling up to\n"
               "30 s) on the same ports; a process that exits with status 0 stays down.\n"
               "Stop everything with `rlctl down`; see docs/operations.md.",
               0, 0, UpFlags()});
  c.push_back({"down", "down [--state_dir=DIR]", "stop the processes `up` started",
               "Asks the supervisor to stop the topology: SIGTERM to the actors and the\n"
               "evaluator, then the learner, then the replay server, each group given up to\n"
               "--timeout_s to exit (then SIGKILL), restarted processes included. Prints\n"
               "each process with its pid and restart count; the supervisor removes the\n"
               "topology file and exits. Without a live supervisor it signals the recorded\n"
               "processes itself.",
               0, 0,
               {StateDirFlag(), {"timeout_s", Kind::kInt, "10", "grace period per group"}}});
  c.push_back({"restart", "restart NAME [--state_dir=DIR]",
               "restart one process of the `up` topology on its ports",
               "Asks the supervisor to restart NAME (replay, learner, actor-N, evaluator):\n"
               "SIGTERM, SIGKILL after --timeout_s, and a new process on the same ports at\n"
               "once. Waits until it serves and prints its pid. Also starts a process that\n"
               "exited with status 0 or waits for its next restart.",
               1, 1,
               {StateDirFlag(),
                {"timeout_s", Kind::kInt, "10", "grace period before SIGKILL"},
                {"wait_s", Kind::kInt, "90", "how long to wait for the new process to serve"}}});
  c.push_back({"submit", "submit FILE [--address=HOST:PORT]", "submit a job file",
               "Checks the job file (text-format or JSON JobSpec) locally, then submits it\n"
               "to the learner. Prints the job name.",
               1, 1, WithSecurity({AddressFlag(), StateDirFlag()})});
  c.push_back({"status", "status [JOB] [--address=HOST:PORT] [--output=json]",
               "show one job (or all jobs)",
               "Prints a status line per job: state, env steps, episodes, mean return,\n"
               "last evaluation, policy version. Without JOB and --address, first the\n"
               "processes of --state_dir's topology: pid, port, restart count, state (and\n"
               "the monitor's URL). --output=json prints the same as one JSON object\n"
               "{\"topology\": ..., \"jobs\": [...]} (docs/operations.md).",
               0, 1, WithSecurity({AddressFlag(), StateDirFlag(), OutputFlag()})});
  c.push_back({"list", "list [--address=HOST:PORT] [--output=json]", "list all jobs",
               "Prints a status line per job (--output=json: {\"jobs\": [...]}).", 0, 0,
               WithSecurity({AddressFlag(), StateDirFlag(), OutputFlag()})});
  c.push_back({"plot", "plot JOB [--svg=PATH] [--address=HOST:PORT]",
               "draw a job's learning curve as an SVG",
               "Writes an SVG of JOB's learning curve: the evaluator's mean greedy return\n"
               "(eval_curve.csv, with its min..max band) and the training return recorded\n"
               "while `rlctl watch` or `rlctl run` followed the job (train_return.csv),\n"
               "against env steps learned, with the stop rule's target_eval_return as a\n"
               "dashed line. Prints the SVG's path. The job is asked of the learner, or,\n"
               "when no topology runs, read from the learner's registry\n"
               "(<checkpoint_dir>/jobs.textproto), so it works after `rlctl down` too.",
               1, 1,
               WithSecurity({AddressFlag(), StateDirFlag(),
                {"svg", Kind::kString, "<out_dir>/<job>/learning_curve.svg", "where to write it"},
                {"out_dir", Kind::kString, "the topology's, else <state_dir>/out",
                 "evaluator output (<job>/eval_curve.csv)"},
                {"checkpoint_dir", Kind::kString, "<state_dir>/checkpoints",
                 "the learner registry to read when no topology runs"}})});
  c.push_back({"watch", "watch JOB [--address=HOST:PORT]", "follow a job until it ends",
               "Shows live progress (steps/s, episodes, mean return, latest evaluation,\n"
               "policy lag, version) until the job ends, then a summary. Exit status 0 if\n"
               "the job SUCCEEDED, 1 otherwise. On a local topology it records the\n"
               "training return it is sent in <out_dir>/<job>/train_return.csv (for plot).",
               1, 1,
               WithSecurity({AddressFlag(), StateDirFlag(),
                {"interval_ms", Kind::kInt, "500 on a terminal, 5000 otherwise",
                 "between progress updates"}})});
  c.push_back({"cancel", "cancel JOB [--address=HOST:PORT]", "cancel a queued or running job",
               "Stops the job; its checkpoint and curve are kept.", 1, 1,
               WithSecurity({AddressFlag(), StateDirFlag()})});
  c.push_back({"health", "health HOST:PORT [--timeout_ms=N]", "check a server's gRPC health",
               "Calls grpc.health.v1.Health/Check on HOST:PORT. Exit status 0 when the server\n"
               "answers SERVING, 1 otherwise (used by container health checks).",
               1, 1, WithSecurity({{"timeout_ms", Kind::kInt, "2000", "deadline of the check"}})});
  std::vector<FlagSpec> run_flags = UpFlags();
  run_flags.push_back({"interval_ms", Kind::kInt, "500 on a terminal, 5000 otherwise",
                       "between progress updates"});
  run_flags.push_back({"svg", Kind::kString, "<out_dir>/<job>/learning_curve.svg",
                       "the learning curve written at the end"});
  c.push_back({"run", "run FILE [--actors=N] [flags]", "up + submit + watch + down",
               "Starts a local topology (as `up`), submits FILE, watches it to the end,\n"
               "writes its learning curve (as `rlctl plot`) and prints the SVG's path, and\n"
               "stops the topology again (also on failure or Ctrl-C). Exit status as watch's.",
               1, 1, run_flags});
  std::vector<FlagSpec> supervise_flags = UpFlags();
  supervise_flags.push_back({"timeout_s", Kind::kInt, "10", "grace period per group on SIGTERM"});
  supervise_flags.push_back(
      {"ready_fd", Kind::kInt, "-1", "(set by `up`) pipe that gets the start-up result"});
  c.push_back({"supervise", "supervise [--state_dir=DIR] [flags]",
               "(run by `up`) start and supervise the topology in the foreground",
               "Starts the topology as `up` describes and supervises it until `rlctl down`,\n"
               "SIGTERM or SIGINT: a crashed process is restarted with backoff on the ports\n"
               "it first bound. `up` runs it in the background; run it yourself to keep it\n"
               "in the foreground (e.g. under a service manager). Its log lines go to\n"
               "stderr.",
               0, 0, supervise_flags});
  return c;
}

const FlagSpec* FindFlag(const CommandSpec& command, const std::string& name) {
  for (const FlagSpec& f : command.flags) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

}  // namespace

const std::vector<CommandSpec>& Commands() {
  static const auto* commands = new std::vector<CommandSpec>(MakeCommands());
  return *commands;
}

const CommandSpec* FindCommand(const std::string& name) {
  for (const CommandSpec& c : Commands()) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

std::string CommandLine::GetString(const std::string& flag, const std::string& fallback) const {
  auto it = flags.find(flag);
  return it == flags.end() ? fallback : it->second;
}

int64_t CommandLine::GetInt(const std::string& flag, int64_t fallback) const {
  auto it = flags.find(flag);
  int64_t v = 0;
  if (it == flags.end() || !absl::SimpleAtoi(it->second, &v)) return fallback;
  return v;
}

bool CommandLine::GetBool(const std::string& flag) const {
  auto it = flags.find(flag);
  return it != flags.end() && it->second == "true";
}

absl::StatusOr<CommandLine> ParseCommandLine(const std::vector<std::string>& args) {
  CommandLine out;
  const CommandSpec* command = nullptr;
  auto error = [&](const std::string& what) {
    const std::string prefix = command ? command->name + ": " : "";
    const std::string see = command ? absl::StrCat("rlctl ", command->name, " --help") : "rlctl --help";
    return absl::InvalidArgumentError(absl::StrCat(prefix, what, " (see ", see, ")"));
  };
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    const bool help_word = a == "help" && command == nullptr;
    if (a == "-h" || a == "--help" || a == "-help" || help_word) {
      out.help = true;
      continue;
    }
    if (absl::StartsWith(a, "-") && a.size() > 1) {
      if (command == nullptr) return error(absl::StrCat("flag ", a, " before the command"));
      std::string body = a.substr(absl::StartsWith(a, "--") ? 2 : 1);
      std::string name = body, value;
      bool has_value = false;
      if (size_t eq = body.find('='); eq != std::string::npos) {
        name = body.substr(0, eq);
        value = body.substr(eq + 1);
        has_value = true;
      }
      const FlagSpec* flag = FindFlag(*command, name);
      if (flag == nullptr) return error(absl::StrCat("unknown flag --", name));
      if (flag->kind == Kind::kBool) {
        if (!has_value) value = "true";
        if (value == "1") value = "true";
        if (value == "0") value = "false";
        if (value != "true" && value != "false") {
          return error(absl::StrCat("--", name, " takes true or false, got '", value, "'"));
        }
      } else if (!has_value) {
        if (i + 1 >= args.size()) return error(absl::StrCat("--", name, " needs a value"));
        value = args[++i];
      }
      if (flag->kind == Kind::kInt) {
        int64_t v = 0;
        if (!absl::SimpleAtoi(value, &v)) {
          return error(absl::StrCat("--", name, " takes an integer, got '", value, "'"));
        }
      }
      out.flags[name] = value;
      continue;
    }
    if (command == nullptr) {
      command = FindCommand(a);
      out.command = a;
      if (command == nullptr) {
        return absl::InvalidArgumentError(
            absl::StrCat("unknown command '", a, "' (see rlctl --help)"));
      }
      continue;
    }
    out.positional.push_back(a);
  }
  if (out.help) return out;
  if (command == nullptr) return error("no command given");
  const int n = static_cast<int>(out.positional.size());
  if (n < command->min_positional) return error(absl::StrCat("missing argument: usage rlctl ", command->usage));
  if (n > command->max_positional) {
    return error(absl::StrCat("unexpected argument '", out.positional[command->max_positional], "'"));
  }
  return out;
}

std::string TopLevelHelp() {
  std::string s =
      "rlctl: the front door of the rlx distributed RL platform.\n\n"
      "usage: rlctl COMMAND [ARGS] [--flag=value ...]\n\ncommands:\n";
  for (const CommandSpec& c : Commands()) {
    absl::StrAppendFormat(&s, "  %-10s %s\n", c.name, c.summary);
  }
  s += "\nJob commands talk to --address=HOST:PORT (a compose cluster's learner is\n"
       "HOST:50052), or to the learner that `rlctl up` started (found in --state_dir,\n"
       "default .rlx). Operating the `up` topology: docs/operations.md.\n"
       "`rlctl COMMAND --help` describes a command and its flags.\n";
  return s;
}

std::string CommandHelp(const CommandSpec& command) {
  std::string s = absl::StrCat("usage: rlctl ", command.usage, "\n\n", command.description, "\n");
  if (!command.flags.empty()) s += "\nflags:\n";
  for (const FlagSpec& f : command.flags) {
    const char* kind = f.kind == Kind::kInt ? "=N" : f.kind == Kind::kString ? "=VALUE" : "";
    absl::StrAppendFormat(&s, "  --%s%s\n      %s (default: %s)\n", f.name, kind, f.help,
                          f.default_text);
  }
  return s;
}

}  // namespace rlx::cli
