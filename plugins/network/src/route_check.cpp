// The route check: reads the kernel's routing tables from /proc for the
// default route, then checks its interface (sysfs) and, for IPv4, that the
// gateway is a complete entry of the ARP table. It sends no packets.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "checks.hpp"
#include "net_util.hpp"

namespace triage::network {

const char* const RouteCheck::params_schema = R"json({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "route check params",
  "type": "object",
  "properties": {
    "target": {
      "type": "string",
      "pattern": "^[A-Za-z0-9_.@-]{1,15}$",
      "description": "\"default\" for any default route, or an interface name (e.g. \"eth0\") to require the default route to go through that interface."
    },
    "proc_root": {
      "type": "string",
      "minLength": 1,
      "default": "/proc",
      "description": "Where procfs is mounted (net/route, net/ipv6_route, net/arp are read below it); for tests and for checking a host's network from a container with the host's /proc mounted elsewhere."
    },
    "sys_root": {
      "type": "string",
      "minLength": 1,
      "default": "/sys",
      "description": "Where sysfs is mounted (class/net/IF/operstate and flags are read below it); same use as proc_root."
    }
  },
  "required": ["target"],
  "additionalProperties": false
})json";

namespace {
constexpr MetricDecl kMetrics[] = {
    metric("routes", "", "Usable routes (up, not reject) in the IPv4 and IPv6 tables")
        .remediation("Routes are missing: compare ip route / ip -6 route with the host's "
                     "network configuration (netplan, ifupdown, NetworkManager) and its DHCP "
                     "lease."),
    metric("default_routes", "",
           "Usable default routes (through `target` when it names an interface)")
        .remediation("Restore the default route (ip route add default via GATEWAY dev IF) and "
                     "fix where it should come from: the DHCP lease or the static network "
                     "configuration."),
};
}  // namespace

const Metrics RouteCheck::metrics{kMetrics};

namespace {

constexpr unsigned kRtfUp = 0x0001;      // RTF_UP
constexpr unsigned kRtfReject = 0x0200;  // RTF_REJECT
constexpr unsigned kAtfComplete = 0x02;  // ATF_COM
constexpr unsigned kIffUp = 0x1;         // IFF_UP

struct DefaultRoute {
  int family = AF_INET;
  std::string iface;
  std::string gateway;  // empty when the route has no gateway (on-link)
  std::uint32_t metric = 0;
};

struct Table {
  std::vector<DefaultRoute> defaults;  // every usable default route
  int routes = 0;                      // usable routes of any destination
};

std::optional<std::uint32_t> hex32(const std::string& text) {
  if (text.empty() || text.size() > 8) return std::nullopt;
  std::uint32_t v = 0;
  for (char c : text) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
    v = v * 16 +
        static_cast<std::uint32_t>(std::isdigit(static_cast<unsigned char>(c))
                                       ? c - '0'
                                       : std::tolower(static_cast<unsigned char>(c)) - 'a' + 10);
  }
  return v;
}

// IPv4 as /proc/net/route prints it: the address's 32 bits in host order.
std::string ipv4_from_proc(std::uint32_t raw) {
  in_addr a{};
  a.s_addr = raw;
  char buf[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &a, buf, sizeof buf);
  return buf;
}

// IPv6 as /proc/net/ipv6_route prints it: 32 hex digits in network order.
std::optional<std::string> ipv6_from_proc(const std::string& hex) {
  if (hex.size() != 32) return std::nullopt;
  in6_addr a{};
  for (int i = 0; i < 16; ++i) {
    auto byte = hex32(hex.substr(static_cast<std::size_t>(i) * 2, 2));
    if (!byte) return std::nullopt;
    a.s6_addr[i] = static_cast<std::uint8_t>(*byte);
  }
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(AF_INET6, &a, buf, sizeof buf);
  return std::string(buf);
}

// /proc/net/route: Iface Destination Gateway Flags RefCnt Use Metric Mask ...
void read_ipv4(std::istream& in, Table& table) {
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string iface, dest, gw, flags, refcnt, use, metric, mask;
    if (!(fields >> iface >> dest >> gw >> flags >> refcnt >> use >> metric >> mask)) continue;
    const auto d = hex32(dest), g = hex32(gw), f = hex32(flags), m = hex32(mask);
    if (!d || !g || !f || !m) continue;
    if ((*f & kRtfUp) == 0 || (*f & kRtfReject) != 0) continue;
    ++table.routes;
    if (*d != 0 || *m != 0) continue;
    DefaultRoute r;
    r.family = AF_INET;
    r.iface = iface;
    r.gateway = *g != 0 ? ipv4_from_proc(*g) : std::string();
    r.metric = static_cast<std::uint32_t>(std::strtoul(metric.c_str(), nullptr, 10));
    table.defaults.push_back(r);
  }
}

// /proc/net/ipv6_route: dest plen src plen next_hop metric refcnt use flags iface
void read_ipv6(std::istream& in, Table& table) {
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string dest, plen, src, splen, hop, metric, refcnt, use, flags, iface;
    if (!(fields >> dest >> plen >> src >> splen >> hop >> metric >> refcnt >> use >> flags >>
          iface))
      continue;
    const auto f = hex32(flags), p = hex32(plen), m = hex32(metric);
    const auto d = ipv6_from_proc(dest), h = ipv6_from_proc(hop);
    if (!f || !p || !m || !d || !h) continue;
    if ((*f & kRtfUp) == 0 || (*f & kRtfReject) != 0) continue;
    ++table.routes;
    if (*p != 0 || *d != "::") continue;
    DefaultRoute r;
    r.family = AF_INET6;
    r.iface = iface;
    r.gateway = *h != "::" ? *h : std::string();
    r.metric = *m;
    table.defaults.push_back(r);
  }
}

std::optional<std::string> read_first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return std::nullopt;
  while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
  return line;
}

struct IfaceState {
  bool exists = false;
  bool up = false;
  std::string evidence;  // "operstate 'down', flags 0x1002"
};

IfaceState interface_state(const std::string& sys_root, const std::string& iface) {
  IfaceState s;
  const std::string dir = sys_root + "/class/net/" + iface;
  const auto oper = read_first_line(dir + "/operstate");
  const auto flags_text = read_first_line(dir + "/flags");
  if (!oper && !flags_text) return s;
  s.exists = true;
  std::optional<std::uint32_t> flags;
  if (flags_text) {
    std::string hex = *flags_text;
    if (hex.rfind("0x", 0) == 0) hex = hex.substr(2);
    flags = hex32(hex);
  }
  s.evidence = "operstate '" + oper.value_or("?") + "'";
  if (flags_text) s.evidence += ", flags " + *flags_text;
  if (oper == "up") {
    s.up = true;
  } else if (!oper || oper == "unknown") {
    // Loopback, tun and some virtual devices never report an operstate:
    // judge them by IFF_UP and the carrier (readable only while up).
    const auto carrier = read_first_line(dir + "/carrier");
    if (carrier) s.evidence += ", carrier " + *carrier;
    s.up = (!flags || (*flags & kIffUp) != 0) && carrier.value_or("1") != "0";
  }
  return s;
}

struct Neighbour {
  bool found = false;
  bool complete = false;
  std::string flags, hw_address;
};

// /proc/net/arp: IP address, HW type, Flags, HW address, Mask, Device
std::optional<Neighbour> arp_lookup(const std::string& path, const std::string& ip,
                                    const std::string& iface) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  Neighbour best;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string addr, hw_type, flags, hw, mask, device;
    if (!(fields >> addr >> hw_type >> flags >> hw >> mask >> device)) continue;
    if (addr != ip || device != iface) continue;
    std::string hex = flags.rfind("0x", 0) == 0 ? flags.substr(2) : flags;
    const auto f = hex32(hex);
    best.found = true;
    best.flags = flags;
    best.hw_address = hw;
    best.complete = f && (*f & kAtfComplete) != 0;
    if (best.complete) break;
  }
  return best;
}

bool valid_iface_name(const std::string& name) {
  return !name.empty() && name.size() <= 15 && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '@' ||
           c == '-';
  });
}

std::string describe(const DefaultRoute& r) {
  return (r.gateway.empty() ? std::string("on-link") : "via " + r.gateway) + " dev " + r.iface;
}

}  // namespace

void RouteCheck::run(Context& ctx) {
  const std::string target = ctx.target();
  if (!valid_iface_name(target))
    throw ParamError("invalid target '" + target +
                     "': expected \"default\" or an interface name such as eth0");
  const std::string proc_root = ctx.param<std::string>("proc_root", "/proc");
  const std::string sys_root = ctx.param<std::string>("sys_root", "/sys");
  const bool any_iface = target == "default";

  Table table;
  const std::string route_path = proc_root + "/net/route";
  {
    std::ifstream in(route_path);
    if (!in) return ctx.error("cannot read " + route_path + ": " + errno_text(errno));
    read_ipv4(in, table);
  }
  {
    std::ifstream in(proc_root + "/net/ipv6_route");  // absent when IPv6 is disabled
    if (in) read_ipv6(in, table);
  }
  ctx.metric("routes", table.routes);

  // The best (lowest metric) default route of each family, through target if named.
  std::optional<DefaultRoute> v4, v6;
  std::vector<std::string> elsewhere;
  for (const auto& r : table.defaults) {
    if (!any_iface && r.iface != target) {
      elsewhere.push_back(describe(r));
      continue;
    }
    auto& best = r.family == AF_INET ? v4 : v6;
    if (!best || r.metric < best->metric) best = r;
  }
  ctx.metric("default_routes", static_cast<double>(table.defaults.size() - elsewhere.size()));

  if (!v4 && !v6) {
    std::string detail = any_iface ? "no default route (0.0.0.0/0 or ::/0) in " + route_path +
                                         " or " + proc_root + "/net/ipv6_route"
                                   : "no default route via " + target;
    if (!elsewhere.empty()) {
      detail += "; the default route goes ";
      for (std::size_t i = 0; i < elsewhere.size(); ++i)
        detail += (i == 0 ? "" : ", ") + elsewhere[i];
    }
    const std::string dev = any_iface ? "IFACE" : target;
    ctx.finding(Severity::critical, "No default route", detail,
                "Traffic to other networks has nowhere to go: check DHCP on " + dev +
                    " (journalctl -u systemd-networkd / NetworkManager) or add it: ip route add "
                    "default via GATEWAY dev " +
                    dev);
    ctx.status(Status::critical, any_iface ? "no default route" : "no default route via " + target);
    return;
  }

  const DefaultRoute& primary = v4 ? *v4 : *v6;
  ctx.attribute("gateway", primary.gateway.empty() ? "none" : primary.gateway);
  ctx.attribute("interface", primary.iface);
  ctx.attribute("family", primary.family == AF_INET ? "ipv4" : "ipv6");
  if (v4 && v6) {
    ctx.attribute("gateway6", v6->gateway.empty() ? "none" : v6->gateway);
    ctx.attribute("interface6", v6->iface);
  }

  std::vector<std::string> problems;
  bool critical = false;
  std::vector<std::string> checked_ifaces;
  for (const auto* r : {v4 ? &*v4 : nullptr, v6 ? &*v6 : nullptr}) {
    if (r == nullptr) continue;
    if (std::find(checked_ifaces.begin(), checked_ifaces.end(), r->iface) != checked_ifaces.end())
      continue;
    checked_ifaces.push_back(r->iface);
    const IfaceState st = interface_state(sys_root, r->iface);
    if (st.up) continue;
    critical = true;
    const std::string detail = st.exists ? "interface " + r->iface + " of the default route (" +
                                               describe(*r) + ") is down: " + st.evidence
                                         : "interface " + r->iface + " of the default route (" +
                                               describe(*r) + ") does not exist (no " + sys_root +
                                               "/class/net/" + r->iface + ")";
    ctx.finding(Severity::critical, "Interface down", detail,
                st.exists
                    ? "Bring it up: ip link set " + r->iface +
                          " up; if it stays down check the cable and link (ethtool " + r->iface +
                          ", ip -s link show " + r->iface + ") or the virtual NIC's host side"
                    : "The route points at a missing device: check the network "
                      "configuration (ip link, ip route) and restart networking");
    problems.push_back("interface " + r->iface + " down");
  }

  // IPv4 gateway in the ARP table (IPv6 neighbours are not in /proc).
  if (v4 && !v4->gateway.empty()) {
    const std::string arp_path = proc_root + "/net/arp";
    const auto n = arp_lookup(arp_path, v4->gateway, v4->iface);
    if (!n) {
      ctx.log(LogLevel::warning, "cannot read " + arp_path + "; gateway neighbour not checked");
    } else if (n->complete) {
      ctx.attribute("gateway_mac", n->hw_address);
    } else {
      const std::string detail =
          n->found ? "the ARP entry for gateway " + v4->gateway + " on " + v4->iface +
                         " is incomplete (flags " + n->flags + ", " + n->hw_address +
                         "): the gateway did not answer ARP"
                   : "no ARP entry for gateway " + v4->gateway + " on " + v4->iface + " in " +
                         arp_path + ": it has not been reached recently or does not answer ARP";
      ctx.finding(Severity::warning, "Gateway not in neighbour table", detail,
                  "Try to reach it and look again: ping -c1 " + v4->gateway + "; ip neigh show " +
                      v4->gateway +
                      ". If it stays INCOMPLETE/FAILED, check cabling, the VLAN and the "
                      "gateway itself");
      problems.push_back("gateway " + v4->gateway + " not in neighbour table");
    }
  }

  std::string summary = "default " + describe(primary);
  if (v4 && v6) summary += ", IPv6 default " + describe(*v6);
  for (std::size_t i = 0; i < problems.size(); ++i) summary += (i == 0 ? ": " : ", ") + problems[i];
  ctx.status(critical           ? Status::critical
             : problems.empty() ? Status::ok
                                : Status::warning,
             summary);
}

}  // namespace triage::network
