// Messages written to a topic's partitions over a window: high watermarks
// read twice, `window` apart (or, for a window of 0, the partitions' current
// sizes). Shared by the skew and throughput checks.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <triage/plugin.hpp>

#include "kafka.hpp"

namespace triage::streaming {

struct TopicSample {
  std::vector<std::int32_t> partitions;
  std::vector<std::int64_t> messages;  // per partition, in the window (or in total)
  double seconds = 0;                  // the window measured (0: current sizes)
};

// The schema entries of the `topic` and `sample` params (a JSON fragment for
// schema_with_connection); `sample_rule` ends the sample's description.
std::string sampled_topic_properties(std::string_view sample_rule);

// Reads the `sample` param (a duration, default 10s; "0" = current sizes).
// A window longer than the time the check has left is shortened to fit, and
// the attribute sample_s says what was measured.
std::chrono::milliseconds read_sample(const Context& ctx, std::chrono::milliseconds fallback);

// nullopt when it failed (already reported).
std::optional<TopicSample> sample_topic(Context& ctx, Session& s, const std::string& topic,
                                        std::chrono::milliseconds window);

}  // namespace triage::streaming
