/* Loader case: a valid descriptor whose init() refuses (returns an error
 * code, after logging why through the host). */
#include <string.h>
#include <triage/plugin.h>

static triage_rc init(const triage_host_api* host, const triage_check_type* const** out_types,
                      uint32_t* out_count) {
  static const char why[] = "init-fails: refusing to start, on purpose";
  (void)out_types;
  (void)out_count;
  if (host != 0) host->log(0, TRIAGE_LOG_ERROR, why, sizeof why - 1);
  return TRIAGE_RC_ERROR;
}

static const triage_plugin_descriptor descriptor = {sizeof(triage_plugin_descriptor),
                                                    TRIAGE_PLUGIN_MAGIC,
                                                    TRIAGE_ABI_MAJOR,
                                                    TRIAGE_ABI_MINOR,
                                                    TRIAGE_SDK_VERSION,
                                                    "init-fails",
                                                    "0.1.0",
                                                    "A plugin whose init() fails",
                                                    init};

TRIAGE_EXPORT const triage_plugin_descriptor* triage_plugin_v1(void) {
  return &descriptor;
}
