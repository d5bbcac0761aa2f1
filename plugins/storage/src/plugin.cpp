// Registers the storage plugin's check types with the Triage core.
#include "checks.hpp"

using namespace triage::storage;

TRIAGE_PLUGIN("storage", "1.0.0",
              "Filesystems, I/O, backup freshness (RPO), small files, Azure Blob / ADLS and its "
              "geo-replication",
              FilesystemCheck, IoProbeCheck, FreshnessCheck, SmallFilesCheck, BlobCheck,
              GeoReplicationCheck)
