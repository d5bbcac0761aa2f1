#include <ostream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "internal.hpp"

namespace triage::test {
namespace {

namespace fs = std::filesystem;

// Identical in every server, so that a check behaves the same over HTTP and TLS.
constexpr const char* kLocations = R"(
    location = / { return 200 "triage ok\n"; }
    location = /health {
      default_type application/json;
      return 200 '{"status":"up","version":"1.2.3","checks":{"db":"ok"}}';
    }
    location = /status/404 { return 404; }
    location = /status/500 { return 500; }
    location = /status/503 { return 503; }
    location = /redirect { return 302 /health; }
    location = /echo-header { return 200 $http_x_triage_test; }
    location / { return 404; }
)";

void server_block(std::ostream& out, const fs::path& files, std::uint16_t port,
                  const fs::path* cert, const fs::path* key) {
  out << "  server {\n"
      << "    listen 127.0.0.1:" << port << (cert != nullptr ? " ssl;\n" : ";\n");
  if (cert != nullptr) {
    out << "    ssl_certificate " << cert->string() << ";\n"
        << "    ssl_certificate_key " << key->string() << ";\n";
  }
  // Files tests write, served as they are (e.g. a JSON status document).
  out << "    location /files/ { alias " << files.string() << "/; }\n";
  out << kLocations << "  }\n";
}

// A single process (master_process off): stopping it stops everything, and as
// root there is no worker that switches to a user who cannot read the temp
// dir. Every path nginx writes to is in the temp dir.
std::string nginx_config(const fs::path& dir, const fs::path& log, const Certs& certs,
                         std::uint16_t http, std::uint16_t https, std::uint16_t expired,
                         std::uint16_t wrong_host) {
  const std::string d = dir.string();
  std::ostringstream out;
  out << "master_process off;\n"
      << "pid " << d << "/nginx.pid;\n"
      << "lock_file " << d << "/nginx.lock;\n"
      << "error_log " << log.string() << " info;\n"
      << "events { worker_connections 512; }\n"
      << "http {\n"
      << "  access_log " << d << "/access.log;\n"
      << "  client_body_temp_path " << d << "/client_body;\n"
      << "  proxy_temp_path " << d << "/proxy;\n"
      << "  fastcgi_temp_path " << d << "/fastcgi;\n"
      << "  uwsgi_temp_path " << d << "/uwsgi;\n"
      << "  scgi_temp_path " << d << "/scgi;\n"
      << "  default_type text/plain;\n"
      // Location: /health exactly as documented, not rebuilt from the Host header.
      << "  absolute_redirect off;\n";
  const fs::path files = dir / "files";
  server_block(out, files, http, nullptr, nullptr);
  server_block(out, files, https, &certs.valid_cert, &certs.valid_key);
  server_block(out, files, expired, &certs.expired_cert, &certs.expired_key);
  server_block(out, files, wrong_host, &certs.wrong_host_cert, &certs.wrong_host_key);
  out << "}\n";
  return out.str();
}

}  // namespace

Nginx::Nginx() : certs_(make_certs(dir_.path() / "certs")) {
  const fs::path config = dir_.path() / "nginx.conf";
  const fs::path log = dir_.path() / "nginx.log";
  fs::create_directories(files_dir());
  for (int attempt = 1;; ++attempt) {
    const auto ports = detail::distinct_free_ports(4);
    http_port_ = ports[0];
    https_port_ = ports[1];
    expired_port_ = ports[2];
    wrong_host_port_ = ports[3];
    detail::write_text(config, nginx_config(dir_.path(), log, certs_, http_port_, https_port_,
                                            expired_port_, wrong_host_port_));
    // -e: without it nginx first opens its compiled-in error log.
    auto nginx = std::make_unique<Process>(
        std::vector<std::string>{"nginx", "-p", dir_.path().string() + "/", "-c", config.string(),
                                 "-e", log.string(), "-g", "daemon off;"},
        log);
    const auto startup = detail::wait_until_listening(*nginx, ports, detail::kStartTimeout);
    if (startup == detail::Startup::listening) {
      processes_.push_back(std::move(nginx));
      return;
    }
    if (startup == detail::Startup::exited && attempt < detail::kStartAttempts) continue;
    nginx.reset();
    throw std::runtime_error(
        "nginx did not start (" +
        std::string(startup == detail::Startup::exited ? "exited" : "timed out") + "); its log:\n" +
        detail::read_text(log));
  }
}

Nginx::~Nginx() = default;

std::filesystem::path Nginx::files_dir() const {
  return dir_.path() / "files";
}

std::string Nginx::http_url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(http_port_) + path;
}

std::string Nginx::https_url(const std::string& path) const {
  return "https://localhost:" + std::to_string(https_port_) + path;
}

}  // namespace triage::test
