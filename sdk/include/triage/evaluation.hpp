// triage/evaluation.hpp — the rules the Triage core applies to what a check
// reports, in one header: threshold ranges in the Monitoring Plugins syntax,
// the status order, the output limits and text cleaning. The core evaluates
// every check with this very code, and so does triage/testing.hpp, so that
// a plugin's own unit test sees what a run would report.
//
// Header-only, C++17, nothing but the standard library.
#ifndef TRIAGE_EVALUATION_HPP
#define TRIAGE_EVALUATION_HPP

#include <triage/plugin.h>

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

namespace triage {
inline namespace v1 {
namespace evaluation {

// ---- threshold ranges -------------------------------------------------------

class RangeError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// A threshold range ("10", "10:", "~:10", "10:20", "@10:20"): a value outside
// the range alerts, or inside it with '@' (Monitoring Plugins guidelines).
class Range {
 public:
  // Throws RangeError with a message that says what was expected.
  static Range parse(std::string_view text) {
    Range r;
    r.text_ = std::string(text);
    std::string_view rest = text;
    if (!rest.empty() && rest.front() == '@') {
      r.inside_ = true;
      rest.remove_prefix(1);
    }
    if (rest.empty()) throw RangeError("invalid range '" + std::string(text) + "': empty");
    const auto colon = rest.find(':');
    if (colon == std::string_view::npos) {
      r.end_ = number(rest, text);
      if (r.end_ < 0)
        throw RangeError("invalid range '" + std::string(text) +
                         "': a single number means 0..N and must not be negative (use N: or ~:N)");
      return r;
    }
    const auto start = rest.substr(0, colon);
    const auto end = rest.substr(colon + 1);
    if (start == "~")
      r.start_infinite_ = true;
    else if (!start.empty())
      r.start_ = number(start, text);
    if (end.empty())
      r.end_infinite_ = true;
    else
      r.end_ = number(end, text);
    if (!r.start_infinite_ && !r.end_infinite_ && r.start_ > r.end_)
      throw RangeError("invalid range '" + std::string(text) + "': start is greater than end");
    return r;
  }

  // True when value should raise an alert.
  bool alerts(double value) const {
    const bool in = (start_infinite_ || value >= start_) && (end_infinite_ || value <= end_);
    return inside_ ? in : !in;
  }

  const std::string& text() const { return text_; }

  // When it alerts, for people: "> 500", "< 30", "outside 10..20".
  std::string describe() const {
    const std::string lo = shown(start_), hi = shown(end_);
    if (inside_) {
      if (start_infinite_ && end_infinite_) return "always";
      if (start_infinite_) return "<= " + hi;
      if (end_infinite_) return ">= " + lo;
      return "inside " + lo + ".." + hi;
    }
    if (start_infinite_ && end_infinite_) return "never";
    if (start_infinite_) return "> " + hi;
    if (end_infinite_) return "< " + lo;
    if (start_ == 0) return "> " + hi;  // "or < 0" is noise for the usual upper bound
    return "outside " + lo + ".." + hi;
  }

 private:
  static double number(std::string_view text, std::string_view whole) {
    double value = 0;
    const auto* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc() || ptr != end || !std::isfinite(value))
      throw RangeError("invalid range '" + std::string(whole) + "': '" + std::string(text) +
                       "' is not a number (expected e.g. 10, 10:, ~:10, 10:20 or @10:20)");
    return value;
  }
  static std::string shown(double v) {
    std::ostringstream out;
    out << v;
    return out.str();
  }

  double start_ = 0;
  double end_ = 0;
  bool start_infinite_ = false;
  bool end_infinite_ = false;
  bool inside_ = false;
  std::string text_;
};

// ---- statuses ---------------------------------------------------------------

// Rank in the Monitoring Plugins aggregate order (`max_state_alt`):
// ok 1 < unknown 2 < warning 3 < critical 4, so that a real outage is never
// hidden behind an unknown. Takes TRIAGE_STATUS_* values; anything else is 0.
inline int severity_rank(std::int32_t status) {
  switch (status) {
    case TRIAGE_STATUS_OK:
      return 1;
    case TRIAGE_STATUS_UNKNOWN:
      return 2;
    case TRIAGE_STATUS_WARNING:
      return 3;
    case TRIAGE_STATUS_CRITICAL:
      return 4;
    default:
      return 0;
  }
}

// The status of one metric: critical when its critical range alerts, else
// warning when its warning range does, else ok (TRIAGE_STATUS_*).
inline std::int32_t metric_status(double value, const std::optional<Range>& warning,
                                  const std::optional<Range>& critical) {
  if (critical && critical->alerts(value)) return TRIAGE_STATUS_CRITICAL;
  if (warning && warning->alerts(value)) return TRIAGE_STATUS_WARNING;
  return TRIAGE_STATUS_OK;
}

// ---- declared metric names --------------------------------------------------

// True when a declared metric name covers `name` (an emitted metric or a
// config threshold) for a check with these params: the same name; "p[ITEM]"
// (any non-empty ITEM) for "p[*]"; a key of the object params.P for "{P}".
// Json is nlohmann::json or anything with is_object/contains/operator[].
template <class Json>
bool covers(std::string_view declared, std::string_view name, const Json& params) {
  if (declared == name) return true;
  const std::size_t n = declared.size();
  if (n > 3 && declared.substr(n - 3) == "[*]") {
    const auto base = declared.substr(0, n - 2);  // "p["
    return name.size() > base.size() + 1 && name.substr(0, base.size()) == base &&
           name.back() == ']';
  }
  if (n > 2 && declared.front() == '{' && declared.back() == '}') {
    const std::string param(declared.substr(1, n - 2));
    if (!params.is_object() || !params.contains(param)) return false;
    const auto& keys = params[param];
    return keys.is_object() && keys.contains(std::string(name));
  }
  return false;
}

// ---- params -----------------------------------------------------------------

// The two most common mistakes in a check's params, which the core refuses
// at load before any full JSON Schema validation: a param the schema does
// not have (when it says "additionalProperties": false) and a missing
// required one.
struct ParamsProblem {
  enum class Kind { unknown, missing };
  Kind kind;
  std::string name;
};

template <class Json>
std::optional<ParamsProblem> params_problem(const Json& schema, const Json& params) {
  if (!schema.is_object() || !params.is_object()) return std::nullopt;
  const Json props = schema.value("properties", Json::object());
  if (schema.value("additionalProperties", Json(true)) == Json(false) && props.is_object())
    for (const auto& item : params.items())
      if (!props.contains(item.key()))
        return ParamsProblem{ParamsProblem::Kind::unknown, item.key()};
  for (const auto& name : schema.value("required", Json::array()))
    if (name.is_string() && !params.contains(name.template get<std::string>()))
      return ParamsProblem{ParamsProblem::Kind::missing, name.template get<std::string>()};
  return std::nullopt;
}

// ---- text -------------------------------------------------------------------

// Bidi controls (U+202A–U+202E, U+2066–U+2069, U+200E/U+200F, U+061C), which
// reorder the text around them, and the line and paragraph separators
// U+2028/U+2029, which start a new line in some terminals and editors.
inline bool is_layout_control(char32_t cp) {
  return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200E ||
         cp == 0x200F || cp == 0x061C || cp == 0x2028 || cp == 0x2029;
}

// A code point as visible ASCII: "<U+202E>".
inline std::string code_point_escape(char32_t cp) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "<U+%04X>", static_cast<unsigned>(cp));
  return buf;
}

// Decodes the UTF-8 sequence at text[i] and advances i past it; nullopt,
// with i advanced by one byte, for an invalid one: a bad lead or
// continuation byte, a cut sequence, an overlong form, a surrogate, or a
// value past U+10FFFF.
inline std::optional<char32_t> next_code_point(std::string_view text, std::size_t& i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  std::size_t len = 0;
  char32_t cp = 0;
  if (lead < 0x80) {
    len = 1;
    cp = lead;
  } else if ((lead & 0xE0) == 0xC0) {
    len = 2;
    cp = lead & 0x1F;
  } else if ((lead & 0xF0) == 0xE0) {
    len = 3;
    cp = lead & 0x0F;
  } else if ((lead & 0xF8) == 0xF0) {
    len = 4;
    cp = lead & 0x07;
  }
  bool valid = len != 0 && i + len <= text.size();
  for (std::size_t k = 1; valid && k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) valid = false;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  if (valid && ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
                cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)))
    valid = false;
  if (!valid) {
    ++i;
    return std::nullopt;
  }
  i += len;
  return cp;
}

// Plugin text made safe for a report and a log line: invalid UTF-8 becomes
// U+FFFD, C0 controls (but newline and tab), DEL and C1 controls become
// spaces, and layout controls (is_layout_control) become `<U+202E>`.
inline std::string clean_text(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size();) {
    const std::size_t start = i;
    const auto cp = next_code_point(in, i);
    if (!cp)
      out += "\xEF\xBF\xBD";
    else if (is_layout_control(*cp))
      out += code_point_escape(*cp);  // visible, so a reader sees it was there
    else if ((*cp < 0x20 && *cp != '\n' && *cp != '\t') || (*cp >= 0x7F && *cp <= 0x9F))
      out += ' ';  // U+009B is an 8-bit CSI to some terminals
    else
      out.append(in.substr(start, i - start));
  }
  return out;
}

// ---- output limits ----------------------------------------------------------

// What the core keeps of one check's output (docs/reliability.md, "Limits").
struct Limits {
  std::size_t summary_bytes = 4096;  // summary, finding title, error
  std::size_t text_bytes = 16384;    // finding detail/remediation, attribute value
  std::size_t name_bytes = 128;      // metric name, attribute key
  std::size_t unit_bytes = 32;
  std::size_t metrics = 256;
  std::size_t findings = 64;
  std::size_t attributes = 64;
  std::size_t log_lines = 100;  // per check
  std::size_t log_line_bytes = 4096;
};

inline constexpr std::string_view kTruncatedMark = " [truncated]";

// text cleaned (clean_text), then cut at a UTF-8 boundary to at most `limit`
// bytes with " [truncated]" appended; `whole` becomes false when it was cut,
// and *cleaned true when cleaning changed it.
inline std::string cap_text(std::string_view text, std::size_t limit, bool& whole,
                            bool* cleaned = nullptr) {
  std::string out = clean_text(text);
  if (cleaned != nullptr && out != text) *cleaned = true;
  if (out.size() > limit) {
    std::size_t cut = limit;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    // A new string, not a resize: the cut one would keep the whole
    // allocation (5 MB kept for a 4 KiB summary, per check).
    out = out.substr(0, cut);
    out += kTruncatedMark;
    whole = false;
  }
  return out;
}

}  // namespace evaluation
}  // namespace v1
}  // namespace triage

#endif  // TRIAGE_EVALUATION_HPP
