// Writes a file so that a reader sees the old content or the whole new one,
// never a part: temporary file in the same folder, fsync, rename, fsync folder.
#pragma once

#include <atomic>
#include <filesystem>
#include <string_view>

namespace triage::core {

// Throws std::system_error naming the path on failure; leaves no temporary behind.
// A FIFO, device or /dev/stdout is written in place; waiting on one (no
// reader yet, a reader that stopped reading) ends with an EINTR error once
// *cancel turns true (a signal during the write; not one that came before).
void write_file_atomically(const std::filesystem::path& path, std::string_view content,
                           const std::atomic<bool>* cancel = nullptr);

}  // namespace triage::core
