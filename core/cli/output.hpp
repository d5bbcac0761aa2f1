// Where a command's report goes: stdout in the -f format, and every -o FILE
// in the format its extension names, each written atomically.
#pragma once

#include <atomic>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "options.hpp"
#include "triage/core/report.hpp"

namespace triage::cli {

struct OutputOptions {
  std::string format_name;           // -f/--format, for stdout
  std::vector<std::string> outputs;  // -o/--output, repeatable

  // Resolved by check(): what goes where.
  std::optional<core::Format> stdout_format;  // nullopt: nothing on stdout
  std::vector<std::pair<std::string, core::Format>> files;
};

// Adds -f/--format and -o/--output to desc.
void add_output_options(po::options_description& desc, OutputOptions& output);

// Resolves the formats and refuses, before anything runs, an unknown format,
// the same file twice, or a file whose folder is missing or not writable.
// Returns the usage error's exit code to stop with.
std::optional<int> check_output_options(const std::string& command, OutputOptions& output,
                                        const po::options_description& desc);

// Renders the report into every destination. Returns 0, or kExitSoftware
// when a file or standard output could not be written (said on stderr; the
// others are written). See finish_stdout for standard output. A file that
// blocks (a FIFO without a reader) is given up once *cancel turns true.
int write_report(const nlohmann::ordered_json& report, const OutputOptions& output,
                 const Common& common, const std::atomic<bool>* cancel = nullptr);

// Flushes standard output (the C++ stream and C stdio) and checks that all
// that was printed on it reached it. Returns `code` when it did. When it did
// not:
// - the reader went away (EPIPE, e.g. `triage list | head -1` with SIGPIPE
//   ignored by whoever started us): ends the process quietly, killed by
//   SIGPIPE as when SIGPIPE is not ignored (a shell shows status 141);
// - any other error (a full disk, /dev/full, EIO): prints "triage: cannot
//   write to standard output: <reason>" on stderr, once per process, and
//   returns kExitSoftware (70).
int finish_stdout(int code);

// True when argv asks for the Nagios view on stdout (-f nagios,
// --format nagios, --format=nagios, -fnagios), before it is parsed: a
// monitoring system then gets its one "TRIAGE UNKNOWN" line even for a
// usage error.
bool wants_nagios(const std::vector<std::string>& args);

// Runs a command whose stdout a monitoring system reads as Nagios output:
// when the command fails before printing a report (usage 64, config 78, ...),
// prints "TRIAGE UNKNOWN - <its first error line>" on stdout and returns 3.
int with_nagios_fallback(const std::vector<std::string>& args,
                         int (*command)(const std::vector<std::string>&));

// The locale's character set is UTF-8 (LC_ALL, else LC_CTYPE, else LANG):
// the text views use UTF-8 marks then, ASCII otherwise.
bool locale_is_utf8();

// A saved JSON report (`triage run -o FILE.json`), as `triage report` and
// `triage diff` read one: FILE, or standard input for '-', at most 512 MiB,
// checked with core::check_report_shape. On failure exit_code says how to
// stop (66 unreadable or a folder, 65 too big, not JSON or not a report)
// and stderr has said why, as "triage COMMAND: NAME ...", the name and the
// parser's words cleaned for the terminal; `cannot_read_hint` ends the
// "cannot read" line.
struct SavedReport {
  nlohmann::ordered_json report;
  int exit_code = 0;  // 0: report holds it
};
SavedReport read_saved_report(const std::string& command, const std::string& file,
                              const std::string& cannot_read_hint = "");

}  // namespace triage::cli
