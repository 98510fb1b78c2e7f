#include "operator/controller/autoscale.h"

#include <spdlog/spdlog.h>

#include <map>

#include "common/time_format.h"
#include "operator/controller/reasons.h"

namespace sluice::controller {

using nlohmann::json;

std::vector<contract::WorkerReport> reportsFromLeases(const std::vector<json>& leases) {
  std::vector<contract::WorkerReport> out;
  for (const auto& lease : leases) {
    const std::string pod = lease.value("/metadata/name"_json_pointer, std::string());
    const json annotation = lease.value("/metadata/annotations"_json_pointer, json::object())
                                .value(contract::kReportAnnotation, json());
    if (!annotation.is_string()) continue;
    auto report = contract::decodeReport(annotation.get<std::string>(), pod);
    if (!report) {
      spdlog::debug("lease {}: report does not decode: {}", pod, report.status().toString());
      continue;
    }
    out.push_back(std::move(*report));
  }
  return out;
}

std::vector<json> trustedReportLeases(std::vector<json> leases, const std::vector<json>& pods) {
  std::map<std::string, std::string> uidByPod;
  for (const auto& pod : pods) {
    uidByPod[pod.value("/metadata/name"_json_pointer, std::string())] =
        pod.value("/metadata/uid"_json_pointer, std::string());
  }
  const auto trusted = [&](const json& lease) {
    const std::string name = lease.value("/metadata/name"_json_pointer, std::string());
    const auto pod = uidByPod.find(name);
    if (name.empty() || pod == uidByPod.end() || pod->second.empty()) return false;
    for (const auto& ref : lease.value("/metadata/ownerReferences"_json_pointer, json::array())) {
      if (ref.is_object() && ref.value("kind", "") == "Pod" && ref.value("name", "") == name &&
          ref.value("uid", "") == pod->second) {
        return true;
      }
    }
    return false;
  };
  std::vector<json> out;
  for (auto& lease : leases) {
    if (trusted(lease)) {
      out.push_back(std::move(lease));
      continue;
    }
    spdlog::debug("lease {}: not owned by a Pod of its pipeline; its report is ignored",
                  lease.value("/metadata/name"_json_pointer, std::string()));
  }
  return out;
}

std::string sourceSummary(const spec::PipelineSpec& spec) {
  if (spec.source.kafka) {
    const auto& topics = spec.source.kafka->topics;
    return "kafka:" + (topics.empty() ? std::string() : topics.front());
  }
  if (spec.source.nats) return "nats:" + spec.source.nats->stream;
  return "";
}

ScalingObservation pollScaling(scaling::PipelineAutoscaler& autoscaler, const spec::PipelineSpec& spec,
                               int currentReplicas, const std::vector<json>& leases,
                               const common::Result<scaling::LagSnapshot>& lag, common::WallTime now) {
  ScalingObservation out;
  out.workers = scaling::foldReports(reportsFromLeases(leases), now);
  out.outcome =
      autoscaler.poll(spec.scaling, spec::sourceKindOf(spec.source), currentReplicas, lag, out.workers);
  out.status = scalingStatus(out.outcome, out.workers, now);
  const auto& decision = out.outcome.decision;
  if (decision.changed()) out.event = EventSpec{"Normal", event::kScaled, decision.reason};
  return out;
}

std::optional<scaling::KafkaLagProbeConfig> kafkaProbeConfig(const spec::ConsumerPipeline& pipeline,
                                                             const SecretsByName& secrets, std::string& why) {
  const auto& kafka = pipeline.spec.source.kafka;
  if (!kafka) return std::nullopt;
  auto security = kafkaProbeSecurity(*kafka, secrets);
  if (!security) {
    why = security.status().message();
    return std::nullopt;
  }
  scaling::KafkaLagProbeConfig config;
  config.connection.bootstrapServers = kafka->bootstrapServers;
  config.connection.properties = std::move(*security);
  config.topics = kafka->topics;
  config.groupId = spec::effectiveGroupId(pipeline);
  config.startFrom = kafka->startFrom;
  if (auto created = common::parseRfc3339(pipeline.metadata.creationTimestamp)) config.createdAt = *created;
  return config;
}

std::optional<scaling::NatsLagProbeConfig> natsProbeConfig(const spec::ConsumerPipeline& pipeline,
                                                           const SecretsByName& secrets, std::string& why) {
  const auto& nats = pipeline.spec.source.nats;
  if (!nats) return std::nullopt;
  scaling::NatsLagProbeConfig config;
  if (const auto security = natsProbeSecurity(*nats, secrets, config.connection); !security) {
    why = security.message();
    return std::nullopt;
  }
  config.connection.servers = nats->servers;
  config.stream = nats->stream;
  config.consumer = spec::effectiveNatsConsumer(pipeline);
  config.filterSubject = nats->filterSubject;
  return config;
}

}  // namespace sluice::controller
