#include "net_util.hpp"

#include <ares.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <system_error>

namespace triage::network {

namespace {

using Clock = std::chrono::steady_clock;

bool should_stop(const Context& ctx) {
  return ctx.cancelled() || ctx.remaining().count() == 0;
}

// The next poll() timeout: one slice, never past the deadline.
int slice_ms(const Context& ctx) {
  auto left =
      std::min(ctx.remaining(), std::chrono::duration_cast<std::chrono::milliseconds>(kSlice));
  return static_cast<int>(std::max<std::int64_t>(left.count(), 0));
}

}  // namespace

// ---- UniqueFd / SigpipeGuard ---------------------------------------------------

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

SigpipeGuard::SigpipeGuard() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  sigset_t pending;
  sigemptyset(&pending);
  if (sigpending(&pending) == 0) was_pending_ = sigismember(&pending, SIGPIPE) == 1;
  active_ = pthread_sigmask(SIG_BLOCK, &set, &old_) == 0;
}

SigpipeGuard::~SigpipeGuard() {
  if (!active_) return;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  sigset_t pending;
  sigemptyset(&pending);
  // Swallow only a SIGPIPE raised while we held it blocked.
  if (!was_pending_ && sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1) {
    timespec zero{0, 0};
    while (sigtimedwait(&set, nullptr, &zero) < 0 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &old_, nullptr);
}

// ---- text ----------------------------------------------------------------------

std::string errno_text(int err) {
  std::string text = std::error_code(err, std::generic_category()).message();
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  if (const char* name = strerrorname_np(err)) {
    text += " (";
    text += name;
    text += ')';
  }
#endif
  return text;
}

std::string escape_printable(std::string_view bytes, std::size_t max_bytes) {
  std::string out;
  const std::size_t n = std::min(bytes.size(), max_bytes);
  out.reserve(n + 8);
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    switch (c) {
      case '\r':
        out += "\\r";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\\':
        out += "\\\\";
        break;
      default:
        if (c >= 0x20 && c < 0x7f) {
          out += static_cast<char>(c);
        } else {
          char hex[5];
          std::snprintf(hex, sizeof hex, "\\x%02x", c);
          out += hex;
        }
    }
  }
  if (bytes.size() > max_bytes) out += "...";
  return out;
}

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

std::string format_ms(double ms) {
  char buf[32];
  if (ms < 1)
    std::snprintf(buf, sizeof buf, "%.2f ms", ms);  // loopback answers in tens of µs
  else if (ms < 10)
    std::snprintf(buf, sizeof buf, "%.1f ms", ms);
  else if (ms < 1000)
    std::snprintf(buf, sizeof buf, "%.0f ms", ms);
  else
    std::snprintf(buf, sizeof buf, "%.1f s", ms / 1000);
  return buf;
}

// ---- targets and addresses -------------------------------------------------------

namespace {

[[noreturn]] void bad_target(std::string_view target, std::string_view why) {
  throw ParamError("invalid target '" + std::string(target) + "': " + std::string(why) +
                   " (expected host:port, e.g. 10.0.0.1:443, db.example:5432 or [::1]:443)");
}

std::uint16_t parse_port(std::string_view target, std::string_view text) {
  if (text.empty()) bad_target(target, "missing port");
  if (text.size() > 5 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
    bad_target(target, "port '" + std::string(text) + "' is not a number from 1 to 65535");
  const unsigned long value = std::stoul(std::string(text));
  if (value == 0 || value > 65535)
    bad_target(target, "port '" + std::string(text) + "' is not a number from 1 to 65535");
  return static_cast<std::uint16_t>(value);
}

bool valid_host_name(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  return std::all_of(host.begin(), host.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
  });
}

}  // namespace

HostPort parse_host_port(std::string_view target, std::optional<std::uint16_t> default_port) {
  HostPort out;
  if (target.empty()) bad_target(target, "empty");
  if (target.front() == '[') {
    const auto close = target.find(']');
    if (close == std::string_view::npos) bad_target(target, "missing ']' after the IPv6 address");
    out.host = std::string(target.substr(1, close - 1));
    if (!parse_ip(out.host, 1) || out.host.find(':') == std::string::npos)
      bad_target(target, "'" + out.host + "' is not an IPv6 address");
    const auto rest = target.substr(close + 1);
    if (rest.empty()) {
      if (!default_port) bad_target(target, "missing port");
      out.port = *default_port;
    } else if (rest.front() != ':') {
      bad_target(target, "expected ':' and a port after ']'");
    } else {
      out.port = parse_port(target, rest.substr(1));
    }
    return out;
  }
  const auto colons = std::count(target.begin(), target.end(), ':');
  if (colons > 1) bad_target(target, "an IPv6 address needs brackets, e.g. [::1]:443");
  if (colons == 1) {
    const auto colon = target.find(':');
    out.host = std::string(target.substr(0, colon));
    out.port = parse_port(target, target.substr(colon + 1));
  } else {
    if (!default_port) bad_target(target, "missing port");
    out.host = std::string(target);
    out.port = *default_port;
  }
  if (out.host.empty()) bad_target(target, "missing host");
  if (!valid_host_name(out.host))
    bad_target(target, "'" + out.host + "' is not a valid host name or IPv4 address");
  return out;
}

std::uint16_t Endpoint::port() const {
  if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage)->sin_port);
  if (family() == AF_INET6)
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port);
  return 0;
}

std::string Endpoint::ip() const {
  char buf[INET6_ADDRSTRLEN + IF_NAMESIZE + 2] = {};
  if (family() == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr, buf, sizeof buf);
    return buf;
  }
  if (family() == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&storage);
    inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof buf);
    std::string text = buf;
    if (in6->sin6_scope_id != 0) {
      char name[IF_NAMESIZE] = {};
      text += '%';
      text += if_indextoname(in6->sin6_scope_id, name) != nullptr
                  ? std::string(name)
                  : std::to_string(in6->sin6_scope_id);
    }
    return text;
  }
  return "?";
}

std::string Endpoint::to_string() const {
  if (family() == AF_INET6) return "[" + ip() + "]:" + std::to_string(port());
  return ip() + ":" + std::to_string(port());
}

std::optional<Endpoint> parse_ip(const std::string& host, std::uint16_t port) {
  Endpoint ep;
  sockaddr_in v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
    v4.sin_port = htons(port);
    std::memcpy(&ep.storage, &v4, sizeof v4);
    ep.length = sizeof v4;
    return ep;
  }
  sockaddr_in6 v6{};
  const auto percent = host.find('%');
  const std::string addr = host.substr(0, percent);
  if (inet_pton(AF_INET6, addr.c_str(), &v6.sin6_addr) != 1) return std::nullopt;
  if (percent != std::string::npos) {
    const std::string scope = host.substr(percent + 1);
    if (scope.empty()) return std::nullopt;
    if (std::all_of(scope.begin(), scope.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      v6.sin6_scope_id = static_cast<std::uint32_t>(std::stoul(scope));
    } else {
      v6.sin6_scope_id = if_nametoindex(scope.c_str());
      if (v6.sin6_scope_id == 0) return std::nullopt;
    }
  }
  v6.sin6_family = AF_INET6;
  v6.sin6_port = htons(port);
  std::memcpy(&ep.storage, &v6, sizeof v6);
  ep.length = sizeof v6;
  return ep;
}

std::optional<Endpoint> local_endpoint(int fd) {
  Endpoint ep;
  ep.length = sizeof ep.storage;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ep.storage), &ep.length) != 0)
    return std::nullopt;
  return ep;
}

// ---- waiting ---------------------------------------------------------------------

Wait stop_reason(const Context& ctx) {
  return ctx.remaining().count() == 0 ? Wait::timed_out : Wait::cancelled;
}

Wait wait_fd(Context& ctx, int fd, short events, short* revents) {
  for (;;) {
    if (should_stop(ctx)) return stop_reason(ctx);
    pollfd p{fd, events, 0};
    const int rc = ::poll(&p, 1, slice_ms(ctx));
    if (rc > 0) {
      if (revents != nullptr) *revents = p.revents;
      return Wait::ready;
    }
    if (rc < 0 && errno != EINTR) {
      // poll itself failed (EBADF, ENOMEM): let the caller's next call see it.
      if (revents != nullptr) *revents = POLLERR;
      return Wait::ready;
    }
  }
}

// ---- resolving -------------------------------------------------------------------

namespace {

struct Lookup {
  bool done = false;
  int status = ARES_SUCCESS;
  std::vector<Endpoint> endpoints;
};

void on_addrinfo(void* arg, int status, int /*timeouts*/, ares_addrinfo* res) {
  auto* lookup = static_cast<Lookup*>(arg);
  lookup->done = true;
  lookup->status = status;
  if (res == nullptr) return;
  for (const ares_addrinfo_node* n = res->nodes; n != nullptr; n = n->ai_next) {
    if (n->ai_addr == nullptr || n->ai_addrlen > sizeof(sockaddr_storage)) continue;
    if (n->ai_family != AF_INET && n->ai_family != AF_INET6) continue;
    Endpoint ep;
    std::memcpy(&ep.storage, n->ai_addr, n->ai_addrlen);
    ep.length = static_cast<socklen_t>(n->ai_addrlen);
    const bool seen =
        std::any_of(lookup->endpoints.begin(), lookup->endpoints.end(), [&](const Endpoint& e) {
          return e.length == ep.length && std::memcmp(&e.storage, &ep.storage, ep.length) == 0;
        });
    if (!seen) lookup->endpoints.push_back(ep);
  }
  ares_freeaddrinfo(res);
}

// Owns an ares channel.
struct Channel {
  ares_channel channel = nullptr;
  ~Channel() {
    if (channel != nullptr) ares_destroy(channel);
  }
};

int ares_init_once() {
  static std::once_flag once;
  static int status = ARES_SUCCESS;
  std::call_once(once, [] { status = ares_library_init(ARES_LIB_INIT_ALL); });
  return status;
}

}  // namespace

Resolved resolve_host(Context& ctx, const std::string& host, std::uint16_t port, int family) {
  Resolved out;
  // A numeric form that is not plain dotted decimal ("0177.0.0.1", "127.1",
  // "0x7f.0.0.1"): inet_aton reads 0177 as octal (127), other resolvers as
  // decimal (177): refused rather than guessed, naming both readings.
  if (in_addr aton{}; host.find_first_not_of("0123456789.xXabcdefABCDEF") == std::string::npos &&
                      host.find('.') != std::string::npos && !parse_ip(host, port) &&
                      ::inet_aton(host.c_str(), &aton) != 0) {
    char text[INET_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET, &aton, text, sizeof text);
    out.ambiguous = true;
    out.error = "'" + host + "' is an ambiguous address: inet_aton reads it as " + text +
                " (leading zeros as octal), other tools as decimal; write it as four decimal "
                "numbers without leading zeros (e.g. " +
                text + ")";
    return out;
  }
  if (auto ip = parse_ip(host, port)) {
    if (family == AF_UNSPEC || family == ip->family()) {
      out.endpoints.push_back(*ip);
    } else {
      out.ares_status = ARES_ENOTFOUND;
      out.error = "address family mismatch for " + host;
    }
    return out;
  }

  if (int rc = ares_init_once(); rc != ARES_SUCCESS) {
    out.ares_status = rc;
    out.error = std::string("c-ares initialisation failed: ") + ares_strerror(rc);
    return out;
  }
  Channel ch;
  if (int rc = ares_init(&ch.channel); rc != ARES_SUCCESS) {
    ch.channel = nullptr;
    out.ares_status = rc;
    out.error = std::string("c-ares initialisation failed: ") + ares_strerror(rc);
    return out;
  }

  Lookup lookup;
  ares_addrinfo_hints hints{};
  hints.ai_family = family;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = ARES_AI_NUMERICSERV;
  const std::string service = std::to_string(port);
  ares_getaddrinfo(ch.channel, host.c_str(), service.c_str(), &hints, &on_addrinfo, &lookup);

  while (!lookup.done) {
    if (should_stop(ctx)) {
      out.wait = stop_reason(ctx);
      ares_cancel(ch.channel);  // runs on_addrinfo with ARES_ECANCELLED
      break;
    }
    ares_socket_t socks[ARES_GETSOCK_MAXNUM];
    const int bits = ares_getsock(ch.channel, socks, ARES_GETSOCK_MAXNUM);
    std::vector<pollfd> fds;
    for (int i = 0; i < ARES_GETSOCK_MAXNUM; ++i) {
      short events = 0;
      if (ARES_GETSOCK_READABLE(bits, i)) events |= POLLIN;
      if (ARES_GETSOCK_WRITABLE(bits, i)) events |= POLLOUT;
      if (events != 0) fds.push_back(pollfd{socks[i], events, 0});
    }
    const int slice = slice_ms(ctx);
    timeval max_tv{slice / 1000, (slice % 1000) * 1000};
    timeval tv{};
    const timeval* next = ares_timeout(ch.channel, &max_tv, &tv);
    // Round up so a sub-millisecond c-ares timer does not spin.
    const int wait_ms = static_cast<int>(next->tv_sec * 1000 + (next->tv_usec + 999) / 1000);
    const int rc = ::poll(fds.data(), fds.size(), wait_ms);
    if (rc < 0 && errno != EINTR) {
      out.error = "poll failed: " + errno_text(errno);
      ares_cancel(ch.channel);
      break;
    }
    bool any = false;
    for (const auto& p : fds) {
      if (p.revents == 0) continue;
      any = true;
      const bool readable = (p.revents & (POLLIN | POLLERR | POLLHUP)) != 0;
      const bool writable = (p.revents & POLLOUT) != 0;
      ares_process_fd(ch.channel, readable ? p.fd : ARES_SOCKET_BAD,
                      writable ? p.fd : ARES_SOCKET_BAD);
    }
    if (!any) ares_process_fd(ch.channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // timers
  }

  out.ares_status = lookup.status;
  if (out.wait != Wait::ready || !out.error.empty()) return out;
  if (lookup.status != ARES_SUCCESS) {
    out.error = ares_strerror(lookup.status);
    return out;
  }
  out.endpoints = std::move(lookup.endpoints);
  if (out.endpoints.empty()) out.error = "no addresses";
  return out;
}

// ---- connecting ------------------------------------------------------------------

namespace {

ConnectError classify(int err) {
  switch (err) {
    case ECONNREFUSED:
      return ConnectError::refused;
    case ETIMEDOUT:
      return ConnectError::timed_out;
    case EHOSTUNREACH:
      return ConnectError::host_unreachable;
    case ENETUNREACH:
      return ConnectError::network_unreachable;
    default:
      return ConnectError::other;
  }
}

}  // namespace

Connected connect_with_deadline(Context& ctx, const Endpoint& to) {
  Connected out;
  out.peer = to;
  const auto start = Clock::now();
  auto fail = [&](ConnectError error, int err, std::string why) {
    out.fd.reset();
    out.error = error;
    out.err = err;
    out.message = to.to_string() + ": " + why;
    out.elapsed_ms = ms_since(start);
    return std::move(out);
  };

  UniqueFd fd(::socket(to.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return fail(ConnectError::other, errno, "socket: " + errno_text(errno));

  int rc = ::connect(fd.get(), to.addr(), to.length);
  if (rc != 0 && errno != EINPROGRESS && errno != EINTR) {
    const int err = errno;
    return fail(classify(err), err, errno_text(err));
  }
  if (rc != 0) {
    for (;;) {
      short revents = 0;
      const Wait w = wait_fd(ctx, fd.get(), POLLOUT, &revents);
      if (w == Wait::timed_out)
        return fail(ConnectError::timed_out, 0,
                    "no answer within " + format_ms(ms_since(start)) + " (deadline reached)");
      if (w == Wait::cancelled) return fail(ConnectError::cancelled, 0, "cancelled");
      if ((revents & (POLLOUT | POLLERR | POLLHUP)) != 0) break;
    }
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    if (err != 0) return fail(classify(err), err, errno_text(err));
  }
  out.fd = std::move(fd);
  out.elapsed_ms = ms_since(start);
  return out;
}

// ---- data ------------------------------------------------------------------------

Io send_all(Context& ctx, int fd, std::string_view data) {
  Io out;
  while (out.bytes < data.size()) {
    const ssize_t n = ::send(fd, data.data() + out.bytes, data.size() - out.bytes, MSG_NOSIGNAL);
    if (n > 0) {
      out.bytes += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      out.err = errno;
      return out;
    }
    const Wait w = wait_fd(ctx, fd, POLLOUT);
    if (w != Wait::ready) {
      out.wait = w;
      return out;
    }
  }
  return out;
}

Io recv_some(int fd, std::string& out, std::size_t max_bytes) {
  Io io;
  if (out.size() >= max_bytes) return io;
  char buf[16384];
  const std::size_t want = std::min(sizeof buf, max_bytes - out.size());
  const ssize_t n = ::recv(fd, buf, want, 0);
  if (n > 0) {
    out.append(buf, static_cast<std::size_t>(n));
    io.bytes = static_cast<std::size_t>(n);
  } else if (n == 0) {
    io.eof = true;
  } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
    io.err = errno;
  }
  return io;
}

}  // namespace triage::network

// ---- connect and report -------------------------------------------------------------

namespace triage::network {

namespace {

std::string host_port_text(const HostPort& hp) {
  return hp.host.find(':') != std::string::npos ? "[" + hp.host + "]:" + std::to_string(hp.port)
                                                : hp.host + ":" + std::to_string(hp.port);
}

void report_resolve_failure(Context& ctx, const HostPort& hp, const Resolved& r) {
  const std::string name = hp.host;
  if (r.ambiguous) {
    ctx.error(r.error);  // the target's fault, not the network's: unknown
    return;
  }
  if (r.wait == Wait::cancelled) {
    ctx.error("cancelled while resolving " + name);
    return;
  }
  if (r.wait == Wait::timed_out) {
    ctx.finding(Severity::critical, "Name resolution timed out",
                "resolving " + name + " did not finish before the check's deadline",
                "Check that the DNS servers in /etc/resolv.conf answer (dig " + name +
                    "), or use an IP address in the target");
    ctx.status(Status::critical, "resolving " + name + " timed out");
    return;
  }
  if (r.ares_status == ARES_ENOTFOUND || r.ares_status == ARES_ENODATA ||
      r.ares_status == ARES_ENONAME) {
    ctx.finding(Severity::critical, "Host not found", name + " has no address: " + r.error,
                "Check the spelling of the name, /etc/hosts and DNS: dig " + name +
                    " (or run the dns check for it)");
    ctx.status(Status::critical, name + " not found");
    return;
  }
  ctx.finding(Severity::critical, "Name resolution failed", "resolving " + name + ": " + r.error,
              "Check /etc/resolv.conf and that its DNS servers answer: dig " + name);
  ctx.status(Status::critical, "cannot resolve " + name);
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

void report_connect_failure(Context& ctx, const HostPort& hp, std::string_view what,
                            const Connected& c, const std::vector<std::string>& attempts) {
  const std::string target = host_port_text(hp);
  const std::string port = std::to_string(hp.port);
  const std::string detail = join(attempts, "; ");
  std::string title, remediation, summary;
  // Out of descriptors or memory here says nothing about the target: it is
  // this machine that could not try.
  if (c.error == ConnectError::other &&
      (c.err == EMFILE || c.err == ENFILE || c.err == ENOMEM || c.err == ENOBUFS)) {
    ctx.error(std::string(c.err == EMFILE || c.err == ENFILE
                              ? "this machine ran out of file descriptors"
                              : "this machine ran out of memory for sockets") +
              " (" + errno_text(c.err) + ") before it could connect to " + target +
              "; the target was not tested");
    return;
  }
  switch (c.error) {
    case ConnectError::cancelled:
      ctx.error("cancelled while connecting to " + target);
      return;
    case ConnectError::refused:
      title = "Connection refused";
      remediation = "Nothing listens on port " + port + " at " + hp.host +
                    " (or a firewall rejects it): start the service or check the port; on the "
                    "server: ss -ltnp 'sport = :" +
                    port + "'";
      summary = std::string(what) + " connection to " + target + " refused";
      break;
    case ConnectError::timed_out:
      title = "Connection timed out";
      remediation =
          "A firewall drops the packets or the host is down: check firewall rules and "
          "security groups for port " +
          port + " between this host and " + hp.host + ", and that the host is up";
      summary = std::string(what) + " connection to " + target + " timed out";
      break;
    case ConnectError::host_unreachable:
      title = "Host unreachable";
      remediation =
          "The host does not answer on its network (down, wrong subnet/VLAN, or a "
          "router reports it unreachable): check it is up; ip route get " +
          hp.host + "; ip neigh";
      summary = target + " is unreachable";
      break;
    case ConnectError::network_unreachable:
      title = "Network unreachable";
      remediation = "No route to " + hp.host +
                    "'s network: check the routing table and default route (ip route get " +
                    hp.host + ", the route check) and that the interface is up";
      summary = "no route to " + target;
      break;
    case ConnectError::none:
    case ConnectError::other:
      title = "Connection failed";
      remediation =
          "Check local firewall rules (an OUTPUT rule gives EPERM/EACCES) and the "
          "address; retry by hand: nc -vz " +
          hp.host + " " + port;
      summary = std::string(what) + " connection to " + target + " failed";
      break;
  }
  ctx.finding(Severity::critical, title, detail, remediation);
  ctx.status(Status::critical, summary);
}

}  // namespace

Connected connect_target(Context& ctx, const HostPort& hp, std::string_view what) {
  const Resolved r = resolve_host(ctx, hp.host, hp.port);
  if (!r.ok()) {
    report_resolve_failure(ctx, hp, r);
    Connected failed;
    failed.error = r.wait == Wait::cancelled ? ConnectError::cancelled : ConnectError::other;
    failed.message = "cannot resolve " + hp.host;
    return failed;
  }
  Connected c;
  std::vector<std::string> attempts;
  for (const auto& ep : r.endpoints) {
    c = connect_with_deadline(ctx, ep);
    if (c.ok()) {
      ctx.attribute("address", ep.to_string());
      return c;
    }
    attempts.push_back(c.message);
    if (c.error == ConnectError::timed_out || c.error == ConnectError::cancelled) break;
  }
  report_connect_failure(ctx, hp, what, c, attempts);
  return c;
}

}  // namespace triage::network
