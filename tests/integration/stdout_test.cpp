// What triage prints on standard output is checked to have arrived: a full
// device (/dev/full) ends every command with exit code 70 and one line on
// stderr saying why, never with 0 and no report; a reader that went away
// (`triage list | head -1`) ends it quietly, killed by SIGPIPE (a shell
// shows 141), also when SIGPIPE was ignored by whoever started it.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <string>
#include <vector>

#include "helpers.hpp"

using triage::itest::describe;
using triage::itest::run_triage;
using triage::itest::RunEnv;
using triage::itest::RunResult;
using triage::itest::write_file;
using triage::test::TempDir;

namespace {

constexpr const char* kCannotWrite = "triage: cannot write to standard output: ";

std::size_t count_of(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

std::string loopback_config(const TempDir& dir) {
  return write_file(dir.path(), "lo.yaml", R"(checks:
  - id: lo
    plugin: network
    type: loopback
    params: { target: "127.0.0.1" }
)")
      .string();
}

}  // namespace

TEST_CASE("a full standard output ends every command with 70 and the reason", "[stdout]") {
  const TempDir dir;
  const std::string config = loopback_config(dir);
  RunEnv full;
  full.stdout_path = "/dev/full";

  // A saved report, for `triage report`.
  const auto saved = (dir.path() / "saved.json").string();
  const RunResult first = run_triage({"run", "-c", config, "-o", saved});
  INFO(describe(first));
  REQUIRE(first.exit_code == 0);

  const std::vector<std::vector<std::string>> commands{
      {"run", "-c", config, "-f", "json"},
      {"run", "-c", config},
      {"run", "-c", config, "-f", "nagios"},
      {"check", "network.loopback", "127.0.0.1", "-f", "junit"},
      {"list", "-c", config},
      {"list", "-c", config, "-f", "json"},
      {"plugins"},
      {"plugins", "-f", "json"},
      {"report", saved, "-f", "prometheus"},
      {"plugin", "info", std::string(TRIAGE_BINARY_DIR) + "/lib/triage/plugins/triage_network.so"},
      {"list", "--help"},
  };
  for (const auto& args : commands) {
    const RunResult r = run_triage(args, full);
    std::string line;
    for (const auto& a : args) line += a + " ";
    INFO("triage " << line << "\n" << describe(r));
    CHECK(r.exit_code == 70);
    CHECK(count_of(r.err, kCannotWrite) == 1);
    CHECK(count_of(r.err, std::string(kCannotWrite) + "No space left on device\n") == 1);
  }
}

TEST_CASE("a reader that went away ends triage quietly, killed by SIGPIPE", "[stdout]") {
  const TempDir dir;
  const std::string config = loopback_config(dir);
  for (const bool ignored : {false, true}) {
    RunEnv gone;
    gone.stdout_reader_gone = true;
    gone.sigpipe_ignored = ignored;
    for (const std::vector<std::string>& args : {std::vector<std::string>{"list", "-c", config},
                                                 {"plugins"},
                                                 {"run", "-c", config, "-f", "json"}}) {
      const RunResult r = run_triage(args, gone);
      INFO("SIGPIPE ignored: " << ignored << ", triage " << args[0] << "\n" << describe(r));
      CHECK(r.exit_code == 141);  // 128 + SIGPIPE
      CHECK(r.err.find(kCannotWrite) == std::string::npos);
    }
  }
}

TEST_CASE("-o to a FIFO nobody reads gives up at the first SIGTERM", "[stdout][fifo]") {
  const TempDir dir;
  const auto fifo = dir.path() / "report.json";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  RunEnv env;
  env.interrupt_on_stderr = "waiting for a reader of the FIFO";
  env.interrupt_signal = SIGTERM;
  env.limit = std::chrono::seconds(60);
  const RunResult r =
      run_triage({"run", "-c", loopback_config(dir), "-o", fifo.string(), "-f", "json"}, env);
  INFO(describe(r));
  // One signal is enough: the watchdog's -1 would mean the first was ignored.
  CHECK(r.exit_code == 130);
  CHECK(count_of(r.err, "gave up waiting for a reader of " + fifo.string()) == 1);
  CHECK(count_of(r.err, "triage: interrupted while writing the report") == 1);
  // The run itself was whole: its report still reached standard output.
  CHECK(triage::itest::parse_json(r.out).at("checks").at(0).at("status") == "ok");
}

TEST_CASE("-o to a FIFO with a reader writes the report into it", "[stdout][fifo]") {
  const TempDir dir;
  const auto fifo = dir.path() / "report.json";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  // A reader already there (non-blocking open, as `cat fifo &` would be).
  const int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  REQUIRE(reader >= 0);
  const RunResult r = run_triage({"run", "-c", loopback_config(dir), "-o", fifo.string()});
  std::string got;
  char buf[65536];
  for (ssize_t n; (n = ::read(reader, buf, sizeof buf)) > 0;)
    got.append(buf, static_cast<std::size_t>(n));
  ::close(reader);
  INFO(describe(r));
  CHECK(r.exit_code == 0);
  CHECK(r.err.find("waiting for a reader") == std::string::npos);
  CHECK(triage::itest::parse_json(got).at("checks").at(0).at("id") == "lo");
}
