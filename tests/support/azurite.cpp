#include <chrono>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include "internal.hpp"

namespace triage::test {
namespace {

namespace fs = std::filesystem;

// Node starts Azurite in a second or two, several on a loaded CI machine.
constexpr std::chrono::milliseconds kAzuriteStartTimeout{60'000};

fs::path azurite_binary() {
  const fs::path bin = TRIAGE_AZURITE_BIN;
  std::error_code ec;
  if (!fs::exists(bin, ec))
    throw std::runtime_error("Azurite is not installed (" + bin.string() +
                             " is missing): run scripts/install-azurite");
  return bin;
}

}  // namespace

Azurite::Azurite(bool https) : https_(https) {
  const fs::path bin = azurite_binary();
  if (https_) certs_ = make_certs(dir_.path() / "certs");
  const fs::path log = dir_.path() / "azurite.log";
  for (int attempt = 1;; ++attempt) {
    port_ = free_port();
    const fs::path data = dir_.path() / ("data-" + std::to_string(attempt));
    fs::create_directories(data);
    std::vector<std::string> argv{bin.string(),
                                  "--blobHost",
                                  "127.0.0.1",
                                  "--blobPort",
                                  std::to_string(port_),
                                  "--location",
                                  data.string(),
                                  "--silent",
                                  "--skipApiVersionCheck",
                                  "--disableTelemetry"};
    if (https_) {
      argv.insert(argv.end(), {"--cert", certs_.valid_cert.string(), "--key",
                               certs_.valid_key.string(), "--oauth", "basic"});
    }
    auto process = std::make_unique<Process>(argv, log);
    const auto startup = detail::wait_until_listening(*process, {port_}, kAzuriteStartTimeout);
    if (startup == detail::Startup::listening) {
      process_ = std::move(process);
      return;
    }
    if (startup == detail::Startup::exited && attempt < detail::kStartAttempts) continue;
    process.reset();
    throw std::runtime_error(
        "Azurite did not start (" +
        std::string(startup == detail::Startup::exited ? "exited" : "timed out") + "); its log:\n" +
        detail::read_text(log));
  }
}

Azurite::~Azurite() = default;

std::string Azurite::endpoint() const {
  return std::string(https_ ? "https://localhost:" : "http://127.0.0.1:") + std::to_string(port_) +
         "/" + kAccount;
}

}  // namespace triage::test
