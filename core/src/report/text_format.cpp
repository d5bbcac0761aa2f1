#include "triage/core/text_format.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace triage::core {

namespace {

// Decodes one UTF-8 sequence at text[i]; returns the code point and advances
// i. Invalid bytes come back as U+FFFD, one byte at a time.
char32_t next_code_point(std::string_view text, std::size_t& i) {
  return evaluation::next_code_point(text, i).value_or(0xFFFD);
}

}  // namespace

namespace {

std::string ascii_spelling(char32_t cp) {
  switch (cp) {
    case 0x00B5:  // micro sign
    case 0x03BC:  // Greek mu
      return "u";
    case 0x00B7:  // middle dot
    case 0x2013:  // en dash
    case 0x2014:  // em dash
      return "-";
    case 0x2192:  // rightwards arrow
      return "->";
    case 0x2026:  // ellipsis
      return "...";
    case 0x2018:
    case 0x2019:
      return "'";
    case 0x201C:
    case 0x201D:
      return "\"";
    case 0x00A0:  // no-break space
      return " ";
    default:
      return code_point_escape(cp);
  }
}

std::string escape(std::string_view text, bool ascii) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t start = i;
    const char32_t cp = next_code_point(text, i);
    if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (cp < 0x20 || cp == 0x7F) {
      std::array<char, 8> buf{};
      std::snprintf(buf.data(), buf.size(), "\\x%02x", static_cast<unsigned>(cp));
      out += buf.data();
    } else if ((cp >= 0x80 && cp <= 0x9F) || is_layout_control(cp)) {
      out += code_point_escape(cp);
    } else if (cp >= 0x80 && ascii) {
      out += ascii_spelling(cp);
    } else if (cp == 0xFFFD && i - start == 1 && static_cast<unsigned char>(text[start]) >= 0x80) {
      out += ascii ? "?" : "\xEF\xBF\xBD";  // an invalid byte
    } else {
      out.append(text.substr(start, i - start));
    }
  }
  return out;
}

std::string fixed(double value, int decimals) {
  std::array<char, 64> buf{};
  std::snprintf(buf.data(), buf.size(), "%.*f", decimals, value);
  return buf.data();
}

}  // namespace

std::string escape_control(std::string_view text) {
  return escape(text, false);
}

std::string escape_control_ascii(std::string_view text) {
  return escape(text, true);
}

std::string plain_number(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == 0) return "0";  // also -0
  std::array<char, 400> buf{};
  const auto res =
      std::to_chars(buf.data(), buf.data() + buf.size(), value, std::chars_format::fixed);
  if (res.ec != std::errc()) return fixed(value, 6);
  return std::string(buf.data(), res.ptr);
}

std::string people_number(double value) {
  if (!std::isfinite(value)) return plain_number(value);
  const double magnitude = std::fabs(value);
  if (magnitude >= 1000 || value == std::floor(value)) return fixed(std::round(value), 0);
  // 3 significant digits, then without trailing zeros.
  int decimals = 2 - static_cast<int>(std::floor(std::log10(magnitude)));
  decimals = std::min(decimals, 12);
  std::string text = fixed(value, decimals);
  if (text.find('.') != std::string::npos) {
    while (text.back() == '0') text.pop_back();
    if (text.back() == '.') text.pop_back();
  }
  return text == "-0" ? "0" : text;
}

namespace {

// Durations and sizes: one decimal below 100 ("5.0d", "12.5 GiB"), none above.
std::string scaled(double value) {
  return std::fabs(value) < 100 ? fixed(value, 1) : fixed(value, 0);
}

}  // namespace

std::string people_quantity(double value, std::string_view unit) {
  if (!std::isfinite(value))
    return plain_number(value) + (unit.empty() ? "" : " ") + std::string(unit);
  const double magnitude = std::fabs(value);
  if (unit == "s") {
    if (magnitude >= 86400) return scaled(value / 86400) + "d";
    if (magnitude >= 3600) return scaled(value / 3600) + "h";
    if (magnitude >= 60) return scaled(value / 60) + "min";
    return people_number(value) + " s";
  }
  if (unit == "ms") {
    if (magnitude >= 1000) return people_quantity(value / 1000, "s");
    return people_number(value) + " ms";
  }
  if (unit == "B" || unit == "bytes") {
    constexpr std::array<const char*, 5> kUnits{"KiB", "MiB", "GiB", "TiB", "PiB"};
    if (magnitude < 1024) return people_number(value) + " B";
    double v = value / 1024;
    std::size_t k = 0;
    while (std::fabs(v) >= 1024 && k + 1 < kUnits.size()) {
      v /= 1024;
      ++k;
    }
    return scaled(v) + " " + kUnits[k];
  }
  if (unit == "%") return people_number(value) + "%";
  return people_number(value) + (unit.empty() ? "" : " ") + std::string(unit);
}

std::size_t display_width(std::string_view text) {
  std::size_t width = 0;
  for (const char c : text)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++width;
  return width;
}

}  // namespace triage::core
