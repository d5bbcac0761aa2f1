#include "azure_endpoint.hpp"

#include <curl/curl.h>

#include <cctype>
#include <memory>
#include <optional>

#include <triage/plugin.hpp>

namespace triage::storage::azure {
namespace {

struct UrlDeleter {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};

std::optional<std::string> part(CURLU* u, CURLUPart which) {
  char* s = nullptr;
  if (curl_url_get(u, which, &s, 0) != CURLUE_OK || s == nullptr) return std::nullopt;
  std::string out(s);
  curl_free(s);
  return out;
}

bool is_ip_literal(std::string_view host) {
  if (!host.empty() && host.front() == '[') return true;  // IPv6
  for (char c : host)
    if (std::isdigit(static_cast<unsigned char>(c)) == 0 && c != '.') return false;
  return true;
}

}  // namespace

std::string url_encode(std::string_view s, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) != 0 || c == '-' || c == '.' || c == '_' || c == '~' ||
        (keep_slash && c == '/')) {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 0x0f];
    }
  }
  return out;
}

std::string query_string(const std::vector<std::pair<std::string, std::string>>& query,
                         std::string_view extra) {
  std::string out;
  for (const auto& [n, v] : query) out += (out.empty() ? "?" : "&") + n + "=" + url_encode(v);
  if (!extra.empty()) out += (out.empty() ? "?" : "&") + std::string(extra);
  return out;
}

Endpoint parse_endpoint(std::string_view target, std::string_view account) {
  const std::string text(target);
  if (text.find('?') != std::string::npos || text.find('#') != std::string::npos)
    throw ParamError(
        "param 'target' must be the account endpoint without a query or fragment; give a SAS "
        "token in 'sas_token' (which is kept secret), not in the URL");
  std::unique_ptr<CURLU, UrlDeleter> u(curl_url());
  if (!u || curl_url_set(u.get(), CURLUPART_URL, text.c_str(), 0) != CURLUE_OK)
    throw ParamError(
        "param 'target' is not a URL (expected e.g. https://ACCOUNT.blob.core.windows.net)");
  Endpoint ep;
  std::string scheme = part(u.get(), CURLUPART_SCHEME).value_or("");
  for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "http" && scheme != "https")
    throw ParamError("param 'target' must be an http:// or https:// URL");
  if (part(u.get(), CURLUPART_USER) || part(u.get(), CURLUPART_PASSWORD))
    throw ParamError("param 'target' must not contain user:password; use the auth params");
  ep.https = scheme == "https";
  std::string host = part(u.get(), CURLUPART_HOST).value_or("");
  for (auto& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (host.empty()) throw ParamError("param 'target' has no host");
  if (const auto dfs = host.find(".dfs."); dfs != std::string::npos) {
    host.replace(dfs, 5, ".blob.");
    ep.rewritten_from_dfs = true;
  }
  const auto port = part(u.get(), CURLUPART_PORT);
  ep.origin = scheme + "://" + host + (port ? ":" + *port : "");

  std::string path = part(u.get(), CURLUPART_PATH).value_or("/");
  while (!path.empty() && path.back() == '/') path.pop_back();
  ep.base_path = path;

  if (!account.empty()) {
    ep.account = std::string(account);
  } else if (!path.empty()) {
    const auto slash = path.find('/', 1);
    ep.account = path.substr(1, slash == std::string::npos ? std::string::npos : slash - 1);
  } else if (!is_ip_literal(host) && host.find('.') != std::string::npos) {
    ep.account = host.substr(0, host.find('.'));
  }
  if (ep.account.empty())
    throw ParamError(
        "cannot tell the storage account from param 'target': give 'account', or a URL like "
        "https://ACCOUNT.blob.core.windows.net or http://127.0.0.1:10000/ACCOUNT");
  for (char c : ep.account)
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '-')
      throw ParamError("the storage account name '" + ep.account +
                       "' may hold only letters and digits");
  return ep;
}

Endpoint secondary_endpoint(const Endpoint& primary) {
  Endpoint ep = primary;
  ep.rewritten_from_dfs = false;
  const std::string suffix = "-secondary";
  if (!primary.base_path.empty()) {
    const auto slash = primary.base_path.find('/', 1);
    const std::string first =
        primary.base_path.substr(1, slash == std::string::npos ? std::string::npos : slash - 1);
    if (first == primary.account) {
      ep.base_path = "/" + primary.account + suffix;
      return ep;
    }
  } else {
    const auto scheme_end = primary.origin.find("://");
    const auto host_at = scheme_end == std::string::npos ? 0 : scheme_end + 3;
    const std::string host = primary.origin.substr(host_at);
    std::string account = primary.account;
    for (auto& c : account) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (host.rfind(account + ".blob.", 0) == 0) {
      ep.origin =
          primary.origin.substr(0, host_at) + account + suffix + host.substr(account.size());
      return ep;
    }
  }
  throw ParamError(
      "cannot derive the secondary endpoint from param 'target' (expected "
      "https://ACCOUNT.blob.core.windows.net or http://HOST:PORT/ACCOUNT): give "
      "'secondary', e.g. https://ACCOUNT-secondary.blob.core.windows.net");
}

}  // namespace triage::storage::azure
