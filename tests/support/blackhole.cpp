#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include "services.hpp"

namespace triage::test {

Blackhole::Blackhole() {
  // CLOEXEC: a service spawned later must not inherit the listener and keep
  // the port open after this object is gone.
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  // Port 0: the kernel picks the port while we hold it, so no race with free_port().
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
      ::listen(fd_, SOMAXCONN) != 0) {
    const std::string error = std::strerror(errno);
    ::close(fd_);
    throw std::runtime_error("blackhole listener: " + error);
  }
  port_ = ntohs(addr.sin_port);
}

Blackhole::~Blackhole() {
  ::close(fd_);
}

}  // namespace triage::test
