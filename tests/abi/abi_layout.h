/* The SDK's public C layout as a table (abi_layout.c, compiled as C). */
#ifndef TRIAGE_ABI_LAYOUT_H
#define TRIAGE_ABI_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ABI_STRUCT 0 /* scope = struct name, a = sizeof */
#define ABI_FIELD 1  /* scope = struct name, name = field, a = offsetof, b = sizeof */
#define ABI_CONST 2  /* name = macro, a = value */

typedef struct abi_entry {
  int kind;
  const char* scope;
  const char* name;
  uint64_t a;
  uint64_t b;
} abi_entry;

const abi_entry* abi_layout(size_t* count);
/* The value of TRIAGE_PLUGIN_ENTRY_V1. */
const char* abi_entry_point_name(void);

#ifdef __cplusplus
}
#endif

#endif
