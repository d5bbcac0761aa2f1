#include <triage/plugin.h>

#include "triage/core/result.hpp"
#include "triage/core/text_format.hpp"

namespace triage::core {

std::string_view to_string(Severity s) {
  switch (s) {
    case Severity::critical:
      return "critical";
    case Severity::warning:
      return "warning";
    default:
      return "info";
  }
}

std::string sanitize_utf8(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  const auto* s = reinterpret_cast<const unsigned char*>(in.data());
  const std::size_t n = in.size();
  for (std::size_t i = 0; i < n;) {
    const unsigned char c = s[i];
    std::size_t len = 0;
    unsigned int cp = 0;
    if (c < 0x80) {
      len = 1;
      cp = c;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    }
    bool valid = len != 0 && i + len <= n;
    for (std::size_t k = 1; valid && k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) valid = false;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are invalid too.
    if (valid && ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
                  (len == 4 && cp < 0x10000) || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)))
      valid = false;
    // C0 controls (but newline and tab), DEL and C1 controls (U+009B is an
    // 8-bit CSI to some terminals) become spaces.
    const bool control = (cp < 0x20 && cp != '\n' && cp != '\t') || (cp >= 0x7F && cp <= 0x9F);
    if (valid && is_layout_control(cp)) {
      out += code_point_escape(cp);  // visible, so a reader sees it was there
      i += len;
    } else if (valid && !control) {
      out.append(in.substr(i, len));
      i += len;
    } else if (valid) {
      out += ' ';  // other control characters would garble terminals
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

std::string Attempt::cap(std::string text, std::size_t limit, bool* whole) {
  // Cleaned first: the cap bounds what is stored, escapes and all.
  auto clean = sanitize_utf8(text);
  if (clean != text) outcome_.cleaned = true;
  text = std::move(clean);
  if (text.size() > limit) {
    std::size_t cut = limit;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    text.resize(cut);
    text += " [truncated]";
    outcome_.truncated = true;
    *whole = false;
  }
  return text;
}

bool Attempt::set_status(int status, std::string summary) {
  std::lock_guard lock(mutex_);
  if (closed_) return false;
  bool whole = true;
  outcome_.status = status;
  outcome_.summary = cap(std::move(summary), limits_.summary_bytes, &whole);
  return whole;
}

bool Attempt::add_metric(RawMetric metric) {
  std::lock_guard lock(mutex_);
  if (closed_) return false;
  if (outcome_.metrics.size() >= limits_.metrics) {
    outcome_.truncated = true;
    return false;
  }
  bool whole = true;
  metric.name = cap(std::move(metric.name), 128, &whole);
  metric.unit = cap(std::move(metric.unit), 32, &whole);
  outcome_.metrics.push_back(std::move(metric));
  return whole;
}

bool Attempt::add_finding(Finding finding) {
  std::lock_guard lock(mutex_);
  if (closed_) return false;
  if (outcome_.findings.size() >= limits_.findings) {
    outcome_.truncated = true;
    return false;
  }
  bool whole = true;
  finding.title = cap(std::move(finding.title), limits_.summary_bytes, &whole);
  finding.detail = cap(std::move(finding.detail), limits_.text_bytes, &whole);
  finding.remediation = cap(std::move(finding.remediation), limits_.text_bytes, &whole);
  outcome_.findings.push_back(std::move(finding));
  return whole;
}

bool Attempt::set_attribute(std::string key, std::string value) {
  std::lock_guard lock(mutex_);
  if (closed_) return false;
  bool whole = true;
  key = cap(std::move(key), 128, &whole);
  value = cap(std::move(value), limits_.text_bytes, &whole);
  for (auto& kv : outcome_.attributes)
    if (kv.first == key) {
      kv.second = std::move(value);
      return whole;
    }
  if (outcome_.attributes.size() >= limits_.attributes) {
    outcome_.truncated = true;
    return false;
  }
  outcome_.attributes.emplace_back(std::move(key), std::move(value));
  return whole;
}

bool Attempt::admit_log() {
  std::lock_guard lock(mutex_);
  if (closed_) return false;
  if (++log_lines_ > limits_.log_lines) {
    ++outcome_.log_lines_suppressed;
    return false;
  }
  bool first_refused = false;
  if (log_budget_ && !log_budget_->admit(&first_refused)) {
    ++outcome_.log_lines_suppressed;
    return false;
  }
  return true;
}

void Attempt::count_log_lines_suppressed(std::uint64_t n) {
  std::lock_guard lock(mutex_);
  outcome_.log_lines_suppressed += n;
}

void Attempt::set_error(std::string message) {
  std::lock_guard lock(mutex_);
  if (closed_) return;
  bool whole = true;
  outcome_.error = cap(std::move(message), limits_.summary_bytes, &whole);
}

void Attempt::mark_truncated() {
  std::lock_guard lock(mutex_);
  outcome_.truncated = true;
}

void Attempt::mark_cleaned() {
  std::lock_guard lock(mutex_);
  outcome_.cleaned = true;
}

Outcome Attempt::take() {
  std::lock_guard lock(mutex_);
  closed_ = true;
  return std::move(outcome_);
}

}  // namespace triage::core
