// The ABI guard: compares the layout of the SDK's public C types (abi_layout.c)
// with a stored baseline, and fails on any change that would break a plugin
// built against that baseline. Rules (docs/abi.md):
//   - a constant keeps its value (TRIAGE_ABI_MINOR may only grow);
//   - a struct never shrinks; a field keeps its offset and size;
//   - a new field is allowed only at or past the baseline's end of the struct.
//
//   abi_check --print            prints the current layout (a new baseline)
//   abi_check BASELINE           exit 0 when compatible, 1 with every break
#include <cstdint>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include <triage/plugin.h>

#include "abi_layout.h"

// Function signatures cannot be seen through sizeof; pin them at compile time.
// A failure here means a signature changed: add a new "v2" entry instead.
static_assert(std::is_same_v<decltype(triage_host_api::set_status),
                             triage_rc (*)(triage_check_ctx, int32_t, const char*, uint64_t)>);
static_assert(std::is_same_v<decltype(triage_host_api::emit_metric),
                             triage_rc (*)(triage_check_ctx, const triage_metric*)>);
static_assert(std::is_same_v<decltype(triage_host_api::add_finding),
                             triage_rc (*)(triage_check_ctx, const triage_finding*)>);
static_assert(
    std::is_same_v<decltype(triage_host_api::set_attribute),
                   triage_rc (*)(triage_check_ctx, const char*, uint64_t, const char*, uint64_t)>);
static_assert(std::is_same_v<decltype(triage_host_api::log),
                             triage_rc (*)(triage_check_ctx, int32_t, const char*, uint64_t)>);
static_assert(
    std::is_same_v<decltype(triage_host_api::is_cancelled), int32_t (*)(triage_check_ctx)>);
static_assert(std::is_same_v<decltype(triage_host_api::get_deadline),
                             triage_rc (*)(triage_check_ctx, int64_t*)>);
static_assert(std::is_same_v<decltype(triage_host_api::set_error),
                             triage_rc (*)(triage_check_ctx, const char*, uint64_t)>);
static_assert(std::is_same_v<triage_run_fn, triage_rc (*)(const triage_host_api*, triage_check_ctx,
                                                          const char*, uint64_t, void*)>);
static_assert(
    std::is_same_v<triage_init_fn, triage_rc (*)(const triage_host_api*,
                                                 const triage_check_type* const**, uint32_t*)>);
static_assert(std::is_same_v<triage_plugin_entry_fn, const triage_plugin_descriptor* (*)()>);
static_assert(std::is_same_v<triage_rc, int32_t>);
// ABI 1.1: the check type's declared metrics.
static_assert(
    std::is_same_v<decltype(triage_check_type::metrics), const triage_metric_decl* const*>);
static_assert(std::is_same_v<decltype(triage_check_type::metric_count), uint32_t>);
static_assert(std::is_same_v<decltype(triage_metric_decl::name), const char*>);

namespace {

struct Layout {
  std::map<std::string, std::uint64_t> constants;  // name -> value
  std::map<std::string, std::uint64_t> structs;    // name -> size
  struct Field {
    std::string owner;
    std::uint64_t offset = 0;
    std::uint64_t size = 0;
  };
  std::map<std::string, Field> fields;  // "struct.field" -> where
  std::string entry_point;
};

Layout current() {
  Layout l;
  std::size_t n = 0;
  const abi_entry* e = abi_layout(&n);
  for (std::size_t i = 0; i < n; ++i) {
    if (e[i].kind == ABI_CONST) l.constants[e[i].name] = e[i].a;
    if (e[i].kind == ABI_STRUCT) l.structs[e[i].scope] = e[i].a;
    if (e[i].kind == ABI_FIELD)
      l.fields[std::string(e[i].scope) + "." + e[i].name] = {e[i].scope, e[i].a, e[i].b};
  }
  l.entry_point = abi_entry_point_name();
  return l;
}

void print(const Layout& l, std::ostream& out) {
  out << "# Triage plugin ABI layout (tests/abi/abi_check --print). Never edit a line;\n"
         "# only append what a minor release appends. See docs/abi.md.\n";
  out << "entry " << l.entry_point << "\n";
  for (const auto& [name, value] : l.constants) out << "const " << name << " " << value << "\n";
  for (const auto& [name, size] : l.structs) out << "struct " << name << " size=" << size << "\n";
  for (const auto& [name, f] : l.fields)
    out << "field " << name << " offset=" << f.offset << " size=" << f.size << "\n";
}

// "key=123" -> 123; throws on anything else.
std::uint64_t number(const std::string& word, const std::string& key) {
  if (word.rfind(key + "=", 0) != 0) throw std::runtime_error("expected " + key + "=N: " + word);
  return std::stoull(word.substr(key.size() + 1));
}

Layout parse(std::istream& in) {
  Layout l;
  std::string line;
  int number_of_line = 0;
  while (std::getline(in, line)) {
    ++number_of_line;
    if (line.empty() || line[0] == '#') continue;
    std::istringstream words(line);
    std::string kind, name, a, b;
    words >> kind >> name >> a >> b;
    try {
      if (kind == "entry") {
        l.entry_point = name;
      } else if (kind == "const") {
        l.constants[name] = std::stoull(a);
      } else if (kind == "struct") {
        l.structs[name] = number(a, "size");
      } else if (kind == "field") {
        const auto dot = name.find('.');
        if (dot == std::string::npos) throw std::runtime_error("field without struct: " + name);
        l.fields[name] = {name.substr(0, dot), number(a, "offset"), number(b, "size")};
      } else {
        throw std::runtime_error("unknown line kind '" + kind + "'");
      }
    } catch (const std::exception& e) {
      throw std::runtime_error("baseline line " + std::to_string(number_of_line) + ": " + e.what());
    }
  }
  return l;
}

std::vector<std::string> breaks(const Layout& base, const Layout& now) {
  std::vector<std::string> out;
  if (!base.entry_point.empty() && base.entry_point != now.entry_point)
    out.push_back("entry point renamed: " + base.entry_point + " -> " + now.entry_point);
  for (const auto& [name, value] : base.constants) {
    const auto it = now.constants.find(name);
    if (it == now.constants.end())
      out.push_back("constant removed: " + name);
    else if (name == "TRIAGE_ABI_MINOR" ? it->second < value : it->second != value)
      out.push_back("constant changed: " + name + " " + std::to_string(value) + " -> " +
                    std::to_string(it->second));
  }
  for (const auto& [name, size] : base.structs) {
    const auto it = now.structs.find(name);
    if (it == now.structs.end())
      out.push_back("struct removed: " + name);
    else if (it->second < size)
      out.push_back("struct shrank: " + name + " " + std::to_string(size) + " -> " +
                    std::to_string(it->second) + " bytes");
  }
  for (const auto& [name, f] : base.fields) {
    const auto it = now.fields.find(name);
    if (it == now.fields.end())
      out.push_back("field removed or renamed: " + name);
    else if (it->second.offset != f.offset)
      out.push_back("field moved: " + name + " offset " + std::to_string(f.offset) + " -> " +
                    std::to_string(it->second.offset));
    else if (it->second.size != f.size)
      out.push_back("field resized: " + name + " " + std::to_string(f.size) + " -> " +
                    std::to_string(it->second.size) + " bytes");
  }
  for (const auto& [name, f] : now.fields) {
    if (base.fields.count(name) != 0) continue;
    const auto owner = base.structs.find(f.owner);
    if (owner != base.structs.end() && f.offset < owner->second)
      out.push_back("field inserted inside the 1.0 part of the struct: " + name + " at offset " +
                    std::to_string(f.offset) + " (the baseline ends at " +
                    std::to_string(owner->second) + "); append it after the last field");
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string arg = argc == 2 ? argv[1] : "";
  if (arg.empty() || arg == "--help") {
    std::cerr << "usage: abi_check --print | abi_check BASELINE\n";
    return 2;
  }
  if (arg == "--print") {
    print(current(), std::cout);
    return 0;
  }
  std::ifstream file(arg);
  if (!file) {
    std::cerr << "abi_check: cannot read " << arg << "\n";
    return 2;
  }
  try {
    const auto found = breaks(parse(file), current());
    if (found.empty()) {
      std::cout << "abi_check: compatible with " << arg << "\n";
      return 0;
    }
    std::cout << "abi_check: the SDK headers break the ABI recorded in " << arg << ":\n";
    for (const auto& b : found) std::cout << "  " << b << "\n";
    std::cout << "A 1.x plugin built against the baseline would misbehave. Append new fields at\n"
                 "the end of a struct instead, or add a new entry point; see docs/abi.md.\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "abi_check: " << e.what() << "\n";
    return 2;
  }
}
