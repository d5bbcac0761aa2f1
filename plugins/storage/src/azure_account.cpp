#include "azure_account.hpp"

#include <chrono>
#include <cstdio>
#include <string>

namespace triage::storage::azure {

void reject_unknown_params(const Context& ctx, std::initializer_list<std::string_view> known) {
  if (!ctx.params().is_object()) throw ParamError("params must be a JSON object");
  for (const auto& item : ctx.params().items()) {
    static constexpr std::string_view kCredentialParams[] = {
        "tenant_id",        "client_id",         "client_secret",   "authority",
        "managed_identity", "identity_endpoint", "identity_header", "identity_ca_file"};
    bool found = false;
    for (auto k : known) found = found || k == item.key();
    for (auto k : kCredentialParams) found = found || k == item.key();
    if (!found) throw ParamError("unknown param '" + item.key() + "'");
  }
}

Account read_account(const Context& ctx) {
  Account a;
  a.endpoint = parse_endpoint(ctx.target(), ctx.param<std::string>("account", ""));

  a.credentials = azure_identity::read_credentials(ctx);
  const bool has_key = ctx.has("account_key"), has_sas = ctx.has("sas_token"),
             has_bearer = ctx.has("bearer_token"),
             has_ad = a.credentials.kind != azure_identity::Credentials::Kind::none;
  std::string auth = ctx.param<std::string>("auth", "");
  if (auth.empty()) {
    if (has_key + has_sas + has_bearer + has_ad > 1)
      throw ParamError(
          "more than one of account_key, sas_token, bearer_token and Azure AD credentials is "
          "given: set 'auth' to say which to use");
    auth = has_key      ? "shared_key"
           : has_sas    ? "sas"
           : has_bearer ? "bearer"
           : has_ad     ? "azure_ad"
                        : "anonymous";
  }
  // Secret values are never quoted in these messages.
  if (auth == "shared_key") {
    a.auth = Auth::shared_key;
    if (!has_key) throw ParamError("auth 'shared_key' needs param 'account_key'");
    auto key = base64_decode(ctx.required<std::string>("account_key"));
    if (!key || key->empty())
      throw ParamError("param 'account_key' is not base64 (copy key1 or key2 of the account)");
    a.key = std::move(*key);
  } else if (auth == "sas") {
    a.auth = Auth::sas;
    if (!has_sas) throw ParamError("auth 'sas' needs param 'sas_token'");
    try {
      a.sas = parse_sas(ctx.required<std::string>("sas_token"));
    } catch (const std::invalid_argument& e) {
      throw ParamError(std::string("param 'sas_token': ") + e.what());
    }
  } else if (auth == "bearer") {
    a.auth = Auth::bearer;
    if (!has_bearer) throw ParamError("auth 'bearer' needs param 'bearer_token'");
    a.bearer = ctx.required<std::string>("bearer_token");
    if (a.bearer.empty() ||
        a.bearer.find_first_of(std::string_view("\r\n\0 ", 4)) != std::string::npos)
      throw ParamError("param 'bearer_token' is empty or contains a space or line break");
    if (!a.endpoint.https)
      throw ParamError("auth 'bearer' sends the token only over https: use an https:// target");
  } else if (auth == "azure_ad") {
    a.auth = Auth::bearer;
    a.azure_ad = true;
    if (!has_ad)
      throw ParamError(
          "auth 'azure_ad' needs Azure AD credentials: tenant_id, client_id and client_secret, "
          "or managed_identity: true");
    if (!a.endpoint.https)
      throw ParamError("auth 'azure_ad' sends the token only over https: use an https:// target");
  } else if (auth == "anonymous") {
    a.auth = Auth::anonymous;
  } else {
    throw ParamError("param 'auth' must be one of shared_key, sas, bearer, azure_ad, anonymous");
  }

  if (ctx.has("ca_file")) {
    a.transport.ca_file = ctx.required<std::string>("ca_file");
    if (FILE* f = std::fopen(a.transport.ca_file->c_str(), "r")) {
      std::fclose(f);
    } else {
      throw ParamError("param 'ca_file': cannot read " + *a.transport.ca_file);
    }
  }
  return a;
}

bool authorize(Context& ctx, Account& account) {
  if (!account.azure_ad) return true;
  auto token = azure_identity::authenticate(ctx, account.credentials, kStorageResource);
  if (!token) return false;
  account.bearer = std::move(*token);
  return true;
}

HttpRequest make_request(const Account& a, const Endpoint& to, std::string method,
                         const std::string& path, std::vector<Header> query,
                         std::vector<Header> headers, std::optional<std::string> body,
                         std::size_t max_body) {
  headers.emplace_back("x-ms-date", rfc1123(std::chrono::system_clock::now()));
  headers.emplace_back("x-ms-version", std::string(kApiVersion));
  if (body) headers.emplace_back("Content-Length", std::to_string(body->size()));
  HttpRequest r;
  r.method = std::move(method);
  r.max_body = max_body;
  r.url = to.origin + to.base_path + path +
          query_string(query, a.sas ? std::string_view(a.sas->token) : "");
  if (a.auth == Auth::shared_key) {
    // The signature names the account (never "-secondary") and the path as sent.
    const std::string full_path = to.base_path + path;
    const SignedParts parts{r.method, a.endpoint.account, full_path, query, headers};
    headers.emplace_back("Authorization",
                         shared_key_authorization(a.endpoint.account, a.key, parts));
  } else if (a.auth == Auth::bearer) {
    headers.emplace_back("Authorization", "Bearer " + a.bearer);
  }
  for (const auto& [n, v] : headers) r.headers.push_back(n + ": " + v);
  r.headers.emplace_back("Expect:");  // no 100-continue round trip for a tiny body
  r.body = std::move(body);
  return r;
}

void report_http_failure(Context& ctx, const Account& a, std::string_view operation,
                         std::string_view where, const HttpResponse& r) {
  const auto body = parse_error_xml(r.body);
  const std::string code = !r.error_code.empty() ? r.error_code : body.code;
  HttpFailure f;
  f.operation = operation;
  f.where = where;
  f.status = r.status;
  f.code = code;
  f.message = body.message;
  f.auth = a.auth;
  if (a.sas) {
    f.sas_expiry_text = a.sas->expiry_text;
    f.sas_expiry = a.sas->expiry;
  }
  f.now = std::chrono::system_clock::now();
  const auto d = diagnose_http(f);
  ctx.finding(d.severity, d.title, d.detail, d.remediation);
  ctx.attribute("http_status", std::to_string(r.status));
  if (!code.empty()) ctx.attribute("error_code", code);
  // Azure support finds the failed request by this id.
  if (!r.request_id.empty()) ctx.attribute("request_id", r.request_id);
  if (r.retries > 0) ctx.attribute("throttled_retries", std::to_string(r.retries));
  ctx.status(d.severity == Severity::critical ? Status::critical : Status::warning,
             std::string(operation) + " failed: " + d.title);
}

void report_no_answer(Context& ctx, std::string_view operation, std::string_view where,
                      const HttpResponse& r) {
  if (r.cancelled) {
    if (ctx.remaining().count() > 0) {
      ctx.error("cancelled during " + std::string(operation));
      return;
    }
    ctx.finding(Severity::critical, "The storage endpoint did not answer in time",
                std::string(operation) + " on " + std::string(where) +
                    " was still running at the check's deadline.",
                "The endpoint is unreachable or very slow: check routing and firewalls, "
                "proxies and Azure Service Health, or raise the check's timeout.");
    ctx.status(Status::critical, std::string(operation) + " timed out");
    return;
  }
  const auto d = diagnose_transport(r.curl, r.curl_error, where);
  ctx.finding(d.severity, d.title, d.detail, d.remediation);
  ctx.status(Status::critical, std::string(operation) + " failed: " + d.title);
}

std::optional<HttpResponse> send(Context& ctx, const Account& a, std::string_view operation,
                                 const HttpRequest& request, std::string_view where) {
  auto r = perform_with_retry(request, a.transport, ctx);
  if (r.cancelled || r.curl != CURLE_OK) {
    report_no_answer(ctx, operation, where, r);
    return std::nullopt;
  }
  if (r.status >= 200 && r.status < 300) return r;
  report_http_failure(ctx, a, operation, where, r);
  return std::nullopt;
}

}  // namespace triage::storage::azure
