// The cluster plugin's check types, one class each per the SDK's wrapper;
// see plugins/cluster/README.md and docs/ for params, metrics and findings.
#pragma once

#include <triage/plugin.hpp>

namespace triage::cluster {

struct NodeCheck {
  static constexpr const char* name = "node";
  static constexpr const char* description =
      "This machine's CPU, load, memory, swap, pressure (PSI), OOM kills and file handles";
  static const char* const params_schema;
  static const Metrics metrics;
  void run(Context& ctx);
};

struct EtcdCheck {
  static constexpr const char* name = "etcd";
  static constexpr const char* description =
      "An etcd cluster's members, quorum, leader, raft progress, database size and alarms";
  static const char* const params_schema;
  static const Metrics metrics;
  void run(Context& ctx);
};

struct PrometheusCheck {
  static constexpr const char* name = "prometheus";
  static constexpr const char* description =
      "Fleet health from Prometheus: targets down, CPU, memory and disk of every instance";
  static const char* const params_schema;
  static const Metrics metrics;
  void run(Context& ctx);
};

struct PromqlCheck {
  static constexpr const char* name = "promql";
  static constexpr const char* description =
      "Any PromQL instant query: each series a metric, or whether any series is returned";
  static const char* const params_schema;
  static const Metrics metrics;
  void run(Context& ctx);
};

struct DatabricksCheck {
  static constexpr const char* name = "databricks";
  static constexpr const char* description =
      "A Databricks workspace: clusters in error or terminated, clusters at their autoscale "
      "maximum, failed, runaway and stopped streaming job runs";
  static const char* const params_schema;
  static const Metrics metrics;
  void run(Context& ctx);
};

struct KubernetesCheck {
  static constexpr const char* name = "kubernetes";
  static constexpr const char* description =
      "A Kubernetes cluster over its API: nodes not ready or under pressure, pods crash-looping, "
      "failing to pull or pending, restarts, deployments short of replicas";
  static const char* const params_schema;
  static const Metrics metrics;
  void run(Context& ctx);
};

struct AzureQuotaCheck {
  static constexpr const char* name = "azure_quota";
  static constexpr const char* description =
      "An Azure subscription's quotas in one region (Compute, Network, ... usages): each "
      "item's usage against its limit";
  static const char* const params_schema;
  static const Metrics metrics;
  void run(Context& ctx);
};

}  // namespace triage::cluster
