#include "sampling.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <thread>

namespace triage::streaming {

namespace {
using Clock = std::chrono::steady_clock;

// "10s", "1.5s", "500ms", "2m", "0"; nullopt when malformed.
std::optional<std::chrono::milliseconds> parse_window(std::string_view t) {
  double value = 0;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
  if (ec != std::errc() || value < 0) return std::nullopt;
  const std::string_view unit(end, static_cast<std::size_t>(t.data() + t.size() - end));
  double factor = 1000;
  if (unit == "ms")
    factor = 1;
  else if (unit == "s" || unit.empty())
    factor = 1000;
  else if (unit == "m")
    factor = 60000;
  else
    return std::nullopt;
  if (value * factor > 3600e3) return std::nullopt;
  return std::chrono::milliseconds(static_cast<long long>(value * factor));
}
}  // namespace

std::string sampled_topic_properties(std::string_view sample_rule) {
  std::string s = R"json(
    "topic": {
      "type": "string",
      "minLength": 1,
      "maxLength": 249,
      "description": "The topic to measure."
    },
    "sample": {
      "type": ["string", "number"],
      "default": "10s",
      "description": "Window over which messages are counted (high watermark deltas): a duration (\"10s\", \"500ms\", \"2m\"; a number is seconds), at most 1h. Shortened, with a log line, when longer than the check's timeout allows: give the check a timeout above it. )json";
  s.append(sample_rule).append("\"\n    }");
  return s;
}

std::chrono::milliseconds read_sample(const Context& ctx, std::chrono::milliseconds fallback) {
  if (!ctx.has("sample")) return fallback;
  const auto& v = ctx.params().at("sample");
  std::optional<std::chrono::milliseconds> w;
  if (v.is_number() && v.get<double>() >= 0 && v.get<double>() <= 3600)
    w = std::chrono::milliseconds(static_cast<long long>(v.get<double>() * 1000));
  else if (v.is_string())
    w = parse_window(v.get<std::string>());
  if (!w)
    throw ParamError("param 'sample' must be a duration from 0 to 1h (\"10s\", \"500ms\", \"2m\")");
  return *w;
}

std::optional<TopicSample> sample_topic(Context& ctx, Session& s, const std::string& topic,
                                        std::chrono::milliseconds window) {
  const Metadata md = read_metadata(ctx, s);
  if (!md) return std::nullopt;
  const auto* t = require_topic(ctx, s, *md, topic, "topic");
  if (t == nullptr) return std::nullopt;
  TopicSample out;
  for (int p = 0; p < t->partition_cnt; ++p) out.partitions.push_back(t->partitions[p].id);
  std::sort(out.partitions.begin(), out.partitions.end());
  auto failed = [&](const std::vector<Watermarks>& w) {
    for (std::size_t i = 0; i < w.size(); ++i)
      if (w[i].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        report_failure(
            ctx, s, w[i].err,
            "reading the watermarks of " + topic + "/" + std::to_string(out.partitions[i]));
        return true;
      }
    return false;
  };
  const auto first = read_watermarks(ctx, s, topic, out.partitions);
  if (failed(first)) return std::nullopt;
  const auto t0 = Clock::now();
  if (window.count() == 0) {
    for (const auto& w : first) out.messages.push_back(std::max<std::int64_t>(0, w.high - w.low));
    ctx.attribute("sample_s", "0 (current partition sizes)");
    return out;
  }
  // The window must leave time to read the watermarks again and report.
  const auto room =
      std::chrono::milliseconds(budget_ms(ctx)) -
      std::max(std::chrono::milliseconds(500),
               std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0) * 2);
  if (room < window) {
    if (room.count() < 100) {
      ctx.error("no time left for a sample window: raise the check's timeout above sample");
      return std::nullopt;
    }
    ctx.log(LogLevel::warning, "sample window shortened to " + one_decimal(room.count() / 1000.0) +
                                   " s to fit the check's timeout");
    window = room;
  }
  while (Clock::now() - t0 < window) {
    if (ctx.cancelled()) {
      ctx.error("cancelled during the sample window");
      return std::nullopt;
    }
    std::this_thread::sleep_for(
        std::min<Clock::duration>(std::chrono::milliseconds(50), window - (Clock::now() - t0)));
  }
  const auto second = read_watermarks(ctx, s, topic, out.partitions);
  if (failed(second)) return std::nullopt;
  out.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  for (std::size_t i = 0; i < first.size(); ++i)
    out.messages.push_back(std::max<std::int64_t>(0, second[i].high - first[i].high));
  ctx.attribute("sample_s", one_decimal(out.seconds));
  return out;
}

}  // namespace triage::streaming
