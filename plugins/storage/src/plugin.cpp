// Registers the storage plugin's check types with the Triage core.
#include "checks.hpp"

using namespace triage::storage;

TRIAGE_PLUGIN("storage", "1.0.0",
              "Filesystems, I/O, backup freshness (RPO), small files and Azure Blob / ADLS",
              FilesystemCheck, IoProbeCheck, FreshnessCheck, SmallFilesCheck, BlobCheck)
