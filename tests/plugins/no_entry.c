/* A shared library that is not a Triage plugin: it exports no entry point. */
#include <triage/plugin.h>

TRIAGE_EXPORT int triage_not_a_plugin(void) {
  return 42;
}
