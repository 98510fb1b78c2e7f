#include "worker/nats_config.h"

#include <algorithm>
#include <charconv>

namespace sluice::worker {

int64_t natsMaxDeliver(const spec::PipelineSpec& spec) {
  if (!spec.processing.deadLetter) return -1;
  return std::max(1, spec.processing.retry.maxAttempts) + 2;
}

bool deliveriesExhausted(uint64_t numDelivered, const spec::PipelineSpec& spec) {
  if (!spec.processing.deadLetter) return false;
  return numDelivered > static_cast<uint64_t>(std::max(1, spec.processing.retry.maxAttempts));
}

NatsConsumerSettings desiredConsumer(const spec::ConsumerPipeline& pipeline) {
  const auto& spec = pipeline.spec;
  NatsConsumerSettings s;
  s.durable = spec::effectiveNatsConsumer(pipeline);
  if (spec.source.nats) {
    s.filterSubject = spec.source.nats->filterSubject;
    s.ackWaitSeconds = spec.source.nats->ackWaitSeconds;
  }
  s.maxAckPending = spec.backpressure.maxInFlightMessages;
  s.maxDeliver = natsMaxDeliver(spec);
  return s;
}

namespace {

template <typename T>
void compare(std::vector<std::string>& out, const char* name, const T& have, const T& want) {
  if (have == want) return;
  out.push_back(std::string(name) + " is " + std::to_string(have) + ", the pipeline wants " +
                std::to_string(want));
}

void compareText(std::vector<std::string>& out, const char* name, const std::string& have,
                 const std::string& want) {
  if (have == want) return;
  auto shown = [](const std::string& v) { return v.empty() ? std::string("(none)") : "'" + v + "'"; };
  out.push_back(std::string(name) + " is " + shown(have) + ", the pipeline wants " + shown(want));
}

}  // namespace

std::vector<std::string> consumerDrift(const NatsConsumerSettings& want, const NatsConsumerSettings& have) {
  std::vector<std::string> out;
  if (have.ackExplicit != want.ackExplicit) {
    out.push_back(std::string("ackPolicy is ") + (have.ackExplicit ? "explicit" : "not explicit") +
                  ", the pipeline needs explicit");
  }
  compareText(out, "filterSubject", have.filterSubject, want.filterSubject);
  compare(out, "ackWait (s)", have.ackWaitSeconds, want.ackWaitSeconds);
  compare(out, "maxAckPending", have.maxAckPending, want.maxAckPending);
  compare(out, "maxDeliver", have.maxDeliver, want.maxDeliver);
  return out;
}

std::vector<std::string> consumerHazards(const NatsConsumerSettings& want, const NatsConsumerSettings& have) {
  std::vector<std::string> out;
  if (!have.ackExplicit) {
    out.push_back("it does not use explicit acks (at-least-once delivery needs AckExplicit)");
  }
  if (have.ackWaitSeconds < want.ackWaitSeconds) {
    out.push_back("its AckWait is " + std::to_string(have.ackWaitSeconds) +
                  " s, shorter than spec.source.nats.ackWaitSeconds (" + std::to_string(want.ackWaitSeconds) +
                  " s): the server would redeliver messages still being processed (duplicates, per-key order "
                  "broken)");
  }
  if (have.maxDeliver != -1 && want.maxDeliver == -1) {
    out.push_back("its MaxDeliver is " + std::to_string(have.maxDeliver) +
                  " and the pipeline has no dead-letter destination: the server stops delivering a message "
                  "after that many unsettled deliveries and nothing ever processes it");
  } else if (have.maxDeliver != -1 && have.maxDeliver < want.maxDeliver) {
    out.push_back("its MaxDeliver is " + std::to_string(have.maxDeliver) + ", below " +
                  std::to_string(want.maxDeliver) +
                  " (processing.retry.maxAttempts + 2): the server may stop delivering a message before the "
                  "worker dead-letters it");
  }
  return out;
}

namespace {

template <typename T>
bool parseNumber(std::string_view text, T& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

std::optional<NatsAckMetadata> parseAckSubject(std::string_view reply) {
  constexpr std::string_view kPrefix = "$JS.ACK.";
  if (reply.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  std::vector<std::string_view> tokens;
  for (std::string_view rest = reply.substr(kPrefix.size());;) {
    const size_t dot = rest.find('.');
    tokens.push_back(rest.substr(0, dot));
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  // 7 tokens: the original form; 9 or more: <domain>.<account hash> first (and maybe a random token last).
  size_t first = 0;
  if (tokens.size() >= 9) {
    first = 2;
  } else if (tokens.size() != 7) {
    return std::nullopt;
  }
  NatsAckMetadata meta;
  meta.stream = std::string(tokens[first]);
  meta.consumer = std::string(tokens[first + 1]);
  const bool ok = parseNumber(tokens[first + 2], meta.numDelivered) &&
                  parseNumber(tokens[first + 3], meta.streamSequence) &&
                  parseNumber(tokens[first + 4], meta.consumerSequence) &&
                  parseNumber(tokens[first + 5], meta.timestampNanos) &&
                  parseNumber(tokens[first + 6], meta.numPending);
  if (!ok) return std::nullopt;
  return meta;
}

NatsKeyRule keyRuleOf(const spec::NatsSourceSpec& source) {
  return {source.keyHeader, source.keySubjectToken};
}

std::optional<std::string> subjectToken(std::string_view subject, int token) {
  if (token < 1) return std::nullopt;
  size_t start = 0;
  for (int i = 1; i < token; ++i) {
    const size_t dot = subject.find('.', start);
    if (dot == std::string_view::npos) return std::nullopt;
    start = dot + 1;
  }
  const size_t end = subject.find('.', start);
  return std::string(
      subject.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
}

std::optional<std::string> natsKey(const NatsKeyRule& rule, std::string_view subject,
                                   const std::vector<std::pair<std::string, std::string>>& headers) {
  if (!rule.header.empty()) {
    for (const auto& [name, value] : headers) {
      if (name == rule.header) return value;
    }
    return std::nullopt;
  }
  if (rule.subjectToken > 0) return subjectToken(subject, rule.subjectToken);
  return std::nullopt;
}

}  // namespace sluice::worker
