// Input a careless operator or a hostile user gives triage: configs that
// expand to billions of values, endless or huge files, ids that would
// overflow a regex, a 3 MB unknown key, standard descriptors closed at
// start. Each ends with a clear error (or a normal run), never a crash, a
// hang or gigabytes of memory.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <functional>
#include <string>

#include "helpers.hpp"

using triage::itest::describe;
using triage::itest::parse_json;
using triage::itest::read_file;
using triage::itest::run_triage;
using triage::itest::RunResult;
using triage::itest::write_file;
using triage::test::TempDir;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// `triage run` and `triage list` both refuse the config with exit 78 and
// an error containing `what`.
void refused(const std::string& file, const std::string& what) {
  for (const char* command : {"run", "list"}) {
    const RunResult r = run_triage({command, "-c", file});
    INFO(command << ": " << describe(r).substr(0, 2000));
    CHECK(r.exit_code == 78);
    CHECK(contains(r.err, what));
    CHECK(r.out.empty());
  }
}

// The billion laughs: nine levels of nine aliases, 9^9 values in ~700 bytes.
std::string laughs() {
  std::string yaml = "l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  for (int i = 1; i <= 9; ++i) {
    const std::string prev = "*l" + std::to_string(i - 1);
    yaml += "l" + std::to_string(i) + ": &l" + std::to_string(i) + " [";
    for (int k = 0; k < 9; ++k) yaml += (k ? ", " : "") + prev;
    yaml += "]\n";
  }
  return yaml;
}

// Runs triage in a child that `prepare`s itself first (closes descriptors,
// lowers a limit), with stdin, stdout and stderr on /dev/null; its exit
// status.
int run_prepared(const std::vector<std::string>& args, const std::function<void()>& prepare) {
  std::vector<std::string> argv_text{triage::itest::triage_binary().string()};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_text) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int null = ::open("/dev/null", O_RDWR);
    for (int fd = 0; fd <= 2; ++fd) ::dup2(null, fd);
    if (null > 2) ::close(null);
    prepare();
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Runs triage with its standard descriptors `closed` (0, 1, 2) closed.
int run_with_closed(const std::vector<std::string>& args, const std::vector<int>& closed) {
  return run_prepared(args, [&] {
    for (int fd : closed) ::close(fd);
  });
}

// Runs 40 loopback checks (default jobs: 64 at once) with `resource`
// limited to `limit` (soft and hard, so triage cannot raise it): all ok,
// and the report written.
void forty_loopback_checks_pass_under(decltype(RLIMIT_AS) resource, rlim_t limit) {
  const TempDir dir;
  std::string targets;
  for (int i = 1; i <= 40; ++i)
    targets += (i > 1 ? ", " : "") + std::string("127.0.0.") + std::to_string(i);
  const auto config =
      write_file(
          dir.path(), "c.yaml",
          "checks:\n  - { id: lo, plugin: network, type: loopback, targets: [" + targets + "] }\n")
          .string();
  const auto report = (dir.path() / "r.json").string();
  const int code = run_prepared({"run", "-c", config, "-o", report}, [=] {
    const rlimit low{limit, limit};
    ::setrlimit(resource, &low);
  });
  CHECK(code == 0);
  const auto saved = parse_json(read_file(report));
  CHECK(saved.at("summary").at("counts").at("ok") == 40);
}

}  // namespace

TEST_CASE("a config whose aliases expand to billions of values is refused", "[hostile][config]") {
  const TempDir dir;
  const std::string yaml =
      "checks:\n  - id: bomb\n    plugin: network\n    type: loopback\n"
      "    params:\n      target: 127.0.0.1\n      laughs:\n" +
      [] {
        std::string indented;
        const std::string text = laughs();
        std::size_t start = 0;
        for (auto nl = text.find('\n'); nl != std::string::npos;
             start = nl + 1, nl = text.find('\n', start))
          indented += "        " + text.substr(start, nl - start + 1);
        return indented;
      }();
  REQUIRE(yaml.size() < 1200);
  const auto file = write_file(dir.path(), "bomb.yaml", yaml).string();
  refused(file, "params expand to more than 100000 values");
  refused(file, file + ":");
}

TEST_CASE("params nested past 64 levels are refused (found by fuzz_config)", "[hostile][config]") {
  const TempDir dir;
  const auto file =
      write_file(dir.path(), "deep.yaml",
                 "checks:\n  - { id: d, plugin: network, type: loopback, params: { x: " +
                     std::string(100, '[') + std::string(100, ']') + " } }\n");
  refused(file.string(), "params nest deeper than 64 levels");
}

TEST_CASE("a config must be a regular file of at most 4 MiB", "[hostile][config]") {
  const TempDir dir;
  SECTION("a device is refused at once, not read without end") {
    refused("/dev/zero", "/dev/zero: is not a regular file");
  }
  SECTION("a FIFO is refused at once, not waited on") {
    const auto fifo = dir.path() / "config.fifo";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    refused(fifo.string(), "is not a regular file");
  }
  SECTION("a file past the limit") {
    const auto big =
        write_file(dir.path(), "big.yaml", "# " + std::string(5u << 20, 'x') + "\nchecks: []\n");
    refused(big.string(), "the config is larger than 4 MiB");
  }
  SECTION("standard input past the limit") {
    triage::itest::RunEnv env;
    env.stdin_text = "# " + std::string(5u << 20, 'x') + "\n";
    const RunResult r = run_triage({"list", "-c", "-"}, env);
    CHECK(r.exit_code == 78);
    CHECK(contains(r.err, "<stdin>: the config is larger than 4 MiB"));
  }
}

TEST_CASE("a 30 kB id or number is an error, not a stack overflow", "[hostile][config]") {
  const TempDir dir;
  const auto long_id = write_file(dir.path(), "id.yaml",
                                  "checks:\n  - id: " + std::string(30000, 'a') +
                                      "X\n    plugin: network\n    type: loopback\n");
  refused(long_id.string(), "is not a valid id");
  const auto long_number =
      write_file(dir.path(), "n.yaml",
                 "checks:\n  - id: n\n    plugin: network\n    type: loopback\n"
                 "    params: { target: 127.0.0.1, x: " +
                     std::string(30000, '7') + ".5 }\n");
  const RunResult r = run_triage({"list", "-c", long_number.string()});
  INFO(describe(r).substr(0, 2000));
  CHECK(r.exit_code == 78);  // refused by the schema (no param x), not a crash
}

TEST_CASE("a 30 kB value checked against a schema pattern is refused, not a crash",
          "[hostile][config]") {
  const TempDir dir;
  const auto file = write_file(dir.path(), "p.yaml",
                               "checks:\n  - id: h\n    plugin: network\n    type: http\n"
                               "    params: { target: 'http://127.0.0.1:1/', method: " +
                                   std::string(30000, 'G') + " }\n");
  refused(file.string(),
          "checks[h].params.method: a string of 30000 bytes is longer than the "
          "4096 bytes its schema's pattern is checked on");
}

TEST_CASE("a 3 MB unknown key is named, cut, without a suggestion", "[hostile][config]") {
  // (Before: "did you mean" built a key x candidate table, 1 GB for 10 MB.)
  const TempDir dir;
  const auto file =
      write_file(dir.path(), "key.yaml", "checks: []\n? " + std::string(3u << 20, 'k') + "\n: 1\n");
  const RunResult r = run_triage({"list", "-c", file.string()});
  CHECK(r.exit_code == 78);
  CHECK(contains(r.err, "unknown key 'kkkk"));
  CHECK(contains(r.err, "... (3145728 bytes)'"));
  CHECK(r.err.size() < 1000);
}

TEST_CASE("closed standard descriptors are not reused for hosts or reports", "[hostile][stdio]") {
  const TempDir dir;
  const auto config =
      write_file(dir.path(), "c.yaml",
                 "checks:\n"
                 "  - { id: lo, plugin: network, type: loopback, params: { target: 127.0.0.1 } }\n"
                 "  - { id: closed, plugin: network, type: tcp, params: { target: "
                 "'127.0.0.1:1' } }\n")
          .string();
  const auto report = (dir.path() / "r.json").string();
  // stdout closed: a plugin host's socket would have been fd 1, and the
  // report written into it; the run's own status is the exit code.
  CHECK(run_with_closed({"run", "-c", config, "-f", "json"}, {1}) == 2);
  CHECK(run_with_closed({"run", "-c", config, "-o", report}, {1}) == 2);
  const auto saved = parse_json(read_file(report));
  CHECK(saved.at("summary").at("status") == "critical");
  // stderr closed with -v: no SIGPIPE, no lost run.
  CHECK(run_with_closed({"run", "-c", config, "-v", "-o", report}, {2}) == 2);
  CHECK(run_with_closed({"run", "-c", config, "-o", report}, {0, 1, 2}) == 2);
}

TEST_CASE("a target with URL credentials is refused, and never shown", "[hostile][secrets]") {
  const TempDir dir;
  const auto single = write_file(dir.path(), "one.yaml",
                                 "checks:\n  - id: api\n    plugin: network\n    type: http\n"
                                 "    params: { target: 'http://ops:hunter2@127.0.0.1:1/' }\n");
  refused(single.string(), "checks[api].params.target: a URL with credentials");
  const auto fan = write_file(dir.path(), "fan.yaml",
                              "checks:\n  - id: api\n    plugin: network\n    type: http\n"
                              "    targets: ['http://127.0.0.1:1/', "
                              "'https://ops:hunter2@127.0.0.1:2/x']\n");
  refused(fan.string(), "checks[api].targets[1]: a URL with credentials");
  for (const auto& file : {single, fan})
    for (const char* command : {"run", "list"}) {
      const RunResult r = run_triage({command, "-c", file.string()});
      CHECK_FALSE(contains(r.out + r.err, "hunter2"));
    }
  // From the environment, resolved after selection: refused the same way.
  const auto env = write_file(dir.path(), "env.yaml",
                              "checks:\n  - id: api\n    plugin: network\n    type: http\n"
                              "    params: { target: '${env:API_URL}' }\n");
  triage::itest::RunEnv with_url;
  with_url.set = {{"API_URL", "http://ops:hunter2@127.0.0.1:1/"}};
  const RunResult r = run_triage({"run", "-c", env.string()}, with_url);
  CHECK(r.exit_code == 78);
  CHECK(contains(r.err, "a URL with credentials"));
  CHECK_FALSE(contains(r.out + r.err, "hunter2"));
}

TEST_CASE("terminal escapes in a config never reach the terminal raw", "[hostile][escapes]") {
  const TempDir dir;
  const auto target =
      write_file(dir.path(), "t.yaml",
                 "checks:\n  - id: lo\n    plugin: network\n    type: loopback\n"
                 "    targets: [\"127.0.0.1\", \"\\e[2J\\e[H\\e[32mALL CHECKS OK\"]\n");
  refused(target.string(), "checks[lo].targets[1]: contains a control character");
  const auto key = write_file(dir.path(), "k.yaml", "checks: []\n\"\\e[2Jx\\u202E\": 1\n");
  refused(key.string(), "unknown key '\\x1b[2Jx<U+202E>'");
  const auto tag = write_file(dir.path(), "tag.yaml",
                              "checks:\n  - { id: lo, plugin: network, type: loopback, "
                              "tags: [\"\\e[2Jx\"], params: { target: 127.0.0.1 } }\n");
  refused(tag.string(), "checks[lo].tags[0]: contains a control character");
  for (const auto& file : {target, key, tag})
    for (const char* command : {"run", "list"}) {
      const RunResult r = run_triage({command, "-c", file.string()});
      CHECK(r.err.find('\x1b') == std::string::npos);
      CHECK(r.out.find('\x1b') == std::string::npos);
      CHECK(r.err.find("\xE2\x80\xAE") == std::string::npos);
    }
}

TEST_CASE("the same fan-out target twice is refused (ids are unique)", "[hostile][config]") {
  const TempDir dir;
  const auto file = write_file(dir.path(), "d.yaml",
                               "checks:\n  - id: lo\n    plugin: network\n    type: loopback\n"
                               "    targets: [127.0.0.1, 127.0.0.2, 127.0.0.1]\n");
  refused(file.string(), "checks[lo].targets[2]: the same target as targets[0]");
}

TEST_CASE("params that are not UTF-8 are a config error naming the key", "[hostile][config]") {
  const TempDir dir;
  const auto file = write_file(dir.path(), "u.yaml",
                               "checks:\n  - { id: l, plugin: network, type: loopback, "
                               "params: { target: 127.0.0.1, x: \"a\xff\xfe"
                               "b\" } }\n");
  refused(file.string(), "checks[l].params.x: is not valid UTF-8");
}

TEST_CASE("a report replacing a private one stays private", "[hostile][output]") {
  const TempDir dir;
  const auto config =
      write_file(dir.path(), "c.yaml",
                 "checks:\n  - { id: lo, plugin: network, type: loopback, params: { target: "
                 "127.0.0.1 } }\n")
          .string();
  const auto report = dir.path() / "private.json";
  write_file(dir.path(), "private.json", "{}");
  REQUIRE(::chmod(report.c_str(), 0600) == 0);
  const RunResult r = run_triage({"run", "-c", config, "-o", report.string()});
  CHECK(r.exit_code == 0);
  struct stat st {};
  REQUIRE(::stat(report.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0600);
  CHECK(contains(read_file(report), "\"lo\""));
}

TEST_CASE("with few file descriptors, checks run fewer at once instead of failing",
          "[hostile][limits]") {
  // A hard limit of 64 descriptors cannot be raised: 40 loopback checks at
  // the default 64 at once would run out of descriptors and fail healthy
  // targets; triage runs as many as fit, and all are ok.
  forty_loopback_checks_pass_under(RLIMIT_NOFILE, 64);
}

TEST_CASE("a secret equal to a word of triage list's output changes only the values",
          "[hostile][secrets]") {
  const TempDir dir;
  const auto file = write_file(dir.path(), "w.yaml",
                               "checks:\n  - id: web\n    plugin: network\n    type: tcp\n"
                               "    targets: ['${env:TRIAGE_IT_WORD}.example:443']\n");
  triage::itest::RunEnv env;
  env.set = {{"TRIAGE_IT_WORD", "plugin"}};
  const RunResult json = run_triage({"list", "-c", file.string(), "-f", "json"}, env);
  INFO(describe(json));
  REQUIRE(json.exit_code == 0);
  const auto listed = parse_json(json.out);
  CHECK(listed.at(0).at("plugin") == "network");
  CHECK(listed.at(0).at("target") == "***.example:443");
  const RunResult text = run_triage({"list", "-c", file.string()}, env);
  CHECK(contains(text.out, "web[***.example:443]"));
}

TEST_CASE("settings for a plugin that is not installed say so, with a suggestion",
          "[hostile][config]") {
  const TempDir dir;
  const auto file = write_file(dir.path(), "p.yaml",
                               "plugins: { netwrok: { memory_limit_mb: 256 } }\n"
                               "checks:\n  - { id: lo, plugin: network, type: loopback, params: "
                               "{ target: 127.0.0.1 } }\n");
  const RunResult r = run_triage({"run", "-c", file.string()});
  CHECK(r.exit_code == 0);
  CHECK(contains(r.err,
                 "plugins.netwrok: no plugin 'netwrok' was found (did you mean "
                 "'network'?); these settings do nothing"));
}

TEST_CASE("under ulimit -v the run fits its threads in, and the report is written",
          "[hostile][limits]") {
  // 300 MB of address space: 40 checks at once with glibc's 8 MiB stacks
  // would not fit (the core aborted with no report before).
  forty_loopback_checks_pass_under(RLIMIT_AS, 300u << 20);
}
