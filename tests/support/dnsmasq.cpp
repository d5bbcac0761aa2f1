#include <unistd.h>

#include <ostream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "internal.hpp"

namespace triage::test {
namespace {

namespace fs = std::filesystem;

// What both instances share: loopback only, nothing read from /etc (no
// resolv.conf, so nothing can ever be forwarded to the machine's resolvers;
// no hosts file), and every log line in the temp dir.
void common_config(std::ostream& out, std::uint16_t port, const fs::path& log) {
  out << "port=" << port << "\n"
      << "listen-address=127.0.0.1\n"
      << "bind-interfaces\n"
      << "no-resolv\n"
      << "no-hosts\n"
      << "no-poll\n"
      << "pid-file=\n"
      << "log-facility=" << log.string() << "\n"
      << "log-queries\n";
  // As root dnsmasq would switch to "nobody", who cannot write the log in our
  // private temp dir; as anyone else it stays who it is.
  if (::geteuid() == 0) out << "user=root\ngroup=root\n";
}

// dnsmasq answers SERVFAIL itself when DNSSEC validation fails, and never
// because an upstream is down (an unreachable upstream is a timeout, one that
// answers REFUSED is passed on as REFUSED). So fail.test is forwarded to a
// second, unsigned dnsmasq while the main one holds a trust anchor for
// fail.test: every answer from there is bogus, hence SERVFAIL, at once.
std::string upstream_config(std::uint16_t port, const fs::path& log) {
  std::ostringstream out;
  common_config(out, port, log);
  // local=: every type gets an answer (NODATA at worst), never REFUSED.
  out << "local=/fail.test/\n"
      << "address=/fail.test/192.0.2.1\n";
  return out.str();
}

std::string main_config(std::uint16_t port, std::uint16_t upstream_port, const fs::path& log) {
  std::ostringstream out;
  common_config(out, port, log);
  out << "local=/triage.test/\n"
      << "host-record=api.triage.test,10.0.0.5\n"
      << "host-record=multi.triage.test,10.0.0.6\n"
      << "host-record=multi.triage.test,10.0.0.7\n"
      << "host-record=v6.triage.test,fd00::5\n"
      << "cname=alias.triage.test,api.triage.test\n"
      << "txt-record=txt.triage.test,v=triage1\n"
      << "mx-host=triage.test,mail.triage.test,10\n"
      << "server=/fail.test/127.0.0.1#" << upstream_port << "\n";
  // A DS digest that no key can match; dnsmasq also insists on a root anchor.
  const std::string anchor = ",12345,13,2," + std::string(64, '0') + "\n";
  out << "dnssec\n"
      << "trust-anchor=." << anchor << "trust-anchor=fail.test" << anchor;
  return out.str();
}

}  // namespace

Dnsmasq::Dnsmasq() {
  const fs::path dir = dir_.path();
  for (int attempt = 1;; ++attempt) {
    const auto ports = detail::distinct_free_ports(2);
    port_ = ports[0];
    const std::uint16_t upstream_port = ports[1];
    detail::write_text(dir / "upstream.conf", upstream_config(upstream_port, dir / "upstream.log"));
    detail::write_text(dir / "dnsmasq.conf",
                       main_config(port_, upstream_port, dir / "dnsmasq.log"));

    std::vector<std::unique_ptr<Process>> started;
    auto start = [&](const std::string& name, std::uint16_t port) {
      // --conf-file: /etc/dnsmasq.conf, if there is one, is not read.
      started.push_back(std::make_unique<Process>(
          std::vector<std::string>{"dnsmasq", "--keep-in-foreground",
                                   "--conf-file=" + (dir / (name + ".conf")).string()},
          dir / (name + ".log")));
      // dnsmasq opens its UDP and TCP sockets together, so TCP readiness covers both.
      return detail::wait_until_listening(*started.back(), {port}, detail::kStartTimeout);
    };
    std::string failed;
    auto startup = start("upstream", upstream_port);
    if (startup == detail::Startup::listening) {
      startup = start("dnsmasq", port_);
      if (startup != detail::Startup::listening) failed = "dnsmasq";
    } else {
      failed = "upstream";
    }
    if (failed.empty()) {
      processes_ = std::move(started);
      return;
    }
    started.clear();
    if (startup == detail::Startup::exited && attempt < detail::kStartAttempts) continue;
    throw std::runtime_error("dnsmasq (" + failed + ") did not start (" +
                             (startup == detail::Startup::exited ? "exited" : "timed out") +
                             "); its log:\n" + detail::read_text(dir / (failed + ".log")));
  }
}

Dnsmasq::~Dnsmasq() = default;

std::string Dnsmasq::server() const {
  return "127.0.0.1:" + std::to_string(port_);
}

}  // namespace triage::test
