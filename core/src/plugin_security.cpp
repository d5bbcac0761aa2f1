// Permission checks on plugin files before they are loaded.
#include "triage/core/plugin_security.hpp"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <set>
#include <utility>
#include <vector>

namespace triage::core {

namespace {

constexpr const char* kOverride = "--allow-insecure-plugins";

std::string octal_mode(mode_t mode) {
  std::array<char, 16> buf{};
  std::snprintf(buf.data(), buf.size(), "%04o", static_cast<unsigned>(mode & 07777));
  return buf.data();
}

std::string user_name(uid_t uid) {
  passwd pw{};
  passwd* found = nullptr;
  std::array<char, 4096> buf{};
  if (getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) == 0 && found != nullptr &&
      found->pw_name != nullptr)
    return found->pw_name;
  return {};
}

std::string uid_text(uid_t uid) {
  const std::string name = user_name(uid);
  return "uid " + std::to_string(uid) + (name.empty() ? "" : " (" + name + ")");
}

// What is wrong with one path, and how to fix it.
struct Problem {
  std::string what;  // "writable by others (mode 0666)"
  std::string fix;   // "chmod go-w FILE"; "" when there is no simple one
};

std::optional<Problem> check_path(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return Problem{std::string("cannot be checked (") + std::strerror(errno) + ")", ""};
  const uid_t me = geteuid();
  if (st.st_uid != 0 && st.st_uid != me) {
    const std::string name = me == 0 ? "root" : user_name(me);
    return Problem{"owned by " + uid_text(st.st_uid) +
                       ", not by root or the user running triage (" + uid_text(me) + ")",
                   "chown " + (name.empty() ? std::to_string(me) : name) + " " + path.string()};
  }
  if ((st.st_mode & (S_IWOTH | S_IWGRP)) != 0)
    return Problem{
        std::string((st.st_mode & S_IWOTH) != 0 ? "writable by others" : "writable by group") +
            " (mode " + octal_mode(st.st_mode) + ")",
        "chmod go-w " + path.string()};
  return std::nullopt;
}

std::filesystem::path folder_of(const std::filesystem::path& file) {
  const auto parent = file.parent_path();
  return parent.empty() ? std::filesystem::path(".") : parent;
}

}  // namespace

std::optional<std::string> insecure_plugin_reason(const std::filesystem::path& file) {
  struct stat link {};
  if (::lstat(file.c_str(), &link) != 0)
    return std::string("cannot be checked (") + std::strerror(errno) + "); pass " + kOverride +
           " to load it anyway";
  // Each path with how the reason names it ("" for the plugin file itself).
  std::vector<std::pair<std::filesystem::path, std::string>> paths;
  const auto folder = folder_of(file);
  if (S_ISLNK(link.st_mode)) {
    // Who may replace the link, and who may change or replace what it leads to.
    std::error_code ec;
    const auto target = std::filesystem::canonical(file, ec);
    if (ec)
      return "a symbolic link that cannot be followed (" + ec.message() + "); pass " + kOverride +
             " to load it anyway";
    paths.emplace_back(folder, "its folder " + folder.string());
    paths.emplace_back(target, "its link target " + target.string());
    paths.emplace_back(folder_of(target),
                       "the folder of its link target " + folder_of(target).string());
  } else {
    paths.emplace_back(file, "");
    paths.emplace_back(folder, "its folder " + folder.string());
  }
  for (const auto& [path, subject] : paths) {
    const auto problem = check_path(path);
    if (!problem) continue;
    if (problem->fix.empty())  // it could not be checked at all
      return (subject.empty() ? "" : subject + ": ") + problem->what + "; pass " + kOverride +
             " to load it anyway";
    return (subject.empty() ? "" : subject + " is ") + problem->what +
           "; fix with: " + problem->fix + ", or pass " + kOverride;
  }
  return std::nullopt;
}

bool first_insecure_warning(const std::filesystem::path& file) {
  static std::mutex mutex;
  static std::set<std::filesystem::path> warned;
  std::lock_guard lock(mutex);
  return warned.insert(file).second;
}

}  // namespace triage::core
