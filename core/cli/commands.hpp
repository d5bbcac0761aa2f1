// The `triage` commands; each takes the arguments after its name and returns
// the process exit code.
#pragma once

#include <string>
#include <vector>

namespace triage::cli {

int cmd_run(const std::vector<std::string>& args);
int cmd_list(const std::vector<std::string>& args);
int cmd_plugins(const std::vector<std::string>& args);

}  // namespace triage::cli
