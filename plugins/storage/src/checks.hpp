// The storage plugin's check types. Each is one class per the SDK's wrapper;
// see plugins/storage/README.md for params, metrics and findings.
#pragma once

#include <triage/plugin.hpp>

namespace triage::storage {

struct FilesystemCheck {
  static constexpr const char* name = "filesystem";
  static constexpr const char* description =
      "Usage, inodes and writability of a mounted filesystem (or all of them); a mount that "
      "does not answer is reported, never waited for";
  static const char* const params_schema;
  static const Metrics metrics;  // what it emits, with defaults and remediations
  void run(Context& ctx);
};

struct IoProbeCheck {
  static constexpr const char* name = "io_probe";
  static constexpr const char* description =
      "Writes, fsyncs, reads back and deletes a file in a folder, timing each step";
  static const char* const params_schema;
  static const Metrics metrics;  // what it emits, with defaults and remediations
  void run(Context& ctx);
};

struct FreshnessCheck {
  static constexpr const char* name = "freshness";
  static constexpr const char* description =
      "The newest file matching a pattern must be younger than max_age (backups, RPO)";
  static const char* const params_schema;
  static const Metrics metrics;  // what it emits, with defaults and remediations
  void run(Context& ctx);
};

struct SmallFilesCheck {
  static constexpr const char* name = "small_files";
  static constexpr const char* description =
      "Counts a Parquet/Delta table's data files and the share of small ones (compaction)";
  static const char* const params_schema;
  static const Metrics metrics;  // what it emits, with defaults and remediations
  void run(Context& ctx);
};

struct BlobCheck {
  static constexpr const char* name = "blob";
  static constexpr const char* description =
      "Azure Blob Storage / ADLS Gen2 over REST: endpoint, auth, container, listing latency, "
      "newest blob age under a prefix (RPO), SAS expiry and an optional write probe";
  static const char* const params_schema;
  static const Metrics metrics;  // what it emits, with defaults and remediations
  void run(Context& ctx);
};

struct GeoReplicationCheck {
  static constexpr const char* name = "geo_replication";
  static constexpr const char* description =
      "A geo-redundant storage account's replication to its secondary region: status and the "
      "age of LastSyncTime against the RPO (Get Blob Service Stats)";
  static const char* const params_schema;
  static const Metrics metrics;  // what it emits, with defaults and remediations
  void run(Context& ctx);
};

}  // namespace triage::storage
