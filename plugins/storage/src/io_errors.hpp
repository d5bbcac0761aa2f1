// How the io_probe check explains a failed write/fsync/read: the errno of a
// failed step mapped to a finding with a remediation.
#pragma once

#include <string>
#include <string_view>

#include <triage/plugin.hpp>

namespace triage::storage {

struct IoFinding {
  Severity severity = Severity::critical;
  std::string title;
  std::string detail;
  std::string remediation;
};

// The finding for `err` from `step` ("create", "write", "fsync", "read",
// "delete") on `path` in folder `dir`. ENOSPC, EDQUOT, EROFS and EACCES/EPERM
// get their own titles and remediations; anything else is "I/O failed".
IoFinding io_error_finding(int err, std::string_view step, const std::string& path,
                           const std::string& dir);

}  // namespace triage::storage
