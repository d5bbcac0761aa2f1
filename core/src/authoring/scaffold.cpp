// Fills the embedded templates in and writes the project, refusing to write
// over anything that is already there.
//
// Nothing is ever overwritten, and no planted symbolic link is followed:
// the project folder is created by us (mkdirat) or must already belong to
// the user running triage and be empty; it is opened with O_NOFOLLOW and
// every subfolder and file is created relative to a descriptor of its
// parent folder (mkdirat, then openat O_DIRECTORY|O_NOFOLLOW; files with
// O_CREAT|O_EXCL|O_NOFOLLOW), so a name that appears meanwhile (a file, a
// folder, a symbolic link to anything) makes the write fail, naming it. On
// failure what we created is removed again and nothing else is touched.
#include "triage/core/scaffold.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <regex>
#include <utility>

namespace triage::core::scaffold {

namespace {

namespace fs = std::filesystem;

std::string replace_all(std::string text, std::string_view from, std::string_view to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

// A file descriptor, closed at the end of its scope.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  // Closes it now; false (errno set) when close() reported an error.
  bool close() { return ::close(std::exchange(fd_, -1)) == 0; }

 private:
  int fd_ = -1;
};

std::string errno_text(int e) {
  return std::strerror(e);
}

// What is at dirfd/name, without following a symbolic link: "a symbolic
// link", "a folder", ... for error messages.
std::string kind_of(int dirfd, const std::string& name) {
  struct stat st {};
  if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return "";
  if (S_ISLNK(st.st_mode)) return " (a symbolic link)";
  if (S_ISDIR(st.st_mode)) return " (a folder)";
  if (S_ISREG(st.st_mode)) return " (a file)";
  return " (a special file)";
}

// The names in the folder open at dirfd, sorted ("." and ".." left out).
std::vector<std::string> entries_of(int dirfd) {
  std::vector<std::string> names;
  const int copy = ::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (copy < 0) return names;
  DIR* d = ::fdopendir(copy);
  if (d == nullptr) {
    ::close(copy);
    return names;
  }
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

// Opens the folder `name` in dirfd without following a symbolic link, and
// checks that it belongs to the user running us. `shown` names it in errors.
Fd open_own_folder(int dirfd, const std::string& name, const fs::path& shown) {
  Fd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) {
    const int e = errno;
    // O_DIRECTORY|O_NOFOLLOW on a link gives ENOTDIR (or ELOOP): look.
    struct stat st {};
    const bool link =
        e == ELOOP ||
        (e == ENOTDIR && ::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
         S_ISLNK(st.st_mode));
    if (link)
      throw ScaffoldError(shown.string() +
                          " is a symbolic link: refusing to follow it (give the real folder)");
    if (e == ENOTDIR) throw ScaffoldError(shown.string() + " exists and is not a folder");
    throw ScaffoldError("cannot open " + shown.string() + ": " + errno_text(e));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0)
    throw ScaffoldError("cannot read " + shown.string() + ": " + errno_text(errno));
  if (st.st_uid != ::geteuid())
    throw ScaffoldError(shown.string() + " belongs to uid " + std::to_string(st.st_uid) +
                        ", not to you (uid " + std::to_string(::geteuid()) +
                        "): refusing to write into a folder another user controls");
  return fd;
}

// Writes all of text to fd.
bool write_all(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

// Writes the project under one folder descriptor and remembers what it
// created, so that a failure can take exactly that away again.
class Writer {
 public:
  Writer(const fs::path& shown, Fd top) : shown_(shown) { folders_.emplace("", std::move(top)); }
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Creates dir/relative (a/b/file) and its folders; never replaces anything.
  void create(const std::string& relative, const std::string& content) {
    std::string folder;  // relative path of the folder the file goes in
    std::size_t from = 0;
    for (auto slash = relative.find('/'); slash != std::string::npos;
         slash = relative.find('/', from)) {
      const std::string name = relative.substr(from, slash - from);
      const std::string path = folder.empty() ? name : folder + "/" + name;
      if (folders_.count(path) == 0) make_folder(folder, name, path);
      folder = path;
      from = slash + 1;
    }
    const std::string leaf = relative.substr(from);
    const int dirfd = folders_.at(folder).get();
    const fs::path shown = shown_ / relative;
    Fd fd(
        ::openat(dirfd, leaf.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666));
    if (!fd) {
      const int e = errno;
      if (e == EEXIST || e == ELOOP)
        throw ScaffoldError(shown.string() + " already exists" + kind_of(dirfd, leaf) +
                            ": refusing to overwrite it (nothing is ever overwritten)");
      throw ScaffoldError("cannot create " + shown.string() + ": " + errno_text(e));
    }
    files_.emplace_back(folder, leaf);
    if (!write_all(fd.get(), content)) {
      const int e = errno;
      throw ScaffoldError("cannot write " + shown.string() + ": " + errno_text(e));
    }
    if (!fd.close())
      throw ScaffoldError("cannot write " + shown.string() + ": " + errno_text(errno));
  }

  // Removes what create() made, newest first; leaves everything else.
  void undo() {
    for (auto it = files_.rbegin(); it != files_.rend(); ++it)
      ::unlinkat(folders_.at(it->first).get(), it->second.c_str(), 0);
    for (auto it = made_.rbegin(); it != made_.rend(); ++it) {
      folders_.erase(it->path);
      ::unlinkat(folders_.at(it->parent).get(), it->name.c_str(), AT_REMOVEDIR);
    }
    files_.clear();
    made_.clear();
  }

 private:
  struct Made {
    std::string parent, name, path;
  };

  void make_folder(const std::string& parent, const std::string& name, const std::string& path) {
    const int dirfd = folders_.at(parent).get();
    const fs::path shown = shown_ / path;
    if (::mkdirat(dirfd, name.c_str(), 0777) != 0) {
      const int e = errno;
      if (e == EEXIST)
        throw ScaffoldError(shown.string() + " already exists" + kind_of(dirfd, name) +
                            ": refusing to write into it (nothing is ever overwritten)");
      throw ScaffoldError("cannot create " + shown.string() + ": " + errno_text(e));
    }
    made_.push_back({parent, name, path});
    folders_.emplace(path, open_own_folder(dirfd, name, shown));
  }

  fs::path shown_;
  std::map<std::string, Fd> folders_;                       // relative path -> open folder
  std::vector<std::pair<std::string, std::string>> files_;  // (folder, name) we created
  std::vector<Made> made_;                                  // folders we created
};

}  // namespace

bool valid_name(std::string_view name) {
  static const std::regex kName("[a-z][a-z0-9_-]*");
  return std::regex_match(name.begin(), name.end(), kName);
}

std::vector<File> files(std::string_view name) {
  std::string ident(name);
  for (auto& c : ident)
    if (c == '-') c = '_';
  std::vector<File> out;
  for (const auto& t : templates())
    out.push_back({t.path, replace_all(replace_all(t.content, "@NAME@", name), "@IDENT@", ident)});
  return out;
}

std::vector<fs::path> write(std::string_view name, const fs::path& dir) {
  if (!valid_name(name))
    throw ScaffoldError("invalid plugin name '" + std::string(name) +
                        "': use a lower-case letter, then lower-case letters, digits, '_' or '-'");
  if (dir.empty()) throw ScaffoldError("no project folder given");
  const auto project = files(name);

  // The folder above the project: created when missing (it is the user's
  // own path, followed as given); the project folder itself never follows
  // a symbolic link.
  fs::path folder = dir.lexically_normal();
  if (!folder.has_filename() && folder.has_relative_path()) folder = folder.parent_path();
  const std::string leaf = folder.filename().string();
  Fd top;
  Fd parent;
  bool created = false;
  if (leaf.empty() || leaf == "." || leaf == "..") {
    // ".", "..", "/": an existing folder, opened as named.
    Fd fd(::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) throw ScaffoldError("cannot open " + dir.string() + ": " + errno_text(errno));
    top = open_own_folder(fd.get(), ".", dir);
  } else {
    const fs::path above = folder.has_parent_path() ? folder.parent_path() : fs::path(".");
    std::error_code ec;
    fs::create_directories(above, ec);
    if (ec) throw ScaffoldError("cannot create " + above.string() + ": " + ec.message());
    parent = Fd(::open(above.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!parent) throw ScaffoldError("cannot open " + above.string() + ": " + errno_text(errno));
    if (::mkdirat(parent.get(), leaf.c_str(), 0777) == 0)
      created = true;
    else if (errno != EEXIST)
      throw ScaffoldError("cannot create " + dir.string() + ": " + errno_text(errno));
    try {
      top = open_own_folder(parent.get(), leaf, dir);
    } catch (const ScaffoldError&) {
      if (created) ::unlinkat(parent.get(), leaf.c_str(), AT_REMOVEDIR);
      throw;
    }
  }

  // An existing folder must be empty: name what is in the way (one of the
  // project's own names first), and write nothing.
  if (!created) {
    const auto names = entries_of(top.get());
    if (!names.empty()) {
      std::string in_way = names.front();
      for (const auto& f : project) {
        const std::string first = f.path.substr(0, f.path.find('/'));
        if (std::find(names.begin(), names.end(), first) != names.end()) {
          in_way = first;
          break;
        }
      }
      throw ScaffoldError(dir.string() + " is not empty: " + (dir / in_way).string() +
                          " already exists" + kind_of(top.get(), in_way) +
                          "; nothing was written (nothing is ever overwritten: give a new or "
                          "empty folder)");
    }
  }

  Writer writer(dir, std::move(top));
  std::vector<fs::path> written;
  try {
    for (const auto& f : project) {
      writer.create(f.path, f.content);
      written.push_back(dir / f.path);
    }
  } catch (const ScaffoldError&) {
    writer.undo();
    if (created) ::unlinkat(parent.get(), leaf.c_str(), AT_REMOVEDIR);
    throw;
  }
  return written;
}

}  // namespace triage::core::scaffold
