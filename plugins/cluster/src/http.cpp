#include "http.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace triage::cluster {
namespace {

struct Transfer {
  const Context* ctx = nullptr;
  HttpResponse* response = nullptr;
};

size_t collect_body(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * count;
  std::string& body = t->response->body;
  const size_t room = kMaxBody - std::min(kMaxBody, body.size());
  if (n > room) t->response->body_truncated = true;
  body.append(data, std::min(n, room));
  return n;
}

// libcurl calls this several times a second, also while resolving and connecting.
int check_cancelled(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  if (!t->ctx->cancelled()) return 0;
  t->response->cancelled = true;
  return 1;
}

void init_curl_once() {
  static const CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (rc != CURLE_OK)
    throw std::runtime_error(std::string("libcurl initialization failed: ") +
                             curl_easy_strerror(rc));
}

}  // namespace

HttpResponse perform(const HttpRequest& request, const HttpAuth& auth, const Context& ctx,
                     long max_ms) {
  init_curl_once();
  HttpResponse response;
  long left = static_cast<long>(ctx.remaining().count());
  left -= std::min(left / 20, 100L);  // curl's own timeout fires first, and says so
  if (max_ms > 0) left = std::min(left, max_ms);
  if (left <= 0 || ctx.cancelled()) {
    response.cancelled = true;
    response.curl = CURLE_ABORTED_BY_CALLBACK;
    response.curl_error = "no time left before the check's deadline";
    return response;
  }
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> easy(curl_easy_init(), &curl_easy_cleanup);
  if (!easy) throw std::runtime_error("curl_easy_init failed");
  CURL* e = easy.get();
  curl_slist* list = nullptr;
  auto add_header = [&](const std::string& h) {
    if (curl_slist* next = curl_slist_append(list, h.c_str())) list = next;
  };
  for (const auto& h : request.headers) add_header(h);
  if (!auth.bearer_token.empty()) add_header("Authorization: Bearer " + auth.bearer_token);
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(list, &curl_slist_free_all);

  Transfer transfer{&ctx, &response};
  char errbuf[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(e, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  if (request.body) {
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, request.body->data());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body->size()));
  }
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, left);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &collect_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, &check_cancelled);
  curl_easy_setopt(e, CURLOPT_XFERINFODATA, &transfer);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
  if (!auth.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, auth.ca_file.c_str());
  if (!auth.cert_file.empty()) curl_easy_setopt(e, CURLOPT_SSLCERT, auth.cert_file.c_str());
  if (!auth.key_file.empty()) curl_easy_setopt(e, CURLOPT_SSLKEY, auth.key_file.c_str());
  if (!auth.username.empty()) {
    curl_easy_setopt(e, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(e, CURLOPT_USERNAME, auth.username.c_str());
    curl_easy_setopt(e, CURLOPT_PASSWORD, auth.password.c_str());
  }
  const auto begin = std::chrono::steady_clock::now();
  response.curl = curl_easy_perform(e);
  response.elapsed_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - begin).count();
  if (response.curl == CURLE_OK) {
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &response.status);
  } else {
    long os_errno = 0;
    curl_easy_getinfo(e, CURLINFO_OS_ERRNO, &os_errno);
    response.os_errno = static_cast<int>(os_errno);
    response.curl_error = redact(
        errbuf[0] != '\0' ? std::string(errbuf) : std::string(curl_easy_strerror(response.curl)),
        auth);
  }
  return response;
}

std::string describe_failure(const HttpResponse& r) {
  if (r.cancelled) return "cancelled";
  if (r.curl == CURLE_OPERATION_TIMEDOUT) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "no answer within %.1f s", r.elapsed_ms / 1000.0);
    return buf;
  }
  if (r.curl != CURLE_OK && r.os_errno != 0)
    return std::string(std::strerror(r.os_errno)) + " (" + r.curl_error + ")";
  if (r.curl != CURLE_OK) return r.curl_error;
  return "HTTP " + std::to_string(r.status);
}

HttpAuth read_auth(const Context& ctx) {
  HttpAuth a;
  a.ca_file = ctx.param<std::string>("ca_file", "");
  a.cert_file = ctx.param<std::string>("cert_file", "");
  a.key_file = ctx.param<std::string>("key_file", "");
  a.username = ctx.param<std::string>("username", "");
  a.password = ctx.param<std::string>("password", "");
  a.bearer_token = ctx.param<std::string>("bearer_token", "");
  if (a.cert_file.empty() != a.key_file.empty())
    throw ParamError("params 'cert_file' and 'key_file' go together (mutual TLS)");
  if (a.username.empty() != a.password.empty())
    throw ParamError("params 'username' and 'password' go together");
  if (!a.username.empty() && !a.bearer_token.empty())
    throw ParamError("give 'username'/'password' or 'bearer_token', not both");
  return a;
}

std::string read_base_url(const std::string& url, const std::string& param) {
  const bool https = url.rfind("https://", 0) == 0;
  if (!https && url.rfind("http://", 0) != 0)
    throw ParamError("param '" + param + "' must be an http:// or https:// URL");
  const std::string rest = url.substr(https ? 8 : 7);
  const auto slash = rest.find('/');
  if (rest.substr(0, slash).find('@') != std::string::npos)
    throw ParamError("param '" + param +
                     "' must not hold credentials: give username/password or bearer_token");
  if (url.find_first_of("?#") != std::string::npos)
    throw ParamError("param '" + param + "' must be a base URL, without a query or fragment");
  for (const char c : url)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
      throw ParamError("param '" + param + "' holds a space or control character");
  std::string base = url;
  while (base.size() > (https ? 8u : 7u) && base.back() == '/') base.pop_back();
  if (base.size() <= (https ? 8u : 7u)) throw ParamError("param '" + param + "' has no host");
  return base;
}

std::string redact(std::string text, const HttpAuth& auth) {
  for (const std::string* s : {&auth.password, &auth.bearer_token}) {
    if (s->size() < 3) continue;
    for (auto at = text.find(*s); at != std::string::npos; at = text.find(*s, at + 3))
      text.replace(at, s->size(), "***");
  }
  return text;
}

}  // namespace triage::cluster
