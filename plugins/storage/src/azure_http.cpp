#include "azure_http.hpp"

#include "rest_http.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string_view>
#include <thread>

namespace triage::storage::azure {
namespace {

struct EasyDeleter {
  void operator()(CURL* e) const { curl_easy_cleanup(e); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

struct State {
  const Context* ctx = nullptr;
  HttpResponse* response = nullptr;
  std::size_t max_body = 0;
  bool cancelled = false;
};

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* s = static_cast<State*>(user);
  const size_t n = size * count;
  const size_t room = s->max_body - std::min(s->max_body, s->response->body.size());
  if (n > room) s->response->body_truncated = true;
  s->response->body.append(data, std::min(n, room));
  return n;
}

bool iequals_prefix(std::string_view line, std::string_view name) {
  if (line.size() < name.size()) return false;
  for (std::size_t i = 0; i < name.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(line[i])) != name[i]) return false;
  return true;
}

std::string header_value(std::string_view line, std::size_t name_len) {
  std::string_view v = line.substr(name_len);
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' '))
    v.remove_suffix(1);
  // Identifiers only: keep them short and printable.
  std::string out;
  for (char c : v.substr(0, 128))
    if (static_cast<unsigned char>(c) > 0x20 && static_cast<unsigned char>(c) < 0x7f) out += c;
  return out;
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* s = static_cast<State*>(user);
  const size_t n = size * count;
  const std::string_view line(data, n);
  if (iequals_prefix(line, "x-ms-request-id:"))
    s->response->request_id = header_value(line, 16);
  else if (iequals_prefix(line, "x-ms-error-code:"))
    s->response->error_code = header_value(line, 16);
  else if (iequals_prefix(line, "retry-after:"))
    s->response->retry_after = header_value(line, 12);
  return n;
}

// Called by libcurl several times a second, also while it resolves or connects.
int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* s = static_cast<State*>(user);
  if (s->ctx->cancelled()) {
    s->cancelled = true;
    return 1;
  }
  return 0;
}

}  // namespace

void ensure_curl() {
  // curl_global_init once per process, thread-safely (a function-local static).
  static const CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (rc != CURLE_OK)
    throw std::runtime_error(std::string("libcurl initialization failed: ") +
                             curl_easy_strerror(rc));
}

HttpResponse perform(const HttpRequest& request, const TransportOptions& options,
                     const Context& ctx) {
  ensure_curl();
  HttpResponse response;
  const long left = static_cast<long>(ctx.remaining().count());
  if (left <= 0 || ctx.cancelled()) {
    response.cancelled = true;
    response.curl = CURLE_ABORTED_BY_CALLBACK;
    response.curl_error = "no time left before the check's deadline";
    return response;
  }
  std::unique_ptr<CURL, EasyDeleter> easy(curl_easy_init());
  if (!easy) throw std::runtime_error("curl_easy_init failed");
  CURL* e = easy.get();

  curl_slist* raw = nullptr;
  for (const auto& h : request.headers) {
    curl_slist* next = curl_slist_append(raw, h.c_str());
    if (next == nullptr) {
      curl_slist_free_all(raw);
      throw std::runtime_error("out of memory building request headers");
    }
    raw = next;
  }
  std::unique_ptr<curl_slist, SlistDeleter> headers(raw);

  State state{&ctx, &response, request.max_body, false};
  char errbuf[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(e, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  if (request.method == "HEAD") curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
  if (request.body) {
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, request.body->data());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body->size()));
  }
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  // Leave curl a little less than the time left, so its own timeout fires
  // (and is reported as a timeout) before the check's deadline.
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, std::max(1L, left - std::min(left / 20, 100L)));
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &state);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, &state);
  curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, &on_progress);
  curl_easy_setopt(e, CURLOPT_XFERINFODATA, &state);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
  if (options.ca_file) curl_easy_setopt(e, CURLOPT_CAINFO, options.ca_file->c_str());
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);  // a redirect would drop the signature

  const auto begin = std::chrono::steady_clock::now();
  response.curl = curl_easy_perform(e);
  response.elapsed_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - begin).count();
  response.cancelled = state.cancelled;
  if (response.curl == CURLE_OK) {
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &response.status);
  } else {
    response.curl_error =
        errbuf[0] != '\0' ? std::string(errbuf) : std::string(curl_easy_strerror(response.curl));
    // The error text can quote the URL, whose query may hold a SAS.
    if (const auto q = response.curl_error.find('?'); q != std::string::npos)
      response.curl_error = response.curl_error.substr(0, q) + "?<redacted>";
  }
  return response;
}

namespace {

// Seconds Retry-After asks for: delta-seconds only (Azure Storage sends no
// HTTP-date); 1 s when absent or unreadable, at most 60.
double retry_after_seconds(std::string_view text) {
  if (text.empty() || text.size() > 6) return 1.0;
  double s = 0;
  for (char c : text) {
    if (std::isdigit(static_cast<unsigned char>(c)) == 0) return 1.0;
    s = s * 10 + (c - '0');
  }
  return std::min(s, 60.0);
}

}  // namespace

HttpResponse perform_with_retry(const HttpRequest& request, const TransportOptions& options,
                                const Context& ctx, int max_retries) {
  for (int attempt = 0;; ++attempt) {
    HttpResponse r = perform(request, options, ctx);
    r.retries = attempt;
    const bool throttled = r.curl == CURLE_OK && (r.status == 429 || r.status == 503);
    if (!throttled || attempt >= max_retries) return r;
    const auto wait = std::chrono::milliseconds(
        static_cast<long long>(retry_after_seconds(r.retry_after) * 1000));
    if (!rest::wait_for_retry(ctx, wait)) return r;
  }
}

}  // namespace triage::storage::azure
