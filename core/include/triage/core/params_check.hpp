// Validates check params against the JSON Schema each check type declares.
#pragma once

#include <map>
#include <memory>

#include "triage/core/config.hpp"
#include "triage/core/plugin_loader.hpp"

namespace triage::core {

// Compiles each check type's schema once and checks params against it.
class ParamsChecker {
 public:
  ParamsChecker();
  ~ParamsChecker();
  // Throws ConfigError "FILE:LINE: checks[ID].params.NAME: what is wrong".
  void check(const CheckSpec& spec, const CheckType& type);

 private:
  struct Compiled;
  const Compiled* compile(const CheckType& type);
  std::map<const CheckType*, std::unique_ptr<Compiled>> cache_;
};

}  // namespace triage::core
