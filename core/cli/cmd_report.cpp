// `triage report FILE`: renders a saved JSON report again, in any view (the
// post-incident review of last night's sweep).
#include <fstream>
#include <iostream>
#include <sstream>

#include "commands.hpp"
#include "output.hpp"

namespace triage::cli {

namespace {

constexpr const char* kHelp = R"(Usage: triage report FILE [options]

Renders a report that `triage run -o FILE.json` (or -f json) saved, in any
view: text, json, ndjson, nagios, junit or prometheus. FILE '-' reads standard
input. The exit code is the saved run's (0 ok, 1 warning, 2 critical,
3 unknown); 64 bad usage; 65 FILE is not a triage report; 66 FILE cannot be
read; 70 an --output could not be written.

Examples:
  triage report last-night.json                    the table, failures first
  triage report last-night.json -f nagios
  triage report last-night.json -o review.xml -o metrics.prom

)";

constexpr int kExitDataErr = 65;  // EX_DATAERR

// The command; cmd_report below checks that what it printed reached stdout.
int report_command(const std::vector<std::string>& args) {
  Common common;
  OutputOptions output;
  po::options_description desc("Options");
  add_output_options(desc, output);
  add_common_options(desc, common);
  std::string file;
  const OneArgCommand cmd{"report", kHelp, "file",
                          "which report? (triage report FILE; '-' for standard input)"};
  if (auto stop = parse_one_arg(cmd, args, desc, file, common.help)) return *stop;
  if (auto stop = check_common("report", common, desc)) return *stop;
  if (auto stop = check_output_options("report", output, desc)) return *stop;
  setup_logging(common);

  auto saved = read_saved_report("report", file);
  if (saved.exit_code != 0) return saved.exit_code;
  const auto& report = saved.report;
  int code = 0;
  try {
    code = write_report(report, output, common);
  } catch (const nlohmann::json::exception& e) {
    std::cerr << "triage report: " << file << " is not a triage report: " << e.what() << "\n";
    return kExitDataErr;
  }
  return code != 0 ? code : core::report_exit_code(report);
}

}  // namespace

int cmd_report(const std::vector<std::string>& args) {
  return finish_stdout(report_command(args));
}

}  // namespace triage::cli
