// What the streaming tests share: a mock cluster with a known layout, and
// running a check against it with the testing kit.
#pragma once

#include <dirent.h>

#include <chrono>
#include <map>
#include <string>

#include <nlohmann/json.hpp>
#include <triage/testing.hpp>

#include "services.hpp"

namespace triage::streaming::test {

// A KafkaMock and the leaders of the topics the test made.
struct Cluster {
  triage::test::KafkaMock mock{3};
  std::map<std::string, std::map<int, int>> leaders;  // topic → partition → broker id

  void topic(const std::string& name, int partitions) {
    const auto layout = mock.create_topic(name, partitions, 3);
    for (const auto& p : layout.at("partitions"))
      leaders[name][p.at("partition").get<int>()] = p.at("leader").get<int>();
  }
  // "127.0.0.1:PORT" of broker id.
  std::string address(int id) const {
    for (const auto& b : mock.brokers())
      if (b.id == id) return "127.0.0.1:" + std::to_string(b.port);
    return "";
  }
  nlohmann::json params(nlohmann::json more = nlohmann::json::object()) const {
    more["target"] = mock.bootstrap();
    return more;
  }
};

template <class Check>
triage::testing::Result run(const nlohmann::json& params,
                            std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  return triage::testing::run<Check>(params, {timeout});
}

// Entries in a /proc/self folder (threads: task, descriptors: fd).
inline int count_entries(const char* dir) {
  int n = 0;
  if (DIR* d = ::opendir(dir)) {
    while (const dirent* e = ::readdir(d))
      if (e->d_name[0] != '.') ++n;
    ::closedir(d);
  }
  return n;
}

}  // namespace triage::streaming::test
