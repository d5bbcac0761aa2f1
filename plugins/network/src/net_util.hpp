// Shared helpers of the network checks: target parsing, a c-ares resolver and
// socket I/O that never blocks. Every wait is a poll() of at most kSlice,
// bounded by the check's deadline, with ctx.cancelled() asked between slices,
// so a check returns promptly when it is cancelled or runs out of time.
#pragma once

#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <triage/plugin.hpp>

namespace triage::network {

// The longest single poll() of any wait: the cancellation latency.
inline constexpr std::chrono::milliseconds kSlice{50};

// ---- file descriptors --------------------------------------------------------

// Owns one file descriptor; closes it on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  explicit operator bool() const { return valid(); }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

// Blocks SIGPIPE in the calling thread for its lifetime and swallows a
// SIGPIPE raised meanwhile, for libraries that write() to sockets (OpenSSL):
// a peer that resets the connection must not kill the process.
class SigpipeGuard {
 public:
  SigpipeGuard();
  ~SigpipeGuard();
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  sigset_t old_{};
  bool was_pending_ = false;
  bool active_ = false;
};

// ---- text --------------------------------------------------------------------

// "Connection refused (ECONNREFUSED)".
std::string errno_text(int err);

// Bytes made readable for a report: printable ASCII kept, \r \n \t and other
// bytes escaped (\x1b), cut after max_bytes of input with "..." appended.
std::string escape_printable(std::string_view bytes, std::size_t max_bytes = 64);

// Milliseconds since `start`, fractional.
double ms_since(std::chrono::steady_clock::time_point start);

// "0.4 ms", "12 ms", "1.2 s" for summaries.
std::string format_ms(double ms);

// ---- targets and addresses -----------------------------------------------------

struct HostPort {
  std::string host;  // without brackets: "::1", "127.0.0.1", "db.example"
  std::uint16_t port = 0;
};

// Parses "host:port", "[v6]:port" (and "host" / "[v6]" alone when
// default_port is given). Throws triage::ParamError naming the target when it
// is malformed (empty host, bad or missing port, IPv6 without brackets).
HostPort parse_host_port(std::string_view target,
                         std::optional<std::uint16_t> default_port = std::nullopt);

// A socket address of either family.
struct Endpoint {
  sockaddr_storage storage{};
  socklen_t length = 0;

  int family() const { return storage.ss_family; }
  const sockaddr* addr() const { return reinterpret_cast<const sockaddr*>(&storage); }
  std::uint16_t port() const;
  // "127.0.0.1:80", "[::1]:80".
  std::string to_string() const;
  // "127.0.0.1", "::1".
  std::string ip() const;
};

// An Endpoint from a numeric IPv4/IPv6 address (scope ids allowed, "fe80::1%eth0")
// and a port; nullopt when `host` is not an IP literal. Never does I/O.
std::optional<Endpoint> parse_ip(const std::string& host, std::uint16_t port);

// Endpoint of a socket's local side (getsockname).
std::optional<Endpoint> local_endpoint(int fd);

// ---- waiting -------------------------------------------------------------------

enum class Wait {
  ready,      // the fd has one of the events (or an error/hangup to collect)
  timed_out,  // the check's deadline passed
  cancelled,  // the run was cancelled before the deadline
};

// Waits for `events` (POLLIN/POLLOUT) on fd in slices; revents gets what poll saw.
Wait wait_fd(Context& ctx, int fd, short events, short* revents = nullptr);

// timed_out when the deadline has passed, else cancelled: what a check saw
// when ctx.cancelled() became true.
Wait stop_reason(const Context& ctx);

// ---- resolving -----------------------------------------------------------------

struct Resolved {
  std::vector<Endpoint> endpoints;  // in the resolver's order; empty on failure
  Wait wait = Wait::ready;          // timed_out/cancelled when the lookup was cut short
  int ares_status = 0;              // c-ares status (ARES_SUCCESS = 0)
  std::string error;                // why nothing was found (c-ares text), empty on success
  bool ambiguous = false;           // a numeric form read differently by different tools
  bool ok() const { return !endpoints.empty(); }
};

// Resolves host (an IP literal without any I/O, else a name through c-ares:
// /etc/hosts then DNS, the way the system resolver is configured) to endpoints
// with `port`. family: AF_UNSPEC, AF_INET or AF_INET6. Never blocks: the
// c-ares sockets are polled in slices under the check's deadline.
Resolved resolve_host(Context& ctx, const std::string& host, std::uint16_t port,
                      int family = AF_UNSPEC);

// ---- connecting ----------------------------------------------------------------

enum class ConnectError {
  none,
  refused,              // ECONNREFUSED: nothing listens there (or a REJECT rule)
  timed_out,            // no answer before the deadline (or ETIMEDOUT)
  host_unreachable,     // EHOSTUNREACH
  network_unreachable,  // ENETUNREACH
  cancelled,            // the run was cancelled
  other,                // anything else; see err/message
};

struct Connected {
  UniqueFd fd;    // a connected non-blocking socket when error == none
  Endpoint peer;  // the address tried (last one tried on failure)
  ConnectError error = ConnectError::none;
  int err = 0;          // errno of the failure, 0 when none / timed out
  std::string message;  // "127.0.0.1:81: Connection refused (ECONNREFUSED)"
  double elapsed_ms = 0;
  bool ok() const { return error == ConnectError::none; }
};

// Opens a non-blocking TCP socket (SOCK_CLOEXEC) and connects it to `to`,
// waiting in slices under the check's deadline.
Connected connect_with_deadline(Context& ctx, const Endpoint& to);

// Resolves hp and connects to each address in turn until one answers, the way
// an operator's client would. On success sets the `address` attribute (the
// ip:port connected to) and returns the socket. On failure it reports the
// result itself and returns !ok(): a critical finding and status for a
// diagnosis ("Connection refused", "Connection timed out", "Host
// unreachable", "Network unreachable", "Host not found", ...), or
// ctx.error() when the run was cancelled. `what` names the protocol in
// summaries ("TCP", "TLS").
Connected connect_target(Context& ctx, const HostPort& hp, std::string_view what = "TCP");

// ---- data ----------------------------------------------------------------------

struct Io {
  Wait wait = Wait::ready;  // timed_out/cancelled when cut short
  int err = 0;              // errno of a socket error (EPIPE, ECONNRESET...), 0 if none
  bool eof = false;         // recv: the peer closed its side
  std::size_t bytes = 0;    // bytes moved by this call
  bool ok() const { return wait == Wait::ready && err == 0; }
};

// Writes all of data (send with MSG_NOSIGNAL), waiting for POLLOUT as needed.
Io send_all(Context& ctx, int fd, std::string_view data);

// Appends what arrives to `out` until `done(out)` is true, the peer closes
// (eof), out reaches max_bytes, or the deadline/cancellation. `done` is asked
// after every read (and once before the first wait).
template <class Done>
Io recv_until(Context& ctx, int fd, std::string& out, std::size_t max_bytes, Done done);

// One non-blocking recv() into `out` (at most max_bytes total); wait is
// ready with bytes == 0 and !eof when nothing was there (EAGAIN).
Io recv_some(int fd, std::string& out, std::size_t max_bytes);

template <class Done>
Io recv_until(Context& ctx, int fd, std::string& out, std::size_t max_bytes, Done done) {
  Io total;
  while (!done(out) && out.size() < max_bytes) {
    Io r = recv_some(fd, out, max_bytes);
    total.bytes += r.bytes;
    if (r.err != 0 || r.eof) {
      total.err = r.err;
      total.eof = r.eof;
      return total;
    }
    if (r.bytes > 0) continue;
    Wait w = wait_fd(ctx, fd, POLLIN);
    if (w != Wait::ready) {
      total.wait = w;
      return total;
    }
  }
  return total;
}

}  // namespace triage::network
