#include "probe.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "net_util.hpp"

namespace triage::streaming {

namespace {

using Clock = std::chrono::steady_clock;
using network::Endpoint;
using network::UniqueFd;

constexpr std::int16_t kApiVersions = 18;
constexpr std::size_t kMaxResponse = 1 << 20;

void put16(std::string& s, std::int16_t v) {
  s.push_back(static_cast<char>((v >> 8) & 0xff));
  s.push_back(static_cast<char>(v & 0xff));
}
void put32(std::string& s, std::int32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) s.push_back(static_cast<char>((v >> shift) & 0xff));
}
std::int32_t get32(const std::string& s, std::size_t at) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return static_cast<std::int32_t>(v);
}

struct SslFree {
  void operator()(SSL* s) const { SSL_free(s); }
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};

enum class Stage { connecting, handshaking, sending, receiving, done };

struct Probe {
  const Broker* broker = nullptr;
  std::vector<Endpoint> addresses;
  std::size_t next_address = 0;
  UniqueFd fd;
  std::unique_ptr<SSL, SslFree> ssl;
  Stage stage = Stage::done;
  short want = 0;  // poll events the stage waits for
  std::string out, in;
  std::size_t sent = 0;
  Clock::time_point started;
  std::int32_t correlation = 0;
  ProbeResult result;
};

std::string ssl_error_text() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "TLS error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

void finish(Probe& p, bool up, std::string error = {}) {
  p.stage = Stage::done;
  p.result.up = up;
  p.result.error = std::move(error);
  p.result.rtt_ms = network::ms_since(p.started);
  p.ssl.reset();
  p.fd.reset();
}

// Starts connecting to the probe's next address; finishes it when none is left.
void start_connect(Probe& p, const std::string& last_error) {
  while (p.next_address < p.addresses.size()) {
    const Endpoint& ep = p.addresses[p.next_address++];
    UniqueFd fd(::socket(ep.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) return finish(p, false, network::errno_text(errno));
    if (::connect(fd.get(), ep.addr(), ep.length) == 0 || errno == EINPROGRESS) {
      p.fd = std::move(fd);
      p.stage = Stage::connecting;
      p.want = POLLOUT;
      return;
    }
    if (p.next_address == p.addresses.size()) return finish(p, false, network::errno_text(errno));
  }
  finish(p, false, last_error.empty() ? "no address" : last_error);
}

// Drives TLS and the request/response for a probe whose socket is ready.
void advance(Probe& p) {
  if (p.stage == Stage::connecting) {
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(p.fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      p.fd.reset();
      return start_connect(p, "connect: " + network::errno_text(err));
    }
    p.stage = p.ssl ? Stage::handshaking : Stage::sending;
    if (p.ssl) SSL_set_fd(p.ssl.get(), p.fd.get());
  }
  if (p.stage == Stage::handshaking) {
    const int rc = SSL_connect(p.ssl.get());
    if (rc != 1) {
      const int e = SSL_get_error(p.ssl.get(), rc);
      if (e == SSL_ERROR_WANT_READ) return void(p.want = POLLIN);
      if (e == SSL_ERROR_WANT_WRITE) return void(p.want = POLLOUT);
      const long verify = SSL_get_verify_result(p.ssl.get());
      return finish(p, false,
                    verify != X509_V_OK ? std::string("TLS certificate not trusted: ") +
                                              X509_verify_cert_error_string(verify)
                                        : "TLS handshake failed: " + ssl_error_text());
    }
    p.stage = Stage::sending;
  }
  while (p.stage == Stage::sending) {
    const char* data = p.out.data() + p.sent;
    const std::size_t left = p.out.size() - p.sent;
    ssize_t n = 0;
    if (p.ssl) {
      const int rc = SSL_write(p.ssl.get(), data, static_cast<int>(left));
      if (rc <= 0) {
        const int e = SSL_get_error(p.ssl.get(), rc);
        if (e == SSL_ERROR_WANT_READ) return void(p.want = POLLIN);
        if (e == SSL_ERROR_WANT_WRITE) return void(p.want = POLLOUT);
        return finish(p, false, "TLS write failed: " + ssl_error_text());
      }
      n = rc;
    } else {
      n = ::send(p.fd.get(), data, left, MSG_NOSIGNAL);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) return void(p.want = POLLOUT);
      if (n < 0) return finish(p, false, "send: " + network::errno_text(errno));
    }
    p.sent += static_cast<std::size_t>(n);
    if (p.sent == p.out.size()) p.stage = Stage::receiving;
  }
  while (p.stage == Stage::receiving) {
    char buf[4096];
    ssize_t n = 0;
    if (p.ssl) {
      const int rc = SSL_read(p.ssl.get(), buf, sizeof buf);
      if (rc <= 0) {
        const int e = SSL_get_error(p.ssl.get(), rc);
        if (e == SSL_ERROR_WANT_READ) return void(p.want = POLLIN);
        if (e == SSL_ERROR_WANT_WRITE) return void(p.want = POLLOUT);
        if (e == SSL_ERROR_ZERO_RETURN)
          n = 0;
        else
          return finish(p, false, "TLS read failed: " + ssl_error_text());
      } else {
        n = rc;
      }
    } else {
      n = ::recv(p.fd.get(), buf, sizeof buf, 0);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) return void(p.want = POLLIN);
      if (n < 0) return finish(p, false, "connection " + network::errno_text(errno));
    }
    if (n == 0) return finish(p, false, "closed the connection without answering ApiVersions");
    p.in.append(buf, static_cast<std::size_t>(n));
    if (p.in.size() < 8) continue;
    const std::int32_t size = get32(p.in, 0);
    if (size < 4 || static_cast<std::size_t>(size) > kMaxResponse)
      return finish(p, false, "answered with something that is not a Kafka response");
    if (p.in.size() < 8) continue;
    if (get32(p.in, 4) != p.correlation)
      return finish(p, false, "answered with another request's correlation id");
    return finish(p, true);
  }
}

}  // namespace

std::string api_versions_request(std::int32_t correlation_id, std::string_view client_id) {
  std::string body;
  put16(body, kApiVersions);
  put16(body, 0);  // v0: understood by every broker since Kafka 0.10
  put32(body, correlation_id);
  put16(body, static_cast<std::int16_t>(client_id.size()));
  body.append(client_id);
  std::string frame;
  put32(frame, static_cast<std::int32_t>(body.size()));
  return frame + body;
}

std::vector<ProbeResult> probe_brokers(Context& ctx, const Connection& connection,
                                       const std::vector<Broker>& brokers,
                                       Clock::time_point until) {
  until = std::min(until, ctx.deadline());
  std::unique_ptr<SSL_CTX, SslFree> tls;
  if (connection.tls()) {
    tls.reset(SSL_CTX_new(TLS_client_method()));
    SSL_CTX_set_verify(tls.get(), SSL_VERIFY_PEER, nullptr);
    SSL_CTX_set_min_proto_version(tls.get(), TLS1_2_VERSION);
    const bool loaded =
        connection.ca_file.empty()
            ? SSL_CTX_set_default_verify_paths(tls.get()) == 1
            : SSL_CTX_load_verify_locations(tls.get(), connection.ca_file.c_str(), nullptr) == 1;
    if (!loaded)
      throw ParamError("param 'ca_file': cannot read CA certificates from '" + connection.ca_file +
                       "'");
  }
  network::SigpipeGuard sigpipe;
  std::vector<Probe> probes(brokers.size());
  for (std::size_t i = 0; i < brokers.size(); ++i) {
    Probe& p = probes[i];
    p.broker = &brokers[i];
    p.started = Clock::now();
    p.correlation = static_cast<std::int32_t>(i + 1);
    p.out = api_versions_request(p.correlation, "triage");
    const auto resolved = network::resolve_host(ctx, p.broker->host, p.broker->port);
    if (!resolved.ok()) {
      finish(p, false, "cannot resolve " + p.broker->host + ": " + resolved.error);
      continue;
    }
    p.addresses = resolved.endpoints;
    if (tls) {
      p.ssl.reset(SSL_new(tls.get()));
      SSL_set_tlsext_host_name(p.ssl.get(), p.broker->host.c_str());
      SSL_set1_host(p.ssl.get(), p.broker->host.c_str());
    }
    start_connect(p, {});
  }
  for (;;) {
    std::vector<pollfd> fds;
    std::vector<Probe*> owners;
    for (auto& p : probes)
      if (p.stage != Stage::done) {
        fds.push_back({p.fd.get(), p.want, 0});
        owners.push_back(&p);
      }
    if (fds.empty()) break;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
    if (left.count() <= 0 || ctx.cancelled()) {
      const std::string why =
          ctx.cancelled() && Clock::now() < ctx.deadline()
              ? "cancelled"
              : "no answer within " + network::format_ms(network::ms_since(owners[0]->started));
      for (auto* p : owners) finish(*p, false, why);
      break;
    }
    const int wait = static_cast<int>(std::min<long long>(left.count(), network::kSlice.count()));
    const int n = ::poll(fds.data(), fds.size(), wait);
    if (n < 0 && errno != EINTR) {
      for (auto* p : owners) finish(*p, false, "poll: " + network::errno_text(errno));
      break;
    }
    for (std::size_t i = 0; i < fds.size(); ++i)
      if (fds[i].revents != 0) advance(*owners[i]);
  }
  std::vector<ProbeResult> out;
  for (auto& p : probes) out.push_back(p.result);
  return out;
}

}  // namespace triage::streaming
