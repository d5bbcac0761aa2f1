/* Loader case: a descriptor with a wrong magic number, as a library that
 * happens to export the same symbol name would have. The core must refuse it
 * before calling anything else: init() aborts, so calling it would show. */
#include <stdlib.h>
#include <triage/plugin.h>

static triage_rc init(const triage_host_api* host, const triage_check_type* const** out_types,
                      uint32_t* out_count) {
  (void)host;
  (void)out_types;
  (void)out_count;
  abort();
}

static const triage_plugin_descriptor descriptor = {sizeof(triage_plugin_descriptor),
                                                    0x4E4F5045u, /* 'NOPE' */
                                                    TRIAGE_ABI_MAJOR,
                                                    TRIAGE_ABI_MINOR,
                                                    TRIAGE_SDK_VERSION,
                                                    "bad-magic",
                                                    "0.1.0",
                                                    "A descriptor with the wrong magic",
                                                    init};

TRIAGE_EXPORT const triage_plugin_descriptor* triage_plugin_v1(void) {
  return &descriptor;
}
