#include "kubeconfig.hpp"

#include <yaml-cpp/yaml.h>

#include <array>
#include <fstream>
#include <iterator>

namespace triage::cluster::kube {
namespace {

namespace fs = std::filesystem;

// A scalar field of a mapping, nullopt when absent or null; ParamError when
// it is not a scalar (a list where a string belongs).
std::optional<std::string> text(const YAML::Node& map, const char* key, const std::string& where) {
  const YAML::Node v = map[key];
  if (!v || v.IsNull()) return std::nullopt;
  if (!v.IsScalar()) throw ParamError("kubeconfig: " + where + "." + key + " must be a string");
  return v.Scalar();
}

// The entry of a named list (clusters, users, contexts) with this name: its
// inner mapping (entry[inner]).
YAML::Node find_named(const YAML::Node& root, const char* list, const char* inner,
                      const std::string& name) {
  const YAML::Node entries = root[list];
  if (entries && entries.IsSequence())
    for (const auto& entry : entries)
      if (entry.IsMap() && entry["name"] && entry["name"].IsScalar() &&
          entry["name"].Scalar() == name) {
        const YAML::Node body = entry[inner];
        if (!body || !body.IsMap())
          throw ParamError("kubeconfig: " + std::string(list) + " entry '" + name + "' has no " +
                           inner + " mapping");
        return body;
      }
  throw ParamError("kubeconfig: no " + std::string(inner) + " named '" + name + "' in " + list);
}

std::string absolute(const std::string& path, const fs::path& base_dir) {
  const fs::path p(path);
  return (p.is_absolute() ? p : base_dir / p).lexically_normal().string();
}

// A *-data field: base64 of PEM. ParamError naming the field when it is not.
std::string pem_data(const std::string& b64, const std::string& field, const char* begin) {
  auto pem = base64_decode(b64);
  if (!pem) throw ParamError("kubeconfig: " + field + " is not base64");
  if (pem->find(begin) == std::string::npos)
    throw ParamError("kubeconfig: " + field + " does not decode to PEM (" + begin + ")");
  return std::move(*pem);
}

std::string read_bounded(const fs::path& path, std::size_t max, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ParamError(what + ": cannot read " + path.string());
  std::string data;
  std::array<char, 8192> buf{};
  while (in.read(buf.data(), buf.size()) || in.gcount() > 0) {
    data.append(buf.data(), static_cast<std::size_t>(in.gcount()));
    if (data.size() > max)
      throw ParamError(what + ": " + path.string() + " is larger than " + std::to_string(max) +
                       " bytes");
  }
  return data;
}

bool readable(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return static_cast<bool>(in);
}

void read_cluster(const YAML::Node& c, const fs::path& base_dir, Kubeconfig& out) {
  const std::string where = "clusters[" + out.cluster + "].cluster";
  out.server = text(c, "server", where).value_or("");
  if (out.server.empty()) throw ParamError("kubeconfig: " + where + " has no server");
  if (const YAML::Node skip = c["insecure-skip-tls-verify"]; skip && skip.IsScalar()) {
    bool on = false;
    if (!YAML::convert<bool>::decode(skip, on))
      throw ParamError("kubeconfig: " + where + ".insecure-skip-tls-verify must be true or false");
    if (on)
      throw ParamError(
          "kubeconfig: cluster '" + out.cluster +
          "' sets insecure-skip-tls-verify: true, which Triage refuses: it always verifies the "
          "API server's certificate. Give the cluster's CA (certificate-authority-data in the "
          "kubeconfig, or the ca_file param), e.g. from kubectl config view --raw --minify of a "
          "working context, or /etc/kubernetes/pki/ca.crt on a control-plane node");
  }
  if (const auto data = text(c, "certificate-authority-data", where))
    out.auth.ca_pem = pem_data(*data, where + ".certificate-authority-data", "-----BEGIN");
  else if (const auto file = text(c, "certificate-authority", where))
    out.auth.ca_file = absolute(*file, base_dir);
  for (const char* key : {"tls-server-name", "proxy-url", "disable-compression"})
    if (c[key]) out.ignored.push_back(where + "." + key);
}

void read_user(const YAML::Node& u, const fs::path& base_dir, Kubeconfig& out) {
  const std::string where = "users[" + out.user + "].user";
  if (u["exec"])
    throw ParamError("kubeconfig: user '" + out.user +
                     "' gets its credentials from an exec plugin, which Triage does not run "
                     "(not supported): give the check a bearer_token (e.g. a service account's, "
                     "kubectl create token NAME) or a client certificate (cert_file/key_file), "
                     "or a kubeconfig user with token, tokenFile or client-certificate/client-key");
  if (u["auth-provider"])
    throw ParamError("kubeconfig: user '" + out.user +
                     "' uses an auth-provider, which Triage does not support (the providers were "
                     "removed from kubectl): give the check a bearer_token or a client "
                     "certificate (cert_file/key_file) instead");
  if (u["username"] || u["password"])
    throw ParamError("kubeconfig: user '" + out.user +
                     "' uses username/password (HTTP basic auth), which the API server no longer "
                     "accepts (removed in Kubernetes 1.19) and Triage does not support: give a "
                     "bearer_token or a client certificate");
  for (const char* key : {"as", "as-groups", "as-uid", "as-user-extra"})
    if (u[key]) out.ignored.push_back(where + "." + key);

  if (const auto token = text(u, "token", where)) {
    out.auth.bearer_token = *token;
    out.credential = "bearer token";
  } else if (const auto file = text(u, "tokenFile", where)) {
    std::string t = read_bounded(absolute(*file, base_dir), kMaxTokenFileBytes,
                                 "kubeconfig: " + where + ".tokenFile");
    while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ')) t.pop_back();
    if (t.empty()) throw ParamError("kubeconfig: " + where + ".tokenFile is empty");
    out.auth.bearer_token = std::move(t);
    out.credential = "token file";
  }
  if (out.auth.bearer_token.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos)
    throw ParamError("kubeconfig: the token of user '" + out.user + "' contains a line break");

  // client-go: the *-data field wins when both are given.
  if (const auto data = text(u, "client-certificate-data", where))
    out.auth.cert_pem = pem_data(*data, where + ".client-certificate-data", "-----BEGIN");
  else if (const auto file = text(u, "client-certificate", where))
    out.auth.cert_file = absolute(*file, base_dir);
  if (const auto data = text(u, "client-key-data", where))
    out.auth.key_pem = pem_data(*data, where + ".client-key-data", "PRIVATE KEY-----");
  else if (const auto file = text(u, "client-key", where))
    out.auth.key_file = absolute(*file, base_dir);
  const bool cert = !out.auth.cert_pem.empty() || !out.auth.cert_file.empty();
  const bool key = !out.auth.key_pem.empty() || !out.auth.key_file.empty();
  if (cert != key)
    throw ParamError("kubeconfig: user '" + out.user +
                     "' gives a client certificate without its key, or a key without its "
                     "certificate (client-certificate[-data] and client-key[-data] go together)");
  if (cert && out.credential.empty()) out.credential = "client certificate";
  if (!out.auth.cert_file.empty() && !readable(out.auth.cert_file))
    throw ParamError("kubeconfig: user '" + out.user + "': cannot read client-certificate " +
                     out.auth.cert_file);
  // The key's path is not quoted: where a key lives is kept out of reports.
  if (!out.auth.key_file.empty() && !readable(out.auth.key_file))
    throw ParamError("kubeconfig: user '" + out.user + "': cannot read its client-key file");
}

}  // namespace

std::optional<std::string> base64_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size() * 3 / 4);
  unsigned buffer = 0;
  int bits = 0, padding = 0;
  for (const char c : text) {
    int v = -1;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= 'a' && c <= 'z')
      v = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      v = c - '0' + 52;
    else if (c == '+')
      v = 62;
    else if (c == '/')
      v = 63;
    else if (c == '=') {
      ++padding;
      continue;
    } else if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
      continue;
    } else {
      return std::nullopt;
    }
    if (padding > 0) return std::nullopt;  // data after '='
    buffer = (buffer << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  if (padding > 2 || bits >= 6) return std::nullopt;
  return out;
}

Kubeconfig parse_kubeconfig(std::string_view yaml, const fs::path& base_dir,
                            const std::string& context) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    // The mark says where; the message never quotes the document's values.
    throw ParamError("kubeconfig: not valid YAML (line " + std::to_string(e.mark.line + 1) +
                     ", column " + std::to_string(e.mark.column + 1) + ")");
  }
  if (!root.IsMap()) throw ParamError("kubeconfig: not a kubeconfig (no mapping at the top)");
  try {
    Kubeconfig out;
    out.context =
        context.empty() ? text(root, "current-context", "kubeconfig").value_or("") : context;
    if (out.context.empty())
      throw ParamError("kubeconfig: no current-context is set: give the check's context param");
    const YAML::Node ctx = find_named(root, "contexts", "context", out.context);
    const std::string where = "contexts[" + out.context + "].context";
    out.cluster = text(ctx, "cluster", where).value_or("");
    if (out.cluster.empty()) throw ParamError("kubeconfig: " + where + " names no cluster");
    out.user = text(ctx, "user", where).value_or("");
    out.namespace_ = text(ctx, "namespace", where).value_or("");
    read_cluster(find_named(root, "clusters", "cluster", out.cluster), base_dir, out);
    if (!out.user.empty()) read_user(find_named(root, "users", "user", out.user), base_dir, out);
    if (out.credential.empty()) out.credential = "none";
    if (!out.auth.ca_file.empty() && !readable(out.auth.ca_file))
      throw ParamError("kubeconfig: cluster '" + out.cluster +
                       "': cannot read certificate-"
                       "authority " +
                       out.auth.ca_file);
    return out;
  } catch (const YAML::Exception& e) {
    throw ParamError("kubeconfig: unexpected structure (line " + std::to_string(e.mark.line + 1) +
                     ")");
  }
}

Kubeconfig read_kubeconfig(const fs::path& path, const std::string& context) {
  const std::string text = read_bounded(path, kMaxKubeconfigBytes, "param 'kubeconfig'");
  return parse_kubeconfig(text, path.parent_path(), context);
}

}  // namespace triage::cluster::kube
