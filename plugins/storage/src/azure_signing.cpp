#include "azure_signing.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <map>
#include <stdexcept>

namespace triage::storage::azure {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Header values are signed with leading/trailing blanks removed and inner runs
// of blanks folded to one space, as the service canonicalizes them.
std::string fold_blanks(std::string_view v) {
  std::string out;
  bool blank = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      blank = !out.empty();
      continue;
    }
    if (blank) out += ' ';
    blank = false;
    out += c;
  }
  return out;
}

std::string header_value(const std::vector<Header>& headers, std::string_view name) {
  for (const auto& [n, v] : headers)
    if (lower(n) == name) return v;
  return {};
}

}  // namespace

std::string string_to_sign(const SignedParts& parts) {
  std::string out(parts.method);
  out += '\n';
  static constexpr std::array<std::string_view, 11> kStandard{"content-encoding",
                                                              "content-language",
                                                              "content-length",
                                                              "content-md5",
                                                              "content-type",
                                                              "date",
                                                              "if-modified-since",
                                                              "if-match",
                                                              "if-none-match",
                                                              "if-unmodified-since",
                                                              "range"};
  for (const auto name : kStandard) {
    std::string v = header_value(parts.headers, name);
    if (name == "content-length" && v == "0") v.clear();
    out += v;
    out += '\n';
  }
  // x-ms-* headers by lowercase name, sorted (std::map orders them).
  std::map<std::string, std::string> ms;
  for (const auto& [n, v] : parts.headers) {
    const std::string key = lower(n);
    if (key.rfind("x-ms-", 0) == 0) ms[key] = fold_blanks(v);
  }
  for (const auto& [n, v] : ms) out += n + ':' + v + '\n';

  out += '/';
  out += parts.account;
  out += parts.path.empty() ? std::string_view("/") : parts.path;
  // Query parameters by lowercase name, sorted; repeated names joined by commas.
  std::map<std::string, std::vector<std::string>> query;
  for (const auto& [n, v] : parts.query) query[lower(n)].push_back(v);
  for (auto& [n, values] : query) {
    std::sort(values.begin(), values.end());
    out += '\n' + n + ':';
    for (std::size_t i = 0; i < values.size(); ++i) out += (i == 0 ? "" : ",") + values[i];
  }
  return out;
}

std::string base64_encode(std::span<const unsigned char> bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::optional<std::vector<unsigned char>> base64_decode(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0) return std::nullopt;
  const auto valid = [](unsigned char c) { return std::isalnum(c) != 0 || c == '+' || c == '/'; };
  std::size_t pad = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '=') {
      if (i + 2 < text.size()) return std::nullopt;  // '=' only in the last two places
      ++pad;
    } else if (!valid(c) || pad > 0) {
      return std::nullopt;
    }
  }
  std::vector<unsigned char> out(3 * text.size() / 4);
  const int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  // EVP_DecodeBlock counts padding as zero bytes.
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}

std::string hmac_sha256_base64(std::span<const unsigned char> key, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac.data(),
           &len) == nullptr)
    throw std::runtime_error("HMAC-SHA256 failed (OpenSSL)");
  return base64_encode(std::span<const unsigned char>(mac.data(), len));
}

std::string rfc1123(std::chrono::system_clock::time_point when) {
  const std::time_t t = std::chrono::system_clock::to_time_t(when);
  std::tm tm{};
  gmtime_r(&t, &tm);
  // Day and month names fixed in English, whatever the locale.
  static constexpr std::array<const char*, 7> kDays{"Sun", "Mon", "Tue", "Wed",
                                                    "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> kMonths{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays.at(tm.tm_wday),
                tm.tm_mday, kMonths.at(tm.tm_mon), tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

std::string shared_key_authorization(std::string_view account, std::span<const unsigned char> key,
                                     const SignedParts& parts) {
  return "SharedKey " + std::string(account) + ':' + hmac_sha256_base64(key, string_to_sign(parts));
}

}  // namespace triage::storage::azure
