#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <system_error>

#include "services.hpp"

namespace triage::test {

TempDir::TempDir() {
  // temp_directory_path() honours $TMPDIR; mkdtemp gives a fresh, private name.
  std::string pattern = (std::filesystem::temp_directory_path() / "triage-test-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("mkdtemp " + pattern + ": " + std::strerror(errno));
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

}  // namespace triage::test
