#include "prometheus_api.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>

namespace triage::cluster::prom {
namespace {

using nlohmann::json;

constexpr std::string_view kConnectionProperties = R"json(
    "target": {
      "type": "string",
      "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://",
      "minLength": 8,
      "maxLength": 2048,
      "examples": ["http://prometheus.internal:9090"],
      "description": "Prometheus' base URL, e.g. http://prometheus.internal:9090, with its path prefix when it serves under one (--web.route-prefix / --web.external-url), e.g. https://monitor.example.com/prometheus. No credentials, query or fragment in the URL."
    },
    "bearer_token": {
      "type": "string", "writeOnly": true, "x-triage-secret": true,
      "minLength": 1,
      "maxLength": 65536,
      "description": "Sent as Authorization: Bearer TOKEN (a reverse proxy's or a managed Prometheus' token). A secret: give it as ${env:NAME} or ${file:PATH}."
    },
    "username": {
      "type": "string",
      "minLength": 1,
      "maxLength": 1024,
      "description": "HTTP basic auth user (Prometheus' --web.config.file basic_auth_users, or a reverse proxy); with password."
    },
    "password": {
      "type": "string", "writeOnly": true, "x-triage-secret": true,
      "minLength": 1,
      "maxLength": 65536,
      "description": "HTTP basic auth password, a secret: give it as ${env:NAME} or ${file:PATH}."
    },
    "ca_file": {
      "type": "string",
      "minLength": 1,
      "maxLength": 4096,
      "description": "PEM file of the CA certificate(s) to trust for an https target (default: the system's). Certificates and host names are always verified."
    },
    "cert_file": {
      "type": "string",
      "minLength": 1,
      "maxLength": 4096,
      "description": "PEM client certificate for mutual TLS (Prometheus' --web.config.file client_auth_type); with key_file."
    },
    "key_file": {
      "type": "string",
      "minLength": 1,
      "maxLength": 4096,
      "description": "PEM private key of cert_file."
    })json";

// A query longer than this (URL-encoded) goes in a POST form: URLs of more
// than a few KiB are refused by some proxies.
constexpr std::size_t kMaxGetQuery = 4096;

// Excerpts of an answer that is not the API's JSON (an HTML error page).
constexpr std::size_t kExcerpt = 200;

std::string seconds_text(double seconds) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", seconds);
  return buf;
}

// Prometheus writes sample values as strings: "1", "1e+06", "NaN", "+Inf", "-Inf".
std::optional<double> parse_value(const json& v) {
  if (v.is_number()) return v.get<double>();
  if (!v.is_string()) return std::nullopt;
  std::string_view s = v.get_ref<const std::string&>();
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  double out = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return out;
}

// A [timestamp, "value"] pair into sample; false when it is none.
bool read_pair(const json& pair, Sample& sample) {
  if (!pair.is_array() || pair.size() != 2 || !pair[0].is_number()) return false;
  sample.timestamp = pair[0].get<double>();
  const auto value = parse_value(pair[1]);
  if (!value) return false;
  sample.value = *value;
  return true;
}

Labels read_labels(const json& metric) {
  Labels labels;
  if (!metric.is_object()) return labels;
  for (const auto& [k, v] : metric.items())
    if (v.is_string()) labels[k] = v.get<std::string>();
  return labels;
}

// The first line of an answer that is not JSON, for a reason.
std::string excerpt(std::string_view body) {
  std::size_t start = 0;
  while (start < body.size() && std::isspace(static_cast<unsigned char>(body[start]))) ++start;
  body.remove_prefix(start);
  body = body.substr(0, body.find_first_of("\r\n"));
  return abbreviate(body, kExcerpt);
}

// Reads data.result of a successful answer into r; false when malformed.
bool read_data(const json& data, QueryResult& r) {
  if (!data.is_object() || !data.contains("resultType") || !data["resultType"].is_string() ||
      !data.contains("result"))
    return false;
  r.result_type = data["resultType"].get<std::string>();
  const json& result = data["result"];
  if (r.result_type == "scalar" || r.result_type == "string") {
    Sample s;
    if (r.result_type == "string") {
      if (!result.is_array() || result.size() != 2) return false;
      s.numeric = false;
    } else if (!read_pair(result, s)) {
      return false;
    }
    r.series.push_back(std::move(s));
    return true;
  }
  if ((r.result_type != "vector" && r.result_type != "matrix") || !result.is_array()) return false;
  for (const auto& item : result) {
    if (!item.is_object()) return false;
    Sample s;
    s.labels = read_labels(item.value("metric", json::object()));
    if (r.result_type == "vector" && item.contains("value")) {
      if (!read_pair(item["value"], s)) return false;
    } else if (r.result_type == "matrix" && item.contains("values") && item["values"].is_array() &&
               !item["values"].empty()) {
      // A range vector: its newest sample stands for the series.
      if (!read_pair(item["values"].back(), s)) return false;
    } else if (item.contains("histogram") || item.contains("histograms")) {
      s.numeric = false;  // a native histogram has no single value
    } else {
      return false;
    }
    r.series.push_back(std::move(s));
  }
  return true;
}

QueryResult from_http(const HttpResponse& response, const HttpAuth& auth) {
  QueryResult r;
  if (response.cancelled) {
    r.failure = Failure::cancelled;
    r.reason = response.curl_error.empty() ? "cancelled" : response.curl_error;
  } else if (response.curl == CURLE_OPERATION_TIMEDOUT) {
    r.failure = Failure::timed_out;
    r.reason = describe_failure(response);
  } else if (response.curl != CURLE_OK) {
    r.failure = Failure::unreachable;
    r.reason = describe_failure(response);
  } else {
    r = parse_query_response(response.status, response.body, response.body_truncated);
  }
  r.elapsed_ms = response.elapsed_ms;
  r.reason = redact(r.reason, auth);
  r.error = redact(r.error, auth);
  return r;
}

bool readable(const std::string& path) {
  std::ifstream in(path);
  return in.good();
}

std::string hex8(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08x", v);
  return buf;
}

}  // namespace

QueryResult parse_query_response(long http_status, std::string_view body, bool truncated) {
  QueryResult r;
  r.http_status = http_status;
  const std::string status_text = "HTTP " + std::to_string(http_status);
  if (truncated) {
    r.failure = Failure::too_large;
    r.reason = "the answer is larger than " + std::to_string(kMaxBody / (1024 * 1024)) +
               " MiB: narrow the query (a stricter selector, topk(), sum by (...))";
    return r;
  }
  const json j = json::parse(body.begin(), body.end(), nullptr, false);
  const bool api = j.is_object() && j.contains("status") && j["status"].is_string();
  if (api) {
    r.error_type = j.value("errorType", std::string());
    r.error = j.value("error", std::string());
    if (j.contains("warnings") && j["warnings"].is_array())
      for (const auto& w : j["warnings"])
        if (w.is_string()) r.warnings.push_back(w.get<std::string>());
  }
  // What Prometheus said, or the start of whatever else answered.
  std::string said;
  if (api && (!r.error_type.empty() || !r.error.empty()))
    said = r.error_type + (r.error_type.empty() || r.error.empty() ? "" : ": ") + r.error;
  else if (!api && !body.empty())
    said = "\"" + excerpt(body) + "\"";
  const std::string reason = status_text + (said.empty() ? "" : ", " + said);

  if (http_status >= 200 && http_status < 300) {
    if (!api) {
      r.failure = Failure::not_prometheus;
      r.reason = "the answer (" + reason + ") is not Prometheus API JSON";
    } else if (j["status"] != "success") {
      r.failure = Failure::rejected;
      r.reason = reason;
    } else if (!read_data(j.value("data", json()), r)) {
      r.failure = Failure::not_prometheus;
      r.series.clear();
      r.reason = "the answer (" + status_text + ") holds no query result Prometheus would give";
    }
    return r;
  }
  r.reason = reason;
  if (http_status >= 300 && http_status < 400) {
    r.failure = Failure::not_prometheus;
    r.reason +=
        ": a redirect, which is not followed: give the URL it leads to as target "
        "(e.g. https:// instead of http://)";
    return r;
  }
  if (http_status == 401 || http_status == 403)
    r.failure = Failure::unauthorized;
  else if (http_status == 404 || http_status == 405 ||
           (http_status < 500 && !api && http_status != 429))
    r.failure = Failure::not_prometheus;
  else if (http_status == 429 || http_status >= 500)
    r.failure = Failure::unavailable;
  else
    r.failure = Failure::rejected;
  if (r.failure == Failure::not_prometheus && http_status == 404)
    r.reason += ": no Prometheus API under this URL";
  return r;
}

std::map<std::pair<std::string, std::string>, std::string> parse_target_errors(
    std::string_view body) {
  std::map<std::pair<std::string, std::string>, std::string> out;
  const json j = json::parse(body.begin(), body.end(), nullptr, false);
  if (!j.is_object() || !j.contains("data") || !j["data"].is_object()) return out;
  const json targets = j["data"].value("activeTargets", json::array());
  if (!targets.is_array()) return out;
  for (const auto& t : targets) {
    if (!t.is_object() || t.value("health", std::string()) == "up") continue;
    const Labels labels = read_labels(t.value("labels", json::object()));
    const std::string error = t.value("lastError", std::string());
    const auto job = labels.find("job");
    const auto instance = labels.find("instance");
    if (error.empty() || job == labels.end() || instance == labels.end()) continue;
    out[{job->second, instance->second}] = error;
  }
  return out;
}

QueryResult Client::query(const Context& ctx, const std::string& promql, long max_ms,
                          std::optional<double> time) const {
  long budget = static_cast<long>(ctx.remaining().count());
  if (max_ms > 0) budget = std::min(budget, max_ms);
  std::string form = "query=" + url_encode(promql);
  if (time) form += "&time=" + seconds_text(*time);
  // Prometheus abandons the evaluation by then (capped by its --query.timeout),
  // a little before this side gives up waiting.
  if (budget > 0) form += "&timeout=" + seconds_text(std::max(0.001, budget * 0.9 / 1000.0));
  HttpRequest request;
  request.headers.emplace_back("Accept: application/json");
  if (form.size() <= kMaxGetQuery) {
    request.url = base_url_ + "/api/v1/query?" + form;
  } else {
    request.method = "POST";
    request.url = base_url_ + "/api/v1/query";
    request.headers.emplace_back("Content-Type: application/x-www-form-urlencoded");
    request.headers.emplace_back("Expect:");  // no 100-continue round trip
    request.body = std::move(form);
  }
  return from_http(perform(request, auth_, ctx, max_ms), auth_);
}

std::map<std::pair<std::string, std::string>, std::string> Client::target_errors(
    const Context& ctx, long max_ms) const {
  HttpRequest request;
  request.url = base_url_ + "/api/v1/targets?state=active";
  request.headers.emplace_back("Accept: application/json");
  const HttpResponse response = perform(request, auth_, ctx, max_ms);
  if (!response.ok() || response.body_truncated) return {};
  auto errors = parse_target_errors(response.body);
  for (auto& [_, e] : errors) e = redact(e, auth_);
  return errors;
}

Client read_client(Context& ctx, std::string_view schema) {
  if (!ctx.params().is_object()) throw ParamError("params must be a JSON object");
  const json parsed = json::parse(schema.begin(), schema.end(), nullptr, false);
  const json properties = parsed.is_object() ? parsed.value("properties", json::object()) : json();
  if (properties.is_object())
    for (const auto& item : ctx.params().items())
      if (!properties.contains(item.key())) throw ParamError("unknown param '" + item.key() + "'");
  const std::string base = read_base_url(ctx.target(), "target");
  HttpAuth auth = read_auth(ctx);
  for (const auto& [param, path] :
       {std::pair{"ca_file", &auth.ca_file}, std::pair{"cert_file", &auth.cert_file},
        std::pair{"key_file", &auth.key_file}})
    if (!path->empty() && !readable(*path))
      throw ParamError("param '" + std::string(param) + "': cannot read " + *path);
  for (const auto& [param, value] :
       {std::pair{"password", &auth.password}, std::pair{"bearer_token", &auth.bearer_token}})
    if (value->find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos)
      throw ParamError("param '" + std::string(param) + "' contains a line break");
  if (ctx.has("username") && auth.username.find(':') != std::string::npos)
    throw ParamError("param 'username' must not contain ':' (HTTP basic auth)");
  if (base.rfind("http://", 0) == 0 && (!auth.password.empty() || !auth.bearer_token.empty()))
    ctx.log(LogLevel::warning,
            "credentials are sent to " + base + " over plain http: use an https target");
  return Client(base, std::move(auth));
}

std::string params_schema(std::string_view title, std::string_view own_properties,
                          const std::vector<std::string>& required) {
  std::string s = R"json({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": ")json";
  s.append(title).append(R"json(",
  "type": "object",
  "properties": {)json");
  s.append(kConnectionProperties);
  if (!own_properties.empty()) s.append(",").append(own_properties);
  s.append("\n  },\n  \"required\": [\"target\"");
  for (const auto& r : required) s.append(", \"").append(r).append("\"");
  s.append("],\n  \"additionalProperties\": false\n}");
  return s;
}

void report_failure(Context& ctx, const Client& client, const QueryResult& r,
                    std::string_view what) {
  const std::string where = client.base_url();
  if (r.http_status != 0) ctx.attribute("http_status", std::to_string(r.http_status));
  if (!r.error_type.empty()) ctx.attribute("error_type", r.error_type);
  const std::string request = std::string(what) + " on " + where;
  auto critical = [&](const std::string& title, const std::string& detail,
                      const char* remediation) {
    ctx.finding(Severity::critical, title, detail, remediation);
    ctx.status(Status::critical, title + ": " + r.reason + " (" + where + ")");
  };
  switch (r.failure) {
    case Failure::none:
      return;
    case Failure::cancelled:
      if (ctx.remaining().count() > 0) return ctx.error("cancelled during " + std::string(what));
      [[fallthrough]];
    case Failure::timed_out:
      return critical(
          "Prometheus did not answer in time",
          request + ": " +
              (r.failure == Failure::cancelled ? "the check's deadline passed" : r.reason),
          "Prometheus is overloaded or the path to it drops packets: check its process and "
          "its own metrics (prometheus_engine_query_duration_seconds, memory, "
          "prometheus_tsdb_head_series), the network path (mtr HOST), and slow queries in its "
          "query log; or raise the check's timeout.");
    case Failure::unreachable:
      return critical("Prometheus is unreachable", request + ": " + r.reason,
                      "Prometheus is down or not reachable from here (runbook: Service Down, "
                      "Connection Timeout): check its process (systemctl status prometheus; "
                      "journalctl -u prometheus --since -10m), that it listens on this address "
                      "(--web.listen-address), firewall rules, and for https the certificate "
                      "(ca_file).");
    case Failure::unavailable:
      return critical("Prometheus is unavailable (HTTP " + std::to_string(r.http_status) + ")",
                      request + ": " + r.reason,
                      "Prometheus (or the proxy in front of it) cannot answer now: it is "
                      "starting (replaying its WAL), overloaded (queries time out: errorType "
                      "timeout), or out of memory; check its log and its /-/ready endpoint, "
                      "and for a proxy its upstream.");
    case Failure::unauthorized:
      return critical(
          "Prometheus refused the credentials (HTTP " + std::to_string(r.http_status) + ")",
          request + ": " + r.reason,
          "Check username/password or bearer_token (expired or revoked tokens), "
          "and that this identity may query the API (Prometheus' --web.config.file "
          "basic_auth_users, or the reverse proxy's rules).");
    case Failure::rejected:
      return ctx.error("Prometheus rejected " + std::string(what) + ": " + r.reason);
    case Failure::not_prometheus:
    case Failure::too_large:
      return ctx.error(request + ": " + r.reason);
  }
}

std::string label_text(const Labels& labels, bool with_name) {
  std::string out;
  for (const auto& [k, v] : labels) {
    if (k == "__name__" && !with_name) continue;
    if (!out.empty()) out += ',';
    out += k;
    out += "=\"";
    for (const char c : v) {
      if (c == '\\' || c == '"') out += '\\';
      if (c == '\n') {
        out += "\\n";
        continue;
      }
      out += c;
    }
    out += '"';
  }
  return out;
}

std::string series_text(const Labels& labels) {
  const auto name = labels.find("__name__");
  const std::string rest = label_text(labels);
  if (name == labels.end()) return "{" + rest + "}";
  return rest.empty() ? name->second : name->second + "{" + rest + "}";
}

std::string fit_item(std::string_view declared, std::string item) {
  constexpr std::size_t kMaxName = 128;  // the core's limit on a metric name
  if (declared.size() > 3 && declared.substr(declared.size() - 3) == "[*]")
    declared.remove_suffix(3);
  const std::size_t room = kMaxName - std::min(kMaxName - 16, declared.size() + 2);
  if (item.size() <= room) return item;
  std::uint32_t hash = 2166136261u;  // FNV-1a
  for (const char c : item) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 16777619u;
  }
  std::size_t cut = room - 9;
  while (cut > 0 && (static_cast<unsigned char>(item[cut]) & 0xC0) == 0x80) --cut;
  item.resize(cut);
  return item + "~" + hex8(hash);
}

bool valid_duration(std::string_view text) {
  if (text.empty() || text.size() > 32) return false;
  bool nonzero = false;
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t digits = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') nonzero |= text[i++] != '0';
    if (i == digits || i == text.size()) return false;
    if (text.substr(i, 2) == "ms") {
      i += 2;
    } else if (std::string_view("smhdwy").find(text[i]) != std::string_view::npos) {
      ++i;
    } else {
      return false;
    }
  }
  return nonzero;
}

void check_selector(std::string_view text, const std::string& param) {
  char quote = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n' || c == '\r')
      throw ParamError("param '" + param + "' must be one line of label matchers");
    if (quote != 0) {
      if (c == '\\' && quote != '`') {
        ++i;
      } else if (c == quote) {
        quote = 0;
      }
      continue;
    }
    if (c == '"' || c == '\'' || c == '`') {
      quote = c;
    } else if (std::string_view("{}()[]").find(c) != std::string_view::npos) {
      throw ParamError("param '" + param +
                       "' takes label matchers only, as inside {...}: e.g. job=\"node\"");
    }
  }
  if (quote != 0) throw ParamError("param '" + param + "' has an unclosed quote");
}

std::string one_decimal(double v) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[48];
  if (v == std::floor(v) && std::fabs(v) < 1e15)
    std::snprintf(buf, sizeof buf, "%.0f", v);
  else
    std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::string list_some(const std::vector<std::string>& items, std::size_t max) {
  std::string out;
  for (std::size_t i = 0; i < items.size() && i < max; ++i) out += (i ? ", " : "") + items[i];
  if (items.size() > max) out += " and " + std::to_string(items.size() - max) + " more";
  return out;
}

std::string abbreviate(std::string_view text, std::size_t max) {
  if (text.size() <= max) return std::string(text);
  std::size_t cut = max > 3 ? max - 3 : 0;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return std::string(text.substr(0, cut)) + "...";
}

std::string one_line(std::string_view text) {
  std::string out;
  bool space = false;
  for (const char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

}  // namespace triage::cluster::prom
