// The dns check: resolves a name with c-ares, either as one DNS query of a
// record type against a given server (or the system's resolvers), or the way
// the operating system resolves a host name (/etc/hosts, then DNS). c-ares'
// sockets are driven here with poll() in short slices under the check's
// deadline; nothing blocks.
#include <ares.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "checks.hpp"
#include "net_util.hpp"

namespace triage::network {

const char* const DnsCheck::params_schema = R"({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "network/dns params",
  "type": "object",
  "properties": {
    "target": {
      "type": "string", "minLength": 1, "maxLength": 253,
      "description": "The name to resolve, e.g. api.example.com."
    },
    "server": {
      "type": "string", "minLength": 1,
      "description": "DNS server to ask, as an IP address with an optional port: \"10.0.0.2\", \"10.0.0.2:5353\", \"[::1]:53\". Default: the system's resolvers from /etc/resolv.conf."
    },
    "type": {
      "type": "string", "enum": ["A", "AAAA", "CNAME", "TXT", "MX"], "default": "A",
      "description": "Record type to query."
    },
    "expect": {
      "type": "array", "items": {"type": "string"},
      "description": "Answers that must all be present (others may be too): addresses for A/AAAA, the target name for CNAME, the exchange host for MX, the text for TXT."
    },
    "via": {
      "type": "string", "enum": ["dns", "system"], "default": "dns",
      "description": "\"dns\": one DNS query of `type`; \"system\": resolve like the operating system (/etc/hosts, then DNS with the search domains), A or AAAA only."
    },
    "tcp": {
      "type": "boolean", "default": false,
      "description": "Query over TCP instead of UDP (checks that TCP port 53 is reachable)."
    },
    "accept_rcodes": {
      "type": "array", "items": {"enum": ["NOERROR", "NXDOMAIN", "SERVFAIL", "REFUSED"]},
      "default": ["NOERROR"],
      "description": "Response codes that count as a healthy answer. [NOERROR, NXDOMAIN] checks only that the resolver answers at all (the built-in default run uses it). Not with via: system."
    }
  },
  "required": ["target"],
  "additionalProperties": false
})";

namespace {
// Runbook-style defaults: a cached answer takes a few ms, an uncached
// recursive lookup usually under 200 ms; past a second applications stall.
constexpr MetricDecl kMetrics[] = {
    metric("latency_ms", "ms",
           "From sending the query to its answer (any answer, NXDOMAIN included); not emitted "
           "on a timeout")
        .warning("200")
        .critical("1000")
        .remediation("The resolver answers slowly: check its load and its upstream servers "
                     "(dig NAME @SERVER shows the query time); point /etc/resolv.conf at a "
                     "closer or local caching resolver if it is far away or overloaded."),
    metric("answers", "", "Records of the queried type in the answer (0 for NXDOMAIN, SERVFAIL)")
        .remediation("Fewer records than expected: check the zone on its authoritative server "
                     "(dig NAME TYPE @AUTHORITATIVE) for a removed record, and whether a backend "
                     "dropped out of DNS-based load balancing."),
};
}  // namespace

const Metrics DnsCheck::metrics{kMetrics};

namespace {

using Clock = std::chrono::steady_clock;

// DNS record types and classes (RFC 1035, RFC 3596).
constexpr int kClassIn = 1;
constexpr int kTypeA = 1;
constexpr int kTypeCname = 5;
constexpr int kTypeMx = 15;
constexpr int kTypeTxt = 16;
constexpr int kTypeAaaa = 28;

int record_type(const std::string& name) {
  if (name == "A") return kTypeA;
  if (name == "AAAA") return kTypeAaaa;
  if (name == "CNAME") return kTypeCname;
  if (name == "TXT") return kTypeTxt;
  if (name == "MX") return kTypeMx;
  return 0;
}

const char* rcode_name(int rcode) {
  switch (rcode) {
    case 0:
      return "NOERROR";
    case 1:
      return "FORMERR";
    case 2:
      return "SERVFAIL";
    case 3:
      return "NXDOMAIN";
    case 4:
      return "NOTIMP";
    case 5:
      return "REFUSED";
    default:
      return nullptr;
  }
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += sep;
    out += item;
  }
  return out;
}

// Names compare case-insensitively and with or without the root dot.
std::string normalize_name(std::string_view name) {
  std::string out(name);
  while (!out.empty() && out.back() == '.') out.pop_back();
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Addresses compare in binary form, so "fd00::5" matches "fd00:0::5".
std::string normalize_address(const std::string& text) {
  unsigned char buf[16];
  char out[INET6_ADDRSTRLEN];
  if (inet_pton(AF_INET, text.c_str(), buf) == 1)
    return inet_ntop(AF_INET, buf, out, sizeof out) ? out : text;
  if (inet_pton(AF_INET6, text.c_str(), buf) == 1)
    return inet_ntop(AF_INET6, buf, out, sizeof out) ? out : text;
  return text;
}

// ---- the server param ----------------------------------------------------------

struct Server {
  std::string csv;      // for ares_set_servers_ports_csv: "1.2.3.4:53", "[::1]:53"
  std::string display;  // same text, for reports
};

Server parse_server(const std::string& text) {
  std::string host;
  std::string port_text;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos) throw ParamError("param 'server': missing ']' in " + text);
    host = text.substr(1, close - 1);
    const std::string rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') throw ParamError("param 'server': expected ':port' after ']'");
      port_text = rest.substr(1);
      if (port_text.empty()) throw ParamError("param 'server': empty port in " + text);
    }
  } else if (std::count(text.begin(), text.end(), ':') > 1) {
    host = text;  // a bare IPv6 address, default port
  } else {
    const auto colon = text.find(':');
    host = text.substr(0, colon);
    if (colon != std::string::npos) {
      port_text = text.substr(colon + 1);
      if (port_text.empty()) throw ParamError("param 'server': empty port in " + text);
    }
  }
  unsigned long port = 53;
  if (!port_text.empty()) {
    if (port_text.size() > 5 || !std::all_of(port_text.begin(), port_text.end(),
                                             [](unsigned char c) { return std::isdigit(c) != 0; }))
      throw ParamError("param 'server': bad port '" + port_text + "'");
    port = std::stoul(port_text);
    if (port == 0 || port > 65535)
      throw ParamError("param 'server': port " + port_text + " out of range");
  }
  unsigned char buf[16];
  const std::string p = std::to_string(port);
  if (inet_pton(AF_INET, host.c_str(), buf) == 1) return {host + ":" + p, host + ":" + p};
  if (inet_pton(AF_INET6, host.c_str(), buf) == 1)
    return {"[" + host + "]:" + p, "[" + host + "]:" + p};
  throw ParamError("param 'server' must be an IP address with an optional port, got '" + text +
                   "'");
}

// ---- c-ares plumbing -------------------------------------------------------------

void ensure_library() {
  // Thread-safe one-time initialization (a function-local static).
  static const int rc = ares_library_init(ARES_LIB_INIT_ALL);
  if (rc != ARES_SUCCESS)
    throw std::runtime_error(std::string("c-ares initialization failed: ") + ares_strerror(rc));
}

struct ChannelDeleter {
  void operator()(ares_channeldata* channel) const { ares_destroy(channel); }
};
using Channel = std::unique_ptr<ares_channeldata, ChannelDeleter>;

// What one lookup produced. Filled by a c-ares callback.
struct Outcome {
  bool done = false;
  int status = ARES_SUCCESS;
  Clock::time_point finished;
  std::vector<unsigned char> reply;    // the raw DNS reply (via dns), when there was one
  std::vector<std::string> addresses;  // via system
  std::vector<std::string> cnames;     // via system: the CNAME chain
};

void on_query(void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen) {
  auto* out = static_cast<Outcome*>(arg);
  if (out->done) return;
  out->done = true;
  out->status = status;
  out->finished = Clock::now();
  if (abuf != nullptr && alen > 0) out->reply.assign(abuf, abuf + alen);
}

void on_addrinfo(void* arg, int status, int /*timeouts*/, ares_addrinfo* result) {
  auto* out = static_cast<Outcome*>(arg);
  if (!out->done) {
    out->done = true;
    out->status = status;
    out->finished = Clock::now();
    if (result != nullptr) {
      for (auto* c = result->cnames; c != nullptr; c = c->next)
        if (c->name != nullptr) out->cnames.emplace_back(c->name);
      for (auto* n = result->nodes; n != nullptr; n = n->ai_next) {
        char text[INET6_ADDRSTRLEN] = {};
        if (n->ai_family == AF_INET) {
          inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(n->ai_addr)->sin_addr, text,
                    sizeof text);
        } else if (n->ai_family == AF_INET6) {
          inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(n->ai_addr)->sin6_addr, text,
                    sizeof text);
        } else {
          continue;
        }
        // getaddrinfo lists one node per socket type; keep each address once.
        if (std::find(out->addresses.begin(), out->addresses.end(), text) == out->addresses.end())
          out->addresses.emplace_back(text);
      }
    }
  }
  if (result != nullptr) ares_freeaddrinfo(result);
}

// Drives the channel's sockets until the lookup finished, the deadline passed
// or the run was cancelled. Each poll() lasts at most kSlice.
Wait drive(Context& ctx, ares_channel channel, const Outcome& outcome) {
  while (!outcome.done) {
    if (ctx.cancelled()) return stop_reason(ctx);
    ares_socket_t socks[ARES_GETSOCK_MAXNUM];
    const int bits = ares_getsock(channel, socks, ARES_GETSOCK_MAXNUM);
    pollfd fds[ARES_GETSOCK_MAXNUM];
    nfds_t count = 0;
    for (int i = 0; i < ARES_GETSOCK_MAXNUM; ++i) {
      const bool readable = ARES_GETSOCK_READABLE(bits, i) != 0;
      const bool writable = ARES_GETSOCK_WRITABLE(bits, i) != 0;
      if (!readable && !writable) break;
      fds[count].fd = socks[i];
      fds[count].events = static_cast<short>((readable ? POLLIN : 0) | (writable ? POLLOUT : 0));
      fds[count].revents = 0;
      ++count;
    }
    auto wait = std::min<std::chrono::milliseconds>(kSlice, ctx.remaining());
    timeval max_tv{0, static_cast<suseconds_t>(wait.count() * 1000)};
    timeval tv{};
    if (const timeval* next = ares_timeout(channel, &max_tv, &tv); next != nullptr)
      wait = std::chrono::milliseconds(next->tv_sec * 1000 + (next->tv_usec + 999) / 1000);
    const int ready = poll(fds, count, static_cast<int>(wait.count()));
    if (ready > 0) {
      for (nfds_t i = 0; i < count && !outcome.done; ++i) {
        if (fds[i].revents == 0) continue;
        const bool in = (fds[i].revents & (POLLIN | POLLERR | POLLHUP)) != 0;
        const bool out = (fds[i].revents & (POLLOUT | POLLERR | POLLHUP)) != 0;
        ares_process_fd(channel, in ? fds[i].fd : ARES_SOCKET_BAD,
                        out ? fds[i].fd : ARES_SOCKET_BAD);
      }
    }
    // Lets c-ares handle its own timeouts (retries, next server).
    if (!outcome.done) ares_process_fd(channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
  }
  return Wait::ready;
}

// ---- reading replies ---------------------------------------------------------------

// The answer section's records of one type, read from the wire format: for
// record types c-ares has no parser for (CNAME) and for the TTLs.
struct RawRecord {
  int type = 0;
  std::uint32_t ttl = 0;
  int rdata_offset = 0;
  int rdata_length = 0;
};

std::uint16_t read16(const std::vector<unsigned char>& b, std::size_t at) {
  return static_cast<std::uint16_t>((b[at] << 8) | b[at + 1]);
}

// Skips a (possibly compressed) name starting at `at`; returns the offset after it.
std::optional<std::size_t> skip_name(const std::vector<unsigned char>& b, std::size_t at) {
  while (at < b.size()) {
    const unsigned char len = b[at];
    if ((len & 0xc0) == 0xc0) return at + 2 <= b.size() ? std::optional(at + 2) : std::nullopt;
    if ((len & 0xc0) != 0) return std::nullopt;
    if (len == 0) return at + 1;
    at += 1 + len;
  }
  return std::nullopt;
}

std::vector<RawRecord> answer_records(const std::vector<unsigned char>& b) {
  std::vector<RawRecord> records;
  if (b.size() < 12) return records;
  const int qdcount = read16(b, 4);
  const int ancount = read16(b, 6);
  std::size_t at = 12;
  for (int i = 0; i < qdcount; ++i) {
    auto next = skip_name(b, at);
    if (!next || *next + 4 > b.size()) return records;
    at = *next + 4;
  }
  for (int i = 0; i < ancount; ++i) {
    auto next = skip_name(b, at);
    if (!next || *next + 10 > b.size()) return records;
    at = *next;
    RawRecord r;
    r.type = read16(b, at);
    const int klass = read16(b, at + 2);
    r.ttl = (std::uint32_t{b[at + 4]} << 24) | (std::uint32_t{b[at + 5]} << 16) |
            (std::uint32_t{b[at + 6]} << 8) | std::uint32_t{b[at + 7]};
    r.rdata_length = read16(b, at + 8);
    r.rdata_offset = static_cast<int>(at + 10);
    at += 10 + static_cast<std::size_t>(r.rdata_length);
    if (at > b.size()) return records;
    if (klass == kClassIn) records.push_back(r);
  }
  return records;
}

int reply_rcode(const std::vector<unsigned char>& b) {
  return b.size() >= 4 ? (b[3] & 0x0f) : -1;
}

struct Answers {
  int parse_status = ARES_SUCCESS;
  std::vector<std::string> display;  // as shown: "10 mail.example.com" for MX
  std::vector<std::string> keys;     // as compared with `expect`
  std::vector<std::string> cnames;   // aliases followed on the way (A/AAAA)
  std::optional<std::uint32_t> min_ttl;
};

std::string hostent_address(int family, const char* raw) {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(family, raw, text, sizeof text);
  return text;
}

Answers parse_answers(int type, const std::vector<unsigned char>& reply) {
  Answers a;
  const auto* buf = reply.data();
  const int len = static_cast<int>(reply.size());
  const auto records = answer_records(reply);
  for (const auto& r : records)
    if (r.type == type) a.min_ttl = std::min(a.min_ttl.value_or(r.ttl), r.ttl);

  if (type == kTypeA || type == kTypeAaaa) {
    hostent* host = nullptr;
    a.parse_status = type == kTypeA ? ares_parse_a_reply(buf, len, &host, nullptr, nullptr)
                                    : ares_parse_aaaa_reply(buf, len, &host, nullptr, nullptr);
    if (a.parse_status == ARES_SUCCESS && host != nullptr) {
      for (char** p = host->h_addr_list; p != nullptr && *p != nullptr; ++p) {
        a.display.push_back(hostent_address(host->h_addrtype, *p));
        a.keys.push_back(a.display.back());
      }
    }
    if (host != nullptr) ares_free_hostent(host);
    for (const auto& r : records) {
      if (r.type != kTypeCname) continue;
      char* name = nullptr;
      long used = 0;
      if (ares_expand_name(buf + r.rdata_offset, buf, len, &name, &used) == ARES_SUCCESS) {
        a.cnames.emplace_back(name);
        ares_free_string(name);
      }
    }
  } else if (type == kTypeCname) {
    for (const auto& r : records) {
      if (r.type != kTypeCname) continue;
      char* name = nullptr;
      long used = 0;
      a.parse_status = ares_expand_name(buf + r.rdata_offset, buf, len, &name, &used);
      if (a.parse_status != ARES_SUCCESS) break;
      a.display.emplace_back(name);
      a.keys.push_back(normalize_name(name));
      ares_free_string(name);
    }
  } else if (type == kTypeTxt) {
    ares_txt_ext* txt = nullptr;
    a.parse_status = ares_parse_txt_reply_ext(buf, len, &txt);
    if (a.parse_status == ARES_SUCCESS) {
      // A record is one or more character-strings; they are joined.
      for (auto* t = txt; t != nullptr; t = t->next) {
        std::string chunk(reinterpret_cast<const char*>(t->txt), t->length);
        if (t->record_start || a.keys.empty())
          a.keys.push_back(chunk);
        else
          a.keys.back() += chunk;
      }
      for (const auto& k : a.keys) a.display.push_back("\"" + escape_printable(k, 255) + "\"");
    }
    if (txt != nullptr) ares_free_data(txt);
  } else if (type == kTypeMx) {
    ares_mx_reply* mx = nullptr;
    a.parse_status = ares_parse_mx_reply(buf, len, &mx);
    if (a.parse_status == ARES_SUCCESS) {
      for (auto* m = mx; m != nullptr; m = m->next) {
        a.display.push_back(std::to_string(m->priority) + " " + m->host);
        a.keys.push_back(normalize_name(m->host));
      }
    }
    if (mx != nullptr) ares_free_data(mx);
  }
  if (a.parse_status == ARES_ENODATA) a.parse_status = ARES_SUCCESS;  // no records: handled
  return a;
}

// ---- reporting -----------------------------------------------------------------------

constexpr Thresholds kLatencyDefaults{"200", "1000"};

void check_params(const nlohmann::json& params) {
  static const std::set<std::string> known{"target", "server", "type",         "expect",
                                           "via",    "tcp",    "accept_rcodes"};
  if (!params.is_object()) throw ParamError("params must be a JSON object");
  for (const auto& item : params.items())
    if (known.count(item.key()) == 0)
      throw ParamError("unknown param '" + item.key() +
                       "' (known: target, server, type, "
                       "expect, via, tcp, accept_rcodes)");
}

}  // namespace

void DnsCheck::run(Context& ctx) {
  check_params(ctx.params());
  const std::string target = ctx.target();
  if (target.empty() || target.size() > 253)
    throw ParamError("param 'target' must be a DNS name of 1 to 253 characters");
  const std::string type_name = ctx.param<std::string>("type", "A");
  const int type = record_type(type_name);
  if (type == 0)
    throw ParamError("param 'type' must be one of A, AAAA, CNAME, TXT, MX; got '" + type_name +
                     "'");
  const std::string via = ctx.param<std::string>("via", "dns");
  if (via != "dns" && via != "system")
    throw ParamError("param 'via' must be \"dns\" or \"system\"; got '" + via + "'");
  const bool system = via == "system";
  if (system && type != kTypeA && type != kTypeAaaa)
    throw ParamError("param 'via': \"system\" resolves addresses only (type A or AAAA)");
  const auto expect = ctx.param<std::vector<std::string>>("expect", {});
  const bool tcp = ctx.param<bool>("tcp", false);
  const auto accept_rcodes = ctx.param<std::vector<std::string>>("accept_rcodes", {"NOERROR"});
  if (system && ctx.has("accept_rcodes"))
    throw ParamError("param 'accept_rcodes' applies to DNS queries, not to via: \"system\"");
  std::optional<Server> server;
  if (ctx.has("server")) server = parse_server(ctx.required<std::string>("server"));

  ensure_library();

  // Each try gets a third of the time left (c-ares doubles the timeout on its
  // second round), so c-ares gives up by itself before the deadline; the loop
  // below still stops at the deadline whatever c-ares does.
  const auto remaining = ctx.remaining();
  ares_options options{};
  int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
  options.flags = (tcp ? ARES_FLAG_USEVC : 0) | ARES_FLAG_NOALIASES;
  // Against a given server, report its own answer (SERVFAIL, REFUSED) rather
  // than retrying: the check diagnoses that server.
  if (server) options.flags |= ARES_FLAG_NOCHECKRESP;
  options.timeout =
      static_cast<int>(std::clamp<std::chrono::milliseconds::rep>(remaining.count() / 3, 1, 5000));
  options.tries = 2;
  if (system) {
    // The operating system's order: the hosts file, then DNS.
    static char lookups[] = "fb";
    options.lookups = lookups;
    mask |= ARES_OPT_LOOKUPS;
  }

  // Declared before the channel: ares_destroy() may still call back into it.
  Outcome outcome;
  ares_channel raw = nullptr;
  if (const int rc = ares_init_options(&raw, &options, mask); rc != ARES_SUCCESS) {
    if (raw != nullptr) ares_destroy(raw);
    ctx.error(std::string("could not initialize the resolver: ") + ares_strerror(rc));
    return;
  }
  Channel channel(raw);
  if (server) {
    if (const int rc = ares_set_servers_ports_csv(raw, server->csv.c_str()); rc != ARES_SUCCESS) {
      ctx.error("could not use server " + server->display + ": " + ares_strerror(rc));
      return;
    }
  }

  // The servers actually used, for the report and the dig command to try.
  std::string servers_text;
  std::string dig = "dig";
  {
    ares_addr_port_node* nodes = nullptr;
    if (ares_get_servers_ports(raw, &nodes) == ARES_SUCCESS) {
      std::vector<std::string> list;
      for (auto* n = nodes; n != nullptr; n = n->next) {
        char text[INET6_ADDRSTRLEN] = {};
        inet_ntop(n->family, &n->addr, text, sizeof text);
        const int port = n->udp_port != 0 ? n->udp_port : 53;
        list.push_back(n->family == AF_INET6 ? "[" + std::string(text) + "]:" + std::to_string(port)
                                             : std::string(text) + ":" + std::to_string(port));
        if (n == nodes)
          dig += " @" + std::string(text) + (port != 53 ? " -p " + std::to_string(port) : "");
      }
      servers_text = join(list, ",");
    }
    if (nodes != nullptr) ares_free_data(nodes);
  }
  dig += (tcp ? " +tcp " : " ") + target + " " + type_name;
  const std::string server_label =
      server ? server->display : (servers_text.empty() ? "the system resolver" : servers_text);
  ctx.attribute("server", server ? server->display : servers_text);
  ctx.attribute("type", type_name);
  ctx.attribute("via", via);

  const auto started = Clock::now();
  if (system) {
    ares_addrinfo_hints hints{};
    hints.ai_family = type == kTypeA ? AF_INET : AF_INET6;
    hints.ai_flags = ARES_AI_NOSORT;
    ares_getaddrinfo(raw, target.c_str(), nullptr, &hints, &on_addrinfo, &outcome);
  } else {
    ares_query(raw, target.c_str(), kClassIn, type, &on_query, &outcome);
  }
  const Wait wait = drive(ctx, raw, outcome);
  const double elapsed_ms = std::chrono::duration<double, std::milli>(
                                (wait == Wait::ready ? outcome.finished : Clock::now()) - started)
                                .count();
  const std::string what = target + " " + type_name;

  if (wait == Wait::cancelled) {
    ctx.error("cancelled before " + server_label + " answered");
    return;
  }
  if (wait == Wait::timed_out || outcome.status == ARES_ETIMEOUT) {
    ctx.finding(Severity::critical, "DNS timeout",
                "No answer from " + server_label + " for " + what + ": the query timed out after " +
                    format_ms(elapsed_ms) + (tcp ? " over TCP." : " over UDP."),
                "Check that the resolver is running and answering (" + dig +
                    "), and that firewalls allow UDP and TCP port 53 between this host and it; "
                    "with several resolvers, a dead first one delays every lookup.");
    ctx.status(Status::critical, what + ": no answer from " + server_label + " (timed out after " +
                                     format_ms(elapsed_ms) + ")");
    return;
  }

  const std::string rcode = outcome.reply.empty()
                                ? std::string()
                                : (rcode_name(reply_rcode(outcome.reply)) != nullptr
                                       ? rcode_name(reply_rcode(outcome.reply))
                                       : "RCODE" + std::to_string(reply_rcode(outcome.reply)));
  if (!rcode.empty()) ctx.attribute("rcode", rcode);

  // ---- failures reported by the resolver ----
  const int status = outcome.status;
  const bool accepted =
      !rcode.empty() && rcode != "NOERROR" &&
      std::find(accept_rcodes.begin(), accept_rcodes.end(), rcode) != accept_rcodes.end();
  if (accepted) {
    // The server answered with a code the config counts as healthy: the
    // check is about the resolver answering, not about this name.
    ctx.metric("latency_ms", elapsed_ms, "ms", kLatencyDefaults);
    ctx.metric("answers", 0, "");
    ctx.status(Status::ok, what + ": " + rcode + " from " + server_label + " in " +
                               format_ms(elapsed_ms) + " (an answer, as accepted)");
    return;
  }
  if (status != ARES_SUCCESS && status != ARES_ENODATA) {
    ctx.metric("latency_ms", elapsed_ms, "ms", kLatencyDefaults);
    ctx.metric("answers", 0, "");
    ctx.attribute("answers", "");
    std::string title;
    std::string detail;
    std::string remediation;
    std::string short_text;
    switch (status) {
      case ARES_ENOTFOUND:
        if (system) {
          title = "Name does not resolve";
          detail = target + " is not in the hosts file and DNS (" + server_label +
                   ") has no such name (the system lookup found nothing for " + type_name + ").";
          remediation =
              "Add the name to /etc/hosts or to its DNS zone; for this machine's own hostname, "
              "an /etc/hosts entry avoids depending on DNS. Check the search domains in "
              "/etc/resolv.conf for short names.";
          short_text = "does not resolve";
        } else {
          title = "NXDOMAIN: name does not exist";
          detail = server_label + " answered NXDOMAIN for " + what + ": the name does not exist.";
          remediation =
              "Check the name for typos, that it is in the right zone, and whether the record "
              "was deleted or not yet published (zone serial, secondaries transferred); "
              "a negative answer is cached for the zone's SOA minimum TTL.";
          short_text = "NXDOMAIN from " + server_label;
        }
        break;
      case ARES_ESERVFAIL:
        title = "SERVFAIL from resolver";
        detail = server_label + " answered SERVFAIL for " + what +
                 ": it could not get an answer from upstream (unreachable upstream or "
                 "authoritative servers, or a DNSSEC validation failure).";
        remediation =
            "Check the resolver's logs and its upstream/forwarder configuration, and that the "
            "zone's authoritative servers answer. If `" +
            dig +
            " +cd` (checking disabled) gets an answer, DNSSEC validation fails: check the "
            "zone's signatures (expired RRSIG, DS mismatch after a key rollover).";
        short_text = "SERVFAIL from " + server_label;
        break;
      case ARES_EREFUSED:
        title = "Query refused";
        detail = server_label + " answered REFUSED for " + what +
                 ": it does not serve this client or this zone.";
        remediation =
            "Check the server's ACL (allow-query / allow-recursion, listen addresses) for this "
            "client's address, and that it is configured to serve or forward this zone.";
        short_text = "REFUSED by " + server_label;
        break;
      case ARES_ECONNREFUSED:
        title = "DNS server unreachable";
        detail = std::string("Connection to ") + server_label + " was refused" +
                 (tcp ? " (TCP RST)" : " (ICMP port unreachable)") +
                 ": no DNS server listens there.";
        remediation =
            "Start the DNS server or point `server` (or /etc/resolv.conf) at one that runs; "
            "check that it listens on this address and port.";
        short_text = "connection refused by " + server_label;
        break;
      case ARES_EFORMERR:
      case ARES_ENOTIMP:
        title = "Query not supported by server";
        detail = server_label + " answered " + (rcode.empty() ? ares_strerror(status) : rcode) +
                 " for " + what + ".";
        remediation = "Use a resolver that supports " + type_name +
                      " queries, or check for a middlebox rewriting DNS.";
        short_text =
            (rcode.empty() ? std::string(ares_strerror(status)) : rcode) + " from " + server_label;
        break;
      case ARES_EBADRESP:
      case ARES_EOF:
        title = "Malformed DNS response";
        detail = std::string("The reply from ") + server_label + " for " + what +
                 " could not be read: " + ares_strerror(status) + ".";
        remediation =
            "Check for a middlebox or a truncating firewall between this host and the server, "
            "and the server's logs.";
        short_text = "bad reply from " + server_label;
        break;
      case ARES_EBADNAME:
        ctx.error("'" + target + "' is not a valid DNS name");
        return;
      default:
        title = "DNS query failed";
        detail = std::string("Resolving ") + what + " with " + server_label +
                 " failed: " + ares_strerror(status) + ".";
        remediation = "Check the resolver configuration (/etc/resolv.conf) and the server.";
        short_text = ares_strerror(status);
        break;
    }
    ctx.finding(Severity::critical, title, detail, remediation);
    ctx.status(Status::critical, what + ": " + short_text);
    return;
  }

  // ---- an answer (possibly empty) ----
  Answers answers;
  if (system) {
    answers.display = outcome.addresses;
    answers.keys = outcome.addresses;
    answers.cnames = outcome.cnames;
  } else if (status == ARES_SUCCESS) {
    answers = parse_answers(type, outcome.reply);
    if (answers.parse_status != ARES_SUCCESS) {
      ctx.metric("latency_ms", elapsed_ms, "ms", kLatencyDefaults);
      ctx.finding(Severity::critical, "Malformed DNS response",
                  "The " + type_name + " reply from " + server_label + " for " + target +
                      " could not be parsed: " + ares_strerror(answers.parse_status) + ".",
                  "Check for a middlebox rewriting DNS between this host and the server, and "
                  "the server's zone data for this record.");
      ctx.status(Status::critical, what + ": unreadable reply from " + server_label);
      return;
    }
  }

  ctx.metric("latency_ms", elapsed_ms, "ms", kLatencyDefaults);
  ctx.metric("answers", static_cast<double>(answers.display.size()), "");
  ctx.attribute("answers", join(answers.display, ","));
  if (!answers.cnames.empty()) ctx.attribute("cname", join(answers.cnames, ","));
  if (answers.min_ttl) ctx.attribute("ttl", std::to_string(*answers.min_ttl));

  if (answers.display.empty()) {
    const std::string others =
        system
            ? std::string()
            : " The name exists (NOERROR) but has no " + type_name + " record" +
                  (answers.cnames.empty() ? "" : " (CNAME to " + join(answers.cnames, ",") + ")") +
                  ".";
    ctx.finding(Severity::critical, "No answer of type " + type_name,
                server_label + " returned no " + type_name + " record for " + target + "." + others,
                "Add the " + type_name +
                    " record to the zone if clients need it (e.g. an "
                    "IPv6-only client needs AAAA), or query the record type that exists.");
    ctx.status(Status::critical,
               what + ": no " + type_name + " records (NOERROR) from " + server_label);
    return;
  }

  // ---- expected answers ----
  std::vector<std::string> missing;
  for (const auto& e : expect) {
    std::string key = e;
    if (type == kTypeA || type == kTypeAaaa)
      key = normalize_address(e);
    else if (type == kTypeCname || type == kTypeMx)
      key = normalize_name(e);
    bool found = false;
    for (const auto& k : answers.keys) {
      const std::string have = (type == kTypeA || type == kTypeAaaa) ? normalize_address(k) : k;
      if (have == key) found = true;
    }
    if (!found) missing.push_back(type == kTypeTxt ? "\"" + escape_printable(e, 255) + "\"" : e);
  }
  const std::string got = join(answers.display, ", ");
  if (!missing.empty()) {
    ctx.finding(Severity::critical, "Unexpected answer",
                server_label + " answered " + what + " with " + got + "; expected " +
                    join(missing, ", ") + " among the answers.",
                "Check whether the record was changed on purpose (then update `expect`), a stale "
                "cache or a split-horizon view answers differently, or a failover moved the "
                "name; compare this server (" +
                    dig + ") with the zone's authoritative servers.");
    ctx.status(Status::critical,
               what + ": got " + got + ", missing expected " + join(missing, ", "));
    return;
  }
  ctx.status(Status::ok, what + ": " + got + " in " + format_ms(elapsed_ms) +
                             (system ? " (system lookup)" : " from " + server_label));
}

}  // namespace triage::network
