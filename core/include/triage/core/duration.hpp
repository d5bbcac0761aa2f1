// Durations in config and on the command line: "250ms", "10s", "2m", "1h",
// "1.5s"; a bare number means seconds.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace triage::core {

// nullopt when text is not a duration.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

// "250ms", "10s", "1.5s", "2m" — the shortest exact spelling.
std::string format_duration(std::chrono::milliseconds d);

}  // namespace triage::core
