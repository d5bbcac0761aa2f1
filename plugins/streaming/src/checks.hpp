// The streaming plugin's check types, one class each per the SDK's wrapper;
// see plugins/streaming/README.md and docs/ for params, metrics and findings.
#pragma once

#include <triage/plugin.hpp>

namespace triage::streaming {

struct BrokersCheck {
  static constexpr const char* name = "brokers";
  static constexpr const char* description =
      "Reads cluster metadata, then probes every listed broker on its own connection";
  static const char* const params_schema;
  static const Metrics metrics;
  void run(Context& ctx);
};

struct TopicCheck {
  static constexpr const char* name = "topic";
  static constexpr const char* description =
      "Partitions of a topic (or all): offline, under-replicated, under min ISR, leader skew";
  static const char* const params_schema;
  static const Metrics metrics;
  void run(Context& ctx);
};

struct ConsumerLagCheck {
  static constexpr const char* name = "consumer_lag";
  static constexpr const char* description =
      "A consumer group's lag in messages and in time (age of its oldest unread message)";
  static const char* const params_schema;
  static const Metrics metrics;
  void run(Context& ctx);
};

struct SkewCheck {
  static constexpr const char* name = "skew";
  static constexpr const char* description =
      "How unevenly messages spread over a topic's partitions (runbook: data skew > 20 %)";
  static const char* const params_schema;
  static const Metrics metrics;
  void run(Context& ctx);
};

struct ThroughputCheck {
  static constexpr const char* name = "throughput";
  static constexpr const char* description =
      "Messages per second written to a topic over a sample window, against a minimum";
  static const char* const params_schema;
  static const Metrics metrics;
  void run(Context& ctx);
};

struct CanaryCheck {
  static constexpr const char* name = "canary";
  static constexpr const char* description =
      "Writes a timestamped message to each partition of a canary topic and reads it back";
  static const char* const params_schema;
  static const Metrics metrics;
  void run(Context& ctx);
};

}  // namespace triage::streaming
