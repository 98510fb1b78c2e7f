#pragma once
// Wires the operator: kube client, informers, controller, leader election, servers.
//
// Threads: one per watcher (pipelines and owned Deployments, per watched namespace), `workers`
// reconcile threads, `lagProbeThreads` lag probe threads (controller::LagSampler), the leader
// elector (with --leader-elect), a metrics refresher; the metrics and health servers own theirs.
// Everything stops on common::Shutdown.
#include <string>

#include "common/result.h"

namespace sluice::op {

struct OperatorOptions {
  std::string kubeconfig;
  std::string namespaces;
  std::string workerImage;
  std::string metricsAddress = ":9090";
  std::string healthAddress = ":8081";
  bool leaderElect = false;
  std::string leaderElectionNamespace;
  std::string identity;
  int workers = 32;
  int lagProbeThreads = 2;
  bool probeNonLoopbackSources = false;
  bool lagProbeUnlabelledSecrets = false;
  std::string allowedImageRepositories;  // comma-separated; empty: any worker image  // see
                                         // controller::ProbePolicy::unlabelledSecrets
};

common::Status runOperator(const OperatorOptions& options);

}  // namespace sluice::op
