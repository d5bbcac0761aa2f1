/* Baseline for the TCP scenario: N non-blocking connects to one IPv4
 * host:port with `inflight` outstanding at a time, driven by epoll, each
 * socket closed as soon as its connect completes. It is the least work a
 * TCP connect check can do, so its rate is the ceiling Triage is held to.
 *
 *   bench_tcp_epoll HOST PORT COUNT [INFLIGHT]
 * prints: {"count":N,"ok":N,"failed":N,"seconds":S}
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Starts one connect; returns 1 if it is in flight, 0 if it ended at once. */
static int start_connect(int ep, const struct sockaddr_in* addr, long* ok, long* failed) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    ++*failed;
    return 0;
  }
  if (connect(fd, (const struct sockaddr*)addr, sizeof *addr) == 0) {
    ++*ok;
    close(fd);
    return 0;
  }
  if (errno != EINPROGRESS) {
    ++*failed;
    close(fd);
    return 0;
  }
  struct epoll_event ev;
  memset(&ev, 0, sizeof ev);
  ev.events = EPOLLOUT;
  ev.data.fd = fd;
  if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
    ++*failed;
    close(fd);
    return 0;
  }
  return 1;
}

int main(int argc, char** argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s HOST PORT COUNT [INFLIGHT]\n", argv[0]);
    return 2;
  }
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)atoi(argv[2]));
  if (inet_pton(AF_INET, argv[1], &addr.sin_addr) != 1) {
    fprintf(stderr, "%s: not an IPv4 address\n", argv[1]);
    return 2;
  }
  const long count = atol(argv[3]);
  const int inflight = argc > 4 ? atoi(argv[4]) : 256;
  if (count < 1 || inflight < 1) {
    fprintf(stderr, "COUNT and INFLIGHT must be positive\n");
    return 2;
  }
  const int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) {
    perror("epoll_create1");
    return 1;
  }
  long started = 0, ok = 0, failed = 0, active = 0;
  struct epoll_event events[256];
  const double t0 = now_seconds();
  while (ok + failed < count) {
    while (active < inflight && started < count) {
      ++started;
      active += start_connect(ep, &addr, &ok, &failed);
    }
    if (active == 0) continue;
    const int n = epoll_wait(ep, events, 256, 10000);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      fprintf(stderr, "no connect completed in 10 s\n");
      return 1;
    }
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err == 0)
        ++ok;
      else
        ++failed;
      close(fd); /* also removes it from the epoll set */
      --active;
    }
  }
  const double seconds = now_seconds() - t0;
  printf("{\"count\":%ld,\"ok\":%ld,\"failed\":%ld,\"seconds\":%.6f}\n", count, ok, failed,
         seconds);
  return failed == 0 ? 0 : 1;
}
