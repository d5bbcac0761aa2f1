// The order of the plugin search path, from explicit inputs (no environment).
#include <catch2/catch.hpp>
#include <filesystem>
#include <vector>

#include "triage/core/plugin_loader.hpp"

using triage::core::plugin_search_path;
using triage::core::SearchPathInputs;
using Paths = std::vector<std::filesystem::path>;

TEST_CASE("search path: flags, environment, user, system, then the install prefix",
          "[plugin_loader][search-path]") {
  SearchPathInputs in;
  in.cli_dirs = {"/opt/a", "/opt/b"};
  in.env_path = "/env/one::/env/two:";
  in.home = "/home/ana";
  in.executable = "/usr/local/bin/triage";
  CHECK(plugin_search_path(in) == Paths{"/opt/a", "/opt/b", "/env/one", "/env/two",
                                        "/home/ana/.local/lib/triage/plugins",
                                        "/etc/triage/plugins.d", "/usr/local/lib/triage/plugins"});
}

TEST_CASE("search path: no user folder without an absolute HOME", "[plugin_loader][search-path]") {
  SearchPathInputs in;
  in.executable = "/usr/bin/triage";
  CHECK(plugin_search_path(in) == Paths{"/etc/triage/plugins.d", "/usr/lib/triage/plugins"});
  in.home = "relative/home";
  CHECK(plugin_search_path(in) == Paths{"/etc/triage/plugins.d", "/usr/lib/triage/plugins"});
}

TEST_CASE("search path: a folder named twice is searched once, where first named",
          "[plugin_loader][search-path]") {
  SearchPathInputs in;
  in.cli_dirs = {"/usr/lib/triage/plugins"};
  in.env_path = "/usr/lib/triage/./plugins";
  in.system_dir = "";
  in.executable = "/usr/bin/triage";
  CHECK(plugin_search_path(in) == Paths{"/usr/lib/triage/plugins"});
}
