/* A plugin built against the FROZEN 1.0 headers (tests/abi/frozen-1.0), as a
 * third party that never rebuilds would have shipped it. Every 1.x core must
 * load it and run its check with the same results. It uses every function of
 * the 1.0 host table, so a change to any of them shows.
 *
 * Check "probe" (params: target, value, mode):
 *   - emits metric "probe_value" = params.value with default thresholds
 *     warning "10", critical "100", so the core's thresholds decide;
 *   - adds a warning finding with a remediation, sets attributes "target"
 *     (the params as received) and "deadline" ("set" when the host gave one);
 *   - mode "error": reports an error (result `unknown`) instead. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <triage/plugin.h>

/* Where the value of "key" starts in the JSON object text, or NULL. Enough
 * for the flat objects this test passes; a real C plugin would use a parser. */
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

static triage_rc run_probe(const triage_host_api* host, triage_check_ctx ctx, const char* params,
                           uint64_t params_len, void* user_data) {
  static const char summary[] = "frozen 1.0 plugin ran";
  static const char failure[] = "probe asked to fail (mode: error)";
  triage_metric metric;
  triage_finding finding;
  int64_t deadline = 0;
  char json[4096];
  char line[128];
  const char* mode;
  const char* value;
  int n;
  (void)user_data;

  host->log(ctx, TRIAGE_LOG_DEBUG, "probe start", 11);
  if (host->is_cancelled(ctx)) return TRIAGE_RC_CANCELLED;
  if (params_len >= sizeof json) {
    static const char too_big[] = "params larger than 4 KiB";
    return host->set_error(ctx, too_big, sizeof too_big - 1);
  }
  memcpy(json, params, (size_t)params_len);
  json[params_len] = '\0';
  mode = value_of(json, "mode");
  if (mode != NULL && strncmp(mode, "\"error\"", 7) == 0)
    return host->set_error(ctx, failure, sizeof failure - 1);
  value = value_of(json, "value");

  memset(&metric, 0, sizeof metric);
  metric.struct_size = sizeof metric;
  metric.name = "probe_value";
  metric.name_len = strlen(metric.name);
  metric.value = value != NULL ? strtod(value, NULL) : 0.0;
  metric.unit = "";
  metric.default_warning = "10";
  metric.default_warning_len = 2;
  metric.default_critical = "100";
  metric.default_critical_len = 3;
  host->emit_metric(ctx, &metric);

  memset(&finding, 0, sizeof finding);
  finding.struct_size = sizeof finding;
  finding.severity = TRIAGE_SEVERITY_INFO;
  finding.title = "Built against SDK 1.0";
  finding.title_len = strlen(finding.title);
  n = snprintf(line, sizeof line, "host %s, ABI %u.%u", host->host_version,
               (unsigned)host->abi_major, (unsigned)host->abi_minor);
  finding.detail = line;
  finding.detail_len = n > 0 ? (uint64_t)n : 0;
  finding.remediation = "None: this plugin proves old plugins keep loading";
  finding.remediation_len = strlen(finding.remediation);
  host->add_finding(ctx, &finding);

  host->set_attribute(ctx, "params", 6, params, params_len);
  if (host->get_deadline(ctx, &deadline) == TRIAGE_RC_OK && deadline > 0)
    host->set_attribute(ctx, "deadline", 8, "set", 3);
  return host->set_status(ctx, TRIAGE_STATUS_OK, summary, sizeof summary - 1);
}

static const triage_check_type probe_type = {
    sizeof(triage_check_type),
    TRIAGE_CHECK_THREAD_SAFE,
    "probe",
    "Uses every 1.0 host function",
    "{\"type\":\"object\",\"properties\":{"
    "\"target\":{\"type\":\"string\",\"description\":\"Any label\"},"
    "\"value\":{\"type\":\"number\",\"description\":\"Value of probe_value\"},"
    "\"mode\":{\"enum\":[\"ok\",\"error\"],\"description\":\"error: report an error\"}}}",
    run_probe,
    0};
static const triage_check_type* const types[] = {&probe_type};

static triage_rc init(const triage_host_api* host, const triage_check_type* const** out_types,
                      uint32_t* out_count) {
  if (host == NULL || host->abi_major != 1) return TRIAGE_RC_ERROR;
  host->log(NULL, TRIAGE_LOG_DEBUG, "frozen-abi init", 15);
  *out_types = types;
  *out_count = 1;
  return TRIAGE_RC_OK;
}

static const triage_plugin_descriptor descriptor = {sizeof(triage_plugin_descriptor),
                                                    TRIAGE_PLUGIN_MAGIC,
                                                    TRIAGE_ABI_MAJOR,
                                                    TRIAGE_ABI_MINOR,
                                                    TRIAGE_SDK_VERSION,
                                                    "frozen-abi",
                                                    "1.0.0",
                                                    "Built from the frozen SDK 1.0 headers",
                                                    init};

TRIAGE_EXPORT const triage_plugin_descriptor* triage_plugin_v1(void) {
  return &descriptor;
}
