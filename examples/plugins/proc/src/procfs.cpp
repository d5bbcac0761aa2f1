#include "procfs.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace proc {

namespace fs = std::filesystem;

namespace {

std::string read_all(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::optional<pid_t> pid_of(const std::string& name) {
  if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) return {};
  return static_cast<pid_t>(std::stol(name));
}

}  // namespace

bool matches(const Process& p, std::string_view name) {
  return !name.empty() && (p.comm == name || p.argv0 == name);
}

std::vector<Process> find_processes(std::string_view name, const std::string& proc_root) {
  std::vector<Process> found;
  std::error_code ec;
  for (fs::directory_iterator it(proc_root, ec), end; !ec && it != end; it.increment(ec)) {
    const auto pid = pid_of(it->path().filename().string());
    if (!pid) continue;
    Process p;
    p.pid = *pid;
    p.comm = read_all(it->path() / "comm");
    if (!p.comm.empty() && p.comm.back() == '\n') p.comm.pop_back();
    // cmdline is NUL-separated; its first word is argv[0].
    const std::string cmdline = read_all(it->path() / "cmdline");
    const std::string argv0 = cmdline.substr(0, cmdline.find('\0'));
    p.argv0 = fs::path(argv0).filename().string();
    if (matches(p, name)) found.push_back(std::move(p));
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.pid < b.pid; });
  return found;
}

std::optional<std::uint64_t> open_fds(pid_t pid, std::string& why, const std::string& proc_root) {
  std::error_code ec;
  std::uint64_t count = 0;
  const fs::path dir = fs::path(proc_root) / std::to_string(pid) / "fd";
  fs::directory_iterator it(dir, ec);
  for (fs::directory_iterator end; !ec && it != end; it.increment(ec)) ++count;
  if (ec) {
    why = ec.message();
    return {};
  }
  return count;
}

std::optional<std::uint64_t> open_file_limit(pid_t pid, const std::string& proc_root) {
  std::ifstream in(fs::path(proc_root) / std::to_string(pid) / "limits");
  std::string line;
  // "Max open files            1024                 1048576              files"
  static constexpr std::string_view kKey = "Max open files";
  while (std::getline(in, line)) {
    if (line.compare(0, kKey.size(), kKey) != 0) continue;
    std::istringstream words(line.substr(kKey.size()));
    std::string soft;
    words >> soft;
    if (soft.empty() || soft.find_first_not_of("0123456789") != std::string::npos) return {};
    return std::stoull(soft);
  }
  return {};
}

}  // namespace proc
