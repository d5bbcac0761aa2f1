// The Databricks REST client of databricks_api.hpp: requests, paging, the
// API's error bodies ({"error_code": "...", "message": "..."}; error_code is
// a number in some 401/403 answers) and the parsing of clusters and runs.
#include "databricks_api.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <set>
#include <stdexcept>

namespace triage::cluster::databricks {

namespace {

using nlohmann::json;

std::string cut(std::string s, std::size_t max = kMaxTextField) {
  if (s.size() <= max) return s;
  std::size_t at = max;
  while (at > 0 && (static_cast<unsigned char>(s[at]) & 0xC0) == 0x80) --at;
  s.resize(at);
  return s + "...";
}

// Text on one line: line breaks and tabs become spaces.
std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string text(const json& object, const char* key, std::size_t max = kMaxTextField) {
  if (!object.is_object()) return {};
  const auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return {};
  return cut(one_line(it->get<std::string>()), max);
}

// An integer field: a JSON number, or a decimal string as some proxies
// re-encode 64-bit integers.
std::optional<std::int64_t> integer(const json& object, const char* key) {
  if (!object.is_object()) return std::nullopt;
  const auto it = object.find(key);
  if (it == object.end()) return std::nullopt;
  if (it->is_number_integer()) return it->get<std::int64_t>();
  if (it->is_number_unsigned()) {
    const auto v = it->get<std::uint64_t>();
    if (v > static_cast<std::uint64_t>(INT64_MAX)) return std::nullopt;
    return static_cast<std::int64_t>(v);
  }
  if (it->is_number_float()) {
    const double d = it->get<double>();
    if (!std::isfinite(d) || std::fabs(d) > 9e15) return std::nullopt;
    return static_cast<std::int64_t>(d);
  }
  if (it->is_string()) {
    const auto& s = it->get_ref<const std::string&>();
    if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string::npos)
      return std::nullopt;
    return std::stoll(s);
  }
  return std::nullopt;
}

// A parameter value of any JSON type, as text.
std::string value_text(const json& v) {
  if (v.is_string()) return cut(one_line(v.get<std::string>()));
  return cut(one_line(v.dump()));
}

Cluster cluster_from(const json& c) {
  Cluster out;
  if (!c.is_object()) return out;
  out.id = text(c, "cluster_id", 200);
  out.name = text(c, "cluster_name", 200);
  out.state = text(c, "state", 40);
  out.state_message = text(c, "state_message");
  out.source = text(c, "cluster_source", 40);
  out.num_workers = integer(c, "num_workers");
  if (const auto e = c.find("executors"); e != c.end() && e->is_array())
    out.executors = static_cast<std::int64_t>(e->size());
  if (const auto a = c.find("autoscale"); a != c.end() && a->is_object()) {
    out.min_workers = integer(*a, "min_workers");
    out.max_workers = integer(*a, "max_workers");
  }
  out.start_time_ms = integer(c, "start_time").value_or(0);
  out.terminated_time_ms = integer(c, "terminated_time").value_or(0);
  if (const auto t = c.find("termination_reason"); t != c.end() && t->is_object()) {
    out.termination.code = text(*t, "code", 100);
    out.termination.type = text(*t, "type", 40);
    if (const auto p = t->find("parameters"); p != t->end() && p->is_object())
      for (const auto& [k, v] : p->items()) {
        if (out.termination.parameters.size() >= kMaxTerminationParams) break;
        out.termination.parameters.emplace_back(cut(one_line(k), 100), value_text(v));
      }
  }
  return out;
}

json parse_object(std::string_view body, const char* what) {
  json doc = json::parse(body, nullptr, false);
  if (doc.is_discarded()) throw std::runtime_error(std::string(what) + " is not JSON");
  if (!doc.is_object()) throw std::runtime_error(std::string(what) + " is not a JSON object");
  return doc;
}

// A list member that the API leaves out when it is empty.
const json* optional_array(const json& doc, const char* key, const char* what) {
  const auto it = doc.find(key);
  if (it == doc.end() || it->is_null()) return nullptr;
  if (!it->is_array())
    throw std::runtime_error(std::string(what) + ": \"" + key + "\" is not a list");
  return &*it;
}

bool server_error(long status) {
  return status >= 500 && status <= 599;
}

// Fills outcome from an HTTP answer that is not a success.
void classify(const HttpResponse& r, const HttpAuth& auth, bool is_get, Outcome& o) {
  o.http_status = r.status;
  // The API's error body; any other body (an HTML error page of a proxy)
  // is not quoted.
  const json doc = json::parse(r.body, nullptr, false);
  if (doc.is_object()) {
    if (const auto c = doc.find("error_code"); c != doc.end()) {
      if (c->is_string())
        o.error_code = cut(one_line(c->get<std::string>()), 100);
      else if (c->is_number())
        o.error_code = c->dump();
    }
    o.message = redact(text(doc, "message", 300), auth);
  }
  if (o.message.empty())
    o.message =
        redact(cut(one_line(std::string(r.header("x-databricks-reason-phrase"))), 300), auth);
  const std::string said = lower(o.message);
  if (r.status == 401) {
    o.failure = Failure::unauthenticated;
  } else if (r.status == 403) {
    // Databricks answers 403 both for a token it does not accept ("Invalid
    // access token.", error_code 403) and for an identity without the
    // permission (PERMISSION_DENIED).
    const bool token =
        o.error_code != "PERMISSION_DENIED" &&
        (said.find("token") != std::string::npos || said.find("credential") != std::string::npos ||
         said.find("authenticat") != std::string::npos);
    o.failure = token ? Failure::unauthenticated : Failure::forbidden;
  } else if (r.status == 404 || o.error_code == "RESOURCE_DOES_NOT_EXIST" ||
             (is_get && r.status == 400 && o.error_code == "INVALID_PARAMETER_VALUE" &&
              said.find("does not exist") != std::string::npos)) {
    o.failure = Failure::not_found;
  } else if (r.status == 429) {
    o.failure = Failure::throttled;
  } else if (server_error(r.status)) {
    o.failure = Failure::unavailable;
  } else {
    o.failure = Failure::rejected;
  }
  o.reason = "HTTP " + std::to_string(r.status);
  if (!o.error_code.empty()) o.reason += " " + o.error_code;
  if (!o.message.empty()) o.reason += ": " + o.message;
  if (o.failure == Failure::throttled) {
    if (const auto wait = retry_after_seconds(r))
      o.reason += " (Retry-After " + std::to_string(static_cast<long long>(*wait)) + " s)";
    if (r.retries > 0) o.reason += " after " + std::to_string(r.retries) + " wait(s)";
  }
}

}  // namespace

ClusterPage parse_cluster_page(std::string_view body) {
  const json doc = parse_object(body, "the clusters/list answer");
  ClusterPage page;
  if (const json* list = optional_array(doc, "clusters", "the clusters/list answer"))
    for (const auto& c : *list) {
      if (page.clusters.size() >= kMaxClusters) break;
      if (c.is_object()) page.clusters.push_back(cluster_from(c));
    }
  page.next_page_token = text(doc, "next_page_token", 4096);
  return page;
}

Cluster parse_cluster(std::string_view body) {
  const json doc = parse_object(body, "the clusters/get answer");
  Cluster c = cluster_from(doc);
  if (c.id.empty()) throw std::runtime_error("the clusters/get answer has no cluster_id");
  return c;
}

RunPage parse_run_page(std::string_view body) {
  const json doc = parse_object(body, "the jobs/runs/list answer");
  RunPage page;
  if (const json* list = optional_array(doc, "runs", "the jobs/runs/list answer"))
    for (const auto& r : *list) {
      if (page.runs.size() >= kMaxRuns) break;
      if (!r.is_object()) continue;
      Run run;
      run.job_id = integer(r, "job_id").value_or(0);
      run.run_id = integer(r, "run_id").value_or(0);
      run.run_name = text(r, "run_name", 200);
      if (const auto s = r.find("state"); s != r.end() && s->is_object()) {
        run.life_cycle_state = text(*s, "life_cycle_state", 40);
        run.result_state = text(*s, "result_state", 40);
        run.state_message = text(*s, "state_message");
      }
      run.trigger = text(r, "trigger", 40);
      run.run_page_url = text(r, "run_page_url", 300);
      run.start_time_ms = integer(r, "start_time").value_or(0);
      run.end_time_ms = integer(r, "end_time").value_or(0);
      page.runs.push_back(std::move(run));
    }
  if (const auto m = doc.find("has_more"); m != doc.end() && m->is_boolean())
    page.has_more = m->get<bool>();
  page.next_page_token = text(doc, "next_page_token", 4096);
  return page;
}

std::optional<std::string> Client::get(const Context& ctx, const std::string& path_and_query,
                                       Outcome& o) const {
  HttpRequest request;
  request.url = base_url_ + path_and_query;
  request.headers.push_back("Accept: application/json");
  const HttpResponse r = perform_with_retry(request, auth_, ctx);
  ++o.requests;
  o.retries += r.retries;
  o.slowest_ms = std::max(o.slowest_ms, r.elapsed_ms);
  if (r.cancelled) {
    o.failure = Failure::cancelled;
    o.reason = ctx.remaining().count() > 0 ? "cancelled" : "the check's deadline passed";
    return std::nullopt;
  }
  if (r.curl == CURLE_OPERATION_TIMEDOUT) {
    o.failure = Failure::timed_out;
    o.reason = describe_failure(r);
    return std::nullopt;
  }
  if (r.curl != CURLE_OK) {
    o.failure = Failure::unreachable;
    o.reason = redact(describe_failure(r), auth_);
    return std::nullopt;
  }
  if (r.status < 200 || r.status > 299) {
    classify(r, auth_, o.endpoint == "/api/2.0/clusters/get", o);
    return std::nullopt;
  }
  o.http_status = r.status;
  if (r.body_truncated) {
    o.failure = Failure::too_large;
    o.reason = "the answer is larger than " + std::to_string(kMaxBody / (1024 * 1024)) + " MiB";
    return std::nullopt;
  }
  return r.body;
}

ClusterList Client::list_clusters(const Context& ctx) const {
  ClusterList out;
  out.outcome.endpoint = "/api/2.0/clusters/list";
  std::string token;
  std::set<std::string> seen;
  for (;;) {
    if (out.pages >= kMaxClusterPages) {
      out.truncated = true;
      break;
    }
    std::string path = out.outcome.endpoint;
    if (!token.empty()) path += "?page_token=" + url_encode(token);
    const auto body = get(ctx, path, out.outcome);
    if (!body) return out;
    ++out.pages;
    ClusterPage page;
    try {
      page = parse_cluster_page(*body);
    } catch (const std::exception& e) {
      out.outcome.failure = Failure::malformed;
      out.outcome.reason = e.what();
      return out;
    }
    for (auto& c : page.clusters) {
      if (out.clusters.size() >= kMaxClusters) {
        out.truncated = true;
        break;
      }
      out.clusters.push_back(std::move(c));
    }
    if (out.truncated || page.next_page_token.empty()) break;
    // A server that hands out a token twice would page forever.
    if (!seen.insert(page.next_page_token).second) {
      out.truncated = true;
      break;
    }
    token = page.next_page_token;
  }
  return out;
}

ClusterGet Client::get_cluster(const Context& ctx, const std::string& cluster_id) const {
  ClusterGet out;
  out.outcome.endpoint = "/api/2.0/clusters/get";
  const auto body =
      get(ctx, out.outcome.endpoint + "?cluster_id=" + url_encode(cluster_id), out.outcome);
  if (!body) return out;
  try {
    out.cluster = parse_cluster(*body);
  } catch (const std::exception& e) {
    out.outcome.failure = Failure::malformed;
    out.outcome.reason = e.what();
  }
  return out;
}

RunList Client::list_runs(const Context& ctx, const RunQuery& q) const {
  RunList out;
  out.outcome.endpoint = "/api/2.1/jobs/runs/list";
  std::string base = out.outcome.endpoint + "?limit=" + std::to_string(kRunsPerPage);
  if (q.active_only) base += "&active_only=true";
  if (q.completed_only) base += "&completed_only=true";
  if (q.start_time_from_ms) base += "&start_time_from=" + std::to_string(*q.start_time_from_ms);
  std::string token;
  std::set<std::string> seen;
  for (;;) {
    if (out.pages >= kMaxRunPages) {
      out.truncated = true;
      break;
    }
    const std::string path = token.empty() ? base : base + "&page_token=" + url_encode(token);
    const auto body = get(ctx, path, out.outcome);
    if (!body) return out;
    ++out.pages;
    RunPage page;
    try {
      page = parse_run_page(*body);
    } catch (const std::exception& e) {
      out.outcome.failure = Failure::malformed;
      out.outcome.reason = e.what();
      return out;
    }
    for (auto& r : page.runs) {
      if (out.runs.size() >= kMaxRuns) {
        out.truncated = true;
        break;
      }
      out.runs.push_back(std::move(r));
    }
    if (out.truncated || !page.has_more) break;
    if (page.next_page_token.empty()) {
      // has_more without a token: the 2.1 API pages by token only (offset
      // is deprecated), so there is no way on; say the list is incomplete.
      out.truncated = true;
      break;
    }
    if (!seen.insert(page.next_page_token).second) {
      out.truncated = true;
      break;
    }
    token = page.next_page_token;
  }
  return out;
}

}  // namespace triage::cluster::databricks
