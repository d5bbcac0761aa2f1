#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "internal.hpp"

namespace triage::test {
namespace {

using Clock = std::chrono::steady_clock;

// Between two connection attempts to a port that refused.
constexpr std::chrono::milliseconds kPollInterval{10};

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

bool can_bind(int type, std::uint16_t port) {
  Fd fd(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return false;
  const sockaddr_in addr = loopback(port);
  return ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
}

// One non-blocking connect, waiting at most `wait` for the handshake.
bool connects(std::uint16_t port, std::chrono::milliseconds wait) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return false;
  const sockaddr_in addr = loopback(port);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) return true;
  if (errno != EINPROGRESS) return false;
  pollfd pfd{fd.get(), POLLOUT, 0};
  if (::poll(&pfd, 1, static_cast<int>(wait.count())) != 1) return false;
  int error = 0;
  socklen_t len = sizeof error;
  ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &len);
  return error == 0;
}

std::chrono::milliseconds remaining(Clock::time_point deadline) {
  return std::max(std::chrono::milliseconds(0),
                  std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
}

}  // namespace

std::uint16_t free_port() {
  for (int attempt = 0; attempt < 100; ++attempt) {
    std::uint16_t port = 0;
    {
      Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
      if (fd.get() < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
      sockaddr_in addr = loopback(0);
      socklen_t len = sizeof addr;
      if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
          ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        throw std::runtime_error(std::string("bind 127.0.0.1:0: ") + std::strerror(errno));
      }
      port = ntohs(addr.sin_port);
    }
    // dnsmasq needs the same number for UDP too, so hand out only ports free for both.
    if (can_bind(SOCK_STREAM, port) && can_bind(SOCK_DGRAM, port)) return port;
  }
  throw std::runtime_error("no free port on 127.0.0.1");
}

bool wait_for_tcp(std::uint16_t port, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  // At least one attempt, so a zero timeout means "is it listening now?".
  do {
    if (connects(port, std::clamp(remaining(deadline), std::chrono::milliseconds(1),
                                  std::chrono::milliseconds(500)))) {
      return true;
    }
    std::this_thread::sleep_for(std::min(kPollInterval, remaining(deadline)));
  } while (Clock::now() < deadline);
  return false;
}

namespace detail {

std::vector<std::uint16_t> distinct_free_ports(std::size_t n) {
  std::vector<std::uint16_t> ports;
  while (ports.size() < n) {
    const std::uint16_t port = free_port();
    if (std::find(ports.begin(), ports.end(), port) == ports.end()) ports.push_back(port);
  }
  return ports;
}

Startup wait_until_listening(const Process& process, const std::vector<std::uint16_t>& ports,
                             std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (const std::uint16_t port : ports) {
    // Short slices, so that a process that died is noticed at once.
    while (!wait_for_tcp(port, std::min(std::chrono::milliseconds(50), remaining(deadline)))) {
      if (!process.running()) return Startup::exited;
      if (Clock::now() >= deadline) return Startup::timed_out;
    }
  }
  return Startup::listening;
}

std::optional<HttpAnswer> loopback_http_get(std::uint16_t port, const std::string& path,
                                            std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return std::nullopt;
  const sockaddr_in addr = loopback(port);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 &&
      errno != EINPROGRESS)
    return std::nullopt;
  auto wait_for = [&](short events) {
    for (;;) {
      pollfd pfd{fd.get(), events, 0};
      const int ready = ::poll(&pfd, 1, static_cast<int>(remaining(deadline).count()));
      if (ready < 0 && errno == EINTR) continue;
      return ready == 1;
    }
  };
  if (!wait_for(POLLOUT)) return std::nullopt;
  int error = 0;
  socklen_t len = sizeof error;
  ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &len);
  if (error != 0) return std::nullopt;
  const std::string request = "GET " + path +
                              " HTTP/1.0\r\nHost: 127.0.0.1:" + std::to_string(port) +
                              "\r\nAccept: application/json\r\n\r\n";
  for (std::size_t sent = 0; sent < request.size();) {
    if (!wait_for(POLLOUT)) return std::nullopt;
    const ssize_t n = ::send(fd.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EINTR) return std::nullopt;
    if (n > 0) sent += static_cast<std::size_t>(n);
  }
  std::string answer;
  char buf[16384];
  for (;;) {
    if (!wait_for(POLLIN)) return std::nullopt;
    const ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return std::nullopt;
    }
    answer.append(buf, static_cast<std::size_t>(n));
    if (answer.size() > (16u << 20)) return std::nullopt;
  }
  const auto end = answer.find("\r\n\r\n");
  HttpAnswer out;
  if (end == std::string::npos || std::sscanf(answer.c_str(), "HTTP/%*s %d", &out.status) != 1)
    return std::nullopt;
  out.body = answer.substr(end + 4);
  return out;
}

}  // namespace detail
}  // namespace triage::test
