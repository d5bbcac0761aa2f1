#include "mounts.hpp"

#include <array>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace triage::storage {

namespace {

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    const std::size_t end = s.find(sep, start);
    if (end == std::string_view::npos) {
      out.push_back(s.substr(start));
      break;
    }
    out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

bool has_option(std::string_view options, std::string_view option) {
  for (const auto o : split(options, ','))
    if (o == option) return true;
  return false;
}

bool is_octal(char c) {
  return c >= '0' && c <= '7';
}

}  // namespace

std::string unescape_mount_path(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && is_octal(s[i + 1]) && is_octal(s[i + 2]) &&
        is_octal(s[i + 3])) {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::vector<Mount> parse_mountinfo(std::string_view text) {
  std::vector<Mount> mounts;
  for (const auto line : split(text, '\n')) {
    if (line.empty()) continue;
    // id parent major:minor root mount-point options [optional...] - type source super-options
    const auto fields = split(line, ' ');
    std::size_t dash = 0;
    for (std::size_t i = 6; i < fields.size(); ++i)
      if (fields[i] == "-") {
        dash = i;
        break;
      }
    if (dash == 0 || dash + 3 > fields.size()) continue;
    Mount m;
    m.dev_id = std::string(fields[2]);
    m.root = unescape_mount_path(fields[3]);
    m.mount_point = unescape_mount_path(fields[4]);
    m.fs_type = unescape_mount_path(fields[dash + 1]);
    m.device = unescape_mount_path(fields[dash + 2]);
    const std::string_view super = dash + 3 < fields.size() ? fields[dash + 3] : "";
    m.read_only = has_option(fields[5], "ro") || has_option(super, "ro");
    mounts.push_back(std::move(m));
  }
  return mounts;
}

std::vector<Mount> read_mounts() {
  std::ifstream in("/proc/self/mountinfo");
  if (!in) throw std::runtime_error("cannot read /proc/self/mountinfo");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_mountinfo(text.str());
}

std::string lexical_normal(std::string_view path) {
  std::vector<std::string_view> parts;
  for (const auto p : split(path, '/')) {
    if (p.empty() || p == ".") continue;
    if (p == "..") {
      if (!parts.empty()) parts.pop_back();
      continue;
    }
    parts.push_back(p);
  }
  std::string out;
  for (const auto p : parts) {
    out += '/';
    out += p;
  }
  return out.empty() ? "/" : out;
}

const Mount* mount_of(const std::vector<Mount>& mounts, std::string_view path) {
  const Mount* best = nullptr;
  for (const auto& m : mounts) {
    const std::string_view mp = m.mount_point;
    const bool prefix = mp == "/" || (path.substr(0, mp.size()) == mp &&
                                      (path.size() == mp.size() || path[mp.size()] == '/'));
    // ">=": of two mounts on the same point, the later one hides the earlier.
    if (prefix && (best == nullptr || mp.size() >= best->mount_point.size())) best = &m;
  }
  return best;
}

bool is_pseudo(const Mount& m, bool include_tmpfs) {
  static constexpr std::array<std::string_view, 27> kPseudo = {
      "proc",        "sysfs",     "cgroup",     "cgroup2",     "devpts",     "mqueue",
      "debugfs",     "tracefs",   "securityfs", "pstore",      "bpf",        "configfs",
      "fusectl",     "hugetlbfs", "autofs",     "binfmt_misc", "rpc_pipefs", "nsfs",
      "efivarfs",    "selinuxfs", "nfsd",       "squashfs",    "fuse.lxcfs", "fuse.gvfsd-fuse",
      "fuse.portal", "iso9660",   "ramfs"};
  for (const auto t : kPseudo)
    if (m.fs_type == t) return t != "ramfs" || !include_tmpfs;
  if (m.fs_type == "tmpfs" || m.fs_type == "devtmpfs") return !include_tmpfs;
  if (m.fs_type == "overlay") return m.mount_point != "/";
  return false;
}

}  // namespace triage::storage
