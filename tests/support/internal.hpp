// Helpers shared by the fixture's source files; not part of the public API.
#pragma once

#include <spawn.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "services.hpp"

namespace triage::test::detail {

// The whole file, or "" when it cannot be read: used to put a service's log
// into the error that says it did not start.
std::string read_text(const std::filesystem::path& file);

// Replaces the file's content; throws std::runtime_error on failure.
void write_text(const std::filesystem::path& file, std::string_view text);

// n different ports from free_port(): two calls can return the same port,
// because the kernel may hand out a port again once its probe socket closed.
std::vector<std::uint16_t> distinct_free_ports(std::size_t n);

enum class Startup { listening, exited, timed_out };

// Waits until every port accepts connections, giving up early when the
// process exits (typically: a port taken between free_port() and its bind).
Startup wait_until_listening(const Process& process, const std::vector<std::uint16_t>& ports,
                             std::chrono::milliseconds timeout);

// A plain HTTP/1.0 GET of path from 127.0.0.1:port (the server closes the
// connection after its answer, never chunked): the status and the body, or
// nullopt when no whole answer came within timeout (at most 16 MiB read).
struct HttpAnswer {
  int status = 0;
  std::string body;
};
std::optional<HttpAnswer> loopback_http_get(std::uint16_t port, const std::string& path,
                                            std::chrono::milliseconds timeout);

// posix_spawn attributes for a service (initialized here; destroy them):
// its own process group, so that anything it forks can be killed with it,
// an empty signal mask and every signal at its default (the test runner may
// have changed both).
void init_service_attributes(posix_spawnattr_t& attr);

// How many times a service is started with fresh ports before its fixture gives up.
inline constexpr int kStartAttempts = 3;

// Bound on every readiness wait; services here come up in milliseconds.
inline constexpr std::chrono::milliseconds kStartTimeout{10'000};

}  // namespace triage::test::detail
