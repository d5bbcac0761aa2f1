// `triage serve`: runs a config on a schedule and serves the latest result
// of every check over HTTP (/metrics, /healthz, /report), recording each
// sweep in the history when asked. One sweep at a time, in this thread;
// signals reach it through a self-pipe (SIGHUP reloads, SIGTERM/SIGINT stop).
#include <fcntl.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "isolation.hpp"
#include "options.hpp"
#include "run_flow.hpp"
#include "triage/core/descendants.hpp"
#include "triage/core/duration.hpp"
#include "triage/core/history.hpp"
#include "triage/core/report.hpp"
#include "triage/core/selection.hpp"
#include "triage/core/serve_http.hpp"
#include "triage/core/serve_schedule.hpp"
#include "triage/core/serve_state.hpp"

namespace triage::cli {

namespace {

namespace serve = core::serve;
using Clock = std::chrono::steady_clock;

constexpr int kExitUnavailable = 69;  // EX_UNAVAILABLE: the address cannot be bound
constexpr std::chrono::milliseconds kMinInterval{100};

constexpr const char* kHelp = R"(Usage: triage serve [options]

Runs the checks of a config every --interval (with +/-10% jitter) and serves,
on --listen:
  /metrics   the Prometheus exposition of the latest result of every check
             (the names and labels of `triage run -f prometheus`) and the
             service's own health (triage_sweeps_total, ...)
  /healthz   200 while the last sweep finished within 2 intervals, else 503
             with the reason (never needs the token)
  /report    the latest report as JSON; ?format=text|ndjson|junit|nagios|prometheus
A check with its own `interval:` in the config runs only that often. A sweep
still running when the next is due makes that one an overrun (counted in
triage_sweep_overruns_total and logged): sweeps are never stacked.

Each sweep's report (the latest result of every check) is recorded in the
history: --history FILE, else the config's `history:`, else
/var/lib/triage/history.db (--no-history: none). A record that fails is
logged and counted in triage_history_write_errors_total; the service goes on.

Signals: SIGHUP reloads the config (and --token-file); a bad config is logged
with its file, line and key and the running one is kept. SIGTERM or SIGINT
cancels the sweep in flight (its checks end within their deadline), records
it, and exits 0.

Exit code: 0 stopped by SIGTERM/SIGINT; 64 bad usage; 69 --listen cannot be
bound; 78 bad config or token file at start.

Examples:
  triage serve -c /etc/triage/triage.yaml --history /var/lib/triage/history.db
  triage serve -c checks.yaml --interval 1m --listen 0.0.0.0:9477 --token-file /etc/triage/token
  curl -s 127.0.0.1:9477/report?format=text

)";

// Set by the signal handler, then the pipe is written to wake the loop.
std::atomic<bool> g_stop{false};
std::atomic<bool> g_reload{false};
int g_wake[2] = {-1, -1};
static_assert(std::atomic<bool>::is_always_lock_free);

void on_signal(int sig) {
  const int saved = errno;
  if (sig == SIGHUP) {
    g_reload.store(true);
  } else if (g_stop.exchange(true)) {
    _exit(130);  // a second SIGTERM/SIGINT: leave at once
  }
  const char byte = 1;
  [[maybe_unused]] const auto n = ::write(g_wake[1], &byte, 1);
  errno = saved;
}

// Sleeps until `until` or a signal, whichever comes first.
void wait_until(Clock::time_point until) {
  for (;;) {
    if (g_stop.load() || g_reload.load()) return;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
    if (left.count() <= 0) return;
    pollfd fd{g_wake[0], POLLIN, 0};
    const int timeout = static_cast<int>(std::min<long long>(left.count() + 1, 60'000));
    if (::poll(&fd, 1, timeout) > 0) {
      char drain[64];
      while (::read(g_wake[0], drain, sizeof drain) > 0) {
      }
    }
  }
}

struct ServeFlags {
  std::string config_path, interval_text = "5m", listen_text = serve::kDefaultListen;
  std::string history_path, keep_text, token_file;
  bool no_history = false;
  std::chrono::milliseconds interval{};
  std::optional<std::chrono::seconds> keep;
  serve::Listen listen;
};

// A config ready to run: every check selected, references resolved, params
// validated against the plugins, secrets redacted from the log.
core::Config prepare(const std::string& path, PluginSetup& plugins) {
  auto config = load_config_or_default(path);
  config.checks = core::select_checks(config, {});
  core::resolve_references(config);
  core::validate_plugins(config, plugins.registry());
  protect_secrets(config, plugins.registry());
  return config;
}

class Service {
 public:
  Service(const Common& common, const RunFlags& run_flags, const ServeFlags& flags,
          serve::ServiceState& state)
      : common_(common),
        run_flags_(run_flags),
        flags_(flags),
        state_(state),
        schedule_(flags.interval) {}

  // Loads the config at start; ConfigError goes to the caller.
  void load() {
    core::Config config = load_config_or_default(flags_.config_path);
    plugins_ = std::make_unique<PluginSetup>(common_, &config, run_flags_.isolation);
    config_ = prepare(flags_.config_path, *plugins_);
  }

  // SIGHUP: the new config replaces the running one only when it is good.
  void reload(serve::HttpServer& http) {
    spdlog::info("SIGHUP: reloading {}", label());
    core::Config next;
    try {
      next = prepare(flags_.config_path, *plugins_);  // judged by the plugins we have
    } catch (const core::ConfigError& e) {
      state_.reload_failed();
      protect_secrets(config_, plugins_->registry());  // the running config's secrets again
      spdlog::error("config reload refused, still running the previous config: {}", e.what());
      return;
    } catch (const std::exception& e) {  // select_checks' invalid_argument, I/O
      state_.reload_failed();
      protect_secrets(config_, plugins_->registry());
      spdlog::error("config reload refused, still running the previous config: {}", e.what());
      return;
    }
    if (!flags_.token_file.empty()) {
      try {
        http.set_token(serve::read_token_file(flags_.token_file));
      } catch (const std::runtime_error& e) {
        spdlog::error("token file not reloaded, the previous token stays: {}", e.what());
      }
    }
    // Isolation settings may have changed: new plugin hosts for the new
    // config (the old ones end first; their leftovers are killed).
    plugins_.reset();
    try {
      plugins_ = std::make_unique<PluginSetup>(common_, &next, run_flags_.isolation);
      core::validate_plugins(next, plugins_->registry());
      protect_secrets(next, plugins_->registry());
      config_ = std::move(next);
    } catch (const std::exception& e) {
      spdlog::error("config reload refused after restarting plugins, keeping the previous: {}",
                    e.what());
      state_.reload_failed();
      plugins_ = std::make_unique<PluginSetup>(common_, &config_, run_flags_.isolation);
      return;
    }
    latest_.retain(config_);
    state_.reloaded();
    spdlog::info("config reloaded: {} checks", config_.checks.size());
  }

  // Runs the due checks and publishes the report of the latest results.
  // Returns the checks abandoned (still inside plugin code).
  int sweep(Clock::time_point started) {
    state_.sweep_started(started);
    const auto due = schedule_.due(config_, started);
    std::vector<core::CheckSpec> checks;
    checks.reserve(due.size());
    for (const auto i : due) {
      checks.push_back(config_.checks[i]);
      if (run_flags_.timeout) checks.back().timeout = *run_flags_.timeout;
    }
    core::RunOptions options;
    options.jobs = run_flags_.jobs > 0 ? run_flags_.jobs : config_.defaults.jobs;
    options.cancel = &g_stop;
    if (run_flags_.deadline) options.deadline = started + *run_flags_.deadline;
    auto info = core::start_run_info(label());
    const auto outcome = core::run_checks(checks, plugins_->executor(), options);
    info.finished_at = std::chrono::system_clock::now();
    schedule_.ran(config_, due, started);
    latest_.merge(config_, due, outcome);
    auto report = std::make_shared<const nlohmann::ordered_json>(
        core::build_report(config_, latest_.outcome_for(config_, outcome), info));
    const std::string status = report->at("summary").at("status").get<std::string>();
    if (status != last_status_)
      spdlog::info("sweep: status {} (was {}), {} of {} checks run", status,
                   last_status_.empty() ? "none" : last_status_, due.size(), config_.checks.size());
    last_status_ = status;
    record(*report);
    state_.sweep_finished(std::move(report), Clock::now() - started, Clock::now());
    return outcome.abandoned;
  }

  std::chrono::milliseconds next_wait() { return schedule_.next_wait(); }

 private:
  std::string label() const { return flags_.config_path.empty() ? "" : flags_.config_path; }

  // A failure is counted and logged; it never stops the service. The
  // database is opened again at the next sweep.
  void record(const nlohmann::ordered_json& report) {
    if (flags_.no_history) return;
    // --history, else the config's `history:` (read again on SIGHUP), else
    // the default database; --keep, else the config's keep.
    const auto file = core::choose_history_path(flags_.history_path, &config_);
    auto keep = flags_.keep;
    if (!keep && config_.history) keep = config_.history->keep;
    try {
      if (!history_ || history_->file() != file) history_ = std::make_unique<core::History>(file);
      history_->record(report, keep);
      if (!history_error_.empty()) spdlog::info("history: recording again in {}", file.string());
      history_error_.clear();
    } catch (const std::exception& e) {
      history_.reset();
      state_.history_write_failed();
      // Once per distinct error, not once per sweep: the counter says how
      // many sweeps went unrecorded.
      if (e.what() != history_error_)
        spdlog::error(
            "history: sweeps are not recorded (triage_history_write_errors_total counts "
            "them): {}",
            e.what());
      history_error_ = e.what();
    }
  }

  const Common& common_;
  const RunFlags& run_flags_;
  const ServeFlags& flags_;
  serve::ServiceState& state_;
  serve::Schedule schedule_;
  serve::LatestResults latest_;
  core::Config config_;
  std::unique_ptr<PluginSetup> plugins_;
  std::unique_ptr<core::History> history_;
  std::string last_status_;
  std::string history_error_;  // the last one logged; "" while recording works
};

std::optional<int> check_serve_flags(ServeFlags& flags, const po::options_description& desc) {
  if (flags.config_path == "-")
    return usage_error("serve", "--config - is not possible: SIGHUP re-reads the config file",
                       desc);
  const auto interval = core::parse_duration(flags.interval_text);
  if (!interval || *interval < kMinInterval)
    return usage_error(
        "serve",
        "--interval '" + flags.interval_text + "' is not a duration of at least 100ms (e.g. 5m)",
        desc);
  flags.interval = *interval;
  if (!flags.keep_text.empty()) {
    flags.keep = core::parse_age(flags.keep_text);
    if (!flags.keep)
      return usage_error("serve", "--keep '" + flags.keep_text + "' is not an age (e.g. 30d, 12h)",
                         desc);
  }
  if (flags.no_history && (!flags.history_path.empty() || !flags.keep_text.empty()))
    return usage_error("serve", "--no-history contradicts --history and --keep", desc);
  std::string why;
  const auto listen = serve::parse_listen(flags.listen_text, why);
  if (!listen) return usage_error("serve", "--listen: " + why, desc);
  flags.listen = *listen;
  return std::nullopt;
}

}  // namespace

int cmd_serve(const std::vector<std::string>& args) {
  Common common;
  RunFlags run_flags;
  ServeFlags flags;
  po::options_description desc("Options");
  desc.add_options()("config,c", po::value(&flags.config_path)->value_name("FILE"),
                     "config file (YAML or JSON); default $TRIAGE_CONFIG, then "
                     "/etc/triage/triage.yaml, then the built-in diagnosis of this machine")(
      "interval", po::value(&flags.interval_text)->value_name("DURATION"),
      "time between sweeps, +/-10% jitter (default 5m, at least 100ms)")(
      "listen", po::value(&flags.listen_text)->value_name("HOST:PORT"),
      "address to serve on (default 127.0.0.1:9477; another address, e.g. 0.0.0.0:9477, only "
      "when given here)")(
      "history", po::value(&flags.history_path)->value_name("FILE"),
      "record every sweep in this SQLite database (default: the config's `history:`, else "
      "/var/lib/triage/history.db)")("no-history", po::bool_switch(&flags.no_history),
                                     "record nothing")(
      "keep", po::value(&flags.keep_text)->value_name("DURATION"),
      "with a history: remove runs older than this at each sweep (e.g. 30d; default: the "
      "config's history.keep, else keep every run)")(
      "token-file", po::value(&flags.token_file)->value_name("FILE"),
      "require 'Authorization: Bearer <the file's first line>' on every endpoint but /healthz");
  add_run_flags(desc, run_flags);
  add_common_options(desc, common);
  po::variables_map vm;
  try {
    vm = parse(args, desc);
  } catch (const po::error& e) {
    return usage_error("serve", e.what(), desc);
  }
  if (common.help) {
    std::cout << kHelp << desc << "\n";
    return 0;
  }
  if (auto stop = check_common("serve", common, desc)) return *stop;
  if (auto stop = check_run_flags("serve", run_flags, vm, desc)) return *stop;
  if (auto stop = check_serve_flags(flags, desc)) return *stop;
  setup_logging(common);
  // A service says when it starts, reloads and stops (a line per event,
  // not per sweep): info unless -q, debug with -v.
  if (!common.quiet && !common.verbose) spdlog::default_logger()->set_level(spdlog::level::info);
  flags.config_path = discover_config(flags.config_path);

  std::string token;
  if (!flags.token_file.empty()) {
    try {
      token = serve::read_token_file(flags.token_file);
    } catch (const std::runtime_error& e) {
      std::cerr << "triage serve: " << e.what() << "\n";
      return kExitConfig;
    }
  }
  serve::ServiceState state(flags.interval, Clock::now());
  Service service(common, run_flags, flags, state);
  try {
    service.load();
  } catch (const core::ConfigError& e) {
    std::cerr << "triage: config error: " << e.what() << "\n";
    return kExitConfig;
  }

  if (::pipe2(g_wake, O_CLOEXEC | O_NONBLOCK) != 0) {
    std::cerr << "triage serve: cannot create a pipe: " << std::strerror(errno) << "\n";
    return kExitSoftware;
  }
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) ::sigaction(sig, &action, nullptr);
  // A scraper that hangs up mid-answer must not end the service (plugin
  // hosts get SIGPIPE back at its default when they start).
  std::signal(SIGPIPE, SIG_IGN);

  serve::HttpServer http(state, token);
  std::string error;
  if (!http.start(flags.listen, error)) {
    std::cerr << "triage serve: " << error << "\n";
    return kExitUnavailable;
  }
  if (!serve::is_loopback(flags.listen) && token.empty())
    spdlog::warn(
        "serving on {} (not loopback) without --token-file: anyone who reaches it reads "
        "the reports",
        flags.listen.text());
  spdlog::info("serving on http://{} (/metrics, /healthz, /report), a sweep every {}",
               flags.listen.text(), core::format_duration(flags.interval));

  auto next = Clock::now();  // the first sweep at once
  while (!g_stop.load()) {
    if (g_reload.exchange(false)) {
      service.reload(http);
      next = Clock::now();  // the new config's results at once
    }
    wait_until(next);
    if (g_stop.load()) break;
    if (g_reload.load() || Clock::now() < next) continue;
    const auto started = Clock::now();
    const int abandoned = service.sweep(started);
    if (abandoned > 0) {
      spdlog::error(
          "{} check(s) never returned after their deadline and still run in-process; "
          "use isolation: process for them",
          abandoned);
      if (g_stop.load()) {
        // As `triage run`: threads still inside plugin code make leaving
        // now the only safe way out.
        http.stop();
        core::kill_descendants();
        std::fflush(nullptr);
        std::_Exit(0);
      }
    }
    next = started + service.next_wait();
    if (const auto now = Clock::now(); now >= next && !g_stop.load()) {
      const auto missed = 1 + (now - next) / flags.interval;
      state.overrun(static_cast<std::uint64_t>(missed));
      spdlog::warn("sweep took {}, longer than the interval {}: {} sweep(s) skipped (overrun)",
                   core::format_duration(
                       std::chrono::duration_cast<std::chrono::milliseconds>(now - started)),
                   core::format_duration(flags.interval), missed);
      next += missed * flags.interval;
    }
  }
  spdlog::info("stopping: {} sweeps done", state.sweeps());
  http.stop();
  return 0;
}

}  // namespace triage::cli
