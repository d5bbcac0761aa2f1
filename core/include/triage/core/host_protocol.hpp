// The messages between the core and a plugin-host process, carried in frames
// (frame.hpp) over a socketpair. Payloads are JSON; one DONE message carries
// everything a check reported, so a check costs two frames.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "triage/core/plugin_loader.hpp"
#include "triage/core/result.hpp"

namespace triage::core::protocol {

// host → core, once after start: {"plugin": {...}} or {"refused": "reason"}
inline constexpr std::uint8_t kHello = 'H';
// core → host: {"id", "type", "params" (JSON text), "deadline_ns" (CLOCK_MONOTONIC)}
inline constexpr std::uint8_t kRun = 'R';
// core → host: {"id"}
inline constexpr std::uint8_t kCancel = 'C';
// host → core: {"id", "rc", "outcome": {...}}
inline constexpr std::uint8_t kDone = 'D';
// host → core: {"level", "message"}: the plugin's log lines, logged by the core
inline constexpr std::uint8_t kLog = 'L';

nlohmann::json plugin_to_json(const Plugin& plugin);
// Throws std::exception on a malformed description.
Plugin plugin_from_json(const nlohmann::json& j);

nlohmann::json outcome_to_json(const Outcome& outcome);
// Reads what the host sent; the core re-applies the output limits itself, so
// a host that lies about them gains nothing.
void outcome_from_json(const nlohmann::json& j, Attempt& into);

}  // namespace triage::core::protocol
