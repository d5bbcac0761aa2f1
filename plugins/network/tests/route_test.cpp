// The route check against routing tables written as real files in a temp
// dir (proc_root / sys_root), in the kernel's formats, one per branch; plus
// one run against this machine's own /proc and /sys.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <triage/testing.hpp>

#include "checks.hpp"
#include "services.hpp"

using triage::Severity;
using triage::Status;
using triage::network::RouteCheck;
namespace fs = std::filesystem;

namespace {

// A fake /proc and /sys under a temp dir.
class FakeHost {
 public:
  FakeHost() {
    fs::create_directories(proc() / "net");
    fs::create_directories(sys() / "class" / "net");
    route_ =
        "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n";
    arp_ = "IP address       HW type     Flags       HW address            Mask     Device\n";
  }

  fs::path proc() const { return dir_.path() / "proc"; }
  fs::path sys() const { return dir_.path() / "sys"; }

  // One IPv4 route line, addresses formatted the way the kernel prints them.
  FakeHost& route4(const std::string& iface, const std::string& dest, const std::string& gateway,
                   const std::string& mask, unsigned flags, unsigned metric = 0) {
    char line[256];
    std::snprintf(line, sizeof line, "%s\t%s\t%s\t%04X\t0\t0\t%u\t%s\t0\t0\t0\n", iface.c_str(),
                  hex(dest).c_str(), hex(gateway).c_str(), flags, metric, hex(mask).c_str());
    route_ += line;
    return *this;
  }
  FakeHost& default4(const std::string& iface, const std::string& gateway, unsigned metric = 0) {
    return route4(iface, "0.0.0.0", gateway, "0.0.0.0", 0x3, metric);
  }
  FakeHost& route6(const std::string& line) {
    route6_ += line + "\n";
    return *this;
  }
  FakeHost& arp(const std::string& ip, const std::string& flags, const std::string& mac,
                const std::string& iface) {
    char line[256];
    std::snprintf(line, sizeof line, "%-16s 0x1         %-11s %-21s *        %s\n", ip.c_str(),
                  flags.c_str(), mac.c_str(), iface.c_str());
    arp_ += line;
    return *this;
  }
  FakeHost& iface(const std::string& name, const std::string& operstate,
                  const std::string& flags = "0x1003", const std::string& carrier = "1") {
    const fs::path d = sys() / "class" / "net" / name;
    fs::create_directories(d);
    write(d / "operstate", operstate + "\n");
    write(d / "flags", flags + "\n");
    if (!carrier.empty()) write(d / "carrier", carrier + "\n");
    return *this;
  }

  triage::testing::Result run(const std::string& target = "default") {
    write(proc() / "net" / "route", route_);
    write(proc() / "net" / "arp", arp_);
    if (!route6_.empty()) write(proc() / "net" / "ipv6_route", route6_);
    return triage::testing::run<RouteCheck>(
        {{"target", target}, {"proc_root", proc().string()}, {"sys_root", sys().string()}});
  }

 private:
  static std::string hex(const std::string& ip) {
    in_addr a{};
    REQUIRE(inet_pton(AF_INET, ip.c_str(), &a) == 1);
    char buf[16];
    std::snprintf(buf, sizeof buf, "%08X", a.s_addr);  // the raw 32 bits, as the kernel does
    return buf;
  }
  static void write(const fs::path& p, const std::string& text) {
    std::ofstream(p, std::ios::trunc) << text;
  }

  triage::test::TempDir dir_;
  std::string route_, route6_, arp_;
};

std::string dump(const triage::testing::Result& r) {
  std::string out = "summary: " + r.summary + "\nerror: " + r.error + "\n";
  for (const auto& f : r.findings) out += "finding: " + f.title + " | " + f.detail + "\n";
  for (const auto& [k, v] : r.attributes) out += "attribute: " + k + " = " + v + "\n";
  return out;
}

const char* const kV6Default =
    "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
    "fd000000000000000000000000000001 00000400 00000002 00000000 00000003     eth0";
const char* const kV6Subnet =
    "fd000000000000000000000000000000 40 00000000000000000000000000000000 00 "
    "00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0";
const char* const kV6LoReject =
    "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
    "00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo";

}  // namespace

TEST_CASE("route: a healthy default route", "[route]") {
  FakeHost host;
  host.default4("eth0", "192.0.2.1")
      .route4("eth0", "192.0.2.0", "0.0.0.0", "255.255.255.0", 0x1)
      .iface("eth0", "up")
      .arp("192.0.2.1", "0x2", "02:fc:00:00:00:05", "eth0");
  const auto r = host.run();
  INFO(dump(r));
  CHECK(r.status() == Status::ok);
  CHECK(r.findings.empty());
  CHECK(r.attributes.at("gateway") == "192.0.2.1");
  CHECK(r.attributes.at("interface") == "eth0");
  CHECK(r.attributes.at("gateway_mac") == "02:fc:00:00:00:05");
  REQUIRE(r.metric("routes") != nullptr);
  CHECK(r.metric("routes")->value == 2);
  CHECK(r.summary.find("192.0.2.1") != std::string::npos);
}

TEST_CASE("route: no default route", "[route]") {
  FakeHost host;
  host.route4("eth0", "192.0.2.0", "0.0.0.0", "255.255.255.0", 0x1)
      .route6(kV6Subnet)
      .route6(kV6LoReject)
      .iface("eth0", "up");
  const auto r = host.run();
  INFO(dump(r));
  CHECK(r.status() == Status::critical);
  const auto* f = r.finding(Severity::critical, "No default route");
  REQUIRE(f != nullptr);
  CHECK(f->remediation.find("ip route add default") != std::string::npos);
  CHECK(r.attributes.count("gateway") == 0);
}

TEST_CASE("route: a default route that is not up does not count", "[route]") {
  FakeHost host;
  host.route4("eth0", "0.0.0.0", "192.0.2.1", "0.0.0.0", 0x2).iface("eth0", "up");
  const auto r = host.run();
  INFO(dump(r));
  CHECK(r.finding(Severity::critical, "No default route") != nullptr);
}

TEST_CASE("route: the interface of the default route is down", "[route]") {
  FakeHost host;
  host.default4("eth0", "192.0.2.1")
      .iface("eth0", "down", "0x1002", "")
      .arp("192.0.2.1", "0x2", "02:fc:00:00:00:05", "eth0");
  const auto r = host.run();
  INFO(dump(r));
  CHECK(r.status() == Status::critical);
  const auto* f = r.finding(Severity::critical, "Interface down");
  REQUIRE(f != nullptr);
  CHECK(f->detail.find("'down'") != std::string::npos);
  CHECK(f->remediation.find("ip link set eth0 up") != std::string::npos);
  CHECK(r.attributes.at("interface") == "eth0");
}

TEST_CASE("route: the interface of the default route does not exist", "[route]") {
  FakeHost host;
  host.default4("eth9", "192.0.2.1").arp("192.0.2.1", "0x2", "02:fc:00:00:00:05", "eth9");
  const auto r = host.run();
  INFO(dump(r));
  CHECK(r.status() == Status::critical);
  const auto* f = r.finding(Severity::critical, "Interface down");
  REQUIRE(f != nullptr);
  CHECK(f->detail.find("does not exist") != std::string::npos);
}

TEST_CASE("route: operstate unknown is judged by flags and carrier", "[route]") {
  SECTION("up (a tun device)") {
    FakeHost host;
    host.default4("tun0", "10.8.0.1")
        .iface("tun0", "unknown", "0x1091", "1")
        .arp("10.8.0.1", "0x2", "00:00:00:00:00:00", "tun0");
    const auto r = host.run();
    INFO(dump(r));
    CHECK(r.status() == Status::ok);
  }
  SECTION("administratively down") {
    FakeHost host;
    host.default4("tun0", "10.8.0.1")
        .iface("tun0", "unknown", "0x1090", "")
        .arp("10.8.0.1", "0x2", "00:00:00:00:00:00", "tun0");
    const auto r = host.run();
    INFO(dump(r));
    CHECK(r.finding(Severity::critical, "Interface down") != nullptr);
  }
}

TEST_CASE("route: the gateway is not a complete neighbour", "[route]") {
  SECTION("no ARP entry") {
    FakeHost host;
    host.default4("eth0", "192.0.2.1").iface("eth0", "up");
    const auto r = host.run();
    INFO(dump(r));
    CHECK(r.status() == Status::warning);
    const auto* f = r.finding(Severity::warning, "Gateway not in neighbour table");
    REQUIRE(f != nullptr);
    CHECK(f->detail.find("no ARP entry for gateway 192.0.2.1") != std::string::npos);
    CHECK(r.attributes.at("gateway") == "192.0.2.1");
  }
  SECTION("incomplete ARP entry") {
    FakeHost host;
    host.default4("eth0", "192.0.2.1")
        .iface("eth0", "up")
        .arp("192.0.2.1", "0x0", "00:00:00:00:00:00", "eth0");
    const auto r = host.run();
    INFO(dump(r));
    CHECK(r.status() == Status::warning);
    const auto* f = r.finding(Severity::warning, "Gateway not in neighbour table");
    REQUIRE(f != nullptr);
    CHECK(f->detail.find("incomplete") != std::string::npos);
  }
  SECTION("entry on another interface") {
    FakeHost host;
    host.default4("eth0", "192.0.2.1")
        .iface("eth0", "up")
        .arp("192.0.2.1", "0x2", "02:fc:00:00:00:05", "eth1");
    const auto r = host.run();
    INFO(dump(r));
    CHECK(r.finding(Severity::warning, "Gateway not in neighbour table") != nullptr);
  }
}

TEST_CASE("route: the lowest metric default route wins", "[route]") {
  FakeHost host;
  host.default4("eth1", "198.51.100.1", 600)
      .default4("eth0", "192.0.2.1", 100)
      .iface("eth0", "up")
      .iface("eth1", "up")
      .arp("192.0.2.1", "0x2", "02:fc:00:00:00:05", "eth0");
  const auto r = host.run();
  INFO(dump(r));
  CHECK(r.status() == Status::ok);
  CHECK(r.attributes.at("gateway") == "192.0.2.1");
  REQUIRE(r.metric("default_routes") != nullptr);
  CHECK(r.metric("default_routes")->value == 2);
}

TEST_CASE("route: target names the interface the default route must use", "[route]") {
  FakeHost host;
  host.default4("eth0", "192.0.2.1")
      .iface("eth0", "up")
      .iface("eth1", "up")
      .arp("192.0.2.1", "0x2", "02:fc:00:00:00:05", "eth0");
  SECTION("the default route goes through it") {
    const auto r = host.run("eth0");
    INFO(dump(r));
    CHECK(r.status() == Status::ok);
  }
  SECTION("the default route goes elsewhere") {
    const auto r = host.run("eth1");
    INFO(dump(r));
    CHECK(r.status() == Status::critical);
    const auto* f = r.finding(Severity::critical, "No default route");
    REQUIRE(f != nullptr);
    CHECK(f->detail.find("via eth1") != std::string::npos);
    CHECK(f->detail.find("via 192.0.2.1 dev eth0") != std::string::npos);
    CHECK(f->remediation.find("dev eth1") != std::string::npos);
  }
}

TEST_CASE("route: IPv6 default routes", "[route]") {
  SECTION("IPv6 only") {
    FakeHost host;
    host.route6(kV6Subnet).route6(kV6Default).route6(kV6LoReject).iface("eth0", "up");
    const auto r = host.run();
    INFO(dump(r));
    CHECK(r.status() == Status::ok);
    CHECK(r.attributes.at("gateway") == "fd00::1");
    CHECK(r.attributes.at("family") == "ipv6");
  }
  SECTION("both families") {
    FakeHost host;
    host.default4("eth0", "192.0.2.1")
        .route6(kV6Default)
        .iface("eth0", "up")
        .arp("192.0.2.1", "0x2", "02:fc:00:00:00:05", "eth0");
    const auto r = host.run();
    INFO(dump(r));
    CHECK(r.status() == Status::ok);
    CHECK(r.attributes.at("gateway") == "192.0.2.1");
    CHECK(r.attributes.at("gateway6") == "fd00::1");
  }
}

TEST_CASE("route: bad params and unreadable tables end unknown", "[route]") {
  SECTION("no route table") {
    triage::test::TempDir empty;
    const auto r = triage::testing::run<RouteCheck>(
        {{"target", "default"}, {"proc_root", empty.path().string()}});
    CHECK(r.status() == Status::unknown);
    CHECK(r.error.find("net/route") != std::string::npos);
  }
  SECTION("a target that is no interface name") {
    const auto r = triage::testing::run<RouteCheck>({{"target", "../etc/passwd"}});
    CHECK(r.status() == Status::unknown);
    CHECK(r.error.find("'../etc/passwd'") != std::string::npos);
  }
}

TEST_CASE("route: this machine's own tables", "[route][host]") {
  const auto r = triage::testing::run<RouteCheck>({{"target", "default"}});
  INFO(dump(r));
  // It ran and judged; nothing is assumed about this machine's network.
  CHECK(r.error.empty());
  CHECK(r.status() != Status::unknown);
  CHECK(r.metric("routes") != nullptr);
  if (r.finding(Severity::critical, "No default route") == nullptr) {
    CHECK(r.attributes.count("gateway") == 1);
    CHECK(r.attributes.count("interface") == 1);
  }
}
