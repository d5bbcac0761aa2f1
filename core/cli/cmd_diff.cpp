// `triage diff [A [B]]`: what changed between two runs, each a run of the
// history database or a saved JSON report, as text (worst first) or JSON;
// exits 1 when something got worse, for CI and scripts (docs/cli.md).
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

#include "commands.hpp"
#include "options.hpp"
#include "output.hpp"
#include "run_flow.hpp"
#include "triage/core/diff.hpp"
#include "triage/core/history.hpp"
#include "triage/core/report.hpp"
#include "triage/core/text_format.hpp"

namespace triage::cli {

namespace {

constexpr const char* kHelp = R"(Usage: triage diff [A [B]] [options]

Shows what changed from run A (the older) to run B (the newer): new
failures, statuses that got worse, findings that appeared, checks added,
metrics that moved past --min-change, recoveries, other status changes,
checks removed and findings that went away; the worst first.

A and B are each a run number of the history database (all digits, as
`triage history` lists them) or a JSON report file (`triage run -o
FILE.json`; '-' reads standard input; name a file called 42 as ./42).
No argument: the last two runs of the history. One argument: that run
against the newest run of the history.

The database is --history FILE, else the history: of the config given with
-c, else /var/lib/triage/history.db. It is only read.

Exit code: 0 nothing got worse; 1 something got worse (a new failure, a
status that got worse, a check that became unknown or was added failing,
a warning or critical finding that appeared); 64 bad usage; 65 a file is
not a triage report; 66 a file or the database cannot be read, or a run
is not in it; 74 the database is unusable (corrupt, locked, newer);
78 bad config.

Examples:
  triage diff                                   the last two runs
  triage diff 41 42 --history ./history.db
  triage diff 41                                run 41 against the newest
  triage diff yesterday.json today.json -f json
  triage diff baseline.json - --min-change 25%  (standard input: the new run)

)";

constexpr int kExitWorse = 1;
constexpr int kExitNoInput = 66;  // EX_NOINPUT
constexpr int kExitIoErr = 74;    // EX_IOERR
// A run number has at most this many digits (an int64 has 19).
constexpr std::size_t kMaxRunDigits = 18;
constexpr double kMaxMinChangePercent = 100'000;
constexpr std::size_t kMaxLinesLimit = 100'000;

// A failure to read one side: the exit code and what was said on stderr.
struct Stop {
  int code;
};

std::string shown(const std::string& text) {
  return core::escape_control(text);
}

// True for an argument naming a run of the history (see the help).
bool is_run_number(const std::string& arg) {
  if (arg.empty() || arg.size() > kMaxRunDigits) return false;
  for (const char c : arg)
    if (c < '0' || c > '9') return false;
  return true;
}

// "10%", "10" (both 10 %) or "0.5%": the fraction, or nullopt.
std::optional<double> parse_percent(std::string text) {
  if (!text.empty() && text.back() == '%') text.pop_back();
  if (text.empty() || text.front() == '-' || text.front() == '+' ||
      std::isspace(static_cast<unsigned char>(text.front())) != 0)
    return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const double value = std::strtod(text.c_str(), &end);
  if (errno != 0 || end != text.c_str() + text.size() || !std::isfinite(value) || value < 0 ||
      value > kMaxMinChangePercent)
    return std::nullopt;
  return value / 100.0;
}

// A saved report, read and checked as `triage report` does.
nlohmann::ordered_json read_report_file(const std::string& file) {
  auto saved = read_saved_report("diff", file,
                                 "; give a JSON report (triage run -o FILE.json) or a run number");
  if (saved.exit_code != 0) throw Stop{saved.exit_code};
  return std::move(saved.report);
}

// The history database, opened on first use (a diff of two files needs none).
class LazyHistory {
 public:
  explicit LazyHistory(std::filesystem::path file) : file_(std::move(file)) {}

  const core::History& get() {
    if (history_) return *history_;
    std::error_code ec;
    if (!std::filesystem::exists(std::filesystem::symlink_status(file_, ec))) {
      std::cerr << "triage diff: no history at " << shown(file_.string())
                << ": nothing recorded there yet (triage run --history FILE, or history: in the "
                   "config, records runs); name the database with --history FILE, or compare "
                   "two report files\n";
      throw Stop{kExitNoInput};
    }
    try {
      history_.emplace(file_, core::History::Open::open_existing);
    } catch (const core::HistoryError& e) {
      std::cerr << "triage diff: " << shown(e.what()) << "\n";
      throw Stop{kExitIoErr};
    }
    return *history_;
  }

  // The newest n run numbers, newest first; fewer than n is an error.
  std::vector<std::int64_t> latest(std::size_t n) {
    std::vector<std::int64_t> ids;
    try {
      ids = get().latest_runs(n);
    } catch (const core::HistoryError& e) {
      std::cerr << "triage diff: " << shown(e.what()) << "\n";
      throw Stop{kExitIoErr};
    }
    if (ids.size() < n) {
      std::cerr << "triage diff: the history " << shown(file_.string()) << " has " << ids.size()
                << (ids.size() == 1 ? " run" : " runs") << "; a diff needs "
                << (n == 2 ? "two" : "one")
                << " (name the runs or report files to compare: triage diff A B)\n";
      throw Stop{kExitNoInput};
    }
    return ids;
  }

  nlohmann::ordered_json load(std::int64_t id) {
    std::optional<nlohmann::ordered_json> report;
    try {
      report = get().load_report(id);
    } catch (const core::HistoryError& e) {
      std::cerr << "triage diff: " << shown(e.what()) << "\n";
      throw Stop{kExitIoErr};
    }
    if (!report) {
      std::cerr << "triage diff: no run " << id << " in the history " << shown(file_.string())
                << " (triage history --history " << shown(file_.string())
                << " lists the runs kept)\n";
      throw Stop{kExitNoInput};
    }
    return std::move(*report);
  }

  const std::filesystem::path& file() const { return file_; }

 private:
  std::filesystem::path file_;
  std::optional<core::History> history_;
};

// One side of the diff: the report and where it came from.
struct Side {
  nlohmann::ordered_json report;
  core::DiffSide source;
};

Side load_side(const std::string& arg, LazyHistory& history) {
  if (is_run_number(arg)) {
    const auto id = std::stoll(arg);
    return {history.load(id), {history.file().string(), id}};
  }
  return {read_report_file(arg), {arg == "-" ? "-" : arg, std::nullopt}};
}

Side load_run(std::int64_t id, LazyHistory& history) {
  return {history.load(id), {history.file().string(), id}};
}

int diff_command(const std::vector<std::string>& args) {
  Common common;
  std::string config_path, history_file, format = "text", min_change_text = "10%";
  std::size_t max_lines = 20;
  std::vector<std::string> runs;
  po::options_description desc("Options");
  desc.add_options()("format,f", po::value(&format)->value_name("FORMAT"),
                     "text (default) or json")(
      "min-change", po::value(&min_change_text)->value_name("PERCENT"),
      "report a metric when it moved by more than this much of its old value (default 10%; "
      "0 reports every change)")(
      "max-lines", po::value(&max_lines)->value_name("N"),
      "text: at most N lines per section, then '... and K more' (default 20)")(
      "history", po::value(&history_file)->value_name("FILE"),
      "the history database (default: the config's history:, else "
      "/var/lib/triage/history.db)")("config,c", po::value(&config_path)->value_name("FILE"),
                                     "read the database's path from this config's history:");
  add_common_options(desc, common);
  po::options_description all;
  all.add(desc).add_options()("runs", po::value(&runs));
  po::positional_options_description positional;
  positional.add("runs", -1);
  try {
    parse(args, all, &positional);
  } catch (const po::error& e) {
    return usage_error("diff", e.what(), desc);
  }
  if (common.help) {
    std::cout << kHelp << desc << "\n";
    return 0;
  }
  if (runs.size() > 2)
    return usage_error("diff", "at most two runs or reports to compare (triage diff [A [B]])",
                       desc);
  for (const auto& r : runs)
    if (r.empty())
      return usage_error("diff", "an empty argument is neither a run nor a file", desc);
  if (runs.size() == 2 && runs[0] == "-" && runs[1] == "-")
    return usage_error("diff", "standard input ('-') can be only one of the two", desc);
  if (format != "text" && format != "json")
    return usage_error("diff", "unknown --format '" + format + "' (expected text or json)", desc);
  const auto min_change = parse_percent(min_change_text);
  if (!min_change)
    return usage_error("diff",
                       "--min-change '" + min_change_text +
                           "' is not a percentage between 0% and 100000% (e.g. 10%)",
                       desc);
  if (max_lines < 1 || max_lines > kMaxLinesLimit)
    return usage_error("diff", "--max-lines must be between 1 and 100000", desc);
  if (auto stop = check_common("diff", common, desc)) return *stop;
  setup_logging(common);

  const auto file = history_to_read(history_file, config_path);
  if (!file) return kExitConfig;
  LazyHistory history(*file);

  std::optional<Side> a, b;
  try {
    if (runs.empty()) {
      const auto ids = history.latest(2);  // newest first
      a = load_run(ids[1], history);
      b = load_run(ids[0], history);
    } else if (runs.size() == 1) {
      a = load_side(runs[0], history);
      b = load_run(history.latest(1)[0], history);
    } else {
      a = load_side(runs[0], history);
      b = load_side(runs[1], history);
    }
  } catch (const Stop& stop) {
    return stop.code;
  }

  core::DiffOptions options;
  options.min_change = *min_change;
  options.a = a->source;
  options.b = b->source;
  const auto diff = core::diff_reports(a->report, b->report, options);
  if (format == "json")
    std::cout << diff.document.dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
              << "\n";
  else
    std::cout << core::render_diff_text(diff, {locale_is_utf8(), max_lines});
  return diff.worse ? kExitWorse : 0;
}

}  // namespace

int cmd_diff(const std::vector<std::string>& args) {
  return finish_stdout(diff_command(args));
}

}  // namespace triage::cli
