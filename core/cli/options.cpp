#include "options.hpp"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>

#include "triage/core/report.hpp"
#include "triage/core/text_format.hpp"

namespace triage::cli {

namespace {

// One JSON object per line on stderr, for log shippers.
class JsonLineSink : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    const nlohmann::ordered_json line{
        {"time", core::iso8601(
                     std::chrono::time_point_cast<std::chrono::system_clock::duration>(msg.time))},
        {"level", spdlog::level::to_string_view(msg.level).data()},
        {"message", std::string(msg.payload.data(), msg.payload.size())}};
    std::cerr << line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace)
              << '\n';
  }
  void flush_() override { std::cerr.flush(); }
};

// Passes each line on to the real sink with the run's secrets replaced by
// "***". Installed from the start with no secrets; set_log_secrets fills them
// in once the config is read.
class RedactingSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  // escape: make control characters visible (text lines; JSON lines escape
  // them already).
  explicit RedactingSink(std::shared_ptr<spdlog::sinks::sink> inner, bool escape = true)
      : inner_(std::move(inner)), escape_(escape) {}
  void set_secrets(const core::Secrets& secrets) {
    std::lock_guard lock(mutex_);
    secrets_ = secrets;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    // A log line is one line: a plugin's message cannot forge another one.
    std::string text = secrets_.redact(std::string_view(msg.payload.data(), msg.payload.size()));
    if (escape_) text = core::escape_control(text);
    spdlog::details::log_msg redacted = msg;
    redacted.payload = spdlog::string_view_t(text.data(), text.size());
    inner_->log(redacted);
  }
  void flush_() override { inner_->flush(); }
  void set_pattern_(const std::string& pattern) override { inner_->set_pattern(pattern); }
  void set_formatter_(std::unique_ptr<spdlog::formatter> formatter) override {
    inner_->set_formatter(std::move(formatter));
  }

 private:
  std::shared_ptr<spdlog::sinks::sink> inner_;
  bool escape_;
  core::Secrets secrets_;
};

}  // namespace

void add_common_options(po::options_description& desc, Common& common) {
  desc.add_options()("plugin-dir", po::value(&common.plugin_dirs)->composing()->value_name("DIR"),
                     "also load plugins from DIR, before the default folders (repeatable)")(
      "allow-insecure-plugins", po::bool_switch(&common.allow_insecure_plugins),
      "load plugin files even when users other than root or you could have modified them "
      "(group/world-writable, or owned by someone else)")(
      "verbose,v", po::bool_switch(&common.verbose), "log debug detail to stderr")(
      "quiet,q", po::bool_switch(&common.quiet),
      "print only the report: no log lines below error on stderr")(
      "color", po::value(&common.color)->default_value("auto")->value_name("WHEN"),
      "colour on a terminal: auto (a terminal, NO_COLOR unset), always or never")(
      "log-format", po::value(&common.log_format)->default_value("text")->value_name("FORMAT"),
      "stderr log lines as 'text' or 'json'")("help,h", po::bool_switch(&common.help),
                                              "show this help");
}

po::variables_map parse(const std::vector<std::string>& args, const po::options_description& desc,
                        const po::positional_options_description* positional) {
  po::variables_map vm;
  auto parser = po::command_line_parser(args).options(desc);
  if (positional != nullptr)
    parser.positional(*positional);
  else
    parser.positional(po::positional_options_description());
  po::store(
      parser.style(po::command_line_style::default_style & ~po::command_line_style::allow_guessing)
          .run(),
      vm);
  po::notify(vm);
  return vm;
}

std::optional<int> parse_one_arg(const OneArgCommand& cmd, const std::vector<std::string>& args,
                                 const po::options_description& desc, std::string& arg,
                                 const bool& help) {
  po::options_description all;
  all.add(desc).add_options()(cmd.arg_name.c_str(), po::value(&arg));
  po::positional_options_description positional;
  positional.add(cmd.arg_name.c_str(), 1);
  try {
    parse(args, all, &positional);
  } catch (const po::error& e) {
    return usage_error(cmd.command, e.what(), desc);
  }
  if (help) {
    std::cout << cmd.help << desc << "\n";
    return 0;
  }
  if (arg.empty()) return usage_error(cmd.command, cmd.missing, desc);
  return std::nullopt;
}

int usage_error(const std::string& command, const std::string& what,
                const po::options_description& desc) {
  std::string message = what;
  // Boost says "unrecognised option '--jbos'"; add the closest real one.
  const auto quote = what.find('\'');
  if (what.find("unrecognised option") != std::string::npos && quote != std::string::npos) {
    std::string given = what.substr(quote + 1, what.rfind('\'') - quote - 1);
    while (!given.empty() && given.front() == '-') given.erase(0, 1);
    given = given.substr(0, given.find('='));
    std::vector<std::string> names;
    for (const auto& opt : desc.options()) names.push_back(opt->long_name());
    if (auto near = core::closest_match(given, names))
      message += " (did you mean '--" + *near + "'?)";
  }
  std::cerr << "triage " << command << ": " << message << "\n"
            << "Try 'triage " << command << " --help' for the options.\n";
  return kExitUsage;
}

std::optional<int> check_common(const std::string& command, const Common& common,
                                const po::options_description& desc) {
  if (common.log_format != "text" && common.log_format != "json")
    return usage_error(
        command, "--log-format must be 'text' or 'json', not '" + common.log_format + "'", desc);
  if (common.color != "auto" && common.color != "always" && common.color != "never")
    return usage_error(
        command, "--color must be 'auto', 'always' or 'never', not '" + common.color + "'", desc);
  if (common.quiet && common.verbose)
    return usage_error(command, "--quiet and --verbose contradict each other", desc);
  return std::nullopt;
}

void setup_logging(const Common& common) {
  std::shared_ptr<spdlog::sinks::sink> sink;
  if (common.log_format == "json") {
    sink = std::make_shared<JsonLineSink>();
  } else {
    auto colour = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    colour->set_color_mode(wants_color(common.color, STDERR_FILENO) ? spdlog::color_mode::always
                                                                    : spdlog::color_mode::never);
    sink = colour;
  }
  auto logger = std::make_shared<spdlog::logger>(
      "triage", std::make_shared<RedactingSink>(std::move(sink), common.log_format != "json"));
  if (common.log_format != "json") logger->set_pattern("%^triage: %l:%$ %v");
  logger->set_level(common.verbose ? spdlog::level::debug
                    : common.quiet ? spdlog::level::err
                                   : spdlog::level::warn);
  spdlog::set_default_logger(logger);
}

void set_log_secrets(const core::Secrets& secrets) {
  auto logger = spdlog::default_logger();
  bool redacting = false;
  for (const auto& sink : logger->sinks())
    if (auto r = std::dynamic_pointer_cast<RedactingSink>(sink)) {
      r->set_secrets(secrets);
      redacting = true;
    }
  if (redacting || secrets.empty()) return;
  // Logging was never set up (spdlog's own default logger): wrap its sinks.
  std::vector<spdlog::sink_ptr> sinks;
  for (const auto& sink : logger->sinks()) {
    auto r = std::make_shared<RedactingSink>(sink);
    r->set_secrets(secrets);
    sinks.push_back(std::move(r));
  }
  auto wrapped = std::make_shared<spdlog::logger>(logger->name(), sinks.begin(), sinks.end());
  wrapped->set_level(logger->level());
  spdlog::set_default_logger(wrapped);
}

void protect_secrets(core::Config& config, const core::PluginRegistry& registry) {
  core::add_declared_secrets(config, registry);
  set_log_secrets(config.secrets);
}

void load_plugins(core::PluginRegistry& registry, const Common& common) {
  if (common.allow_insecure_plugins) {
    spdlog::warn("--allow-insecure-plugins: loading plugins others can modify");
    registry.set_allow_insecure(true);
  }
  std::vector<std::filesystem::path> dirs;
  for (const auto& d : common.plugin_dirs) {
    std::error_code ec;
    if (!std::filesystem::is_directory(d, ec))
      spdlog::warn("--plugin-dir {}: not a folder (ignored)", d);
    dirs.emplace_back(d);
  }
  for (const auto& dir : core::plugin_search_path(dirs)) registry.load_directory(dir);
}

core::Config load_config_or_default(const std::string& path) {
  core::Config config;
  if (path == "-") {
    config = core::parse_config(core::read_config_text(STDIN_FILENO, "<stdin>"), "<stdin>");
  } else {
    config = path.empty() ? core::default_config() : core::load_config(path);
  }
  set_log_secrets(config.secrets);
  return config;
}

std::string discover_config(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("TRIAGE_CONFIG"); env != nullptr && *env != '\0') return env;
  std::error_code ec;
  if (std::filesystem::exists(kSystemConfig, ec)) return kSystemConfig;
  return {};
}

bool wants_color(const std::string& mode, int fd) {
  if (mode == "always") return true;
  if (mode == "never") return false;
  const char* no_color = std::getenv("NO_COLOR");
  const char* term = std::getenv("TERM");
  return isatty(fd) != 0 && (no_color == nullptr || *no_color == '\0') &&
         !(term != nullptr && std::string(term) == "dumb");
}

}  // namespace triage::cli
