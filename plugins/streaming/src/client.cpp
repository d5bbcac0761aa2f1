#include "client.hpp"

#include <algorithm>
#include <map>
#include <thread>

namespace triage::streaming {

namespace {

constexpr std::size_t kMaxClients = 64;
constexpr std::size_t kLogLines = 256;       // kept per client
constexpr std::size_t kLogLineBytes = 1024;  // each, cut after
constexpr std::size_t kForwardedLines = 20;  // per check

void on_log(const rd_kafka_t* rk, int level, const char* facility, const char* text) {
  if (auto* client = static_cast<Client*>(rd_kafka_opaque(rk)))
    client->log_line(level, facility, text);
}

// A delivery report: the message's opaque is a heap-held shared_ptr to its
// Delivery, released here, so a check that stopped waiting is never written to.
void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void*) {
  auto* holder = static_cast<std::shared_ptr<Delivery>*>(m->_private);
  if (holder == nullptr) return;
  {
    std::lock_guard lock((*holder)->mutex);
    (*holder)->err = m->err;
    (*holder)->offset = m->offset;
    (*holder)->at = std::chrono::steady_clock::now();
    (*holder)->done = true;
  }
  delete holder;
}

// librdkafka's configuration for a connection; throws ParamError.
rd_kafka_conf_t* make_conf(const Connection& c, Client* owner, rd_kafka_type_t type) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  auto set = [&](const std::string& name, const std::string& value, const std::string& param) {
    if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), err, sizeof err) == RD_KAFKA_CONF_OK)
      return;
    rd_kafka_conf_destroy(conf);
    // librdkafka's message may quote the value: not for a secret.
    const bool secret = secret_property(name) || param == "sasl_password";
    throw ParamError(
        "param '" + param + "' is refused by librdkafka" +
        (secret ? std::string(" (value not shown)") : ": " + redact(err, c.secrets())));
  };
  set("bootstrap.servers", c.bootstrap_text, "target");
  set("client.id", "triage", "target");
  set("security.protocol", c.security_protocol, "security_protocol");
  if (c.sasl()) {
    set("sasl.mechanisms", c.sasl_mechanism, "sasl_mechanism");
    if (!c.sasl_username.empty()) set("sasl.username", c.sasl_username, "sasl_username");
    if (!c.sasl_password.empty()) set("sasl.password", c.sasl_password, "sasl_password");
  }
  if (c.tls()) {
    if (!c.ca_file.empty()) set("ssl.ca.location", c.ca_file, "ca_file");
    set("enable.ssl.certificate.verification", "true", "security_protocol");
    set("ssl.endpoint.identification.algorithm", "https", "security_protocol");
  }
  // Reconnect soon after a broker comes back; the checks bound every wait.
  set("reconnect.backoff.ms", "100", "target");
  set("reconnect.backoff.max.ms", "2000", "target");
  if (type == RD_KAFKA_CONSUMER) {
    set("enable.auto.commit", "false", "target");
    // Reads are of one message at a known offset: a broker holding a fetch
    // open for data (500 ms by default) would only add to every read.
    set("fetch.wait.max.ms", "50", "target");
  }
  set("log.connection.close", "false", "target");
  for (const auto& [name, value] : c.properties) set(name, value, "properties." + name);
  rd_kafka_conf_set_log_cb(conf, on_log);
  rd_kafka_conf_set_opaque(conf, owner);
  return conf;
}

rd_kafka_t* make_handle(const Connection& c, Client* owner, rd_kafka_type_t type) {
  rd_kafka_conf_t* conf = make_conf(c, owner, type);
  if (type == RD_KAFKA_PRODUCER) rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf, err, sizeof err);  // owns conf on success
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    throw ParamError(std::string("librdkafka refused the connection params: ") +
                     redact(err, c.secrets()));
  }
  return rk;
}

struct Pool {
  std::mutex mutex;
  std::map<std::string, std::shared_ptr<Client>> clients;
  std::map<std::string, std::uint64_t> last_used;
  std::uint64_t tick = 0;
};

// Leaked on purpose: destroying handles at exit can block in librdkafka,
// and the host process ends anyway.
Pool& pool() {
  static Pool* p = new Pool();
  return *p;
}

}  // namespace

Client::Client(Connection connection)
    : connection_(std::move(connection)), secrets_(connection_.secrets()) {
  rk_ = make_handle(connection_, this, RD_KAFKA_CONSUMER);
}

Client::~Client() {
  // Not waiting for consumer close: there is no group to leave.
  if (producer_ != nullptr) rd_kafka_destroy(producer_);
  if (rk_ != nullptr) rd_kafka_destroy_flags(rk_, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
}

rd_kafka_t* Client::producer(std::string& error) {
  std::lock_guard lock(producer_mutex_);
  if (producer_ == nullptr) {
    try {
      producer_ = make_handle(connection_, this, RD_KAFKA_PRODUCER);
    } catch (const std::exception& e) {
      error = e.what();
    }
  }
  return producer_;
}

std::uint64_t Client::log_mark() const {
  std::lock_guard lock(log_mutex_);
  return next_seq_ - 1;
}

std::vector<LogLine> Client::lines_since(std::uint64_t mark) const {
  std::lock_guard lock(log_mutex_);
  std::vector<LogLine> out;
  for (const auto& l : log_)
    if (l.seq > mark) out.push_back(l);
  return out;
}

void Client::forward_logs(Context& ctx, std::uint64_t mark) {
  std::vector<LogLine> lines;
  {
    std::lock_guard lock(log_mutex_);
    for (auto& l : log_)
      if (l.seq > mark && !l.forwarded && lines.size() < kForwardedLines) {
        l.forwarded = true;
        lines.push_back(l);
      }
  }
  for (const auto& l : lines) {
    const LogLevel level = l.level <= 3   ? LogLevel::error
                           : l.level == 4 ? LogLevel::warning
                           : l.level <= 6 ? LogLevel::info
                                          : LogLevel::debug;
    ctx.log(level, "librdkafka " + l.facility + ": " + l.text);
  }
}

void Client::log_line(int level, const char* facility, const char* text) {
  std::string t = text == nullptr ? "" : text;
  if (t.size() > kLogLineBytes) t = t.substr(0, kLogLineBytes) + "...";
  LogLine line{0, level, facility == nullptr ? "" : facility, redact(std::move(t), secrets_)};
  std::lock_guard lock(log_mutex_);
  line.seq = next_seq_++;
  log_.push_back(std::move(line));
  if (log_.size() > kLogLines) log_.pop_front();
}

std::shared_ptr<Client> client_for(const Connection& connection, bool* created) {
  Pool& p = pool();
  const std::string key = connection.key();
  std::shared_ptr<Client> retired;  // destroyed off the lock, and off this check
  std::shared_ptr<Client> client;
  {
    std::lock_guard lock(p.mutex);
    if (auto it = p.clients.find(key); it != p.clients.end()) {
      p.last_used[key] = ++p.tick;
      return it->second;
    }
    if (p.clients.size() >= kMaxClients) {
      // The least recently used client that no check holds now.
      std::string oldest;
      std::uint64_t when = UINT64_MAX;
      for (const auto& [k, c] : p.clients)
        if (c.use_count() == 1 && p.last_used[k] < when) {
          when = p.last_used[k];
          oldest = k;
        }
      if (!oldest.empty()) {
        retired = std::move(p.clients[oldest]);
        p.clients.erase(oldest);
        p.last_used.erase(oldest);
      }
    }
    client = std::shared_ptr<Client>(new Client(connection));
    if (created != nullptr) *created = true;
    p.clients[key] = client;
    p.last_used[key] = ++p.tick;
  }
  // rd_kafka_destroy may wait on broker threads: never on a check's time.
  if (retired) std::thread([c = std::move(retired)]() mutable { c.reset(); }).detach();
  return client;
}

}  // namespace triage::streaming
