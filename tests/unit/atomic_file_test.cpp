#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <system_error>

#include "triage/core/atomic_file.hpp"

using triage::core::write_file_atomically;
namespace fs = std::filesystem;

TEST_CASE("reports are replaced whole and leave no temporary behind", "[atomic]") {
  const fs::path dir = fs::temp_directory_path() / ("triage-atomic-" + std::to_string(getpid()));
  fs::create_directories(dir);
  const auto file = dir / "report.json";
  write_file_atomically(file, "first");
  write_file_atomically(file, "second, longer");
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  CHECK(text.str() == "second, longer");
  CHECK(std::distance(fs::directory_iterator(dir), fs::directory_iterator()) == 1);
  CHECK((fs::status(file).permissions() & fs::perms::others_read) != fs::perms::none);
  CHECK_THROWS_AS(write_file_atomically(dir / "missing" / "r.json", "x"), std::system_error);
  CHECK_THROWS_WITH(write_file_atomically(dir / "missing" / "r.json", "x"),
                    Catch::Contains("missing/r.json"));
  fs::remove_all(dir);
}

TEST_CASE("a report sent to a device is written in place, not renamed over it", "[atomic]") {
  write_file_atomically("/dev/null", "discarded");
  CHECK(fs::is_character_file("/dev/null"));
}
