#include "worker/nats_provisioning.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "worker/nats_connection.h"

namespace sluice::worker {
namespace {

int64_t nanosOf(std::chrono::seconds s) { return std::chrono::nanoseconds(s).count(); }

NatsConsumerSettings settingsOf(const jsConsumerInfo& info) {
  NatsConsumerSettings s;
  const jsConsumerConfig& c = *info.Config;
  s.durable = c.Durable ? c.Durable : "";
  s.filterSubject = c.FilterSubject ? c.FilterSubject : "";
  s.ackExplicit = c.AckPolicy == js_AckExplicit;
  s.ackWaitSeconds =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::nanoseconds(c.AckWait)).count();
  s.maxAckPending = c.MaxAckPending;
  s.maxDeliver = c.MaxDeliver <= 0 ? -1 : c.MaxDeliver;
  return s;
}

std::string joined(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : "; ") + p;
  return out;
}

common::Result<ConsumerVerdict> checkExisting(const jsConsumerInfo& info, const std::string& stream,
                                              const NatsConsumerSettings& want, WorkerStats& stats) {
  if (!info.Config) return common::internalError("nats consumer info without a config");
  const std::string name = stream + "/" + want.durable;
  auto hazards = consumerHazards(want, settingsOf(info));
  if (info.Config->DeliverSubject && *info.Config->DeliverSubject) {
    hazards.insert(hazards.begin(), "it is a push consumer (the worker pulls)");
  }
  if (!hazards.empty()) {
    ConsumerVerdict verdict{"nats consumer " + name +
                            " exists with settings that would lose or double-process messages, so the worker "
                            "does not consume from it: " +
                            joined(hazards)};
    spdlog::error("{} (delete it to have it created from the spec: nats consumer rm {} {}; or change it)",
                  verdict.refusal, stream, want.durable);
    stats.setSourceDrift(verdict.refusal);
    return verdict;
  }
  const auto drift = consumerDrift(want, settingsOf(info));
  for (const auto& difference : drift) {
    spdlog::warn("nats consumer {} exists with other settings, kept as it is: {}", name, difference);
  }
  stats.setSourceDrift(drift.empty() ? ""
                                     : "nats consumer " + name +
                                           " exists with other settings, kept as it is: " + joined(drift));
  return ConsumerVerdict{};
}

}  // namespace

common::Result<ConsumerVerdict> provisionConsumer(jsCtx* js, const std::string& stream,
                                                  const NatsConsumerSettings& want, WorkerStats& stats) {
  jsConsumerInfo* raw = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_GetConsumerInfo(&raw, js, stream.c_str(), want.durable.c_str(), nullptr, &jerr);
  if (s == NATS_OK) {
    ConsumerInfoPtr info(raw, &jsConsumerInfo_Destroy);
    return checkExisting(*info, stream, want, stats);
  }
  if (jerr == JSStreamNotFoundErr) {
    return common::unavailable("nats stream '" + stream +
                               "' does not exist: create it (spec.source.nats.stream)");
  }
  if (s != NATS_NOT_FOUND)
    return common::unavailable(natsError(s, "consumer info " + stream + "/" + want.durable));
  jsConsumerConfig cfg;
  jsConsumerConfig_Init(&cfg);
  cfg.Durable = want.durable.c_str();
  cfg.AckPolicy = js_AckExplicit;
  cfg.DeliverPolicy = js_DeliverAll;
  cfg.AckWait = nanosOf(std::chrono::seconds(want.ackWaitSeconds));
  cfg.MaxAckPending = want.maxAckPending;
  cfg.MaxDeliver = want.maxDeliver;
  cfg.FilterSubject = want.filterSubject.empty() ? nullptr : want.filterSubject.c_str();
  s = js_AddConsumer(&raw, js, stream.c_str(), &cfg, nullptr, &jerr);
  if (s != NATS_OK)
    return common::unavailable(natsError(s, "creating consumer " + stream + "/" + want.durable));
  ConsumerInfoPtr info(raw, &jsConsumerInfo_Destroy);
  spdlog::info(
      "nats: created durable pull consumer {}/{} (filter '{}', ackWait {} s, maxAckPending {}, maxDeliver "
      "{})",
      stream, want.durable, want.filterSubject, want.ackWaitSeconds, want.maxAckPending, want.maxDeliver);
  // Two workers may create it at once with different specs: the server keeps the first one.
  return checkExisting(*info, stream, want, stats);
}

common::Result<int64_t> consumerAckPending(jsCtx* js, const std::string& stream, const std::string& durable) {
  jsOptions opts;
  jsOptions_Init(&opts);
  opts.Wait = 2000;
  jsConsumerInfo* raw = nullptr;
  const natsStatus s = js_GetConsumerInfo(&raw, js, stream.c_str(), durable.c_str(), &opts, nullptr);
  if (s != NATS_OK) return common::unavailable(natsError(s, "consumer info " + stream + "/" + durable));
  ConsumerInfoPtr info(raw, &jsConsumerInfo_Destroy);
  return info->NumAckPending;
}

}  // namespace sluice::worker
