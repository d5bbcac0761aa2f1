// The small_files check: counts the data files of a Parquet/Delta table
// folder (partition folders like date=2026-11-01/ included), their sizes and
// the share below small_file_bytes, and for Delta tables the JSON commits
// written since the last checkpoint. Many small files and a long
// uncheckpointed log are what make table reads slow; the runbook's answer is
// "Run OPTIMIZE regularly", Z-ORDER and compaction.
#include <fnmatch.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <system_error>

#include <nlohmann/json.hpp>

#include "checks.hpp"
#include "fs_util.hpp"

namespace triage::storage {

const char* const SmallFilesCheck::params_schema = R"json({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "small_files check params",
  "type": "object",
  "properties": {
    "target": {
      "type": "string",
      "minLength": 1,
      "description": "The table's root folder (absolute path): the folder holding the data files, partition folders (date=2026-11-01/) and, for Delta tables, _delta_log/."
    },
    "small_file_bytes": {
      "type": "integer",
      "minimum": 1,
      "default": 33554432,
      "description": "A data file smaller than this many bytes counts as small (default 32 MiB; OPTIMIZE aims at about 1 GiB files)."
    },
    "data_pattern": {
      "type": "string",
      "minLength": 1,
      "default": "*.parquet",
      "description": "Shell glob (fnmatch) a data file's name must match. Names starting with _ or . (_SUCCESS, .crc files) and folders starting with _ or . (_delta_log, _spark_metadata, staging) are never counted."
    },
    "min_files": {
      "type": "integer",
      "minimum": 0,
      "default": 16,
      "description": "Fewer data files than this and small_files_pct gets no default thresholds and no finding: a small table made of a few small files is not worth compacting."
    },
    "max_files": {
      "type": "integer",
      "minimum": 1,
      "default": 1000000,
      "description": "Most files examined; past it the check stops, reports the counts so far and warns that they are incomplete."
    }
  },
  "required": ["target"],
  "additionalProperties": false
})json";

namespace {
constexpr const char* kCompact =
    "Compact the table (Delta: OPTIMIZE, with ZORDER BY the common filters; Spark: rewrite "
    "with fewer, larger files) and write bigger batches (runbook: run OPTIMIZE regularly, "
    "implement data compaction).";
constexpr MetricDecl kMetrics[] = {
    metric("files", "", "Data files counted"),
    metric("bytes", "B", "Total size of the data files"),
    metric("mean_file_bytes", "B", "bytes / files").remediation(kCompact),
    // Its default ranges (warning 30, critical 80) come with the metric, and
    // only once min_files files are counted.
    metric("small_files_pct", "%",
           "Share of data files below small_file_bytes; warning 30, critical 80 from min_files "
           "files")
        .remediation(kCompact),
    metric("commits_since_checkpoint", "",
           "Delta only: commits newer than the last checkpoint (one is due every 10)")
        .warning("30")
        .remediation("Checkpoints are not being written: check the writer's "
                     "delta.checkpointInterval and that its job has write access to _delta_log; "
                     "a checkpoint is written by the next commit of a healthy writer."),
};
}  // namespace

const Metrics SmallFilesCheck::metrics{kMetrics};

namespace {

// Above these the table is worth compacting; see docs/small_files.md.
constexpr Thresholds kSmallPctDefaults{"30", "80"};
constexpr double kSmallPctFinding = 30;
// Delta writes a checkpoint every 10 commits by default; 30 pending commits
// means at least two were missed.
constexpr Thresholds kCommitDefaults{"30", {}};
constexpr std::int64_t kCommitFinding = 30;

// The version in a Delta log file name "00000000000000000012.json" or
// "00000000000000000010.checkpoint[.part.parts].parquet"; nullopt otherwise.
std::optional<std::int64_t> log_version(const std::string& name, std::string_view suffix) {
  if (name.size() < 20 + suffix.size()) return std::nullopt;
  std::int64_t v = 0;
  const auto [ptr, ec] = std::from_chars(name.data(), name.data() + 20, v);
  if (ec != std::errc() || ptr != name.data() + 20) return std::nullopt;
  const std::string_view rest(name.data() + 20, name.size() - 20);
  if (suffix == ".json") return rest == ".json" ? std::optional(v) : std::nullopt;
  const bool checkpoint =
      rest.substr(0, 11) == ".checkpoint" && rest.size() >= 19 && rest.ends_with(".parquet");
  return checkpoint ? std::optional(v) : std::nullopt;
}

struct DeltaLog {
  bool present = false;
  std::optional<std::int64_t> checkpoint;  // last checkpoint version
  std::string checkpoint_source;           // "_last_checkpoint" or the file name
  std::int64_t commits_since = 0;
  std::int64_t latest = -1;
};

DeltaLog read_delta_log(Context& ctx, const std::string& table) {
  DeltaLog log;
  const std::string dir = table + "/_delta_log";
  std::vector<std::int64_t> commits;
  std::optional<std::int64_t> newest_checkpoint_file;
  try {
    walk(
        ctx, dir, false, 10'000'000, [](const WalkEntry&) { return false; },
        [&](const WalkEntry& e) {
          if (auto v = log_version(e.name, ".json")) commits.push_back(*v);
          if (auto v = log_version(e.name, ".checkpoint"))
            newest_checkpoint_file = std::max(newest_checkpoint_file.value_or(-1), *v);
        });
  } catch (const std::system_error&) {
    return log;  // no _delta_log: a plain Parquet table
  }
  log.present = true;
  std::ifstream in(dir + "/_last_checkpoint");
  if (in) {
    std::ostringstream text;
    text << in.rdbuf();
    const auto j = nlohmann::json::parse(text.str(), nullptr, false);
    if (j.is_object() && j.contains("version") && j["version"].is_number_integer()) {
      log.checkpoint = j["version"].get<std::int64_t>();
      log.checkpoint_source = "_last_checkpoint";
    }
  }
  if (!log.checkpoint && newest_checkpoint_file) {
    log.checkpoint = newest_checkpoint_file;
    log.checkpoint_source = "checkpoint file";
  }
  for (const auto v : commits) {
    log.latest = std::max(log.latest, v);
    if (!log.checkpoint || v > *log.checkpoint) ++log.commits_since;
  }
  return log;
}

}  // namespace

void SmallFilesCheck::run(Context& ctx) {
  const std::string table = ctx.target();
  if (table.empty() || table.front() != '/')
    throw ParamError("param 'target' must be an absolute folder path, got '" + table + "'");
  const auto small_bytes = ctx.param<std::int64_t>("small_file_bytes", 32LL << 20);
  if (small_bytes < 1) throw ParamError("param 'small_file_bytes' must be at least 1");
  const auto pattern = ctx.param<std::string>("data_pattern", "*.parquet");
  if (pattern.empty()) throw ParamError("param 'data_pattern' must not be empty");
  const auto min_files = ctx.param<std::int64_t>("min_files", 16);
  if (min_files < 0) throw ParamError("param 'min_files' must not be negative");
  const auto max_files = ctx.param<std::int64_t>("max_files", 1'000'000);
  if (max_files < 1) throw ParamError("param 'max_files' must be at least 1");

  std::int64_t files = 0, small = 0;
  double bytes = 0;
  std::map<std::string, std::int64_t> small_by_partition;
  WalkResult walked;
  try {
    walked = walk(
        ctx, table, true, max_files,
        [](const WalkEntry& e) { return e.name.front() != '_' && e.name.front() != '.'; },
        [&](const WalkEntry& e) {
          if (e.name.front() == '_' || e.name.front() == '.') return;
          if (::fnmatch(pattern.c_str(), e.name.c_str(), 0) != 0) return;
          ++files;
          bytes += static_cast<double>(e.size);
          if (e.size < small_bytes) {
            ++small;
            const auto slash = e.relative.rfind('/');
            ++small_by_partition[slash == std::string::npos ? "" : e.relative.substr(0, slash)];
          }
        });
  } catch (const std::system_error& e) {
    const int err = e.code().value();
    ctx.finding(
        Severity::critical,
        err == ENOENT || err == ENOTDIR ? "Table folder not found" : "Table folder not readable",
        table + ": " + errno_text(err),
        "Check the table path (a mounted data lake path or a local copy) and that the "
        "check runs as a user allowed to read it.");
    return ctx.status(Status::critical, table + ": " + errno_text(err));
  }
  if (walked.end == WalkEnd::cancelled)
    return ctx.error("cancelled while walking " + table + " after " + std::to_string(walked.seen) +
                     " files");
  report_unreadable(ctx, walked, table, "files not counted");
  if (walked.end == WalkEnd::capped)
    ctx.finding(Severity::warning, "Too many files to examine",
                "stopped after max_files=" + std::to_string(max_files) + " files in " + table +
                    "; the counts cover only those",
                "Raise max_files (and the check's timeout), or point the check at one partition. "
                "A table this fragmented needs OPTIMIZE anyway.");

  const DeltaLog log = read_delta_log(ctx, table);
  const double mean = files > 0 ? bytes / static_cast<double>(files) : 0;
  const double pct =
      files > 0 ? 100.0 * static_cast<double>(small) / static_cast<double>(files) : 0;
  const bool judged = files >= min_files && files > 0;

  ctx.attribute("format", log.present ? "delta" : "parquet");
  ctx.metric("files", static_cast<double>(files));
  ctx.metric("bytes", bytes, "B");
  ctx.metric("mean_file_bytes", mean, "B");
  ctx.metric("small_files_pct", pct, "%", judged ? kSmallPctDefaults : Thresholds{});
  if (log.present) {
    ctx.metric("commits_since_checkpoint", static_cast<double>(log.commits_since), "",
               kCommitDefaults);
    ctx.attribute("latest_version", std::to_string(log.latest));
    ctx.attribute("checkpoint_version",
                  log.checkpoint ? std::to_string(*log.checkpoint) : std::string("none"));
  }

  std::string worst_partition;
  std::int64_t worst_small = 0;
  for (const auto& [partition, n] : small_by_partition)
    if (n > worst_small) {
      worst_small = n;
      worst_partition = partition;
    }
  if (!worst_partition.empty()) ctx.attribute("most_small_files_in", worst_partition);

  if (judged && pct > kSmallPctFinding) {
    std::string detail = std::to_string(small) + " of " + std::to_string(files) + " data files (" +
                         one_decimal(pct) + "%) are under " +
                         human_bytes(static_cast<double>(small_bytes)) + "; mean file size " +
                         human_bytes(mean);
    if (!worst_partition.empty())
      detail += "; most in " + worst_partition + " (" + std::to_string(worst_small) + ")";
    ctx.finding(
        Severity::info, "Too many small files", detail,
        std::string(log.present ? "Run OPTIMIZE regularly (OPTIMIZE <table> WHERE <recent "
                                  "partitions> ZORDER BY (<common filter columns>)), configure "
                                  "Z-ORDER by common filters, then VACUUM <table> RETAIN 168 "
                                  "HOURS; for streaming writers enable optimized writes / "
                                  "auto compaction."
                                : "Implement data compaction: rewrite each partition into fewer, "
                                  "larger files (e.g. Spark repartition/coalesce to ~1 GiB "
                                  "files), and make writers batch more rows per file."));
  }
  if (log.present && log.commits_since > kCommitFinding)
    ctx.finding(Severity::info, "Delta log not checkpointed",
                std::to_string(log.commits_since) + " commits since " +
                    (log.checkpoint ? "checkpoint " + std::to_string(*log.checkpoint) + " (from " +
                                          log.checkpoint_source + ")"
                                    : std::string("the table was created (no checkpoint)")) +
                    "; every reader replays them to plan a query",
                "Check delta.checkpointInterval (default 10) and that writers can write "
                "checkpoints (permissions on _delta_log, writer errors); running OPTIMIZE "
                "also writes a new checkpoint.");

  std::string summary = std::to_string(files) + " data files, " + human_bytes(bytes) + ", mean " +
                        human_bytes(mean) + ", " + one_decimal(pct) + "% under " +
                        human_bytes(static_cast<double>(small_bytes));
  if (log.present)
    summary += ", " + std::to_string(log.commits_since) + " commits since checkpoint";
  ctx.status(Status::ok, summary);
}

}  // namespace triage::storage
