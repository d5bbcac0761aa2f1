// The project `triage plugin new` writes: a plugin with one real check type,
// its unit test, CMake build against the installed SDK, and a README. The
// templates are compiled into triage, so an installed binary can scaffold.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace triage::core::scaffold {

// Why a project could not be written (bad name, folder in the way, I/O).
class ScaffoldError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct File {
  std::string path;  // relative to the project folder
  std::string content;
};

// A plugin name is [a-z][a-z0-9_-]*: it names the .so, the CMake target and
// the plugin in configs.
bool valid_name(std::string_view name);

// The project's files for plugin `name` (which must be valid).
std::vector<File> files(std::string_view name);

// Writes files(name) under dir, which must not exist (it is created, with
// its parents) or be an empty folder owned by the effective user and not a
// symbolic link. Nothing is ever overwritten and no symbolic link followed:
// every subfolder and file is created relative to a descriptor of its folder
// (mkdirat, openat with O_CREAT|O_EXCL|O_NOFOLLOW). Returns the paths
// written. Throws ScaffoldError naming what is in the way; what it created
// by then is removed again.
std::vector<std::filesystem::path> write(std::string_view name, const std::filesystem::path& dir);

// The raw templates, with @NAME@ (the plugin name) and @IDENT@ (the name
// as a C identifier) still in them.
const std::vector<File>& templates();

}  // namespace triage::core::scaffold
