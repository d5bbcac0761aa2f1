/* A Triage plugin in pure C99, using only triage/plugin.h: proves the ABI
 * needs nothing of C++. Check "echo" reports params.target back. */
#include <string.h>
#include <triage/plugin.h>

static triage_rc run_echo(const triage_host_api* host, triage_check_ctx ctx, const char* params,
                          uint64_t params_len, void* user_data) {
  static const char summary[] = "echo from C";
  triage_metric metric;
  triage_finding finding;
  (void)user_data;
  memset(&metric, 0, sizeof metric);
  metric.struct_size = sizeof metric;
  metric.name = "params_bytes";
  metric.name_len = strlen(metric.name);
  metric.value = (double)params_len;
  metric.unit = "B";
  metric.unit_len = 1;
  metric.default_critical = "1000";
  metric.default_critical_len = 4;
  host->emit_metric(ctx, &metric);
  memset(&finding, 0, sizeof finding);
  finding.struct_size = sizeof finding;
  finding.severity = TRIAGE_SEVERITY_INFO;
  finding.title = "Hello from C";
  finding.title_len = strlen(finding.title);
  finding.remediation = "Nothing to do";
  finding.remediation_len = strlen(finding.remediation);
  host->add_finding(ctx, &finding);
  host->set_attribute(ctx, "params", 6, params, params_len);
  return host->set_status(ctx, TRIAGE_STATUS_OK, summary, sizeof summary - 1);
}

/* Designated initialisers: fields a later minor appends stay zero. This type
 * leaves `metrics` NULL, so it declares none (thresholds are not checked). */
static const triage_check_type echo_type = {.struct_size = sizeof(triage_check_type),
                                            .flags = TRIAGE_CHECK_THREAD_SAFE,
                                            .name = "echo",
                                            .description = "Echoes its params",
                                            .params_schema = "{\"type\":\"object\"}",
                                            .run = run_echo};
static const triage_check_type* const types[] = {&echo_type};

static triage_rc init(const triage_host_api* host, const triage_check_type* const** out_types,
                      uint32_t* out_count) {
  (void)host;
  *out_types = types;
  *out_count = 1;
  return TRIAGE_RC_OK;
}

static const triage_plugin_descriptor descriptor = {sizeof(triage_plugin_descriptor),
                                                    TRIAGE_PLUGIN_MAGIC,
                                                    TRIAGE_ABI_MAJOR,
                                                    TRIAGE_ABI_MINOR,
                                                    TRIAGE_SDK_VERSION,
                                                    "c-echo",
                                                    "0.1.0",
                                                    "A plugin written in C",
                                                    init};

TRIAGE_EXPORT const triage_plugin_descriptor* triage_plugin_v1(void) {
  return &descriptor;
}
