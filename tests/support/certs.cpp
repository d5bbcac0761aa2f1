#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "internal.hpp"

namespace triage::test {
namespace {

namespace fs = std::filesystem;

// The openssl CLI wants everything in a config file: the CA's bookkeeping for
// `openssl ca` (the only OpenSSL 3.0 command that can back-date a
// certificate, which the expired one needs) and the extension sets.
std::string openssl_config(const fs::path& dir) {
  const std::string d = dir.string();
  return R"([req]
distinguished_name = req_dn
[req_dn]

[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[ca]
default_ca = test_ca
[test_ca]
database = )" +
         d + R"(/index.txt
new_certs_dir = )" +
         d + R"(/issued
serial = )" +
         d + R"(/serial
certificate = )" +
         d + R"(/ca.pem
private_key = )" +
         d + R"(/ca.key
default_md = sha256
policy = policy_any
# valid and expired certificates share their subject
unique_subject = no
email_in_dn = no
[policy_any]
commonName = supplied

[leaf_localhost]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
# clientAuth too: etcd's JSON gateway dials its own gRPC server with the
# server certificate, which --client-cert-auth then checks as a client's.
extendedKeyUsage = serverAuth, clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = DNS:localhost, IP:127.0.0.1

[leaf_client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[leaf_wrong_host]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = DNS:wrong.example
)";
}

class Openssl {
 public:
  explicit Openssl(fs::path dir) : dir_(std::move(dir)), log_(dir_ / "openssl.log") {}

  void operator()(std::vector<std::string> args) const {
    args.insert(args.begin(), "openssl");
    // Fresh each time, so that an error shows the failing command's output only.
    std::error_code ignored;
    fs::remove(log_, ignored);
    if (run_command(args, log_) != 0) {
      throw std::runtime_error("openssl " + args[1] + " failed:\n" + detail::read_text(log_));
    }
  }

  // EC P-256: as good as RSA for these tests and generated in a millisecond.
  fs::path new_key(const std::string& name) const {
    const fs::path key = dir_ / (name + ".key");
    (*this)({"genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out",
             key.string()});
    return key;
  }

  fs::path issue(const std::string& name, const fs::path& key, const std::string& common_name,
                 const std::string& extensions, const std::vector<std::string>& validity) const {
    const fs::path csr = dir_ / (name + ".csr");
    const fs::path cert = dir_ / (name + ".pem");
    (*this)({"req", "-new", "-key", key.string(), "-subj", "/CN=" + common_name, "-config",
             config().string(), "-out", csr.string()});
    std::vector<std::string> args{
        "ca",       "-batch", "-notext",    "-config", config().string(), "-extensions",
        extensions, "-in",    csr.string(), "-out",    cert.string()};
    args.insert(args.end(), validity.begin(), validity.end());
    (*this)(std::move(args));
    return cert;
  }

  fs::path config() const { return dir_ / "openssl.cnf"; }

 private:
  fs::path dir_;
  fs::path log_;
};

}  // namespace

Certs make_certs(const std::filesystem::path& dir) {
  fs::create_directories(dir / "issued");
  detail::write_text(dir / "openssl.cnf", openssl_config(dir));
  detail::write_text(dir / "index.txt", "");
  detail::write_text(dir / "serial", "1000\n");

  const Openssl openssl(dir);
  Certs certs;
  const fs::path ca_key = openssl.new_key("ca");
  certs.ca = dir / "ca.pem";
  openssl({"req", "-x509", "-new", "-key", ca_key.string(), "-subj", "/CN=Triage Test CA", "-days",
           "3650", "-config", openssl.config().string(), "-extensions", "ca_ext", "-out",
           certs.ca.string()});

  const std::vector<std::string> one_year{"-days", "365"};
  certs.valid_key = openssl.new_key("valid");
  certs.valid_cert =
      openssl.issue("valid", certs.valid_key, "localhost", "leaf_localhost", one_year);
  certs.expired_key = openssl.new_key("expired");
  certs.expired_cert =
      openssl.issue("expired", certs.expired_key, "localhost", "leaf_localhost",
                    {"-startdate", "20200101000000Z", "-enddate", "20210101000000Z"});
  certs.wrong_host_key = openssl.new_key("wrong_host");
  certs.wrong_host_cert = openssl.issue("wrong_host", certs.wrong_host_key, "wrong.example",
                                        "leaf_wrong_host", one_year);
  certs.client_key = openssl.new_key("client");
  certs.client_cert =
      openssl.issue("client", certs.client_key, "triage-client", "leaf_client", one_year);
  return certs;
}

}  // namespace triage::test
