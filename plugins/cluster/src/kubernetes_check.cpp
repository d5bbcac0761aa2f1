// The kubernetes check: a cluster judged over its API server with three
// paginated lists (v1 nodes, v1 pods, apps/v1 deployments): nodes not Ready
// or under memory, disk or PID pressure; pods crash-looping, failing to pull
// their image, or Pending longer than pending_for; container restarts and
// OOM kills within window; deployments short of available replicas. The API
// server is named by `target` or by a kubeconfig context; credentials (a
// bearer token, a client key) are secrets and never reported.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "checks.hpp"
#include "http.hpp"
#include "kubeconfig.hpp"
#include "kubernetes_api.hpp"

namespace triage::cluster {

const char* const KubernetesCheck::params_schema = R"json({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "cluster/kubernetes params",
  "type": "object",
  "properties": {
    "target": {
      "type": "string", "minLength": 8, "maxLength": 2048,
      "examples": ["https://10.0.0.1:6443"],
      "description": "The API server's URL, https://HOST:PORT (http:// only without credentials, e.g. kubectl proxy on 127.0.0.1:8001). With kubeconfig, it replaces the context's cluster.server (like kubectl --server). One of target or kubeconfig is required."
    },
    "kubeconfig": {
      "type": "string", "minLength": 1, "maxLength": 4096,
      "description": "Path of a kubeconfig file (at most 1 MiB): the API server, its CA and the user's credentials come from its context. Supported users: token, tokenFile, client-certificate(-data) with client-key(-data). An exec or auth-provider user is refused (not supported), as is a cluster with insecure-skip-tls-verify: true (Triage always verifies TLS)."
    },
    "context": {
      "type": "string", "minLength": 1, "maxLength": 253,
      "description": "The kubeconfig context to use. Default: the kubeconfig's current-context. Only with kubeconfig."
    },
    "bearer_token": {
      "type": "string", "minLength": 1, "maxLength": 16384, "writeOnly": true, "x-triage-secret": true,
      "description": "A bearer token (a service account's, e.g. from kubectl create token NAME): sent as Authorization: Bearer. Overrides the kubeconfig user's credentials. Secret: never reported."
    },
    "cert_file": {
      "type": "string", "minLength": 1,
      "description": "Client certificate (PEM) for authentication by X.509; needs key_file. Overrides the kubeconfig user's certificate."
    },
    "key_file": {
      "type": "string", "minLength": 1, "writeOnly": true, "x-triage-secret": true,
      "description": "The client certificate's private key (PEM); needs cert_file. Secret: its path is never reported."
    },
    "ca_file": {
      "type": "string", "minLength": 1,
      "description": "PEM file of the CA that signed the API server's certificate (e.g. /etc/kubernetes/pki/ca.crt), instead of the system store or the kubeconfig's certificate-authority. Certificates and host names are always verified."
    },
    "namespace": {
      "type": "string", "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "maxLength": 63,
      "description": "Judge the pods and deployments of this namespace only. Default: all namespaces (the kubeconfig context's namespace is not used). Nodes are always the whole cluster's."
    },
    "pending_for": {
      "type": "string", "pattern": "^([0-9]+(s|m|h|d))+$", "maxLength": 32, "default": "5m",
      "description": "How long a pod may stay Pending (since its creation) before it counts in pods_pending, e.g. 5m, 90s, 1h30m."
    },
    "window": {
      "type": "string", "pattern": "^([0-9]+(s|m|h|d))+$", "maxLength": 32, "default": "1h",
      "description": "How far back container restarts and OOM kills count: a container counts when its last termination (lastState.terminated.finishedAt) lies within it, e.g. 1h, 30m, 1d."
    },
    "per_item": {
      "type": "integer", "minimum": 0, "maximum": 50, "default": 10,
      "description": "How many pods get a pod_restarts[NAMESPACE/POD] metric and how many deployments a deployment_unavailable_replicas[NAMESPACE/NAME] metric: the N highest of each. 0: none."
    },
    "page_size": {
      "type": "integer", "minimum": 1, "maximum": 1000, "default": 250,
      "description": "Items asked per page of each list (the API's limit param); at most 40 pages are read per list, so a list is judged on at most 40 x page_size items."
    }
  },
  "anyOf": [{"required": ["target"]}, {"required": ["kubeconfig"]}],
  "additionalProperties": false
})json";

namespace {

using nlohmann::json;

// Pages read per list at most (x page_size items), findings per kind of
// problem at most (one more says how many were not named), and problem items
// kept per kind for them.
constexpr int kMaxPages = 40;
constexpr std::size_t kNamed = 5;
constexpr std::size_t kKept = 200;

constexpr const char* kNodeNotReady =
    "A node is not Ready: its kubelet stopped reporting (node down, kubelet or container runtime "
    "stopped, network cut from the control plane) or reports a failure. kubectl describe node "
    "NAME (Conditions, Events); on the node: systemctl status kubelet containerd; journalctl -u "
    "kubelet --since -15m. Pods on a node NotReady for 5 minutes are evicted; cordon and drain it "
    "(kubectl drain NAME --ignore-daemonsets) if it does not come back.";
constexpr const char* kNodePressure =
    "Resource pressure (runbook: > 85 % utilization): the kubelet evicts pods and refuses new ones "
    "under memory, disk or PID pressure. kubectl describe node NAME shows which; memory: find the "
    "largest pods (kubectl top pods -A --sort-by=memory) and set limits; disk: clean unused images "
    "(crictl rmi --prune) and logs; PIDs: find the pod forking (ps -eLf | wc -l). Scale the node "
    "pool up if the load is real.";
constexpr const char* kCrashLoop =
    "A container keeps crashing and the kubelet backs off restarting it. Read why it died: kubectl "
    "logs -n NS POD -c CONTAINER --previous (the last crash's output) and kubectl describe pod -n "
    "NS POD (Last State: exit code, reason). Exit code 137/OOMKilled: the memory limit is too low "
    "(runbook: Memory Errors); 1 or another code: the application fails at start (config, "
    "secrets, a dependency down); fix and roll out again.";
constexpr const char* kImagePull =
    "The image cannot be pulled: kubectl describe pod -n NS POD (Events) gives the registry's "
    "answer. Check the image name and tag exist (a typo, a tag not pushed), the registry "
    "credentials (imagePullSecrets, their expiry), and that nodes reach the registry "
    "(runbook: Connection Timeout: check firewall rules).";
constexpr const char* kPending =
    "A pod cannot start. Unschedulable (\"0/N nodes are available: Insufficient cpu/memory\"): "
    "the cluster is undersized (runbook: scale up: add nodes or let the autoscaler do it) or the "
    "pod asks too much; taints, node selectors or affinity that no node matches; a "
    "PersistentVolumeClaim not bound. kubectl describe pod -n NS POD shows the scheduler's "
    "message in Events.";
constexpr const char* kRestarts =
    "Containers restarted within the window: kubectl get pods -A "
    "--sort-by=.status.containerStatuses"
    "[0].restartCount; for each, kubectl logs -n NS POD -c CONTAINER --previous and kubectl "
    "describe pod (Last State: reason, exit code). Liveness probes that fail under load also "
    "restart containers: check their timeouts.";
constexpr const char* kOom =
    "Memory errors (runbook: OOM exceptions): a container was killed for exceeding its memory "
    "limit (OOMKilled, exit code 137). Increase its memory limit (resources.limits.memory) or "
    "reduce what it holds (runbook: optimize joins, large broadcasts); kubectl top pod -n NS POD "
    "--containers shows its use; a leak grows steadily between kills.";
constexpr const char* kDeployment =
    "A deployment has fewer available replicas than it asks for. kubectl rollout status -n NS "
    "deployment/NAME; kubectl describe deployment (Conditions: ProgressDeadlineExceeded means "
    "the rollout is stuck) and the pods it owns (kubectl get pods -n NS -l SELECTOR): they may "
    "crash-loop, fail to pull their image or stay Pending (see those findings). Roll back a bad "
    "release with kubectl rollout undo -n NS deployment/NAME. With no replica available the "
    "service is down (runbook: Service Down, critical).";
constexpr const char* kFirewall =
    "The API server is down or not reachable from here (runbook: Service Down; Connection "
    "Timeout: check firewall rules): check the control plane (kube-apiserver pods or the managed "
    "service's status), the URL and port (6443), the network path and firewall rules, and "
    "kubectl --kubeconfig FILE get --raw /readyz from this host.";

constexpr MetricDecl kNodes = metric("nodes", "", "Nodes in the cluster");
constexpr MetricDecl kNodesNotReady =
    metric("nodes_not_ready", "",
           "Nodes whose Ready condition is False or Unknown (or missing): NotReady in kubectl")
        .warning("0")
        .remediation(kNodeNotReady);
constexpr MetricDecl kNodesPressure =
    metric("nodes_under_pressure", "",
           "Nodes with MemoryPressure, DiskPressure or PIDPressure True")
        .warning("0")
        .remediation(kNodePressure);
constexpr MetricDecl kPods = metric("pods", "", "Pods listed (in namespace, or in all namespaces)");
constexpr MetricDecl kCrashLooping =
    metric("pods_crashlooping", "", "Pods with a container waiting in CrashLoopBackOff")
        .warning("0")
        .remediation(kCrashLoop);
constexpr MetricDecl kImagePullFailing =
    metric("pods_image_pull_failing", "",
           "Pods with a container waiting in ImagePullBackOff, ErrImagePull or InvalidImageName")
        .warning("0")
        .remediation(kImagePull);
constexpr MetricDecl kPodsPending =
    metric("pods_pending", "",
           "Pods in phase Pending for longer than pending_for (not counted again when crash-"
           "looping or failing to pull)")
        .warning("0")
        .remediation(kPending);
constexpr MetricDecl kRestartsMetric =
    metric("restarts", "",
           "Container restarts within window: the restartCount of every container whose last "
           "termination finished within it (an upper bound: the API keeps only the last one)")
        .warning("5")
        .remediation(kRestarts);
constexpr MetricDecl kOomKills =
    metric("oom_kills", "", "Containers whose last termination within window was OOMKilled")
        .warning("0")
        .remediation(kOom);
constexpr MetricDecl kDeployments = metric("deployments", "", "Deployments listed");
constexpr MetricDecl kDeploymentsUnavailable =
    metric("deployments_unavailable", "",
           "Deployments with unavailable replicas (status.unavailableReplicas > 0, or fewer "
           "availableReplicas than spec.replicas)")
        .warning("0")
        .remediation(kDeployment);
constexpr MetricDecl kPodRestarts =
    metric("pod_restarts[*]", "",
           "Restarts within window of one pod (NAMESPACE/POD), the per_item pods with the most")
        .remediation(kRestarts);
constexpr MetricDecl kDeploymentShort =
    metric("deployment_unavailable_replicas[*]", "",
           "Unavailable replicas of one deployment (NAMESPACE/NAME), the per_item deployments "
           "with the most")
        .remediation(kDeployment);
constexpr MetricDecl kApiMs =
    metric("api_ms", "ms", "Round trip of the slowest page the check read from the API server");

constexpr MetricDecl kMetrics[] = {kNodes,
                                   kNodesNotReady,
                                   kNodesPressure,
                                   kPods,
                                   kCrashLooping,
                                   kImagePullFailing,
                                   kPodsPending,
                                   kRestartsMetric,
                                   kOomKills,
                                   kDeployments,
                                   kDeploymentsUnavailable,
                                   kPodRestarts,
                                   kDeploymentShort,
                                   kApiMs};

// ---- params -----------------------------------------------------------------

struct Params {
  std::string base;  // the API server URL, no trailing slash
  HttpAuth auth;
  std::string credential;  // how it authenticates, for the report
  std::string context;     // kubeconfig context used, "" without kubeconfig
  std::vector<std::string> ignored;
  std::string ns;  // "" = all namespaces
  std::int64_t pending_for_s = 300, window_s = 3600;
  std::string pending_for = "5m", window = "1h";
  std::size_t per_item = 10;
  long page_size = 250;
};

// "1h30m" -> 5400; nullopt when not made of NUMBER UNIT pairs or past a year.
std::optional<std::int64_t> parse_duration(std::string_view s) {
  if (s.empty() || s.size() > 32) return std::nullopt;
  std::int64_t total = 0, number = 0;
  bool digits = false;
  for (const char c : s) {
    if (c >= '0' && c <= '9') {
      number = number * 10 + (c - '0');
      if (number > 366LL * 86400) return std::nullopt;
      digits = true;
      continue;
    }
    if (!digits) return std::nullopt;
    const std::int64_t unit = c == 's' ? 1 : c == 'm' ? 60 : c == 'h' ? 3600 : c == 'd' ? 86400 : 0;
    if (unit == 0) return std::nullopt;
    total += number * unit;
    if (total > 366LL * 86400) return std::nullopt;
    number = 0;
    digits = false;
  }
  if (digits) return std::nullopt;
  return total;
}

bool readable(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return static_cast<bool>(in);
}

Params read_params(const Context& ctx) {
  if (!ctx.params().is_object()) throw ParamError("params must be a JSON object");
  const json schema = json::parse(KubernetesCheck::params_schema);
  for (const auto& item : ctx.params().items())
    if (!schema["properties"].contains(item.key()))
      throw ParamError("unknown param '" + item.key() + "'");
  Params p;
  const std::string target = ctx.param<std::string>("target", "");
  const std::string kubeconfig = ctx.param<std::string>("kubeconfig", "");
  if (target.empty() && kubeconfig.empty())
    throw ParamError("give param 'target' (the API server's URL) or 'kubeconfig'");
  if (ctx.has("context") && kubeconfig.empty())
    throw ParamError("param 'context' needs param 'kubeconfig'");
  if (!kubeconfig.empty()) {
    auto k = kube::read_kubeconfig(kubeconfig, ctx.param<std::string>("context", ""));
    p.base = read_base_url(k.server, "kubeconfig (cluster.server of context " + k.context + ")");
    p.auth = std::move(k.auth);
    p.credential = k.credential;
    p.context = k.context;
    p.ignored = std::move(k.ignored);
  }
  if (!target.empty()) p.base = read_base_url(target, "target");

  // Params override what the kubeconfig gave, as kubectl's flags do.
  const HttpAuth given = read_auth(ctx);
  if (!given.ca_file.empty()) {
    if (!readable(given.ca_file)) throw ParamError("param 'ca_file': cannot read " + given.ca_file);
    p.auth.ca_file = given.ca_file;
    p.auth.ca_pem.clear();
  }
  if (!given.cert_file.empty()) {
    if (!readable(given.cert_file))
      throw ParamError("param 'cert_file': cannot read " + given.cert_file);
    if (!readable(given.key_file)) throw ParamError("param 'key_file': cannot read the file");
    p.auth.cert_file = given.cert_file;
    p.auth.key_file = given.key_file;
    p.auth.cert_pem.clear();
    p.auth.key_pem.clear();
    p.auth.bearer_token.clear();
    p.credential = "client certificate (cert_file)";
  }
  if (!given.bearer_token.empty()) {
    if (given.bearer_token.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos)
      throw ParamError("param 'bearer_token' contains a line break");
    p.auth.bearer_token = given.bearer_token;
    p.credential = "bearer token (bearer_token)";
  }
  if (p.credential.empty()) p.credential = "none";
  if (p.base.rfind("http://", 0) == 0 &&
      (!p.auth.bearer_token.empty() || !p.auth.cert_file.empty() || !p.auth.cert_pem.empty()))
    throw ParamError("the API server URL " + p.base +
                     " is plain http: credentials are only sent over https");

  p.ns = ctx.param<std::string>("namespace", "");
  if (!p.ns.empty()) {
    bool ok = p.ns.size() <= 63 && p.ns.front() != '-' && p.ns.back() != '-';
    for (const char c : p.ns)
      ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-');
    if (!ok) throw ParamError("param 'namespace' must be a namespace name (a DNS-1123 label)");
  }
  p.pending_for = ctx.param<std::string>("pending_for", "5m");
  p.window = ctx.param<std::string>("window", "1h");
  const auto pending = parse_duration(p.pending_for);
  if (!pending) throw ParamError("param 'pending_for' must be a duration such as 5m, 90s or 1h30m");
  const auto window = parse_duration(p.window);
  if (!window || *window == 0)
    throw ParamError("param 'window' must be a duration such as 1h, 30m or 1d");
  p.pending_for_s = *pending;
  p.window_s = *window;
  const auto per_item = ctx.param<std::int64_t>("per_item", 10);
  if (per_item < 0 || per_item > 50) throw ParamError("param 'per_item' must be from 0 to 50");
  p.per_item = static_cast<std::size_t>(per_item);
  p.page_size = static_cast<long>(ctx.param<std::int64_t>("page_size", 250));
  if (p.page_size < 1 || p.page_size > 1000)
    throw ParamError("param 'page_size' must be from 1 to 1000");
  return p;
}

// ---- reading items ------------------------------------------------------------

std::string str(const json& object, const char* key, std::size_t max = 256) {
  if (!object.is_object()) return {};
  const auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return {};
  std::string s = it->get<std::string>();
  if (s.size() > max) {
    std::size_t cut = max;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
    s.resize(cut);
    s += "...";
  }
  return s;
}

const json& sub(const json& object, const char* key) {
  static const json kNull;
  if (!object.is_object()) return kNull;
  const auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

std::int64_t integer(const json& object, const char* key, std::int64_t fallback) {
  const json& v = sub(object, key);
  return v.is_number_integer() ? v.get<std::int64_t>() : fallback;
}

std::string qualified(const json& item) {
  const json& meta = sub(item, "metadata");
  const std::string ns = str(meta, "namespace", 63);
  const std::string name = str(meta, "name", 253);
  return ns.empty() ? name : ns + "/" + name;
}

std::string human_age(std::int64_t s) {
  if (s < 120) return std::to_string(s) + " s";
  if (s < 7200) return std::to_string(s / 60) + " min";
  if (s < 2 * 86400) return std::to_string(s / 3600) + " h";
  return std::to_string(s / 86400) + " d";
}

// An item name that fits in a metric name of at most 128 bytes: cut, with a
// hash of the whole so that two long names stay apart.
std::string fit_item(std::string_view declared, std::string item) {
  constexpr std::size_t kMaxName = 128;
  const std::size_t room = kMaxName - (declared.size() - 3) - 2;  // "name[" "]"
  if (item.size() <= room) return item;
  std::uint32_t hash = 2166136261u;
  for (const char c : item) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 16777619u;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string h = "~";
  for (int shift = 28; shift >= 0; shift -= 4) h.push_back(kHex[(hash >> shift) & 15]);
  std::size_t cut = room - h.size();
  while (cut > 0 && (static_cast<unsigned char>(item[cut]) & 0xC0) == 0x80) --cut;
  item.resize(cut);
  return item + h;
}

struct NodeProblem {
  std::string name;
  std::string detail;
};

struct PodProblem {
  std::string pod;  // NS/NAME
  std::string detail;
};

struct Short {
  std::string name;  // NS/NAME
  std::int64_t unavailable = 0, desired = 0, available = 0;
  std::string detail;
  std::string where;  // "-n NS deployment/NAME"
};

// One problem item: what it is (node-b, shop/web-1 container app), what is
// wrong with it, and the command to look closer, its names filled in.
struct Item {
  std::string title;
  std::string detail;
  std::string command;
};

struct Tally {
  std::size_t count = 0;
  std::vector<Item> kept;  // at most kKept
  void add(Item item) {
    ++count;
    if (kept.size() < kKept) kept.push_back(std::move(item));
  }
};

// "kubectl ... -n shop web-1": names come from the API and are DNS names,
// but are quoted for a shell when they hold anything else.
std::string shell_word(const std::string& s) {
  bool plain = !s.empty();
  for (const char c : s)
    plain = plain && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
                      c == '_' || (c >= 'A' && c <= 'Z'));
  if (plain) return s;
  std::string out = "'";
  for (const char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

class Run {
 public:
  Run(Context& ctx, Params p)
      : ctx_(ctx),
        p_(std::move(p)),
        client_(p_.base, p_.auth),
        now_(std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count()) {}

  void operator()() {
    ctx_.attribute("api_server", p_.base);
    ctx_.attribute("credential", p_.credential);
    if (!p_.context.empty()) ctx_.attribute("context", p_.context);
    ctx_.attribute("namespace", p_.ns.empty() ? "(all)" : p_.ns);
    ctx_.attribute("window", p_.window);
    ctx_.attribute("pending_for", p_.pending_for);
    for (const auto& field : p_.ignored)
      ctx_.log(LogLevel::warning, "kubeconfig field " + field + " is not used by this check");

    // Nodes: the whole cluster's, whatever the namespace.
    const auto nodes = client_.list(
        ctx_, kube::nodes_path(), "NodeList", p_.page_size, kMaxPages,
        [this](const json& n) { node(n); },
        [this] {
          node_count_ = 0;
          not_ready_ = {};
          pressure_ = {};
        });
    if (stop(nodes, "nodes")) return;
    nodes_read_ = nodes.ok();
    const auto pods = client_.list(
        ctx_, kube::pods_path(p_.ns), "PodList", p_.page_size, kMaxPages,
        [this](const json& x) { pod(x); },
        [this] {
          pod_count_ = 0;
          crashloop_ = image_ = pending_ = oom_ = {};
          restarts_ = 0;
          pod_restarts_.clear();
        });
    if (stop(pods, "pods")) return;
    pods_read_ = pods.ok();
    const auto deployments = client_.list(
        ctx_, kube::deployments_path(p_.ns), "DeploymentList", p_.page_size, kMaxPages,
        [this](const json& d) { deployment(d); },
        [this] {
          deployment_count_ = short_count_ = 0;
          short_.clear();
        });
    if (stop(deployments, "deployments")) return;
    deployments_read_ = deployments.ok();
    report(nodes, pods, deployments);
  }

 private:
  // ---- items ----

  void node(const json& n) {
    const std::string name = str(sub(n, "metadata"), "name", 253);
    std::string ready = "missing", ready_why;
    std::vector<std::string> pressures;
    const json& conditions = sub(sub(n, "status"), "conditions");
    if (conditions.is_array())
      for (const auto& c : conditions) {
        const std::string type = str(c, "type", 64), status = str(c, "status", 16);
        if (type == "Ready") {
          ready = status;
          ready_why = str(c, "reason", 64);
          const std::string message = str(c, "message", 300);
          if (!message.empty()) ready_why += (ready_why.empty() ? "" : ": ") + message;
          const std::string since = str(c, "lastTransitionTime", 40);
          if (const auto t = kube::parse_time(since); t && *t <= now_)
            ready_why += " (for " + human_age(now_ - *t) + ")";
        } else if ((type == "MemoryPressure" || type == "DiskPressure" || type == "PIDPressure") &&
                   status == "True") {
          const std::string message = str(c, "message", 200);
          pressures.push_back(type + (message.empty() ? "" : " (" + message + ")"));
        }
      }
    ++node_count_;
    const bool cordoned = sub(sub(n, "spec"), "unschedulable") == true;
    if (ready != "True")
      not_ready_.add({name,
                      name + ": Ready is " + ready + (ready_why.empty() ? "" : ", " + ready_why) +
                          (cordoned ? "; cordoned (unschedulable)" : ""),
                      "kubectl describe node " + shell_word(name)});
    if (!pressures.empty()) {
      std::string d = name + ": ";
      for (std::size_t i = 0; i < pressures.size(); ++i) d += (i ? ", " : "") + pressures[i];
      pressure_.add({name, std::move(d), "kubectl describe node " + shell_word(name)});
    }
  }

  void pod(const json& x) {
    ++pod_count_;
    const std::string name = qualified(x);
    const json& meta = sub(x, "metadata");
    const std::string where =
        "-n " + shell_word(str(meta, "namespace", 63)) + " " + shell_word(str(meta, "name", 253));
    const json& status = sub(x, "status");
    const std::string phase = str(status, "phase", 32);
    std::optional<Item> crash, pull;
    std::string waiting;
    std::int64_t restarts = 0;
    for (const char* list : {"initContainerStatuses", "containerStatuses"}) {
      const json& statuses = sub(status, list);
      if (!statuses.is_array()) continue;
      for (const auto& cs : statuses) {
        const std::string container = str(cs, "name", 63);
        const json& w = sub(sub(cs, "state"), "waiting");
        const std::string reason = str(w, "reason", 64);
        const std::string message = str(w, "message", 300);
        const std::int64_t count = std::max<std::int64_t>(0, integer(cs, "restartCount", 0));
        const json& last = sub(sub(cs, "lastState"), "terminated");
        const std::string last_reason = str(last, "reason", 64);
        const std::int64_t exit_code = integer(last, "exitCode", -1);
        const auto finished = kube::parse_time(str(last, "finishedAt", 40));
        const bool recent = finished && now_ - *finished <= p_.window_s;
        std::string last_text;
        if (last.is_object())
          last_text =
              "last terminated " + (last_reason.empty() ? "" : last_reason + ", ") + "exit code " +
              std::to_string(exit_code) +
              (finished && *finished <= now_ ? ", " + human_age(now_ - *finished) + " ago" : "");
        if (reason == "CrashLoopBackOff" && !crash)
          crash = Item{name + " container " + container,
                       name + " container " + container + ": CrashLoopBackOff, " +
                           std::to_string(count) + " restart(s)" +
                           (last_text.empty() ? "" : "; " + last_text),
                       "kubectl logs " + where + " -c " + shell_word(container) + " --previous"};
        else if ((reason == "ImagePullBackOff" || reason == "ErrImagePull" ||
                  reason == "InvalidImageName") &&
                 !pull)
          pull = Item{name + " container " + container,
                      name + " container " + container + " (image " + str(cs, "image", 200) +
                          "): " + reason + (message.empty() ? "" : ": " + message),
                      "kubectl describe pod " + where};
        else if (!reason.empty() && waiting.empty())
          waiting = "container " + container + " waiting: " + reason +
                    (message.empty() ? "" : ": " + message);
        if (count > 0 && recent) {
          restarts += count;
          if (last_reason == "OOMKilled")
            oom_.add({name + " container " + container,
                      name + " container " + container + ": OOMKilled " +
                          human_age(std::max<std::int64_t>(0, now_ - *finished)) + " ago, " +
                          std::to_string(count) + " restart(s) in all",
                      "kubectl top pod " + where + " --containers"});
        }
      }
    }
    if (restarts > 0) {
      restarts_ += restarts;
      pod_restarts_.emplace_back(name, restarts);
    }
    if (crash) return crashloop_.add(std::move(*crash));
    if (pull) return image_.add(std::move(*pull));
    if (phase != "Pending") return;
    const auto created = kube::parse_time(str(sub(x, "metadata"), "creationTimestamp", 40));
    if (!created || now_ - *created <= p_.pending_for_s) return;
    std::string why;
    const json& conditions = sub(status, "conditions");
    if (conditions.is_array())
      for (const auto& c : conditions)
        if (str(c, "type", 64) == "PodScheduled" && str(c, "status", 16) == "False")
          why = "not scheduled: " + str(c, "reason", 64) + ": " + str(c, "message", 300);
    if (why.empty()) why = waiting.empty() ? "no reason given" : waiting;
    pending_.add({name, name + ": Pending for " + human_age(now_ - *created) + ", " + why,
                  "kubectl describe pod " + where});
  }

  void deployment(const json& d) {
    ++deployment_count_;
    const json& spec = sub(d, "spec");
    const json& status = sub(d, "status");
    // spec.replicas defaults to 1 when unset.
    const std::int64_t desired = integer(spec, "replicas", 1);
    const std::int64_t available = integer(status, "availableReplicas", 0);
    const std::int64_t unavailable =
        std::max(integer(status, "unavailableReplicas", 0), desired - available);
    if (unavailable <= 0) return;
    std::string detail = qualified(d) + ": " + std::to_string(available) + " of " +
                         std::to_string(desired) + " replica(s) available, " +
                         std::to_string(unavailable) + " unavailable";
    const json& conditions = sub(status, "conditions");
    if (conditions.is_array())
      for (const auto& c : conditions) {
        const std::string type = str(c, "type", 64);
        if ((type == "Progressing" && str(c, "reason", 64) == "ProgressDeadlineExceeded") ||
            (type == "Available" && str(c, "status", 16) == "False") ||
            (type == "ReplicaFailure" && str(c, "status", 16) == "True"))
          detail += "; " + type + ": " + str(c, "reason", 64) + " (" + str(c, "message", 300) + ")";
      }
    ++short_count_;
    if (short_.size() < kKept)
      short_.push_back({qualified(d), unavailable, desired, available, detail,
                        "-n " + shell_word(str(sub(d, "metadata"), "namespace", 63)) +
                            " deployment/" + shell_word(str(sub(d, "metadata"), "name", 253))});
  }

  // ---- failures ----

  // Reports a failed list; true when the check must stop there.
  bool stop(const kube::ListOutcome& o, const std::string& what) {
    api_ms_ = std::max(api_ms_, o.slowest_ms);
    if (o.retries > 0)
      ctx_.log(LogLevel::info, "the API server throttled the list of " + what + " (429): waited " +
                                   std::to_string(o.retries) + " time(s) as Retry-After asked");
    if (o.restarted)
      ctx_.log(LogLevel::warning,
               "the continue token of the list of " + what +
                   " expired (410 Gone): the list was read again from its start");
    if (o.capped) {
      ctx_.finding(Severity::info,
                   "Only the first " + std::to_string(o.items) + " " + what + " judged",
                   "The list of " + what + " has more than " + std::to_string(kMaxPages) +
                       " pages of " + std::to_string(p_.page_size) + "; the rest was not read.",
                   "Raise page_size (at most 1000), or give a namespace to judge part of the "
                   "cluster per check.");
    }
    const std::string request = "GET " + p_.base + path_of(what);
    const std::string status_text = o.http_status != 0
                                        ? " (HTTP " + std::to_string(o.http_status) +
                                              (o.reason.empty() ? "" : " " + o.reason) + ")"
                                        : "";
    auto critical = [&](const std::string& title, const std::string& remediation) {
      ctx_.finding(Severity::critical, title, request + status_text + ": " + o.message,
                   remediation);
      ctx_.status(Status::critical, title + ": " + o.message);
      return true;
    };
    if (o.http_status != 0) ctx_.attribute("http_status." + what, std::to_string(o.http_status));
    switch (o.failure) {
      case kube::Failure::none:
        return false;
      case kube::Failure::cancelled:
        if (ctx_.remaining().count() > 0) {
          ctx_.error("cancelled while listing " + what);
          return true;
        }
        [[fallthrough]];
      case kube::Failure::timed_out:
        return critical("The Kubernetes API server did not answer in time",
                        std::string("The API server is overloaded or the path to it drops packets: "
                                    "check the control plane's health (kubectl get --raw "
                                    "/readyz?verbose), its latency (apiserver_request_duration_"
                                    "seconds), and the network path; or raise the check's "
                                    "timeout. ") +
                            kFirewall);
      case kube::Failure::unreachable:
        return critical("The Kubernetes API server is unreachable", kFirewall);
      case kube::Failure::tls:
        return critical("TLS with the Kubernetes API server failed",
                        "The API server's certificate is not trusted or does not name this host, "
                        "or the client certificate was refused: give the cluster's CA (ca_file, "
                        "or certificate-authority-data in the kubeconfig), use the host name the "
                        "certificate was issued for, and check the client certificate's expiry "
                        "(openssl x509 -noout -enddate -in FILE).");
      case kube::Failure::unauthorized:
        return critical(
            "The Kubernetes API server refused the credentials (401 Unauthorized)",
            "Security (runbook: unauthorized access): the token or client certificate is not "
            "valid for this cluster: a service account token expired (kubectl create token "
            "gives 1 h by default: ask --duration) or was revoked with its secret, the client "
            "certificate expired (kubeadm certs check-expiration), or the kubeconfig context "
            "points at another cluster. Renew the credential in this check's secret.");
      case kube::Failure::forbidden: {
        // A namespaced identity may not list nodes: judge what it may list.
        const bool nodes_only = what == "nodes" && !p_.ns.empty();
        const std::string verb_resource =
            what == "deployments" ? "list deployments (apiGroup apps)" : "list " + what;
        const std::string remediation =
            "RBAC does not let this identity " + verb_resource +
            ". Grant get/list on nodes, pods and deployments: a ClusterRole (rules: apiGroups "
            "[\"\"] resources [nodes, pods] and apiGroups [apps] resources [deployments], verbs "
            "[get, list]) bound to the check's user or service account with a "
            "ClusterRoleBinding (a RoleBinding for one namespace); verify with kubectl auth "
            "can-i list " +
            what + (p_.ns.empty() ? " --all-namespaces" : " -n " + p_.ns) + " --as=USER.";
        ctx_.finding(
            nodes_only ? Severity::warning : Severity::critical,
            "RBAC forbids listing " + what + " (403 Forbidden)",
            request + status_text + ": " + o.message + ". The " + what + " are not judged.",
            remediation);
        if (!nodes_only) forbidden_.push_back(what);
        return false;
      }
      case kube::Failure::throttled:
        return critical(
            "The Kubernetes API server is throttling requests (429 Too Many Requests)",
            "API Priority and Fairness rejects requests beyond its concurrency shares: find the "
            "clients that flood it (apiserver_flowcontrol_rejected_requests_total by flow_schema), "
            "or give this check's identity a FlowSchema with more shares; run the check less "
            "often.");
      case kube::Failure::unavailable:
        return critical(
            "The Kubernetes API server is unavailable (HTTP " + std::to_string(o.http_status) + ")",
            std::string("The API server (or the load balancer in front of it) cannot "
                        "answer: check kube-apiserver's pods and logs, etcd's health "
                        "(the cluster.etcd check), and the load balancer's "
                        "backends. ") +
                kFirewall);
      case kube::Failure::expired:
        ctx_.error("the list of " + what +
                   " could not be read consistently: its continue token expired (410 Gone) "
                   "twice; raise page_size or the check's timeout");
        return true;
      case kube::Failure::not_found:
        ctx_.error(request +
                   ": 404, no Kubernetes API under this URL (is it the API server's, "
                   "without a path?)");
        return true;
      case kube::Failure::malformed:
      case kube::Failure::too_large:
      case kube::Failure::rejected:
        ctx_.error(request + status_text + ": " + o.message);
        return true;
    }
    return false;
  }

  std::string path_of(const std::string& what) const {
    if (what == "nodes") return kube::nodes_path();
    if (what == "pods") return kube::pods_path(p_.ns);
    return kube::deployments_path(p_.ns);
  }

  // ---- report ----

  // Findings for one kind of problem: the first kNamed each, then one
  // saying how many more.
  void name_all(const Tally& t, Severity severity, const std::string& what,
                const char* remediation) {
    for (std::size_t i = 0; i < t.kept.size() && i < kNamed; ++i)
      ctx_.finding(severity, what + ": " + t.kept[i].title, t.kept[i].detail,
                   t.kept[i].command + ". " + remediation);
    if (t.count > kNamed) {
      std::string rest;
      for (std::size_t i = kNamed; i < t.kept.size() && i < kNamed + 20; ++i)
        rest += (rest.empty() ? "" : "; ") + t.kept[i].title;
      ctx_.finding(severity, std::to_string(t.count - kNamed) + " more: " + what,
                   rest + (t.count > kNamed + 20 ? "; ..." : ""), remediation);
    }
  }

  void report(const kube::ListOutcome& nodes, const kube::ListOutcome& pods,
              const kube::ListOutcome& deployments) {
    Status status = Status::ok;
    auto worst = [&status](Status s) {
      auto rank = [](Status x) {
        return x == Status::critical ? 3 : x == Status::warning ? 2 : x == Status::unknown ? 1 : 0;
      };
      if (rank(s) > rank(status)) status = s;
    };
    std::vector<std::string> parts;
    if (nodes_read_) {
      ctx_.metric(kNodes, static_cast<double>(node_count_));
      ctx_.metric(kNodesNotReady, static_cast<double>(not_ready_.count));
      ctx_.metric(kNodesPressure, static_cast<double>(pressure_.count));
      // Every node down is an outage; some down a loss of capacity.
      const bool all_down = node_count_ > 0 && not_ready_.count == node_count_;
      name_all(not_ready_, all_down ? Severity::critical : Severity::warning, "Node not Ready",
               kNodeNotReady);
      name_all(pressure_, Severity::warning, "Node under resource pressure", kNodePressure);
      std::string s = std::to_string(node_count_) + " node(s)";
      if (not_ready_.count > 0)
        s +=
            ", " + std::to_string(not_ready_.count) + " not ready (" + first_name(not_ready_) + ")";
      if (pressure_.count > 0)
        s += ", " + std::to_string(pressure_.count) + " under pressure (" + first_name(pressure_) +
             ")";
      if (node_count_ == 0) {
        worst(Status::warning);
        ctx_.finding(Severity::warning, "The cluster has no nodes",
                     "GET /api/v1/nodes returned an empty NodeList: no pod can run.",
                     "Join worker nodes (kubeadm join, or scale the node pool up).");
      }
      parts.push_back(s);
    }
    if (pods_read_) {
      ctx_.metric(kPods, static_cast<double>(pod_count_));
      ctx_.metric(kCrashLooping, static_cast<double>(crashloop_.count));
      ctx_.metric(kImagePullFailing, static_cast<double>(image_.count));
      ctx_.metric(kPodsPending, static_cast<double>(pending_.count));
      ctx_.metric(kRestartsMetric, static_cast<double>(restarts_));
      ctx_.metric(kOomKills, static_cast<double>(oom_.count));
      name_all(crashloop_, Severity::warning, "Pod crash-looping", kCrashLoop);
      name_all(image_, Severity::warning, "Pod cannot pull its image", kImagePull);
      name_all(pending_, Severity::warning, "Pod Pending longer than " + p_.pending_for, kPending);
      name_all(oom_, Severity::warning, "Container OOMKilled", kOom);
      std::stable_sort(pod_restarts_.begin(), pod_restarts_.end(),
                       [](const auto& a, const auto& b) { return a.second > b.second; });
      for (std::size_t i = 0; i < pod_restarts_.size() && i < p_.per_item; ++i)
        ctx_.metric(kPodRestarts, fit_item(kPodRestarts.name(), pod_restarts_[i].first),
                    static_cast<double>(pod_restarts_[i].second));
      std::string s = std::to_string(pod_count_) + " pod(s)";
      if (crashloop_.count > 0) s += ", " + std::to_string(crashloop_.count) + " crash-looping";
      if (image_.count > 0) s += ", " + std::to_string(image_.count) + " failing to pull";
      if (pending_.count > 0)
        s += ", " + std::to_string(pending_.count) + " pending > " + p_.pending_for;
      s += ", " + std::to_string(restarts_) + " restart(s) in " + p_.window;
      if (oom_.count > 0) s += " (" + std::to_string(oom_.count) + " OOMKilled)";
      parts.push_back(s);
    }
    if (deployments_read_) {
      ctx_.metric(kDeployments, static_cast<double>(deployment_count_));
      ctx_.metric(kDeploymentsUnavailable, static_cast<double>(short_count_));
      std::stable_sort(short_.begin(), short_.end(), [](const Short& a, const Short& b) {
        return a.unavailable > b.unavailable;
      });
      for (std::size_t i = 0; i < short_.size() && i < p_.per_item; ++i)
        ctx_.metric(kDeploymentShort, fit_item(kDeploymentShort.name(), short_[i].name),
                    static_cast<double>(short_[i].unavailable));
      std::size_t named = 0;
      for (const auto& s : short_) {
        if (named++ >= kNamed) break;
        const bool down = s.available == 0 && s.desired > 0;
        ctx_.finding(down ? Severity::critical : Severity::warning,
                     "Deployment " + s.name +
                         (down ? " has no replica available (service down)"
                               : " is short of " + std::to_string(s.unavailable) + " replica(s)"),
                     s.detail,
                     "kubectl rollout status " + s.where + "; kubectl describe " + s.where + ". " +
                         kDeployment);
      }
      if (short_count_ > kNamed) {
        std::string rest;
        for (std::size_t i = kNamed; i < short_.size() && i < kNamed + 20; ++i)
          rest += (rest.empty() ? "" : "; ") + short_[i].name;
        ctx_.finding(
            Severity::warning,
            std::to_string(short_count_ - kNamed) + " more deployment(s) short of replicas", rest,
            kDeployment);
      }
      std::string s = std::to_string(deployment_count_) + " deployment(s)";
      if (short_count_ > 0) s += ", " + std::to_string(short_count_) + " short of replicas";
      parts.push_back(s);
    }
    ctx_.metric(kApiMs, api_ms_);
    ctx_.attribute("pages", "nodes " + std::to_string(nodes.pages) + ", pods " +
                                std::to_string(pods.pages) + ", deployments " +
                                std::to_string(deployments.pages));
    if (!forbidden_.empty()) {
      worst(Status::critical);
      std::string list;
      for (const auto& f : forbidden_) list += (list.empty() ? "" : ", ") + f;
      parts.push_back("RBAC forbids listing " + list);
    }
    std::string summary;
    for (const auto& s : parts) summary += (summary.empty() ? "" : "; ") + s;
    if (summary.empty()) summary = "nothing could be listed";
    ctx_.status(status, summary);
  }

  static std::string first_name(const Tally& t) {
    if (t.kept.empty()) return "";
    std::string s = t.kept.front().title;
    if (t.count > 1) s += ", ...";
    return s;
  }

  Context& ctx_;
  const Params p_;
  kube::Client client_;
  const std::int64_t now_;
  bool nodes_read_ = false, pods_read_ = false, deployments_read_ = false;
  std::size_t node_count_ = 0, pod_count_ = 0, deployment_count_ = 0, short_count_ = 0;
  Tally not_ready_, pressure_, crashloop_, image_, pending_, oom_;
  std::int64_t restarts_ = 0;
  std::vector<std::pair<std::string, std::int64_t>> pod_restarts_;
  std::vector<Short> short_;
  std::vector<std::string> forbidden_;
  double api_ms_ = 0;
};

}  // namespace

const Metrics KubernetesCheck::metrics{kMetrics};

void KubernetesCheck::run(Context& ctx) {
  Run(ctx, read_params(ctx))();
}

}  // namespace triage::cluster
