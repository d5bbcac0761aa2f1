// Registers the cluster plugin's check types with the Triage core.
#include "checks.hpp"

using namespace triage::cluster;

TRIAGE_PLUGIN("cluster", "1.0.0",
              "Node resource pressure, etcd quorum, and fleet health from Prometheus", NodeCheck,
              EtcdCheck, PrometheusCheck, PromqlCheck)
