// The etcd check: a cluster's members judged together over etcd's v3 JSON
// gateway (libcurl, no gRPC). Every member is asked, in parallel, for its
// status (POST /v3/maintenance/status: its id, the leader it follows, its raft
// index, its database size and the alarms it knows) and for /health (a
// linearizable read through raft); the member list (POST
// /v3/cluster/member/list) says what the cluster is, so members the params do
// not name are found and asked too. The alarms come from POST
// /v3/maintenance/alarm when the cluster has quorum (that request goes through
// raft), else from the members' status.
//
// The gateway encodes 64-bit integers as JSON strings; they are read as either.
// The password is a secret: it goes only into the body of POST
// /v3/auth/authenticate, never into a summary, finding, attribute or log.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "checks.hpp"
#include "http.hpp"

namespace triage::cluster {

const char* const EtcdCheck::params_schema = R"json({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "cluster/etcd params",
  "type": "object",
  "properties": {
    "target": {
      "type": "string", "minLength": 1, "maxLength": 2048,
      "examples": ["http://127.0.0.1:2379"],
      "description": "One member's client URL, http(s)://HOST:PORT: the other members are found in its member list. With endpoints, only a label naming the cluster in the report (e.g. etcd-main or the first endpoint); it is not contacted."
    },
    "endpoints": {
      "type": "array", "minItems": 1, "maxItems": 32,
      "items": {"type": "string", "minLength": 8, "maxLength": 2048, "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://"},
      "description": "The members' client URLs, judged together as one cluster (not a fan-out: one result for the cluster). Members of the member list that none of them reaches are asked at their advertised client URL."
    },
    "ca_file": {
      "type": "string", "minLength": 1,
      "description": "PEM file of the CA certificate(s) to trust for https endpoints (etcd's --trusted-ca-file), instead of the system store. Certificates and host names are always verified."
    },
    "cert_file": {
      "type": "string", "minLength": 1,
      "description": "Client certificate (PEM) for mutual TLS (etcd's --client-cert-auth); needs key_file."
    },
    "key_file": {
      "type": "string", "minLength": 1, "writeOnly": true, "x-triage-secret": true,
      "description": "The client certificate's private key (PEM); needs cert_file. Secret: never reported."
    },
    "username": {
      "type": "string", "minLength": 1, "maxLength": 256,
      "description": "etcd user (etcd auth, not HTTP basic): authenticated with POST /v3/auth/authenticate; needs password."
    },
    "password": {
      "type": "string", "minLength": 1, "writeOnly": true, "x-triage-secret": true,
      "description": "The etcd user's password; needs username. Secret: never reported. Prefer https endpoints: over http it crosses the network in clear, as with etcdctl."
    },
    "quota_bytes": {
      "type": "integer", "minimum": 1, "maximum": 1099511627776, "default": 2147483648,
      "description": "The members' backend quota (etcd's --quota-backend-bytes) that db_size_pct is measured against. Default: what the member reports (etcd 3.6 and later), else etcd's default of 2 GiB."
    }
  },
  "required": ["target"],
  "additionalProperties": false
})json";

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

constexpr const char* kQuorumLost =
    "Without quorum the cluster refuses every write and linearizable read (a Kubernetes API "
    "server stops serving). Bring the down members back first: on each, systemctl status etcd; "
    "journalctl -u etcd --since -15m; check its disk (space, fsync latency) and the peer port "
    "(2380) between members. If a majority is lost for good, restore the cluster from a "
    "snapshot (etcdctl snapshot restore) or, as a last resort, restart one surviving member "
    "with --force-new-cluster and add the others back.";
constexpr const char* kNoLeader =
    "An election is in progress or the members are cut off from each other: check the peer "
    "connectivity (port 2380) between members, their disk latency (etcd_disk_wal_fsync_duration"
    "_seconds) and CPU; elections that keep recurring mean --heartbeat-interval and "
    "--election-timeout are too short for the network or disks.";
constexpr const char* kBehind =
    "A member falls behind the leader: check its disk (fsync latency, space), CPU and the "
    "network to the leader; a member far behind is sent a snapshot, which costs the leader "
    "I/O and bandwidth (etcdctl endpoint status -w table shows every member's raft index).";
constexpr const char* kDbQuota =
    "The database nears its space quota (runbook: quota limit 80 %); at 100 % etcd raises the "
    "NOSPACE alarm and refuses writes. Compact old revisions (etcdctl compact REVISION, or "
    "--auto-compaction-retention), then defragment each member in turn (etcdctl --endpoints=URL "
    "defrag) to return the space; find what writes so much (etcdctl get / --prefix --keys-only); "
    "raise --quota-backend-bytes (at most 8 GiB) on every member only if the data needs it.";

constexpr MetricDecl kMetrics[] = {
    metric("members", "", "Members in the cluster's member list (learners included)"),
    metric("members_healthy", "",
           "Members whose status answered, that follow a leader and whose /health "
           "(a linearizable read through raft) said true"),
    metric("has_quorum", "", "1 when a majority of the voting members is healthy, else 0")
        .critical("1:")
        .remediation(kQuorumLost),
    metric("leader_agreed", "",
           "1 when every healthy member follows the same leader, a member of the list, else 0")
        .critical("1:")
        .remediation(kNoLeader),
    metric("raft_index_spread", "",
           "Raft entries the most behind member lags the leader (or the most advanced member "
           "when the leader did not answer)")
        .warning("1000")
        .remediation(kBehind),
    metric("db_size_pct", "%", "The largest member's database size as a share of quota_bytes")
        .warning("80")
        .critical("95")
        .remediation(kDbQuota),
    metric("db_size_bytes", "B", "The largest member's database size (dbSize)"),
    metric("alarms", "", "Active alarms (NOSPACE, CORRUPT), one per member and kind")
        .critical("0")
        .remediation("See the alarm's finding for the fix (compact, defrag, disarm for NOSPACE; "
                     "replace the member for CORRUPT)."),
    metric("health_ms", "ms",
           "The slowest healthy member's /health round trip (a read committed through raft)")
        .warning("500")
        .remediation("Raft is slow: check the members' disk fsync latency (etcd_disk_wal_fsync_"
                     "duration_seconds, < 10 ms expected), CPU steal and the network between "
                     "members; the runbook's API p99 target is 500 ms."),
};

// The error of a request not sent because its slice of time was spent.
constexpr const char* kNoTimeLeft = "no time left for it";

enum class Failure { none, unreachable, timeout, tls, http, not_etcd, unhealthy, no_time };

struct Member {
  std::uint64_t id = 0;
  std::string name;
  std::vector<std::string> client_urls;
  bool learner = false;
};

// One member (or one endpoint that may be none) as asked over one URL.
struct Probe {
  std::string url;  // base URL, no trailing slash
  bool seed = false;
  const Member* member = nullptr;  // once matched to the member list

  bool answered = false;  // the status was read
  Failure failure = Failure::none;
  std::string why;  // when not answered or not healthy
  std::uint64_t cluster_id = 0, member_id = 0, leader = 0;
  std::uint64_t raft_index = 0, raft_term = 0, db_size = 0, db_in_use = 0, quota = 0;
  std::string version;
  std::vector<std::string> errors;  // the status' errors (alarms, "no leader")
  std::optional<bool> health;
  double health_ms = 0;
  std::optional<std::vector<Member>> members;  // the member list it returned
};

struct Params {
  std::vector<std::string> seeds;
  bool from_endpoints = false;
  HttpAuth tls;  // ca, cert and key only: etcd takes no HTTP basic auth
  std::string username, password;
  std::optional<std::uint64_t> quota;
};

// ---- small helpers --------------------------------------------------------

// Decimal digits only, as etcd writes its 64-bit integers.
std::optional<std::uint64_t> parse_u64(std::string_view s) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  std::uint64_t v = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (v > (UINT64_MAX - digit) / 10) return std::nullopt;
    v = v * 10 + digit;
  }
  return v;
}

// A 64-bit field of a gateway answer: a JSON string ("803679140075010678"),
// or a number from a proxy that re-encoded it.
std::optional<std::uint64_t> u64(const json& object, const char* key) {
  if (!object.is_object()) return std::nullopt;
  const auto it = object.find(key);
  if (it == object.end()) return std::nullopt;
  if (it->is_number_unsigned()) return it->get<std::uint64_t>();
  if (it->is_number_integer() && it->get<std::int64_t>() >= 0)
    return static_cast<std::uint64_t>(it->get<std::int64_t>());
  if (!it->is_string()) return std::nullopt;
  return parse_u64(it->get_ref<const std::string&>());
}

// A string field of an answer, at most max bytes (cut on a UTF-8 boundary).
std::string text(const json& object, const char* key, std::size_t max = 200) {
  if (!object.is_object()) return {};
  const auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return {};
  std::string s = it->get<std::string>();
  if (s.size() > max) {
    std::size_t cut = max;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
    s = s.substr(0, cut) + "...";
  }
  return s;
}

std::string hex(std::uint64_t id) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(id));
  return buf;
}

std::string human_bytes(double b) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) {
    b /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", b, kUnits[u]);
  return buf;
}

std::string one_decimal(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string join(const std::vector<std::string>& items, std::size_t max = 8) {
  std::string out;
  for (std::size_t i = 0; i < items.size() && i < max; ++i) out += (i ? ", " : "") + items[i];
  if (items.size() > max) out += " and " + std::to_string(items.size() - max) + " more";
  return out;
}

long ms_until(Clock::time_point until) {
  return static_cast<long>(
      std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count());
}

// "https://Host:2379/" and "https://host:2379" are the same endpoint.
std::string normalized(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  const auto scheme = url.find("://");
  const auto end = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  for (std::size_t i = 0; i < std::min(end, url.size()); ++i)
    url[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(url[i])));
  return url;
}

bool is_http_url(const std::string& url) {
  const std::string lower = normalized(url);
  return lower.rfind("http://", 0) == 0 || lower.rfind("https://", 0) == 0;
}

void check_readable(const std::string& path, const char* param, bool secret) {
  if (FILE* f = std::fopen(path.c_str(), "r")) {
    std::fclose(f);
    return;
  }
  throw ParamError("param '" + std::string(param) + "': cannot read " +
                   (secret ? std::string("the file it names") : path));
}

std::string read_url(const std::string& url, const std::string& param) {
  if (!is_http_url(url))
    throw ParamError("param '" + param + "' must be an etcd client URL, http:// or https://");
  const auto rest = url.substr(url.find("://") + 3);
  if (rest.substr(0, rest.find('/')).find('@') != std::string::npos)
    throw ParamError("param '" + param +
                     "' must not hold credentials: give username and password instead");
  return read_base_url(url, param);
}

Params read_params(const Context& ctx) {
  static const std::set<std::string> known{"target",   "endpoints", "ca_file",  "cert_file",
                                           "key_file", "username",  "password", "quota_bytes"};
  if (!ctx.params().is_object()) throw ParamError("params must be a JSON object");
  for (const auto& item : ctx.params().items())
    if (known.count(item.key()) == 0) throw ParamError("unknown param '" + item.key() + "'");

  Params p;
  const std::string target = ctx.target();
  if (ctx.has("endpoints")) {
    const auto& list = ctx.params().at("endpoints");
    if (!list.is_array() || list.empty() || list.size() > 32)
      throw ParamError("param 'endpoints' must be a list of 1 to 32 client URLs");
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::string name = "endpoints[" + std::to_string(i) + "]";
      if (!list[i].is_string()) throw ParamError("param '" + name + "' must be a string");
      const std::string url = read_url(list[i].get<std::string>(), name);
      const bool seen = std::any_of(p.seeds.begin(), p.seeds.end(), [&](const std::string& s) {
        return normalized(s) == normalized(url);
      });
      if (!seen) p.seeds.push_back(url);
    }
    p.from_endpoints = true;
  } else {
    p.seeds.push_back(read_url(target, "target"));
  }

  const HttpAuth auth = read_auth(ctx);  // pairs: cert/key, username/password
  p.tls.ca_file = auth.ca_file;
  p.tls.cert_file = auth.cert_file;
  p.tls.key_file = auth.key_file;
  p.username = auth.username;
  p.password = auth.password;
  if (!p.tls.ca_file.empty()) check_readable(p.tls.ca_file, "ca_file", false);
  if (!p.tls.cert_file.empty()) check_readable(p.tls.cert_file, "cert_file", false);
  if (!p.tls.key_file.empty()) check_readable(p.tls.key_file, "key_file", true);
  if (ctx.has("quota_bytes")) {
    const auto q = ctx.params().at("quota_bytes");
    if (!q.is_number_integer() || q.get<std::int64_t>() < 1 ||
        q.get<std::int64_t>() > (std::int64_t{1} << 40))
      throw ParamError("param 'quota_bytes' must be an integer from 1 to 1099511627776 (1 TiB)");
    p.quota = static_cast<std::uint64_t>(q.get<std::int64_t>());
  }
  return p;
}

Failure classify(const HttpResponse& r) {
  if (r.curl == CURLE_OK) return r.ok() ? Failure::none : Failure::http;
  switch (r.curl) {
    case CURLE_OPERATION_TIMEDOUT:
      return Failure::timeout;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_USE_SSL_FAILED:
      return Failure::tls;
    default:
      return Failure::unreachable;
  }
}

// ---- one run ----------------------------------------------------------------

class Run {
 public:
  Run(Context& ctx, Params p) : ctx_(ctx), p_(std::move(p)) {}

  void operator()() {
    // Round 1: what the params name, within a third of the time left, so
    // that members found in the member list still get their turn.
    std::vector<Probe> seeds;
    for (const auto& url : p_.seeds) {
      Probe probe;
      probe.url = url;
      probe.seed = true;
      seeds.push_back(std::move(probe));
    }
    probe_all(seeds, share(3), true);
    if (interrupted()) return;

    const Probe* reference = choose_reference(seeds);
    if (reference == nullptr) return report_no_answer(seeds);
    cluster_id_ = reference->cluster_id;
    members_ = *reference->members;
    // By name, so that reports list m0, m1, m2 the same way every time.
    std::sort(members_.begin(), members_.end(), [](const Member& a, const Member& b) {
      return a.name != b.name ? a.name < b.name : a.id < b.id;
    });
    probes_ = std::move(seeds);
    match_seeds();

    // Round 2: the members no endpoint reached, at their advertised URL.
    std::vector<Probe> more;
    for (const auto& m : members_) {
      if (probe_of(m) != nullptr || m.client_urls.empty()) continue;
      Probe probe;
      probe.url = advertised_url(m);
      probe.member = &m;
      more.push_back(std::move(probe));
    }
    if (!more.empty()) {
      probe_all(more, share(2), false);
      if (interrupted()) return;
      for (auto& probe : more) probes_.push_back(std::move(probe));
    }
    judge();
  }

 private:
  // ---- requests ----

  Clock::time_point share(int parts) const { return Clock::now() + ctx_.remaining() / parts; }

  bool interrupted() {
    if (ctx_.cancelled() && Clock::now() < ctx_.deadline()) {
      ctx_.error("cancelled while asking the etcd members");
      return true;
    }
    return false;
  }

  HttpResponse request(const std::string& base, const std::string& path,
                       std::optional<std::string> body, Clock::time_point until) {
    HttpRequest r;
    r.method = body ? "POST" : "GET";
    r.url = base + path;
    if (body) r.headers.emplace_back("Content-Type: application/json");
    {
      std::lock_guard lock(mutex_);
      if (token_) r.headers.push_back("Authorization: " + *token_);
    }
    r.body = std::move(body);
    const long left = ms_until(until);
    if (left < 1) {
      HttpResponse none;
      none.curl = CURLE_OPERATION_TIMEDOUT;
      none.curl_error = kNoTimeLeft;
      return none;
    }
    return perform(r, p_.tls, ctx_, left);
  }

  // An auth error that a token would cure (etcd versions that guard these
  // requests with auth): 401/403, or 400 "user name is empty".
  static bool wants_token(const HttpResponse& r) {
    if (r.curl != CURLE_OK) return false;
    if (r.status == 401 || r.status == 403) return true;
    return r.status == 400 && (r.body.find("user name is empty") != std::string::npos ||
                               r.body.find("invalid auth token") != std::string::npos);
  }

  // POST with the token, getting one first when the answer asks for it.
  HttpResponse post(const std::string& base, const std::string& path, const std::string& body,
                    Clock::time_point until) {
    auto r = request(base, path, body, until);
    if (wants_token(r) && !p_.username.empty() && authenticate(base, until))
      r = request(base, path, body, until);
    return r;
  }

  // POST /v3/auth/authenticate; true when a token was obtained (tokens are
  // valid on every member).
  bool authenticate(const std::string& base, Clock::time_point until) {
    {
      std::lock_guard lock(mutex_);
      if (token_) return true;
    }
    const json body{{"name", p_.username}, {"password", p_.password}};
    HttpRequest r;
    r.method = "POST";
    r.url = base + "/v3/auth/authenticate";
    r.headers.emplace_back("Content-Type: application/json");
    r.body = body.dump();
    const long left = ms_until(until);
    if (left < 1) return false;
    const auto response = perform(r, p_.tls, ctx_, left);
    std::lock_guard lock(mutex_);
    auth_tried_ = true;
    if (response.ok()) {
      const auto answer = json::parse(response.body, nullptr, false);
      const std::string token = text(answer, "token", 4096);
      if (!token.empty() && token.find_first_of("\r\n") == std::string::npos) {
        token_ = token;
        auth_outcome_ = "ok";
        return true;
      }
      auth_outcome_ = "the answer held no token";
      return false;
    }
    const auto answer = json::parse(response.body, nullptr, false);
    const std::string message = text(answer, "message");
    if (message.find("authentication is not enabled") != std::string::npos)
      auth_outcome_ = "not enabled";
    else if (message.find("authentication failed") != std::string::npos)
      auth_outcome_ = "refused";
    else
      auth_outcome_ = "failed: " + redact(failure_text(response), auth_for_redaction());
    return false;
  }

  HttpAuth auth_for_redaction() const {
    HttpAuth a;
    a.password = p_.password;
    return a;
  }

  // Words for a failed request: curl's reason, or the status with etcd's message.
  std::string failure_text(const HttpResponse& r) const {
    std::string out = describe_failure(r);
    if (r.curl == CURLE_OK) {
      const auto answer = json::parse(r.body, nullptr, false);
      const std::string message = text(answer, "message");
      if (!message.empty()) out += ": " + message;
    }
    return redact(out, auth_for_redaction());
  }

  // Status, /health and (round 1) the member list of one URL, within `until`.
  void probe(Probe& pr, Clock::time_point until, bool want_members) {
    auto status = post(pr.url, "/v3/maintenance/status", "{}", until);
    const Failure f = classify(status);
    if (f != Failure::none) {
      pr.failure = status.cancelled ? Failure::timeout : f;
      pr.why = status.cancelled ? std::string("no answer before the check's deadline")
               : status.curl_error == kNoTimeLeft ? "not asked: the time for it ran out"
                                                  : failure_text(status);
      if (status.curl == CURLE_OK && status.status == 404)
        pr.why +=
            " (not an etcd 3.4+ JSON gateway: etcd 3.3 serves /v3beta, and "
            "--enable-grpc-gateway=false turns it off)";
      return;
    }
    const auto answer = json::parse(status.body, nullptr, false);
    const json header = answer.is_object() ? answer.value("header", json::object()) : json();
    const auto member_id = u64(header, "member_id");
    if (!member_id || *member_id == 0) {
      pr.failure = Failure::not_etcd;
      pr.why = "HTTP " + std::to_string(status.status) +
               " but not an etcd status answer (is this an etcd client URL?)";
      return;
    }
    pr.answered = true;
    pr.member_id = *member_id;
    pr.cluster_id = u64(header, "cluster_id").value_or(0);
    pr.leader = u64(answer, "leader").value_or(0);
    pr.raft_index = u64(answer, "raftIndex").value_or(0);
    pr.raft_term = u64(answer, "raftTerm").value_or(u64(header, "raft_term").value_or(0));
    pr.db_size = u64(answer, "dbSize").value_or(0);
    pr.db_in_use = u64(answer, "dbSizeInUse").value_or(0);
    pr.quota = u64(answer, "dbSizeQuota").value_or(0);  // etcd 3.6+
    pr.version = text(answer, "version", 40);
    if (const auto it = answer.find("errors"); it != answer.end() && it->is_array())
      for (const auto& e : *it)
        if (e.is_string() && pr.errors.size() < 16) pr.errors.push_back(e.get<std::string>());

    // Alarms are judged on their own (below): here only raft counts.
    auto health = request(pr.url, "/health?exclude=NOSPACE&exclude=CORRUPT", std::nullopt, until);
    if (health.curl == CURLE_OK && (health.status == 200 || health.status == 503)) {
      const auto h = json::parse(health.body, nullptr, false);
      const auto value = h.is_object() ? h.value("health", json()) : json();
      if (value == "true" || value == true) {
        pr.health = true;
        pr.health_ms = health.elapsed_ms;
      } else if (value == "false" || value == false) {
        pr.health = false;
        const std::string reason = text(h, "reason");
        pr.why = "its /health says false" + (reason.empty() ? "" : " (" + reason + ")");
      }
    }
    if (!pr.health) {
      pr.health = false;
      pr.why = "its /health did not answer: " + failure_text(health);
    }

    if (!want_members) return;
    auto list = post(pr.url, "/v3/cluster/member/list", "{}", until);
    if (!list.ok()) return;
    const auto members = json::parse(list.body, nullptr, false);
    const auto it = members.is_object() ? members.find("members") : members.end();
    if (it == members.end() || !it->is_array() || it->empty()) return;
    std::vector<Member> out;
    for (const auto& m : *it) {
      if (out.size() >= 64) break;  // a bound: etcd advises at most 7
      Member member;
      member.id = u64(m, "ID").value_or(0);
      if (member.id == 0) continue;
      member.name = text(m, "name", 64);
      member.learner = m.is_object() && m.value("isLearner", false) == true;
      if (const auto urls = m.find("clientURLs"); urls != m.end() && urls->is_array())
        for (const auto& u : *urls)
          if (u.is_string() && is_http_url(u.get<std::string>()) && member.client_urls.size() < 8)
            member.client_urls.push_back(u.get<std::string>());
      out.push_back(std::move(member));
    }
    if (!out.empty()) pr.members = std::move(out);
  }

  // Every probe at once, each on its own thread, none past `until`.
  void probe_all(std::vector<Probe>& probes, Clock::time_point until, bool want_members) {
    std::vector<std::jthread> threads;
    threads.reserve(probes.size());
    for (auto& pr : probes)
      threads.emplace_back([this, &pr, until, want_members] {
        try {
          probe(pr, until, want_members);
        } catch (const std::exception& e) {
          pr.answered = false;
          pr.failure = Failure::unreachable;
          pr.why = e.what();
        }
      });
  }

  // ---- the cluster's view ----

  // The member list to trust: the leader's, else the first one read.
  static const Probe* choose_reference(const std::vector<Probe>& probes) {
    const Probe* first = nullptr;
    for (const auto& pr : probes) {
      if (!pr.answered || !pr.members) continue;
      if (pr.leader != 0 && pr.leader == pr.member_id && pr.health == true) return &pr;
      if (first == nullptr) first = &pr;
    }
    return first;
  }

  const Member* member_by_id(std::uint64_t id) const {
    for (const auto& m : members_)
      if (m.id == id) return &m;
    return nullptr;
  }

  const Probe* probe_of(const Member& m) const {
    // An answer counts before a failure: two endpoints may name one member.
    const Probe* failed = nullptr;
    for (const auto& pr : probes_) {
      if (pr.member != &m) continue;
      if (pr.answered) return &pr;
      if (failed == nullptr) failed = &pr;
    }
    return failed;
  }

  void match_seeds() {
    for (auto& pr : probes_) {
      if (pr.answered) {
        if (pr.cluster_id == cluster_id_) pr.member = member_by_id(pr.member_id);
        continue;
      }
      for (const auto& m : members_)
        for (const auto& u : m.client_urls)
          if (pr.member == nullptr && normalized(u) == normalized(pr.url)) pr.member = &m;
    }
  }

  // The member's client URL of the seeds' scheme (they reach the cluster), else its first.
  std::string advertised_url(const Member& m) const {
    const bool https = normalized(p_.seeds.front()).rfind("https://", 0) == 0;
    for (const auto& u : m.client_urls)
      if ((normalized(u).rfind("https://", 0) == 0) == https) return normalized(u);
    return normalized(m.client_urls.front());
  }

  static std::string display(const Member& m) { return m.name.empty() ? hex(m.id) : m.name; }

  // Why a member that answered is not healthy, or "" when it is.
  static std::string unhealthy_reason(const Probe& pr) {
    if (!pr.answered) return pr.why;
    std::vector<std::string> other;
    bool alarm_only = !pr.errors.empty();
    for (const auto& e : pr.errors) {
      if (e.find("alarm:") != std::string::npos) continue;
      alarm_only = false;
      if (e.find("no leader") == std::string::npos) other.push_back(e);
    }
    if (pr.leader == 0) return "it has no leader (an election is in progress or it is cut off)";
    // etcd without /health?exclude says false for an alarm, judged on its own.
    if (pr.health == false && !alarm_only) return pr.why;
    if (!other.empty()) return "its status reports: " + join(other, 3);
    return {};
  }

  std::string remediation_for(const Probe& pr, const Member* m) const {
    const std::string where = m != nullptr ? display(*m) + "'s host" : "the endpoint's host";
    switch (pr.failure) {
      case Failure::tls:
        return "The TLS handshake failed: give the CA that signed the members' certificates "
               "(etcd's --trusted-ca-file) in ca_file, check that the certificate names the "
               "host of the URL and has not expired (openssl s_client -connect HOST:PORT), and "
               "for --client-cert-auth give cert_file and key_file.";
      case Failure::http:
        if (pr.why.rfind("HTTP 401", 0) == 0 || pr.why.rfind("HTTP 403", 0) == 0)
          return "etcd refused the request: give username and password of a user allowed to "
                 "read the cluster's status (etcdctl user get USER), or a client certificate.";
        return "The URL answers HTTP but not as etcd's JSON gateway: check that it is the "
               "member's client URL (--advertise-client-urls, port 2379) and not a proxy or "
               "the peer URL (2380).";
      case Failure::not_etcd:
        return "Point the check at the member's client URL (--advertise-client-urls).";
      default:
        break;
    }
    if (pr.answered)
      return "The member runs but does not take part in raft: check its log (journalctl -u "
             "etcd --since -15m on " +
             where +
             ") for lost peers or slow disks, and the peer port (2380) between it and the "
             "others; etcdctl endpoint status -w table compares it with the others.";
    return "The member does not answer: on " + where +
           ", check the process (systemctl status etcd; journalctl -u etcd --since -15m), its "
           "disk (space, fsync latency), and that the client port is reachable from here "
           "(firewall, --listen-client-urls). While it is down the cluster tolerates fewer "
           "failures.";
  }

  // ---- reporting ----

  void report_no_answer(const std::vector<Probe>& seeds) {
    std::vector<std::string> why;
    for (const auto& pr : seeds) {
      if (pr.answered) {
        // Answered, but returned no member list.
        ctx_.finding(
            Severity::critical, "etcd endpoint " + pr.url + " returned no member list",
            "Its status answered (member " + hex(pr.member_id) +
                ") but POST /v3/cluster/member/list did not.",
            "Check the member's log; ask it with etcdctl --endpoints=" + pr.url + " member list.");
        why.push_back(pr.url + ": no member list");
        continue;
      }
      ctx_.finding(Severity::critical, "etcd endpoint " + pr.url + " does not answer",
                   "POST /v3/maintenance/status to " + pr.url + " failed: " + pr.why + ".",
                   remediation_for(pr, nullptr));
      why.push_back(pr.url + ": " + pr.why);
    }
    ctx_.metric(kMetrics[1], 0);
    ctx_.status(Status::critical,
                std::string(p_.from_endpoints ? "no etcd endpoint answered"
                                              : "the etcd member did not answer") +
                    " (" + join(why, 3) + ")");
  }

  // What the members' answers add up to.
  struct Tally {
    struct Unhealthy {
      const Member* member;
      const Probe* probe;  // nullptr: the member has no client URL
      std::string why;
    };
    int voters = 0, healthy_voters = 0, healthy = 0;
    std::vector<Unhealthy> unhealthy;
    std::set<std::uint64_t> leaders;  // as the healthy members see it
    double slowest_health_ms = 0;
    std::vector<const Probe*> answered;  // members whose status was read

    int needed() const { return voters / 2 + 1; }
    bool quorum() const { return voters > 0 && healthy_voters >= needed(); }
    int tolerates() const { return quorum() ? healthy_voters - needed() : 0; }
    std::vector<std::string> names() const {
      std::vector<std::string> out;
      for (const auto& u : unhealthy) out.push_back(display(*u.member));
      return out;
    }
  };

  void judge() {
    report_stale_endpoints();
    const Tally t = tally();
    report_unhealthy(t);

    // One leader, agreed by every healthy member, and a member of the list.
    const bool agreed =
        t.healthy > 0 && t.leaders.size() == 1 && member_by_id(*t.leaders.begin()) != nullptr;
    const Member* leader = agreed ? member_by_id(*t.leaders.begin()) : nullptr;
    const Probe* leader_probe = leader != nullptr ? probe_of(*leader) : nullptr;
    if (t.healthy > 0 && !agreed) {
      std::vector<std::string> views;
      for (const auto id : t.leaders) {
        const Member* m = member_by_id(id);
        views.push_back(m != nullptr ? display(*m) : hex(id) + " (no member)");
      }
      ctx_.finding(Severity::critical, "The etcd members do not agree on a leader",
                   "The healthy members follow " + join(views) + ".", kNoLeader);
    }
    if (leader != nullptr) {
      ctx_.attribute("leader", display(*leader) + " (id " + hex(leader->id) + ")");
      if (leader_probe != nullptr && leader_probe->answered)
        ctx_.attribute("raft_term", std::to_string(leader_probe->raft_term));
    }
    ctx_.attribute("cluster_id", hex(cluster_id_));

    const std::uint64_t spread = raft_index_spread(t.answered, leader_probe);
    const Db db = database(t.answered);
    const auto alarms = read_alarms(t.quorum(), leader_probe, t.answered);
    verify_credentials(t.quorum(), leader_probe, t.answered);

    // Several versions: an upgrade in progress.
    std::set<std::string> versions;
    for (const Probe* pr : t.answered)
      if (!pr->version.empty()) versions.insert(pr->version);
    ctx_.attribute("version", join(std::vector<std::string>(versions.begin(), versions.end())));

    ctx_.metric(kMetrics[0], static_cast<double>(members_.size()));
    ctx_.metric(kMetrics[1], t.healthy);
    ctx_.metric(kMetrics[2], t.quorum() ? 1 : 0);
    ctx_.metric(kMetrics[3], agreed ? 1 : 0);
    if (!t.answered.empty()) {
      ctx_.metric(kMetrics[4], static_cast<double>(spread));
      ctx_.metric(kMetrics[5], db.pct());
      ctx_.metric(kMetrics[6], static_cast<double>(db.size));
    }
    if (alarms) ctx_.metric(kMetrics[7], static_cast<double>(*alarms));
    if (t.healthy > 0) ctx_.metric(kMetrics[8], t.slowest_health_ms);

    std::string summary =
        std::to_string(t.healthy) + "/" + std::to_string(members_.size()) + " members healthy";
    if (!t.unhealthy.empty()) summary += " (unhealthy: " + join(t.names(), 3) + ")";
    if (!t.quorum())
      summary += ": quorum lost, " + std::to_string(t.needed()) + " needed";
    else if (!t.unhealthy.empty())
      summary += "; quorum kept, tolerates " + std::to_string(t.tolerates()) + " more failure(s)";
    summary += leader != nullptr ? "; leader " + display(*leader)
               : t.healthy > 0   ? "; members disagree on the leader"
                                 : "; no leader";
    if (!t.answered.empty()) {
      summary += "; raft index spread " + std::to_string(spread);
      summary += "; db " + human_bytes(static_cast<double>(db.size)) + " (" +
                 one_decimal(db.pct()) + " % of " + human_bytes(static_cast<double>(db.quota)) +
                 ")";
      // Worth a defrag: a quarter of the file and at least 1 MiB.
      const std::uint64_t reclaimable =
          db.in_use > 0 && db.in_use < db.size ? db.size - db.in_use : 0;
      if (reclaimable >= db.size / 4 && reclaimable >= (1u << 20))
        summary += ", " + human_bytes(static_cast<double>(reclaimable)) + " free to defrag";
    }
    if (!alarm_names_.empty()) summary += "; alarm " + join(alarm_names_);
    for (const auto& note : notes_) summary += "; " + note;
    if (!t.quorum() || !agreed || !alarm_names_.empty()) worst(Status::critical);
    if (!t.unhealthy.empty()) worst(Status::warning);
    ctx_.status(status_, summary);
  }

  // Endpoints that lead nowhere: another cluster, a removed member, or a dead
  // URL that is no member's client URL.
  void report_stale_endpoints() {
    for (const auto& pr : probes_) {
      if (pr.member != nullptr || !pr.seed) continue;
      if (pr.answered && pr.cluster_id != cluster_id_) {
        notes_.push_back("endpoint " + pr.url + " is another cluster");
        ctx_.finding(Severity::critical, "Endpoint " + pr.url + " belongs to another etcd cluster",
                     "It answers for cluster " + hex(pr.cluster_id) + ", the others for " +
                         hex(cluster_id_) + ".",
                     "Fix the endpoints list: every URL must be a client URL of the same cluster.");
        worst(Status::critical);
      } else if (pr.answered) {
        notes_.push_back("endpoint " + pr.url + " is no member");
        ctx_.finding(Severity::warning, "Endpoint " + pr.url + " is not in the member list",
                     "It answers as member " + hex(pr.member_id) +
                         ", which the cluster's member list does not hold (removed?).",
                     "Remove it from the endpoints, or add it back (etcdctl member add).");
        worst(Status::warning);
      } else {
        notes_.push_back("endpoint " + pr.url + " does not answer");
        ctx_.finding(
            Severity::warning, "Endpoint " + pr.url + " does not answer",
            "It is no member's client URL in the member list, and it failed: " + pr.why + ".",
            "Remove it from the endpoints if the member is gone; else " +
                remediation_for(pr, nullptr));
        worst(Status::warning);
      }
    }
  }

  // Each member healthy or not (and its attribute).
  Tally tally() {
    Tally t;
    for (const auto& m : members_) {
      const Probe* pr = probe_of(m);
      if (!m.learner) ++t.voters;
      if (pr != nullptr && pr->answered) t.answered.push_back(pr);
      std::string why = pr != nullptr ? unhealthy_reason(*pr)
                        : m.name.empty()
                            ? "it has no client URL: added to the cluster but never started"
                            : "it advertises no http(s) client URL to ask";
      ctx_.attribute("member." + display(m),
                     (pr != nullptr ? pr->url : std::string("(no client URL)")) + " id " +
                         hex(m.id) + (m.learner ? " learner" : "") +
                         (pr != nullptr && !pr->version.empty() ? " version " + pr->version : ""));
      if (!why.empty()) {
        t.unhealthy.push_back({&m, pr, std::move(why)});
        continue;
      }
      ++t.healthy;
      if (!m.learner) ++t.healthy_voters;
      t.leaders.insert(pr->leader);
      t.slowest_health_ms = std::max(t.slowest_health_ms, pr->health_ms);
    }
    return t;
  }

  // A finding per unhealthy member, and one for the lost quorum.
  void report_unhealthy(const Tally& t) {
    for (const auto& u : t.unhealthy) {
      const Member& m = *u.member;
      const std::string url = u.probe != nullptr ? u.probe->url : std::string("no client URL");
      const bool answered = u.probe != nullptr && u.probe->answered;
      ctx_.finding(
          t.quorum() ? Severity::warning : Severity::critical,
          "etcd member " + display(m) + " (" + url + ") is " + (answered ? "unhealthy" : "down"),
          "Member " + display(m) + " (id " + hex(m.id) + (m.learner ? ", learner" : "") +
              "): " + u.why + ". " +
              (t.quorum() ? "The cluster keeps quorum and tolerates " +
                                std::to_string(t.tolerates()) + " more failure(s)."
                          : std::string("The cluster has lost quorum.")),
          u.probe != nullptr
              ? remediation_for(*u.probe, &m)
              : "Start the member (with --initial-cluster-state=existing), or remove it "
                "if it was added by mistake: etcdctl member remove " +
                    hex(m.id) + ".");
    }
    if (!t.quorum())
      ctx_.finding(Severity::critical, "The etcd cluster has lost quorum",
                   std::to_string(t.healthy_voters) + " of " + std::to_string(t.voters) +
                       " voting members are healthy; " + std::to_string(t.needed()) +
                       " are needed for a majority. Unhealthy: " + join(t.names()) + ".",
                   kQuorumLost);
  }

  // How far the most behind member lags the leader (or the most advanced
  // member when the leader did not answer), in raft entries.
  std::uint64_t raft_index_spread(const std::vector<const Probe*>& answered, const Probe* leader) {
    if (answered.empty()) return 0;
    std::uint64_t top = 0;
    for (const Probe* pr : answered) top = std::max(top, pr->raft_index);
    if (leader != nullptr && leader->answered) top = leader->raft_index;
    const Probe* behind = *std::min_element(
        answered.begin(), answered.end(),
        [](const Probe* a, const Probe* b) { return a->raft_index < b->raft_index; });
    if (behind->raft_index >= top) return 0;
    if (behind->member != nullptr) ctx_.attribute("most_behind", display(*behind->member));
    return top - behind->raft_index;
  }

  struct Db {
    std::uint64_t size = 0, in_use = 0, quota = 1;
    double pct() const { return 100.0 * static_cast<double>(size) / static_cast<double>(quota); }
  };

  // The largest member's database against the quota.
  Db database(const std::vector<const Probe*>& answered) {
    Db db;
    std::uint64_t reported = 0;
    for (const Probe* pr : answered) {
      if (pr->db_size > db.size) {
        db.size = pr->db_size;
        db.in_use = pr->db_in_use;
      }
      reported = std::max(reported, pr->quota);
    }
    db.quota = p_.quota ? *p_.quota : reported > 0 ? reported : std::uint64_t{2} << 30;
    ctx_.attribute("quota_bytes", std::to_string(db.quota) + (p_.quota       ? " (quota_bytes)"
                                                              : reported > 0 ? " (reported)"
                                                                             : " (etcd default)"));
    return db;
  }

  // Active alarms, each a critical finding; their count, or nullopt when
  // none could be read. POST /v3/maintenance/alarm goes through raft, so
  // without quorum the alarms the members' status carries are used.
  std::optional<int> read_alarms(bool quorum, const Probe* leader,
                                 const std::vector<const Probe*>& answered) {
    std::map<std::string, std::set<std::uint64_t>> active;  // kind -> members
    bool read = false;
    if (quorum) {
      const Probe* ask = leader != nullptr && leader->answered ? leader : nullptr;
      for (const Probe* pr : answered)
        if (ask == nullptr && pr->health == true) ask = pr;
      if (ask != nullptr) {
        const auto r = post(ask->url, "/v3/maintenance/alarm", R"({"action":"GET"})", share(2));
        const auto answer = json::parse(r.body, nullptr, false);
        if (r.ok() && answer.is_object()) {
          read = true;
          if (const auto it = answer.find("alarms"); it != answer.end() && it->is_array())
            for (const auto& a : *it) {
              const std::string kind = text(a, "alarm", 32);
              if (!kind.empty() && kind != "NONE")
                active[kind].insert(u64(a, "memberID").value_or(0));
            }
        } else {
          ctx_.log(LogLevel::warning, "reading the alarms failed (" + failure_text(r) +
                                          "): using the members' status instead");
        }
      }
    }
    if (!read) {
      // "memberID:803679140075010678 alarm:NOSPACE "
      for (const Probe* pr : answered)
        for (const auto& e : pr->errors) {
          const auto a = e.find("alarm:");
          const auto id = e.find("memberID:");
          if (a == std::string::npos) continue;
          std::string kind = e.substr(a + 6);
          while (!kind.empty() && kind.back() == ' ') kind.pop_back();
          if (kind.empty() || kind.size() > 32) continue;
          std::uint64_t member = 0;
          if (id != std::string::npos) {
            const auto end = e.find(' ', id);
            member =
                parse_u64(std::string_view(e).substr(
                              id + 9, end == std::string::npos ? std::string::npos : end - id - 9))
                    .value_or(0);
          }
          active[kind].insert(member);
          read = true;
        }
      if (!read && answered.empty()) return std::nullopt;
    }
    int count = 0;
    std::string endpoints;
    for (const auto& pr : probes_)
      if (pr.member != nullptr && pr.answered) endpoints += (endpoints.empty() ? "" : ",") + pr.url;
    for (const auto& [kind, ids] : active) {
      count += static_cast<int>(ids.size());
      std::vector<std::string> names;
      for (const auto id : ids) {
        const Member* m = member_by_id(id);
        names.push_back(m != nullptr ? display(*m) : hex(id));
      }
      alarm_names_.push_back(kind);
      ctx_.finding(Severity::critical, "etcd alarm " + kind + " is active (" + join(names) + ")",
                   alarm_detail(kind), alarm_remediation(kind, endpoints));
    }
    return count;
  }

  static std::string alarm_detail(const std::string& kind) {
    if (kind == "NOSPACE")
      return "A member's database reached its space quota (--quota-backend-bytes): the "
             "cluster refuses writes (\"mvcc: database space exceeded\") and serves only reads "
             "and deletes until the alarm is disarmed.";
    if (kind == "CORRUPT")
      return "The corruption check found a member whose data differs from the others'.";
    return "etcd raised alarm " + kind + ".";
  }

  static std::string alarm_remediation(const std::string& kind, const std::string& endpoints) {
    const std::string ep = "--endpoints=" + (endpoints.empty() ? "URLS" : endpoints);
    if (kind == "NOSPACE")
      return "Free space, then disarm (add --cacert/--cert/--key/--user as for this check): "
             "1) the current revision: etcdctl " +
             ep +
             " endpoint status -w json (header.revision); "
             "2) compact the history before it: etcdctl " +
             ep +
             " compact REVISION; "
             "3) defragment each member, one at a time: etcdctl --endpoints=URL defrag; "
             "4) disarm: etcdctl " +
             ep +
             " alarm disarm. Then find what writes so much (etcdctl get / --prefix --keys-only), "
             "set --auto-compaction-retention, or raise --quota-backend-bytes (at most 8 GiB) on "
             "every member.";
    if (kind == "CORRUPT")
      return "Do not disarm first. Find the member whose hash differs: etcdctl " + ep +
             " endpoint hashkv; remove it (etcdctl member remove ID), wipe its data dir, add it "
             "back (etcdctl member add NAME --peer-urls=URL) and start it with "
             "--initial-cluster-state=existing; then etcdctl " +
             ep +
             " alarm disarm. If most members are corrupt, restore from a snapshot (etcdctl "
             "snapshot restore).";
    return "See etcd's documentation of alarm " + kind + "; etcdctl " + ep + " alarm list.";
  }

  // With username and password, check them once (when nothing needed a token
  // yet): the cluster may accept reads without them, but not its clients'.
  void verify_credentials(bool quorum, const Probe* leader,
                          const std::vector<const Probe*>& answered) {
    if (p_.username.empty()) return;
    bool tried = false;
    {
      std::lock_guard lock(mutex_);
      tried = auth_tried_;
    }
    if (!tried && quorum && !answered.empty()) {
      const Probe* ask = leader != nullptr && leader->answered ? leader : answered.front();
      authenticate(ask->url, share(2));
    }
    std::string outcome;
    {
      std::lock_guard lock(mutex_);
      outcome = auth_outcome_;
    }
    if (outcome == "ok") {
      ctx_.attribute("auth", "user " + p_.username + " authenticated");
    } else if (outcome == "refused") {
      ctx_.attribute("auth", "user " + p_.username + " refused");
      notes_.push_back("credentials of user " + p_.username + " refused");
      ctx_.finding(Severity::critical, "etcd refused the credentials of user " + p_.username,
                   "POST /v3/auth/authenticate answered \"authentication failed, invalid user ID "
                   "or password\".",
                   "Check the user and its password (etcdctl user get " + p_.username +
                       "); a rotated password must be updated in this check's secret too.");
      worst(Status::critical);
    } else if (outcome == "not enabled") {
      ctx_.attribute("auth", "not enabled on the cluster");
      ctx_.finding(Severity::info, "etcd authentication is not enabled",
                   "username and password are given, but the cluster has authentication off: "
                   "any client can read and write.",
                   "If the cluster should require it: etcdctl user add root; etcdctl auth "
                   "enable.");
    } else {
      ctx_.attribute("auth",
                     outcome.empty() ? "not checked (no quorum)" : "not checked: " + outcome);
    }
  }

  void worst(Status s) {
    auto rank = [](Status x) {
      return x == Status::critical ? 3 : x == Status::warning ? 2 : x == Status::unknown ? 1 : 0;
    };
    if (rank(s) > rank(status_)) status_ = s;
  }

  Context& ctx_;
  const Params p_;
  std::mutex mutex_;  // token_ and auth_*, shared by the probes' threads
  std::optional<std::string> token_;
  bool auth_tried_ = false;
  std::string auth_outcome_;
  std::uint64_t cluster_id_ = 0;
  std::vector<Member> members_;
  std::vector<Probe> probes_;
  std::vector<std::string> alarm_names_;
  std::vector<std::string> notes_;  // for the summary's end
  Status status_ = Status::ok;
};

}  // namespace

const Metrics EtcdCheck::metrics{kMetrics};

void EtcdCheck::run(Context& ctx) {
  Run(ctx, read_params(ctx))();
}

}  // namespace triage::cluster
