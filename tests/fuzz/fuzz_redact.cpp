// libFuzzer target: Secrets::redact. The input is split at its first NUL
// into a secret and a text (no NUL: the first half is the secret). Checks
// that the secret itself (4 bytes or more, without '*') never survives
// redaction, not even a second one, and that with no secret the text is
// untouched.
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
  // A secret holding '*' can be spelled anew by "***" next to what is left
  // (found by this target): only those are exempt.
  const bool checkable = secret.size() >= triage::core::Secrets::kMinLength &&
                         secret.find('*') == std::string_view::npos;
  if (checkable && once.find(secret) != std::string::npos) fail("the secret survived redaction");
  const std::string twice = secrets.redact(once);
  if (checkable && twice.find(secret) != std::string::npos)
    fail("the secret appeared after a second redaction");
  if (secrets.empty() && once != text) fail("no secret, yet the text changed");
  return 0;
}
