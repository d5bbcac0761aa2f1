#include "triage/core/address_space.hpp"

#include <malloc.h>
#include <pthread.h>
#include <sys/resource.h>

#include <cstddef>

namespace triage::core {

namespace {

constexpr std::size_t kThreadStack = 1u << 20;

}  // namespace

void fit_address_space() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_AS, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return;
  ::mallopt(M_ARENA_MAX, 2);
  pthread_attr_t attr;
  if (::pthread_attr_init(&attr) == 0) {
    ::pthread_attr_setstacksize(&attr, kThreadStack);
    ::pthread_setattr_default_np(&attr);  // std::thread's too
    ::pthread_attr_destroy(&attr);
  }
}

void limit_address_space(int mb) {
  const rlim_t bytes = static_cast<rlim_t>(mb) << 20;
  const rlimit limit{bytes, bytes};
  ::setrlimit(RLIMIT_AS, &limit);
  fit_address_space();
}

}  // namespace triage::core
