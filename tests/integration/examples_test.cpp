// The example configs in examples/ are documentation users copy: each must
// load (params checked against the plugins' schemas) and keep its secrets out
// of what `triage list` prints.
#include <catch2/catch.hpp>
#include <filesystem>
#include <regex>
#include <string>

#include "helpers.hpp"

using namespace triage::itest;

TEST_CASE("every example config loads and lists its checks", "[examples]") {
  const std::filesystem::path dir = std::filesystem::path(TRIAGE_SOURCE_DIR) / "examples";
  const std::string sas = "sv=2022-11-02&sp=rl&se=2030-01-01T00:00:00Z&sig=c2VjcmV0LXNpZw%3D%3D";
  // The shape of an Event Hubs connection string (the SASL password).
  const std::string hub =
      "Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=triage;"
      "SharedAccessKey=c2VjcmV0LXNpZw==";
  int configs = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".yaml") continue;
    ++configs;
    const auto r = run_triage({"list", "--config", entry.path().string()},
                              RunEnv{{{"AZURE_STORAGE_SAS", sas},
                                      {"EVENTHUB_CONNECTION_STRING", hub},
                                      {"PROMETHEUS_TOKEN", "prom-c2VjcmV0LXNpZw"},
                                      {"DATABRICKS_TOKEN", "dapi-c2VjcmV0LXNpZw"},
                                      {"AZURE_CLIENT_SECRET", "Qx8Q~c2VjcmV0LXNpZw"}}});
    INFO(entry.path().string() << "\n" << describe(r));
    CHECK(r.exit_code == 0);
    CHECK_FALSE(r.out.empty());
    CHECK(r.out.find("c2VjcmV0LXNpZw") == std::string::npos);
    CHECK(r.err.find("c2VjcmV0LXNpZw") == std::string::npos);
  }
  CHECK(configs >= 2);
}

TEST_CASE("examples/platform.yaml covers the runbook's RPO table", "[examples]") {
  const auto config = std::string(TRIAGE_SOURCE_DIR) + "/examples/platform.yaml";
  const auto r =
      run_triage({"list", "--config", config, "--tag", "rpo"},
                 RunEnv{{{"AZURE_STORAGE_SAS", "sv=1&sig=x"}, {"AZURE_CLIENT_SECRET", "secret"}}});
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  for (const std::string id : {"rpo-data-lake", "rpo-kafka", "rpo-databricks", "rpo-power-bi"}) {
    INFO(id);
    CHECK(std::regex_search(r.out, std::regex("\n" + id + " +storage\\.freshness ")));
  }
  // The Data Lake's 1 h: new data under the lake, and the paired region.
  CHECK(std::regex_search(r.out, std::regex("\nlake-bronze-rpo +storage\\.blob ")));
  CHECK(std::regex_search(r.out, std::regex("\nlake-geo-replication +storage\\.geo_replication ")));
}

TEST_CASE("examples/platform.yaml covers the runbook's control-plane reviews", "[examples]") {
  const auto config = std::string(TRIAGE_SOURCE_DIR) + "/examples/platform.yaml";
  const auto r = run_triage({"list", "--config", config, "--tag", "control-plane"},
                            RunEnv{{{"DATABRICKS_TOKEN", "dapi-x"}, {"AZURE_CLIENT_SECRET", "y"}}});
  INFO(describe(r));
  REQUIRE(r.exit_code == 0);
  CHECK(std::regex_search(r.out, std::regex("\ndatabricks +cluster\\.databricks ")));
  CHECK(std::regex_search(r.out, std::regex("\naks +cluster\\.kubernetes ")));
  CHECK(std::regex_search(r.out, std::regex("\nquota-westeurope +cluster\\.azure_quota ")));
}
