/* Loader case: a shared library that exports something, but not the
 * triage_plugin_v1 entry point (a near miss, as a typo would make). */
#include <triage/plugin.h>

TRIAGE_EXPORT const triage_plugin_descriptor* triage_plugin_v0(void) {
  return 0;
}
