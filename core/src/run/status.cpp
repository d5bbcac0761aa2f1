#include "triage/core/status.hpp"

#include <triage/evaluation.hpp>

#include <array>

namespace triage::core {

namespace {
constexpr std::array<std::string_view, 5> kNames{"ok", "warning", "critical", "unknown", "skipped"};
}

std::string_view to_string(Status s) {
  return kNames.at(static_cast<std::size_t>(s));
}

std::optional<Status> parse_status(std::string_view text) {
  for (std::size_t i = 0; i < kNames.size(); ++i)
    if (kNames[i] == text) return static_cast<Status>(i);
  return std::nullopt;
}

int severity_rank(Status s) {
  return s == Status::skipped ? 0 : evaluation::severity_rank(static_cast<std::int32_t>(s));
}

Status worst(Status a, Status b) {
  return severity_rank(a) >= severity_rank(b) ? a : b;
}

int exit_code(Status s) {
  return s == Status::skipped ? 0 : static_cast<int>(s);
}

}  // namespace triage::core
