#include "kubernetes_api.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>

namespace triage::cluster::kube {
namespace {

using nlohmann::json;

std::string bounded(std::string s, std::size_t max) {
  if (s.size() <= max) return s;
  std::size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  s.resize(cut);
  return s + "...";
}

bool tls_error(CURLcode c) {
  return c == CURLE_SSL_CONNECT_ERROR || c == CURLE_PEER_FAILED_VERIFICATION ||
         c == CURLE_SSL_CERTPROBLEM || c == CURLE_SSL_CIPHER || c == CURLE_SSL_CACERT_BADFILE ||
         c == CURLE_SSL_ISSUER_ERROR || c == CURLE_SSL_PINNEDPUBKEYNOTMATCH ||
         c == CURLE_SSL_INVALIDCERTSTATUS || c == CURLE_SSL_CRL_BADFILE ||
         c == CURLE_SSL_ENGINE_INITFAILED || c == CURLE_USE_SSL_FAILED;
}

// A failed answer: transport failures in libcurl's words, HTTP ones from the
// API server's Status object when the body is one.
void read_failure(const HttpResponse& r, const HttpAuth& auth, ListOutcome& out) {
  out.http_status = r.status;
  if (r.curl != CURLE_OK) {
    out.message = bounded(describe_failure(r), kMaxMessage);
    if (r.cancelled)
      out.failure = Failure::cancelled;
    else if (r.curl == CURLE_OPERATION_TIMEDOUT)
      out.failure = Failure::timed_out;
    else if (tls_error(r.curl))
      out.failure = Failure::tls;
    else
      out.failure = Failure::unreachable;
    return;
  }
  const json status = json::parse(r.body, nullptr, false);
  if (status.is_object() && status.value("kind", json()) == "Status") {
    if (const auto it = status.find("reason"); it != status.end() && it->is_string())
      out.reason = bounded(it->get<std::string>(), 64);
    if (const auto it = status.find("message"); it != status.end() && it->is_string())
      out.message = bounded(redact(it->get<std::string>(), auth), kMaxMessage);
  }
  if (out.message.empty()) out.message = "HTTP " + std::to_string(r.status);
  const long s = r.status;
  out.failure = s == 401   ? Failure::unauthorized
                : s == 403 ? Failure::forbidden
                : s == 404 ? Failure::not_found
                : s == 429 ? Failure::throttled
                : s == 410 ? Failure::expired
                : s >= 500 ? Failure::unavailable
                           : Failure::rejected;
}

}  // namespace

std::string nodes_path() {
  return "/api/v1/nodes";
}

std::string pods_path(const std::string& ns) {
  return ns.empty() ? "/api/v1/pods" : "/api/v1/namespaces/" + ns + "/pods";
}

std::string deployments_path(const std::string& ns) {
  return ns.empty() ? "/apis/apps/v1/deployments"
                    : "/apis/apps/v1/namespaces/" + ns + "/deployments";
}

std::optional<std::int64_t> parse_time(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS, then an optional fraction, then Z or +hh:mm / -hh:mm.
  if (text.size() < 20 || text.size() > 40) return std::nullopt;
  int year = 0, mon = 0, day = 0, hour = 0, min = 0, sec = 0;
  const std::string head(text.substr(0, 19));
  char sep = 0;
  if (std::sscanf(head.c_str(), "%4d-%2d-%2d%c%2d:%2d:%2d", &year, &mon, &day, &sep, &hour, &min,
                  &sec) != 7 ||
      (sep != 'T' && sep != 't'))
    return std::nullopt;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  std::string_view rest = text.substr(19);
  if (!rest.empty() && rest.front() == '.') {
    rest.remove_prefix(1);
    while (!rest.empty() && rest.front() >= '0' && rest.front() <= '9') rest.remove_prefix(1);
  }
  std::int64_t offset = 0;
  if (rest == "Z" || rest == "z") {
  } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':') {
    int oh = 0, om = 0;
    if (std::sscanf(std::string(rest.substr(1)).c_str(), "%2d:%2d", &oh, &om) != 2)
      return std::nullopt;
    offset = (rest[0] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
  } else {
    return std::nullopt;
  }
  return static_cast<std::int64_t>(timegm(&tm)) - offset;
}

ListOutcome Client::list(const Context& ctx, const std::string& path, std::string_view kind,
                         long page_size, int max_pages,
                         const std::function<void(const json&)>& each,
                         const std::function<void()>& reset) const {
  ListOutcome out;
  std::string token;
  for (;;) {
    if (ctx.cancelled()) {
      out.failure = Failure::cancelled;
      out.message = "cancelled";
      return out;
    }
    HttpRequest request;
    request.url = base_url_ + path + "?limit=" + std::to_string(page_size);
    if (!token.empty()) request.url += "&continue=" + url_encode(token);
    request.headers.emplace_back("Accept: application/json");
    const HttpResponse r = perform_with_retry(request, auth_, ctx);
    out.retries += r.retries;
    out.slowest_ms = std::max(out.slowest_ms, r.elapsed_ms);
    if (!r.ok()) {
      read_failure(r, auth_, out);
      // An expired continue token: the list is restarted from its first page
      // once, for a consistent list (the API's advice); twice is reported.
      if (r.curl == CURLE_OK && r.status == 410 && !token.empty() && !out.restarted) {
        ListOutcome fresh;
        fresh.restarted = true;
        fresh.retries = out.retries;
        fresh.slowest_ms = out.slowest_ms;
        out = std::move(fresh);
        token.clear();
        reset();
        continue;
      }
      if (out.failure == Failure::expired && token.empty()) out.failure = Failure::rejected;
      return out;
    }
    if (r.body_truncated) {
      out.failure = Failure::too_large;
      out.http_status = r.status;
      out.message = "a page of " + std::string(kind) + " is larger than " +
                    std::to_string(kMaxBody / (1024 * 1024)) + " MiB: lower page_size";
      return out;
    }
    const json page = json::parse(r.body, nullptr, false);
    const auto malformed = [&](const std::string& why) {
      out.failure = Failure::malformed;
      out.http_status = r.status;
      out.message = "the answer to GET " + path + " is not a " + std::string(kind) + ": " + why;
      return out;
    };
    if (page.is_discarded()) return malformed("not JSON");
    if (!page.is_object()) return malformed("not a JSON object");
    const json k = page.value("kind", json());
    if (!k.is_string() || k.get<std::string>() != kind)
      return malformed(k.is_string() ? "its kind is " + bounded(k.get<std::string>(), 64)
                                     : "it has no kind");
    const json items = page.value("items", json());
    if (!items.is_array() && !items.is_null()) return malformed("its items are not a list");
    ++out.pages;
    if (items.is_array())
      for (const auto& item : items) {
        if (!item.is_object()) continue;
        ++out.items;
        each(item);
      }
    token.clear();
    if (const auto meta = page.find("metadata"); meta != page.end() && meta->is_object())
      if (const auto c = meta->find("continue"); c != meta->end() && c->is_string())
        token = c->get<std::string>();
    if (token.size() > 8192) return malformed("its continue token is longer than 8 KiB");
    if (token.empty()) return out;
    if (out.pages >= max_pages) {
      out.capped = true;
      return out;
    }
  }
}

}  // namespace triage::cluster::kube
