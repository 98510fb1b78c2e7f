// The CRD's OpenAPI schema and the C++ spec model (common/spec) must agree: the same fields, the same
// defaults, ranges and enums, and the same verdict on the shared table of invalid manifests. Each check
// reads one side from the CRD file and the other from the model (struct initialisers or the parser), so a
// change on either side alone fails here.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "common/spec/limits.h"
#include "common/spec/parse.h"
#include "common/spec/pipeline.h"
#include "tests/crds/crd_cases.h"

namespace sluice::crdtest {
namespace {

using spec::ParseOutcome;
using spec::parsePipelineYaml;

YAML::Node loadCrd() { return YAML::LoadFile(std::string(SLUICE_SOURCE_DIR) + "/" + kCrdRelativePath); }

YAML::Node versionOf(const YAML::Node& crd) { return crd["spec"]["versions"][0]; }

YAML::Node rootSchema() {
  static const YAML::Node schema = versionOf(loadCrd())["schema"]["openAPIV3Schema"];
  return schema;
}

// The schema at a dotted path ("spec.batch.maxMessages"); "[]" steps into array items.
YAML::Node schemaAt(const std::string& path) {
  YAML::Node node = rootSchema();
  std::stringstream in(path);
  for (std::string part; std::getline(in, part, '.');) {
    const bool item = part.size() > 2 && part.compare(part.size() - 2, 2, "[]") == 0;
    if (item) part.resize(part.size() - 2);
    // reset(), not operator=: assigning a yaml-cpp node writes through to the node it refers to.
    node.reset(node["properties"][part]);
    if (!node.IsDefined()) return node;
    if (item) node.reset(node["items"]);
  }
  return node;
}

struct SchemaField {
  std::string path;  // dotted, "[]" after array fields whose items are objects
  YAML::Node schema;
};

// Every property of the schema, depth first.
void walk(const YAML::Node& schema, const std::string& path, std::vector<SchemaField>& out) {
  if (schema["properties"]) {
    for (const auto& property : schema["properties"]) {
      const std::string name = property.first.as<std::string>();
      const std::string child = path.empty() ? name : path + "." + name;
      out.push_back({child, property.second});
      walk(property.second, child, out);
    }
  }
  if (schema["items"]) {
    const YAML::Node items = schema["items"];
    if (items["properties"]) walk(items, path + "[]", out);
  }
}

std::vector<SchemaField> allFields() {
  std::vector<SchemaField> fields;
  walk(rootSchema(), "", fields);
  return fields;
}

bool isSpecLeaf(const SchemaField& f, const char* type) {
  return f.path.rfind("spec.", 0) == 0 && f.schema["type"] && f.schema["type"].as<std::string>() == type;
}

bool hasErrorAt(const ParseOutcome& outcome, const std::string& path, const std::string& fragment) {
  for (const auto& error : outcome.errors) {
    if (error.path == path && error.message.find(fragment) != std::string::npos) return true;
  }
  return false;
}

// Errors about the field's own value (as opposed to cross-field rules that name the same path).
bool hasValueErrorAt(const ParseOutcome& outcome, const std::string& path) {
  return hasErrorAt(outcome, path, "must be between") || hasErrorAt(outcome, path, "must be an integer") ||
         hasErrorAt(outcome, path, "must be a number") || hasErrorAt(outcome, path, "must be one of");
}

// The shortest text that reads back as the same double ("0.95", not "0.94999999999999996").
std::string formatNumber(double value) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::fixed);
  return std::string(buffer, result.ptr);
}

// ---------------------------------------------------------------------------------------------------------

TEST(CrdAgreementTest, NamesMatchTheModel) {
  const YAML::Node crd = loadCrd();
  EXPECT_EQ(crd["apiVersion"].as<std::string>(), "apiextensions.k8s.io/v1");
  EXPECT_EQ(crd["metadata"]["name"].as<std::string>(), std::string(spec::kPlural) + "." + spec::kGroup);
  EXPECT_EQ(crd["spec"]["group"].as<std::string>(), spec::kGroup);
  EXPECT_EQ(crd["spec"]["names"]["kind"].as<std::string>(), spec::kKind);
  EXPECT_EQ(crd["spec"]["names"]["plural"].as<std::string>(), spec::kPlural);
  EXPECT_EQ(crd["spec"]["scope"].as<std::string>(), "Namespaced");
  ASSERT_EQ(crd["spec"]["versions"].size(), 1u);
  const YAML::Node version = versionOf(crd);
  EXPECT_EQ(version["name"].as<std::string>(), spec::kVersion);
  EXPECT_TRUE(version["served"].as<bool>());
  EXPECT_TRUE(version["storage"].as<bool>());
  EXPECT_TRUE(version["subresources"]["status"].IsMap());
}

TEST(CrdAgreementTest, EveryPropertyHasADescription) {
  std::vector<std::string> missing;
  for (const auto& field : allFields()) {
    if (field.path == "metadata") continue;  // the API server forbids a description on the root metadata
    if (!field.schema["description"] || field.schema["description"].as<std::string>().size() < 5) {
      missing.push_back(field.path);
    }
  }
  EXPECT_TRUE(missing.empty()) << "fields without a description: " << ::testing::PrintToString(missing);
}

TEST(CrdAgreementTest, PrinterColumnsPointIntoTheSchema) {
  for (const auto& column : versionOf(loadCrd())["additionalPrinterColumns"]) {
    std::string path = column["jsonPath"].as<std::string>();
    if (path.rfind(".metadata.", 0) == 0) continue;
    path = std::regex_replace(path.substr(1), std::regex(R"(\[[^\]]*\])"), "[]");
    if (path.size() > 2 && path.compare(path.size() - 2, 2, "[]") == 0) path.resize(path.size() - 2);
    // ".status.conditions[?(...)].status" -> "status.conditions[].status"
    EXPECT_TRUE(schemaAt(path).IsDefined())
        << column["name"] << " points at " << path << ", which the schema lacks";
  }
}

// --- defaults
// ------------------------------------------------------------------------------------------------

// The model's defaults, read from default-constructed structs; YAML text as it would appear in the CRD.
struct DefaultRow {
  std::string path;
  std::string value;  // canonical text: integers, doubles via formatNumber, true/false, strings, "{}"
};

std::string text(int64_t v) { return std::to_string(v); }
std::string text(double v) { return formatNumber(v); }
std::string text(bool v) { return v ? "true" : "false"; }

std::vector<DefaultRow> modelDefaults() {
  const spec::KafkaSourceSpec kafka;
  const spec::NatsSourceSpec nats;
  const spec::TlsSpec tls;
  const spec::SaslSpec sasl;
  const spec::BatchSpec batch;
  const spec::ProcessingSpec processing;
  const spec::RetrySpec retry;
  const spec::BackpressureSpec backpressure;
  const spec::HttpSinkSpec http;
  const spec::NatsSinkSpec natsSink;
  const spec::ScalingSpec scaling;
  const spec::WorkerSpec worker;
  std::vector<DefaultRow> rows = {
      {"spec.source.kafka.startFrom", spec::toString(kafka.startFrom)},
      {"spec.source.nats.ackWaitSeconds", text(int64_t{nats.ackWaitSeconds})},
      {"spec.batch", "{}"},
      {"spec.batch.maxMessages", text(int64_t{batch.maxMessages})},
      {"spec.batch.maxBytes", text(batch.maxBytes)},
      {"spec.batch.maxWaitMs", text(int64_t{batch.maxWaitMs})},
      {"spec.processing", "{}"},
      {"spec.processing.concurrency", text(int64_t{processing.concurrency})},
      {"spec.processing.timeoutMs", text(int64_t{processing.timeoutMs})},
      {"spec.processing.retry", "{}"},
      {"spec.processing.retry.maxAttempts", text(int64_t{retry.maxAttempts})},
      {"spec.processing.retry.initialBackoffMs", text(int64_t{retry.initialBackoffMs})},
      {"spec.processing.retry.maxBackoffMs", text(int64_t{retry.maxBackoffMs})},
      {"spec.processing.retry.multiplier", text(retry.multiplier)},
      {"spec.processing.retry.jitter", text(retry.jitter)},
      {"spec.backpressure", "{}"},
      {"spec.backpressure.maxInFlightMessages", text(backpressure.maxInFlightMessages)},
      {"spec.backpressure.maxInFlightBytes", text(backpressure.maxInFlightBytes)},
      {"spec.backpressure.resumeRatio", text(backpressure.resumeRatio)},
      {"spec.sink.http.format", spec::toString(http.format)},
      {"spec.sink.http.timeoutMs", text(int64_t{http.timeoutMs})},
      {"spec.sink.nats.publish", spec::toString(natsSink.publish)},
      {"spec.scaling.minReplicas", text(int64_t{scaling.minReplicas})},
      {"spec.scaling.maxReplicas", text(int64_t{scaling.maxReplicas})},
      {"spec.scaling.activationLag", text(scaling.activationLag)},
      {"spec.scaling.pollIntervalSeconds", text(int64_t{scaling.pollIntervalSeconds})},
      {"spec.scaling.scaleDownStabilizationSeconds", text(int64_t{scaling.scaleDownStabilizationSeconds})},
      {"spec.scaling.idleSecondsBeforeZero", text(int64_t{scaling.idleSecondsBeforeZero})},
      {"spec.scaling.allowIdleConsumers", text(scaling.allowIdleConsumers)},
      {"spec.scaling.paused", text(scaling.paused)},
      {"spec.worker", "{}"},
      {"spec.worker.imagePullPolicy", worker.imagePullPolicy},
      {"spec.worker.drainSeconds", text(int64_t{worker.drainSeconds})},
  };
  // The same TLS and SASL blocks appear under the Kafka source, the NATS source and the Kafka sink.
  for (const char* parent :
       {"spec.source.kafka.tls", "spec.source.nats.tls", "spec.sink.kafka.tls", "spec.sink.nats.tls",
        "spec.processing.deadLetter.kafka.tls", "spec.processing.deadLetter.nats.tls"}) {
    rows.push_back({std::string(parent) + ".enabled", text(tls.enabled)});
    rows.push_back({std::string(parent) + ".insecureSkipVerify", text(tls.insecureSkipVerify)});
  }
  for (const char* parent :
       {"spec.source.kafka.sasl", "spec.sink.kafka.sasl", "spec.processing.deadLetter.kafka.sasl"}) {
    rows.push_back({std::string(parent) + ".mechanism", spec::toString(sasl.mechanism)});
  }
  return rows;
}

// The CRD default as canonical text (numbers normalised so "2" and "2.0" compare equal for doubles).
std::string crdDefaultText(const YAML::Node& field) {
  const YAML::Node value = field["default"];
  if (value.IsMap()) return value.size() == 0 ? "{}" : "{...}";
  const std::string type = field["type"].as<std::string>();
  if (type == "number") return formatNumber(value.as<double>());
  if (type == "integer") return std::to_string(value.as<int64_t>());
  if (type == "boolean") return value.as<bool>() ? "true" : "false";
  return value.as<std::string>();
}

TEST(CrdAgreementTest, DefaultsMatchTheModelStructs) {
  for (const auto& row : modelDefaults()) {
    const YAML::Node field = schemaAt(row.path);
    ASSERT_TRUE(field.IsDefined()) << row.path << " is in the model but not in the CRD";
    ASSERT_TRUE(field["default"].IsDefined())
        << row.path << " has model default " << row.value << " but no CRD default";
    EXPECT_EQ(crdDefaultText(field), row.value) << "default of " << row.path;
  }
}

TEST(CrdAgreementTest, EveryCrdDefaultIsCheckedAgainstTheModel) {
  std::set<std::string> covered;
  for (const auto& row : modelDefaults()) covered.insert(row.path);
  for (const auto& field : allFields()) {
    if (field.schema["default"].IsDefined()) {
      EXPECT_TRUE(covered.count(field.path))
          << field.path << " has a CRD default that no model default backs";
    }
  }
}

// Defaults that depend on other fields are resolved by the model; a CRD default would freeze a wrong value.
TEST(CrdAgreementTest, DerivedDefaultsAreLeftToTheOperator) {
  for (const char* path :
       {"spec.processing.ordering", "spec.source.kafka.groupId", "spec.source.nats.consumer",
        "spec.scaling.lagPerReplica", "spec.scaling.drainSeconds", "spec.scaling",
        "spec.source.nats.keySubjectToken", "spec.worker.image"}) {
    const YAML::Node field = schemaAt(path);
    ASSERT_TRUE(field.IsDefined()) << path;
    EXPECT_FALSE(field["default"].IsDefined()) << path << " must not have a CRD default";
  }
  // The model's own resolution of those defaults, which the descriptions promise.
  const auto outcome = parsePipelineYaml(kBaseManifest);
  ASSERT_TRUE(outcome.ok()) << outcome.errorText();
  EXPECT_EQ(spec::effectiveGroupId(outcome.pipeline), "shop.orders");
  EXPECT_EQ(spec::effectiveOrdering(outcome.pipeline.spec), spec::Ordering::kKey);
  EXPECT_EQ(outcome.pipeline.spec.scaling.lagPerReplica.value_or(0), 1000);
  const std::string description = schemaAt("spec.scaling.lagPerReplica")["description"].as<std::string>();
  EXPECT_NE(description.find("1000"), std::string::npos) << description;
  EXPECT_NE(schemaAt("spec.scaling")["description"].as<std::string>().find(
                "between " + std::to_string(spec::ScalingSpec{}.minReplicas) + " and " +
                std::to_string(spec::ScalingSpec{}.maxReplicas)),
            std::string::npos);
}

// Parsing the sparsest manifest that holds each defaulted field's parent yields the struct default:
// the parser does not override what the structs declare.
TEST(CrdAgreementTest, ParserAppliesTheSameDefaults) {
  std::string manifest = withField("spec.source.kafka.tls", "{}");
  manifest = withField("spec.source.kafka.sasl", "{}", manifest);
  manifest = withField("spec.scaling", "{lagPerReplica: 7}", manifest);
  const auto outcome = parsePipelineYaml(manifest);
  ASSERT_TRUE(outcome.ok()) << outcome.errorText();
  const auto& s = outcome.pipeline.spec;
  EXPECT_EQ(text(s.source.kafka->tls->enabled), crdDefaultText(schemaAt("spec.source.kafka.tls.enabled")));
  EXPECT_EQ(spec::toString(s.source.kafka->sasl->mechanism),
            crdDefaultText(schemaAt("spec.source.kafka.sasl.mechanism")));
  EXPECT_EQ(text(int64_t{s.batch.maxMessages}), crdDefaultText(schemaAt("spec.batch.maxMessages")));
  EXPECT_EQ(text(s.processing.retry.jitter), crdDefaultText(schemaAt("spec.processing.retry.jitter")));
  EXPECT_EQ(text(int64_t{s.scaling.maxReplicas}), crdDefaultText(schemaAt("spec.scaling.maxReplicas")));
  EXPECT_EQ(text(int64_t{s.worker.drainSeconds}), crdDefaultText(schemaAt("spec.worker.drainSeconds")));
}

// --- ranges and enums, probed through the parser
// ------------------------------------------------------------

// A manifest with the field set; its parent mappings are created, sibling rules may complain elsewhere.
std::string manifestSetting(const std::string& path, const std::string& value) {
  std::string base = kBaseManifest;
  if (path.rfind("spec.source.nats.", 0) == 0)
    base = withField("spec.source", std::string("{nats: ") + kNatsSpec + "}");
  if (path.rfind("spec.scaling.", 0) == 0) base = withField("spec.scaling.lagPerReplica", "1", base);
  return withField(path, value, base);
}

struct Bound {
  std::string text;
  double value;
};

TEST(CrdAgreementTest, EveryNumericRangeMatchesTheParser) {
  int probed = 0;
  for (const auto& field : allFields()) {
    const bool integer = isSpecLeaf(field, "integer");
    if (!integer && !isSpecLeaf(field, "number")) continue;
    SCOPED_TRACE(field.path);
    const YAML::Node minimum = field.schema["minimum"];
    const YAML::Node maximum = field.schema["maximum"];
    if (!minimum || !maximum) {
      // The parser must then accept anything: any rejection means the CRD lacks its range.
      for (const char* extreme : {"-1000000000000000", "1000000000000000"}) {
        EXPECT_FALSE(hasValueErrorAt(parsePipelineYaml(manifestSetting(field.path, extreme)), field.path))
            << "the parser limits " << field.path << " but the CRD has no minimum/maximum";
      }
      continue;
    }
    ++probed;
    // The parser's error names its own range: compare it with the CRD's.
    std::string low, high, outside;
    if (integer) {
      const int64_t min = minimum.as<int64_t>(), max = maximum.as<int64_t>();
      low = std::to_string(min);
      high = std::to_string(max);
      outside = std::to_string(min - 1);
      const auto above = parsePipelineYaml(manifestSetting(field.path, std::to_string(max + 1)));
      EXPECT_TRUE(hasErrorAt(above, field.path, "must be between " + low + " and " + high))
          << "maximum+1 accepted or range differs:\n"
          << above.errorText();
    } else {
      const double min = minimum.as<double>(), max = maximum.as<double>();
      low = formatNumber(min);
      high = formatNumber(max);
      outside = formatNumber(min - 0.01);
      const auto above = parsePipelineYaml(manifestSetting(field.path, formatNumber(max + 0.01)));
      EXPECT_TRUE(hasErrorAt(above, field.path, "must be between " + low + " and " + high))
          << "maximum+0.01 accepted or range differs:\n"
          << above.errorText();
    }
    const auto below = parsePipelineYaml(manifestSetting(field.path, outside));
    EXPECT_TRUE(hasErrorAt(below, field.path, "must be between " + low + " and " + high))
        << "minimum-step accepted or range differs:\n"
        << below.errorText();
    for (const auto& edge : {low, high}) {
      const auto at = parsePipelineYaml(manifestSetting(field.path, edge));
      EXPECT_FALSE(hasValueErrorAt(at, field.path))
          << edge << " is in the CRD range but the parser rejects it:\n"
          << at.errorText();
    }
  }
  EXPECT_GE(probed, 25) << "the walk found too few ranged fields; is the schema path right?";
}

TEST(CrdAgreementTest, EveryEnumMatchesTheParser) {
  int probed = 0;
  for (const auto& field : allFields()) {
    if (!isSpecLeaf(field, "string")) continue;
    SCOPED_TRACE(field.path);
    const auto bogus = parsePipelineYaml(manifestSetting(field.path, "zz-not-a-value"));
    if (!field.schema["enum"]) {
      EXPECT_FALSE(hasErrorAt(bogus, field.path, "must be one of"))
          << "the parser restricts " << field.path << " to a set of values but the CRD has no enum";
      continue;
    }
    ++probed;
    std::vector<std::string> values;
    for (const auto& v : field.schema["enum"]) values.push_back(v.as<std::string>());
    std::string list;
    for (const auto& v : values) list += (list.empty() ? "" : ", ") + v;
    EXPECT_TRUE(hasErrorAt(bogus, field.path, "must be one of " + list + " (got"))
        << "CRD enum [" << list << "] differs from the parser's:\n"
        << bogus.errorText();
    for (const auto& v : values) {
      EXPECT_FALSE(hasValueErrorAt(parsePipelineYaml(manifestSetting(field.path, v)), field.path)) << v;
    }
    if (field.schema["default"]) {
      EXPECT_NE(std::find(values.begin(), values.end(), field.schema["default"].as<std::string>()),
                values.end());
    }
  }
  EXPECT_GE(probed, 5);
}

// --- the same fields
// -------------------------------------------------------------------------------------------

// A key no field resembles, so the parser lists its known fields instead of suggesting one.
const char* kStrangeKey = "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzz";

// Paths (in the parser's spelling) of the objects the parser checks field by field, each mapped to the
// schema's property names there.
void skeleton(const YAML::Node& schema, YAML::Node node, const std::string& path,
              std::map<std::string, std::set<std::string>>& expected) {
  if (schema["x-kubernetes-preserve-unknown-fields"] || schema["additionalProperties"])
    return;  // pass-through maps
  std::set<std::string> names;
  if (schema["properties"]) {
    for (const auto& property : schema["properties"]) {
      const std::string name = property.first.as<std::string>();
      names.insert(name);
      const YAML::Node child = property.second;
      const std::string type = child["type"] ? child["type"].as<std::string>() : "";
      const std::string childPath = path.empty() ? name : path + "." + name;
      if (childPath == "metadata" || childPath == "status") continue;  // owned by Kubernetes / the operator
      if (type == "object") {
        node[name] = YAML::Node(YAML::NodeType::Map);
        skeleton(child, node[name], childPath, expected);
      } else if (type == "array" && child["items"]["type"].as<std::string>() == "object") {
        YAML::Node item(YAML::NodeType::Map);
        skeleton(child["items"], item, childPath + "[0]", expected);
        node[name].push_back(item);
      }
    }
  }
  node[kStrangeKey] = 1;
  expected[path] = names;
}

TEST(CrdAgreementTest, SchemaAndParserKnowTheSameFields) {
  YAML::Node manifest(YAML::NodeType::Map);
  std::map<std::string, std::set<std::string>> expected;
  skeleton(rootSchema(), manifest, "", expected);
  manifest["metadata"]["name"] = "orders";
  YAML::Emitter out;
  out << manifest;
  const auto outcome = parsePipelineYaml(out.c_str());

  // "<path>.zzz... is not a known field; known fields here: a, b, c"
  std::map<std::string, std::set<std::string>> known;
  const std::string marker = std::string(kStrangeKey) + " is not a known field";
  for (const auto& error : outcome.errors) {
    const auto at = error.message.find(marker);
    if (at == std::string::npos) continue;
    const std::string path = at == 0 ? "" : error.message.substr(0, at - 1);
    std::set<std::string> names;
    const auto list = error.message.find("known fields here: ");
    ASSERT_NE(list, std::string::npos)
        << "the parser suggested a field instead of listing them: " << error.message;
    std::stringstream in(error.message.substr(list + 19));
    for (std::string name; std::getline(in, name, ',');) {
      name.erase(0, name.find_first_not_of(' '));
      if (!name.empty()) names.insert(name);
    }
    known[path] = names;
  }
  for (const auto& [path, names] : expected) {
    SCOPED_TRACE("object " + (path.empty() ? std::string("<root>") : path));
    ASSERT_TRUE(known.count(path))
        << "the parser does not check the fields of this object (or does not parse it)";
    EXPECT_EQ(known.at(path), names) << "CRD properties vs parser fields";
  }
  for (const auto& [path, names] : known) {
    EXPECT_TRUE(expected.count(path))
        << "the parser checks fields of " << path << ", which the CRD does not describe";
  }
  EXPECT_GE(expected.size(), 25u);
}

// Every string, list and map of the schema is bounded (maxLength / maxItems / maxProperties) with the
// bound the parser enforces (common/spec/limits.h), and every bound of the parser's tables is in the
// schema: so the API server refuses what the operator could not handle, and a new field gets a bound.
void collectBounds(const YAML::Node& schema, const std::string& path, std::map<std::string, size_t>& lengths,
                   std::map<std::string, size_t>& counts, std::vector<std::string>& unbounded) {
  const std::string type = schema["type"] ? schema["type"].as<std::string>() : "";
  const bool intOrString = schema["x-kubernetes-int-or-string"].IsDefined();
  if ((type == "string" && !schema["enum"]) || intOrString) {
    if (schema["maxLength"])
      lengths[path] = schema["maxLength"].as<size_t>();
    else
      unbounded.push_back(path + " (maxLength)");
  }
  if (type == "array") {
    if (schema["maxItems"])
      counts[path] = schema["maxItems"].as<size_t>();
    else
      unbounded.push_back(path + " (maxItems)");
    collectBounds(schema["items"], path + "[]", lengths, counts, unbounded);
  }
  if (schema["additionalProperties"] && schema["additionalProperties"].IsMap()) {
    if (schema["maxProperties"])
      counts[path] = schema["maxProperties"].as<size_t>();
    else
      unbounded.push_back(path + " (maxProperties)");
    collectBounds(schema["additionalProperties"], path + "{}", lengths, counts, unbounded);
  }
  if (schema["x-kubernetes-preserve-unknown-fields"] && path != "")
    unbounded.push_back(path + " (free-form)");
  for (const auto& property : schema["properties"]) {
    const std::string name = property.first.as<std::string>();
    if (path.empty() && (name == "apiVersion" || name == "kind" || name == "metadata")) continue;
    collectBounds(property.second, path.empty() ? name : path + "." + name, lengths, counts, unbounded);
  }
}

TEST(CrdAgreementTest, EveryStringListAndMapHasTheParsersBound) {
  std::map<std::string, size_t> lengths, counts;
  std::vector<std::string> unbounded;
  collectBounds(rootSchema(), "", lengths, counts, unbounded);
  EXPECT_TRUE(unbounded.empty()) << "unbounded in the CRD: " << ::testing::PrintToString(unbounded);
  std::map<std::string, size_t> parserLengths, parserCounts;
  for (const auto& [path, bound] : spec::maxLengths()) {
    if (!path.starts_with("metadata.")) parserLengths[path] = bound;
  }
  for (const auto& [path, bound] : spec::maxItems()) {
    if (!path.starts_with("metadata.")) parserCounts[path] = bound;
  }
  EXPECT_EQ(lengths, parserLengths) << "CRD maxLength vs common/spec/limits.cc";
  EXPECT_EQ(counts, parserCounts) << "CRD maxItems/maxProperties vs common/spec/limits.cc";
  EXPECT_GE(lengths.size(), 50u);
}

// --- the shared manifests
// -------------------------------------------------------------------------------------

class RejectedByParserTest : public ::testing::TestWithParam<RejectCase> {};

TEST_P(RejectedByParserTest, ParserRejectsWhatTheCrdRejects) {
  const auto& c = GetParam();
  const std::string manifest = manifestOf(c);
  const auto outcome = parsePipelineYaml(manifest);
  ASSERT_FALSE(outcome.ok()) << "the parser accepts what the CRD rejects:\n" << manifest;
  EXPECT_NE(outcome.errorText().find(c.parserFragment), std::string::npos)
      << "expected: " << c.parserFragment << "\nerrors:\n"
      << outcome.errorText();
}

INSTANTIATE_TEST_SUITE_P(Cases, RejectedByParserTest, ::testing::ValuesIn(rejectCases()),
                         [](const ::testing::TestParamInfo<RejectCase>& p) { return p.param.name; });

class AcceptedByParserTest : public ::testing::TestWithParam<AcceptCase> {};

TEST_P(AcceptedByParserTest, ParserAcceptsWhatTheCrdAccepts) {
  const std::string manifest = manifestOf(GetParam());
  const auto outcome = parsePipelineYaml(manifest);
  EXPECT_TRUE(outcome.ok()) << outcome.errorText() << "\n" << manifest;
}

INSTANTIATE_TEST_SUITE_P(Cases, AcceptedByParserTest, ::testing::ValuesIn(acceptCases()),
                         [](const ::testing::TestParamInfo<AcceptCase>& p) { return p.param.name; });

// Every CEL rule has a message naming a spec field, and is exercised by a row of the shared table (matched
// by the first words of its message), so a new rule cannot go untested against the API server.
TEST(CrdAgreementTest, EveryCelRuleHasACase) {
  std::vector<std::string> messages;
  std::function<void(const YAML::Node&)> collect = [&](const YAML::Node& schema) {
    for (const auto& rule : schema["x-kubernetes-validations"])
      messages.push_back(rule["message"].as<std::string>());
    for (const auto& property : schema["properties"]) collect(property.second);
    if (schema["items"]) collect(schema["items"]);
  };
  collect(rootSchema());
  EXPECT_GE(messages.size(), 15u);
  for (const auto& message : messages) {
    EXPECT_TRUE(message.rfind("spec.", 0) == 0 || message.rfind("metadata.", 0) == 0)
        << "message does not start with the field it is about: " << message;
    // The case's fragment starts the message, or holds all of it (plus the values a messageExpression adds).
    bool found = false;
    for (const auto& c : rejectCases()) {
      found =
          found || message.rfind(c.apiFragment, 0) == 0 || c.apiFragment.find(message) != std::string::npos;
    }
    EXPECT_TRUE(found) << "no case in tests/crds/crd_cases.h exercises the rule: " << message;
  }
}

}  // namespace
}  // namespace sluice::crdtest
