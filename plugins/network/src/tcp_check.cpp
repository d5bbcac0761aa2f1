// The tcp check: connects to host:port with a non-blocking socket, optionally
// writes `send` and waits for a response that contains `expect`.
#include <chrono>
#include <optional>
#include <string>

#include "checks.hpp"
#include "net_util.hpp"

namespace triage::network {

const char* const TcpCheck::params_schema = R"json({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "tcp check params",
  "type": "object",
  "properties": {
    "target": {
      "type": "string",
      "description": "host:port to connect to, IPv6 as [addr]:port. A host name is resolved with c-ares (/etc/hosts, then DNS) and each address is tried in turn."
    },
    "send": {
      "type": "string",
      "description": "Bytes written right after the connection is established (e.g. \"GET / HTTP/1.0\\r\\n\\r\\n\"). Without expect, the check then waits for the first bytes of a reply (or the peer closing)."
    },
    "expect": {
      "type": "string",
      "minLength": 1,
      "description": "Text the banner or response must contain; the check reads until it appears, the peer closes, read_bytes are read or the deadline passes."
    },
    "read_bytes": {
      "type": "integer",
      "minimum": 1,
      "maximum": 1048576,
      "default": 4096,
      "description": "Most bytes of the response read while looking for expect."
    }
  },
  "required": ["target"],
  "additionalProperties": false
})json";

namespace {
constexpr MetricDecl kMetrics[] = {
    metric("latency_ms", "ms", "Time of the TCP handshake (connect)")
        .remediation("Network issues (runbook: Connection Timeout): look for loss or a long "
                     "path to the host (mtr HOST), check firewall rules, and whether the "
                     "service's accept backlog is full (ss -ltn: Recv-Q against Send-Q)."),
    metric("response_ms", "ms",
           "From the end of the handshake until `expect` was found (or the first reply bytes "
           "arrived); only with send/expect")
        .remediation("The service accepts connections but answers slowly: check its load, its "
                     "logs and the backends it waits for."),
};
}  // namespace

const Metrics TcpCheck::metrics{kMetrics};

namespace {

constexpr std::int64_t kMaxReadBytes = 1 << 20;

}  // namespace

void TcpCheck::run(Context& ctx) {
  const std::string target = ctx.target();
  const HostPort hp = parse_host_port(target);
  const std::string send = ctx.param<std::string>("send", "");
  const std::optional<std::string> expect =
      ctx.has("expect") ? std::optional(ctx.required<std::string>("expect")) : std::nullopt;
  if (expect && expect->empty()) throw ParamError("param 'expect' must not be empty");
  const auto read_bytes = ctx.param<std::int64_t>("read_bytes", 4096);
  if (read_bytes < 1 || read_bytes > kMaxReadBytes)
    throw ParamError("param 'read_bytes' must be from 1 to " + std::to_string(kMaxReadBytes));

  if (ctx.cancelled()) return ctx.error("cancelled before the check started");

  Connected conn = connect_target(ctx, hp, "TCP");
  if (!conn.ok()) return;

  const std::string address = conn.peer.to_string();
  ctx.metric("latency_ms", conn.elapsed_ms, "ms");
  std::string summary = "connected to " + address + " in " + format_ms(conn.elapsed_ms);

  if (send.empty() && !expect) {
    ctx.status(Status::ok, summary);
    return;
  }

  const auto exchange_start = std::chrono::steady_clock::now();
  const std::string port = std::to_string(hp.port);
  auto reset = [&](std::string_view during, int err) {
    ctx.finding(
        Severity::critical, "Connection reset",
        address + " closed the connection while we " + std::string(during) + ": " + errno_text(err),
        "The service accepted the connection and dropped it: check its logs, its "
        "connection limits, and that port " +
            port + " runs the expected protocol (TLS on a plain port resets)");
    ctx.status(Status::critical, "connection to " + address + " reset");
  };
  auto stopped = [&](Wait w, std::string_view during, const std::string& got) {
    if (w == Wait::cancelled) {
      ctx.error("cancelled while " + std::string(during) + " " + address);
      return;
    }
    std::string detail = "connected to " + address + " in " + format_ms(conn.elapsed_ms) +
                         ", then nothing more within " + format_ms(ms_since(exchange_start)) +
                         " while " + std::string(during) + " " + address;
    if (expect) detail += "; expected '" + escape_printable(*expect) + "'";
    detail += got.empty() ? "; received nothing"
                          : "; received " + std::to_string(got.size()) + " bytes: '" +
                                escape_printable(got) + "'";
    ctx.finding(Severity::critical, "Response timed out", detail,
                "The service accepts connections but does not answer: check that it is healthy "
                "(stuck workers, full backlog) and that port " +
                    port + " runs the expected protocol; try by hand: nc " + hp.host + " " + port);
    ctx.status(Status::critical, "no response from " + address + " (timed out)");
  };

  if (!send.empty()) {
    const Io sent = send_all(ctx, conn.fd.get(), send);
    if (sent.wait != Wait::ready) return stopped(sent.wait, "sending to", {});
    if (sent.err != 0) return reset("sent " + std::to_string(send.size()) + " bytes", sent.err);
  }

  std::string got;
  const auto max = static_cast<std::size_t>(read_bytes);
  const Io r = recv_until(ctx, conn.fd.get(), got, max, [&](const std::string& buf) {
    return expect ? buf.find(*expect) != std::string::npos : !buf.empty();
  });
  const double response_ms = ms_since(exchange_start);
  const bool matched = expect ? got.find(*expect) != std::string::npos : true;

  if (matched && (expect || !got.empty() || r.eof)) {
    ctx.metric("response_ms", response_ms, "ms");
    summary += expect
                   ? ", found '" + escape_printable(*expect, 32) + "' in " + format_ms(response_ms)
                   : ", response in " + format_ms(response_ms);
    ctx.status(Status::ok, summary);
    return;
  }
  if (r.wait != Wait::ready) return stopped(r.wait, "waiting for a response from", got);
  if (r.err != 0) return reset("waited for a response", r.err);

  // The peer closed, or read_bytes were read, without the expected text.
  ctx.metric("response_ms", response_ms, "ms");
  const std::string why = r.eof ? "connection closed after " + std::to_string(got.size()) + " bytes"
                                : "stopped after read_bytes=" + std::to_string(read_bytes);
  ctx.finding(Severity::critical, "Unexpected response",
              "expected '" + escape_printable(*expect) + "' from " + address +
                  ", got first bytes '" + escape_printable(got) + "' (" + why + ")",
              "Check that port " + port +
                  " runs the expected service and version, and that "
                  "`send` speaks its protocol; compare by hand: nc " +
                  hp.host + " " + port);
  ctx.status(Status::critical, "unexpected response from " + address);
}

}  // namespace triage::network
