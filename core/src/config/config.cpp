#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <system_error>

#include "triage/core/config.hpp"

namespace triage::core {

Isolation Config::isolation_of(const std::string& plugin) const {
  const auto it = plugins.find(plugin);
  if (it != plugins.end() && it->second.isolation) return *it->second.isolation;
  return defaults.isolation;
}

std::string SourceLocation::where() const {
  return line > 0 ? file + ":" + std::to_string(line) : file;
}

void resolve_references(Config& config) {
  for (auto& check : config.checks) {
    if (!check.references.empty()) {
      auto params = check.params;  // left as it was if a reference fails
      for (const auto& ref : check.references) {
        auto& value = params.at(ref.pointer);
        try {
          value = substitute_references(value.get_ref<const std::string&>(),
                                        std::filesystem::path(ref.location.file).parent_path(),
                                        config.secrets);
        } catch (const ReferenceError& e) {
          throw ConfigError(ref.location.where() + ": " + ref.key + ": " + e.what());
        }
      }
      check.params = std::move(params);
      check.references.clear();
      const auto target = check.params.find("target");
      if (target != check.params.end() && target->is_string()) {
        check.target = *target;
        if (const auto problem = target_problem(check.target))
          throw ConfigError(check.params_location.where() + ": checks[" + check.base_id +
                            "].params.target: " + *problem);
      }
    }
    if (!check.target_error.empty()) throw ConfigError(check.target_error);
  }
}

std::string read_config_text(int fd, const std::string& source) {
  std::string text;
  std::array<char, 65536> buf{};
  for (;;) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      throw ConfigError(source + ": cannot read the config (" +
                        std::generic_category().message(errno) + ")");
    if (n == 0) return text;
    text.append(buf.data(), static_cast<std::size_t>(n));
    if (text.size() > kMaxConfigFileBytes)
      throw ConfigError(source + ": the config is larger than " +
                        std::to_string(kMaxConfigFileBytes >> 20) + " MiB; that is the limit");
  }
}

std::optional<std::string> target_problem(std::string_view target) {
  if (const auto scheme = target.find("://"); scheme != std::string_view::npos) {
    const auto rest = target.substr(scheme + 3);
    const auto authority = rest.substr(0, rest.find_first_of("/?#"));
    if (authority.find('@') != std::string_view::npos)
      return "a URL with credentials (user:password@) is refused: they would show in the "
             "report, in triage list and in ids; give them in a secret param instead (for "
             "http: headers: { Authorization: \"Basic ${env:API_BASIC}\" })";
  }
  // (Not quoted: a target may come from a secret.)
  if (escape_control(target) != target)
    return "contains a control character, bidi control or line separator; a target is part of "
           "the check's id, shown on terminals";
  return std::nullopt;
}

Config load_config(const std::filesystem::path& path) {
  // Opened without blocking (a FIFO with no writer would wait forever), then
  // judged by what was opened: a regular file, of a bounded size.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    throw ConfigError(path.string() + ": cannot read the config file (" +
                      std::generic_category().message(errno) + ")");
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
    throw ConfigError(path.string() + ": " +
                      (S_ISDIR(st.st_mode) ? "is a directory" : "is not a regular file") +
                      ", not a config file (-c - reads standard input)");
  if (static_cast<std::uintmax_t>(st.st_size) > kMaxConfigFileBytes)
    throw ConfigError(path.string() + ": the config is larger than " +
                      std::to_string(kMaxConfigFileBytes >> 20) + " MiB; that is the limit");
  return parse_config(read_config_text(fd, path.string()), path.string());
}

std::optional<std::string> closest_match(const std::string& word,
                                         const std::vector<std::string>& candidates) {
  // Edit distance counting a swap of neighbours as one edit (typos like
  // "dsn"); close means at most a third of the word's length.
  auto distance = [](const std::string& a, const std::string& b) {
    std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
    for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
    for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i)
      for (std::size_t j = 1; j <= b.size(); ++j) {
        d[i][j] = std::min(
            {d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1] ? 1 : 0)});
        if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
          d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    return d[a.size()][b.size()];
  };
  // Names are short: a huge word suggests nothing (its distance table alone
  // would cost word × candidate bytes).
  constexpr std::size_t kLongest = 256;
  if (word.size() > kLongest) return std::nullopt;
  std::optional<std::string> best;
  std::size_t best_distance = std::max<std::size_t>(1, word.size() / 3) + 1;
  for (const auto& c : candidates) {
    const std::size_t gap =
        c.size() > word.size() ? c.size() - word.size() : word.size() - c.size();
    if (c.size() > kLongest || gap >= best_distance) continue;  // too far in length alone
    const auto d = distance(word, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  return best;
}

}  // namespace triage::core
