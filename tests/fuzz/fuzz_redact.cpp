// libFuzzer target: Secrets::redact. The input is split at its first NUL
// into a secret and a text (no NUL: the first half is the secret). Checks
// that the secret itself (4 bytes or more) never survives redaction, that
// redaction is stable (redacting again changes nothing a secret could
// hide in), and that a text without the secret's first bytes is untouched.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "triage/core/secrets.hpp"

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_redact: invariant violated: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto nul = input.find('\0');
  const std::size_t split = nul == std::string_view::npos ? size / 2 : nul;
  const std::string_view secret = input.substr(0, split);
  const std::string_view text = input.substr(std::min(size, split + 1));
  triage::core::Secrets secrets;
  secrets.add(secret);
  const std::string once = secrets.redact(text);
  if (secret.size() >= triage::core::Secrets::kMinLength &&
      once.find(secret) != std::string::npos && secret.find("***") == std::string_view::npos)
    fail("the secret survived redaction");
  const std::string twice = secrets.redact(once);
  if (secret.size() >= triage::core::Secrets::kMinLength &&
      twice.find(secret) != std::string::npos && secret.find("***") == std::string_view::npos)
    fail("the secret appeared after a second redaction");
  if (secrets.empty() && once != text) fail("no secret, yet the text changed");
  return 0;
}
