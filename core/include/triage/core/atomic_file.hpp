// Writes a file so that a reader sees the old content or the whole new one,
// never a part: temporary file in the same folder, fsync, rename, fsync folder.
#pragma once

#include <filesystem>
#include <string_view>

namespace triage::core {

// Throws std::system_error naming the path on failure; leaves no temporary behind.
void write_file_atomically(const std::filesystem::path& path, std::string_view content);

}  // namespace triage::core
