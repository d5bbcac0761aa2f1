// Registers the cluster plugin's check types with the Triage core.
#include "checks.hpp"

using namespace triage::cluster;

TRIAGE_PLUGIN("cluster", "1.0.0",
              "Node resource pressure, etcd quorum, fleet health from Prometheus, and the "
              "Databricks, Kubernetes and Azure quota control planes",
              NodeCheck, EtcdCheck, PrometheusCheck, PromqlCheck, DatabricksCheck, KubernetesCheck,
              AzureQuotaCheck)
