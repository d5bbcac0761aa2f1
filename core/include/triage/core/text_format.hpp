// Text helpers shared by the views: numbers for people and for machines, and
// plugin-supplied strings made safe to print on one line of a terminal.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <triage/evaluation.hpp>

namespace triage::core {

// A plugin-supplied string for a terminal or a log line: line feed, carriage
// return, tab and other control characters become visible escapes (`\n`,
// `\r`, `\t`, `\x1b`), C1 controls and Unicode bidi controls (U+202A–U+202E,
// U+2066–U+2069, U+200E/U+200F, U+061C) and the line and paragraph
// separators U+2028/U+2029 become `<U+202E>`, so that no string can start a
// new row or reorder the text around it.
std::string escape_control(std::string_view text);

// The same, and every other non-ASCII character as `<U+XXXX>` (or a close
// ASCII spelling for a few common ones): for a terminal whose locale is not
// UTF-8.
std::string escape_control_ascii(std::string_view text);

// Bidi controls and the line/paragraph separators; a code point as
// "<U+202E>" (the SDK's, see triage/evaluation.hpp).
using triage::evaluation::code_point_escape;
using triage::evaluation::is_layout_control;

// A number in plain decimal notation, never with an exponent, as short as
// round-trips ("0.1", "1500", "0.0000012"): for Nagios perfdata and the
// Prometheus text format.
std::string plain_number(double value);

// A number for people: 3 significant digits, no exponent ("24.2", "140",
// "0.0123", "15300").
std::string people_number(double value);

// A value with its unit for people: seconds as s/min/h/d ("5.0d", not
// "4.99999d"), milliseconds as ms or s, bytes as KiB..TiB, percentages as
// "24.2%", anything else as "<number> <unit>".
std::string people_quantity(double value, std::string_view unit);

// Width of UTF-8 text in terminal columns (one per code point; close enough
// for the text we print).
std::size_t display_width(std::string_view text);

}  // namespace triage::core
