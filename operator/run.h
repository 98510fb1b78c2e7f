#pragma once
// Wires the operator: kube client, informers, controller, scaler, leader election, servers.
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
};

common::Status runOperator(const OperatorOptions& options);

}  // namespace sluice::op
