#include "report_schema.hpp"

#include <fstream>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validator.hpp>

namespace triage::test {

std::string report_schema_errors(const nlohmann::json& report) {
  static const nlohmann::json schema_doc = [] {
    std::ifstream in(TRIAGE_REPORT_SCHEMA);
    return nlohmann::json::parse(in);
  }();
  valijson::Schema schema;
  valijson::SchemaParser parser;
  valijson::adapters::NlohmannJsonAdapter schema_adapter(schema_doc);
  parser.populateSchema(schema_adapter, schema);
  valijson::Validator validator;
  valijson::ValidationResults results;
  valijson::adapters::NlohmannJsonAdapter doc_adapter(report);
  validator.validate(schema, doc_adapter, &results);
  std::string errors;
  valijson::ValidationResults::Error error;
  while (results.popError(error)) {
    for (const auto& part : error.context) errors += part;
    errors += ": " + error.description + "\n";
  }
  return errors;
}

}  // namespace triage::test
