// One librdkafka handle per cluster and credentials, shared by every check of
// a plugin host that names the same connection: a config with 20 checks on
// one cluster opens one set of broker connections, not 20. Handles are kept
// for the host's life; past 64 clients, the least recently used idle one is
// closed.
#pragma once

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <triage/plugin.hpp>

#include "connection.hpp"

namespace triage::streaming {

// A line librdkafka logged, kept for the checks that use the handle.
struct LogLine {
  std::uint64_t seq = 0;
  int level = 6;  // syslog: 0 emergency .. 7 debug
  std::string facility;
  std::string text;        // secrets already replaced by ***
  bool forwarded = false;  // to some check's log already (each line goes to one)
};

// What became of one produced message (written by the delivery report).
struct Delivery {
  std::mutex mutex;
  bool done = false;
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  std::int64_t offset = -1;
  std::chrono::steady_clock::time_point at;
};

class Client {
 public:
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const Connection& connection() const { return connection_; }
  // A consumer-type handle without a group: metadata, watermarks, committed
  // offsets (admin API) and reads by partition and offset.
  rd_kafka_t* rk() const { return rk_; }
  // The producer, made on first use; nullptr with `error` set when it cannot be.
  // Give each message a `new std::shared_ptr<Delivery>` as its opaque: the
  // delivery report fills it and deletes the holder.
  rd_kafka_t* producer(std::string& error);
  // Held while a check reads messages with rk() (consume_start/stop are per
  // topic and partition: two checks must not interleave them).
  std::mutex& read_mutex() { return read_mutex_; }

  // The last log line's sequence number: lines after it are what happens next.
  std::uint64_t log_mark() const;
  std::vector<LogLine> lines_since(std::uint64_t mark) const;
  // Forwards the lines after mark that no other check forwarded yet to this
  // check's log (at most 20, at their level): checks sharing a client share
  // its log, and a line is said once.
  void forward_logs(Context& ctx, std::uint64_t mark);

  // Whether the cluster was last found with every broker down (set by a
  // check that gave up on it, cleared by any metadata answer).
  std::atomic<bool> unreachable{false};

  // Appends a line (librdkafka's log callback, from its threads).
  void log_line(int level, const char* facility, const char* text);

 private:
  friend std::shared_ptr<Client> client_for(const Connection&, bool*);
  explicit Client(Connection connection);

  Connection connection_;
  std::vector<std::string> secrets_;
  rd_kafka_t* rk_ = nullptr;
  rd_kafka_t* producer_ = nullptr;
  std::mutex producer_mutex_;
  std::mutex read_mutex_;
  mutable std::mutex log_mutex_;
  std::deque<LogLine> log_;
  std::uint64_t next_seq_ = 1;
};

// The shared client for this connection (made on first use). Throws
// triage::ParamError when librdkafka refuses the configuration (a bad
// property, a mechanism this build lacks), naming the param, never a secret.
// `created`, when given, says whether this call made it.
std::shared_ptr<Client> client_for(const Connection& connection, bool* created = nullptr);

}  // namespace triage::streaming
