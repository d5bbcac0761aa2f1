// A real etcd cluster on loopback for tests: Debian's etcd-server (3.4,
// /usr/bin/etcd) and etcdctl, started with posix_spawn (never a shell) on
// 127.0.0.1 high ports, with their data in a temp dir; killed and reaped when
// the fixture is destroyed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "services.hpp"

namespace triage::test {

struct EtcdOptions {
  // Clients talk https with a certificate from make_certs ("localhost" and
  // 127.0.0.1; trust certs().ca). Peers and /health for readiness stay http.
  bool tls = false;
  // With tls: clients must present a certificate signed by the test CA
  // (--client-cert-auth; certs().client_cert and client_key are one).
  bool client_cert_auth = false;
  // --quota-backend-bytes; 0 for etcd's default (2 GiB). About 1 MiB lets
  // fill_until_nospace() raise the NOSPACE alarm with a few puts.
  std::uint64_t quota_backend_bytes = 0;
  // When not empty: user root with this password is made and etcd auth is
  // enabled (the fixture's own etcdctl calls then log in as root).
  std::string root_password;
};

// members etcd processes forming one cluster, named m0, m1, ...: each with a
// client URL (http://127.0.0.1:PORT, or https with tls), a peer URL, and a
// metrics URL serving /health and /metrics over http. The constructor returns
// once every member's /health says true (a leader is elected and a read went
// through raft); it throws, with the members' logs, when that does not happen
// within the start timeout. Not thread-safe.
class EtcdCluster {
 public:
  explicit EtcdCluster(int members = 3, EtcdOptions options = {});
  ~EtcdCluster();
  EtcdCluster(const EtcdCluster&) = delete;
  EtcdCluster& operator=(const EtcdCluster&) = delete;

  int size() const { return static_cast<int>(members_.size()); }
  // "m0", "m1", ...: the member names in the member list.
  std::string name(int i) const;
  // "http://127.0.0.1:<port>" or "https://127.0.0.1:<port>".
  std::string client_url(int i) const;
  std::vector<std::string> client_urls() const;
  // Only with tls.
  const Certs& certs() const { return certs_; }

  // Kills member i (SIGTERM, SIGKILL after a grace period) and reaps it; its
  // data stays. Does nothing when it is already stopped.
  void stop(int i);
  // Starts member i again on the same ports and data; returns once its
  // /health says true, which needs a majority of the members running.
  void start(int i);
  bool running(int i) const;

  // The member that says it leads (etcd_server_is_leader 1 on /metrics),
  // or -1 when no running member does.
  int leader() const;

  // Runs etcdctl (argv after "etcdctl") against every running member's
  // client URL, with the CA and root login when the cluster has them; returns
  // its exit status, and its output in *output when given.
  int etcdctl(const std::vector<std::string>& args, std::string* output = nullptr) const;

  // Puts 100 KiB values (keys triage-fill-N) until etcd refuses one with
  // "database space exceeded": the NOSPACE alarm is then active. Needs a
  // small quota_backend_bytes; throws when the refusal does not come.
  void fill_until_nospace();

 private:
  struct Member {
    std::string name;
    std::uint16_t client_port = 0, peer_port = 0, metrics_port = 0;
    std::filesystem::path data_dir, log;
    std::unique_ptr<Process> process;
  };

  void launch(int i);
  void wait_healthy(int i) const;
  std::vector<std::string> etcd_argv(int i) const;

  TempDir dir_;
  EtcdOptions options_;
  Certs certs_;
  std::string token_;  // --initial-cluster-token, unique per cluster
  std::string initial_cluster_;
  bool auth_on_ = false;
  std::vector<Member> members_;
};

}  // namespace triage::test
