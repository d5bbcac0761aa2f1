/*
 * triage/plugin.h — the Triage plugin ABI, version 1.1 (C99).
 *
 * This is the whole contract between the Triage core and a check plugin. It is
 * a C ABI on purpose: a plugin built with any compiler and standard library
 * keeps loading in every Triage 1.x release. See docs/abi.md for the rules.
 *
 * Rules that hold for every type below:
 *  - Every struct that crosses starts with `uint32_t struct_size`, set by the
 *    side that fills it to sizeof the struct it was compiled with. Fields are
 *    only ever appended; a reader never touches a field past struct_size.
 *  - Integers are fixed width; enumerations are #defines, never C enums.
 *  - Strings are UTF-8, passed as pointer + byte length (not NUL terminated
 *    unless a field says so).
 *  - No exception, no C++ type and no allocation ever crosses: a string the
 *    plugin hands to the host is copied by the host before the call returns;
 *    a string the host hands to the plugin is borrowed for the call only.
 *  - A signature that must change gets a new entry beside the old one.
 */
#ifndef TRIAGE_PLUGIN_H
#define TRIAGE_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ABI version. A core accepts plugins of its own major and any minor. */
#define TRIAGE_ABI_MAJOR 1
#define TRIAGE_ABI_MINOR 1
/* Version of the SDK headers, informational only. */
#define TRIAGE_SDK_VERSION "1.1.0"

/* First field of the descriptor after struct_size: tells a Triage plugin from
 * a random library that happens to export the same symbol name. 'TRIG'. */
#define TRIAGE_PLUGIN_MAGIC 0x54524947u

/* The one entry point a plugin exports, extern "C", with default visibility.
 * Its name carries the ABI major so that a future major can be exported
 * beside it. */
#define TRIAGE_PLUGIN_ENTRY_V1 "triage_plugin_v1"

#if defined(_WIN32)
#define TRIAGE_EXPORT __declspec(dllexport)
#else
#define TRIAGE_EXPORT __attribute__((visibility("default")))
#endif

/* ---- codes -------------------------------------------------------------- */

/* Returned by every host function and by a check's run function. */
typedef int32_t triage_rc;
#define TRIAGE_RC_OK 0
#define TRIAGE_RC_INVALID_ARGUMENT 1 /* null handle, bad enum value, bad UTF-8 */
#define TRIAGE_RC_CANCELLED 2        /* the check was cancelled; stop soon */
#define TRIAGE_RC_LIMIT 3            /* output cap reached; the value was cut or dropped */
#define TRIAGE_RC_ERROR 4            /* any other failure */

/* Status of a check, Nagios compatible (the order is the severity order). */
#define TRIAGE_STATUS_OK 0
#define TRIAGE_STATUS_WARNING 1
#define TRIAGE_STATUS_CRITICAL 2
#define TRIAGE_STATUS_UNKNOWN 3

/* Severity of a finding. */
#define TRIAGE_SEVERITY_INFO 0
#define TRIAGE_SEVERITY_WARNING 1
#define TRIAGE_SEVERITY_CRITICAL 2

/* Log levels. */
#define TRIAGE_LOG_DEBUG 0
#define TRIAGE_LOG_INFO 1
#define TRIAGE_LOG_WARNING 2
#define TRIAGE_LOG_ERROR 3

/* Check type flags. */
#define TRIAGE_CHECK_THREAD_SAFE 0x1u /* run() may be called concurrently */

/* ---- handles ------------------------------------------------------------ */

/* One execution of one check instance. OWNERSHIP: host. Valid only during
 * the run() call it is passed to; never store it. */
typedef struct triage_check_ctx_s* triage_check_ctx;

/* ---- values the plugin hands to the host --------------------------------- */

/* A measurement. The core applies thresholds to it by name: the config's
 * thresholds first, else the defaults given here. OWNERSHIP: plugin; the host
 * copies every field during emit_metric(). */
typedef struct triage_metric {
  uint32_t struct_size;
  uint32_t reserved0;
  const char* name; /* [a-z0-9_]+ by convention, e.g. "latency_ms" */
  uint64_t name_len;
  double value;
  const char* unit; /* "ms", "s", "B", "%", "" for a count */
  uint64_t unit_len;
  /* Default thresholds in Monitoring Plugins range syntax ("10", "10:",
   * "~:10", "10:20", "@10:20"); NULL or length 0 for none. */
  const char* default_warning;
  uint64_t default_warning_len;
  const char* default_critical;
  uint64_t default_critical_len;
} triage_metric;

/* Something an operator should know, with what to do about it.
 * OWNERSHIP: plugin; the host copies every field during add_finding(). */
typedef struct triage_finding {
  uint32_t struct_size;
  int32_t severity; /* TRIAGE_SEVERITY_* */
  const char* title;
  uint64_t title_len;
  const char* detail;
  uint64_t detail_len;
  const char* remediation;
  uint64_t remediation_len;
} triage_finding;

/* ---- the host function table -------------------------------------------- */

/* Functions the core offers a plugin. OWNERSHIP: host; valid from init()
 * until the process exits. Functions are only appended: a plugin built
 * against a newer minor checks struct_size (TRIAGE_HOST_HAS) before calling
 * one the running core may lack. All functions are thread safe. */
typedef struct triage_host_api {
  uint32_t struct_size;
  uint32_t abi_major;
  uint32_t abi_minor;
  uint32_t reserved0;
  const char* host_version; /* NUL terminated, e.g. "1.0.0" */

  /* Status and one-line summary of the check. May be called more than once;
   * the last call wins. The core may raise the status further from
   * thresholds and findings, never lower it. */
  triage_rc (*set_status)(triage_check_ctx ctx, int32_t status, const char* summary,
                          uint64_t summary_len);
  triage_rc (*emit_metric)(triage_check_ctx ctx, const triage_metric* metric);
  triage_rc (*add_finding)(triage_check_ctx ctx, const triage_finding* finding);
  /* A key/value fact about the target (resolved address, certificate issuer). */
  triage_rc (*set_attribute)(triage_check_ctx ctx, const char* key, uint64_t key_len,
                             const char* value, uint64_t value_len);
  /* Diagnostic log line, to the core's log (stderr), never into the report.
   * ctx may be NULL (during init). */
  triage_rc (*log)(triage_check_ctx ctx, int32_t level, const char* message, uint64_t message_len);
  /* 1 once the core wants the check to stop (deadline or run cancelled), else 0. */
  int32_t (*is_cancelled)(triage_check_ctx ctx);
  /* Deadline of this execution as CLOCK_MONOTONIC nanoseconds. */
  triage_rc (*get_deadline)(triage_check_ctx ctx, int64_t* out_monotonic_ns);
  /* Why the check could not do its job (bad params, internal failure): makes
   * the result `unknown` and fills the report's `error`. */
  triage_rc (*set_error)(triage_check_ctx ctx, const char* message, uint64_t message_len);
} triage_host_api;

/* True when the host table has the function `field` (it was built with it). */
#define TRIAGE_HOST_HAS(host, field) \
  ((host) != 0 &&                    \
   (uint64_t)(host)->struct_size >=  \
       (uint64_t)(offsetof(triage_host_api, field) + sizeof(((const triage_host_api*)0)->field)))

/* ---- what the plugin describes -------------------------------------------- */

/* A metric a check type can emit, declared up front (ABI 1.1). The core
 * rejects a config threshold on a metric its check type does not declare,
 * lists the declarations (`triage plugin info`), uses the default ranges
 * when an emitted metric carries none, and shows the remediation when a
 * threshold on the metric is crossed. OWNERSHIP: plugin; static storage,
 * unchanged until the process exits (like the check type that points to it).
 * All strings are NUL terminated; NULL means "" (none).
 *
 * `name` is one of:
 *   "latency_ms"      a metric emitted under exactly this name;
 *   "used_pct[*]"     a per-item metric, emitted as "used_pct[ITEM]" for any
 *                     non-empty ITEM (e.g. "used_pct[/var]");
 *   "{json_metrics}"  metrics named by the user: one per key of the object
 *                     param "json_metrics" (the check's params decide which
 *                     names it emits). */
typedef struct triage_metric_decl {
  uint32_t struct_size;
  uint32_t reserved0;      /* must be 0 */
  const char* name;        /* see above */
  const char* unit;        /* "ms", "s", "B", "%", "" or NULL for a count */
  const char* description; /* one line: what the number is */
  /* Default thresholds in Monitoring Plugins range syntax; used when the
   * emitted metric carries none of its own. NULL for none. */
  const char* default_warning;
  const char* default_critical;
  /* What an operator should do when a threshold on this metric is crossed,
   * in the words of a runbook; NULL for none. */
  const char* remediation;
} triage_metric_decl;

/* Runs one check. params_json is a JSON object (borrowed for the call); it
 * always has "target" when the config gave one. Return TRIAGE_RC_OK when the
 * check ran (whatever it found); any other code makes the result `unknown`. */
typedef triage_rc (*triage_run_fn)(const triage_host_api* host, triage_check_ctx ctx,
                                   const char* params_json, uint64_t params_len, void* user_data);

/* One kind of check a plugin offers. OWNERSHIP: plugin; must stay valid and
 * unchanged until the process exits (static storage). Initialise it with
 * designated initialisers (or memset) so that fields a later minor appends
 * stay zero without a -Wmissing-field-initializers warning. */
typedef struct triage_check_type {
  uint32_t struct_size;
  uint32_t flags;            /* TRIAGE_CHECK_* */
  const char* name;          /* NUL terminated, [a-z0-9_]+ e.g. "dns" */
  const char* description;   /* NUL terminated, one line */
  const char* params_schema; /* NUL terminated JSON Schema of params */
  triage_run_fn run;
  void* user_data;
  /* ---- ABI 1.1 ---- */
  /* The metrics this type can emit: metric_count pointers (plugin-owned,
   * static storage). NULL declares nothing, as a 1.0 plugin: thresholds on
   * any name are accepted (a name that matches no metric is only a runtime
   * warning). Non-NULL (with metric_count 0 for a type that emits no metric)
   * makes a threshold on an undeclared metric a config error. */
  const triage_metric_decl* const* metrics;
  uint32_t metric_count;
  uint32_t reserved1; /* must be 0 */
} triage_check_type;

/* Called once per process after the descriptor was accepted. Fills
 * out_types with a plugin-owned array of out_count pointers (static storage).
 * A non-OK return refuses the plugin. */
typedef triage_rc (*triage_init_fn)(const triage_host_api* host,
                                    const triage_check_type* const** out_types,
                                    uint32_t* out_count);

/* What the entry point returns. OWNERSHIP: plugin, static storage. The core
 * reads struct_size, magic and abi_major before anything else, and refuses a
 * plugin of another major without calling it further. */
typedef struct triage_plugin_descriptor {
  uint32_t struct_size;
  uint32_t magic; /* TRIAGE_PLUGIN_MAGIC */
  uint32_t abi_major;
  uint32_t abi_minor;
  const char* sdk_version; /* NUL terminated, TRIAGE_SDK_VERSION at build */
  const char* name;        /* NUL terminated, [a-z0-9_-]+ e.g. "network" */
  const char* version;     /* NUL terminated, the plugin's own version */
  const char* description; /* NUL terminated, one line */
  triage_init_fn init;
} triage_plugin_descriptor;

/* The signature of the exported entry point named TRIAGE_PLUGIN_ENTRY_V1. */
typedef const triage_plugin_descriptor* (*triage_plugin_entry_fn)(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* TRIAGE_PLUGIN_H */
