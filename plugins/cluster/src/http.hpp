// The cluster plugin's REST requests: plugins/common's rest_http, named in
// this namespace as the checks use it.
#pragma once

#include "rest_http.hpp"

namespace triage::cluster {
using rest::describe_failure;
using rest::HttpAuth;
using rest::HttpRequest;
using rest::HttpResponse;
using rest::kMaxBody;
using rest::perform;
using rest::perform_with_retry;
using rest::read_auth;
using rest::read_base_url;
using rest::redact;
using rest::retry_after_seconds;
using rest::url_encode;
}  // namespace triage::cluster
