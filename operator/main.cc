// sluice-operator: watches ConsumerPipelines, reconciles their worker objects, measures lag and
// scales the workers.
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <iostream>

#include "common/cli.h"
#include "common/program.h"
#include "common/shutdown.h"
#include "common/version.h"
#include "kube/system_trust.h"
#include "operator/run.h"

namespace {

sluice::common::CommandLine makeCommandLine() {
  sluice::common::CommandLine cli(
      "sluice-operator",
      "Reconciles ConsumerPipelines (sluice.dev/v1alpha1): worker Deployments, status,\n"
      "and autoscaling from lag and processing time.");
  cli.addOption("kubeconfig", "", "kubeconfig file; empty = in-cluster service account", "KUBECONFIG");
  cli.addOption("namespaces", "", "comma-separated namespaces to watch; empty = all", "SLUICE_NAMESPACES");
  cli.addOption("worker-image", "ghcr.io/sluice-dev/sluice:" + std::string(sluice::kVersion),
                "worker image used when a pipeline sets none", "SLUICE_WORKER_IMAGE");
  cli.addOption("allowed-image-repositories", "",
                "comma-separated image repositories (exact, or prefixes ending in /) a pipeline's "
                "spec.worker.image may name; empty = any (docs/security.md)",
                "SLUICE_ALLOWED_IMAGE_REPOSITORIES");
  cli.addOption("metrics-address", ":9090", "where /metrics listens", "SLUICE_METRICS_ADDRESS");
  cli.addOption("health-address", ":8081", "where /healthz and /readyz listen", "SLUICE_HEALTH_ADDRESS");
  cli.addSwitch("leader-elect", "elect a leader through a coordination.k8s.io Lease (for several replicas)");
  cli.addOption("leader-election-namespace", "", "namespace of the leader Lease; empty = the pod's namespace",
                "POD_NAMESPACE");
  cli.addOption("identity", "", "this replica's identity in leader election; empty = hostname", "POD_NAME");
  cli.addOption(
      "workers", "32",
      "pipelines reconciled in parallel (at most half of them on other work than new pipelines' Deployments)",
      "SLUICE_OPERATOR_WORKERS");
  cli.addOption("lag-probe-threads", "2", "threads probing the sources' lag (off the reconcile path)",
                "SLUICE_LAG_PROBE_THREADS");
  cli.addSwitch("probe-non-loopback-sources",
                "also contact sources outside loopback (host names, private and public addresses) to probe "
                "reachability and lag");
  cli.addSwitch(
      "lag-probe-unlabelled-secrets",
      "let the lag probe use Secrets a pipeline names that are not labelled sluice.dev/lag-probe=true "
      "(sends them to the servers the pipeline's author chose; docs/security.md)");
  sluice::common::addLoggingOptions(cli);
  return cli;
}

}  // namespace

int main(int argc, char** argv) {
  sluice::kube::divertSystemCaBundle();  // first: it sets environment variables (system_trust.h)
  auto cli = makeCommandLine();
  if (auto exitCode = sluice::common::startProgram(cli, argc, argv, "sluice-operator", "operator"))
    return *exitCode;
  sluice::common::Shutdown::instance().install();
  sluice::op::OperatorOptions options;
  options.kubeconfig = cli.get("kubeconfig");
  options.namespaces = cli.get("namespaces");
  options.workerImage = cli.get("worker-image");
  options.allowedImageRepositories = cli.get("allowed-image-repositories");
  options.metricsAddress = cli.get("metrics-address");
  options.healthAddress = cli.get("health-address");
  options.leaderElect = cli.flag("leader-elect");
  options.leaderElectionNamespace = cli.get("leader-election-namespace");
  options.identity = cli.get("identity");
  options.workers = std::atoi(cli.get("workers").c_str());
  if (options.workers < 1 || options.workers > 64) {
    std::cerr << "sluice-operator: --workers must be between 1 and 64 (got " << cli.get("workers") << ")\n";
    return 2;
  }
  options.lagProbeThreads = std::atoi(cli.get("lag-probe-threads").c_str());
  if (options.lagProbeThreads < 1 || options.lagProbeThreads > 64) {
    std::cerr << "sluice-operator: --lag-probe-threads must be between 1 and 64 (got "
              << cli.get("lag-probe-threads") << ")\n";
    return 2;
  }
  options.probeNonLoopbackSources = cli.flag("probe-non-loopback-sources");
  options.lagProbeUnlabelledSecrets = cli.flag("lag-probe-unlabelled-secrets");
  const auto status = sluice::op::runOperator(options);
  if (!status) {
    spdlog::error("operator stopped: {}", status.toString());
    return 1;
  }
  return 0;
}
