// What every streaming check does with a cluster: open the shared client,
// read metadata within the time left, read watermarks, and turn librdkafka's
// errors (and what it logged meanwhile) into findings in plain words.
#pragma once

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <triage/plugin.hpp>

#include "client.hpp"
#include "connection.hpp"

namespace triage::streaming {

// A check's use of a cluster: its connection, the shared client, and the
// log position when the check began (what librdkafka logged since is the
// check's evidence).
struct Session {
  Connection connection;
  std::shared_ptr<Client> client;
  std::uint64_t log_mark = 0;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

  // Forwards librdkafka's lines since the start to the check's log.
  ~Session();
  Context* ctx = nullptr;
};

// Reads the connection params and gets the client; throws ParamError.
std::unique_ptr<Session> open_session(Context& ctx);

// Runs work on a thread of its own and waits for it, asking ctx.cancelled()
// every 20 ms: librdkafka's synchronous calls cannot be interrupted, and a
// cancelled check must return at once. Returns false when cancelled first;
// work then runs on alone until its own (bounded) librdkafka timeout, so it
// must own what it touches (capture shared_ptrs and values, never locals).
// `give_up`, when given, is asked at each wake-up too: true stops waiting
// (and run_cancellable returns false) as a cancellation would.
bool run_cancellable(Context& ctx, std::function<void()> work,
                     const std::function<bool()>& give_up = {});

// True once librdkafka said, since the session began, that every broker it
// knows is down ("N/N brokers are down"), or logged a failed connection to
// every bootstrap broker, or (after 2.5 s of waiting: longer than the
// reconnect backoff, so a broker that came back can answer) when an earlier
// check found the cluster so and no answer came since: librdkafka logs a
// repeated failure only now and then. Waiting longer would be pointless.
bool all_brokers_down(Session& s);

// Polls an admin result queue in slices until an event, `wait_ms` or a
// cancellation; nullptr when none came. Destroy the event.
rd_kafka_event_t* poll_admin(Context& ctx, rd_kafka_queue_t* q, int wait_ms);

// Milliseconds for a librdkafka call: the time left, less a reserve for
// reporting (a tenth, at most 500 ms), at least 1.
int budget_ms(const Context& ctx);

struct MetadataFree {
  void operator()(const rd_kafka_metadata_t* m) const { rd_kafka_metadata_destroy(m); }
};
using Metadata = std::unique_ptr<const rd_kafka_metadata_t, MetadataFree>;

// Metadata: the brokers and every topic (never naming one: that could make
// the cluster create it). On failure reports it (a critical finding in plain
// words and status, or ctx.error() when cancelled) and returns nullptr. `ms`
// gets the round trip time.
Metadata read_metadata(Context& ctx, Session& s, double* ms = nullptr);

// A plain-words account of a librdkafka error, helped by what it logged.
struct Diagnosis {
  std::string title;        // "Authentication failed", "Brokers unreachable", ...
  std::string detail;       // what librdkafka said (secrets replaced)
  std::string remediation;  // what to do, in the runbook's words
};
Diagnosis diagnose(rd_kafka_resp_err_t err, const std::vector<LogLine>& logged,
                   const Connection& connection, const std::string& what);

// Reports a failed cluster call: critical finding + status (unknown error
// when it was cut by cancellation).
void report_failure(Context& ctx, Session& s, rd_kafka_resp_err_t err, const std::string& what);

// The partitions of topic t in md, by id.
const rd_kafka_metadata_topic_t* find_topic(const rd_kafka_metadata_t& md, const std::string& t);

// Topic t in md; when it is absent or in error, reports that (Unknown topic,
// Not authorized, ...) and returns nullptr. `what` says why it was wanted.
const rd_kafka_metadata_topic_t* require_topic(Context& ctx, Session& s,
                                               const rd_kafka_metadata_t& md, const std::string& t,
                                               const std::string& what);

// Topics a `topic` param names: itself, or for "*" every topic in md whose
// name does not start with "__" (Kafka's internal topics).
std::vector<const rd_kafka_metadata_topic_t*> select_topics(const rd_kafka_metadata_t& md,
                                                            const std::string& topic);

struct Watermarks {
  std::int64_t low = -1, high = -1;
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
};
// Low and high watermark of each partition (asked of its leader).
std::vector<Watermarks> read_watermarks(Context& ctx, Session& s, const std::string& topic,
                                        const std::vector<std::int32_t>& partitions);

// One message read by topic, partition and offset.
struct Message {
  std::int64_t offset = -1;
  std::int64_t timestamp_ms =
      -1;  // the message's timestamp (create or log-append time), -1 if none
  std::string payload;
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
};
// Reads the first message at or after `offset` (never committing anything),
// waiting until `until` at most. err is _TIMED_OUT when none came.
Message read_at(Context& ctx, Session& s, const std::string& topic, std::int32_t partition,
                std::int64_t offset, std::chrono::steady_clock::time_point until);

// "p0, p3, p7, ... (12 in all)": the first `max` items, then the count.
std::string list_some(const std::vector<std::string>& items, std::size_t max = 8);

// A number with at most one decimal.
std::string one_decimal(double v);

}  // namespace triage::streaming
