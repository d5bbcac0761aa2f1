// Placeholder while issue 16's work fills it in.
#include <iostream>

#include "commands.hpp"

namespace triage::cli {
int cmd_serve(const std::vector<std::string>&) {
  std::cerr << "triage serve: not implemented yet\n";
  return 70;
}
}  // namespace triage::cli
