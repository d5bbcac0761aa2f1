// Reads a kubeconfig file (the YAML kubectl uses) into what one request to
// the Kubernetes API server needs: the server URL of a context's cluster, its
// CA, and its user's credentials (bearer token, token file, client
// certificate), the *-data fields base64-decoded into in-memory PEM. What
// Triage will not do is refused with a ParamError saying why: running an
// `exec` credential plugin or an `auth-provider`, and skipping TLS
// verification (`insecure-skip-tls-verify: true`).
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http.hpp"

namespace triage::cluster::kube {

// Files read from a kubeconfig (itself, tokenFile) are refused past this.
inline constexpr std::size_t kMaxKubeconfigBytes = 1024 * 1024;
inline constexpr std::size_t kMaxTokenFileBytes = 64 * 1024;

struct Kubeconfig {
  std::string server;      // clusters[].cluster.server, as written
  std::string context;     // the context used (current-context when none was asked)
  std::string cluster;     // its cluster's name
  std::string user;        // its user's name ("" when the context names none)
  std::string namespace_;  // the context's namespace ("" when none)
  HttpAuth auth;           // CA and credentials; paths made absolute
  // "bearer token", "token file", "client certificate" or "none": how the
  // user authenticates, for the report (never the credential itself).
  std::string credential;
  // Fields read but not used (tls-server-name, proxy-url, ...), to log.
  std::vector<std::string> ignored;
};

// Parses kubeconfig text. Relative paths in it are taken from base_dir (the
// file's folder, as kubectl does). context "" means current-context. Throws
// ParamError naming what is wrong or unsupported; never quotes a credential.
Kubeconfig parse_kubeconfig(std::string_view yaml, const std::filesystem::path& base_dir,
                            const std::string& context);

// Reads the file at path (at most kMaxKubeconfigBytes) and parses it.
Kubeconfig read_kubeconfig(const std::filesystem::path& path, const std::string& context);

// Standard base64 (RFC 4648, with or without padding; whitespace ignored),
// nullopt when the text is not base64.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace triage::cluster::kube
