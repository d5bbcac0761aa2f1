/* The layout of the SDK's public C types as the C compiler sees them:
 * sizeof/offsetof of every field of every struct that crosses the ABI, and
 * the value of every ABI constant. abi_check compares it with the stored
 * baselines (baseline-1.0.txt, baseline-1.1.txt). A new public struct, field
 * or constant must be added here when it is added to plugin.h, and recorded
 * in the baseline of the minor that adds it. */
#include "abi_layout.h"

#include <triage/plugin.h>

#define STRUCT(s) \
  { ABI_STRUCT, #s, "", sizeof(s), 0 }
#define FIELD(s, f) \
  { ABI_FIELD, #s, #f, offsetof(s, f), sizeof(((s*)0)->f) }
#define CONST(c) \
  { ABI_CONST, "", #c, (uint64_t)(c), 0 }

static const abi_entry entries[] = {
    CONST(TRIAGE_ABI_MAJOR),
    CONST(TRIAGE_ABI_MINOR),
    CONST(TRIAGE_PLUGIN_MAGIC),
    CONST(TRIAGE_RC_OK),
    CONST(TRIAGE_RC_INVALID_ARGUMENT),
    CONST(TRIAGE_RC_CANCELLED),
    CONST(TRIAGE_RC_LIMIT),
    CONST(TRIAGE_RC_ERROR),
    CONST(TRIAGE_STATUS_OK),
    CONST(TRIAGE_STATUS_WARNING),
    CONST(TRIAGE_STATUS_CRITICAL),
    CONST(TRIAGE_STATUS_UNKNOWN),
    CONST(TRIAGE_SEVERITY_INFO),
    CONST(TRIAGE_SEVERITY_WARNING),
    CONST(TRIAGE_SEVERITY_CRITICAL),
    CONST(TRIAGE_LOG_DEBUG),
    CONST(TRIAGE_LOG_INFO),
    CONST(TRIAGE_LOG_WARNING),
    CONST(TRIAGE_LOG_ERROR),
    CONST(TRIAGE_CHECK_THREAD_SAFE),
    CONST(sizeof(triage_rc)),

    STRUCT(triage_metric),
    FIELD(triage_metric, struct_size),
    FIELD(triage_metric, reserved0),
    FIELD(triage_metric, name),
    FIELD(triage_metric, name_len),
    FIELD(triage_metric, value),
    FIELD(triage_metric, unit),
    FIELD(triage_metric, unit_len),
    FIELD(triage_metric, default_warning),
    FIELD(triage_metric, default_warning_len),
    FIELD(triage_metric, default_critical),
    FIELD(triage_metric, default_critical_len),

    STRUCT(triage_finding),
    FIELD(triage_finding, struct_size),
    FIELD(triage_finding, severity),
    FIELD(triage_finding, title),
    FIELD(triage_finding, title_len),
    FIELD(triage_finding, detail),
    FIELD(triage_finding, detail_len),
    FIELD(triage_finding, remediation),
    FIELD(triage_finding, remediation_len),

    STRUCT(triage_host_api),
    FIELD(triage_host_api, struct_size),
    FIELD(triage_host_api, abi_major),
    FIELD(triage_host_api, abi_minor),
    FIELD(triage_host_api, reserved0),
    FIELD(triage_host_api, host_version),
    FIELD(triage_host_api, set_status),
    FIELD(triage_host_api, emit_metric),
    FIELD(triage_host_api, add_finding),
    FIELD(triage_host_api, set_attribute),
    FIELD(triage_host_api, log),
    FIELD(triage_host_api, is_cancelled),
    FIELD(triage_host_api, get_deadline),
    FIELD(triage_host_api, set_error),

    STRUCT(triage_check_type),
    FIELD(triage_check_type, struct_size),
    FIELD(triage_check_type, flags),
    FIELD(triage_check_type, name),
    FIELD(triage_check_type, description),
    FIELD(triage_check_type, params_schema),
    FIELD(triage_check_type, run),
    FIELD(triage_check_type, user_data),
    /* ABI 1.1 */
    FIELD(triage_check_type, metrics),
    FIELD(triage_check_type, metric_count),
    FIELD(triage_check_type, reserved1),

    STRUCT(triage_metric_decl),
    FIELD(triage_metric_decl, struct_size),
    FIELD(triage_metric_decl, reserved0),
    FIELD(triage_metric_decl, name),
    FIELD(triage_metric_decl, unit),
    FIELD(triage_metric_decl, description),
    FIELD(triage_metric_decl, default_warning),
    FIELD(triage_metric_decl, default_critical),
    FIELD(triage_metric_decl, remediation),

    STRUCT(triage_plugin_descriptor),
    FIELD(triage_plugin_descriptor, struct_size),
    FIELD(triage_plugin_descriptor, magic),
    FIELD(triage_plugin_descriptor, abi_major),
    FIELD(triage_plugin_descriptor, abi_minor),
    FIELD(triage_plugin_descriptor, sdk_version),
    FIELD(triage_plugin_descriptor, name),
    FIELD(triage_plugin_descriptor, version),
    FIELD(triage_plugin_descriptor, description),
    FIELD(triage_plugin_descriptor, init),
};

const abi_entry* abi_layout(size_t* count) {
  *count = sizeof entries / sizeof entries[0];
  return entries;
}

const char* abi_entry_point_name(void) {
  return TRIAGE_PLUGIN_ENTRY_V1;
}
