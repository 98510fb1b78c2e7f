// The shape of the tree (CONVENTIONS.md, "Shape of the tree"), checked on every unit run by reading
// the #include lines of the C++ files:
//   - the two binaries are siblings: worker/ never includes operator/ and the reverse;
//   - the layers below them (common/, common/contract/, clients/, kube/) include neither binary, and kube/
//     knows Kubernetes, not the worker <-> operator contract;
//   - operator/scaling never includes kube/;
//   - each client library (cpprestsdk, librdkafka, nats.c) is included only by its adapter files.
// A new adapter file goes into kAdapters below, with the reason in the commit.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <vector>

namespace sluice {
namespace {

namespace fs = std::filesystem;

// Every C++ file (path relative to the repository root) -> what its #include lines name.
using IncludeGraph = std::map<std::string, std::vector<std::string>>;

struct ForbiddenInclude {
  const char* from;      // files under this folder ...
  const char* includes;  // ... must not include a path starting with this
  const char* why;
};

const ForbiddenInclude kLayers[] = {
    {"worker/", "operator/",
     "the binaries are siblings; what both need lives in common/, common/contract/ or kube/"},
    {"operator/", "worker/",
     "the binaries are siblings; what both need lives in common/, common/contract/ or kube/"},
    {"operator/scaling/", "kube/",
     "scaling decides from what the controller hands it; the controller does the I/O"},
    {"common/", "worker/", "common/ is below both binaries"},
    {"common/", "operator/", "common/ is below both binaries"},
    {"common/", "kube/", "common/ is below kube/"},
    {"kube/", "worker/", "kube/ is below both binaries"},
    {"kube/", "operator/", "kube/ is below both binaries"},
    {"kube/", "common/contract/", "kube/ knows Kubernetes, not the worker <-> operator contract"},
    {"clients/", "worker/", "clients/ is below both binaries"},
    {"clients/", "operator/", "clients/ is below both binaries"},
    {"clients/", "kube/", "clients/ configures Kafka and NATS clients, nothing else"},
};

struct Adapter {
  const char* library;
  std::vector<std::string> headerPrefixes;  // as written in #include <...>
  std::vector<std::string> files;           // the only files that may include them
};

const std::vector<Adapter>& adapters() {
  static const std::vector<Adapter> kAdapters = {
      {"cpprestsdk",
       {"cpprest/", "pplx/"},
       {"kube/cpprest_transport.cc", "worker/http_sink.cc",
        // test and benchmark peers: an HTTP receiver standing in for a sink's endpoint
        "tests/worker/http_receiver.cc", "bench/kafka/slow_http_sink.cc"}},
      {"librdkafka",
       {"librdkafka/"},
       {"clients/rdkafka_conf.cc", "operator/scaling/kafka_lag_probe.cc", "worker/kafka_consumer_threads.h",
        "worker/kafka_sink.cc", "worker/kafka_source.cc",
        // test and benchmark clients that produce to / read from the real broker
        "tests/operator/autoscale_integration_test.cc", "tests/operator/scaling/kafka_lag_probe_test.cc",
        "tests/worker/kafka_test_client.cc", "bench/kafka/kafka_tool.cc", "bench/kafka/raw_consumer.cc"}},
      {"nats.c",
       {"nats/", "nats.h"},
       {"clients/nats_options.cc", "operator/scaling/nats_lag_probe.cc", "worker/nats_connection.h",
        // test and benchmark clients of the real server
        "tests/operator/scaling/nats_lag_probe_test.cc", "tests/worker/nats_test_client.cc",
        "bench/nats/nats_bench.cc"}},
  };
  return kAdapters;
}

bool startsWith(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }

// One line per include that breaks a rule, naming the file, the include and the rule.
std::vector<std::string> violations(const IncludeGraph& graph) {
  std::vector<std::string> out;
  for (const auto& [file, includes] : graph) {
    for (const std::string& included : includes) {
      for (const ForbiddenInclude& rule : kLayers) {
        if (startsWith(file, rule.from) && startsWith(included, rule.includes)) {
          out.push_back(file + " includes " + included + ": " + rule.from + " must not include " +
                        rule.includes + " (" + rule.why + ")");
        }
      }
      for (const Adapter& adapter : adapters()) {
        const bool isLibraryHeader =
            std::any_of(adapter.headerPrefixes.begin(), adapter.headerPrefixes.end(),
                        [&](const std::string& prefix) { return startsWith(included, prefix); });
        if (!isLibraryHeader) continue;
        if (std::find(adapter.files.begin(), adapter.files.end(), file) != adapter.files.end()) continue;
        out.push_back(
            file + " includes " + included + ": only the " + adapter.library +
            " adapter files include it (use the adapter's interface, or add the file to kAdapters in " +
            "tests/layering/layering_test.cc with the reason)");
      }
    }
  }
  return out;
}

std::vector<std::string> includesOf(const fs::path& file) {
  static const std::regex kInclude(R"(^\s*#\s*include\s*[<"]([^>"]+)[>"])");
  std::vector<std::string> out;
  std::ifstream in(file);
  std::string line;
  std::smatch match;
  while (std::getline(in, line)) {
    if (std::regex_search(line, match, kInclude)) out.push_back(match[1]);
  }
  return out;
}

// Every top-level folder but hidden ones and build directories (those holding a CMakeCache.txt).
IncludeGraph readTree(const fs::path& root) {
  IncludeGraph graph;
  for (const auto& top : fs::directory_iterator(root)) {
    const std::string name = top.path().filename().string();
    if (!top.is_directory() || name.front() == '.' || fs::exists(top.path() / "CMakeCache.txt")) continue;
    for (const auto& entry : fs::recursive_directory_iterator(top.path())) {
      const std::string extension = entry.path().extension().string();
      if (!entry.is_regular_file() || (extension != ".cc" && extension != ".h")) continue;
      graph[fs::relative(entry.path(), root).generic_string()] = includesOf(entry.path());
    }
  }
  return graph;
}

TEST(Layering, TheTreeKeepsItsShape) {
  const IncludeGraph graph = readTree(SLUICE_SOURCE_DIR);
  ASSERT_TRUE(graph.count("worker/heartbeat.cc")) << "read no sources from " << SLUICE_SOURCE_DIR;
  ASSERT_TRUE(graph.count("operator/run.cc")) << "read no sources from " << SLUICE_SOURCE_DIR;
  std::string report;
  for (const std::string& line : violations(graph)) report += "  " + line + "\n";
  EXPECT_TRUE(report.empty()) << "layering violations:\n" << report;
}

// The check itself: each kind of violation is found, and what is allowed passes.
TEST(Layering, FindsEachKindOfViolation) {
  struct Row {
    const char* file;
    const char* include;
    const char* mentions;  // empty: allowed
  };
  const Row rows[] = {
      {"worker/heartbeat.cc", "operator/scaling/workers_status.h", "worker/ must not include operator/"},
      {"operator/controller/desired.cc", "worker/run.h", "operator/ must not include worker/"},
      {"operator/scaling/autoscaler.cc", "kube/client.h", "operator/scaling/ must not include kube/"},
      {"common/contract/worker_report.cc", "kube/client.h", "common/ must not include kube/"},
      {"kube/leader.cc", "common/contract/worker_report.h", "kube/ must not include common/contract/"},
      {"clients/kafka_settings.cc", "worker/kafka_config.h", "clients/ must not include worker/"},
      {"clients/kafka_settings.cc", "librdkafka/rdkafka.h", "only the librdkafka adapter files"},
      {"worker/pipeline.cc", "librdkafka/rdkafka.h", "only the librdkafka adapter files"},
      {"operator/controller/probe_credentials.cc", "nats/nats.h", "only the nats.c adapter files"},
      {"kube/client.cc", "cpprest/http_client.h", "only the cpprestsdk adapter files"},
      {"worker/kafka_source.cc", "librdkafka/rdkafka.h", ""},
      {"kube/cpprest_transport.cc", "cpprest/http_client.h", ""},
      {"worker/heartbeat.cc", "kube/client.h", ""},
      {"worker/heartbeat.cc", "common/contract/worker_report.h", ""},
      {"operator/controller/reconciler.cc", "kube/client.h", ""},
  };
  for (const Row& row : rows) {
    const auto found = violations({{row.file, {row.include}}});
    if (std::string(row.mentions).empty()) {
      EXPECT_TRUE(found.empty()) << row.file << " -> " << row.include << ": " << found.front();
      continue;
    }
    ASSERT_EQ(found.size(), 1u) << row.file << " -> " << row.include;
    EXPECT_NE(found.front().find(row.mentions), std::string::npos) << found.front();
  }
}

}  // namespace
}  // namespace sluice
