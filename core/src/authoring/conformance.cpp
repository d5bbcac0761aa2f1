// The dynamic half of the conformance kit: runs each check type in a plugin
// host with bad params, good params, a short deadline, a cancel and many
// calls at once, and judges what came back. A hung check is killed with its
// host (and a fresh host started), so validating never hangs.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>

#include "triage/core/conformance.hpp"
#include "triage/core/host_protocol.hpp"

namespace triage::core::conformance {

namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// A loopback TCP listener that never accepts (connections complete in the
// kernel, then nothing is ever said) and a UDP socket on the same port that
// never answers: a target that makes a well-behaved check wait until its
// deadline.
class SilentEndpoint {
 public:
  SilentEndpoint() {
    tcp_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (tcp_ < 0 || ::bind(tcp_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(tcp_, 128) != 0 || ::getsockname(tcp_, reinterpret_cast<sockaddr*>(&addr), &len))
      return;
    endpoint_.port = ntohs(addr.sin_port);
    // Best effort: a UDP check (DNS) waits too instead of being refused.
    udp_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (udp_ >= 0) ::bind(udp_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  }
  ~SilentEndpoint() {
    if (tcp_ >= 0) ::close(tcp_);
    if (udp_ >= 0) ::close(udp_);
  }
  SilentEndpoint(const SilentEndpoint&) = delete;
  SilentEndpoint& operator=(const SilentEndpoint&) = delete;
  const Endpoint& endpoint() const { return endpoint_; }

 private:
  int tcp_ = -1;
  int udp_ = -1;
  Endpoint endpoint_;
};

// What became of one call of a check.
struct Call {
  bool crashed = false;  // the host died under it
  bool overran = false;  // still running after deadline/cancel + grace: killed
  bool garbled = false;  // the host's answer could not be read
  std::string why;       // crash reason, or what was garbled
  int descendants = 0;   // live processes the plugin left when run() returned
  triage_rc rc = TRIAGE_RC_OK;
  Outcome outcome;

  bool has_result() const { return outcome.status.has_value() || !outcome.error.empty(); }
  // The status before thresholds, as the core would see it; -1 for none.
  int status() const {
    if (rc != TRIAGE_RC_OK || !outcome.error.empty()) return TRIAGE_STATUS_UNKNOWN;
    if (!outcome.status) return -1;
    int worst = *outcome.status;
    for (const auto& f : outcome.findings) worst = std::max(worst, static_cast<int>(f.severity));
    return worst;
  }
  bool unknown_with_message() const {
    return !crashed && !overran && status() == TRIAGE_STATUS_UNKNOWN &&
           !(outcome.error.empty() && outcome.summary.empty());
  }
};

std::string status_name(int status) {
  switch (status) {
    case TRIAGE_STATUS_OK:
      return "ok";
    case TRIAGE_STATUS_WARNING:
      return "warning";
    case TRIAGE_STATUS_CRITICAL:
      return "critical";
    case TRIAGE_STATUS_UNKNOWN:
      return "unknown";
    default:
      return "no status";
  }
}

// The plugin's host, started again after a crash or a kill.
class Host {
 public:
  Host(std::filesystem::path file, HostOptions options)
      : file_(std::move(file)), options_(std::move(options)) {}
  std::shared_ptr<HostProcess> get(std::string& reason) {
    if (!host_ || !host_->alive()) host_ = HostProcess::start(file_, options_, reason);
    return host_;
  }

 private:
  std::filesystem::path file_;
  HostOptions options_;
  std::shared_ptr<HostProcess> host_;
};

// Sends every params of `batch` at once and waits for them all. At the
// deadline (or at cancel_at) each is cancelled; what still runs `grace`
// later is killed with its host.
std::vector<Call> run_batch(Host& host_of, const std::string& type, const std::vector<json>& batch,
                            Clock::time_point deadline, std::optional<Clock::time_point> cancel_at,
                            milliseconds grace) {
  std::vector<Call> calls(batch.size());
  std::string reason;
  auto host = host_of.get(reason);
  if (!host) {
    for (auto& c : calls) c.crashed = true, c.why = "its host could not be started: " + reason;
    return calls;
  }
  std::vector<std::shared_ptr<HostProcess::Pending>> pending;
  for (std::size_t i = 0; i < batch.size(); ++i)
    pending.push_back(
        host->submit("validate-" + std::to_string(i), type, batch[i].dump(), deadline));
  const Clock::time_point stop_at = cancel_at ? std::min(*cancel_at, deadline) : deadline;
  std::optional<Clock::time_point> kill_at;
  bool killed = false;
  for (std::size_t i = 0; i < pending.size(); ++i) {
    auto& p = *pending[i];
    std::unique_lock lock(p.mutex);
    while (!p.done) {
      const auto now = Clock::now();
      if (!kill_at && now >= stop_at) {
        lock.unlock();
        for (const auto& each : pending) host->cancel(each);
        lock.lock();
        kill_at = now + grace;
      }
      if (kill_at && now >= *kill_at && !killed) {
        killed = true;
        lock.unlock();
        host->kill("validate: the check ran past its deadline");
        lock.lock();
      }
      p.done_cv.wait_for(lock, milliseconds(10));
    }
    Call& call = calls[i];
    if (p.lost) {
      if (killed)
        call.overran = true;
      else
        call.crashed = true, call.why = "the plugin host " + p.lost_reason;
      continue;
    }
    call.rc = p.rc;
    call.descendants = p.descendants;
    Attempt attempt("validate", deadline);
    try {
      protocol::outcome_from_json(p.outcome, attempt);
    } catch (const std::exception& e) {
      call.garbled = true;
      call.why = std::string("its result could not be read: ") + e.what();
    }
    call.outcome = attempt.take();
  }
  return calls;
}

}  // namespace

// The params with its most important required property given a value of
// another type. Only a required one: the core refuses params that break the
// schema before anything runs, so the ABI promises a check only that what it
// requires is there; an optional param it does not read (a declared
// "target" it ignores) may be anything.
std::optional<json> wrong_type_params(const json& params, const json& schema) {
  const json properties = schema.is_object() ? schema.value("properties", json::object()) : json();
  if (!properties.is_object()) return std::nullopt;
  const json required = schema.value("required", json::array());
  if (!required.is_array()) return std::nullopt;
  std::string key;
  for (const auto& name : required)
    if (name.is_string() && (key.empty() || name == "target")) key = name.get<std::string>();
  if (key.empty() || !properties.contains(key)) return std::nullopt;
  const json& property = properties[key];
  const json t = property.is_object() ? property.value("type", json()) : json();
  const std::string type = t.is_string() ? t.get<std::string>() : "";
  json wrong;
  if (type == "string")
    wrong = 12345;
  else if (type == "integer" || type == "number" || type == "boolean" || type == "array" ||
           type == "object")
    wrong = "not-a-" + type;
  else
    return std::nullopt;
  json out = params.is_object() ? params : json::object();
  out[key] = wrong;
  return out;
}

namespace {

class TypeValidator {
 public:
  TypeValidator(const CheckType& type, const Options& options, Host& host, const Endpoint& silent,
                std::vector<TestResult>& out)
      : type_(type), options_(options), host_(host), silent_(silent), out_(out) {}

  void run() {
    const auto problems = schema_problems(type_.params_schema);
    if (problems.empty())
      add("schema", Verdict::pass);
    else
      add("schema", Verdict::fail, join(problems));
    const json schema = json::parse(type_.params_schema, nullptr, false);
    const json required = schema.is_object() ? schema.value("required", json::array()) : json();
    const bool requires_some = required.is_array() && !required.empty();
    const json sample = options_.sample_params.contains(type_.name)
                            ? options_.sample_params[type_.name]
                            : params_from_schema(schema, Endpoint{});
    json extra = sample.is_object() ? sample : json::object();
    extra["triage_validate_unknown_param"] = "unexpected";
    const auto wrong = wrong_type_params(sample, schema);
    const json silent = retarget(sample, silent_);

    // Each stage stops short once the check has overrun: every further call
    // would only cost another deadline.
    const Call none = one("no params", json::object());
    std::optional<Call> mistyped;
    if (wrong) mistyped = one("wrong-type params", *wrong);
    one("unknown extra param", extra);
    const Call valid = one("sample params", sample);
    one("short deadline", silent, true);
    const auto cancelled =
        overrun_ ? std::nullopt : std::optional(call("cancel", silent, false, true));
    std::vector<Call> many;
    const bool thread_safe = (type_.flags & TRIAGE_CHECK_THREAD_SAFE) != 0;
    // A longer deadline: this is about crashes and mixed-up results, and
    // 32 calls at once on a small machine are slow, not wrong.
    const bool crashed_before = !crash_.empty();
    if (thread_safe && !overrun_ && !crashed_before) {
      many =
          run_batch(host_, type_.name,
                    std::vector<json>(static_cast<std::size_t>(options_.concurrent_calls), sample),
                    Clock::now() + 5 * options_.run_timeout, std::nullopt, options_.grace);
      note("concurrent calls", many);
      note_undeclared("concurrent calls", many, sample);
    }

    // params
    std::string params_why;
    if (requires_some && !none.unknown_with_message())
      params_why =
          "with no params it " + outcome_words(none) + " (expected unknown with a message)";
    else if (mistyped && !mistyped->unknown_with_message())
      params_why = "with '" + wrong_key(*wrong, sample) + "' of the wrong type it " +
                   outcome_words(*mistyped) + " (expected unknown with a message)";
    if (params_why.empty())
      add("params", Verdict::pass);
    else
      add("params", Verdict::fail, params_why);

    add("crash", crash_.empty() ? Verdict::pass : Verdict::fail, crash_);
    add("deadline", overrun_ ? Verdict::fail : Verdict::pass, overrun_why_);

    if (!cancelled)
      add("cancel", Verdict::skip, "not run: the check already ignored its deadline");
    else if (cancelled->overran)
      add("cancel", Verdict::fail,
          "still running " + std::to_string(options_.grace.count()) +
              " ms after being cancelled (its host was killed)");
    else if (cancelled->crashed)
      add("cancel", Verdict::skip, "not judged: it crashed");
    else
      add("cancel", Verdict::pass);

    if (!thread_safe)
      add("concurrency", Verdict::skip, "not declared thread-safe (the core runs it alone)");
    else if (many.empty())
      add("concurrency", Verdict::skip,
          crashed_before ? "not run: it already crashed"
                         : "not run: the check already ignored its deadline");
    else
      judge_concurrency(valid, many);

    add("limits", truncated_.empty() ? Verdict::pass : Verdict::fail, truncated_);
    add("text", cleaned_.empty() ? Verdict::pass : Verdict::fail, cleaned_);
    add("processes", leftovers_.empty() ? Verdict::pass : Verdict::fail, leftovers_);
    add("result", no_result_.empty() ? Verdict::pass : Verdict::fail, no_result_);
    if (!type_.metrics)
      add("metrics", Verdict::skip,
          "declares no metrics (plugin ABI 1.0 style): thresholds on it are not checked");
    else
      add("metrics", undeclared_.empty() ? Verdict::pass : Verdict::fail, undeclared_);
  }

 private:
  static std::string join(const std::vector<std::string>& parts) {
    std::string s;
    for (const auto& p : parts) s += (s.empty() ? "" : "; ") + p;
    return s;
  }

  static std::string wrong_key(const json& wrong, const json& sample) {
    for (const auto& [k, v] : wrong.items())
      if (!sample.is_object() || !sample.contains(k) || sample[k] != v) return k;
    return "target";
  }

  static std::string outcome_words(const Call& c) {
    if (c.crashed) return "crashed";
    if (c.overran) return "ran past its deadline";
    const int s = c.status();
    if (s == TRIAGE_STATUS_UNKNOWN) return "ended unknown without a message";
    return "ended " + status_name(s);
  }

  void add(const std::string& test, Verdict v, std::string reason = {}) {
    out_.push_back({type_.name, test, v, std::move(reason)});
  }

  Call call(const std::string& what, const json& params, bool short_deadline, bool cancel) {
    const auto now = Clock::now();
    const auto deadline = now + (short_deadline ? options_.short_deadline
                                 : cancel       ? milliseconds(10'000)
                                                : options_.run_timeout);
    std::optional<Clock::time_point> cancel_at;
    if (cancel) cancel_at = now + milliseconds(100);
    auto calls = run_batch(host_, type_.name, {params}, deadline, cancel_at, options_.grace);
    note(what, calls);
    note_undeclared(what, calls, params);
    return calls.front();
  }

  // One ordinary call, unless an earlier one overran (then an empty Call).
  Call one(const std::string& what, const json& params, bool short_deadline = false) {
    if (overrun_) return Call{};
    return call(what, params, short_deadline, false);
  }

  // Remembers the first problem of each kind, naming the call it came from.
  void note(const std::string& what, const std::vector<Call>& calls) {
    for (const auto& c : calls) {
      if (c.crashed && crash_.empty()) crash_ = what + ": " + c.why;
      if (c.overran && !overrun_ && what != "cancel") {
        overrun_ = true;
        overrun_why_ = what + ": still running " + std::to_string(options_.grace.count()) +
                       " ms after its deadline (its host was killed)";
      }
      if (c.garbled && no_result_.empty()) no_result_ = what + ": " + c.why;
      if (!c.crashed && !c.overran && !c.garbled && !c.has_result() && no_result_.empty())
        no_result_ = what + ": it reported neither a status nor an error";
      if (c.descendants > 0 && leftovers_.empty())
        leftovers_ = what + ": " + std::to_string(c.descendants) +
                     " process(es) it started were still running after run() returned (the "
                     "host kills them when it ends; wait for what you start)";
      if (c.outcome.cleaned && cleaned_.empty())
        cleaned_ = what +
                   ": its text had invalid UTF-8 or control characters (C0/C1, bidi, line "
                   "separators), which the core cleaned before they reached the report";
      if (c.outcome.truncated && truncated_.empty())
        truncated_ = what +
                     ": its output went past the core's limits (summary 4 KiB, text 16 KiB, "
                     "256 metrics, 64 findings, 64 attributes) and was truncated";
    }
  }

  // A type that declares its metrics must emit only those: a config could
  // never set thresholds on any other.
  void note_undeclared(const std::string& what, const std::vector<Call>& calls,
                       const json& params) {
    if (!type_.metrics || !undeclared_.empty()) return;
    for (const auto& c : calls)
      for (const auto& m : c.outcome.metrics)
        if (type_.metrics->find(m.name, params) == nullptr) {
          undeclared_ =
              what + ": emitted metric '" + m.name + "', which " + type_.name +
              " does not declare (declared: " +
              (type_.metrics->decls().empty() ? std::string("none") : type_.metrics->describe()) +
              ")";
          return;
        }
  }

  void judge_concurrency(const Call& alone, const std::vector<Call>& many) {
    std::map<std::string, int> seen;
    bool bad = false;
    for (const auto& c : many) {
      if (c.crashed || c.overran || c.garbled) bad = true;
      const std::string s = c.crashed ? "crashed" : c.overran ? "overran" : status_name(c.status());
      ++seen[s];
      if (c.status() != alone.status()) bad = true;
    }
    if (!bad) return add("concurrency", Verdict::pass);
    std::string counts;
    for (const auto& [s, n] : seen)
      counts += (counts.empty() ? "" : ", ") + s + " ×" + std::to_string(n);
    add("concurrency", Verdict::fail,
        std::to_string(many.size()) + " calls at once with the same params gave " + counts +
            "; one call alone gave " + status_name(alone.status()));
  }

  const CheckType& type_;
  const Options& options_;
  Host& host_;
  const Endpoint& silent_;
  std::vector<TestResult>& out_;
  bool overrun_ = false;
  std::string overrun_why_, crash_, truncated_, cleaned_, leftovers_, no_result_, undeclared_;
};

}  // namespace

std::optional<Report> validate(const std::filesystem::path& file, const Options& options,
                               std::string& reason) {
  HostOptions host_options = options.host;
  host_options.count_descendants = true;
  Host host(file, host_options);
  auto first = host.get(reason);
  if (!first) return std::nullopt;
  Report report;
  report.plugin = first->plugin();
  const auto problems = descriptor_problems(report.plugin);
  std::string why;
  for (const auto& p : problems) why += (why.empty() ? "" : "; ") + p;
  report.results.push_back(
      {"(plugin)", "descriptor", problems.empty() ? Verdict::pass : Verdict::fail, why});
  const SilentEndpoint silent;
  for (const auto& type : report.plugin.types)
    TypeValidator(type, options, host, silent.endpoint(), report.results).run();
  return report;
}

}  // namespace triage::core::conformance
