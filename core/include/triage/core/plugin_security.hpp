// Refuses plugin files that someone other than root or the user running
// triage could have written, as OpenSSH's StrictModes does for keys: loading
// a shared library runs its code with our privileges.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace triage::core {

// A plugin file opened once, walking its path from / one folder at a time
// through descriptors (O_NOFOLLOW; symbolic links resolved by hand, at most
// 40), so that what is checked is what gets loaded: load it through
// load_path(), never by its name again. Closes the descriptor when it goes.
class PluginFile {
 public:
  static PluginFile open(const std::filesystem::path& file);
  ~PluginFile();
  PluginFile(PluginFile&& other) noexcept;
  PluginFile& operator=(PluginFile&&) = delete;  // NOLINT: moved only to return
  PluginFile(const PluginFile&) = delete;

  // Opened (O_RDONLY|O_CLOEXEC) as a regular file; else `problem` says why.
  bool opened() const { return fd_ >= 0; }
  // Why the file may have been modified by someone other than root or the
  // user running triage, with the fix, in one line ("writable by others
  // (mode 0666); fix with: chmod go-w FILE, or pass --allow-insecure-plugins"),
  // or why it could not be opened; nullopt when it is safe to load.
  const std::optional<std::string>& problem() const { return problem_; }
  // "/proc/self/fd/N": the opened file, for dlopen.
  std::string load_path() const;
  // Once a library is loaded from load_path(), that path is its name to the
  // dynamic loader, which matches names before files: the descriptor must
  // then stay open for the life of the process, so that the number never
  // names another file. (One descriptor per plugin loaded, close-on-exec.)
  void keep_open() { keep_ = true; }

 private:
  PluginFile() = default;
  int fd_ = -1;
  bool keep_ = false;
  std::optional<std::string> problem_;
};

// PluginFile::open(file).problem(). Unsafe: the file, the folder it is in, or
// (for a symbolic link) the link's folder, the file it leads to or that
// file's folder is writable by group or others or owned by a user other than
// root or the current (effective) user; or any folder above them up to / is,
// unless it is sticky and owned by root (like /tmp) — OpenSSH's StrictModes.
std::optional<std::string> insecure_plugin_reason(const std::filesystem::path& file);

// True the first time it is called for a file in this process: for warning
// once per file about an insecure plugin loaded anyway. Thread-safe.
bool first_insecure_warning(const std::filesystem::path& file);

}  // namespace triage::core
