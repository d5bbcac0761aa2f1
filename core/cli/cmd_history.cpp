// `triage history`: the runs recorded in the history database, newest
// first, or with --check one check's timeline (its status changes marked,
// its metrics per run), as a table or a JSON document (docs/cli.md).
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "commands.hpp"
#include "options.hpp"
#include "output.hpp"
#include "run_flow.hpp"
#include "triage/core/history.hpp"
#include "triage/core/text_format.hpp"

namespace triage::cli {

namespace {

constexpr const char* kHelp = R"(Usage: triage history [options]

Lists the runs recorded in a history database (by `triage run --history`,
history: in the config, or `triage serve`), newest first: run number, start
time, status, counts by status, duration and host. With --check ID, that
check's timeline instead: its status in each run (a change from the run
before is marked), summary and metric values.

The database is --history FILE, else the history: of the config given with
-c, else /var/lib/triage/history.db. It is only read (never created).

Exit code: 0 listed (also when nothing matched); 64 bad usage; 66 no
database at that path; 74 the database cannot be read (corrupt, locked,
not a triage history, made by a newer triage); 78 bad config.

Examples:
  triage history                               the last 20 runs
  triage history --history ./h.db --since 24h --limit 100
  triage history --check api-latency           one check's timeline
  triage history -c /etc/triage/triage.yaml -f json

)";

constexpr int kExitNoInput = 66;  // EX_NOINPUT
constexpr int kExitIoErr = 74;    // EX_IOERR
constexpr std::size_t kDefaultLimit = 20;

// Text from the database goes through escape_control: a planted or damaged
// file must not drive the terminal.
std::string shown(const std::string& text) {
  return core::escape_control(text);
}

// "4ms", "2.31s", "95.2s": the shortest that still tells runs apart.
std::string seconds(double s) {
  char buffer[32];
  if (s < 1)
    std::snprintf(buffer, sizeof buffer, "%.0fms", s * 1000);
  else
    std::snprintf(buffer, sizeof buffer, s < 10 ? "%.2fs" : "%.1fs", s);
  return buffer;
}

std::string pad(std::string text, std::size_t width) {
  if (text.size() < width) text.append(width - text.size(), ' ');
  return text;
}

std::string rpad(const std::string& text, std::size_t width) {
  return text.size() < width ? std::string(width - text.size(), ' ') + text : text;
}

nlohmann::ordered_json runs_json(const std::vector<core::RunSummary>& runs) {
  auto out = nlohmann::ordered_json::array();
  for (const auto& r : runs)
    out.push_back({{"id", r.id},
                   {"run_id", r.run_id},
                   {"started_at", r.started_at},
                   {"duration_ms", r.duration_s * 1000.0},
                   {"status", r.status},
                   {"partial", r.partial},
                   {"host", r.host},
                   {"config_path", r.config_path.empty() ? nlohmann::ordered_json(nullptr)
                                                         : nlohmann::ordered_json(r.config_path)},
                   {"counts", r.counts}});
  return out;
}

void print_runs(const std::string& file, const std::vector<core::RunSummary>& runs) {
  std::cout << "history " << shown(file) << ": " << runs.size()
            << (runs.size() == 1 ? " run" : " runs") << ", newest first\n";
  if (runs.empty()) return;
  std::cout << "  RUN  STARTED (UTC)             STATUS      OK  WARN  CRIT  UNKN  SKIP  "
               "DURATION  HOST\n";
  for (const auto& r : runs) {
    std::cout << rpad(std::to_string(r.id), 5) << "  " << pad(shown(r.started_at), 26)
              << pad(shown(r.status) + (r.partial ? "*" : ""), 9);
    for (const char* s : {"ok", "warning", "critical", "unknown", "skipped"})
      std::cout << rpad(std::to_string(r.counts.value(s, 0)), 6);
    std::cout << rpad(seconds(r.duration_s), 10) << "  " << shown(r.host) << "\n";
  }
  for (const auto& r : runs)
    if (r.partial) {
      std::cout << "(* partial: the run was interrupted or cut by --deadline)\n";
      break;
    }
}

std::string metrics_text(const nlohmann::json& metrics) {
  std::string out;
  for (const auto& [name, value] : metrics.items()) {
    // Up to 12 significant digits: a byte count stays a whole number
    // (74701099008, not 7.47011e+10).
    char v[32];
    std::snprintf(v, sizeof v, "%.12g", value.get<double>());
    out += (out.empty() ? "" : " ") + shown(name) + "=" + v;
  }
  return out;
}

// A point's status differs from the one of the run before it (the next
// older point); the oldest listed has nothing to compare with.
std::optional<std::string> previous_status(const std::vector<core::CheckPoint>& points,
                                           std::size_t i) {
  if (i + 1 >= points.size()) return std::nullopt;
  return points[i + 1].status;
}

nlohmann::ordered_json timeline_json(const std::vector<core::CheckPoint>& points) {
  auto out = nlohmann::ordered_json::array();
  for (std::size_t i = 0; i < points.size(); ++i) {
    const auto& p = points[i];
    const auto before = previous_status(points, i);
    nlohmann::ordered_json metrics = nlohmann::ordered_json::object();
    for (const auto& [name, value] : p.metrics.items()) metrics[name] = value;
    out.push_back({{"run", p.run},
                   {"started_at", p.started_at},
                   {"status", p.status},
                   {"previous_status", before ? nlohmann::ordered_json(*before) : nullptr},
                   {"changed", before.has_value() && *before != p.status},
                   {"summary", p.summary},
                   {"error", p.error.empty() ? nlohmann::ordered_json(nullptr)
                                             : nlohmann::ordered_json(p.error)},
                   {"duration_ms", p.duration_ms},
                   {"metrics", metrics}});
  }
  return out;
}

void print_timeline(const std::string& file, const std::string& check,
                    const std::vector<core::CheckPoint>& points) {
  std::cout << "check " << shown(check) << " in history " << shown(file) << ": " << points.size()
            << (points.size() == 1 ? " result" : " results") << ", newest first\n";
  if (points.empty()) return;
  std::cout << "  RUN  STARTED (UTC)             STATUS    CHANGE             DURATION  "
               "SUMMARY / METRICS\n";
  for (std::size_t i = 0; i < points.size(); ++i) {
    const auto& p = points[i];
    const auto before = previous_status(points, i);
    const std::string change =
        before && *before != p.status ? "<- was " + shown(*before) : std::string();
    std::cout << rpad(std::to_string(p.run), 5) << "  " << pad(shown(p.started_at), 26)
              << pad(shown(p.status), 10) << pad(change, 17)
              << rpad(seconds(p.duration_ms / 1000.0), 10) << "  "
              << shown(p.error.empty() || p.error == p.summary ? p.summary
                                                               : p.summary + " (" + p.error + ")")
              << "\n";
    if (!p.metrics.empty())
      std::cout << std::string(5 + 2 + 26 + 10 + 17 + 10 + 2, ' ') << metrics_text(p.metrics)
                << "\n";
  }
}

int history_command(const std::vector<std::string>& args) {
  Common common;
  std::string config_path, history_file, check, since_text, format = "text";
  std::size_t limit = kDefaultLimit;
  po::options_description desc("Options");
  desc.add_options()("check", po::value(&check)->value_name("ID"),
                     "one check's timeline (its id in the report, e.g. web[example.com])")(
      "since", po::value(&since_text)->value_name("DURATION"),
      "only runs started within this long (e.g. 24h, 7d)")(
      "limit", po::value(&limit)->value_name("N"),
      "at most N runs or results (default 20, at most 100000)")(
      "format,f", po::value(&format)->value_name("FORMAT"), "text (default) or json")(
      "history", po::value(&history_file)->value_name("FILE"),
      "the history database (default: the config's history:, else "
      "/var/lib/triage/history.db)")("config,c", po::value(&config_path)->value_name("FILE"),
                                     "read the database's path from this config's history:");
  add_common_options(desc, common);
  try {
    parse(args, desc);
  } catch (const po::error& e) {
    return usage_error("history", e.what(), desc);
  }
  if (common.help) {
    std::cout << kHelp << desc << "\n";
    return 0;
  }
  if (format != "text" && format != "json")
    return usage_error("history", "unknown --format '" + format + "' (expected text or json)",
                       desc);
  if (limit < 1 || limit > core::kMaxHistoryLimit)
    return usage_error("history", "--limit must be between 1 and 100000", desc);
  std::optional<std::chrono::system_clock::time_point> since;
  if (!since_text.empty()) {
    const auto age = core::parse_age(since_text);
    if (!age)
      return usage_error("history", "--since '" + since_text + "' is not a duration (e.g. 24h, 7d)",
                         desc);
    since = std::chrono::system_clock::now() - *age;
  }
  if (auto stop = check_common("history", common, desc)) return *stop;
  setup_logging(common);

  const auto chosen = history_to_read(history_file, config_path);
  if (!chosen) return kExitConfig;
  const std::filesystem::path file = *chosen;
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::symlink_status(file, ec))) {
    std::cerr << "triage history: no history at " << shown(file.string())
              << ": nothing recorded there yet (triage run --history FILE, or history: in the "
                 "config, records runs); name the database with --history FILE\n";
    return kExitNoInput;
  }
  try {
    const core::History history(file, core::History::Open::open_existing);
    if (check.empty()) {
      const auto runs = history.runs(since, limit);
      if (format == "json")
        std::cout << nlohmann::ordered_json{{"history", file.string()}, {"runs", runs_json(runs)}}
                         .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
                  << "\n";
      else
        print_runs(file.string(), runs);
    } else {
      const auto points = history.timeline(check, since, limit);
      if (format == "json")
        std::cout << nlohmann::ordered_json{{"history", file.string()},
                                            {"check", check},
                                            {"timeline", timeline_json(points)}}
                         .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
                  << "\n";
      else
        print_timeline(file.string(), check, points);
    }
  } catch (const core::HistoryError& e) {
    std::cerr << "triage history: " << shown(e.what()) << "\n";
    return kExitIoErr;
  }
  return 0;
}

}  // namespace

int cmd_history(const std::vector<std::string>& args) {
  return finish_stdout(history_command(args));
}

}  // namespace triage::cli
