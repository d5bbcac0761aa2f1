// triage_kafka_mock: librdkafka's mock Kafka cluster (the real Kafka wire
// protocol, served by librdkafka itself) as a test service, driven over
// stdin/stdout by the KafkaMock fixture (kafka_mock_fixture.cpp).
//
//   triage_kafka_mock [--brokers N]      N in 1..32, default 3
//
// On start it prints ONE line, then flushes:
//   {"bootstrap":"127.0.0.1:p1,127.0.0.1:p2,...","brokers":[{"id":1,"port":p1},...]}
// The broker ids are the mock's (1..N); each port is read back from the
// cluster's own Metadata, and the tool refuses to start (printing
// {"ok":false,"error":...} instead, exit status 1) unless every broker is
// advertised on 127.0.0.1 and the bootstrap list names exactly those brokers.
// The mock binds its listeners to INADDR_LOOPBACK, and every client the tool
// makes bootstraps from the mock alone, so nothing here talks to an address
// outside 127.0.0.0/8.
//
// Then it reads one JSON command per line from stdin and answers each with one
// line, {"ok":true,...} or {"ok":false,"error":"..."}. A command that fails
// (bad JSON, unknown command, bad argument, a librdkafka error or timeout) is
// answered, never fatal. Every librdkafka call is bounded (10 s at most), so
// every command is (produce, the slowest, answers within about 25 s in the
// worst case, in milliseconds normally). At EOF on stdin the tool destroys its
// clients and the cluster and exits 0, so it never outlives the test that
// started it.
//
// Commands ("id" is a broker id as printed at start; -1 means every broker
// for broker_down/broker_up/rtt, no leader for leader, and no preferred
// follower for follower):
//   {"cmd":"topic","name":T,"partitions":P,"replicas":R}
//       rd_kafka_mock_topic_create. Answers the layout the cluster really
//       made: {"ok":true,"partitions":[{"partition":0,"leader":B,"replicas":[...]},...]}
//       (see below: R is ignored by the mock).
//   {"cmd":"broker_down","id":B}   {"cmd":"broker_up","id":B}
//       rd_kafka_mock_broker_set_down / set_up.
//   {"cmd":"rtt","id":B,"ms":M}
//       rd_kafka_mock_broker_set_rtt: the broker delays every response by M ms.
//   {"cmd":"leader","topic":T,"partition":p,"id":B}
//   {"cmd":"follower","topic":T,"partition":p,"id":B}
//       rd_kafka_mock_partition_set_leader / set_follower (the preferred read
//       replica a Fetch is redirected to, KIP-392).
//   {"cmd":"produce","topic":T,"partition":p,"count":N,"timestamp_ms":TS}
//       Produces N (1..10000) small messages ("triage-0", "triage-1", ...) to
//       exactly partition p, with message timestamp TS (CreateTime; optional,
//       default now), waits until all are acknowledged and answers the
//       partition's watermarks afterwards: {"ok":true,"low":L,"high":H}.
//   {"cmd":"commit","group":G,"topic":T,"partition":p,"offset":O}
//       Commits offset O for group G (a consumer with group.id=G that never
//       joins the group: an explicit-list commit, generation -1) and answers
//       once the coordinator accepted it.
//   {"cmd":"watermarks","topic":T,"partition":p}
//       Answers {"ok":true,"low":L,"high":H} (ListOffsets for the earliest and
//       the latest offset, from the partition's leader).
// Commands that name a partition first check, with an all-topics Metadata
// request, that the topic and the partition exist: the mock would otherwise
// create unknown topics as a side effect (see below).
//
// What the librdkafka 2.0.2 mock cluster can and cannot do. Read in the
// v2.0.2 sources (src/rdkafka_mock.c, src/rdkafka_mock_handlers.c) and, but
// for the points marked (source), seen with Debian's librdkafka 2.0.2: with
// clients of the same library and with raw requests.
//   Request types served (as its ApiVersions response lists them), and nothing
//     else: Produce v0-7, Fetch v0-11, ListOffsets v0-5, Metadata v0-2 (only),
//     OffsetCommit v0-7, OffsetFetch v0-5, FindCoordinator v0-2, JoinGroup
//     v0-5, Heartbeat v0-3, LeaveGroup v0-1, SyncGroup v0-3, ApiVersions v0-2,
//     InitProducerId v0-4, AddPartitionsToTxn v0-1, AddOffsetsToTxn v0-1,
//     EndTxn v0-1, TxnOffsetCommit v0-2. Any other request type or version
//     makes the mock log "unsupported ..." and close the connection; librdkafka
//     clients, seeing them missing from ApiVersions, fail them locally.
//   No ListGroups and no DescribeGroups: rd_kafka_list_groups, for all groups
//     or one, fails at once with _UNSUPPORTED_FEATURE.
//   No DescribeConfigs, CreateTopics, DeleteTopics, CreatePartitions,
//     DeleteRecords, DescribeCluster, DescribeLogDirs, OffsetForLeaderEpoch,
//     SaslHandshake (so PLAINTEXT only). Metadata reports controller id 0, which
//     is no broker: the Admin API's DescribeConfigs and CreateTopics wait "for
//     controller" until their request timeout (_TIMED_OUT).
//   OffsetFetch works: rd_kafka_committed returns what a commit stored, -1001
//     (RD_KAFKA_OFFSET_INVALID) when nothing was committed. A commit from a
//     consumer outside the group (generation -1) is accepted while no member
//     has joined a group of that name; once one has, it fails with
//     UNKNOWN_MEMBER_ID.
//   ListOffsets serves only EARLIEST (-2) and LATEST (-1): a lookup by
//     timestamp (rd_kafka_offsets_for_times with a real time) answers offset
//     -1, i.e. none. (Its v4-5 responses also write the leader epoch as 8
//     bytes instead of 4, so clients that send v4+ misread them; librdkafka
//     2.0.2 sends v0-2. (source))
//   Message timestamps are stored as produced (CreateTime) and returned by
//     Fetch; there is no LogAppendTime (source).
//   Metadata v0-2 has no AllowAutoTopicCreation flag, so a Metadata request
//     that names an unknown topic creates it (4 partitions); listing all
//     topics does not. rd_kafka_mock_partition_set_leader/set_follower on an
//     unknown topic create it too, with partition+1 partitions (source).
//   The replication factor given to rd_kafka_mock_topic_create is ignored:
//     every partition's replicas are the first min(3, N) brokers, the ISR is
//     always all replicas, no replica is ever offline, and the leader is
//     picked at random among the replicas.
//   A broker set down closes its connections and refuses new ones (its port
//     stays bound, so it comes back on the same port), but Metadata still lists
//     it, still names it leader of its partitions and in every ISR; nothing
//     fails over. The group coordinator is fixed by a hash of the group name
//     (or rd_kafka_mock_coordinator_set), also regardless of up/down: commits
//     for a group whose coordinator is down fail (_WAIT_COORD).
//   rtt delays each response of that broker by the given time. (So do not
//     set more than about 1 s on a broker the tool itself needs: its commands
//     wait 5 s at most for Metadata and for the two ListOffsets of watermarks.)
//   Each partition keeps at most 100000 message sets / 5 MiB; older sets are
//     dropped and the low watermark moves up (source).
// And about librdkafka 2.0.2 clients against it (why this tool bounds calls
// the way it does):
//   rd_kafka_query_watermark_offsets does not honour its timeout while the
//     partition's leader is down: it retries ListOffsets until the leader
//     returns (seen blocked for over 90 s). This tool uses
//     rd_kafka_offsets_for_times with -2/-1 instead, which does time out.
//   rd_kafka_commit waits for an unavailable coordinator up to
//     session.timeout.ms (default 45 s); this tool commits through a queue it
//     polls for at most 10 s.
//   After a broker comes back, a client reconnects only after its reconnect
//     backoff (up to reconnect.backoff.max.ms, default 10 s); this tool's
//     clients use 1 s.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace {

using nlohmann::json;
using nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

constexpr int kMaxBrokers = 32;
constexpr int kMaxPartitions = 1000;
constexpr std::int64_t kMaxProduceCount = 10'000;
// Per-request bound inside librdkafka (default 60 s).
constexpr const char* kSocketTimeoutMs = "5000";
constexpr const char* kReconnectBackoffMaxMs = "1000";
// A message not acknowledged by then fails; flush waits a little longer.
constexpr const char* kMessageTimeoutMs = "8000";
constexpr int kFlushTimeoutMs = 10'000;
// After a purge, for the reports of the purged messages.
constexpr int kPurgedFlushTimeoutMs = 2'000;
constexpr std::chrono::milliseconds kMetadataBudget{5'000};
constexpr int kMetadataFirstAttemptMs = 1'500;
// For both ListOffsets lookups of one watermarks answer together.
constexpr std::chrono::milliseconds kWatermarksBudget{5'000};
constexpr std::chrono::milliseconds kCommitTimeout{10'000};
// Below kCommitTimeout: librdkafka gives up on an unavailable coordinator
// after session.timeout.ms.
constexpr const char* kSessionTimeoutMs = "6000";

// A command that cannot be carried out; its message is the answer's "error".
struct CommandError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string describe(rd_kafka_resp_err_t err) {
  return std::string(rd_kafka_err2name(err)) + ": " + rd_kafka_err2str(err);
}

void check(rd_kafka_resp_err_t err, const std::string& what) {
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) throw CommandError(what + ": " + describe(err));
}

struct KafkaDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using Kafka = std::unique_ptr<rd_kafka_t, KafkaDeleter>;

// Consumers here never subscribe, so they have no group membership to leave.
struct ConsumerDeleter {
  void operator()(rd_kafka_t* rk) const {
    rd_kafka_destroy_flags(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
  }
};
using Consumer = std::unique_ptr<rd_kafka_t, ConsumerDeleter>;

struct ClusterDeleter {
  void operator()(rd_kafka_mock_cluster_t* cluster) const {
    rd_kafka_mock_cluster_destroy(cluster);
  }
};
using Cluster = std::unique_ptr<rd_kafka_mock_cluster_t, ClusterDeleter>;

struct ListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* list) const {
    rd_kafka_topic_partition_list_destroy(list);
  }
};
using PartitionList = std::unique_ptr<rd_kafka_topic_partition_list_t, ListDeleter>;

struct MetadataDeleter {
  void operator()(const rd_kafka_metadata_t* metadata) const {
    rd_kafka_metadata_destroy(metadata);
  }
};
using Metadata = std::unique_ptr<const rd_kafka_metadata_t, MetadataDeleter>;

struct QueueDeleter {
  void operator()(rd_kafka_queue_t* queue) const { rd_kafka_queue_destroy(queue); }
};
using Queue = std::unique_ptr<rd_kafka_queue_t, QueueDeleter>;

struct EventDeleter {
  void operator()(rd_kafka_event_t* event) const { rd_kafka_event_destroy(event); }
};
using Event = std::unique_ptr<rd_kafka_event_t, EventDeleter>;

class Conf {
 public:
  Conf() : conf_(rd_kafka_conf_new()) {}
  ~Conf() {
    if (conf_ != nullptr) rd_kafka_conf_destroy(conf_);
  }
  Conf(const Conf&) = delete;
  Conf& operator=(const Conf&) = delete;

  Conf& set(const char* name, const std::string& value) {
    char errstr[512];
    if (rd_kafka_conf_set(conf_, name, value.c_str(), errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
      throw std::runtime_error(std::string("config ") + name + ": " + errstr);
    }
    return *this;
  }

  // rd_kafka_new takes the configuration only when it succeeds.
  rd_kafka_t* create(rd_kafka_type_t type) {
    char errstr[512];
    rd_kafka_t* rk = rd_kafka_new(type, conf_, errstr, sizeof errstr);
    if (rk == nullptr) throw std::runtime_error(std::string("rd_kafka_new: ") + errstr);
    conf_ = nullptr;
    return rk;
  }

  rd_kafka_conf_t* get() { return conf_; }

 private:
  rd_kafka_conf_t* conf_;
};

// Settings every client of the mock shares: bounded requests and a quick
// reconnect once a broker is back up.
Conf& client_conf(Conf& conf, const std::string& bootstrap) {
  return conf.set("bootstrap.servers", bootstrap)
      .set("socket.timeout.ms", kSocketTimeoutMs)
      .set("reconnect.backoff.ms", "100")
      .set("reconnect.backoff.max.ms", kReconnectBackoffMaxMs);
}

// --- reading command arguments ---

const json& field(const json& cmd, const char* name) {
  const auto it = cmd.find(name);
  if (it == cmd.end()) throw CommandError(std::string("missing \"") + name + "\"");
  return *it;
}

std::string string_field(const json& cmd, const char* name) {
  const json& value = field(cmd, name);
  if (!value.is_string() || value.get_ref<const std::string&>().empty()) {
    throw CommandError(std::string("\"") + name + "\" must be a non-empty string");
  }
  return value.get<std::string>();
}

std::int64_t int_field(const json& cmd, const char* name, std::int64_t min, std::int64_t max) {
  const json& value = field(cmd, name);
  if (!value.is_number_integer()) {
    throw CommandError(std::string("\"") + name + "\" must be an integer");
  }
  // Unsigned values above INT64_MAX would wrap in get<int64_t>().
  if (value.is_number_unsigned() &&
      value.get<std::uint64_t>() >
          static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    throw CommandError(std::string("\"") + name + "\" is out of range");
  }
  const auto n = value.get<std::int64_t>();
  if (n < min || n > max) {
    throw CommandError(std::string("\"") + name + "\" must be in " + std::to_string(min) + ".." +
                       std::to_string(max));
  }
  return n;
}

std::int32_t broker_field(const json& cmd) {
  return static_cast<std::int32_t>(
      int_field(cmd, "id", -1, std::numeric_limits<std::int32_t>::max()));
}

std::int32_t partition_field(const json& cmd) {
  return static_cast<std::int32_t>(
      int_field(cmd, "partition", 0, std::numeric_limits<std::int32_t>::max()));
}

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::max<std::int64_t>(left.count(), 0));
}

// --- the cluster and the tool's own clients ---

struct Delivery {
  std::int64_t delivered = 0;
  std::int64_t failed = 0;
  rd_kafka_resp_err_t first_error = RD_KAFKA_RESP_ERR_NO_ERROR;
};

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void*) {
  // The per-message opaque is the Delivery of the produce command that sent it.
  auto* delivery = static_cast<Delivery*>(message->_private);
  if (delivery == nullptr) return;
  if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    ++delivery->delivered;
  } else {
    if (delivery->failed++ == 0) delivery->first_error = message->err;
  }
}

struct Broker {
  std::int32_t id = 0;
  int port = 0;
};

class MockTool {
 public:
  explicit MockTool(int broker_count) {
    // The cluster lives in a client of its own that connects nowhere; its log
    // (the mock's, e.g. requests it does not support) goes to stderr, without
    // the notice that this client has no bootstrap servers.
    Conf host_conf;
    host_conf.set("log_level", "4");
    host_ = Kafka(host_conf.create(RD_KAFKA_PRODUCER));
    cluster_ = Cluster(rd_kafka_mock_cluster_new(host_.get(), broker_count));
    if (!cluster_) throw std::runtime_error("rd_kafka_mock_cluster_new failed");
    bootstrap_ = rd_kafka_mock_cluster_bootstraps(cluster_.get());

    Conf conf;
    client_conf(conf, bootstrap_)
        .set("message.timeout.ms", kMessageTimeoutMs)
        .set("linger.ms", "0")
        .set("enable.idempotence", "false");
    rd_kafka_conf_set_dr_msg_cb(conf.get(), on_delivery);
    producer_ = Kafka(conf.create(RD_KAFKA_PRODUCER));

    find_brokers(broker_count);
  }

  MockTool(const MockTool&) = delete;
  MockTool& operator=(const MockTool&) = delete;

  ordered_json ready_line() const {
    ordered_json brokers = ordered_json::array();
    for (const auto& broker : brokers_) {
      brokers.push_back(ordered_json{{"id", broker.id}, {"port", broker.port}});
    }
    return ordered_json{{"bootstrap", bootstrap_}, {"brokers", brokers}};
  }

  ordered_json run(const json& cmd) {
    if (!cmd.is_object()) throw CommandError("a command is a JSON object");
    const std::string name = string_field(cmd, "cmd");
    if (name == "topic") return create_topic(cmd);
    if (name == "broker_down" || name == "broker_up") {
      const std::int32_t id = broker_field(cmd);
      check(name == "broker_down" ? rd_kafka_mock_broker_set_down(cluster_.get(), id)
                                  : rd_kafka_mock_broker_set_up(cluster_.get(), id),
            name + " " + std::to_string(id));
      return ok();
    }
    if (name == "rtt") {
      const std::int32_t id = broker_field(cmd);
      const auto ms = static_cast<int>(int_field(cmd, "ms", 0, 600'000));
      check(rd_kafka_mock_broker_set_rtt(cluster_.get(), id, ms), "rtt " + std::to_string(id));
      return ok();
    }
    if (name == "leader" || name == "follower") {
      const std::string topic = string_field(cmd, "topic");
      const std::int32_t partition = partition_field(cmd);
      const std::int32_t id = broker_field(cmd);
      // The mock checks the leader's id, not the follower's.
      if (id != -1 && !is_broker(id)) throw CommandError("no broker " + std::to_string(id));
      require_partition(topic, partition);
      check(
          name == "leader"
              ? rd_kafka_mock_partition_set_leader(cluster_.get(), topic.c_str(), partition, id)
              : rd_kafka_mock_partition_set_follower(cluster_.get(), topic.c_str(), partition, id),
          name + " " + topic + "/" + std::to_string(partition));
      return ok();
    }
    if (name == "produce") return produce(cmd);
    if (name == "commit") return commit(cmd);
    if (name == "watermarks") {
      const std::string topic = string_field(cmd, "topic");
      const std::int32_t partition = partition_field(cmd);
      require_partition(topic, partition);
      return watermarks(topic, partition);
    }
    throw CommandError("unknown command \"" + name + "\"");
  }

 private:
  static ordered_json ok() { return ordered_json{{"ok", true}}; }

  bool is_broker(std::int32_t id) const {
    return std::any_of(brokers_.begin(), brokers_.end(),
                       [id](const Broker& broker) { return broker.id == id; });
  }

  // All topics: a Metadata request naming a topic would create it.
  Metadata metadata() {
    const auto deadline = Clock::now() + kMetadataBudget;
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR__TIMED_OUT;
    // A short first attempt: a request that went to a broker just set down,
    // before the client saw its connection close, waits for that broker until
    // it times out; the next attempt goes to a broker that is up, and has the
    // rest of the time (for a broker with a long rtt).
    for (int attempt = 0; attempt < 4 && remaining_ms(deadline) > 0; ++attempt) {
      const rd_kafka_metadata_t* raw = nullptr;
      const int timeout = attempt == 0 ? std::min(remaining_ms(deadline), kMetadataFirstAttemptMs)
                                       : remaining_ms(deadline);
      err = rd_kafka_metadata(producer_.get(), 1, nullptr, &raw, timeout);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return Metadata(raw);
    }
    check(err, "metadata");
    return nullptr;
  }

  void find_brokers(int broker_count) {
    Metadata md;
    try {
      md = metadata();
    } catch (const CommandError& e) {
      throw std::runtime_error(std::string("cannot read the mock cluster's metadata: ") + e.what());
    }
    std::set<std::string> advertised;
    for (int i = 0; i < md->broker_cnt; ++i) {
      const rd_kafka_metadata_broker_t& broker = md->brokers[i];
      if (std::strcmp(broker.host, "127.0.0.1") != 0) {
        throw std::runtime_error("broker " + std::to_string(broker.id) + " is advertised on " +
                                 broker.host + ", not 127.0.0.1");
      }
      brokers_.push_back({broker.id, broker.port});
      advertised.insert("127.0.0.1:" + std::to_string(broker.port));
    }
    std::sort(brokers_.begin(), brokers_.end(),
              [](const Broker& a, const Broker& b) { return a.id < b.id; });
    std::set<std::string> listed;
    std::istringstream entries(bootstrap_);
    std::string entry;
    while (std::getline(entries, entry, ',')) listed.insert(entry);
    if (static_cast<int>(brokers_.size()) != broker_count || listed != advertised) {
      throw std::runtime_error("the mock's bootstrap list " + bootstrap_ +
                               " does not match the brokers in its metadata");
    }
  }

  // Throws unless topic exists with that partition; never creates anything.
  void require_partition(const std::string& topic, std::int32_t partition) {
    const Metadata md = metadata();
    for (int i = 0; i < md->topic_cnt; ++i) {
      const rd_kafka_metadata_topic_t& t = md->topics[i];
      if (topic != t.topic) continue;
      if (t.err != RD_KAFKA_RESP_ERR_NO_ERROR) check(t.err, "topic " + topic);
      if (partition >= t.partition_cnt) {
        throw CommandError("topic " + topic + " has " + std::to_string(t.partition_cnt) +
                           " partitions, no partition " + std::to_string(partition));
      }
      return;
    }
    throw CommandError("unknown topic " + topic);
  }

  ordered_json create_topic(const json& cmd) {
    const std::string topic = string_field(cmd, "name");
    const auto partitions = static_cast<int>(int_field(cmd, "partitions", 1, kMaxPartitions));
    const auto replicas = static_cast<int>(int_field(cmd, "replicas", 1, kMaxBrokers));
    check(rd_kafka_mock_topic_create(cluster_.get(), topic.c_str(), partitions, replicas),
          "topic " + topic);
    // The layout as the cluster made it (the replication factor is not its own).
    const Metadata md = metadata();
    for (int i = 0; i < md->topic_cnt; ++i) {
      const rd_kafka_metadata_topic_t& t = md->topics[i];
      if (topic != t.topic) continue;
      ordered_json layout = ordered_json::array();
      for (int p = 0; p < t.partition_cnt; ++p) {
        const rd_kafka_metadata_partition_t& part = t.partitions[p];
        layout.push_back(ordered_json{
            {"partition", part.id},
            {"leader", part.leader},
            {"replicas",
             std::vector<std::int32_t>(part.replicas, part.replicas + part.replica_cnt)}});
      }
      ordered_json answer = ok();
      answer["partitions"] = std::move(layout);
      return answer;
    }
    throw CommandError("topic " + topic + " was created but is not in the metadata");
  }

  // Low and high watermark by ListOffsets for EARLIEST and LATEST, one lookup
  // each (offsets_for_times would merge the same partition listed twice).
  ordered_json watermarks(const std::string& topic, std::int32_t partition) {
    const auto deadline = Clock::now() + kWatermarksBudget;
    std::int64_t found[2] = {0, 0};
    const std::int64_t which[2] = {RD_KAFKA_OFFSET_BEGINNING, RD_KAFKA_OFFSET_END};
    for (int i = 0; i < 2; ++i) {
      PartitionList list(rd_kafka_topic_partition_list_new(1));
      rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition)->offset = which[i];
      check(rd_kafka_offsets_for_times(producer_.get(), list.get(),
                                       std::max(remaining_ms(deadline), 1)),
            "watermarks " + topic + "/" + std::to_string(partition));
      check(list->elems[0].err, "watermarks " + topic + "/" + std::to_string(partition));
      found[i] = list->elems[0].offset;
    }
    ordered_json answer = ok();
    answer["low"] = found[0];
    answer["high"] = found[1];
    return answer;
  }

  ordered_json produce(const json& cmd) {
    const std::string topic = string_field(cmd, "topic");
    const std::int32_t partition = partition_field(cmd);
    const std::int64_t count = int_field(cmd, "count", 1, kMaxProduceCount);
    std::int64_t timestamp = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
    if (cmd.contains("timestamp_ms")) {
      timestamp = int_field(cmd, "timestamp_ms", 0, std::numeric_limits<std::int64_t>::max());
    }
    require_partition(topic, partition);

    // On the heap: if a delivery report were still missing after the purge,
    // it is leaked rather than left for a late report to write to.
    auto delivery = std::make_unique<Delivery>();
    std::int64_t queued = 0;
    rd_kafka_resp_err_t enqueue_error = RD_KAFKA_RESP_ERR_NO_ERROR;
    for (std::int64_t i = 0; i < count; ++i) {
      const std::string value = "triage-" + std::to_string(i);
      enqueue_error = rd_kafka_producev(
          producer_.get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(partition),
          RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
          RD_KAFKA_V_TIMESTAMP(timestamp), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_OPAQUE(delivery.get()), RD_KAFKA_V_END);
      if (enqueue_error != RD_KAFKA_RESP_ERR_NO_ERROR) break;
      ++queued;
    }
    if (rd_kafka_flush(producer_.get(), kFlushTimeoutMs) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      // Fail what is left now, so that its reports arrive before we answer.
      rd_kafka_purge(producer_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
      rd_kafka_flush(producer_.get(), kPurgedFlushTimeoutMs);
    }
    const std::string what = "produce " + topic + "/" + std::to_string(partition);
    if (delivery->delivered + delivery->failed != queued) {
      const std::int64_t missing = queued - delivery->delivered - delivery->failed;
      static_cast<void>(delivery.release());
      throw CommandError(what + ": " + std::to_string(missing) + " delivery reports missing");
    }
    if (enqueue_error != RD_KAFKA_RESP_ERR_NO_ERROR) {
      check(enqueue_error,
            what + " (" + std::to_string(queued) + " of " + std::to_string(count) + " queued)");
    }
    if (delivery->failed > 0) {
      check(delivery->first_error, what + ": " + std::to_string(delivery->failed) + " of " +
                                       std::to_string(count) + " messages failed");
    }
    return watermarks(topic, partition);
  }

  rd_kafka_t* consumer_for(const std::string& group) {
    auto it = consumers_.find(group);
    if (it == consumers_.end()) {
      Conf conf;
      client_conf(conf, bootstrap_)
          .set("group.id", group)
          .set("enable.auto.commit", "false")
          .set("enable.auto.offset.store", "false")
          .set("session.timeout.ms", kSessionTimeoutMs);
      it = consumers_.emplace(group, Consumer(conf.create(RD_KAFKA_CONSUMER))).first;
    }
    // Drop queued events (connection errors) nobody reads.
    rd_kafka_poll(it->second.get(), 0);
    return it->second.get();
  }

  ordered_json commit(const json& cmd) {
    const std::string group = string_field(cmd, "group");
    const std::string topic = string_field(cmd, "topic");
    const std::int32_t partition = partition_field(cmd);
    const std::int64_t offset =
        int_field(cmd, "offset", 0, std::numeric_limits<std::int64_t>::max());
    require_partition(topic, partition);
    const std::string what = "commit " + group + " " + topic + "/" + std::to_string(partition) +
                             "@" + std::to_string(offset);

    rd_kafka_t* consumer = consumer_for(group);
    PartitionList list(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition)->offset = offset;
    // Through a queue of ours, so the wait is ours to bound; a result that
    // comes later is dropped with the queue.
    Queue queue(rd_kafka_queue_new(consumer));
    check(rd_kafka_commit_queue(consumer, list.get(), queue.get(), nullptr, nullptr), what);
    const auto deadline = Clock::now() + kCommitTimeout;
    while (true) {
      const int wait = remaining_ms(deadline);
      if (wait == 0) throw CommandError(what + ": no answer within 10 s");
      Event event(rd_kafka_queue_poll(queue.get(), wait));
      if (!event || rd_kafka_event_type(event.get()) != RD_KAFKA_EVENT_OFFSET_COMMIT) continue;
      check(rd_kafka_event_error(event.get()), what);
      const rd_kafka_topic_partition_list_t* result =
          rd_kafka_event_topic_partition_list(event.get());
      if (result != nullptr) {
        for (int i = 0; i < result->cnt; ++i) check(result->elems[i].err, what);
      }
      ordered_json answer = ok();
      answer["offset"] = offset;
      return answer;
    }
  }

  // Destroyed in reverse order, also when the constructor throws: the
  // clients, while the brokers they talk to still exist, then the cluster,
  // then the client it lives in.
  Kafka host_;
  Cluster cluster_;
  Kafka producer_;
  std::map<std::string, Consumer> consumers_;
  std::string bootstrap_;
  std::vector<Broker> brokers_;
};

void say(const ordered_json& line) {
  std::cout << line.dump() << '\n' << std::flush;
}

ordered_json failure(const std::string& error) {
  return ordered_json{{"ok", false}, {"error", error}};
}

int parse_brokers(int argc, char** argv) {
  int brokers = 3;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--brokers" && i + 1 < argc) {
      char* end = nullptr;
      const long n = std::strtol(argv[++i], &end, 10);
      if (*argv[i] == '\0' || *end != '\0' || n < 1 || n > kMaxBrokers) return -1;
      brokers = static_cast<int>(n);
    } else {
      return -1;
    }
  }
  return brokers;
}

}  // namespace

int main(int argc, char** argv) {
  const int brokers = parse_brokers(argc, argv);
  if (brokers < 0) {
    std::cerr << "usage: triage_kafka_mock [--brokers N]   (N in 1.." << kMaxBrokers
              << ", default 3)\n";
    return 2;
  }

  std::unique_ptr<MockTool> tool;
  try {
    tool = std::make_unique<MockTool>(brokers);
  } catch (const std::exception& e) {
    say(failure(e.what()));
    return 1;
  }
  say(tool->ready_line());

  std::string line;
  while (std::getline(std::cin, line)) {
    ordered_json answer;
    try {
      answer = tool->run(json::parse(line));
    } catch (const json::exception& e) {
      answer = failure(std::string("bad command: ") + e.what());
    } catch (const std::exception& e) {
      answer = failure(e.what());
    }
    say(answer);
  }
  tool.reset();
  return 0;
}
