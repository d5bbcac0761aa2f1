// The `triage` executable: dispatches to a command.
#include <fcntl.h>
#include <sys/resource.h>

#include <cerrno>
#include <iostream>
#include <string>
#include <vector>

#include "commands.hpp"
#include "options.hpp"
#include "output.hpp"
#include "triage/core/address_space.hpp"
#include "triage/core/config.hpp"
#include "triage/core/exit_guard.hpp"
#include "triage/core/plugin_host.hpp"

namespace {

constexpr const char* kUsage = R"(Usage: triage <command> [options]

Triage diagnoses systems with check plugins and reports what is broken, the
evidence, and what to do about it.

Commands:
  run       run checks and print a report (no config: diagnose this machine)
  check     run one check without a config: triage check PLUGIN.TYPE TARGET
  report    render a saved JSON report again, in any view
  list      show the checks a run would execute
  plugins   show the plugins found and their check types
  plugin    for plugin authors: new (scaffold a project), info, validate
  history   the runs recorded by --history, or one check's timeline
  diff      what changed between two runs (history) or two JSON reports
  serve     run a config on a schedule and serve /metrics, /healthz, /report

Options:
  -h, --help     show this help (or `triage <command> --help`)
  --version      print the version

Examples:
  triage run
  triage run -c examples/localhost.yaml -o report.json -o report.xml
  triage check network.tcp 127.0.0.1:22
  triage report report.json -f nagios
  triage plugins
  triage plugin new my-check
)";

// `triage __plugin-host --fd N --file F --memory-limit-mb M [--allow-insecure-plugins]
// [--count-descendants]`: started by the core itself, never by people (see
// plugin_host.hpp).
int plugin_host(const std::vector<std::string>& args) {
  triage::core::HostArgs host;
  for (std::size_t i = 1; i < args.size(); ++i) {
    const bool has_value = i + 1 < args.size();
    if (args[i] == "--fd" && has_value)
      host.fd = std::stoi(args[++i]);
    else if (args[i] == "--file" && has_value)
      host.file = args[++i];
    else if (args[i] == "--memory-limit-mb" && has_value)
      host.memory_limit_mb = std::stoi(args[++i]);
    else if (args[i] == "--allow-insecure-plugins")
      host.allow_insecure = true;
    else if (args[i] == "--count-descendants")
      host.count_descendants = true;
  }
  if (host.fd < 0 || host.file.empty()) {
    std::cerr << "triage __plugin-host is started by triage itself\n";
    return triage::cli::kExitUsage;
  }
  return triage::core::plugin_host_main(host);
}

// Runs one command; its exit status.
int dispatch(const std::string& command, const std::vector<std::string>& args, bool nagios) {
  try {
    if (command == "run")
      return nagios ? triage::cli::with_nagios_fallback(args, triage::cli::cmd_run)
                    : triage::cli::cmd_run(args);
    if (command == "check")
      return nagios ? triage::cli::with_nagios_fallback(args, triage::cli::cmd_check)
                    : triage::cli::cmd_check(args);
    if (command == "report")
      return nagios ? triage::cli::with_nagios_fallback(args, triage::cli::cmd_report)
                    : triage::cli::cmd_report(args);
    if (command == "list") return triage::cli::cmd_list(args);
    if (command == "plugins") return triage::cli::cmd_plugins(args);
    if (command == "plugin") return triage::cli::cmd_plugin(args);
    if (command == "history") return triage::cli::cmd_history(args);
    if (command == "diff") return triage::cli::cmd_diff(args);
    if (command == "serve") return triage::cli::cmd_serve(args);
  } catch (const std::exception& e) {
    std::cerr << "triage " << command << ": internal error: " << e.what() << "\n";
    if (nagios && (command == "run" || command == "check" || command == "report")) {
      std::cout << triage::core::nagios_unknown_line(std::string("internal error: ") + e.what());
      return 3;
    }
    return triage::cli::kExitSoftware;
  }
  std::string hint;
  if (auto near = triage::core::closest_match(command, {"run", "check", "report", "list", "plugins",
                                                        "plugin", "history", "diff", "serve"}))
    hint = " (did you mean '" + *near + "'?)";
  std::cerr << "triage: unknown command '" << command << "'" << hint
            << "\nTry 'triage --help' for the commands.\n";
  return triage::cli::kExitUsage;
}

}  // namespace

namespace {

// A standard descriptor we were started without would be reused by the next
// open (a plugin host's socket, a report file) and receive what is meant for
// stdout or stderr: point each closed one at /dev/null first.
void reopen_closed_stdio() {
  for (int fd = 0; fd <= 2; ++fd)
    if (::fcntl(fd, F_GETFD) < 0 && errno == EBADF)
      ::open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);  // the lowest free: fd itself
}

// Every check holds descriptors (sockets, a resolver's, libcurl's): a soft
// limit of 1,024 (or a `ulimit -n 64`) turns healthy targets into false
// failures under load. Raise the soft limit to the hard one; the runner
// sizes its concurrency to what is left (see run_flow.cpp).
void raise_descriptor_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
  limit.rlim_cur = limit.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &limit);
}

}  // namespace

int main(int argc, char** argv) {
  reopen_closed_stdio();
  raise_descriptor_limit();
  triage::core::fit_address_space();  // under `ulimit -v`: small stacks, few arenas
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::cerr << kUsage;
    return triage::cli::kExitUsage;
  }
  if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << kUsage;
    return 0;
  }
  if (args[0] == "--version" || args[0] == "version") {
    std::cout << "triage " << TRIAGE_VERSION << " (plugin ABI " << TRIAGE_ABI_MAJOR << "."
              << TRIAGE_ABI_MINOR << ")\n";
    return 0;
  }
  if (args[0] == "__plugin-host") return plugin_host(args);
  const std::string command = args[0];
  args.erase(args.begin());
  // A monitoring system reading -f nagios gets one line and 0..3, always.
  const bool nagios = triage::cli::wants_nagios(args);
  const int code = dispatch(command, args, nagios);
  // Plugin threads may still be running: an exit() of theirs from now on
  // ends with this status, not theirs.
  triage::core::exit_guard::settle(code);
  return code;
}
