// `triage plugin`: the plugin author's commands. Dispatches to new, info and
// validate; `triage plugin new` lives here too.
#include <iostream>

#include "commands.hpp"
#include "options.hpp"
#include "output.hpp"
#include "triage/core/plugin_host.hpp"
#include "triage/core/scaffold.hpp"

namespace triage::cli {

namespace {

constexpr const char* kUsage = R"(Usage: triage plugin <command> [options]

Commands for plugin authors:
  new NAME       write a ready-to-build plugin project (one check, a unit test)
  info FILE      show a plugin file's descriptor, check types and params
  validate FILE  run the conformance kit on a plugin file (pass/fail table)

Try 'triage plugin <command> --help' for the options of each.

Examples:
  triage plugin new disk-age --dir ~/src/disk-age
  triage plugin info build/disk-age.so
  triage plugin validate build/disk-age.so
)";

constexpr const char* kNewHelp = R"(Usage: triage plugin new NAME [--dir DIR]

Writes a plugin project named NAME (a lower-case letter, then lower-case
letters, digits, '_' or '-') into DIR (default: ./NAME): a CMakeLists.txt
using find_package(TriageSDK), one check type (`file`: a file exists and is
recent enough) with its params schema, a Catch2 unit test through
triage/testing.hpp, and a README. It builds and its tests pass as written.

DIR must not exist, or be an empty folder of yours (not a symbolic link).
Nothing is ever overwritten and no symbolic link is followed: a file or link
in the way stops it, named, and is left untouched (exit 73).

Examples:
  triage plugin new disk-age
  triage plugin new backup-checks --dir ~/src/backup-checks

)";

// The prefix the SDK was installed with: beside this triage binary.
std::string sdk_prefix_hint() {
  const auto exe = core::default_host_options(false).executable;
  return exe.parent_path().parent_path().string();
}

}  // namespace

int cmd_plugin_new(const std::vector<std::string>& args) {
  std::string name, dir;
  bool help = false;
  po::options_description desc("Options");
  desc.add_options()("dir,d", po::value(&dir)->value_name("DIR"),
                     "the project folder (default: ./NAME)")("help,h", po::bool_switch(&help),
                                                             "show this help");
  if (auto stop = parse_one_arg({"plugin new", kNewHelp, "name", "give the plugin's NAME"}, args,
                                desc, name, help))
    return *stop;
  if (!core::scaffold::valid_name(name))
    return usage_error("plugin new",
                       "invalid plugin name '" + name +
                           "': use a lower-case letter, then lower-case letters, digits, '_' or "
                           "'-' (e.g. disk-age)",
                       desc);
  if (dir.empty()) dir = name;
  try {
    const auto written = core::scaffold::write(name, dir);
    std::cout << "Wrote plugin project '" << name << "' in " << dir << "/:\n";
    for (const auto& f : written) std::cout << "  " << f.string() << "\n";
    std::cout << "\nNext:\n"
              << "  cd " << dir << "\n"
              << "  cmake -B build -DCMAKE_PREFIX_PATH=" << sdk_prefix_hint() << "\n"
              << "  cmake --build build\n"
              << "  ctest --test-dir build --output-on-failure\n"
              << "  triage plugin validate build/" << name << ".so\n";
    return 0;
  } catch (const core::scaffold::ScaffoldError& e) {
    std::cerr << "triage plugin new: " << e.what() << "\n";
    return kExitCantCreate;
  }
}

namespace {

// The command; cmd_plugin below checks that what it printed reached stdout.
int plugin_command(const std::vector<std::string>& args) {
  if (args.empty()) {
    std::cerr << kUsage;
    return kExitUsage;
  }
  if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << kUsage;
    return 0;
  }
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "new") return cmd_plugin_new(rest);
  if (args[0] == "info") return cmd_plugin_info(rest);
  if (args[0] == "validate") return cmd_plugin_validate(rest);
  std::string hint;
  if (auto near = core::closest_match(args[0], {"new", "info", "validate"}))
    hint = " (did you mean '" + *near + "'?)";
  std::cerr << "triage plugin: unknown command '" << args[0] << "'" << hint
            << "\nTry 'triage plugin --help' for the commands.\n";
  return kExitUsage;
}

}  // namespace

int cmd_plugin(const std::vector<std::string>& args) {
  return finish_stdout(plugin_command(args));
}

}  // namespace triage::cli
