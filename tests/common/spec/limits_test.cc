// Every string and list of a manifest is bounded by the parser before anything else reads it, with
// the bounds of common/spec/limits.h (the CRD states the same ones: tests/crds checks that).
#include "common/spec/limits.h"

#include <gtest/gtest.h>

#include <string>

#include "common/spec/parse.h"
#include "tests/common/spec/spec_fixture.h"

namespace sluice::spec {
namespace {

using testing::kBaseManifest;
using testing::withField;

const char* kNatsBase = R"(apiVersion: sluice.dev/v1alpha1
kind: ConsumerPipeline
metadata: {name: events, namespace: shop}
spec:
  source:
    nats: {servers: ["nats://nats:4222"], stream: EVENTS}
  sink:
    log: {}
)";

// A manifest with `value` (a YAML scalar) at the schema path, and the path the parser reports for it.
struct Placed {
  std::string manifest;
  std::string errorPath;
};

Placed place(const std::string& schema, const std::string& value) {
  const std::string base = schema.starts_with("spec.source.nats") ? kNatsBase : kBaseManifest;
  const std::string quoted = "'" + value + "'";
  if (schema.ends_with("[]")) {
    const std::string list = schema.substr(0, schema.size() - 2);
    return {withField(list, "[" + quoted + "]", base), list + "[0]"};
  }
  if (schema.ends_with("{}")) {
    const std::string map = schema.substr(0, schema.size() - 2);
    return {withField(map, "{h: " + quoted + "}", base), map + ".h"};
  }
  if (const size_t items = schema.find("[]."); items != std::string::npos) {
    const std::string list = schema.substr(0, items), field = schema.substr(items + 3);
    const std::string other = field == "name" ? "value" : "name";
    // A nested field (headersFrom[].secretKeyRef.key) goes into a map of its own.
    const size_t dot = field.find('.');
    const std::string outer = field.substr(0, dot);
    const std::string placed =
        dot == std::string::npos ? quoted : "{" + field.substr(dot + 1) + ": " + quoted + "}";
    return {withField(list, "[{" + outer + ": " + placed + ", " + other + ": x}]", base),
            list + "[0]." + field};
  }
  return {withField(schema, quoted, base), schema};
}

bool mentions(const ParseOutcome& outcome, const std::string& path, const std::string& text) {
  for (const auto& error : outcome.errors) {
    if (error.path == path && error.message.find(text) != std::string::npos) return true;
  }
  return false;
}

TEST(SpecLimits, EveryStringFieldIsRefusedOneCharacterOverItsBoundAndNotAtIt) {
  for (const auto& [schema, limit] : maxLengths()) {
    if (schema.starts_with("status.")) continue;  // written by the operator, never parsed
    SCOPED_TRACE(schema);
    const std::string bound = "must be at most " + std::to_string(limit) + " characters";
    const Placed over = place(schema, std::string(limit + 1, 'a'));
    EXPECT_TRUE(mentions(parsePipelineYaml(over.manifest), over.errorPath, bound)) << over.errorPath;
    const Placed at = place(schema, std::string(limit, 'a'));
    EXPECT_FALSE(mentions(parsePipelineYaml(at.manifest), at.errorPath, bound));
  }
}

TEST(SpecLimits, EveryListIsRefusedOneItemOverItsBound) {
  for (const auto& [schema, limit] : maxItems()) {
    if (schema.starts_with("status.") || schema.starts_with("metadata.")) continue;
    SCOPED_TRACE(schema);
    const bool map =
        schema.ends_with("headers") || schema.ends_with("limits") || schema.ends_with("requests");
    const bool env = schema.ends_with(".env");
    std::string yaml = map ? "{" : "[";
    for (size_t i = 0; i <= limit; ++i) {
      if (i > 0) yaml += ", ";
      if (map)
        yaml += "k" + std::to_string(i) + ": '1'";
      else if (env)
        yaml += "{name: V" + std::to_string(i) + ", value: x}";
      else
        yaml += schema.ends_with("servers") ? "'nats://n:4222'" : "t" + std::to_string(i);
    }
    yaml += map ? "}" : "]";
    const std::string base = schema.starts_with("spec.source.nats") ? kNatsBase : kBaseManifest;
    EXPECT_TRUE(mentions(parsePipelineYaml(withField(schema, yaml, base)), schema,
                         "must have at most " + std::to_string(limit) + " items"));
  }
}

// The review's reproduction: a 1 MB server URL crashed `sluice-worker --check` (std::regex recursion).
TEST(SpecLimits, AMegabyteServerUrlIsAFieldNamedErrorNotACrash) {
  const std::string huge = "nats://" + std::string(1 << 20, 'a');
  const ParseOutcome outcome =
      parsePipelineYaml(withField("spec.source.nats.servers", "['" + huge + "']", kNatsBase));
  ASSERT_FALSE(outcome.ok());
  EXPECT_TRUE(
      mentions(outcome, "spec.source.nats.servers[0]", "must be at most 1024 characters (got 1048583)"));
  EXPECT_LT(outcome.errorText().size(), 4096u) << "the value is not echoed in the message";
}

TEST(SpecLimits, AMegabyteBootstrapListIsAFieldNamedError) {
  const std::string huge(1 << 20, 'a');
  const ParseOutcome outcome =
      parsePipelineYaml(withField("spec.source.kafka.bootstrapServers", "'" + huge + "'"));
  EXPECT_TRUE(mentions(outcome, "spec.source.kafka.bootstrapServers", "must be at most 4096 characters"));
}

// Strings at their bound still reach validation, which no longer uses std::regex: a 4 KiB host list
// and a 1 KiB URL are checked in linear time and either accepted or refused by name.
TEST(SpecLimits, LongValidValuesAtTheBoundPass) {
  std::string servers;
  while (servers.size() + 12 <= 4096) servers += (servers.empty() ? "" : ",") + std::string("kafka-0:9092");
  EXPECT_TRUE(parsePipelineYaml(withField("spec.source.kafka.bootstrapServers", "'" + servers + "'")).ok());
  const std::string url = "nats://" + std::string(1024 - 12, 'n') + ":4222";
  EXPECT_TRUE(parsePipelineYaml(withField("spec.source.nats.servers", "['" + url + "']", kNatsBase)).ok());
}

// What Kubernetes itself allows in metadata passes: kubectl's last-applied-configuration annotation
// holds the whole manifest, and label keys may be qualified names.
TEST(SpecLimits, KubernetesSizedMetadataPasses) {
  const std::string key = std::string(253, 'p') + "/" + std::string(63, 'n');
  const std::string manifest =
      withField("metadata.annotations", "{kubectl.kubernetes.io/last-applied-configuration: '" +
                                            std::string(200000, 'a') + "', " + key + ": v}");
  EXPECT_TRUE(parsePipelineYaml(
                  withField("metadata.labels", "{" + key + ": '" + std::string(63, 'v') + "'}", manifest))
                  .ok())
      << parsePipelineYaml(manifest).errorText();
}

TEST(SpecLimits, UnknownFieldWithAHugeNameIsReportedShortened) {
  const ParseOutcome outcome = parsePipelineYaml(withField("spec.batch." + std::string(100000, 'x'), "1"));
  ASSERT_FALSE(outcome.ok());
  EXPECT_LT(outcome.errorText().size(), 1024u);
  EXPECT_NE(outcome.errorText().find("has an unknown field"), std::string::npos) << outcome.errorText();
}

TEST(SpecLimits, ResourcesHoldOnlyLimitsAndRequests) {
  EXPECT_TRUE(
      parsePipelineYaml(withField("spec.worker.resources", "{requests: {cpu: 100m}, limits: {memory: 64Mi}}"))
          .ok());
  const ParseOutcome outcome =
      parsePipelineYaml(withField("spec.worker.resources", "{claims: [{name: gpu}]}"));
  EXPECT_TRUE(mentions(outcome, "spec.worker.resources.claims", "is not a known field"))
      << outcome.errorText();
}

// Issue 18 item 16: a directory was reported as "expected exactly one YAML document ... (got 0)".
TEST(SpecFile, ADirectoryIsNamedAsOne) {
  const ParseOutcome outcome = parsePipelineFile(::testing::TempDir());
  ASSERT_EQ(outcome.errors.size(), 1u);
  EXPECT_NE(outcome.errors[0].message.find("is a directory: name the pipeline's YAML file"),
            std::string::npos)
      << outcome.errorText();
}

TEST(SpecLimits, SchemaPathStripsIndices) {
  EXPECT_EQ(schemaPath("spec.worker.env[12].name"), "spec.worker.env[].name");
  EXPECT_EQ(schemaPath("spec.source.nats.servers[0]"), "spec.source.nats.servers[]");
  EXPECT_EQ(maxLengthOf("spec.worker.env[3].value"), 32768u);
  EXPECT_EQ(maxLengthOf("spec.batch.somethingNew"), kDefaultMaxLength);
}

TEST(SpecLimits, TruncateUtf8CutsAtACharacterBoundary) {
  EXPECT_EQ(truncateUtf8("short", 10), "short");
  EXPECT_EQ(truncateUtf8("abcdefghij", 8), "abcde...");
  // "é" is two bytes: a cut after 4 bytes would split the second one.
  EXPECT_EQ(truncateUtf8("ééééé", 8), "éé...");
  EXPECT_LE(truncateUtf8(std::string(40000, 'x'), 32768).size(), 32768u);
}

TEST(SpecLimits, ExcerptShortensLongText) {
  EXPECT_EQ(excerpt("short"), "short");
  EXPECT_EQ(excerpt(std::string(100, 'a')), std::string(64, 'a') + "... (100 bytes)");
}

}  // namespace
}  // namespace sluice::spec
