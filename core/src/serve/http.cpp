// The HTTP endpoints of `triage serve`, on cpp-httplib: /metrics, /healthz,
// /report. Every request is a bounded GET; the bearer token guards all but
// /healthz (a load balancer or systemd probe has no token).
#include <arpa/inet.h>
#include <httplib.h>
#include <sys/socket.h>

#include <charconv>
#include <chrono>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "triage/core/report.hpp"
#include "triage/core/serve_http.hpp"

namespace triage::core::serve {

namespace {

constexpr std::size_t kMaxTokenBytes = 4096;
constexpr std::size_t kWorkers = 4;  // requests served at once; more wait in the queue
constexpr time_t kReadTimeoutS = 5;  // to send a request
constexpr time_t kWriteTimeoutS = 10;
constexpr std::size_t kMaxRequestBody = 1024;  // GET only: nothing to upload

// Equal without revealing, through timing, how much of a guess was right.
bool same_secret(std::string_view given, std::string_view expected) {
  if (given.size() != expected.size()) return false;  // the length is no secret
  unsigned char diff = 0;
  for (std::size_t i = 0; i < given.size(); ++i)
    diff |= static_cast<unsigned char>(given[i] ^ expected[i]);
  return diff == 0;
}

// SO_REUSEADDR (a restarted service rebinds at once) but not httplib's
// default SO_REUSEPORT, with which a second service on the same port would
// silently share it instead of failing.
void socket_options(socket_t sock) {
  int yes = 1;
  ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
}

}  // namespace

std::string Listen::text() const {
  return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
         std::to_string(port);
}

std::optional<Listen> parse_listen(std::string_view text, std::string& why) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon + 1 == text.size()) {
    why = "'" + std::string(text) + "' is not HOST:PORT (e.g. 127.0.0.1:9477)";
    return std::nullopt;
  }
  Listen out;
  std::string_view host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  out.host = std::string(host);
  const auto port_text = text.substr(colon + 1);
  unsigned port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
      port > 65535) {
    why = "port '" + std::string(port_text) + "' is not a number from 1 to 65535";
    return std::nullopt;
  }
  out.port = static_cast<std::uint16_t>(port);
  unsigned char addr[16];
  if (::inet_pton(AF_INET, out.host.c_str(), addr) != 1 &&
      ::inet_pton(AF_INET6, out.host.c_str(), addr) != 1) {
    why = "'" + out.host + "' is not an IPv4 or IPv6 address (e.g. 127.0.0.1, 0.0.0.0, [::1])";
    return std::nullopt;
  }
  return out;
}

bool is_loopback(const Listen& listen) {
  in_addr v4{};
  if (::inet_pton(AF_INET, listen.host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  return listen.host == "::1";
}

std::string read_token_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in)
    throw std::runtime_error(file.string() +
                             ": cannot read the token file (it must exist and be readable by "
                             "the user running triage serve)");
  std::string line;
  char c = 0;
  while (in.get(c) && c != '\n') {
    if (line.size() == kMaxTokenBytes)
      throw std::runtime_error(file.string() + ": the token's line is longer than " +
                               std::to_string(kMaxTokenBytes) +
                               " bytes; put the token alone on the first line");
    line += c;
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty())
    throw std::runtime_error(file.string() +
                             ": the first line is empty; put the token on it (e.g. `openssl rand "
                             "-hex 32 > FILE`)");
  return line;
}

struct HttpServer::Impl {
  ServiceState& state;
  std::mutex token_mutex;
  std::string token;
  httplib::Server server;
  std::thread thread;

  Impl(ServiceState& s, std::string t) : state(s), token(std::move(t)) {}

  bool authorized(const httplib::Request& request) {
    std::string expected;
    {
      std::lock_guard lock(token_mutex);
      if (token.empty()) return true;
      expected = "Bearer " + token;
    }
    return same_secret(request.get_header_value("Authorization"), expected);
  }

  // Wraps a handler that needs the token.
  httplib::Server::Handler guarded(httplib::Server::Handler handler) {
    return [this, handler](const httplib::Request& request, httplib::Response& response) {
      if (!authorized(request)) {
        response.status = 401;
        response.set_header("WWW-Authenticate", "Bearer realm=\"triage\"");
        response.set_content(
            "401 unauthorized: send 'Authorization: Bearer <token>' (--token-file)\n",
            "text/plain; charset=utf-8");
        return;
      }
      handler(request, response);
    };
  }

  void routes() {
    server.Get("/healthz", [this](const httplib::Request&, httplib::Response& response) {
      const auto health = state.health(ServiceState::Clock::now());
      response.status = health.ok ? 200 : 503;
      response.set_content(health.reason, "text/plain; charset=utf-8");
    });
    server.Get("/metrics", guarded([this](const httplib::Request&, httplib::Response& response) {
                 response.set_content(state.metrics(), "text/plain; version=0.0.4; charset=utf-8");
               }));
    server.Get(
        "/report", guarded([this](const httplib::Request& request, httplib::Response& response) {
          const std::string name =
              request.has_param("format") ? request.get_param_value("format") : "json";
          const auto format = parse_format(name);
          if (!format) {
            response.status = 400;
            response.set_content("400: format must be " + std::string(format_names()) + "\n",
                                 "text/plain; charset=utf-8");
            return;
          }
          const auto report = state.report();
          if (!report) {
            response.status = 503;
            response.set_content("503: no sweep has finished yet\n", "text/plain; charset=utf-8");
            return;
          }
          const char* type = "text/plain; charset=utf-8";
          if (*format == Format::json) type = "application/json";
          if (*format == Format::ndjson) type = "application/x-ndjson";
          if (*format == Format::junit) type = "application/xml";
          if (*format == Format::prometheus) type = "text/plain; version=0.0.4; charset=utf-8";
          RenderOptions options;
          options.width = 120;
          response.set_content(render(*report, *format, options), type);
        }));
    server.set_error_handler([](const httplib::Request&, httplib::Response& response) {
      if (response.status == 404)
        response.set_content("404: try /metrics, /healthz or /report[?format=...]\n",
                             "text/plain; charset=utf-8");
    });
    server.set_exception_handler([](const httplib::Request&, httplib::Response& response,
                                    std::exception_ptr) {
      response.status = 500;
      response.set_content("500: the report could not be rendered\n", "text/plain; charset=utf-8");
    });
  }
};

HttpServer::HttpServer(ServiceState& state, std::string token)
    : impl_(std::make_unique<Impl>(state, std::move(token))) {
  auto& server = impl_->server;
  server.new_task_queue = [] { return new httplib::ThreadPool(kWorkers); };
  server.set_socket_options(socket_options);
  server.set_read_timeout(kReadTimeoutS, 0);
  server.set_write_timeout(kWriteTimeoutS, 0);
  server.set_payload_max_length(kMaxRequestBody);
  impl_->routes();
}

HttpServer::~HttpServer() {
  stop();
}

bool HttpServer::start(const Listen& listen, std::string& error) {
  if (!impl_->server.bind_to_port(listen.host, listen.port)) {
    error = "cannot listen on " + listen.text() +
            " (in use by another process, or an address this machine does not have)";
    return false;
  }
  impl_->thread = std::thread([this] { impl_->server.listen_after_bind(); });
  // cpp-httplib's stop() does nothing until listen_after_bind has started,
  // and a stop() before then would leave join() waiting on accept() for
  // ever (a SIGTERM right after start): wait for the server's own word.
  while (!impl_->server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return true;
}

void HttpServer::stop() {
  if (!impl_) return;
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

void HttpServer::set_token(std::string token) {
  std::lock_guard lock(impl_->token_mutex);
  impl_->token = std::move(token);
}

}  // namespace triage::core::serve
