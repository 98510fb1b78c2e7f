// sluice-worker: runs one ConsumerPipeline's data plane (source -> flow control -> batcher ->
// dispatcher -> sink -> offset tracker). In Kubernetes the operator mounts the pipeline manifest;
// standalone, `sluice-worker --config pipeline.yaml` runs the same spec.
#include <spdlog/spdlog.h>

#include <cstdio>
#include <iostream>

#include "common/cli.h"
#include "common/contract/worker_report.h"
#include "common/program.h"
#include "common/shutdown.h"
#include "common/spec/parse.h"
#include "common/version.h"
#include "worker/run.h"

namespace {

sluice::common::CommandLine makeCommandLine() {
  sluice::common::CommandLine cli(
      "sluice-worker",
      "Consumes a Kafka topic or NATS JetStream stream in batches and delivers them to a sink,\n"
      "as described by a ConsumerPipeline manifest (sluice.dev/v1alpha1).");
  cli.addOption("config", "", "ConsumerPipeline manifest (YAML or JSON) to run", "SLUICE_CONFIG");
  cli.addSwitch("check", "validate the manifest, print the effective settings and exit");
  cli.addOption("metrics-address", ":9400", "where /metrics listens (host:port; port 0 picks a free one)",
                "SLUICE_METRICS_ADDRESS");
  cli.addOption("health-address", ":8081", "where /healthz and /readyz listen", "SLUICE_HEALTH_ADDRESS");
  cli.addOption("pod-name", "", "this worker's pod name (static group membership, heartbeat)", "POD_NAME");
  cli.addOption("pod-namespace", "", "this worker's namespace (heartbeat Lease)", "POD_NAMESPACE");
  cli.addOption("pod-uid", "", "this worker's pod uid (heartbeat owner reference; else read from the pod)",
                "POD_UID");
  cli.addOption("kubeconfig", "",
                "kubeconfig for the heartbeat outside a pod; in a pod the service account is used",
                "KUBECONFIG");
  cli.addOption("heartbeat-seconds", std::to_string(sluice::contract::kDefaultHeartbeatSeconds),
                "heartbeat Lease renewal period", "SLUICE_HEARTBEAT_SECONDS");
  sluice::common::addLoggingOptions(cli);
  return cli;
}

}  // namespace

int main(int argc, char** argv) {
  auto cli = makeCommandLine();
  if (auto exitCode = sluice::common::startProgram(cli, argc, argv, "sluice-worker", "worker"))
    return *exitCode;
  const std::string config = cli.get("config");
  if (config.empty()) {
    std::cerr << "sluice-worker: --config is required: the ConsumerPipeline manifest to run (see --help)\n";
    return 2;
  }
  auto outcome = sluice::spec::parsePipelineFile(config);
  if (!outcome.ok()) {
    std::cerr << "sluice-worker: " << config << " has " << outcome.errors.size()
              << (outcome.errors.size() == 1 ? " error" : " errors") << ":\n";
    for (const auto& error : outcome.errors) std::cerr << "  " << error.toString() << "\n";
    return 1;
  }
  if (cli.flag("check")) {
    std::cout << sluice::worker::describePipeline(outcome.pipeline);
    return 0;
  }
  sluice::common::Shutdown::instance().install();
  sluice::worker::RunOptions options;
  options.metricsAddress = cli.get("metrics-address");
  options.healthAddress = cli.get("health-address");
  options.podName = cli.get("pod-name");
  options.podNamespace = cli.get("pod-namespace");
  options.podUid = cli.get("pod-uid");
  options.kubeconfig = cli.get("kubeconfig");
  const std::string heartbeatSeconds = cli.get("heartbeat-seconds");
  if (heartbeatSeconds.empty() || heartbeatSeconds.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(heartbeatSeconds) < 1 || std::stoi(heartbeatSeconds) > 3600) {
    std::cerr << "sluice-worker: --heartbeat-seconds must be a whole number from 1 to 3600 (got '"
              << heartbeatSeconds << "')\n";
    return 2;
  }
  options.heartbeatSeconds = std::stoi(heartbeatSeconds);
  const auto status = sluice::worker::runPipeline(outcome.pipeline, options);
  if (!status) {
    spdlog::error("worker stopped: {}", status.toString());
    return 1;
  }
  return 0;
}
