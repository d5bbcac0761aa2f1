// The loopback check: proves the local TCP stack works by listening on a
// loopback address, connecting to it, and round-tripping bytes both ways.
// Everything is non-blocking and polled under the check's deadline.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <random>
#include <string>

#include "checks.hpp"
#include "net_util.hpp"

namespace triage::network {

const char* const LoopbackCheck::params_schema = R"json({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "loopback check params",
  "type": "object",
  "properties": {
    "target": {
      "type": "string",
      "description": "The loopback address to test: 127.0.0.1 (any 127.0.0.0/8 address) or ::1."
    }
  },
  "required": ["target"],
  "additionalProperties": false
})json";

namespace {
constexpr MetricDecl kMetrics[] = {
    metric("latency_ms", "ms",
           "Round trip through the loopback listener: ping written to pong read")
        .remediation("Loopback is slow only on an overloaded host: check CPU saturation and the "
                     "run queue (vmstat 1, top) and softirq load."),
};
}  // namespace

const Metrics LoopbackCheck::metrics{kMetrics};

namespace {

bool is_loopback(const Endpoint& ep) {
  if (ep.family() == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&ep.storage);
    return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
  }
  if (ep.family() == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&ep.storage);
    return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
  }
  return false;
}

std::string nonce() {
  std::random_device rd;
  return std::to_string(rd()) + "-" + std::to_string(rd());
}

}  // namespace

void LoopbackCheck::run(Context& ctx) {
  const std::string target = ctx.target();
  std::string host = target;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  const auto addr = parse_ip(host, 0);
  if (!addr || !is_loopback(*addr))
    throw ParamError("invalid target '" + target +
                     "': expected a loopback address such as 127.0.0.1 or ::1");
  const bool v6 = addr->family() == AF_INET6;
  const std::string ip = addr->ip();

  if (ctx.cancelled()) return ctx.error("cancelled before the check started");

  auto missing = [&](const std::string& detail) {
    ctx.finding(Severity::critical, "Loopback address missing", detail,
                v6 ? "Bring lo up and give it ::1: ip link set lo up; ip -6 addr add ::1/128 dev "
                     "lo; check IPv6 is not disabled (sysctl net.ipv6.conf.lo.disable_ipv6)"
                   : "Bring lo up and give it its address: ip link set lo up; ip addr add "
                     "127.0.0.1/8 dev lo");
    ctx.status(Status::critical, ip + " is not available");
  };
  auto failed = [&](const std::string& detail) {
    ctx.finding(Severity::critical, "Loopback round trip failed", detail,
                "Local TCP traffic is broken: check firewall rules for lo (nft list ruleset / "
                "iptables -S: allow -i lo), socket limits (ulimit -n, sysctl "
                "net.ipv4.ip_local_port_range) and the kernel log (dmesg)");
    ctx.status(Status::critical, "loopback round trip on " + ip + " failed");
  };
  auto stopped = [&](Wait w, const std::string& step) {
    if (w == Wait::cancelled) return ctx.error("cancelled while " + step + " on " + ip);
    ctx.finding(Severity::critical, "Loopback round trip timed out",
                "the deadline passed while " + step + " on " + ip,
                "The local TCP stack did not deliver loopback traffic: check firewall rules for "
                "lo (a DROP rule), system load (uptime, top) and the kernel log (dmesg)");
    ctx.status(Status::critical, "loopback round trip on " + ip + " timed out");
  };

  UniqueFd listener(::socket(addr->family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!listener) {
    const int err = errno;
    if (err == EAFNOSUPPORT)
      return missing("IPv6 is disabled on this host: socket(AF_INET6): " + errno_text(err));
    return failed("socket() for " + ip + ": " + errno_text(err));
  }
  if (::bind(listener.get(), addr->addr(), addr->length) != 0) {
    const int err = errno;
    if (err == EADDRNOTAVAIL)
      return missing("cannot bind to " + ip + ": " + errno_text(err) +
                     ": no interface has this address (lo is down or lacks it)");
    return failed("bind to " + ip + ": " + errno_text(err));
  }
  if (::listen(listener.get(), 4) != 0) return failed("listen on " + ip + ": " + errno_text(errno));
  const auto bound = local_endpoint(listener.get());
  if (!bound) return failed("getsockname on " + ip + ": " + errno_text(errno));
  ctx.attribute("address", bound->to_string());

  Connected client = connect_with_deadline(ctx, *bound);
  if (!client.ok()) {
    if (client.error == ConnectError::cancelled) return stopped(Wait::cancelled, "connecting");
    if (client.error == ConnectError::timed_out) return stopped(Wait::timed_out, "connecting");
    return failed("connect to our own listener " + client.message);
  }

  UniqueFd server;
  for (;;) {
    server.reset(::accept4(listener.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (server) break;
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
      return failed("accept on " + bound->to_string() + ": " + errno_text(errno));
    const Wait w = wait_fd(ctx, listener.get(), POLLIN);
    if (w != Wait::ready) return stopped(w, "accepting our own connection");
  }

  const std::string id = nonce();
  const std::string ping = "triage-loopback-ping-" + id + "\n";
  const std::string pong = "triage-loopback-pong-" + id + "\n";
  const auto start = std::chrono::steady_clock::now();

  // One direction of the round trip: write on `from`, read it back on `to`.
  auto transfer = [&](int from, int to, const std::string& bytes, const char* direction) {
    const Io sent = send_all(ctx, from, bytes);
    if (sent.wait != Wait::ready) {
      stopped(sent.wait, std::string("sending ") + direction);
      return false;
    }
    if (sent.err != 0) {
      failed(std::string("sending ") + direction + " on " + bound->to_string() + ": " +
             errno_text(sent.err));
      return false;
    }
    std::string got;
    const Io r = recv_until(ctx, to, got, bytes.size(),
                            [&](const std::string& buf) { return buf.size() >= bytes.size(); });
    if (r.wait != Wait::ready) {
      stopped(r.wait, std::string("waiting for ") + direction);
      return false;
    }
    if (r.err != 0 || got != bytes) {
      failed(std::string(direction) + " on " + bound->to_string() + ": sent '" +
             escape_printable(bytes) + "', received '" + escape_printable(got) + "'" +
             (r.err != 0 ? " then " + errno_text(r.err)
              : r.eof    ? " then the connection closed"
                         : ""));
      return false;
    }
    return true;
  };
  if (!transfer(client.fd.get(), server.get(), ping, "client to server")) return;
  if (!transfer(server.get(), client.fd.get(), pong, "server to client")) return;
  const double rtt = ms_since(start);

  ctx.metric("latency_ms", rtt, "ms");
  ctx.status(Status::ok, "round trip through " + bound->to_string() + " in " + format_ms(rtt));
}

}  // namespace triage::network
