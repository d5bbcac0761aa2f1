/* A plugin in pure C99 against the ABI 1.1 header: its check types declare
 * the metrics they emit (triage_metric_decl), so the core refuses thresholds
 * on any other name, applies the declared default ranges and shows the
 * declared remediation when one is crossed.
 *
 * Check "gauge" (params: target, value, mode):
 *   - emits "level" = params.value with NO ranges of its own: the declared
 *     defaults (warning 80, critical 90) decide;
 *   - emits "depth[a]" = 1 and "depth[b]" = 2, declared as "depth[*]";
 *   - mode "undeclared": also emits "surprise", which it does not declare
 *     (for the conformance kit); mode "error": reports an error instead.
 * Check "quiet" declares that it emits no metric at all (an empty, non-NULL
 * list) and reports ok. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <triage/plugin.h>

/* Where the value of "key" starts in the flat JSON object text, or NULL. */
static const char* value_of(const char* json, const char* key) {
  char pattern[64];
  const char* at;
  snprintf(pattern, sizeof pattern, "\"%s\"", key);
  at = strstr(json, pattern);
  if (at == NULL) return NULL;
  at += strlen(pattern);
  while (*at == ' ' || *at == '\t' || *at == '\n' || *at == '\r') ++at;
  if (*at != ':') return NULL;
  ++at;
  while (*at == ' ' || *at == '\t' || *at == '\n' || *at == '\r') ++at;
  return at;
}

/* 1 when params hold "target" and it is not a string (then the check ends
 * unknown, as the conformance kit expects of bad params). */
static int bad_target(const triage_host_api* host, triage_check_ctx ctx, const char* json) {
  static const char message[] = "param 'target' must be a string";
  const char* target = value_of(json, "target");
  if (target == NULL || *target == '"') return 0;
  host->set_error(ctx, message, sizeof message - 1);
  return 1;
}

static void emit(const triage_host_api* host, triage_check_ctx ctx, const char* name, double value,
                 const char* unit) {
  triage_metric metric;
  memset(&metric, 0, sizeof metric);
  metric.struct_size = sizeof metric;
  metric.name = name;
  metric.name_len = strlen(name);
  metric.value = value;
  metric.unit = unit;
  metric.unit_len = strlen(unit);
  host->emit_metric(ctx, &metric);
}

static triage_rc run_gauge(const triage_host_api* host, triage_check_ctx ctx, const char* params,
                           uint64_t params_len, void* user_data) {
  static const char summary[] = "gauge read";
  static const char failure[] = "gauge asked to fail (mode: error)";
  char json[4096];
  const char* mode;
  const char* value;
  (void)user_data;
  if (params_len >= sizeof json) {
    static const char too_big[] = "params larger than 4 KiB";
    return host->set_error(ctx, too_big, sizeof too_big - 1);
  }
  memcpy(json, params, (size_t)params_len);
  json[params_len] = '\0';
  if (bad_target(host, ctx, json)) return TRIAGE_RC_OK;
  mode = value_of(json, "mode");
  if (mode != NULL && strncmp(mode, "\"error\"", 7) == 0)
    return host->set_error(ctx, failure, sizeof failure - 1);
  value = value_of(json, "value");
  emit(host, ctx, "level", value != NULL ? strtod(value, NULL) : 0.0, "");
  emit(host, ctx, "depth[a]", 1.0, "");
  emit(host, ctx, "depth[b]", 2.0, "");
  if (mode != NULL && strncmp(mode, "\"undeclared\"", 12) == 0)
    emit(host, ctx, "surprise", 7.0, "");
  return host->set_status(ctx, TRIAGE_STATUS_OK, summary, sizeof summary - 1);
}

static triage_rc run_quiet(const triage_host_api* host, triage_check_ctx ctx, const char* params,
                           uint64_t params_len, void* user_data) {
  static const char summary[] = "nothing to measure";
  char json[4096];
  (void)user_data;
  if (params_len < sizeof json) {
    memcpy(json, params, (size_t)params_len);
    json[params_len] = '\0';
    if (bad_target(host, ctx, json)) return TRIAGE_RC_OK;
  }
  return host->set_status(ctx, TRIAGE_STATUS_OK, summary, sizeof summary - 1);
}

static const triage_metric_decl level = {
    .struct_size = sizeof(triage_metric_decl),
    .name = "level",
    .unit = "%",
    .description = "How full the gauge is",
    .default_warning = "80",
    .default_critical = "90",
    .remediation = "Drain the gauge: empty the tank below 80 %, then find what filled it."};
static const triage_metric_decl depth = {.struct_size = sizeof(triage_metric_decl),
                                         .name = "depth[*]",
                                         .description = "Depth of each queue, by queue name"};
static const triage_metric_decl* const gauge_metrics[] = {&level, &depth};
/* No metric at all: a one-element array whose count is 0 (C has no empty arrays). */
static const triage_metric_decl* const no_metrics[] = {NULL};

static const char schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"target\":{\"type\":\"string\",\"description\":\"Any label\"},"
    "\"value\":{\"type\":\"number\",\"description\":\"Value of level\"},"
    "\"mode\":{\"enum\":[\"ok\",\"error\",\"undeclared\"],"
    "\"description\":\"error: report an error; undeclared: also emit an undeclared metric\"}}}";

static const triage_check_type gauge_type = {.struct_size = sizeof(triage_check_type),
                                             .flags = TRIAGE_CHECK_THREAD_SAFE,
                                             .name = "gauge",
                                             .description = "Reads a gauge that declares metrics",
                                             .params_schema = schema,
                                             .run = run_gauge,
                                             .metrics = gauge_metrics,
                                             .metric_count = 2};
static const triage_check_type quiet_type = {
    .struct_size = sizeof(triage_check_type),
    .flags = TRIAGE_CHECK_THREAD_SAFE,
    .name = "quiet",
    .description = "Emits no metric, and says so",
    .params_schema =
        "{\"type\":\"object\",\"properties\":{\"target\":{\"type\":\"string\","
        "\"description\":\"Any label\"}}}",
    .run = run_quiet,
    .metrics = no_metrics,
    .metric_count = 0};
static const triage_check_type* const types[] = {&gauge_type, &quiet_type};

static triage_rc init(const triage_host_api* host, const triage_check_type* const** out_types,
                      uint32_t* out_count) {
  (void)host;
  *out_types = types;
  *out_count = 2;
  return TRIAGE_RC_OK;
}

static const triage_plugin_descriptor descriptor = {sizeof(triage_plugin_descriptor),
                                                    TRIAGE_PLUGIN_MAGIC,
                                                    TRIAGE_ABI_MAJOR,
                                                    TRIAGE_ABI_MINOR,
                                                    TRIAGE_SDK_VERSION,
                                                    "c-metrics",
                                                    "0.1.0",
                                                    "A C plugin that declares its metrics",
                                                    init};

TRIAGE_EXPORT const triage_plugin_descriptor* triage_plugin_v1(void) {
  return &descriptor;
}
