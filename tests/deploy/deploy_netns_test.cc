// Multi-host deployment: replay server, learner and two actors each in its own
// network namespace ("host"), joined by veth pairs to a bridge that lives in
// a namespace of its own, addressed in 10.213.0.0/24 (these addresses exist
// only inside the test's namespaces; the host's network is not touched). The
// processes bind their host's address (not 0.0.0.0) on the fixed ports of
// deploy/docker-compose.yml and reach each other by address, as on separate
// machines, over TLS with tokens as in the compose file (secrets from
// deploy/make-secrets.sh). A short CartPole job is submitted from an actor's
// host and must finish, through network faults: an actor's link shaped (tc
// tbf; netem delay and loss where the kernel has it) and the learner's link
// cut for 3 s and restored.
//
// Needs root (ip netns add); skips with a message otherwise. The namespaces
// are deleted at the end, also on failure.
#include <gtest/gtest.h>
#include <signal.h>

#include "deploy_util.h"

namespace rlx::deploy {
namespace {

constexpr char kReplayAddr[] = "10.213.0.11";
constexpr char kLearnerAddr[] = "10.213.0.12";

// Owns the namespaces; deletes them (and so the veths and the bridge) when
// destroyed.
class Namespaces {
 public:
  explicit Namespaces(std::string ip) : ip_(std::move(ip)) {}
  ~Namespaces() {
    for (auto it = names_.rbegin(); it != names_.rend(); ++it) {
      RunTool({ip_, "netns", "del", *it}, absl::Seconds(10));
    }
  }
  // ip netns add; false (with the output) when not permitted.
  bool Add(const std::string& name, std::string* error) {
    RunTool({ip_, "netns", "del", name}, absl::Seconds(10));  // a leftover of a crashed run
    RunResult r = RunTool({ip_, "netns", "add", name}, absl::Seconds(10));
    if (r.exit_code != 0) {
      *error = r.output;
      return false;
    }
    names_.push_back(name);
    return true;
  }
  // Runs `ip ARGS...`; false (with the output) on failure.
  bool Ip(const std::vector<std::string>& args, std::string* error) {
    std::vector<std::string> argv = {ip_};
    argv.insert(argv.end(), args.begin(), args.end());
    RunResult r = RunTool(argv, absl::Seconds(10));
    if (r.exit_code != 0) {
      *error = absl::StrCat(absl::StrJoin(argv, " "), ": ", r.output);
      return false;
    }
    return true;
  }

 private:
  std::string ip_;
  std::vector<std::string> names_;
};

TEST(DeployNetnsTest, TrainsAcrossNetworkNamespaces) {
  if (::geteuid() != 0) GTEST_SKIP() << "network namespaces need root; skipping the multi-host test";
  RLX_REQUIRE_TOOL(ip, "ip");
  const std::string dir = MakeTempDir("deploy_netns");
  const std::string tag = absl::StrCat("rlxt", ::getpid());
  const std::string bridge_ns = tag + "br";
  struct Host {
    std::string ns, addr;
  };
  const std::vector<Host> hosts = {{tag + "rp", kReplayAddr},
                                   {tag + "ln", kLearnerAddr},
                                   {tag + "a0", "10.213.0.21"},
                                   {tag + "a1", "10.213.0.22"}};

  // Declared before the processes: destroyed (namespaces deleted) after them.
  Namespaces netns(*ip);
  std::string error;
  if (!netns.Add(bridge_ns, &error)) {
    GTEST_SKIP() << "`ip netns add` is not permitted here (" << error
                 << "); skipping the multi-host test";
  }
  auto setup = [&]() -> bool {
    if (!netns.Ip({"-n", bridge_ns, "link", "add", "br0", "type", "bridge"}, &error)) return false;
    if (!netns.Ip({"-n", bridge_ns, "link", "set", "br0", "up"}, &error)) return false;
    for (size_t i = 0; i < hosts.size(); ++i) {
      const Host& h = hosts[i];
      const std::string port = absl::StrCat("p", i);
      if (!netns.Add(h.ns, &error)) return false;
      if (!netns.Ip({"-n", bridge_ns, "link", "add", port, "type", "veth", "peer", "name", "eth0",
                     "netns", h.ns},
                    &error)) {
        return false;
      }
      if (!netns.Ip({"-n", bridge_ns, "link", "set", port, "master", "br0"}, &error)) return false;
      if (!netns.Ip({"-n", bridge_ns, "link", "set", port, "up"}, &error)) return false;
      if (!netns.Ip({"-n", h.ns, "addr", "add", h.addr + "/24", "dev", "eth0"}, &error)) return false;
      if (!netns.Ip({"-n", h.ns, "link", "set", "eth0", "up"}, &error)) return false;
      if (!netns.Ip({"-n", h.ns, "link", "set", "lo", "up"}, &error)) return false;
    }
    return true;
  };
  if (!setup()) GTEST_SKIP() << "could not build the veth/bridge network: " << error;

  // Starts a binary inside a namespace and waits for its port file.
  std::vector<Proc> procs;
  auto start = [&](const Host& h, const std::string& binary, const std::string& name,
                   std::vector<std::string> flags) -> bool {
    const std::string pf = absl::StrCat(dir, "/", name, ".port");
    std::vector<std::string> argv = {*ip, "netns", "exec", h.ns, BinaryPath(binary),
                                     "--port_file=" + pf};
    argv.insert(argv.end(), flags.begin(), flags.end());
    auto p = Subprocess::Start(argv, absl::StrCat(dir, "/", name, ".log"));
    if (!p.ok()) return false;
    procs.push_back(Proc{name, std::move(*p)});
    return WaitForFileContents(pf, absl::Seconds(60)).ok();
  };
  const std::string replay = absl::StrCat(kReplayAddr, ":50051");
  const std::string learner = absl::StrCat(kLearnerAddr, ":50052");
  // Certificates naming the hosts' addresses, and the role tokens.
  const std::string pki = dir + "/secrets";
  RunResult secrets = RunTool({"/bin/bash", SourceDir() + "/deploy/make-secrets.sh", pki,
                               kReplayAddr, kLearnerAddr},
                              absl::Seconds(60));
  ASSERT_EQ(secrets.exit_code, 0) << secrets.output;
  const std::vector<std::string> serve = {"--tls_cert=" + pki + "/server.pem",
                                          "--tls_key=" + pki + "/server.key",
                                          "--tokens_file=" + pki + "/tokens",
                                          "--write_grant_key_file=" + pki + "/grant.key"};
  auto with = [](std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  };
  const std::string ca = "--tls_ca=" + pki + "/ca.pem";
  ASSERT_TRUE(start(hosts[0], "replay_server", "replay",
                    with({absl::StrCat("--host=", kReplayAddr), "--port=50051", "--metrics_port=9101",
                          "--checkpoint_dir=" + dir + "/replay"},
                         serve)))
      << "replay_server did not start; see " << dir << "/replay.log";
  ASSERT_TRUE(start(hosts[1], "learner", "learner",
                    with({absl::StrCat("--host=", kLearnerAddr), "--port=50052", "--metrics_port=9102",
                          "--replay=" + replay, "--checkpoint_dir=" + dir + "/learner", ca,
                          "--token_file=" + pki + "/learner.token"},
                         serve)))
      << "learner did not start; see " << dir << "/learner.log";
  for (int i = 0; i < 2; ++i) {
    const std::string name = absl::StrCat("actor", i);
    ASSERT_TRUE(start(hosts[2 + i], "actor", name,
                      {"--learner=" + learner, "--replay=" + replay, "--name=" + name,
                       "--metrics_host=" + hosts[2 + i].addr, "--metrics_port=9104", ca,
                       "--token_file=" + pki + "/worker.token"}))
        << name << " did not start; see " << dir << "/" << name << ".log";
  }
  const std::string operator_token = "--token_file=" + pki + "/operator.token";

  // Submit from an actor's host (a client on another machine), then follow it.
  const std::string job_file = dir + "/multihost.textproto";
  ASSERT_TRUE(WriteStringAtomically(job_file,
                                    "name: \"multihost\"\n"
                                    "algorithm: \"stream_ac\"\n"
                                    "env: \"CartPole-v1\"\n"
                                    "num_actors: 2\n"
                                    "seed: 7\n"
                                    "publish_every: 10\n"
                                    "table_max_size: 256\n"
                                    "max_policy_lag: 32\n"
                                    "stop { max_env_steps: 300000 }\n")
                  .ok());
  const std::string rlctl = BinaryPath("rlctl");
  // Without the CA and a token the learner is out of reach.
  RunResult plain = RunTool({*ip, "netns", "exec", hosts[2].ns, rlctl, "submit", job_file,
                             "--address=" + learner},
                            absl::Seconds(30));
  EXPECT_NE(plain.exit_code, 0) << plain.output;
  RunResult submit = RunTool({*ip, "netns", "exec", hosts[2].ns, rlctl, "submit", job_file,
                              "--address=" + learner, ca, operator_token},
                             absl::Seconds(30));
  ASSERT_EQ(submit.exit_code, 0) << submit.output;

  // Network faults while the job runs: actor 0's link shaped (token bucket:
  // 512 kbit/s, up to 200 ms of queueing; plus netem delay and loss where
  // the kernel has it), then the learner's link cut for 3 s and restored.
  // The job slows down but finishes.
  auto steps = [&]() -> int64_t {
    RunResult r = RunTool({*ip, "netns", "exec", hosts[2].ns, rlctl, "status", "multihost",
                           "--address=" + learner, ca, operator_token},
                          absl::Seconds(20));
    const size_t at = r.output.find("steps=");
    int64_t n = -1;
    if (at != std::string::npos) {
      (void)absl::SimpleAtoi(r.output.substr(at + 6, r.output.find_first_not_of("0123456789", at + 6) - at - 6), &n);
    }
    return n;
  };
  WaitFor([&] { return steps() >= 2000; }, absl::Seconds(60));
  std::string fault_error;
  const int64_t before_faults = steps();
  const absl::Time shaped_at = absl::Now();
  ASSERT_TRUE(netns.Ip({"-n", bridge_ns, "link", "set", "p2", "up"}, &fault_error));
  RunResult tbf = RunTool({*ip, "netns", "exec", bridge_ns, "tc", "qdisc", "replace", "dev", "p2",
                           "root", "tbf", "rate", "512kbit", "burst", "16kbit", "latency", "200ms"},
                          absl::Seconds(10));
  RunResult netem = RunTool({*ip, "netns", "exec", hosts[2].ns, "tc", "qdisc", "replace", "dev",
                             "eth0", "root", "netem", "delay", "20ms", "5ms", "loss", "1%"},
                            absl::Seconds(10));
  std::printf("network faults: tbf on actor0's link: %s; netem delay 20 ms, loss 1%% on actor0: %s\n",
              tbf.exit_code == 0 ? "on" : ("unavailable (" + tbf.output + ")").c_str(),
              netem.exit_code == 0 ? "on" : "unavailable in this kernel, skipped");
  absl::SleepFor(absl::Seconds(3));
  ASSERT_TRUE(netns.Ip({"-n", bridge_ns, "link", "set", "p1", "down"}, &fault_error))
      << fault_error;
  const absl::Time cut_at = absl::Now();
  absl::SleepFor(absl::Seconds(3));
  ASSERT_TRUE(netns.Ip({"-n", bridge_ns, "link", "set", "p1", "up"}, &fault_error)) << fault_error;
  const absl::Duration cut_for = absl::Now() - cut_at;
  const int64_t after_cut = steps();
  std::printf("network faults: from %lld steps: actor0 shaped for %.1f s, then the learner's link "
              "cut for %.1f s and restored; %lld steps just after\n",
              static_cast<long long>(before_faults), absl::ToDoubleSeconds(cut_at - shaped_at),
              absl::ToDoubleSeconds(cut_for), static_cast<long long>(after_cut));
  EXPECT_LT(after_cut, 300000) << "the job ended before the faults were over: make it longer";
  RunTool({*ip, "netns", "exec", bridge_ns, "tc", "qdisc", "del", "dev", "p2", "root"},
          absl::Seconds(10));
  RunTool({*ip, "netns", "exec", hosts[2].ns, "tc", "qdisc", "del", "dev", "eth0", "root"},
          absl::Seconds(10));

  RunResult watch = RunTool({*ip, "netns", "exec", hosts[3].ns, rlctl, "watch", "multihost",
                             "--address=" + learner, ca, operator_token},
                            absl::Seconds(150));
  RunResult status = RunTool({*ip, "netns", "exec", hosts[2].ns, rlctl, "status", "multihost",
                              "--address=" + learner, ca, operator_token},
                             absl::Seconds(20));
  EXPECT_EQ(watch.exit_code, 0) << "job did not succeed (-1 = timed out):\n"
                                << watch.output << "\n" << status.output << "\nlogs in " << dir;
  EXPECT_NE(status.output.find("SUCCEEDED"), std::string::npos) << status.output;
  EXPECT_NE(status.output.find("steps=300000"), std::string::npos) << status.output;

  // Each process's /metrics answers across the network (what Prometheus on
  // another host scrapes).
  if (auto curl = FindTool("curl")) {
    for (const auto& [host, port] : std::vector<std::pair<std::string, int>>{
             {kReplayAddr, 9101}, {kLearnerAddr, 9102}, {"10.213.0.21", 9104}, {"10.213.0.22", 9104}}) {
      RunResult m = RunTool({*ip, "netns", "exec", hosts[1].ns, *curl, "-sf", "--max-time", "5",
                             absl::StrCat("http://", host, ":", port, "/metrics")},
                            absl::Seconds(10));
      EXPECT_EQ(m.exit_code, 0) << host << ":" << port << " " << m.output;
      EXPECT_NE(m.output.find("rl_"), std::string::npos) << host << ":" << port;
    }
  }

  // Clean drain; the Subprocess destructors kill leftovers before the
  // namespaces are deleted.
  for (auto it = procs.rbegin(); it != procs.rend(); ++it) it->process.Signal(SIGTERM);
  for (auto& p : procs) {
    auto code = p.process.Wait(absl::Seconds(30));
    EXPECT_TRUE(code.has_value() && *code == 0) << p.tag << " did not exit cleanly";
  }
}

}  // namespace
}  // namespace rlx::deploy
