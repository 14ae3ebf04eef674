// rlctl's command line: "rlctl COMMAND [ARGS] [--flag=value ...]".
//
// Each command declares its flags (name, kind, default, help) and how many
// positional arguments it takes; ParseCommandLine checks the arguments
// against that table and returns a one-line error otherwise. Flags take
// "--name=value" or "--name value"; a bool flag may be bare ("--metrics").
// "-h" / "--help" anywhere asks for help. Stateless; no LibTorch.
#ifndef RLX_CLI_ARGS_H_
#define RLX_CLI_ARGS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace rlx::cli {

struct FlagSpec {
  enum class Kind { kString, kInt, kBool };
  std::string name;
  Kind kind = Kind::kString;
  std::string default_text;  // shown in help
  std::string help;
};

struct CommandSpec {
  std::string name;
  std::string usage;        // "submit FILE [flags]"
  std::string summary;      // one line, for the command list
  std::string description;  // longer text for "rlctl CMD --help"
  int min_positional = 0;
  int max_positional = 0;
  std::vector<FlagSpec> flags;
};

struct CommandLine {
  std::string command;  // empty: no command given
  std::vector<std::string> positional;
  std::map<std::string, std::string> flags;  // as given (bool flags: "true"/"false")
  bool help = false;

  bool Has(const std::string& flag) const { return flags.count(flag) > 0; }
  std::string GetString(const std::string& flag, const std::string& fallback) const;
  // The flag's value (validated by ParseCommandLine) or fallback.
  int64_t GetInt(const std::string& flag, int64_t fallback) const;
  bool GetBool(const std::string& flag) const;
};

// The commands rlctl knows, in help order.
const std::vector<CommandSpec>& Commands();
const CommandSpec* FindCommand(const std::string& name);

// args excludes argv[0]. Errors (INVALID_ARGUMENT) are one line, e.g.
// "up: unknown flag --actor (see rlctl up --help)".
absl::StatusOr<CommandLine> ParseCommandLine(const std::vector<std::string>& args);

std::string TopLevelHelp();
std::string CommandHelp(const CommandSpec& command);

}  // namespace rlx::cli

#endif  // RLX_CLI_ARGS_H_
