// The static parts of `triage plugin validate` and `triage plugin new`:
// descriptor and schema rules, params generated from a schema, plugin names.
#include <catch2/catch.hpp>

#include "triage/core/conformance.hpp"
#include "triage/core/scaffold.hpp"

namespace conf = triage::core::conformance;
namespace scaffold = triage::core::scaffold;
using nlohmann::json;

namespace {

bool mentions(const std::vector<std::string>& problems, const std::string& part) {
  for (const auto& p : problems)
    if (p.find(part) != std::string::npos) return true;
  return false;
}

triage::core::Plugin good_plugin() {
  triage::core::Plugin p;
  p.name = "disk-age";
  p.version = "1.2.3-rc.1";
  p.description = "Disk checks";
  p.sdk_version = "1.0.0";
  p.abi_major = TRIAGE_ABI_MAJOR;
  p.types.push_back({"file", "A file is recent", R"({"type":"object"})", 0, nullptr, nullptr});
  return p;
}

}  // namespace

TEST_CASE("a well formed descriptor has no problems; each rule is checked", "[conformance]") {
  CHECK(conf::descriptor_problems(good_plugin()).empty());
  auto p = good_plugin();
  p.name = "Disk Age";
  p.version = "latest";
  p.description.clear();
  p.abi_major = TRIAGE_ABI_MAJOR + 1;
  p.types.push_back(p.types.front());
  p.types.back().description.clear();
  const auto problems = conf::descriptor_problems(p);
  CHECK(mentions(problems, "plugin name 'Disk Age'"));
  CHECK(mentions(problems, "version 'latest'"));
  CHECK(mentions(problems, "plugin description is empty"));
  CHECK(mentions(problems, "built for ABI"));
  CHECK(mentions(problems, "declared twice"));
  CHECK(mentions(problems, "has no description"));
}

TEST_CASE("params schemas must be draft-07 objects with described properties", "[conformance]") {
  CHECK(conf::schema_problems(R"({"type":"object","properties":{"target":{"type":"string",
        "description":"where"}},"required":["target"]})")
            .empty());
  CHECK(mentions(conf::schema_problems("{nope"), "not valid JSON"));
  CHECK(mentions(conf::schema_problems("[]"), "not a JSON object"));
  CHECK(mentions(conf::schema_problems(R"({"type":"array"})"), "\"type\": \"object\""));
  CHECK(mentions(conf::schema_problems(R"({"type":"object","properties":{"x":{"type":"string"}}})"),
                 "property 'x' has no description"));
  CHECK(mentions(conf::schema_problems(R"({"type":"object","required":["ghost"]})"), "\"ghost\""));
  CHECK(mentions(conf::schema_problems(R"({"type":"object","properties":{"x":{"type":7,
        "description":"d"}}})"),
                 "draft-07"));
}

TEST_CASE("params from a schema fill required properties by type and name", "[conformance]") {
  const json schema = json::parse(R"({"type":"object","properties":{
    "target":{"type":"string","description":"d"},
    "url":{"type":"string","description":"d"},
    "port":{"type":"integer","description":"d"},
    "mode":{"type":"string","enum":["fast","slow"],"description":"d"},
    "count":{"type":"integer","minimum":3,"description":"d"},
    "retries":{"type":"integer","default":5,"description":"d"},
    "verbose":{"type":"boolean","description":"d"},
    "optional":{"type":"string","description":"d"}},
    "required":["target","url","port","mode","count","retries","verbose"]})");
  const json params = conf::params_from_schema(schema, conf::Endpoint{"127.0.0.1", 4242});
  CHECK(params["target"] == "127.0.0.1:4242");
  CHECK(params["url"] == "http://127.0.0.1:4242/");
  CHECK(params["port"] == 4242);
  CHECK(params["mode"] == "fast");
  CHECK(params["count"] == 3);
  CHECK(params["retries"] == 5);
  CHECK(params["verbose"] == false);
  CHECK_FALSE(params.contains("optional"));

  const json moved = conf::retarget(params, conf::Endpoint{"127.0.0.1", 7});
  CHECK(moved["target"] == "127.0.0.1:7");
  CHECK(moved["url"] == "http://127.0.0.1:7/");
  CHECK(moved["port"] == 7);
  CHECK(moved["mode"] == "fast");
}

TEST_CASE("plugin names are lower-case identifiers with - and _", "[scaffold]") {
  for (const char* good : {"a", "disk-age", "net_2", "x9-y_z"}) CHECK(scaffold::valid_name(good));
  for (const char* bad : {"", "Disk", "9a", "-a", "a b", "a/b", "a.b", "ä"})
    CHECK_FALSE(scaffold::valid_name(bad));
}

TEST_CASE("the scaffold names the plugin everywhere and leaves no placeholder", "[scaffold]") {
  const auto files = scaffold::files("disk-age");
  REQUIRE(files.size() == scaffold::templates().size());
  bool cmake = false;
  for (const auto& f : files) {
    INFO(f.path);
    CHECK(f.content.find("@NAME@") == std::string::npos);
    CHECK(f.content.find("@IDENT@") == std::string::npos);
    if (f.path == "CMakeLists.txt") {
      cmake = true;
      CHECK(f.content.find("triage_add_plugin(disk-age ") != std::string::npos);
      CHECK(f.content.find("add_executable(disk_age_tests") != std::string::npos);
      // Installable where triage looks, and buildable without Catch2.
      CHECK(f.content.find("install(TARGETS disk-age LIBRARY DESTINATION "
                           "${TRIAGE_PLUGIN_INSTALL_DIR})") != std::string::npos);
      CHECK(f.content.find("find_package(Catch2 2 QUIET)") != std::string::npos);
      CHECK(f.content.find("if(Catch2_FOUND)") != std::string::npos);
    }
  }
  CHECK(cmake);
}

TEST_CASE("the params test mistypes only a required param", "[conformance]") {
  using triage::core::conformance::wrong_type_params;
  const nlohmann::json sample = {{"target", "127.0.0.1:1"}, {"path", "/tmp"}};
  SECTION("an optional target the check may ignore is left alone") {
    const auto schema = nlohmann::json::parse(R"({"type":"object","properties":{
      "target":{"type":"string","description":"ignored"},
      "path":{"type":"string","description":"a folder"}},"required":["path"]})");
    const auto wrong = wrong_type_params(sample, schema);
    REQUIRE(wrong);
    CHECK((*wrong)["target"] == "127.0.0.1:1");
    CHECK((*wrong)["path"] == 12345);
  }
  SECTION("nothing required: no wrong-type call") {
    const auto schema = nlohmann::json::parse(R"({"type":"object","properties":{
      "target":{"type":"string","description":"ignored"}}})");
    CHECK_FALSE(wrong_type_params(sample, schema));
  }
  SECTION("a required target is the one mistyped") {
    const auto schema = nlohmann::json::parse(R"({"type":"object","properties":{
      "path":{"type":"string","description":"a folder"},
      "target":{"type":"string","description":"where"}},"required":["path","target"]})");
    const auto wrong = wrong_type_params(sample, schema);
    REQUIRE(wrong);
    CHECK((*wrong)["target"] == 12345);
    CHECK((*wrong)["path"] == "/tmp");
  }
}
