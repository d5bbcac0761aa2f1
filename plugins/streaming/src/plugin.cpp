// Registers the streaming plugin's check types with the Triage core.
#include "checks.hpp"

using namespace triage::streaming;

TRIAGE_PLUGIN("streaming", "1.0.0",
              "Kafka and Azure Event Hubs: brokers, topics, consumer lag, skew, throughput, canary",
              BrokersCheck, TopicCheck, ConsumerLagCheck, SkewCheck, ThroughputCheck, CanaryCheck)
