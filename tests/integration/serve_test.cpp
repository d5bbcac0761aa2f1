// `triage serve` as a service: the real binary started with posix_spawn on a
// free loopback port, its endpoints read over HTTP, signals sent to it, and
// a real Prometheus (Debian's /usr/bin/prometheus) scraping it every second.
// Every wait is a readiness poll with a generous bound (a watchdog, never a
// timing assertion).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "helpers.hpp"
#include "internal.hpp"

extern char** environ;

using triage::itest::describe;
using triage::itest::parse_json;
using triage::itest::read_file;
using triage::itest::run_triage;
using triage::itest::schema_errors;
using triage::itest::write_file;
using triage::test::free_port;
using triage::test::TempDir;

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr auto kPoll = 50ms;  // between two readiness probes
constexpr auto kReady = 60s;  // bound of every readiness wait (a watchdog)
constexpr auto kRequestTimeout = 10s;

// Polls fn until it returns true or `bound` passes.
bool poll_until(const std::function<bool()>& fn, std::chrono::milliseconds bound = kReady) {
  const auto deadline = Clock::now() + bound;
  for (;;) {
    if (fn()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(kPoll);
  }
}

struct Answer {
  int status = 0;  // 0: no answer
  std::string body;
};

// One HTTP/1.0 GET of 127.0.0.1:port (the server closes after answering),
// with an optional Authorization header.
Answer http_get(std::uint16_t port, const std::string& path,
                const std::string& authorization = {}) {
  Answer answer;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return answer;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return answer;
  }
  std::string request = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n";
  if (!authorization.empty()) request += "Authorization: " + authorization + "\r\n";
  request += "\r\n";
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    ::close(fd);
    return answer;
  }
  std::string raw;
  const auto deadline = Clock::now() + kRequestTimeout;
  char buffer[8192];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0) break;
    const auto n = ::read(fd, buffer, sizeof buffer);
    if (n <= 0) break;
    raw.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  const auto head_end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.", 0) != 0 || head_end == std::string::npos) return answer;
  answer.status = std::stoi(raw.substr(9, 3));
  answer.body = raw.substr(head_end + 4);
  return answer;
}

// `triage serve ARGS`, stderr into a log file; SIGKILLed and reaped by the
// destructor when still running.
class Serve {
 public:
  Serve(const std::filesystem::path& dir, std::vector<std::string> args) : log_(dir / "serve.log") {
    args.insert(args.begin(), {triage::itest::triage_binary().string(), "serve"});
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawnattr_t attr;
    triage::test::detail::init_service_attributes(attr);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    // Our environment minus what would change what triage finds.
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e)
      if (std::strncmp(*e, "TRIAGE_PLUGIN_PATH=", 19) != 0 &&
          std::strncmp(*e, "TRIAGE_CONFIG=", 14) != 0)
        env.emplace_back(*e);
    std::vector<char*> envp;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    const int rc = posix_spawn(&pid_, argv[0], &actions, &attr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0)
      throw std::runtime_error("cannot start triage serve: " + std::string(std::strerror(rc)));
  }
  ~Serve() {
    if (!status_) {
      ::kill(pid_, SIGKILL);
      int st = 0;
      ::waitpid(pid_, &st, 0);
    }
  }
  Serve(const Serve&) = delete;
  Serve& operator=(const Serve&) = delete;

  void signal(int sig) const { ::kill(pid_, sig); }
  std::string log() const { return read_file(log_); }

  // The exit status (128 + signal when killed), or nullopt when it has not
  // exited within the bound.
  std::optional<int> wait_exit(std::chrono::milliseconds bound = kReady) {
    poll_until(
        [&] {
          int st = 0;
          if (::waitpid(pid_, &st, WNOHANG) != pid_) return false;
          status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
          return true;
        },
        bound);
    return status_;
  }

 private:
  std::filesystem::path log_;
  pid_t pid_ = -1;
  std::optional<int> status_;
};

// Serve on a free port until /healthz answers; the caller keeps the process.
std::unique_ptr<Serve> start_serve(const std::filesystem::path& dir, std::uint16_t& port,
                                   std::vector<std::string> args) {
  port = free_port();
  args.insert(args.end(), {"--listen", "127.0.0.1:" + std::to_string(port)});
  auto serve = std::make_unique<Serve>(dir, args);
  const bool up = poll_until([&] { return http_get(port, "/healthz").status != 0; });
  INFO(serve->log());
  REQUIRE(up);
  return serve;
}

// Waits until /metrics (with that Authorization) contains `text`.
bool metrics_contain(std::uint16_t port, const std::string& text,
                     const std::string& authorization = {}) {
  return poll_until([&] {
    const auto a = http_get(port, "/metrics", authorization);
    return a.status == 200 && a.body.find(text) != std::string::npos;
  });
}

// Runs promtool check metrics on the exposition (its standard input).
int promtool_check(const std::filesystem::path& dir, const std::string& exposition) {
  const auto file = write_file(dir, "metrics.prom", exposition);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, file.c_str(), O_RDONLY, 0);
  const auto log = dir / "promtool.log";
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  char promtool[] = "/usr/bin/promtool", check[] = "check", metrics[] = "metrics";
  char* argv[] = {promtool, check, metrics, nullptr};
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, promtool, &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return -1;
  int st = 0;
  ::waitpid(pid, &st, 0);
  INFO("promtool: " << read_file(log));
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

// A TCP listener on 127.0.0.1:port, the service a check watches: open or
// closed as the test says.
class Listener {
 public:
  explicit Listener(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int yes = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, 64) != 0)
      throw std::runtime_error("cannot listen on 127.0.0.1:" + std::to_string(port));
  }
  ~Listener() { ::close(fd_); }

 private:
  int fd_ = -1;
};

std::string tcp_config(const std::string& id, std::uint16_t port,
                       const std::string& timeout = "2s") {
  return "checks:\n"
         "  - id: " +
         id +
         "\n"
         "    plugin: network\n"
         "    type: tcp\n"
         "    timeout: " +
         timeout +
         "\n"
         "    params: {target: \"127.0.0.1:" +
         std::to_string(port) + "\"}\n";
}

std::string filesystem_config(const std::string& id, const std::filesystem::path& dir) {
  return "checks:\n"
         "  - id: " +
         id +
         "\n"
         "    plugin: storage\n"
         "    type: filesystem\n"
         "    params: {target: \"" +
         dir.string() + "\"}\n";
}

// Prometheus scraping one target (job "triage") every second.
class PrometheusScraping {
 public:
  explicit PrometheusScraping(std::uint16_t target) {
    const auto config = write_file(dir_.path(), "prometheus.yml",
                                   "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                                   "scrape_configs:\n  - job_name: triage\n    static_configs:\n"
                                   "      - targets: ['127.0.0.1:" +
                                       std::to_string(target) + "']\n");
    std::filesystem::create_directories(dir_.path() / "data");
    port_ = free_port();
    process_ = std::make_unique<triage::test::Process>(
        std::vector<std::string>{"/usr/bin/prometheus", "--config.file=" + config.string(),
                                 "--storage.tsdb.path=" + (dir_.path() / "data").string(),
                                 "--web.listen-address=127.0.0.1:" + std::to_string(port_)},
        dir_.path() / "prometheus.log");
    if (!triage::test::wait_for_tcp(port_, kReady))
      throw std::runtime_error("prometheus did not start: " + log());
  }
  std::string log() const { return read_file(dir_.path() / "prometheus.log"); }

  // The value of the query's single series, or nullopt.
  std::optional<double> value(const std::string& promql) const {
    std::string encoded;
    for (const unsigned char c : promql) {
      if (std::isalnum(c) != 0) {
        encoded += static_cast<char>(c);
      } else {
        char hex[4];
        std::snprintf(hex, sizeof hex, "%%%02X", c);
        encoded += hex;
      }
    }
    const auto a = http_get(port_, "/api/v1/query?query=" + encoded);
    if (a.status != 200) return std::nullopt;
    const auto json = nlohmann::json::parse(a.body, nullptr, false);
    if (json.is_discarded() || !json.contains("data")) return std::nullopt;
    const auto& result = json["data"]["result"];
    if (!result.is_array() || result.size() != 1) return std::nullopt;
    return std::stod(result[0]["value"][1].get<std::string>());
  }

  bool wait_value(const std::string& promql, double expected) const {
    return poll_until([&] { return value(promql) == expected; });
  }

 private:
  TempDir dir_;
  std::uint16_t port_ = 0;
  std::unique_ptr<triage::test::Process> process_;
};

}  // namespace

TEST_CASE("serve: /metrics, /healthz and /report in every format; SIGTERM exits 0", "[serve]") {
  TempDir dir;
  const auto closed = free_port();  // nothing listens: critical
  const auto config =
      write_file(dir.path(), "triage.yaml",
                 tcp_config("down", closed) + filesystem_config("disk", dir.path()).substr(8));
  std::uint16_t port = 0;
  auto serve =
      start_serve(dir.path(), port, {"-c", config.string(), "--interval", "1s", "--no-history"});

  REQUIRE(metrics_contain(port, "triage_check_status{check=\"down\""));
  const auto metrics = http_get(port, "/metrics");
  INFO(metrics.body);
  CHECK(metrics.body.find("triage_check_status{check=\"down\",plugin=\"network\",type=\"tcp\"") !=
        std::string::npos);
  CHECK(metrics.body.find("triage_check_status{check=\"disk\",plugin=\"storage\"") !=
        std::string::npos);
  for (const char* own :
       {"# TYPE triage_sweep_duration_seconds gauge", "# TYPE triage_sweeps_total counter",
        "# TYPE triage_sweep_overruns_total counter",
        "# TYPE triage_history_write_errors_total counter"})
    CHECK(metrics.body.find(own) != std::string::npos);
  CHECK(promtool_check(dir.path(), metrics.body) == 0);

  const auto health = http_get(port, "/healthz");
  CHECK(health.status == 200);
  CHECK(health.body.rfind("ok", 0) == 0);

  const auto json = http_get(port, "/report");
  REQUIRE(json.status == 200);
  const auto report = parse_json(json.body);
  CHECK(schema_errors(report).empty());
  CHECK(triage::itest::check_of(report, "down").at("status") == "critical");
  CHECK(triage::itest::check_of(report, "disk").at("status") == "ok");

  const auto junit = http_get(port, "/report?format=junit");
  CHECK(junit.status == 200);
  CHECK(junit.body.find("<testsuites") != std::string::npos);
  CHECK(junit.body.find("name=\"down\"") != std::string::npos);
  const auto text = http_get(port, "/report?format=text");
  CHECK(text.status == 200);
  CHECK(text.body.find("CRITICAL") != std::string::npos);
  const auto ndjson = http_get(port, "/report?format=ndjson");
  CHECK(ndjson.status == 200);
  CHECK(parse_json(ndjson.body.substr(0, ndjson.body.find('\n'))).is_object());
  CHECK(http_get(port, "/report?format=yaml").status == 400);
  CHECK(http_get(port, "/nothing-here").status == 404);

  serve->signal(SIGTERM);
  const auto code = serve->wait_exit();
  INFO(serve->log());
  CHECK(code == 0);
}

TEST_CASE("serve: --token-file guards every endpoint but /healthz, and is never logged",
          "[serve]") {
  TempDir dir;
  const std::string token = "s3cret-token-4f1c9e";
  const auto token_file = write_file(dir.path(), "token", token + "\n");
  const auto config = write_file(dir.path(), "triage.yaml", filesystem_config("disk", dir.path()));
  std::uint16_t port = 0;
  auto serve = start_serve(dir.path(), port,
                           {"-c", config.string(), "--interval", "1s", "--token-file",
                            token_file.string(), "-v", "--no-history"});
  const std::string good = "Bearer " + token;
  REQUIRE(metrics_contain(port, "triage_check_status{check=\"disk\"", good));
  for (const char* path : {"/metrics", "/report", "/report?format=junit"}) {
    INFO(path);
    CHECK(http_get(port, path).status == 401);
    CHECK(http_get(port, path, "Bearer wrong").status == 401);
    CHECK(http_get(port, path, "Bearer " + token + "x").status == 401);
    CHECK(http_get(port, path, good).status == 200);
  }
  CHECK(http_get(port, "/healthz").status == 200);
  serve->signal(SIGTERM);
  CHECK(serve->wait_exit() == 0);
  CHECK(serve->log().find(token) == std::string::npos);
}

TEST_CASE("serve: SIGHUP with a bad config keeps the running one; a good one replaces it",
          "[serve]") {
  TempDir dir;
  const auto config = write_file(dir.path(), "triage.yaml", filesystem_config("first", dir.path()));
  std::uint16_t port = 0;
  auto serve =
      start_serve(dir.path(), port, {"-c", config.string(), "--interval", "1s", "--no-history"});
  REQUIRE(metrics_contain(port, "triage_check_status{check=\"first\""));

  // An unknown key on line 5: refused, with file, line and key in the log.
  write_file(dir.path(), "triage.yaml",
             filesystem_config("second", dir.path()) + "    colour: blue\n");
  serve->signal(SIGHUP);
  REQUIRE(metrics_contain(port, "triage_config_reload_failures_total 1"));
  {
    const auto log = serve->log();
    INFO(log);
    CHECK(log.find("reload refused") != std::string::npos);
    CHECK(log.find("triage.yaml:6") != std::string::npos);
    CHECK(log.find("colour") != std::string::npos);
  }
  const auto sweeps_before = http_get(port, "/metrics").body;
  // Still sweeping the first config, and serving it.
  REQUIRE(poll_until([&] {
    const auto body = http_get(port, "/metrics").body;
    return body != sweeps_before && body.find("check=\"first\"") != std::string::npos;
  }));
  CHECK(http_get(port, "/metrics").body.find("check=\"second\"") == std::string::npos);
  CHECK(http_get(port, "/healthz").status == 200);

  write_file(dir.path(), "triage.yaml", filesystem_config("second", dir.path()));
  serve->signal(SIGHUP);
  REQUIRE(metrics_contain(port, "triage_check_status{check=\"second\""));
  CHECK(http_get(port, "/metrics").body.find("check=\"first\"") == std::string::npos);
  CHECK(http_get(port, "/metrics").body.find("triage_config_reloads_total 1") != std::string::npos);
  serve->signal(SIGTERM);
  CHECK(serve->wait_exit() == 0);
}

TEST_CASE("serve: /healthz is 503 when sweeps stop finishing; SIGTERM cancels that sweep",
          "[serve]") {
  TempDir dir;
  // The blackhole accepts and never answers: the check (timeout 60 s) hangs
  // far past the 200 ms interval. A banner makes the check wait for it.
  const auto hole = triage::itest::services().blackhole.port();
  const auto config =
      write_file(dir.path(), "triage.yaml",
                 "checks:\n  - id: hang\n    plugin: network\n    type: tcp\n    timeout: 60s\n"
                 "    params: {target: \"127.0.0.1:" +
                     std::to_string(hole) + "\", expect: \"never\"}\n");
  std::uint16_t port = 0;
  auto serve =
      start_serve(dir.path(), port, {"-c", config.string(), "--interval", "200ms", "--no-history"});
  REQUIRE(poll_until([&] { return http_get(port, "/healthz").status == 503; }));
  const auto health = http_get(port, "/healthz");
  INFO(health.body);
  CHECK(health.body.find("no sweep has finished") != std::string::npos);
  CHECK(health.body.find("in flight") != std::string::npos);

  serve->signal(SIGTERM);  // during the sweep
  const auto code = serve->wait_exit();
  INFO(serve->log());
  CHECK(code == 0);
}

TEST_CASE("serve: a sweep longer than the interval is an overrun, not a second sweep at once",
          "[serve]") {
  TempDir dir;
  // Each sweep waits 700 ms for a banner that never comes; the interval is 200 ms.
  const auto hole = triage::itest::services().blackhole.port();
  const auto config =
      write_file(dir.path(), "triage.yaml",
                 "checks:\n  - id: slow\n    plugin: network\n    type: tcp\n    timeout: 700ms\n"
                 "    params: {target: \"127.0.0.1:" +
                     std::to_string(hole) + "\", expect: \"never\"}\n");
  std::uint16_t port = 0;
  auto serve =
      start_serve(dir.path(), port, {"-c", config.string(), "--interval", "200ms", "--no-history"});
  REQUIRE(metrics_contain(port, "triage_sweeps_total 2\n"));
  const auto body = http_get(port, "/metrics").body;
  INFO(body);
  CHECK(body.find("triage_sweep_overruns_total 0\n") == std::string::npos);
  CHECK(serve->log().find("overrun") != std::string::npos);
  serve->signal(SIGTERM);
  CHECK(serve->wait_exit() == 0);
}

TEST_CASE("serve: a history that cannot be written is counted, and the service goes on",
          "[serve]") {
  TempDir dir;
  const auto config = write_file(dir.path(), "triage.yaml", filesystem_config("disk", dir.path()));
  std::uint16_t port = 0;
  auto serve = start_serve(dir.path(), port,
                           {"-c", config.string(), "--interval", "200ms", "--history",
                            (dir.path() / "missing-folder" / "history.db").string()});
  REQUIRE(metrics_contain(port, "triage_history_write_errors_total 2"));
  CHECK(http_get(port, "/healthz").status == 200);
  CHECK(serve->log().find("missing-folder") != std::string::npos);

  // And a history that can be written gets the sweeps.
  std::uint16_t port2 = 0;
  TempDir dir2;
  const auto db = dir2.path() / "history.db";
  auto recording = start_serve(
      dir2.path(), port2, {"-c", config.string(), "--interval", "200ms", "--history", db.string()});
  REQUIRE(metrics_contain(port2, "triage_sweeps_total 2"));
  CHECK(std::filesystem::exists(db));
  CHECK(http_get(port2, "/metrics").body.find("triage_history_write_errors_total 0") !=
        std::string::npos);
}

TEST_CASE("serve: bad usage is exit 64, an address in use 69, a bad config 78", "[serve]") {
  TempDir dir;
  const auto config = write_file(dir.path(), "triage.yaml", filesystem_config("disk", dir.path()));
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"serve", "-c", config.string(), "--interval", "0s"},
        {"serve", "-c", config.string(), "--listen", "localhost:9477"},
        {"serve", "-c", config.string(), "--listen", "127.0.0.1:70000"},
        {"serve", "-c", "-"},
        {"serve", "-c", config.string(), "--keep", "soon"},
        {"serve", "-c", config.string(), "--no-history", "--history", "h.db"}}) {
    const auto r = run_triage(args);
    INFO(describe(r));
    CHECK(r.exit_code == 64);
  }
  const auto taken = free_port();
  Listener occupant(taken);
  const auto in_use = run_triage({"serve", "-c", config.string(), "--no-history", "--listen",
                                  "127.0.0.1:" + std::to_string(taken)});
  INFO(describe(in_use));
  CHECK(in_use.exit_code == 69);
  const auto bad = write_file(dir.path(), "bad.yaml", "checks: [1]\n");
  CHECK(run_triage({"serve", "-c", bad.string()}).exit_code == 78);
  CHECK(run_triage(
            {"serve", "-c", config.string(), "--token-file", (dir.path() / "no-token").string()})
            .exit_code == 78);
}

TEST_CASE("serve: a real Prometheus scrapes it; a failing check is 2, then 0 once it recovers",
          "[serve][prometheus]") {
  TempDir dir;
  const auto service_port = free_port();  // the service the check watches: closed for now
  const auto config =
      write_file(dir.path(), "triage.yaml", tcp_config("svc", service_port, "500ms"));
  std::uint16_t port = 0;
  auto serve =
      start_serve(dir.path(), port, {"-c", config.string(), "--interval", "500ms", "--no-history"});
  PrometheusScraping prometheus(port);
  INFO(prometheus.log());
  CHECK(prometheus.wait_value("up{job=\"triage\"}", 1));
  CHECK(prometheus.wait_value("triage_check_status{job=\"triage\",check=\"svc\"}", 2));
  Listener service(service_port);  // the service comes back
  CHECK(prometheus.wait_value("triage_check_status{job=\"triage\",check=\"svc\"}", 0));
  CHECK(prometheus.wait_value("triage_sweeps_total{job=\"triage\"} > bool 0", 1));
}
