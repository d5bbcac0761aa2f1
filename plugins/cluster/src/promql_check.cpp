// The promql check: any PromQL instant query on Prometheus' HTTP API. Each
// series it returns becomes a metric value[LABELS] for the config's
// thresholds, with the count, lowest and highest value over all of them; or,
// with `expect`, the presence of series is itself the answer (an ALERTS
// query that must return nothing).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "checks.hpp"
#include "prometheus_api.hpp"

namespace triage::cluster {

namespace {

const std::string kSchema = prom::params_schema("cluster/promql params", R"json(
    "query": {
      "type": "string",
      "minLength": 1,
      "maxLength": 65536,
      "examples": ["up"],
      "description": "A PromQL expression evaluated as an instant query (/api/v1/query), now: an instant vector or a scalar, e.g. up{job=\"node\"}, sum(rate(http_requests_total{code=~\"5..\"}[5m])) / sum(rate(http_requests_total[5m])), or ALERTS{alertstate=\"firing\",severity=\"critical\"}."
    },
    "expect": {
      "type": "string",
      "pattern": "^(any|none|count (0|[1-9][0-9]{0,5}))$",
      "description": "When the presence of series is the answer: any (at least one series), none (no series: each one returned is named), or count N (exactly N series). Not met: a finding of expect_severity."
    },
    "expect_severity": {
      "type": "string",
      "enum": ["critical", "warning"],
      "default": "critical",
      "description": "The severity of the finding when expect is not met."
    },
    "labels": {
      "type": "array",
      "items": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
      "minItems": 1,
      "maxItems": 32,
      "uniqueItems": true,
      "description": "The labels that name each series' metric, e.g. [\"instance\"] gives value[instance=\"a\"]. Default: all of a series' labels but __name__."
    },
    "max_series": {
      "type": "integer",
      "minimum": 1,
      "maximum": 200,
      "default": 50,
      "description": "How many series become value[...] metrics, the first ones in Prometheus' order (use topk() or sort_desc() to choose). series, value_min and value_max always cover all of them."
    })json",
                                                {"query"});

constexpr const char* kValueCrossed =
    "The series named by the metric crossed the thresholds set on it: its labels say where "
    "(instance, job); look at it in Prometheus (Graph) and act on what the query measures.";

constexpr MetricDecl kSeries =
    metric("series", "", "Series the query returned (a scalar counts as one)")
        .remediation(
            "The number of series differs from what the thresholds allow: compare the "
            "result with the expected set (targets missing or new ones appearing).");
constexpr MetricDecl kValue =
    metric("value", "",
           "The result when it is a scalar, or a single series without labels (e.g. sum(...))")
        .remediation(kValueCrossed);
constexpr MetricDecl kValueItem =
    metric("value[*]", "",
           "Each series' value, the item its labels as PromQL writes them: "
           "value[instance=\"a\",job=\"node\"]")
        .remediation(kValueCrossed);
constexpr MetricDecl kValueMin =
    metric("value_min", "", "The lowest value of all series (NaN and infinities left out)")
        .remediation(kValueCrossed);
constexpr MetricDecl kValueMax =
    metric("value_max", "", "The highest value of all series (NaN and infinities left out)")
        .remediation(kValueCrossed);
constexpr MetricDecl kQueryMs =
    metric("query_ms", "ms", "Round trip of the query request")
        .remediation(
            "Prometheus evaluates the query slowly: narrow the selectors or the ranges, "
            "or precompute it with a recording rule.");

constexpr MetricDecl kMetrics[] = {kSeries, kValue, kValueItem, kValueMin, kValueMax, kQueryMs};

// Series named in an expect finding.
constexpr std::size_t kNamed = 10;

struct Expect {
  enum class Kind { none_given, any, none, count } kind = Kind::none_given;
  std::size_t count = 0;
  std::string text() const {
    switch (kind) {
      case Kind::any:
        return "at least one series";
      case Kind::none:
        return "no series";
      case Kind::count:
        return std::to_string(count) + " series";
      case Kind::none_given:
        break;
    }
    return {};
  }
};

Expect read_expect(const Context& ctx) {
  Expect e;
  if (!ctx.has("expect")) return e;
  const std::string text = ctx.required<std::string>("expect");
  if (text == "any") {
    e.kind = Expect::Kind::any;
  } else if (text == "none") {
    e.kind = Expect::Kind::none;
  } else if (text.rfind("count ", 0) == 0 && text.size() > 6 && text.size() <= 12) {
    const char* begin = text.data() + 6;
    const char* end = text.data() + text.size();
    const auto [at, ec] = std::from_chars(begin, end, e.count);
    if (ec != std::errc() || at != end || (*begin == '0' && text.size() > 7))
      throw ParamError("param 'expect': count needs a number of series, e.g. \"count 3\"");
    e.kind = Expect::Kind::count;
  } else {
    throw ParamError("param 'expect' must be any, none or \"count N\"");
  }
  return e;
}

// The item naming each series: its labels (all but __name__, or the
// `labels` param's), __name__ too when without it two series would be alike.
std::vector<std::string> items_of(const std::vector<prom::Sample>& series,
                                  const std::vector<std::string>& chosen) {
  auto pick = [&](const prom::Labels& labels) {
    if (chosen.empty()) return labels;
    prom::Labels kept;
    for (const auto& name : chosen)
      if (const auto it = labels.find(name); it != labels.end()) kept.insert(*it);
    return kept;
  };
  const bool name_chosen = std::find(chosen.begin(), chosen.end(), "__name__") != chosen.end();
  std::vector<std::string> items;
  std::set<std::string> seen;
  bool alike = false;
  for (const auto& s : series) {
    items.push_back(prom::label_text(pick(s.labels), name_chosen));
    alike = alike || !seen.insert(items.back()).second;
  }
  if (alike && chosen.empty()) {
    items.clear();
    for (const auto& s : series) items.push_back(prom::label_text(s.labels, true));
  }
  return items;
}

std::string named(const prom::Sample& s) {
  return prom::series_text(s.labels) + " = " + prom::format_value(s.value);
}

}  // namespace

const char* const PromqlCheck::params_schema = kSchema.c_str();
const Metrics PromqlCheck::metrics{kMetrics};

void PromqlCheck::run(Context& ctx) {
  const prom::Client client = prom::read_client(ctx, kSchema);
  const std::string query = ctx.required<std::string>("query");
  if (query.find_first_not_of(" \t\r\n") == std::string::npos)
    throw ParamError("param 'query' is empty");
  if (query.size() > 65536) throw ParamError("param 'query' is longer than 65536 bytes");
  const Expect expect = read_expect(ctx);
  const std::string severity_text = ctx.param<std::string>("expect_severity", "critical");
  if (severity_text != "critical" && severity_text != "warning")
    throw ParamError("param 'expect_severity' must be critical or warning");
  const bool critical = severity_text == "critical";
  const auto chosen = ctx.param<std::vector<std::string>>("labels", {});
  for (const auto& label : chosen)
    if (label.empty() || label.find_first_of("\"=,{}[] ") != std::string::npos)
      throw ParamError("param 'labels': '" + prom::abbreviate(label, 64) + "' is not a label name");
  const auto max_series = ctx.param<std::int64_t>("max_series", 50);
  if (max_series < 1 || max_series > 200)
    throw ParamError("param 'max_series' must be from 1 to 200");

  ctx.attribute("prometheus", client.base_url());
  ctx.attribute("query", prom::abbreviate(query, 4000));
  const prom::QueryResult r = client.query(ctx, query);
  if (!r.ok()) return prom::report_failure(ctx, client, r, "the query");
  if (!r.warnings.empty()) {
    ctx.attribute("prometheus_warnings", prom::abbreviate(prom::list_some(r.warnings, 5), 4000));
    for (const auto& w : r.warnings) ctx.log(LogLevel::warning, "Prometheus warns: " + w);
  }
  if (r.result_type == "matrix")
    return ctx.error(
        "the query returns a range vector (matrix); an instant query needs an instant vector or "
        "a scalar: wrap the range in a function, e.g. max_over_time(...[5m]) or rate(...[5m])");
  if (r.result_type == "string")
    return ctx.error("the query returns a string, not a number or series");
  ctx.attribute("result_type", r.result_type);

  const std::size_t count = r.series.size();
  ctx.metric(kSeries, static_cast<double>(count));
  ctx.metric(kQueryMs, r.elapsed_ms);
  const auto items = items_of(r.series, chosen);
  std::optional<double> low, high;
  std::size_t non_finite = 0, emitted = 0, alike = 0;
  std::set<std::string> used;
  for (std::size_t i = 0; i < count; ++i) {
    const auto& s = r.series[i];
    if (!s.numeric || !std::isfinite(s.value)) {
      ++non_finite;
      continue;
    }
    low = std::min(low.value_or(s.value), s.value);
    high = std::max(high.value_or(s.value), s.value);
    if (emitted >= static_cast<std::size_t>(max_series)) continue;
    const std::string item = prom::fit_item(kValueItem.name(), items[i]);
    if (!used.insert(item).second) {
      ++alike;
      continue;
    }
    ++emitted;
    if (item.empty())
      ctx.metric(kValue, s.value);
    else
      ctx.metric(kValueItem, item, s.value);
  }
  if (low) {
    ctx.metric(kValueMin, *low);
    ctx.metric(kValueMax, *high);
  }
  if (non_finite > 0)
    ctx.attribute("non_finite_series",
                  std::to_string(non_finite) + " (NaN, infinite or a histogram)");
  const std::size_t finite = count - non_finite;
  if (emitted + alike < finite)
    ctx.finding(Severity::info,
                "Only the first " + std::to_string(emitted) + " of " + std::to_string(finite) +
                    " series are metrics",
                "max_series is " + std::to_string(max_series) +
                    "; series, value_min and value_max cover every series",
                "Narrow the query (topk(N, ...), sum by (...)) or raise max_series, so that "
                "thresholds on value[...] see each series you care about.");
  if (alike > 0)
    ctx.finding(Severity::info, std::to_string(alike) + " series have the same labels as another",
                "With the labels param, only the first of series alike is a metric",
                "Add a label to labels that tells them apart (e.g. job or instance).");

  // The summary: the query, then what it gave.
  std::string summary = prom::abbreviate(prom::one_line(query), 100) + ": ";
  if (r.result_type == "scalar")
    summary += "scalar " + prom::format_value(r.series.front().value);
  else if (count == 1 && items.front().empty())
    summary += prom::format_value(r.series.front().value);
  else
    summary += std::to_string(count) + " series";
  if (low && count > 1)
    summary += ", min " + prom::format_value(*low) + ", max " + prom::format_value(*high);

  bool met = true;
  switch (expect.kind) {
    case Expect::Kind::none_given:
      break;
    case Expect::Kind::any:
      met = count > 0;
      break;
    case Expect::Kind::none:
      met = count == 0;
      break;
    case Expect::Kind::count:
      met = count == expect.count;
      break;
  }
  if (expect.kind != Expect::Kind::none_given) ctx.attribute("expect", expect.text());
  if (met) return ctx.status(Status::ok, summary);

  std::vector<std::string> names;
  for (const auto& s : r.series) names.push_back(named(s));
  std::string detail = "The query returned " + std::to_string(count) + " series";
  detail += names.empty() ? "." : ": " + prom::list_some(names, kNamed);
  const char* remediation =
      expect.kind == Expect::Kind::none
          ? "Each series named is a condition the query says must not exist: for ALERTS, follow "
            "each alert's runbook (its annotations, Alertmanager) and fix the cause; if the "
            "condition is expected, narrow the query."
      : count == 0
          ? "The series the query selects do not exist: check in Prometheus (Graph) that they "
            "are scraped (their target is up: see the prometheus check), that the metric and "
            "label names are right, and that the condition can hold."
          : "Compare the series named with those expected: a target missing or added, a "
            "duplicate scrape, or a changed label.";
  ctx.finding(critical ? Severity::critical : Severity::warning,
              "Expected " + expect.text() + ", got " + std::to_string(count), detail, remediation);
  ctx.status(critical ? Status::critical : Status::warning,
             summary + " (expected " + expect.text() + ")");
}

}  // namespace triage::cluster
