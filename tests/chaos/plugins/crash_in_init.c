/* Loader case: init() writes through a null pointer (SIGSEGV). In process
 * isolation discovery happens inside a plugin host, so the plugin must be
 * refused and triage must carry on. In-process it would take triage down:
 * it is built into a folder of its own that in-process runs never scan. */
#include <triage/plugin.h>

static triage_rc init(const triage_host_api* host, const triage_check_type* const** out_types,
                      uint32_t* out_count) {
  /* Read from a volatile object: the compiler cannot know it is null. */
  static int* volatile target = 0;
  (void)host;
  (void)out_types;
  (void)out_count;
  *target = 42;
  return TRIAGE_RC_OK;
}

static const triage_plugin_descriptor descriptor = {sizeof(triage_plugin_descriptor),
                                                    TRIAGE_PLUGIN_MAGIC,
                                                    TRIAGE_ABI_MAJOR,
                                                    TRIAGE_ABI_MINOR,
                                                    TRIAGE_SDK_VERSION,
                                                    "crash-in-init",
                                                    "0.1.0",
                                                    "A plugin whose init() crashes",
                                                    init};

TRIAGE_EXPORT const triage_plugin_descriptor* triage_plugin_v1(void) {
  return &descriptor;
}
