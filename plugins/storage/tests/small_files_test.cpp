// The small_files check against generated table folders: Parquet-named files
// of chosen sizes (sparse, via ftruncate) in partition folders, and Delta
// `_delta_log` folders with commit JSON, checkpoints and _last_checkpoint.
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <triage/testing.hpp>

#include "checks.hpp"
#include "isolated.hpp"
#include "services.hpp"

using triage::Severity;
using triage::Status;
using triage::storage::SmallFilesCheck;
using triage::storage::test::make_file;
namespace fs = std::filesystem;

namespace {

constexpr long long kMiB = 1 << 20;

triage::testing::Result scan(const nlohmann::json& params) {
  return triage::testing::run<SmallFilesCheck>(params);
}

std::string part(int i) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "part-%05d-c000.snappy.parquet", i);
  return buf;
}

std::string version(long long v, const char* suffix) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%020lld%s", v, suffix);
  return buf;
}

// 10 files of 1 MiB in date=2026-11-01, 10 of 128 MiB in date=2026-11-02,
// plus files that are not data (_SUCCESS, .crc) and must not be counted.
fs::path make_table(const fs::path& root) {
  const auto small = root / "date=2026-11-01";
  const auto big = root / "date=2026-11-02";
  fs::create_directories(small);
  fs::create_directories(big);
  for (int i = 0; i < 10; ++i) {
    make_file(small / part(i), kMiB);
    make_file(big / part(i), 128 * kMiB);
  }
  make_file(root / "_SUCCESS", 0);
  make_file(small / ".part-00000-c000.snappy.parquet.crc", 12);
  fs::create_directories(root / "_spark_metadata");
  make_file(root / "_spark_metadata" / part(99), 1);
  return root;
}

void write_text(const fs::path& p, const std::string& text) {
  std::ofstream(p) << text;
}

void make_log(const fs::path& root, int commits) {
  fs::create_directories(root / "_delta_log");
  for (int v = 0; v < commits; ++v)
    write_text(root / "_delta_log" / version(v, ".json"), "{\"commitInfo\":{}}\n");
}

}  // namespace

TEST_CASE("small_files counts a partitioned Parquet table", "[small_files]") {
  triage::test::TempDir dir;
  const auto table = make_table(dir.path() / "events");
  const auto r = scan({{"target", table.string()}});
  INFO(r.summary << " " << r.error);
  REQUIRE(r.error.empty());
  CHECK(r.metric("files")->value == 20);
  CHECK(r.metric("bytes")->value == 10.0 * kMiB + 10.0 * 128 * kMiB);
  CHECK(r.metric("mean_file_bytes")->value == Approx((10.0 * kMiB + 1280.0 * kMiB) / 20));
  CHECK(r.metric("small_files_pct")->value == Approx(50));
  CHECK(r.metric("small_files_pct")->default_warning == "30");
  CHECK(r.metric("small_files_pct")->default_critical == "80");
  CHECK(r.metric("commits_since_checkpoint") == nullptr);
  CHECK(r.attributes.at("format") == "parquet");
  CHECK(r.attributes.at("most_small_files_in") == "date=2026-11-01");
  const auto* f = r.finding(Severity::info, "Too many small files");
  REQUIRE(f != nullptr);
  CHECK(f->detail.find("10 of 20") != std::string::npos);
  CHECK(f->remediation.find("compaction") != std::string::npos);
}

TEST_CASE("small_files: the small-file size and data pattern are params", "[small_files]") {
  triage::test::TempDir dir;
  const auto table = make_table(dir.path() / "events");
  const auto tiny = scan({{"target", table.string()}, {"small_file_bytes", kMiB}});
  CHECK(tiny.metric("small_files_pct")->value == 0);
  CHECK(tiny.finding(Severity::info, "Too many small files") == nullptr);

  const auto huge = scan({{"target", table.string()}, {"small_file_bytes", 256 * kMiB}});
  CHECK(huge.metric("small_files_pct")->value == 100);

  make_file(table / "date=2026-11-01" / "extra.orc", kMiB);
  const auto orc = scan({{"target", table.string()}, {"data_pattern", "*.orc"}});
  CHECK(orc.metric("files")->value == 1);
}

TEST_CASE("small_files: a table with few files gets no thresholds and no finding",
          "[small_files]") {
  triage::test::TempDir dir;
  for (int i = 0; i < 3; ++i) make_file(dir.path() / part(i), 1024);
  const auto r = scan({{"target", dir.path().string()}});
  CHECK(r.metric("small_files_pct")->value == 100);
  CHECK(r.metric("small_files_pct")->default_warning.empty());
  CHECK(r.findings.empty());
  CHECK(r.status() == Status::ok);
  const auto judged = scan({{"target", dir.path().string()}, {"min_files", 2}});
  CHECK(judged.metric("small_files_pct")->default_warning == "30");
  CHECK(judged.finding(Severity::info, "Too many small files") != nullptr);
}

TEST_CASE("small_files reads a Delta log: commits since the last checkpoint", "[small_files]") {
  triage::test::TempDir dir;
  const auto table = make_table(dir.path() / "delta");
  make_log(table, 26);  // versions 0..25

  SECTION("no checkpoint: every commit counts") {
    const auto r = scan({{"target", table.string()}});
    CHECK(r.attributes.at("format") == "delta");
    CHECK(r.metric("commits_since_checkpoint")->value == 26);
    CHECK(r.metric("commits_since_checkpoint")->default_warning == "30");
    CHECK(r.attributes.at("checkpoint_version") == "none");
    CHECK(r.attributes.at("latest_version") == "25");
    const auto* f = r.finding(Severity::info, "Too many small files");
    REQUIRE(f != nullptr);
    CHECK(f->remediation.find("Run OPTIMIZE regularly") != std::string::npos);
    CHECK(f->remediation.find("ZORDER BY") != std::string::npos);
  }
  SECTION("the newest checkpoint file counts when _last_checkpoint is absent") {
    make_file(table / "_delta_log" / version(10, ".checkpoint.parquet"), 100);
    make_file(table / "_delta_log" / version(20, ".checkpoint.0000000001.0000000002.parquet"), 100);
    const auto r = scan({{"target", table.string()}});
    CHECK(r.metric("commits_since_checkpoint")->value == 5);
    CHECK(r.attributes.at("checkpoint_version") == "20");
  }
  SECTION("_last_checkpoint wins") {
    make_file(table / "_delta_log" / version(20, ".checkpoint.parquet"), 100);
    write_text(table / "_delta_log" / "_last_checkpoint", R"({"version":10,"size":42})");
    const auto r = scan({{"target", table.string()}});
    CHECK(r.metric("commits_since_checkpoint")->value == 15);
    CHECK(r.attributes.at("checkpoint_version") == "10");
  }
  SECTION("a long uncheckpointed log is reported") {
    make_log(table, 45);
    const auto r = scan({{"target", table.string()}});
    CHECK(r.metric("commits_since_checkpoint")->value == 45);
    CHECK(r.finding(Severity::info, "Delta log not checkpointed") != nullptr);
  }
}

TEST_CASE("small_files: missing table, bad params, caps and symlinks", "[small_files]") {
  triage::test::TempDir dir, outside;
  const auto missing = scan({{"target", (dir.path() / "nope").string()}});
  CHECK(missing.status() == Status::critical);
  CHECK(missing.finding(Severity::critical, "Table folder not found") != nullptr);

  CHECK(scan({{"target", "rel"}}).status() == Status::unknown);
  CHECK(scan({{"target", dir.path().string()}, {"small_file_bytes", 0}}).status() ==
        Status::unknown);
  CHECK(scan({{"target", dir.path().string()}, {"max_files", "many"}}).status() == Status::unknown);

  const auto table = make_table(dir.path() / "t");
  const auto capped = scan({{"target", table.string()}, {"max_files", 7}});
  CHECK(capped.status() == Status::warning);
  CHECK(capped.finding(Severity::warning, "Too many files") != nullptr);
  CHECK(capped.metric("files")->value <= 7);

  for (int i = 0; i < 5; ++i) make_file(outside.path() / part(i), 1);
  fs::create_directory_symlink(outside.path(), table / "date=2026-11-03");
  CHECK(scan({{"target", table.string()}}).metric("files")->value == 20);
}

TEST_CASE("small_files stops when cancelled", "[small_files]") {
  triage::test::TempDir dir;
  const auto table = make_table(dir.path() / "t");
  std::atomic<bool> cancel{true};
  const auto r = triage::testing::run<SmallFilesCheck>({{"target", table.string()}},
                                                       {std::chrono::seconds(5), &cancel});
  CHECK(r.status() == Status::unknown);
  CHECK(r.error.find("cancelled") != std::string::npos);
}
