#include "rest_http.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <stdexcept>
#include <thread>

namespace triage::rest {
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

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

size_t collect_header(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * count;
  std::string_view line(data, std::min<size_t>(n, 8192));
  auto& headers = t->response->headers;
  // A status line starts a new response (after 100-continue or a redirect).
  if (line.rfind("HTTP/", 0) == 0) {
    headers.clear();
    return n;
  }
  const auto colon = line.find(':');
  if (colon == std::string_view::npos || headers.size() >= kMaxHeaders) return n;
  headers.emplace_back(lower(trim(line.substr(0, colon))),
                       std::string(trim(line.substr(colon + 1))));
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
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &collect_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, &check_cancelled);
  curl_easy_setopt(e, CURLOPT_XFERINFODATA, &transfer);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
  // libcurl copies blobs (CURL_BLOB_COPY), so these may go out of scope.
  auto blob = [](const std::string& pem) {
    curl_blob b{};
    b.data = const_cast<char*>(pem.data());
    b.len = pem.size();
    b.flags = CURL_BLOB_COPY;
    return b;
  };
  if (!auth.ca_pem.empty()) {
    curl_blob b = blob(auth.ca_pem);
    curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &b);
  } else if (!auth.ca_file.empty()) {
    curl_easy_setopt(e, CURLOPT_CAINFO, auth.ca_file.c_str());
  }
  if (!auth.cert_pem.empty()) {
    curl_blob b = blob(auth.cert_pem);
    curl_easy_setopt(e, CURLOPT_SSLCERT_BLOB, &b);
    curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
  } else if (!auth.cert_file.empty()) {
    curl_easy_setopt(e, CURLOPT_SSLCERT, auth.cert_file.c_str());
  }
  if (!auth.key_pem.empty()) {
    curl_blob b = blob(auth.key_pem);
    curl_easy_setopt(e, CURLOPT_SSLKEY_BLOB, &b);
    curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
  } else if (!auth.key_file.empty()) {
    curl_easy_setopt(e, CURLOPT_SSLKEY, auth.key_file.c_str());
  }
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

std::string_view HttpResponse::header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers)
    if (name == lower_name) return value;
  return {};
}

std::optional<double> retry_after_seconds(const HttpResponse& r) {
  const std::string_view v = trim(r.header("retry-after"));
  if (v.empty()) return std::nullopt;
  if (v.find_first_not_of("0123456789") == std::string_view::npos) {
    if (v.size() > 9) return 1e9;
    return static_cast<double>(std::stol(std::string(v)));
  }
  // An HTTP-date: "Wed, 21 Oct 2015 07:28:00 GMT".
  std::tm tm{};
  const std::string text(v);
  if (strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm) == nullptr) return std::nullopt;
  const double delta = std::difftime(timegm(&tm), std::time(nullptr));
  return delta > 0 ? delta : 0.0;
}

bool wait_for_retry(const Context& ctx, std::chrono::milliseconds wait) {
  using std::chrono::steady_clock;
  if (wait + std::chrono::milliseconds(200) >= ctx.remaining()) return false;
  const auto until = steady_clock::now() + wait;
  while (steady_clock::now() < until) {
    if (ctx.cancelled()) return false;
    std::this_thread::sleep_for(std::min<steady_clock::duration>(std::chrono::milliseconds(50),
                                                                 until - steady_clock::now()));
  }
  return true;
}

HttpResponse perform_with_retry(const HttpRequest& request, const HttpAuth& auth,
                                const Context& ctx, int max_retries) {
  for (int attempt = 0;; ++attempt) {
    HttpResponse r = perform(request, auth, ctx);
    r.retries = attempt;
    const bool throttled =
        r.curl == CURLE_OK &&
        (r.status == 429 || (r.status == 503 && !r.header("retry-after").empty()));
    if (!throttled || attempt >= max_retries) return r;
    const double wait_s = retry_after_seconds(r).value_or(1.0);
    if (!wait_for_retry(ctx, std::chrono::milliseconds(static_cast<long long>(wait_s * 1000))))
      return r;
  }
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

std::string url_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string redact(std::string text, const HttpAuth& auth) {
  for (const std::string* s : {&auth.password, &auth.bearer_token, &auth.key_pem}) {
    if (s->size() < 3) continue;
    for (auto at = text.find(*s); at != std::string::npos; at = text.find(*s, at + 3))
      text.replace(at, s->size(), "***");
  }
  return text;
}

}  // namespace triage::rest
