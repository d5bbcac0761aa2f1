#include "output.hpp"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "triage/core/atomic_file.hpp"

namespace triage::cli {

namespace {

// The columns of the terminal on stdout; COLUMNS when it is not one; 80.
std::size_t terminal_width() {
  winsize ws{};
  if (isatty(STDOUT_FILENO) != 0 && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
    return ws.ws_col;
  if (const char* columns = std::getenv("COLUMNS")) {
    char* end = nullptr;
    const long n = std::strtol(columns, &end, 10);
    if (end != columns && *end == '\0' && n >= 20 && n <= 1000) return static_cast<std::size_t>(n);
  }
  return 80;
}

}  // namespace

bool locale_is_utf8() {
  for (const char* name : {"LC_ALL", "LC_CTYPE", "LANG"}) {
    const char* value = std::getenv(name);
    if (value == nullptr || *value == '\0') continue;
    std::string v(value);
    for (auto& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return v.find("utf-8") != std::string::npos || v.find("utf8") != std::string::npos;
  }
  return false;  // the C locale
}

void add_output_options(po::options_description& desc, OutputOptions& output) {
  desc.add_options()("format,f", po::value(&output.format_name)->value_name("FORMAT"),
                     "report on stdout as text (the default, also when piped), json, ndjson, "
                     "nagios, junit or prometheus")(
      "output,o", po::value(&output.outputs)->composing()->value_name("FILE"),
      "also write the report to FILE, atomically, in the format of its extension: .json, "
      ".ndjson, .txt, .xml (junit), .nagios, .prom (prometheus); other names get -f's format, "
      "else text (repeatable; with -o and no -f, nothing is printed on stdout)");
}

std::optional<int> check_output_options(const std::string& command, OutputOptions& output,
                                        const po::options_description& desc) {
  std::optional<core::Format> chosen;
  if (!output.format_name.empty()) {
    chosen = core::parse_format(output.format_name);
    if (!chosen)
      return usage_error(command,
                         "unknown --format '" + output.format_name + "' (expected " +
                             std::string(core::format_names()) + ")",
                         desc);
  }
  output.stdout_format = std::nullopt;
  if (output.outputs.empty() || chosen) output.stdout_format = chosen.value_or(core::Format::text);
  output.files.clear();
  std::set<std::filesystem::path> seen;
  for (const auto& file : output.outputs) {
    if (file.empty()) return usage_error(command, "--output needs a file name", desc);
    const auto absolute = std::filesystem::absolute(file).lexically_normal();
    if (!seen.insert(absolute).second)
      return usage_error(command, "--output " + file + " is given twice", desc);
    // Refuse an unwritable destination now, not after every check has run.
    const auto dir = absolute.parent_path();
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec))
      return usage_error(command,
                         "--output " + file + ": folder " + dir.string() + " does not exist", desc);
    if (access(dir.c_str(), W_OK) != 0 && access(file.c_str(), W_OK) != 0)
      return usage_error(
          command, "--output " + file + ": folder " + dir.string() + " is not writable", desc);
    output.files.emplace_back(
        file, core::format_for_file(file).value_or(chosen.value_or(core::Format::text)));
  }
  return std::nullopt;
}

int write_report(const nlohmann::ordered_json& report, const OutputOptions& output,
                 const Common& common, const std::atomic<bool>* cancel) {
  int code = 0;
  for (const auto& [file, format] : output.files) {
    try {
      // Files never get colour, and are laid out at 80 columns.
      core::write_file_atomically(file, core::render(report, format, {}), cancel);
      spdlog::info("report written to {} ({})", file, core::to_string(format));
    } catch (const std::exception& e) {
      std::cerr << "triage: " << e.what() << "\n";
      code = kExitSoftware;
    }
  }
  if (output.stdout_format) {
    core::RenderOptions options;
    options.color =
        *output.stdout_format == core::Format::text && wants_color(common.color, STDOUT_FILENO);
    options.utf8 = locale_is_utf8();
    options.width = terminal_width();
    std::cout << core::render(report, *output.stdout_format, options);
    if (finish_stdout(0) != 0) code = kExitSoftware;
  }
  return code;
}

namespace {

// Dies of SIGPIPE, as a process that did not ignore it would have at the
// write that failed: the quiet end of a pipeline whose reader left.
[[noreturn]] void die_of_sigpipe() {
  std::signal(SIGPIPE, SIG_DFL);
  sigset_t pipe_only;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  pthread_sigmask(SIG_UNBLOCK, &pipe_only, nullptr);
  std::raise(SIGPIPE);
  std::_Exit(128 + SIGPIPE);  // not reached
}

}  // namespace

int finish_stdout(int code) {
  static bool reported = false;
  errno = 0;
  std::cout.flush();
  int error = errno;
  const bool stream_failed = !std::cout;
  if (std::fflush(stdout) != 0 && error == 0) error = errno;
  if (!stream_failed && std::ferror(stdout) == 0) return code;
  if (reported) return kExitSoftware;
  if (error == 0) {
    // The write failed earlier, inside the stream, and stdio dropped what it
    // held (and the reason) then: ask the descriptor once more. A newline
    // does no harm at the end of a report cut short.
    error = ::write(STDOUT_FILENO, "\n", 1) < 0 ? errno : EIO;
  }
  if (error == EPIPE) die_of_sigpipe();
  reported = true;
  std::cerr << "triage: cannot write to standard output: " << std::strerror(error) << "\n";
  return kExitSoftware;
}

bool wants_nagios(const std::vector<std::string>& args) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto& a = args[i];
    if ((a == "-f" || a == "--format") && i + 1 < args.size() && args[i + 1] == "nagios")
      return true;
    if (a == "--format=nagios" || a == "-fnagios") return true;
    if (a == "--") break;
  }
  return false;
}

namespace {

// Counts what goes through a stream buffer, passing it on.
class CountingBuf : public std::streambuf {
 public:
  explicit CountingBuf(std::streambuf* inner) : inner_(inner) {}
  std::size_t count() const { return count_; }

 protected:
  int_type overflow(int_type c) override {
    if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
    ++count_;
    return inner_->sputc(traits_type::to_char_type(c));
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    count_ += static_cast<std::size_t>(n);
    return inner_->sputn(s, n);
  }
  int sync() override { return inner_->pubsync(); }

 private:
  std::streambuf* inner_;
  std::size_t count_ = 0;
};

// Keeps what goes through a stream buffer, passing it on.
class TeeBuf : public std::streambuf {
 public:
  explicit TeeBuf(std::streambuf* inner) : inner_(inner) {}
  const std::string& text() const { return text_; }

 protected:
  int_type overflow(int_type c) override {
    if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
    if (text_.size() < 4096) text_ += traits_type::to_char_type(c);
    return inner_->sputc(traits_type::to_char_type(c));
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    if (text_.size() < 4096) text_.append(s, static_cast<std::size_t>(n));
    return inner_->sputn(s, n);
  }
  int sync() override { return inner_->pubsync(); }

 private:
  std::streambuf* inner_;
  std::string text_;
};

// Restores a stream's buffer when the scope ends.
class Redirect {
 public:
  Redirect(std::ostream& stream, std::streambuf* buf) : stream_(stream), old_(stream.rdbuf(buf)) {}
  ~Redirect() { stream_.rdbuf(old_); }
  Redirect(const Redirect&) = delete;
  Redirect& operator=(const Redirect&) = delete;
  std::streambuf* old() const { return old_; }

 private:
  std::ostream& stream_;
  std::streambuf* old_;
};

}  // namespace

int with_nagios_fallback(const std::vector<std::string>& args,
                         int (*command)(const std::vector<std::string>&)) {
  CountingBuf out(std::cout.rdbuf());
  TeeBuf err(std::cerr.rdbuf());
  int code = 0;
  {
    const Redirect keep_out(std::cout, &out);
    const Redirect keep_err(std::cerr, &err);
    code = command(args);
    std::cout.flush();
  }
  if (code >= 0 && code <= 3) return code;
  if (out.count() > 0) return code;  // a report was printed: its code stands
  std::string why = err.text().substr(0, err.text().find('\n'));
  if (why.rfind("triage", 0) == 0 && why.find(": ") != std::string::npos)
    why = why.substr(why.find(": ") + 2);  // "triage run: " adds nothing here
  if (why.empty()) why = "exit code " + std::to_string(code);
  std::cout << core::nagios_unknown_line(why);
  return finish_stdout(3);
}

SavedReport read_saved_report(const std::string& command, const std::string& file,
                              const std::string& cannot_read_hint) {
  constexpr int kExitDataErr = 65;  // EX_DATAERR
  constexpr int kExitNoInput = 66;  // EX_NOINPUT
  // A report of 100,000 checks is well under this; a bigger file is not one.
  constexpr std::size_t kMaxReportBytes = 512u << 20;
  const std::string name = file == "-" ? "standard input" : core::escape_control(file);
  const std::string said = "triage " + command + ": " + name;
  std::string text;
  if (file == "-") {
    std::ostringstream in;
    in << std::cin.rdbuf();
    text = in.str();
  } else {
    std::error_code ec;
    if (std::filesystem::is_directory(file, ec)) {
      std::cerr << said << " is a folder, not a report\n";
      return {{}, kExitNoInput};
    }
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      std::cerr << "triage " << command << ": cannot read " << name << " ("
                << std::generic_category().message(errno) << ")" << cannot_read_hint << "\n";
      return {{}, kExitNoInput};
    }
    std::ostringstream buffer;
    buffer << in.rdbuf();
    text = buffer.str();
  }
  if (text.size() > kMaxReportBytes) {
    std::cerr << said << " is larger than 512 MiB: not a triage report\n";
    return {{}, kExitDataErr};
  }
  try {
    auto report = nlohmann::ordered_json::parse(text);
    core::check_report_shape(report);
    return {std::move(report), 0};
  } catch (const nlohmann::json::parse_error& e) {
    std::cerr << said << " is not JSON (byte " << e.byte << ")\n";
  } catch (const std::exception& e) {
    std::cerr << said << " is not a triage report: " << core::escape_control(e.what()) << "\n";
  }
  return {{}, kExitDataErr};
}

}  // namespace triage::cli
