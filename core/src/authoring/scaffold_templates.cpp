// The files of a new plugin project, embedded in triage (see scaffold.hpp).
// @NAME@ becomes the plugin name, @IDENT@ the name as a C identifier.
#include "triage/core/scaffold.hpp"

namespace triage::core::scaffold {

namespace {

constexpr const char* kCMakeLists = R"tpl(cmake_minimum_required(VERSION 3.20)
project(@NAME@ VERSION 0.1.0 LANGUAGES CXX)

set(CMAKE_CXX_STANDARD 20)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
if(NOT CMAKE_BUILD_TYPE)
  set(CMAKE_BUILD_TYPE Release)
endif()

# The Triage plugin SDK (headers and triage_add_plugin); Catch2 v2 for the
# unit tests, which are built only when it is found.
find_package(TriageSDK 1 REQUIRED)
find_package(Catch2 2 QUIET)

# The plugin: build/@NAME@.so, loadable by `triage --plugin-dir build`.
triage_add_plugin(@NAME@ src/plugin.cpp src/file_check.cpp)
set_target_properties(@NAME@ PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR})
target_compile_options(@NAME@ PRIVATE -Wall -Wextra)

# `cmake --install build` puts it where triage looks for plugins
# (lib/triage/plugins under the install prefix).
install(TARGETS @NAME@ LIBRARY DESTINATION ${TRIAGE_PLUGIN_INSTALL_DIR})

# Unit tests run the check in-process through triage/testing.hpp.
if(Catch2_FOUND)
  enable_testing()
  add_executable(@IDENT@_tests tests/file_check_test.cpp src/file_check.cpp)
  target_include_directories(@IDENT@_tests PRIVATE src)
  target_link_libraries(@IDENT@_tests PRIVATE TriageSDK::sdk Catch2::Catch2)
  add_test(NAME @IDENT@_tests COMMAND @IDENT@_tests)
else()
  message(STATUS "Catch2 v2 not found: unit tests not built (apt install catch2)")
endif()
)tpl";

constexpr const char* kCheckHpp =
    R"tpl(// The `file` check: a file exists, is a regular file, and was modified
// recently enough. A starting point: rename it, change run(), keep the shape.
#pragma once

#include <triage/plugin.hpp>

namespace @IDENT@ {

struct FileCheck {
  static constexpr const char* name = "file";
  static constexpr const char* description =
      "A file exists and was modified within max_age_seconds";
  static const char* const params_schema;
  // The metrics it emits (plugin ABI 1.1): `triage plugin info` lists them, a
  // config's `thresholds:` must name one of them, and the remediation is shown
  // when a threshold on the metric is crossed.
  static const triage::Metrics metrics;
  void run(triage::Context& ctx);
};

}  // namespace @IDENT@
)tpl";

constexpr const char* kCheckCpp = R"tpl(#include "file_check.hpp"

#include <chrono>
#include <filesystem>
#include <string>
#include <system_error>

namespace @IDENT@ {

// Every property says what it is for: the schema is the check's documentation
// (`triage plugin info`) and the core validates configs against it.
const char* const FileCheck::params_schema = R"json({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "type": "object",
  "properties": {
    "target": {
      "type": "string",
      "minLength": 1,
      "description": "Path of the file to look at."
    },
    "max_age_seconds": {
      "type": "integer",
      "minimum": 1,
      "default": 86400,
      "description": "Critical when the file was last modified longer ago than this."
    }
  },
  "required": ["target"],
  "additionalProperties": false
})json";

namespace {
// Name, unit, one-line description, default ranges (Monitoring Plugins
// syntax) and what to do when a threshold is crossed. Strings must be
// literals: the core reads them after run() returns.
constexpr triage::MetricDecl kMetrics[] = {
    // Its critical range, above max_age_seconds, comes with the metric.
    triage::metric("age_seconds", "s",
                   "Time since the file was last modified; critical above max_age_seconds")
        .remediation("Check the job that writes the file: its schedule, its last run and its "
                     "log."),
    triage::metric("size_bytes", "B", "Size of the file"),
};
}  // namespace

const triage::Metrics FileCheck::metrics{kMetrics};

void FileCheck::run(triage::Context& ctx) {
  namespace fs = std::filesystem;
  const std::string path = ctx.target();  // triage::ParamError when missing: ends unknown
  const auto max_age = ctx.param<long long>("max_age_seconds", 86400);
  if (max_age < 1) throw triage::ParamError("max_age_seconds must be at least 1");

  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (!fs::exists(status)) {
    ctx.finding(triage::Severity::critical, "File missing", path + ": " + ec.message(),
                "Check that whatever writes " + path + " is running.");
    ctx.status(triage::Status::critical, path + " does not exist");
    return;
  }
  if (!fs::is_regular_file(status)) {
    ctx.status(triage::Status::critical, path + " is not a regular file");
    return;
  }
  const auto modified = fs::last_write_time(path, ec);
  if (ec) {
    ctx.error("cannot read the modification time of " + path + ": " + ec.message());
    return;
  }
  const auto age = std::chrono::duration_cast<std::chrono::seconds>(
                       fs::file_time_type::clock::now() - modified)
                       .count();
  const std::string limit = std::to_string(max_age);
  ctx.metric("age_seconds", static_cast<double>(age), "s", {"", limit});
  ctx.metric("size_bytes", static_cast<double>(fs::file_size(path, ec)), "B");
  if (age > max_age) {
    ctx.finding(triage::Severity::critical, "File is stale",
                path + " was last modified " + std::to_string(age) + " s ago (limit " + limit +
                    " s)",
                "Check the job that updates " + path + ".");
    ctx.status(triage::Status::critical, path + " is " + std::to_string(age) + " s old");
    return;
  }
  ctx.status(triage::Status::ok, path + " is " + std::to_string(age) + " s old");
}

}  // namespace @IDENT@
)tpl";

constexpr const char* kPluginCpp =
    R"tpl(// The plugin's entry point: its name, version, description and check types.
#include <triage/plugin.hpp>

#include "file_check.hpp"

TRIAGE_PLUGIN("@NAME@", "0.1.0", "@NAME@ checks (generated by triage plugin new)",
              @IDENT@::FileCheck)
)tpl";

constexpr const char* kTestCpp =
    R"tpl(// Runs the check in-process with triage/testing.hpp, against real files in a
// fresh temporary folder.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <triage/testing.hpp>

#include "file_check.hpp"

namespace fs = std::filesystem;
using @IDENT@::FileCheck;

namespace {

// A new empty folder, removed at the end of the test.
struct TempDir {
  fs::path path = fs::temp_directory_path() /
                  ("@IDENT@-test-" + std::to_string(std::random_device{}()));
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
};

fs::path write_file(const fs::path& path, const std::string& text) {
  std::ofstream(path) << text;
  return path;
}

}  // namespace

TEST_CASE("a fresh file is ok, with its age and size") {
  TempDir dir;
  const auto file = write_file(dir.path / "data.txt", "hello");
  auto r = triage::testing::run<FileCheck>({{"target", file.string()}});
  CHECK(r.status() == triage::Status::ok);
  REQUIRE(r.metric("size_bytes") != nullptr);
  CHECK(r.metric("size_bytes")->value == 5);
  REQUIRE(r.metric("age_seconds") != nullptr);
  CHECK(r.metric("age_seconds")->default_critical == "86400");
  CHECK(r.undeclared.empty());  // every metric emitted is one of FileCheck::metrics
}

TEST_CASE("a file older than max_age_seconds is critical") {
  TempDir dir;
  const auto file = write_file(dir.path / "old.txt", "x");
  fs::last_write_time(file, fs::file_time_type::clock::now() - std::chrono::hours(2));
  auto r = triage::testing::run<FileCheck>({{"target", file.string()}, {"max_age_seconds", 3600}});
  CHECK(r.status() == triage::Status::critical);
  CHECK(r.finding(triage::Severity::critical, "stale") != nullptr);
}

TEST_CASE("a missing file is critical, a folder is not a file") {
  TempDir dir;
  auto missing = triage::testing::run<FileCheck>({{"target", (dir.path / "nope").string()}});
  CHECK(missing.status() == triage::Status::critical);
  CHECK(missing.finding(triage::Severity::critical, "missing") != nullptr);
  auto folder = triage::testing::run<FileCheck>({{"target", dir.path.string()}});
  CHECK(folder.status() == triage::Status::critical);
}

TEST_CASE("bad params end unknown with a message") {
  auto none = triage::testing::run<FileCheck>(nlohmann::json::object());
  CHECK(none.status() == triage::Status::unknown);
  CHECK(none.error.find("target") != std::string::npos);
  auto wrong = triage::testing::run<FileCheck>({{"target", 42}});
  CHECK(wrong.status() == triage::Status::unknown);
  CHECK_FALSE(wrong.error.empty());
}
)tpl";

constexpr const char* kReadme = R"tpl(# @NAME@ — a Triage check plugin

One check type, `file`: critical when a file is missing, not a regular file,
or older than `max_age_seconds` (default one day); reports `age_seconds` and
`size_bytes`, declared in `FileCheck::metrics` (a config's `thresholds:` may
name only these).

```yaml
checks:
  - id: backup-fresh
    plugin: @NAME@
    type: file
    params: { target: /var/backups/db.dump, max_age_seconds: 90000 }
```

## Build, test, validate

Needs the Triage SDK (installed with triage, or `-DCMAKE_PREFIX_PATH=` its
prefix), CMake 3.20+ and a C++20 compiler; the unit tests also need Catch2 v2
(`apt install catch2`) and are skipped without it.

```sh
cmake -B build -DCMAKE_PREFIX_PATH=/usr/local
cmake --build build
ctest --test-dir build --output-on-failure
triage plugin validate build/@NAME@.so
triage run --plugin-dir build -c my-checks.yaml
```

`triage plugin validate` runs the conformance kit: bad params must end
`unknown` with a message, no crash, deadlines and cancellation honoured,
output within the core's limits.

## Layout

- `src/file_check.hpp`, `src/file_check.cpp` — the check: params schema and `run()`
- `src/plugin.cpp` — the plugin descriptor (`TRIAGE_PLUGIN`)
- `tests/file_check_test.cpp` — unit tests with `triage/testing.hpp`
)tpl";

constexpr const char* kGitignore = "build/\n";

}  // namespace

const std::vector<File>& templates() {
  // Built once on first use and never changed: immutable after that.
  static const std::vector<File> all{{"CMakeLists.txt", kCMakeLists},
                                     {"README.md", kReadme},
                                     {".gitignore", kGitignore},
                                     {"src/file_check.hpp", kCheckHpp},
                                     {"src/file_check.cpp", kCheckCpp},
                                     {"src/plugin.cpp", kPluginCpp},
                                     {"tests/file_check_test.cpp", kTestCpp}};
  return all;
}

}  // namespace triage::core::scaffold
