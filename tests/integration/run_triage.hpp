// Runs the real `triage` binary with an argv (no shell) and captures what it
// printed on stdout and stderr, separately, and how it exited.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace triage::itest {

struct RunResult {
  int exit_code = -1;  // the exit status, or 128 + signal when killed by one
  std::string out;     // everything written to stdout
  std::string err;     // everything written to stderr
};

struct RunEnv {
  // Set (or replace) in the child's environment. TRIAGE_PLUGIN_PATH and
  // NO_COLOR are always removed from the inherited environment first, so the
  // caller's shell cannot change what a test sees.
  std::vector<std::pair<std::string, std::string>> set;
  // A run taking longer than this is killed and reported as failed (exit -1):
  // a watchdog against a hung binary, not a timing assertion.
  std::chrono::seconds limit{120};
  // Given to the child on stdin (else stdin is /dev/null).
  std::optional<std::string> stdin_text{};
  // When set: SIGINT is sent once the child's stderr contains this text (an
  // event the child reports, never a delay).
  std::string interrupt_on_stderr{};
  // The signal sent then.
  int interrupt_signal = 2;  // SIGINT
  // When set: the child's stdout is this existing file, opened for writing
  // as it is (e.g. /dev/full); RunResult::out is then "".
  std::string stdout_path{};
  // When true: the child's stdout is a pipe whose reader has already gone
  // (as in `triage list | head -1` once head has exited).
  bool stdout_reader_gone = false;
  // When true: the child starts with SIGPIPE ignored (through
  // `sh -c "trap '' PIPE; exec triage ..."`), as under a parent that ignores
  // it (systemd's IgnoreSIGPIPE=yes); else every signal is at its default.
  bool sigpipe_ignored = false;
};

// The path of the triage binary under test (from the build system).
std::filesystem::path triage_binary();

// Runs `triage args...`; stdin is /dev/null.
RunResult run_triage(const std::vector<std::string>& args, const RunEnv& env = {});

// The whole content of a file ("" when it cannot be read).
std::string read_file(const std::filesystem::path& file);

// Writes text to dir/name and returns the path.
std::filesystem::path write_file(const std::filesystem::path& dir, const std::string& name,
                                 const std::string& text);

}  // namespace triage::itest
