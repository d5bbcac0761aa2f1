// Fills the embedded templates in and writes the project, refusing to write
// over anything that is already there.
#include "triage/core/scaffold.hpp"

#include <fstream>
#include <regex>

namespace triage::core::scaffold {

namespace {

std::string replace_all(std::string text, std::string_view from, std::string_view to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

}  // namespace

bool valid_name(std::string_view name) {
  static const std::regex kName("[a-z][a-z0-9_-]*");
  return std::regex_match(name.begin(), name.end(), kName);
}

std::vector<File> files(std::string_view name) {
  std::string ident(name);
  for (auto& c : ident)
    if (c == '-') c = '_';
  std::vector<File> out;
  for (const auto& t : templates())
    out.push_back({t.path, replace_all(replace_all(t.content, "@NAME@", name), "@IDENT@", ident)});
  return out;
}

std::vector<std::filesystem::path> write(std::string_view name, const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  if (!valid_name(name))
    throw ScaffoldError("invalid plugin name '" + std::string(name) +
                        "': use a lower-case letter, then lower-case letters, digits, '_' or '-'");
  std::error_code ec;
  if (fs::exists(dir, ec)) {
    if (!fs::is_directory(dir, ec))
      throw ScaffoldError(dir.string() + " exists and is not a folder");
    if (!fs::is_empty(dir, ec))
      throw ScaffoldError(dir.string() + " exists and is not empty: refusing to overwrite it");
  }
  std::vector<fs::path> written;
  for (const auto& f : files(name)) {
    const fs::path path = dir / f.path;
    fs::create_directories(path.parent_path(), ec);
    if (ec)
      throw ScaffoldError("cannot create " + path.parent_path().string() + ": " + ec.message());
    std::ofstream out(path, std::ios::binary);
    out << f.content;
    out.close();
    if (!out) throw ScaffoldError("cannot write " + path.string());
    written.push_back(path);
  }
  return written;
}

}  // namespace triage::core::scaffold
