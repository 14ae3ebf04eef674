// The layering rule of docs/architecture.md, read from the sources: process
// folders (learner/, actor/, evaluator/, cli/) hold a main and its
// orchestration; they never include each other, and from the replay server's
// folder they include only its client library. Shared code lives in the
// libraries below them (core/, envs/, models/, algorithms/, replay/ client).
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace rlx {
namespace {

const std::vector<std::string>& ProcessFolders() {
  static const std::vector<std::string> folders = {"learner", "actor", "evaluator", "cli",
                                                    "preference"};
  return folders;
}

// What a process folder may include from replay/: the client library.
const std::set<std::string>& ReplayClientHeaders() {
  static const std::set<std::string> headers = {"replay/client.h", "replay/item_batch.h"};
  return headers;
}

void ListSources(const std::string& dir, std::vector<std::string>* out) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return;
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    const std::string path = dir + "/" + name;
    struct stat st;
    if (stat(path.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      ListSources(path, out);
    } else if (absl::EndsWith(name, ".h") || absl::EndsWith(name, ".cc")) {
      out->push_back(path);
    }
  }
  closedir(d);
}

// "#include "x/y.h"" targets of a file, as written.
std::vector<std::string> Includes(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    const std::string key = "#include \"";
    if (!absl::StartsWith(line, key)) continue;
    const size_t end = line.find('"', key.size());
    if (end != std::string::npos) out.push_back(line.substr(key.size(), end - key.size()));
  }
  return out;
}

// The violations in one process folder, "file -> include" each.
std::vector<std::string> Violations(const std::string& root, const std::string& folder) {
  std::vector<std::string> files, bad;
  ListSources(root + "/" + folder, &files);
  for (const std::string& file : files) {
    for (const std::string& inc : Includes(file)) {
      const std::string top = inc.substr(0, inc.find('/'));
      const bool other_process = top != folder && std::find(ProcessFolders().begin(),
                                                            ProcessFolders().end(),
                                                            top) != ProcessFolders().end();
      const bool replay_internal = top == "replay" && ReplayClientHeaders().count(inc) == 0;
      if (other_process || replay_internal) {
        bad.push_back(absl::StrCat(file.substr(root.size() + 1), " -> ", inc));
      }
    }
  }
  return bad;
}

TEST(IncludeRuleTest, ProcessFoldersIncludeNoOtherProcessFolder) {
  const std::string root = RLX_SOURCE_DIR;
  int files = 0;
  for (const std::string& folder : ProcessFolders()) {
    std::vector<std::string> sources;
    ListSources(root + "/" + folder, &sources);
    files += static_cast<int>(sources.size());
    const std::vector<std::string> bad = Violations(root, folder);
    EXPECT_TRUE(bad.empty()) << folder << "/ includes across a process line:\n  "
                             << absl::StrJoin(bad, "\n  ");
  }
  EXPECT_GT(files, 20);  // the folders were found
}

// Every include of the files under root/folder for which `bad` holds.
std::vector<std::string> Matching(const std::string& root, const std::string& folder,
                                  const std::function<bool(const std::string&)>& bad) {
  std::vector<std::string> files, out;
  ListSources(root + "/" + folder, &files);
  for (const std::string& file : files) {
    for (const std::string& inc : Includes(file)) {
      if (bad(inc)) out.push_back(absl::StrCat(file.substr(root.size() + 1), " -> ", inc));
    }
  }
  return out;
}

// Libraries sit below the processes: none includes a process folder.
TEST(IncludeRuleTest, LibrariesIncludeNoProcessFolder) {
  const std::string root = RLX_SOURCE_DIR;
  for (const std::string folder : {"core", "envs", "models", "algorithms", "runtime"}) {
    const std::vector<std::string> bad = Matching(root, folder, [](const std::string& inc) {
      const std::string top = inc.substr(0, inc.find('/'));
      return std::find(ProcessFolders().begin(), ProcessFolders().end(), top) !=
             ProcessFolders().end();
    });
    EXPECT_TRUE(bad.empty()) << folder << "/ includes a process folder:\n  "
                             << absl::StrJoin(bad, "\n  ");
  }
}

// Processes reach algorithms only through the platform's interfaces
// (algorithms/*.h: the registry, the interfaces, job files, seeds), never an
// algorithm family's own headers (algorithms/<family>/...): adding an
// algorithm changes no process folder.
TEST(IncludeRuleTest, ProcessesUseAlgorithmsOnlyThroughTheRegistry) {
  const std::string root = RLX_SOURCE_DIR;
  for (const std::string& folder : ProcessFolders()) {
    const std::vector<std::string> bad = Matching(root, folder, [](const std::string& inc) {
      return absl::StartsWith(inc, "algorithms/") &&
             inc.find('/', std::string("algorithms/").size()) != std::string::npos;
    });
    EXPECT_TRUE(bad.empty()) << folder << "/ includes an algorithm family's header:\n  "
                             << absl::StrJoin(bad, "\n  ");
  }
}

// The check itself: a planted violation is reported.
TEST(IncludeRuleTest, APlantedViolationIsFound) {
  char tmpl[] = "/tmp/include_rule_XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string root = tmpl;
  ASSERT_EQ(mkdir((root + "/actor").c_str(), 0755), 0);
  std::ofstream(root + "/actor/bad.cc") << "#include \"learner/job_run.h\"\n"
                                        << "#include \"replay/table.h\"\n"
                                        << "#include \"replay/client.h\"\n"
                                        << "#include \"algorithms/job_spec.h\"\n";
  const std::vector<std::string> bad = Violations(root, "actor");
  ASSERT_EQ(bad.size(), 2u) << absl::StrJoin(bad, "; ");
  EXPECT_EQ(bad[0], "actor/bad.cc -> learner/job_run.h");
  EXPECT_EQ(bad[1], "actor/bad.cc -> replay/table.h");
}

}  // namespace
}  // namespace rlx
