// The freshness check against real folders whose files have their mtimes set
// with utimensat (isolated.hpp make_file).
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <ctime>
#include <filesystem>
#include <string>

#include <triage/testing.hpp>

#include "checks.hpp"
#include "fs_util.hpp"
#include "isolated.hpp"
#include "services.hpp"

using triage::Severity;
using triage::Status;
using triage::storage::FreshnessCheck;
using triage::storage::test::make_file;
namespace fs = std::filesystem;

namespace {

triage::testing::Result fresh(const nlohmann::json& params) {
  return triage::testing::run<FreshnessCheck>(params);
}

std::string utc_name(const char* format, double age_s) {
  const std::time_t t = std::time(nullptr) - static_cast<std::time_t>(age_s);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

}  // namespace

TEST_CASE("freshness: the newest matching file within max_age is ok", "[freshness]") {
  triage::test::TempDir dir;
  const auto d = dir.path();
  make_file(d / "db-1.tar.gz", 10, 7200);
  make_file(d / "db-2.tar.gz", 10, 600);
  make_file(d / "notes.txt", 10, 5);  // newer, but not a backup
  const auto r = fresh({{"target", d.string()}, {"pattern", "*.tar.gz"}, {"max_age", "1h"}});
  INFO(r.summary << " " << r.error);
  CHECK(r.status() == Status::ok);
  REQUIRE(r.metric("age_s") != nullptr);
  CHECK(r.metric("age_s")->value == Approx(600).margin(30));
  CHECK(r.metric("age_s")->default_critical == "~:3600");
  CHECK(r.attributes.at("newest_file") == "db-2.tar.gz");
  CHECK(r.attributes.at("files_matched") == "2");
}

TEST_CASE("freshness: a backup older than the RPO is critical", "[freshness]") {
  triage::test::TempDir dir;
  make_file(dir.path() / "offsets-1.json", 10, 400);
  const auto r = fresh({{"target", dir.path().string()}, {"max_age", "5m"}});
  CHECK(r.status() == Status::critical);
  const auto* f = r.finding(Severity::critical, "older than its RPO");
  REQUIRE(f != nullptr);
  CHECK(f->detail.find("offsets-1.json") != std::string::npos);
  CHECK(f->detail.find("5m") != std::string::npos);
  CHECK(r.metric("age_s")->value == Approx(400).margin(30));
}

TEST_CASE("freshness: an empty or missing folder is 'no backup found'", "[freshness]") {
  triage::test::TempDir dir;
  const auto empty = fresh({{"target", dir.path().string()}, {"max_age", "24h"}});
  CHECK(empty.status() == Status::critical);
  CHECK(empty.finding(Severity::critical, "No backup found") != nullptr);
  CHECK(empty.metric("age_s") == nullptr);

  const auto missing = fresh({{"target", (dir.path() / "gone").string()}, {"max_age", "24h"}});
  CHECK(missing.status() == Status::critical);
  const auto* f = missing.finding(Severity::critical, "No backup found");
  REQUIRE(f != nullptr);
  CHECK(f->detail.find("ENOENT") != std::string::npos);

  make_file(dir.path() / "readme.md", 1, 1);
  const auto unmatched =
      fresh({{"target", dir.path().string()}, {"pattern", "*.bak"}, {"max_age", "24h"}});
  CHECK(unmatched.finding(Severity::critical, "No backup found") != nullptr);
}

TEST_CASE("freshness: recursion is optional and never follows symlinks", "[freshness]") {
  triage::test::TempDir dir, outside;
  const auto d = dir.path();
  make_file(d / "old.bak", 1, 3 * 3600);
  fs::create_directories(d / "2026" / "11");
  make_file(d / "2026" / "11" / "new.bak", 1, 60);
  make_file(outside.path() / "newest.bak", 1, 1);
  fs::create_directory_symlink(outside.path(), d / "link");

  const auto flat = fresh({{"target", d.string()}, {"pattern", "*.bak"}, {"max_age", "1h"}});
  CHECK(flat.status() == Status::critical);
  CHECK(flat.attributes.at("newest_file") == "old.bak");

  const auto deep =
      fresh({{"target", d.string()}, {"pattern", "*.bak"}, {"max_age", "1h"}, {"recursive", true}});
  CHECK(deep.status() == Status::ok);
  CHECK(deep.attributes.at("newest_file") == "2026/11/new.bak");
  CHECK(deep.attributes.at("files_matched") == "2");
}

TEST_CASE("freshness: the time can come from the file name", "[freshness]") {
  triage::test::TempDir dir;
  const auto d = dir.path();
  // Copied just now (fresh mtimes), but the names say 3 h and 30 h ago.
  make_file(d / ("db-" + utc_name("%Y%m%dT%H%M%S", 3 * 3600) + ".dump"), 1);
  make_file(d / ("db-" + utc_name("%Y%m%dT%H%M%S", 30 * 3600) + ".dump"), 1);
  make_file(d / "db-latest.dump", 1);  // no timestamp: ignored
  const nlohmann::json base = {
      {"target", d.string()}, {"pattern", "db-*.dump"}, {"name_format", "%Y%m%dT%H%M%S"}};
  auto params = base;
  params["max_age"] = "4h";
  const auto ok = fresh(params);
  INFO(ok.summary << " " << ok.error);
  CHECK(ok.status() == Status::ok);
  CHECK(ok.metric("age_s")->value == Approx(3 * 3600).margin(60));
  params["max_age"] = "1h";
  const auto late = fresh(params);
  CHECK(late.status() == Status::critical);
  CHECK(late.finding(Severity::critical, "older than its RPO") != nullptr);

  params["name_format"] = "%d.%m.%Y";
  const auto undated = fresh(params);
  CHECK(undated.status() == Status::critical);
  const auto* f = undated.finding(Severity::critical, "No backup found");
  REQUIRE(f != nullptr);
  CHECK(f->detail.find("none has a timestamp") != std::string::npos);
}

TEST_CASE("freshness: max_files caps the walk with a warning", "[freshness]") {
  triage::test::TempDir dir;
  for (int i = 0; i < 20; ++i) make_file(dir.path() / ("f" + std::to_string(i)), 1, 60);
  const auto r = fresh({{"target", dir.path().string()}, {"max_age", "1h"}, {"max_files", 5}});
  CHECK(r.status() == Status::warning);
  CHECK(r.finding(Severity::warning, "Too many files") != nullptr);
  CHECK(r.attributes.at("files_matched") == "5");
}

TEST_CASE("freshness: bad params end unknown with the reason", "[freshness]") {
  triage::test::TempDir dir;
  const auto d = dir.path().string();
  for (const auto& bad :
       {nlohmann::json{{"target", d}}, nlohmann::json{{"target", d}, {"max_age", "1 day"}},
        nlohmann::json{{"target", d}, {"max_age", "0"}},
        nlohmann::json{{"target", d}, {"max_age", 3600}},
        nlohmann::json{{"target", "backups"}, {"max_age", "1h"}},
        nlohmann::json{{"target", d}, {"max_age", "1h"}, {"max_files", 0}}}) {
    const auto r = fresh(bad);
    INFO(bad.dump());
    CHECK(r.status() == Status::unknown);
    CHECK_FALSE(r.error.empty());
  }
}

TEST_CASE("duration syntax matches the core config's", "[freshness][unit]") {
  using std::chrono::milliseconds;
  using triage::storage::parse_duration;
  CHECK(parse_duration("90") == milliseconds(90'000));
  CHECK(parse_duration("1.5s") == milliseconds(1500));
  CHECK(parse_duration("250ms") == milliseconds(250));
  CHECK(parse_duration("5m") == milliseconds(300'000));
  CHECK(parse_duration("4h") == milliseconds(4 * 3'600'000));
  CHECK(parse_duration("24h") == milliseconds(24 * 3'600'000));
  CHECK_FALSE(parse_duration(""));
  CHECK_FALSE(parse_duration("h"));
  CHECK_FALSE(parse_duration("-1s"));
  CHECK_FALSE(parse_duration("1d"));
  CHECK_FALSE(parse_duration("1h30m"));
  CHECK(triage::storage::human_duration(milliseconds(3'723'000)) == "1h 2m");
}

TEST_CASE("freshness: subfolders it cannot open are counted and reported", "[freshness]") {
  triage::test::TempDir dir;
  const auto d = dir.path();
  make_file((d / "db-1.tar.gz").string(), 10, 600);
  fs::create_directories(d / "locked");
  make_file((d / "locked" / "db-2.tar.gz").string(), 10, 5);  // newer, out of sight
  fs::permissions(d, fs::perms(0755));
  fs::permissions(d / "locked", fs::perms::none);
  const nlohmann::json params{
      {"target", d.string()}, {"pattern", "*.tar.gz"}, {"max_age", "1h"}, {"recursive", true}};
  // As root every folder opens: the unreadable one needs an ordinary user.
  const auto got = triage::storage::test::as_nobody(
      [&] { return triage::storage::test::to_json(fresh(params)); });
  fs::permissions(d / "locked", fs::perms(0755));
  if (!got.unavailable.empty()) {
    WARN("isolation unavailable here, test skipped: " << got.unavailable);
    return;
  }
  INFO("child error: " << got.error);
  REQUIRE(got.value.has_value());
  const auto r = triage::storage::test::from_json(*got.value);
  INFO(r.summary);
  CHECK(r.attributes.at("newest_file") == "db-1.tar.gz");
  CHECK(r.attributes.at("unreadable_folders") == "1");
  const auto* f = r.finding(Severity::warning, "Subfolders not readable");
  REQUIRE(f != nullptr);
  CHECK(f->detail.find("a newer file may be in them") != std::string::npos);
  CHECK(r.status() == Status::warning);
}
