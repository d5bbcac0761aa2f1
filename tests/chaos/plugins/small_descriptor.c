/* Loader case: a descriptor whose struct_size is smaller than ABI 1.0's (it
 * claims to end before `init`). The core must refuse it naming both sizes,
 * without reading past struct_size: init() aborts, so calling it would show. */
#include <stddef.h>
#include <stdlib.h>
#include <triage/plugin.h>

static triage_rc init(const triage_host_api* host, const triage_check_type* const** out_types,
                      uint32_t* out_count) {
  (void)host;
  (void)out_types;
  (void)out_count;
  abort();
}

static const triage_plugin_descriptor descriptor = {offsetof(triage_plugin_descriptor, init),
                                                    TRIAGE_PLUGIN_MAGIC,
                                                    TRIAGE_ABI_MAJOR,
                                                    TRIAGE_ABI_MINOR,
                                                    TRIAGE_SDK_VERSION,
                                                    "small-descriptor",
                                                    "0.1.0",
                                                    "A descriptor too small for ABI 1.0",
                                                    init};

TRIAGE_EXPORT const triage_plugin_descriptor* triage_plugin_v1(void) {
  return &descriptor;
}
