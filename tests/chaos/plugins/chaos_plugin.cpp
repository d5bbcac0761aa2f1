// The `chaos` plugin: one check type per way a third-party plugin can
// misbehave, selected by type. Every one of them is deliberate; the fault
// tests in ../chaos_test.cpp run them through the real `triage` binary and
// prove that one bad plugin cannot take a run down. README.md says which
// cases run in which isolation mode, and why.
//
// The same source is built twice, as `chaos` and as `chaos-twin`
// (CHAOS_PLUGIN_NAME), so a test can show that the troubles of one plugin's
// host never reach the checks of another plugin.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <iostream>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <triage/plugin.hpp>
#include <vector>

#ifndef CHAOS_PLUGIN_NAME
#define CHAOS_PLUGIN_NAME "chaos"
#endif

namespace {

using triage::Context;
using triage::Severity;
using triage::Status;

constexpr const char* kAnyParams = R"({"type":"object"})";

// A string literal as bytes, embedded NULs and all.
template <std::size_t N>
constexpr std::string_view bytes(const char (&text)[N]) {
  return std::string_view(text, N - 1);
}

// What every chaos check type but alloc shares: any params object will do.
struct AnyParams {
  static constexpr const char* params_schema = kAnyParams;
};

// The hour a hanging check waits, in one call, ignoring cancellation, and
// what it would say if it ever woke up.
void hang(Context& ctx) {
  std::this_thread::sleep_for(std::chrono::hours(1));
  ctx.status(Status::ok, "woke up after an hour");
}

// Returns ok at once, beside the misbehaving ones.
struct Healthy : AnyParams {
  static constexpr const char* name = "healthy";
  static constexpr const char* description = "Returns ok at once";
  void run(Context& ctx) {
    ctx.metric("value", 1, "", {"2", "3"});
    ctx.attribute("plugin", CHAOS_PLUGIN_NAME);
    ctx.status(Status::ok, "healthy");
  }
};

// Writes through a null pointer. The pointer is read from a volatile object,
// so the compiler cannot know it is null and must emit the store.
struct Segfault : AnyParams {
  static constexpr const char* name = "segfault";
  static constexpr const char* description = "Writes through a null pointer (SIGSEGV)";
  void run(Context&) {
    static int* volatile target = nullptr;
    *target = 42;
  }
};

struct Abort : AnyParams {
  static constexpr const char* name = "abort";
  static constexpr const char* description = "Calls abort() (SIGABRT)";
  void run(Context&) { std::abort(); }
};

struct Exit0 : AnyParams {
  static constexpr const char* name = "exit0";
  static constexpr const char* description = "Calls exit(0) in the middle of the check";
  void run(Context& ctx) {
    ctx.status(Status::ok, "about to exit");
    std::exit(0);
  }
};

// Leaves a thread that calls exit(0) as run() returns ok: whichever ends
// first, the run must never end with status 0 and no report.
struct ExitThread : AnyParams {
  static constexpr const char* name = "exit_thread";
  static constexpr const char* description =
      "A thread of its own calls exit(0) as run() returns ok";
  void run(Context& ctx) {
    std::thread([] { std::exit(0); }).detach();
    ctx.status(Status::ok, "returned ok");
  }
};

struct UnderscoreExit : AnyParams {
  static constexpr const char* name = "underscore_exit";
  static constexpr const char* description = "Calls _exit(3): no atexit handlers, no flush";
  void run(Context&) { ::_exit(3); }
};

struct Terminate : AnyParams {
  static constexpr const char* name = "terminate";
  static constexpr const char* description = "Calls std::terminate() (SIGABRT)";
  void run(Context&) { std::terminate(); }
};

struct ThrowStd : AnyParams {
  static constexpr const char* name = "throw_std";
  static constexpr const char* description = "Throws a std::runtime_error";
  void run(Context&) { throw std::runtime_error("chaos: runtime_error thrown on purpose"); }
};

struct ThrowOther : AnyParams {
  static constexpr const char* name = "throw_other";
  static constexpr const char* description = "Throws an int";
  void run(Context&) { throw 42; }
};

// Burns a CPU forever and never asks whether it was cancelled. The volatile
// counter makes each iteration a side effect, so the loop is neither
// undefined behaviour nor optimised away; nothing is allocated.
struct Spin : AnyParams {
  static constexpr const char* name = "spin";
  static constexpr const char* description = "Loops forever, ignoring cancellation";
  void run(Context&) {
    static volatile std::uint64_t counter = 0;
    for (;;) counter = counter + 1;
  }
};

struct Sleep : AnyParams {
  static constexpr const char* name = "sleep";
  static constexpr const char* description = "Sleeps an hour in one call, ignoring cancellation";
  void run(Context& ctx) { hang(ctx); }
};

// Naps params.ms (default 60000) or until cancelled, then says ok either
// way: a healthy check that a run deadline cuts short and that ends well.
// Naps running in this process now (for crash_when_busy).
std::atomic<int> g_naps_running{0};

struct Nap : AnyParams {
  static constexpr const char* name = "nap";
  static constexpr const char* description = "Naps params.ms or until cancelled, then says ok";
  void run(Context& ctx) {
    ++g_naps_running;
    const auto ms = ctx.param<std::int64_t>("ms", 60000);
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (!ctx.cancelled() && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    --g_naps_running;
    ctx.status(Status::ok, "woke up");
  }
};

// Segfaults its host once params.busy (default 2) naps run beside it — so
// that innocent checks are in flight when it crashes — or, alone, after
// params.alone_after_ms (default 1000): it crashes whenever it runs.
struct CrashWhenBusy : AnyParams {
  static constexpr const char* name = "crash_when_busy";
  static constexpr const char* description = "Segfaults once other checks are in flight";
  void run(Context& ctx) {
    const auto busy = ctx.param<std::int64_t>("busy", 2);
    const auto until = std::chrono::steady_clock::now() +
                       std::chrono::milliseconds(ctx.param<std::int64_t>("alone_after_ms", 1000));
    while (g_naps_running.load() < busy && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    Segfault{}.run(ctx);
  }
};

// Allocates and touches memory in 64 MiB blocks until an allocation fails
// (std::bad_alloc under the host's RLIMIT_AS), and stops by itself at
// params.limit_mb (default 8 GiB) so it can never eat the machine. The blocks
// are freed when the exception unwinds. Never run it in-process.
struct Alloc {
  static constexpr const char* name = "alloc";
  static constexpr const char* description =
      "Allocates and touches memory until it fails (capped at params.limit_mb, 8 GiB)";
  static constexpr const char* params_schema =
      R"({"type":"object","properties":{"limit_mb":{"type":"integer","minimum":1}}})";
  void run(Context& ctx) {
    constexpr std::size_t kBlock = 64u << 20;
    constexpr std::size_t kPage = 4096;
    const auto limit_mb = ctx.param<std::int64_t>("limit_mb", 8192);
    std::vector<std::unique_ptr<char[]>> blocks;
    std::int64_t total_mb = 0;
    while (total_mb < limit_mb) {
      blocks.emplace_back(new char[kBlock]);
      // Writes through a volatile pointer: the pages are really touched.
      volatile char* block = blocks.back().get();
      for (std::size_t i = 0; i < kBlock; i += kPage) block[i] = static_cast<char>(i);
      total_mb += static_cast<std::int64_t>(kBlock >> 20);
    }
    ctx.status(Status::critical,
               "allocated " + std::to_string(total_mb) + " MiB and no memory limit stopped it");
  }
};

// Far more output than any report should hold: 10,000 each of metrics,
// findings and attributes. The host must cap them.
struct Flood : AnyParams {
  static constexpr const char* name = "flood";
  static constexpr const char* description = "10,000 metrics, findings and attributes";
  void run(Context& ctx) {
    constexpr int kCount = 10000;
    for (int i = 0; i < kCount; ++i) {
      const std::string n = std::to_string(i);
      ctx.metric("flood_" + n, i);
      ctx.finding(Severity::info, "flood finding " + n, "detail " + n, "nothing to do");
      ctx.attribute("flood_" + n, n);
    }
    ctx.status(Status::ok, "flooded");
  }
};

// Logs params.lines (default 2000) warning lines "log_flood line N" and says
// how many the host refused with TRIAGE_RC_LIMIT.
struct LogFlood : AnyParams {
  static constexpr const char* name = "log_flood";
  static constexpr const char* description = "Logs params.lines lines as fast as it can";
  void run(Context& ctx) {
    const auto lines = ctx.param<std::int64_t>("lines", 2000);
    std::int64_t refused = 0;
    for (std::int64_t i = 0; i < lines; ++i)
      if (ctx.log(triage::LogLevel::warning, "log_flood line " + std::to_string(i)) ==
          TRIAGE_RC_LIMIT)
        ++refused;
    ctx.metric("refused", static_cast<double>(refused));
    ctx.status(Status::ok,
               std::to_string(refused) + " of " + std::to_string(lines) + " lines refused");
  }
};

// A 5 MB summary of 3-byte characters (so the 4 KiB cut lands inside one),
// a 100 KiB finding detail and a 100 KiB attribute value.
struct HugeSummary : AnyParams {
  static constexpr const char* name = "huge_summary";
  static constexpr const char* description = "A 5 MB summary, a 100 KiB detail and attribute";
  void run(Context& ctx) {
    std::string summary;
    const std::string_view euro = "\xE2\x82\xAC";  // U+20AC, three bytes
    summary.reserve(5'000'001);
    while (summary.size() < 5'000'000) summary += euro;
    const std::string big(100 * 1024, 'd');
    ctx.finding(Severity::info, "a finding with a huge detail", big, "nothing to do");
    ctx.attribute("huge", big);
    ctx.status(Status::ok, summary);
  }
};

// Invalid UTF-8 (a bad continuation, stray bytes, an overlong form, a
// surrogate, a code point past U+10FFFF, a cut sequence) and control
// characters (NUL, ESC with a colour sequence, BEL, DEL, the 8-bit CSI U+009B),
// bidi controls (U+202E, U+2066) and the line separator U+2028 in every text
// it reports, and in a log line.
struct BadUtf8 : AnyParams {
  static constexpr const char* name = "bad_utf8";
  static constexpr const char* description = "Reports invalid UTF-8 and control characters";
  void run(Context& ctx) {
    const auto summary = bytes(
        "bad \xC3\x28 utf8 \xFF\xFE, \x1B[31mred\x1B[0m, 8-bit csi \xC2\x9B"
        "31m, bell\x07, rtl \xE2\x80\xAE"
        "x, isolate \xE2\x81\xA6"
        "y, line sep \xE2\x80\xA8"
        "z, nul\0 end");
    const auto title = bytes("surrogate \xED\xA0\x80 overlong \xC0\xAF");
    const auto detail = bytes("past U+10FFFF \xF4\x90\x80\x80 and cut \xE2\x82");
    const auto key = bytes("key\xFF\x1B");
    const auto value = bytes("value\x80\x01\x7F");
    ctx.metric(bytes("metric\xFE"), 1, bytes("u\xC3"));
    ctx.finding(Severity::info, title, detail, bytes("fix \x1B]0;title\x07 it"));
    ctx.attribute(key, value);
    ctx.log(triage::LogLevel::warning, summary);
    ctx.status(Status::ok, summary);
  }
};

// Tries to forge rows of the text view and of the log: line feeds, carriage
// returns and bidi overrides (U+202E) in every string it reports.
struct Spoof : AnyParams {
  static constexpr const char* name = "spoof";
  static constexpr const char* description = "Reports text that pretends to be other rows";
  void run(Context& ctx) {
    const std::string row = "\nOK        db-primary  network.tcp  connected";
    ctx.log(triage::LogLevel::warning, "spoofing" + row +
                                           "\rtriage: error: \xE2\x80\xAE"
                                           "forged");
    ctx.finding(Severity::critical, "title" + row,
                "detail\r\xE2\x81\xA6"
                "isolated" +
                    row,
                "fix" + row);
    ctx.attribute("key" + row, "value" + row);
    ctx.status(Status::critical, "broken" + row +
                                     "\xE2\x80\xAE"
                                     "reversed");
  }
};

// Says ok, but its own metric breaches its own default critical threshold and
// it adds a critical finding: the core must report critical.
struct Lie : AnyParams {
  static constexpr const char* name = "lie";
  static constexpr const char* description = "Claims ok over a critical metric and finding";
  void run(Context& ctx) {
    ctx.metric("error_rate_pct", 50, "%", {"0.1", "5"});
    ctx.finding(Severity::critical, "Everything is on fire", "50 % of requests fail",
                "Do not believe the status");
    ctx.status(Status::ok, "all good, honestly");
  }
};

// Forks a child that sleeps an hour, then hangs itself ignoring cancellation:
// only killing the host's whole process group reaps the grandchild. The
// child calls async-signal-safe functions only (the host is multi-threaded).
// Never run it in-process.
struct ForkBombLite : AnyParams {
  static constexpr const char* name = "fork_bomb_lite";
  static constexpr const char* description = "Forks a sleeping child, then hangs";
  void run(Context& ctx) {
    const pid_t child = ::fork();
    if (child == 0) {
      ::sleep(3600);
      ::_exit(0);
    }
    if (child < 0) {
      ctx.error(std::string("fork failed: ") + std::strerror(errno));
      return;
    }
    hang(ctx);
  }
};

// Starts a daemon the classic way (fork, setsid, fork again, the middle
// process exits at once) that sleeps an hour holding every descriptor it
// inherited (stdout and stderr included), and returns ok at once: nothing
// but its subreaper can find it after that.
struct Daemon : AnyParams {
  static constexpr const char* name = "daemon";
  static constexpr const char* description = "Leaves a double-forked, setsid daemon behind";
  void run(Context& ctx) {
    const pid_t middle = ::fork();
    if (middle == 0) {
      ::setsid();
      if (::fork() == 0) {
        ::sleep(3600);
        ::_exit(0);
      }
      ::_exit(0);
    }
    if (middle < 0) {
      ctx.error(std::string("fork failed: ") + std::strerror(errno));
      return;
    }
    ::waitpid(middle, nullptr, 0);
    ctx.status(Status::ok, "left a daemon behind");
  }
};

// Ignores SIGTERM for the whole process, then hangs: only SIGKILL ends it.
// Never run it in-process.
struct IgnoreSigterm : AnyParams {
  static constexpr const char* name = "ignore_sigterm";
  static constexpr const char* description = "Ignores SIGTERM, then hangs";
  void run(Context& ctx) {
    struct sigaction action {};
    action.sa_handler = SIG_IGN;
    ::sigaction(SIGTERM, &action, nullptr);
    hang(ctx);
  }
};

// Writes junk to stdout and stderr, as a plugin with a stray printf would:
// it must never reach triage's own stdout (where a JSON report may go).
// In-process it would, so it runs in process mode only.
struct StdoutNoise : AnyParams {
  static constexpr const char* name = "stdout_noise";
  static constexpr const char* description = "Writes junk to stdout and stderr";
  void run(Context& ctx) {
    const auto junk = bytes("chaos junk on stdout {\"not\": \"the report\"} \xFF\0\n");
    std::cout << junk << std::flush;
    std::printf("chaos junk from printf\n");
    std::fflush(stdout);
    [[maybe_unused]] const auto written = ::write(STDOUT_FILENO, junk.data(), junk.size());
    [[maybe_unused]] const auto logged = ::write(STDERR_FILENO, junk.data(), junk.size());
    ctx.status(Status::ok, "made some noise");
  }
};

// Values JSON cannot hold and arguments the host must refuse: NaN and
// infinite metrics, thresholds that are not ranges, a status and a severity
// out of range. The report must stay valid against its schema.
struct BadNumbers : AnyParams {
  static constexpr const char* name = "bad_numbers";
  static constexpr const char* description = "NaN and infinite metrics, nonsense thresholds";
  void run(Context& ctx) {
    ctx.metric("nan_value", std::nan(""), "ms", {"10", "20"});
    ctx.metric("inf_value", HUGE_VAL, "ms");
    ctx.metric("minus_inf_value", -HUGE_VAL, "ms");
    ctx.metric("bad_thresholds", 1, "", {"not a range", "10:5:3"});
    const triage_host_api* host = ctx.host();
    const std::string_view text = "out of range";
    const triage_rc status_rc = host->set_status(ctx.handle(), 42, text.data(), text.size());
    triage_finding f{};
    f.struct_size = sizeof f;
    f.severity = 7;
    f.title = text.data();
    f.title_len = text.size();
    const triage_rc finding_rc = host->add_finding(ctx.handle(), &f);
    ctx.status(Status::ok, "set_status(42) returned " + std::to_string(status_rc) +
                               ", add_finding(severity 7) returned " + std::to_string(finding_rc));
  }
};

// Calls every host function with arguments the ABI says are invalid (null
// pointers with lengths, structs smaller than ABI 1.0's, out-of-range enums,
// a null handle): each must return TRIAGE_RC_INVALID_ARGUMENT, none may
// crash. Ends ok when all were refused, critical naming the ones accepted.
struct BadArgs : AnyParams {
  static constexpr const char* name = "bad_args";
  static constexpr const char* description = "Calls the host API with invalid arguments";
  void run(Context& ctx) {
    const triage_host_api* h = ctx.host();
    const triage_check_ctx c = ctx.handle();
    std::string accepted;
    int calls = 0;
    auto expect_refused = [&](const char* what, triage_rc rc) {
      ++calls;
      if (rc != TRIAGE_RC_INVALID_ARGUMENT)
        accepted += std::string(accepted.empty() ? "" : ", ") + what + " -> " + std::to_string(rc);
    };
    triage_metric m{};
    m.struct_size = sizeof m;
    m.name = "name";
    m.name_len = 4;
    triage_metric small_metric = m;
    small_metric.struct_size = 8;
    triage_metric null_name = m;
    null_name.name = nullptr;
    null_name.name_len = 100;
    triage_metric null_unit = m;
    null_unit.unit = nullptr;
    null_unit.unit_len = 100;
    triage_finding f{};
    f.struct_size = sizeof f;
    f.severity = TRIAGE_SEVERITY_INFO;
    f.title = "t";
    f.title_len = 1;
    triage_finding small_finding = f;
    small_finding.struct_size = 4;
    triage_finding null_detail = f;
    null_detail.detail = nullptr;
    null_detail.detail_len = 100;
    triage_finding bad_severity = f;
    bad_severity.severity = -1;

    expect_refused("set_status(null summary)", h->set_status(c, TRIAGE_STATUS_OK, nullptr, 100));
    expect_refused("set_status(-1)", h->set_status(c, -1, "x", 1));
    expect_refused("set_status(null ctx)", h->set_status(nullptr, TRIAGE_STATUS_OK, "x", 1));
    expect_refused("emit_metric(null)", h->emit_metric(c, nullptr));
    expect_refused("emit_metric(struct_size 8)", h->emit_metric(c, &small_metric));
    expect_refused("emit_metric(null name)", h->emit_metric(c, &null_name));
    expect_refused("emit_metric(null unit)", h->emit_metric(c, &null_unit));
    expect_refused("emit_metric(null ctx)", h->emit_metric(nullptr, &m));
    expect_refused("add_finding(null)", h->add_finding(c, nullptr));
    expect_refused("add_finding(struct_size 4)", h->add_finding(c, &small_finding));
    expect_refused("add_finding(null detail)", h->add_finding(c, &null_detail));
    expect_refused("add_finding(severity -1)", h->add_finding(c, &bad_severity));
    expect_refused("set_attribute(null key)", h->set_attribute(c, nullptr, 5, "v", 1));
    expect_refused("set_attribute(null value)", h->set_attribute(c, "k", 1, nullptr, 5));
    expect_refused("log(null message)", h->log(c, TRIAGE_LOG_INFO, nullptr, 100));
    expect_refused("get_deadline(null out)", h->get_deadline(c, nullptr));
    std::int64_t deadline = 0;
    expect_refused("get_deadline(null ctx)", h->get_deadline(nullptr, &deadline));
    expect_refused("set_error(null message)", h->set_error(c, nullptr, 100));
    expect_refused("set_error(null ctx)", h->set_error(nullptr, "x", 1));
    if (accepted.empty())
      ctx.status(Status::ok, "all " + std::to_string(calls) + " invalid calls were refused");
    else
      ctx.status(Status::critical, "invalid calls accepted: " + accepted);
  }
};

// What late_call and late_wait share in one process (a plugin host, or
// triage itself in-process).
struct LateCalls {
  std::mutex mutex;
  std::condition_variable changed;
  bool returned = false;  // late_call's run() is about to return
  bool done = false;      // its thread has made every late call
};

LateCalls& late_calls() {
  static auto* state = new LateCalls();  // the detached thread may outlive statics
  return *state;
}

// Returns ok at once, leaving a detached thread behind that waits until
// run() has returned, then calls the host with the stale handle: each call
// must be refused (TRIAGE_RC_INVALID_ARGUMENT) and change nothing. It logs,
// without a handle, "late_call: N of M late calls refused".
struct LateCall : AnyParams {
  static constexpr const char* name = "late_call";
  static constexpr const char* description =
      "Calls the host from a detached thread after run() returned";
  static constexpr int kRounds = 50;
  static constexpr int kCallsPerRound = 6;

  void run(Context& ctx) {
    const triage_host_api* host = ctx.host();
    const triage_check_ctx handle = ctx.handle();
    std::thread([host, handle] {
      LateCalls& state = late_calls();
      {
        std::unique_lock lock(state.mutex);
        state.changed.wait(lock, [&] { return state.returned; });
      }
      // The flag is set just before run() returns: wait until the host says
      // the handle is closed (a call that changes nothing), for 5 s at most.
      std::int64_t ns = 0;
      const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      while (host->get_deadline(handle, &ns) == TRIAGE_RC_OK &&
             std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      triage_metric m{};
      m.struct_size = sizeof m;
      m.name = "late";
      m.name_len = 4;
      m.value = 1;
      triage_finding f{};
      f.struct_size = sizeof f;
      f.severity = TRIAGE_SEVERITY_CRITICAL;
      f.title = "late";
      f.title_len = 4;
      int refused = 0;
      auto count = [&](triage_rc rc) { refused += rc == TRIAGE_RC_INVALID_ARGUMENT ? 1 : 0; };
      for (int i = 0; i < kRounds; ++i) {
        count(host->set_status(handle, TRIAGE_STATUS_CRITICAL, "late", 4));
        count(host->emit_metric(handle, &m));
        count(host->add_finding(handle, &f));
        count(host->set_attribute(handle, "late", 4, "yes", 3));
        count(host->log(handle, TRIAGE_LOG_WARNING, "a late line", 11));
        count(host->set_error(handle, "late", 4));
      }
      const std::string line = "late_call: " + std::to_string(refused) + " of " +
                               std::to_string(kRounds * kCallsPerRound) + " late calls refused";
      host->log(nullptr, TRIAGE_LOG_WARNING, line.data(), line.size());
      {
        const std::lock_guard lock(state.mutex);
        state.done = true;
      }
      state.changed.notify_all();
    }).detach();
    ctx.metric("on_time", 1);
    ctx.status(Status::ok, "returned on time");
    {
      const std::lock_guard lock(late_calls().mutex);
      late_calls().returned = true;
    }
    late_calls().changed.notify_all();
  }
};

// Waits (until its deadline) for late_call's thread to make its calls, so
// that they happen while the run is still going.
struct LateWait : AnyParams {
  static constexpr const char* name = "late_wait";
  static constexpr const char* description = "Waits until late_call's thread made its calls";
  void run(Context& ctx) {
    LateCalls& state = late_calls();
    std::unique_lock lock(state.mutex);
    while (!state.done && !ctx.cancelled())
      state.changed.wait_for(lock, std::chrono::milliseconds(20));
    const bool done = state.done;
    lock.unlock();
    ctx.status(done ? Status::ok : Status::warning,
               done ? "the late calls were made" : "no late calls by the deadline");
  }
};

}  // namespace

TRIAGE_PLUGIN(CHAOS_PLUGIN_NAME, "1.0.0", "Checks that misbehave on purpose, for fault tests",
              Healthy, Segfault, Abort, Exit0, ExitThread, UnderscoreExit, Terminate, ThrowStd,
              ThrowOther, Spin, Sleep, Nap, CrashWhenBusy, Alloc, Flood, LogFlood, HugeSummary,
              BadUtf8, Spoof, Lie, ForkBombLite, Daemon, IgnoreSigterm, StdoutNoise, BadNumbers,
              BadArgs, LateCall, LateWait)
