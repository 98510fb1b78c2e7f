// #18 item 10: which servers and credentials a NATS destination (sink, dead letter) connects with.
#include <gtest/gtest.h>

#include "worker/nats_connection.h"

namespace sluice::worker {
namespace {

spec::PipelineSpec natsSourceWithCredentials() {
  spec::PipelineSpec spec;
  spec::NatsSourceSpec source;
  source.servers = {"tls://nats:4222"};
  source.stream = "ORDERS";
  source.tls = spec::TlsSpec{};
  spec::NatsAuthSpec auth;
  auth.nkeySeedFile = "/var/run/secrets/sluice/source-user/seed";
  source.auth = auth;
  spec.source.nats = source;
  return spec;
}

TEST(NatsDestination, OnTheSourcesServersItUsesTheSourcesCredentials) {
  const auto spec = natsSourceWithCredentials();
  for (const auto& own : {std::vector<std::string>{}, std::vector<std::string>{"tls://nats:4222"}}) {
    const auto endpoint = destinationEndpoint(own, std::nullopt, std::nullopt, spec, "sink");
    EXPECT_EQ(endpoint.servers, spec.source.nats->servers);
    ASSERT_TRUE(endpoint.tls);
    ASSERT_TRUE(endpoint.auth);
    EXPECT_EQ(endpoint.auth->nkeySeedFile, "/var/run/secrets/sluice/source-user/seed");
  }
}

TEST(NatsDestination, ElsewhereItUsesOnlyItsOwn) {
  const auto spec = natsSourceWithCredentials();
  auto endpoint = destinationEndpoint({"nats://other:4222"}, std::nullopt, std::nullopt, spec, "dead-letter");
  EXPECT_EQ(endpoint.servers, std::vector<std::string>{"nats://other:4222"});
  EXPECT_FALSE(endpoint.tls) << "the source's credentials never go to another cluster";
  EXPECT_FALSE(endpoint.auth);

  spec::NatsAuthSpec own;
  own.credsFile = "/var/run/secrets/sluice/dlq-user/user.creds";
  spec::TlsSpec tls;
  tls.caFile = "/var/run/secrets/sluice/dlq-tls/ca.crt";
  endpoint = destinationEndpoint({"tls://other:4222"}, tls, own, spec, "dead-letter");
  ASSERT_TRUE(endpoint.tls);
  EXPECT_EQ(endpoint.tls->caFile, "/var/run/secrets/sluice/dlq-tls/ca.crt");
  ASSERT_TRUE(endpoint.auth);
  EXPECT_EQ(endpoint.auth->credsFile, "/var/run/secrets/sluice/dlq-user/user.creds");
}

TEST(NatsDestination, ItsOwnCredentialsWinOnTheSourcesServersToo) {
  const auto spec = natsSourceWithCredentials();
  spec::NatsAuthSpec own;
  own.tokenFile = "/etc/sink/token";
  const auto endpoint = destinationEndpoint({}, std::nullopt, own, spec, "sink");
  ASSERT_TRUE(endpoint.auth);
  EXPECT_EQ(endpoint.auth->tokenFile, "/etc/sink/token");
  EXPECT_TRUE(endpoint.tls) << "TLS not set by the sink: the source's";
}

}  // namespace
}  // namespace sluice::worker
