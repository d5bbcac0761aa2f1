// A TCP listener on 127.0.0.1 for the network tests' own servers.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace triage::network::test {

// Binds fd (a TCP socket; -1 fails) to 127.0.0.1 at a port the kernel picks
// and listens with `backlog`; `in` gets the address bound. False when any
// step failed.
inline bool listen_on_loopback(int fd, int backlog, sockaddr_in& in) {
  in = sockaddr_in{};
  in.sin_family = AF_INET;
  in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof in;
  return fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&in), len) == 0 &&
         ::listen(fd, backlog) == 0 &&
         ::getsockname(fd, reinterpret_cast<sockaddr*>(&in), &len) == 0;
}

}  // namespace triage::network::test
