// What an Azure Storage failure means to an operator: the error XML's
// <Code>/<Message>, and the mapping of an HTTP status + error code, or a
// libcurl transport error, to a finding with a remediation.
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <triage/plugin.hpp>

namespace triage::storage::azure {

// The <Code> and <Message> of an Azure Storage error body (XML entities
// decoded, the message cut at its first line: Azure appends RequestId and Time).
struct ErrorBody {
  std::string code;
  std::string message;
};
ErrorBody parse_error_xml(std::string_view body);

enum class Auth { shared_key, sas, bearer, anonymous };
std::string_view auth_name(Auth auth);

struct Diagnosis {
  Severity severity = Severity::critical;
  std::string title;
  std::string detail;
  std::string remediation;
};

// What the check knew when a request failed with an HTTP error status.
struct HttpFailure {
  std::string_view operation;  // "List Blobs", "Put Blob", ...
  std::string_view where;      // the redacted URL
  long status = 0;
  std::string_view code;     // x-ms-error-code or the XML <Code>
  std::string_view message;  // the XML <Message> (first line)
  Auth auth = Auth::anonymous;
  std::string_view sas_expiry_text;  // `se` of the SAS, when auth is sas
  std::optional<std::chrono::system_clock::time_point> sas_expiry;
  std::chrono::system_clock::time_point now;
};
Diagnosis diagnose_http(const HttpFailure& failure);

// A request that got no HTTP response (DNS, connect, TLS, timeout).
Diagnosis diagnose_transport(CURLcode rc, std::string_view error, std::string_view where);

}  // namespace triage::storage::azure
