// The `triage` commands; each takes the arguments after its name and returns
// the process exit code.
#pragma once

#include <string>
#include <vector>

namespace triage::cli {

inline constexpr int kExitCantCreate = 73;  // EX_CANTCREAT: `plugin new` cannot write

int cmd_run(const std::vector<std::string>& args);
int cmd_check(const std::vector<std::string>& args);
int cmd_report(const std::vector<std::string>& args);
int cmd_list(const std::vector<std::string>& args);
int cmd_plugins(const std::vector<std::string>& args);
int cmd_history(const std::vector<std::string>& args);
int cmd_diff(const std::vector<std::string>& args);
int cmd_serve(const std::vector<std::string>& args);

// `triage plugin new|info|validate` (cmd_plugin dispatches to the others).
int cmd_plugin(const std::vector<std::string>& args);
int cmd_plugin_new(const std::vector<std::string>& args);
int cmd_plugin_info(const std::vector<std::string>& args);
int cmd_plugin_validate(const std::vector<std::string>& args);

}  // namespace triage::cli
