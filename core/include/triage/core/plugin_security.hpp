// Refuses plugin files that someone other than root or the user running
// triage could have written, as OpenSSH's StrictModes does for keys: loading
// a shared library runs its code with our privileges.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace triage::core {

// Why the plugin file may have been modified by someone else, with the fix,
// in one line ("writable by others (mode 0666); fix with: chmod go-w
// FILE, or pass --allow-insecure-plugins"); nullopt when it is safe to load.
// Unsafe: the file or the folder it is in is writable by group or others, or
// owned by a user other than root or the current (effective) user. For a
// symbolic link, the link's folder, the file it points to and that file's
// folder are all checked.
std::optional<std::string> insecure_plugin_reason(const std::filesystem::path& file);

// True the first time it is called for a file in this process: for warning
// once per file about an insecure plugin loaded anyway. Thread-safe.
bool first_insecure_warning(const std::filesystem::path& file);

}  // namespace triage::core
