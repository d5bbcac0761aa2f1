// The freshness check: the newest file under `target` whose name matches
// `pattern` must be younger than `max_age` — the runbook's "backup success"
// and RPO check. Age comes from the file's mtime, or from a timestamp in its
// name (`name_format`) for backups copied with fresh mtimes.
#include <fnmatch.h>

#include <chrono>
#include <ctime>
#include <optional>
#include <string>
#include <system_error>

#include "checks.hpp"
#include "fs_util.hpp"

namespace triage::storage {

const char* const FreshnessCheck::params_schema = R"json({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "freshness check params",
  "type": "object",
  "properties": {
    "target": {
      "type": "string",
      "minLength": 1,
      "description": "The folder holding the backups or exports (absolute path)."
    },
    "pattern": {
      "type": "string",
      "minLength": 1,
      "default": "*",
      "description": "Shell glob (fnmatch) the file name must match, e.g. \"*.tar.gz\" or \"kafka-offsets-*.json\". Matched against the name only, not the folder."
    },
    "max_age": {
      "type": "string",
      "description": "How old the newest matching file may be: the RPO. A duration like the config's timeouts: a number with unit ms, s (default), m or h (\"5m\", \"1h\", \"4h\", \"24h\")."
    },
    "recursive": {
      "type": "boolean",
      "default": false,
      "description": "Also look in subfolders (symlinks are never followed)."
    },
    "name_format": {
      "type": "string",
      "minLength": 1,
      "description": "Take each file's time from its name instead of its mtime: a strptime format found anywhere in the name, read as UTC (e.g. \"%Y%m%dT%H%M%S\" for db-20261127T030000.dump, \"%Y-%m-%d\" for daily-2026-11-27.tar). Matching files without such a timestamp are ignored."
    },
    "max_files": {
      "type": "integer",
      "minimum": 1,
      "default": 100000,
      "description": "Most files examined; past it the check stops walking, reports what it saw and warns that the answer may be incomplete."
    }
  },
  "required": ["target", "max_age"],
  "additionalProperties": false
})json";

namespace {
constexpr MetricDecl kMetrics[] = {
    // Its default critical range, above max_age, comes with the metric.
    metric("age_s", "s", "Age of the newest matching file; critical above max_age by default")
        .remediation("The job that writes these files stopped or fails: check its schedule "
                     "(systemctl list-timers, crontab -l) and its last run's log, run it by "
                     "hand, and check the destination is reachable and not full."),
};
}  // namespace

const Metrics FreshnessCheck::metrics{kMetrics};

namespace {

using Clock = std::chrono::system_clock;

// The first timestamp in `name` that `format` reads completely, as UTC.
std::optional<Clock::time_point> time_in_name(const std::string& name, const std::string& format) {
  for (std::size_t start = 0; start < name.size(); ++start) {
    std::tm tm{};
    const char* end = ::strptime(name.c_str() + start, format.c_str(), &tm);
    if (end == nullptr) continue;
    const std::time_t t = ::timegm(&tm);
    if (t == static_cast<std::time_t>(-1)) continue;
    return Clock::from_time_t(t);
  }
  return std::nullopt;
}

std::string iso8601(Clock::time_point t) {
  const std::time_t tt = Clock::to_time_t(t);
  std::tm tm{};
  ::gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

void FreshnessCheck::run(Context& ctx) {
  const std::string dir = ctx.target();
  if (dir.empty() || dir.front() != '/')
    throw ParamError("param 'target' must be an absolute folder path, got '" + dir + "'");
  const auto pattern = ctx.param<std::string>("pattern", "*");
  if (pattern.empty()) throw ParamError("param 'pattern' must not be empty");
  const auto max_age_text = ctx.required<std::string>("max_age");
  const auto max_age = parse_duration(max_age_text);
  if (!max_age || max_age->count() == 0)
    throw ParamError(
        "param 'max_age' must be a positive duration like \"5m\", \"1h\" or \"24h\", "
        "got '" +
        max_age_text + "'");
  const bool recursive = ctx.param<bool>("recursive", false);
  const std::optional<std::string> name_format =
      ctx.has("name_format") ? std::optional(ctx.required<std::string>("name_format"))
                             : std::nullopt;
  if (name_format && name_format->empty())
    throw ParamError("param 'name_format' must not be empty");
  const auto max_files = ctx.param<std::int64_t>("max_files", 100000);
  if (max_files < 1) throw ParamError("param 'max_files' must be at least 1");

  const std::string rpo = human_duration(*max_age);
  auto none_found = [&](const std::string& why) {
    ctx.finding(Severity::critical, "No backup found", why,
                "The job that writes " + pattern + " into " + dir +
                    " has not run or is failing: check its schedule (cron/systemd timer, "
                    "orchestrator) and its last logs, and that it writes to this folder. The "
                    "RPO of " +
                    rpo + " is not met until a new copy lands.");
    ctx.status(Status::critical, "no file matching " + pattern + " in " + dir);
  };

  std::optional<Clock::time_point> newest;
  std::string newest_name;
  std::int64_t matched = 0, undated = 0;
  WalkResult walked;
  try {
    walked = walk(
        ctx, dir, recursive, max_files, [](const WalkEntry&) { return true; },
        [&](const WalkEntry& e) {
          if (::fnmatch(pattern.c_str(), e.name.c_str(), FNM_PERIOD) != 0) return;
          ++matched;
          std::optional<Clock::time_point> when =
              name_format ? time_in_name(e.name, *name_format) : std::optional(e.mtime);
          if (!when) {
            ++undated;
            return;
          }
          if (!newest || *when > *newest) {
            newest = when;
            newest_name = e.relative;
          }
        });
  } catch (const std::system_error& e) {
    const int err = e.code().value();
    if (err == ENOENT || err == ENOTDIR)
      return none_found(dir + " does not exist or is not a folder (" + errno_text(err) + ")");
    ctx.finding(Severity::critical, "Backup folder not readable", dir + ": " + errno_text(err),
                "Check the folder's owner and mode (ls -ld " + dir +
                    ") and that the check runs as a user allowed to read it.");
    return ctx.status(Status::critical, dir + " not readable");
  }
  if (walked.end == WalkEnd::cancelled)
    return ctx.error("cancelled while walking " + dir + " after " + std::to_string(walked.seen) +
                     " files");
  ctx.attribute("files_matched", std::to_string(matched));
  report_unreadable(ctx, walked, dir, "a newer file");
  if (walked.end == WalkEnd::capped)
    ctx.finding(Severity::warning, "Too many files to examine",
                "stopped after max_files=" + std::to_string(max_files) + " files in " + dir +
                    "; a newer file may exist beyond them",
                "Narrow the folder or pattern, turn off recursive, or raise max_files (and the "
                "check's timeout).");

  if (!newest) {
    std::string why = matched == 0 ? "no file in " + dir + (recursive ? " (recursively)" : "") +
                                         " matches " + pattern
                                   : std::to_string(matched) + " files match " + pattern +
                                         " but none has a timestamp in the format " + *name_format;
    return none_found(why);
  }

  const auto age = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - *newest);
  const double age_s = static_cast<double>(age.count()) / 1000.0;
  ctx.attribute("newest_file", newest_name);
  ctx.attribute("newest_time", iso8601(*newest));
  ctx.attribute("max_age", max_age_text);
  // "~:N", not "N": a file dated slightly in the future (negative age) is a
  // clock matter reported below, not an RPO breach.
  const std::string max_s = "~:" + one_decimal(static_cast<double>(max_age->count()) / 1000.0);
  ctx.metric("age_s", age_s, "s", Thresholds{{}, max_s});

  if (age.count() < -60'000) {
    ctx.finding(Severity::warning, "Newest file is dated in the future",
                newest_name + " is dated " + iso8601(*newest) + ", " + human_duration(-age) +
                    " ahead of this host's clock",
                "Check the clocks (timedatectl; chrony/ntp) of this host and of the host that "
                "writes the files" +
                    std::string(name_format ? ", and the timezone used in the file names" : "") +
                    ".");
  }
  if (age > *max_age) {
    ctx.finding(Severity::critical, "Backup older than its RPO",
                "newest " + pattern + " in " + dir + " is " + newest_name + ", " +
                    human_duration(age) + " old (" + iso8601(*newest) + "); max_age is " + rpo,
                "The backup/export job is late or failing: check its schedule and last run's "
                "logs, run it by hand if needed, and verify the copy is restorable. Data written "
                "since " +
                    iso8601(*newest) + " is at risk.");
    return ctx.status(Status::critical,
                      newest_name + " is " + human_duration(age) + " old, over " + rpo);
  }
  ctx.status(
      Status::ok,
      newest_name + " is " +
          human_duration(age < std::chrono::milliseconds(0) ? std::chrono::milliseconds(0) : age) +
          " old (max " + rpo + ")");
}

}  // namespace triage::storage
