/* Loader case: the entry point exists but returns no descriptor. */
#include <triage/plugin.h>

TRIAGE_EXPORT const triage_plugin_descriptor* triage_plugin_v1(void) {
  return 0;
}
