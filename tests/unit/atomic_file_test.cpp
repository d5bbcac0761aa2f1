#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

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

TEST_CASE("a report sent to a FIFO is written into it, not renamed over it", "[atomic]") {
  // A FIFO stands in for /dev/stdout or /dev/null: a test must never risk
  // replacing a real device node if this code regresses.
  const fs::path dir = fs::temp_directory_path() / ("triage-fifo-" + std::to_string(getpid()));
  fs::create_directories(dir);
  const auto fifo = dir / "report.fifo";
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  const int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  REQUIRE(reader >= 0);
  write_file_atomically(fifo, "through the pipe");
  char buf[64] = {};
  const auto n = ::read(reader, buf, sizeof buf - 1);
  ::close(reader);
  CHECK(std::string(buf, n > 0 ? static_cast<std::size_t>(n) : 0) == "through the pipe");
  CHECK(fs::is_fifo(fifo));
  fs::remove_all(dir);
}
