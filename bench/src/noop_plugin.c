/* The bench plugin: check "noop" reports ok at once, so a run of many of
 * them measures Triage itself (scheduling, isolation, evaluation, report).
 * Pure C against triage/plugin.h, like a third-party plugin. */
#include <triage/plugin.h>

static triage_rc run_noop(const triage_host_api* host, triage_check_ctx ctx, const char* params,
                          uint64_t params_len, void* user_data) {
  static const char summary[] = "nothing done";
  (void)params;
  (void)params_len;
  (void)user_data;
  return host->set_status(ctx, TRIAGE_STATUS_OK, summary, sizeof summary - 1);
}

static const triage_check_type noop_type = {
    sizeof(triage_check_type),
    TRIAGE_CHECK_THREAD_SAFE,
    "noop",
    "Returns ok at once (benchmarks Triage's per-check overhead)",
    "{\"type\":\"object\",\"properties\":{\"target\":{\"type\":\"string\","
    "\"description\":\"Any label; ignored.\"}},\"additionalProperties\":false}",
    run_noop,
    0,
    0,
    0,
    0};
static const triage_check_type* const types[] = {&noop_type};

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
                                                    "bench",
                                                    "1.0.0",
                                                    "Benchmark helper: a check that does nothing",
                                                    init};

TRIAGE_EXPORT const triage_plugin_descriptor* triage_plugin_v1(void) {
  return &descriptor;
}
