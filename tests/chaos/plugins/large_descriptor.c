/* Loader case: a plugin as a future 1.x minor would build it. Its descriptor
 * and its check type are larger than ABI 1.0's (fields appended at the end),
 * and it claims ABI 1.7. A 1.0 reader never reads past what it knows, so the
 * plugin must load and its check must run. The appended fields hold values
 * that would crash a reader that followed them as pointers. */
#include <stdint.h>
#include <string.h>
#include <triage/plugin.h>

#define CHAOS_POISON 0xDEADBEEFDEADBEEFull

struct future_descriptor {
  triage_plugin_descriptor v1;
  uint64_t appended[8]; /* 64 bytes a 1.0 reader does not know */
};
_Static_assert(sizeof(struct future_descriptor) == sizeof(triage_plugin_descriptor) + 64,
               "the future descriptor is 64 bytes larger");

struct future_check_type {
  triage_check_type v1;
  uint64_t appended[4];
};

static triage_rc run_ping(const triage_host_api* host, triage_check_ctx ctx, const char* params,
                          uint64_t params_len, void* user_data) {
  static const char summary[] = "a future 1.x plugin loaded and ran";
  triage_metric metric;
  (void)params;
  (void)params_len;
  (void)user_data;
  memset(&metric, 0, sizeof metric);
  metric.struct_size = sizeof metric;
  metric.name = "descriptor_bytes";
  metric.name_len = strlen(metric.name);
  metric.value = (double)sizeof(struct future_descriptor);
  metric.unit = "B";
  metric.unit_len = 1;
  host->emit_metric(ctx, &metric);
  return host->set_status(ctx, TRIAGE_STATUS_OK, summary, sizeof summary - 1);
}

static const struct future_check_type ping_type = {
    {sizeof(struct future_check_type), TRIAGE_CHECK_THREAD_SAFE, "ping",
     "Runs from a plugin built for a future minor", "{\"type\":\"object\"}", run_ping, 0, 0, 0, 0},
    {CHAOS_POISON, CHAOS_POISON, CHAOS_POISON, CHAOS_POISON}};
static const triage_check_type* const types[] = {&ping_type.v1};

static triage_rc init(const triage_host_api* host, const triage_check_type* const** out_types,
                      uint32_t* out_count) {
  (void)host;
  *out_types = types;
  *out_count = 1;
  return TRIAGE_RC_OK;
}

static const struct future_descriptor descriptor = {
    {sizeof(struct future_descriptor), TRIAGE_PLUGIN_MAGIC, TRIAGE_ABI_MAJOR, 7, "1.7.0",
     "large-descriptor", "0.1.0", "Built for a future ABI minor with a larger descriptor", init},
    {CHAOS_POISON, CHAOS_POISON, CHAOS_POISON, CHAOS_POISON, CHAOS_POISON, CHAOS_POISON,
     CHAOS_POISON, CHAOS_POISON}};

TRIAGE_EXPORT const triage_plugin_descriptor* triage_plugin_v1(void) {
  return &descriptor.v1;
}
