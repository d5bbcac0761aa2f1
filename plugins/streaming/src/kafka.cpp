#include "kafka.hpp"

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <set>
#include <thread>
#include <utility>

namespace triage::streaming {

namespace {

using Clock = std::chrono::steady_clock;

bool logged(const std::vector<LogLine>& lines, std::initializer_list<const char*> needles) {
  for (const auto& l : lines)
    for (const char* n : needles)
      if (l.text.find(n) != std::string::npos) return true;
  return false;
}

// The last error-level line librdkafka logged, as evidence.
std::string last_error_line(const std::vector<LogLine>& lines) {
  for (auto it = lines.rbegin(); it != lines.rend(); ++it)
    if (it->level <= 4) return it->facility + ": " + it->text;
  return "";
}

}  // namespace

Session::~Session() {
  if (ctx != nullptr && client) {
    rd_kafka_poll(client->rk(), 0);  // serve queued callbacks (errors become log lines)
    client->forward_logs(*ctx, log_mark);
  }
}

std::unique_ptr<Session> open_session(Context& ctx) {
  auto s = std::make_unique<Session>();
  s->connection = read_connection(ctx);
  bool created = false;
  s->client = client_for(s->connection, &created);
  // A new client's first lines (its first connection attempts) may come
  // before this line: they are this check's.
  s->log_mark = created ? 0 : s->client->log_mark();
  s->ctx = &ctx;
  return s;
}

bool run_cancellable(Context& ctx, std::function<void()> work,
                     const std::function<bool()>& give_up) {
  struct State {
    std::mutex mutex;
    std::condition_variable cv;
    bool done = false;
  };
  auto st = std::make_shared<State>();
  std::thread([st, work = std::move(work)] {
    work();
    std::lock_guard lock(st->mutex);
    st->done = true;
    st->cv.notify_all();
  }).detach();
  std::unique_lock lock(st->mutex);
  while (!st->done) {
    if (ctx.cancelled() || (give_up && give_up())) return false;
    st->cv.wait_for(lock, std::chrono::milliseconds(20));
  }
  return true;
}

bool all_brokers_down(Session& s) {
  // Without an error callback, librdkafka logs its errors when its main
  // queue is served.
  rd_kafka_poll(s.client->rk(), 0);
  const auto lines = s.client->lines_since(s.log_mark);
  if (logged(lines, {"brokers are down"})) return true;
  if (s.client->unreachable.load() &&
      std::chrono::steady_clock::now() - s.started > std::chrono::milliseconds(2500))
    return true;
  // librdkafka says "all brokers are down" once, on the change; a later
  // check sees each connection attempt fail instead ("HOST:PORT/ID: Connect
  // to ... failed"). Every bootstrap broker failing since the check began is
  // the same answer.
  std::set<std::string> failed;
  for (const auto& l : lines) {
    const auto at = l.text.find(": Connect to ");
    if (at == std::string::npos || l.text.find(" failed", at) == std::string::npos) continue;
    // "[thrd:HOST:PORT/ID]: HOST:PORT/ID: Connect to ..."
    const auto from = l.text.rfind("]: ", at);
    const std::string who = l.text.substr(from == std::string::npos ? 0 : from + 3,
                                          at - (from == std::string::npos ? 0 : from + 3));
    failed.insert(who.substr(0, who.find('/')));
  }
  for (const auto& b : s.connection.bootstrap)
    if (failed.count(b.to_string()) == 0) return false;
  return !s.connection.bootstrap.empty();
}

rd_kafka_event_t* poll_admin(Context& ctx, rd_kafka_queue_t* q, int wait_ms) {
  const auto until = Clock::now() + std::chrono::milliseconds(wait_ms);
  while (!ctx.cancelled() && Clock::now() < until)
    if (rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 50)) return ev;
  return nullptr;
}

int budget_ms(const Context& ctx) {
  const auto left = ctx.remaining().count();
  const long long reserve = std::min<long long>(left / 10, 500);
  return static_cast<int>(std::max<long long>(1, left - reserve));
}

std::string one_decimal(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  std::string s = buf;
  if (s.size() > 2 && s.substr(s.size() - 2) == ".0") s.resize(s.size() - 2);
  return s;
}

std::string list_some(const std::vector<std::string>& items, std::size_t max) {
  std::string out;
  for (std::size_t i = 0; i < items.size() && i < max; ++i) out += (i ? ", " : "") + items[i];
  if (items.size() > max) out += ", ... (" + std::to_string(items.size()) + " in all)";
  return out;
}

Diagnosis diagnose(rd_kafka_resp_err_t err, const std::vector<LogLine>& lines, const Connection& c,
                   const std::string& what) {
  Diagnosis d;
  const std::string said = rd_kafka_err2str(err);
  const std::string evidence = last_error_line(lines);
  d.detail = what + ": " + said + " (" + rd_kafka_err2name(err) + ")" +
             (evidence.empty() ? "" : "; librdkafka logged: " + evidence);
  d.detail = redact(d.detail, c.secrets());
  const std::string brokers = c.bootstrap_text;
  if (err == RD_KAFKA_RESP_ERR__AUTHENTICATION ||
      err == RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED ||
      logged(lines, {"SASL authentication error", "Authentication failed",
                     "SASL authentication failure", "Invalid username or password"})) {
    d.title = "Authentication failed";
    d.remediation =
        "The brokers refused the credentials: check sasl_mechanism, sasl_username and the "
        "password's source (for Event Hubs: username $ConnectionString, the namespace's "
        "connection string as password, and a SAS policy with the needed claims).";
  } else if (err == RD_KAFKA_RESP_ERR__SSL ||
             logged(lines, {"SSL handshake failed", "certificate verify failed", "SSL_ERROR",
                            "ssl.ca.location"})) {
    d.title = "TLS handshake failed";
    d.remediation =
        "The brokers' certificate is not trusted or does not match their names: check ca_file, "
        "the names in the certificate (openssl s_client -connect HOST:PORT -showcerts), and "
        "that security_protocol matches the listener (ssl/sasl_ssl on a TLS port).";
  } else if (err == RD_KAFKA_RESP_ERR__RESOLVE || logged(lines, {"Failed to resolve"})) {
    d.title = "Brokers' names do not resolve";
    d.remediation = "Check the bootstrap host names (" + brokers +
                    ") and DNS (dig NAME); for Event Hubs, the namespace name.";
  } else if (err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
             err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC) {
    d.title = "Unknown topic";
    d.remediation =
        "The topic does not exist on this cluster (or this user may not see it): check its "
        "name (kafka-topics.sh --list) and the ACLs; Triage never creates topics.";
  } else if (err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
             err == RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED ||
             err == RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED) {
    d.title = "Not authorized";
    d.remediation =
        "The credentials are valid but lack a permission (ACL, or the Event Hubs SAS policy's "
        "Listen/Send claims) for this " +
        std::string(err == RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED ? "consumer group"
                                                                        : "topic or cluster") +
        ": grant it or use an account that has it.";
  } else if (err == RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND ||
             err == RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE ||
             err == RD_KAFKA_RESP_ERR_NOT_COORDINATOR) {
    d.title = err == RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND ? "Consumer group not found"
                                                          : "Group coordinator not available";
    d.remediation =
        "Check the group name (kafka-consumer-groups.sh --list); a coordinator that is not "
        "available means the broker holding the group's __consumer_offsets partition is down.";
  } else {
    d.title = "Brokers unreachable";
    d.remediation =
        "No broker of " + brokers +
        " answered in time (Connection Timeout / broker transport failure): check that the "
        "brokers run (systemctl status kafka; for Event Hubs the namespace's status in the "
        "Azure portal), the network path and firewall (port open, nc -vz HOST PORT), and that "
        "security_protocol matches the listener.";
  }
  return d;
}

void report_failure(Context& ctx, Session& s, rd_kafka_resp_err_t err, const std::string& what) {
  if (ctx.cancelled() && Clock::now() < ctx.deadline())
    return ctx.error("cancelled during " + what);
  const auto d = diagnose(err, s.client->lines_since(s.log_mark), s.connection, what);
  ctx.finding(Severity::critical, d.title, d.detail, d.remediation);
  ctx.status(Status::critical, s.connection.bootstrap_text + ": " + d.title + " (" + what + ")");
}

Metadata read_metadata(Context& ctx, Session& s, double* ms) {
  struct Result {
    const rd_kafka_metadata_t* md = nullptr;
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR__TIMED_OUT;
    double ms = 0;
    ~Result() {
      if (md != nullptr) rd_kafka_metadata_destroy(md);
    }
  };
  auto r = std::make_shared<Result>();
  const int wait = budget_ms(ctx);
  // Always every topic: a Metadata request (below v4) that names a topic
  // makes a broker with auto.create.topics.enable create it. A check must
  // never create a topic, so a named one is looked up in the full list.
  const bool done = run_cancellable(
      ctx,
      [r, client = s.client, wait] {
        const auto t0 = Clock::now();
        r->err = rd_kafka_metadata(client->rk(), 1, nullptr, &r->md, wait);
        if (r->err == RD_KAFKA_RESP_ERR_NO_ERROR) client->unreachable = false;
        r->ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      },
      [&s] { return all_brokers_down(s); });
  if (!done && !ctx.cancelled()) {
    // Every broker refused or dropped the connection: no answer will come.
    s.client->unreachable = true;
    report_failure(ctx, s, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN, "reading metadata");
    return nullptr;
  }
  if (!done) {
    ctx.error("cancelled while reading metadata");
    return nullptr;
  }
  if (ms != nullptr) *ms = r->ms;
  if (r->err != RD_KAFKA_RESP_ERR_NO_ERROR || r->md == nullptr) {
    if (r->err == RD_KAFKA_RESP_ERR__TRANSPORT || r->err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
      s.client->unreachable = true;
    report_failure(ctx, s, r->err, "reading metadata");
    return nullptr;
  }
  return Metadata(std::exchange(r->md, nullptr));
}

const rd_kafka_metadata_topic_t* find_topic(const rd_kafka_metadata_t& md, const std::string& t) {
  for (int i = 0; i < md.topic_cnt; ++i)
    if (md.topics[i].topic != nullptr && t == md.topics[i].topic) return &md.topics[i];
  return nullptr;
}

const rd_kafka_metadata_topic_t* require_topic(Context& ctx, Session& s,
                                               const rd_kafka_metadata_t& md, const std::string& t,
                                               const std::string& what) {
  const auto* topic = find_topic(md, t);
  if (topic != nullptr && topic->err == RD_KAFKA_RESP_ERR_NO_ERROR) return topic;
  report_failure(ctx, s, topic ? topic->err : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART,
                 "reading " + what + " " + t);
  return nullptr;
}

std::vector<const rd_kafka_metadata_topic_t*> select_topics(const rd_kafka_metadata_t& md,
                                                            const std::string& topic) {
  std::vector<const rd_kafka_metadata_topic_t*> out;
  for (int i = 0; i < md.topic_cnt; ++i) {
    const std::string name = md.topics[i].topic == nullptr ? "" : md.topics[i].topic;
    if (topic == "*" ? name.rfind("__", 0) != 0 : name == topic) out.push_back(&md.topics[i]);
  }
  std::sort(out.begin(), out.end(),
            [](auto* a, auto* b) { return std::string(a->topic) < std::string(b->topic); });
  return out;
}

std::vector<Watermarks> read_watermarks(Context& ctx, Session& s, const std::string& topic,
                                        const std::vector<std::int32_t>& partitions) {
  auto out = std::make_shared<std::vector<Watermarks>>(partitions.size());
  for (auto& w : *out) w.err = RD_KAFKA_RESP_ERR__TIMED_OUT;
  const int wait = budget_ms(ctx);
  // offsets_for_times with the logical offsets earliest (-2) and latest (-1):
  // all partitions in one call, and unlike query_watermark_offsets it keeps
  // to its timeout while a partition's leader is down.
  const bool done = run_cancellable(ctx, [out, client = s.client, topic, partitions, wait] {
    const auto until = Clock::now() + std::chrono::milliseconds(wait);
    for (const std::int64_t which : {std::int64_t{-2}, std::int64_t{-1}}) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
      if (left.count() <= 0) return;
      rd_kafka_topic_partition_list_t* list =
          rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size()));
      for (const auto p : partitions)
        rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset = which;
      const rd_kafka_resp_err_t err =
          rd_kafka_offsets_for_times(client->rk(), list, static_cast<int>(left.count()));
      for (std::size_t i = 0; i < partitions.size(); ++i) {
        auto& w = (*out)[i];
        const auto& e = list->elems[i];
        w.err = err != RD_KAFKA_RESP_ERR_NO_ERROR ? err : e.err;
        (which == -2 ? w.low : w.high) = e.offset;
      }
      rd_kafka_topic_partition_list_destroy(list);
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return;
    }
  });
  if (!done)
    return std::vector<Watermarks>(partitions.size(),
                                   Watermarks{-1, -1, RD_KAFKA_RESP_ERR__TIMED_OUT});
  return *out;
}

Message read_at(Context& ctx, Session& s, const std::string& topic, std::int32_t partition,
                std::int64_t offset, Clock::time_point until) {
  Message m;
  m.err = RD_KAFKA_RESP_ERR__TIMED_OUT;
  // The legacy per-partition consumer: no group, no subscription, no commit.
  // consume_start/stop are per topic and partition on the shared handle.
  std::lock_guard lock(s.client->read_mutex());
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(s.client->rk(), topic.c_str(), nullptr);
  if (rkt == nullptr) {
    m.err = rd_kafka_last_error();
    return m;
  }
  if (rd_kafka_consume_start(rkt, partition, offset) != 0) {
    m.err = rd_kafka_last_error();
    rd_kafka_topic_destroy(rkt);
    return m;
  }
  while (!ctx.cancelled()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
    if (left.count() <= 0) break;
    rd_kafka_message_t* msg =
        rd_kafka_consume(rkt, partition, static_cast<int>(std::min<long long>(left.count(), 100)));
    if (msg == nullptr) continue;  // nothing yet
    if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      rd_kafka_message_destroy(msg);
      continue;
    }
    if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      m.err = msg->err;
      rd_kafka_message_destroy(msg);
      break;
    }
    m.err = RD_KAFKA_RESP_ERR_NO_ERROR;
    m.offset = msg->offset;
    rd_kafka_timestamp_type_t type;
    m.timestamp_ms = rd_kafka_message_timestamp(msg, &type);
    if (msg->payload != nullptr)
      m.payload.assign(static_cast<const char*>(msg->payload),
                       std::min<std::size_t>(msg->len, 4096));
    rd_kafka_message_destroy(msg);
    break;
  }
  rd_kafka_consume_stop(rkt, partition);
  rd_kafka_topic_destroy(rkt);
  return m;
}

}  // namespace triage::streaming
