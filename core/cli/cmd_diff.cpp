// Placeholder while issue 16's work fills it in.
#include <iostream>

#include "commands.hpp"

namespace triage::cli {
int cmd_diff(const std::vector<std::string>&) {
  std::cerr << "triage diff: not implemented yet\n";
  return 70;
}
}  // namespace triage::cli
