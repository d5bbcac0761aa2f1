// The tls check: a TLS handshake with OpenSSL on a non-blocking socket, then
// a look at the server's certificate: expiry, trust, hostname, protocol.
//
// Verification runs during the handshake with a callback that records every
// error and lets the handshake go on, so one run reports all that is wrong
// (expired AND untrusted AND for another host) instead of the first error.
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "checks.hpp"
#include "net_util.hpp"

namespace triage::network {

const char* const TlsCheck::params_schema = R"json({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "tls check params",
  "type": "object",
  "properties": {
    "target": {
      "type": "string",
      "description": "host:port of the TLS server, IPv6 as [addr]:port."
    },
    "server_name": {
      "type": "string",
      "minLength": 1,
      "description": "Name sent as SNI (unless it is an IP address) and that the certificate must match. Default: the host part of target."
    },
    "ca_file": {
      "type": "string",
      "minLength": 1,
      "description": "PEM bundle of CA certificates to trust instead of the system trust store (for a private CA)."
    },
    "insecure": {
      "type": "boolean",
      "default": false,
      "description": "Do not judge the trust chain (an untrusted chain becomes an info finding); expiry, hostname and protocol are still checked."
    },
    "min_protocol": {
      "type": "string",
      "enum": ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"],
      "default": "TLSv1.2",
      "description": "Lowest acceptable negotiated protocol; anything older gives a 'Weak protocol' warning."
    }
  },
  "required": ["target"],
  "additionalProperties": false
})json";

namespace {
constexpr MetricDecl kMetrics[] = {
    metric("days_left", "d",
           "Days until the leaf certificate expires (fractional; negative once expired)")
        .warning("30:")
        .critical("7:")
        .remediation("Renew the certificate and reload the server; automate renewal (an ACME "
                     "client on a timer) so that it never gets this close again."),
    metric("handshake_ms", "ms", "Time of the TLS handshake (after the TCP connect)")
        .remediation("A slow handshake: check the server's CPU load, slow OCSP or CRL fetches "
                     "on the server, and the network round trip (the tcp check's latency_ms)."),
};
}  // namespace

const Metrics TlsCheck::metrics{kMetrics};

namespace {

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, Deleter<SSL_CTX, SSL_CTX_free>>;
using SslPtr = std::unique_ptr<SSL, Deleter<SSL, SSL_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

void free_general_names(GENERAL_NAMES* names) {
  GENERAL_NAMES_free(names);
}
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, Deleter<GENERAL_NAMES, free_general_names>>;

struct VerifyError {
  int depth = 0;
  int code = 0;
  std::string subject;
};

// Filled by the verify callback during the handshake (SSL app data).
struct VerifyLog {
  std::vector<VerifyError> errors;
};

std::string name_text(const X509_NAME* name) {
  if (name == nullptr) return {};
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio) return {};
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return len > 0 ? std::string(data, static_cast<std::size_t>(len)) : std::string();
}

int record_verify_error(int preverify_ok, X509_STORE_CTX* store) {
  if (preverify_ok == 1) return 1;
  auto* ssl =
      static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  auto* log = ssl != nullptr ? static_cast<VerifyLog*>(SSL_get_app_data(ssl)) : nullptr;
  if (log != nullptr) {
    VerifyError e;
    e.depth = X509_STORE_CTX_get_error_depth(store);
    e.code = X509_STORE_CTX_get_error(store);
    if (X509* cert = X509_STORE_CTX_get_current_cert(store))
      e.subject = name_text(X509_get_subject_name(cert));
    const bool seen =
        std::any_of(log->errors.begin(), log->errors.end(),
                    [&](const VerifyError& o) { return o.depth == e.depth && o.code == e.code; });
    if (!seen) log->errors.push_back(std::move(e));
  }
  return 1;  // go on: every problem is reported after the handshake
}

std::string openssl_errors() {
  std::string out;
  while (unsigned long code = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

std::string iso_time(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return {};
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string subject_alt_names(X509* cert) {
  GeneralNamesPtr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  if (!names) return {};
  std::string out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names.get(), i);
    std::string item;
    if (gn->type == GEN_DNS) {
      const ASN1_STRING* s = gn->d.dNSName;
      item = "DNS:" + std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                  static_cast<std::size_t>(ASN1_STRING_length(s)));
    } else if (gn->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* s = gn->d.iPAddress;
      const int len = ASN1_STRING_length(s);
      Endpoint ep;
      if (len == 4) {
        auto* in = reinterpret_cast<sockaddr_in*>(&ep.storage);
        in->sin_family = AF_INET;
        std::memcpy(&in->sin_addr, ASN1_STRING_get0_data(s), 4);
      } else if (len == 16) {
        auto* in6 = reinterpret_cast<sockaddr_in6*>(&ep.storage);
        in6->sin6_family = AF_INET6;
        std::memcpy(&in6->sin6_addr, ASN1_STRING_get0_data(s), 16);
      } else {
        continue;
      }
      item = "IP:" + ep.ip();
    } else {
      continue;
    }
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

int protocol_version(const std::string& name) {
  if (name == "TLSv1") return TLS1_VERSION;
  if (name == "TLSv1.1") return TLS1_1_VERSION;
  if (name == "TLSv1.2") return TLS1_2_VERSION;
  if (name == "TLSv1.3") return TLS1_3_VERSION;
  throw ParamError("param 'min_protocol' must be one of TLSv1, TLSv1.1, TLSv1.2, TLSv1.3 (got '" +
                   name + "')");
}

bool is_time_error(int code) {
  return code == X509_V_ERR_CERT_HAS_EXPIRED || code == X509_V_ERR_CERT_NOT_YET_VALID;
}

std::string days_text(double days) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f", std::floor(std::fabs(days)));
  return buf;
}

}  // namespace

void TlsCheck::run(Context& ctx) {
  const std::string target = ctx.target();
  const HostPort hp = parse_host_port(target);
  const std::string server_name = ctx.param<std::string>("server_name", hp.host);
  if (server_name.empty()) throw ParamError("param 'server_name' must not be empty");
  const std::string ca_file = ctx.param<std::string>("ca_file", "");
  const bool insecure = ctx.param<bool>("insecure", false);
  const std::string min_protocol = ctx.param<std::string>("min_protocol", "TLSv1.2");
  const int min_version = protocol_version(min_protocol);
  const bool name_is_ip = parse_ip(server_name, 0).has_value();

  if (ctx.cancelled()) return ctx.error("cancelled before the check started");

  ERR_clear_error();
  SslCtxPtr tls(SSL_CTX_new(TLS_client_method()));
  if (!tls) return ctx.error("cannot create an OpenSSL context: " + openssl_errors());
  // A diagnostic client: accept whatever the server offers so that weak
  // protocols and keys can be seen and reported rather than failing blind.
  SSL_CTX_set_min_proto_version(tls.get(), TLS1_VERSION);
  SSL_CTX_set_security_level(tls.get(), 0);
  if (!ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(tls.get(), ca_file.c_str(), nullptr) != 1)
      return ctx.error("cannot load ca_file '" + ca_file + "': " + openssl_errors());
  } else if (SSL_CTX_set_default_verify_paths(tls.get()) != 1) {
    return ctx.error("cannot load the system trust store: " + openssl_errors());
  }
  SSL_CTX_set_verify(tls.get(), SSL_VERIFY_PEER, &record_verify_error);

  Connected conn = connect_target(ctx, hp, "TLS");
  if (!conn.ok()) return;
  const std::string address = conn.peer.to_string();
  const std::string port = std::to_string(hp.port);

  SslPtr ssl(SSL_new(tls.get()));
  if (!ssl) return ctx.error("cannot create an OpenSSL session: " + openssl_errors());
  VerifyLog log;
  SSL_set_app_data(ssl.get(), &log);
  SSL_set_fd(ssl.get(), conn.fd.get());
  if (!name_is_ip) SSL_set_tlsext_host_name(ssl.get(), server_name.c_str());

  // The handshake, driven by poll(): never blocks, ends at the deadline.
  SigpipeGuard no_sigpipe;
  const auto start = std::chrono::steady_clock::now();
  for (;;) {
    ERR_clear_error();
    errno = 0;
    const int rc = SSL_connect(ssl.get());
    if (rc == 1) break;
    const int err = SSL_get_error(ssl.get(), rc);
    const int sys_errno = errno;
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
      const Wait w = wait_fd(ctx, conn.fd.get(), err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT);
      if (w == Wait::ready) continue;
      if (w == Wait::cancelled)
        return ctx.error("cancelled during the TLS handshake with " + address);
      ctx.finding(Severity::critical, "TLS handshake timed out",
                  "connected to " + address + " in " + format_ms(conn.elapsed_ms) +
                      ", but the TLS handshake did not finish within " + format_ms(ms_since(start)),
                  "Check that port " + port +
                      " speaks TLS (a plain-text service waits for the client to talk first) "
                      "and that the server is not overloaded: openssl s_client -connect " +
                      address + " -servername " + server_name);
      ctx.status(Status::critical, "TLS handshake with " + address + " timed out");
      return;
    }
    std::string why = openssl_errors();
    if (why.empty())
      why = sys_errno != 0 ? errno_text(sys_errno)
                           : "the server closed the connection during the handshake";
    ctx.finding(Severity::critical, "TLS handshake failed", address + ": " + why,
                "Check that port " + port +
                    " speaks TLS (not plain HTTP) and that client and server share a protocol "
                    "version and cipher: openssl s_client -connect " +
                    address + " -servername " + server_name);
    ctx.status(Status::critical, "TLS handshake with " + address + " failed");
    return;
  }
  const double handshake_ms = ms_since(start);
  ctx.metric("handshake_ms", handshake_ms, "ms");

  const std::string protocol = SSL_get_version(ssl.get());
  const char* cipher = SSL_CIPHER_get_name(SSL_get_current_cipher(ssl.get()));
  ctx.attribute("protocol", protocol);
  ctx.attribute("cipher", cipher != nullptr ? cipher : "");
  if (STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl.get()))
    ctx.attribute("chain_length", std::to_string(sk_X509_num(chain)));

#if OPENSSL_VERSION_NUMBER >= 0x30000000L
  X509Ptr leaf(SSL_get1_peer_certificate(ssl.get()));
#else
  X509Ptr leaf(SSL_get_peer_certificate(ssl.get()));
#endif
  // Tell the server goodbye without waiting for its answer.
  ERR_clear_error();
  SSL_shutdown(ssl.get());
  ERR_clear_error();

  if (!leaf) {
    ctx.finding(Severity::critical, "No certificate",
                address + " completed the handshake (" + protocol + ", " +
                    (cipher != nullptr ? cipher : "?") + ") without sending a certificate",
                "Configure a certificate on the server (anonymous ciphers give no identity)");
    ctx.status(Status::critical, "no certificate from " + address);
    return;
  }

  const std::string subject = name_text(X509_get_subject_name(leaf.get()));
  const std::string issuer = name_text(X509_get_issuer_name(leaf.get()));
  const ASN1_TIME* not_after = X509_get0_notAfter(leaf.get());
  const ASN1_TIME* not_before = X509_get0_notBefore(leaf.get());
  const std::string not_after_text = iso_time(not_after);
  const std::string san = subject_alt_names(leaf.get());
  ctx.attribute("subject", subject);
  ctx.attribute("issuer", issuer);
  ctx.attribute("not_after", not_after_text);
  ctx.attribute("san", san);

  int days = 0, secs = 0;
  double days_left = 0;
  if (ASN1_TIME_diff(&days, &secs, nullptr, not_after) == 1) {
    days_left = days + secs / 86400.0;
    ctx.metric("days_left", days_left, "d", {"30:", "7:"});
  }

  std::vector<std::string> problems;

  // Expiry of the leaf (from its dates, whatever the chain verification said).
  if (X509_cmp_current_time(not_after) < 0) {
    ctx.finding(Severity::critical, "Certificate expired",
                "the certificate of " + address + " (" + subject + ") expired on " +
                    not_after_text + ", " + days_text(days_left) + " days ago",
                "Renew the certificate and reload the server, then check that it serves the new "
                "one: openssl s_client -connect " +
                    address + " -servername " + server_name + " | openssl x509 -noout -enddate");
    problems.push_back("certificate expired on " + not_after_text);
  } else if (X509_cmp_current_time(not_before) > 0) {
    ctx.finding(Severity::critical, "Certificate not yet valid",
                "the certificate of " + address + " (" + subject + ") is valid from " +
                    iso_time(not_before),
                "Check the clock of this host and of the server (timedatectl); if they are "
                "right, the certificate was issued with a future start date: reissue it");
    problems.push_back("certificate not yet valid");
  }

  // Hostname (or IP) the certificate must be for.
  const bool name_ok = name_is_ip ? X509_check_ip_asc(leaf.get(), server_name.c_str(), 0) == 1
                                  : X509_check_host(leaf.get(), server_name.c_str(),
                                                    server_name.size(), 0, nullptr) == 1;
  if (!name_ok) {
    ctx.finding(Severity::critical, "Hostname mismatch",
                "the certificate of " + address + " is for " +
                    (san.empty() ? subject + " (no subjectAltName)" : san) + ", not " + server_name,
                "Reissue the certificate with " + server_name +
                    " in its subjectAltName, or connect with the name it was issued for "
                    "(server_name param)");
    problems.push_back("certificate is not for " + server_name);
  }

  // Trust: every verification error except the leaf's dates (reported above).
  std::vector<std::string> trust_errors;
  for (const auto& e : log.errors) {
    if (e.code == X509_V_ERR_HOSTNAME_MISMATCH || e.code == X509_V_ERR_IP_ADDRESS_MISMATCH)
      continue;
    if (is_time_error(e.code) && e.depth == 0) continue;
    if (is_time_error(e.code)) {
      ctx.finding(Severity::critical, "Certificate expired",
                  "a CA certificate in the chain of " + address + " (depth " +
                      std::to_string(e.depth) + ", " + e.subject +
                      "): " + X509_verify_cert_error_string(e.code),
                  "Install a current intermediate certificate on the server (the CA publishes "
                  "the replacement) and reload it");
      problems.push_back("CA certificate expired");
      continue;
    }
    trust_errors.push_back(std::string(X509_verify_cert_error_string(e.code)) + " at depth " +
                           std::to_string(e.depth) + " (" + e.subject + ")");
  }
  if (!trust_errors.empty()) {
    std::string detail =
        "verification against " +
        (ca_file.empty() ? std::string("the system trust store") : "ca_file " + ca_file) +
        " failed: ";
    for (std::size_t i = 0; i < trust_errors.size(); ++i)
      detail += (i == 0 ? "" : "; ") + trust_errors[i];
    detail += "; issuer of the certificate: " + issuer;
    if (insecure) {
      ctx.finding(Severity::info, "Certificate chain not verified",
                  "insecure: true, so the chain is not judged; " + detail,
                  "Remove insecure once the chain verifies (set ca_file for a private CA)");
    } else {
      ctx.finding(Severity::critical, "Untrusted certificate chain", detail,
                  "If the server omits its intermediate certificate, install the full chain on "
                  "the server (leaf then intermediates); for a private CA set ca_file to its PEM "
                  "or add it to the system store (update-ca-certificates)");
      problems.push_back("untrusted certificate chain");
    }
  }

  // Protocol.
  bool weak = false;
  if (SSL_version(ssl.get()) < min_version) {
    weak = true;
    ctx.finding(Severity::warning, "Weak protocol",
                address + " negotiated " + protocol + ", older than min_protocol " + min_protocol,
                "Enable TLSv1.2/TLSv1.3 on the server and disable older protocols (nginx: "
                "ssl_protocols TLSv1.2 TLSv1.3;)");
  }

  if (!problems.empty()) {
    std::string summary = "TLS " + address + ": ";
    for (std::size_t i = 0; i < problems.size(); ++i) summary += (i == 0 ? "" : ", ") + problems[i];
    ctx.status(Status::critical, summary);
    return;
  }
  const std::string summary = protocol + " to " + address + " in " + format_ms(handshake_ms) +
                              ", certificate valid for " + days_text(days_left) + " days";
  ctx.status(weak ? Status::warning : Status::ok,
             weak ? summary + " (weak protocol " + protocol + ")" : summary);
}

}  // namespace triage::network
