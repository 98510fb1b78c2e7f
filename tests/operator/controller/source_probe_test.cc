#include "operator/controller/source_probe.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>

namespace sluice::controller {
namespace {

class RecordingProber final : public TcpProber {
 public:
  common::Status connect(const std::string& address, int port, std::chrono::milliseconds) override {
    attempts.push_back(address + ":" + std::to_string(port));
    return open.count(address + ":" + std::to_string(port)) ? common::Status::ok()
                                                            : common::unavailable("Connection refused");
  }
  std::vector<std::string> resolve(const std::string& host) override { return names[host]; }
  std::vector<std::string> attempts;
  std::set<std::string> open;
  std::map<std::string, std::vector<std::string>> names;
};

spec::PipelineSpec kafka(const std::string& bootstrap) {
  spec::PipelineSpec s;
  s.source.kafka = spec::KafkaSourceSpec{};
  s.source.kafka->bootstrapServers = bootstrap;
  return s;
}

TEST(SourceProbe, ClassifiesAddresses) {
  EXPECT_EQ(classifyHost("127.0.0.1"), AddressClass::kLoopback);
  EXPECT_EQ(classifyHost("127.3.2.1"), AddressClass::kLoopback);
  EXPECT_EQ(classifyHost("::1"), AddressClass::kLoopback);
  EXPECT_EQ(classifyHost("localhost"), AddressClass::kLoopback);
  EXPECT_EQ(classifyHost("10.96.0.10"), AddressClass::kPrivate);
  EXPECT_EQ(classifyHost("172.16.0.1"), AddressClass::kPrivate);
  EXPECT_EQ(classifyHost("172.31.255.1"), AddressClass::kPrivate);
  EXPECT_EQ(classifyHost("172.32.0.1"), AddressClass::kPublic);
  EXPECT_EQ(classifyHost("192.168.1.5"), AddressClass::kPrivate);
  EXPECT_EQ(classifyHost("169.254.1.1"), AddressClass::kPrivate);
  EXPECT_EQ(classifyHost("kafka.shop.svc"), AddressClass::kName);
}

TEST(SourceProbe, ParsesKafkaAndNatsEndpoints) {
  auto endpoints = sourceEndpoints(kafka("a:9092, b:9093,[::1]:9094,c"));
  ASSERT_EQ(endpoints.size(), 4u);
  EXPECT_EQ(endpoints[1].host, "b");
  EXPECT_EQ(endpoints[1].port, 9093);
  EXPECT_EQ(endpoints[2].host, "::1");
  EXPECT_EQ(endpoints[3].port, 9092);
  spec::PipelineSpec nats;
  nats.source.nats = spec::NatsSourceSpec{};
  nats.source.nats->servers = {"nats://user:pw@127.0.0.1:4223", "tls://nats"};
  endpoints = sourceEndpoints(nats);
  EXPECT_EQ(endpoints[0].host, "127.0.0.1");
  EXPECT_EQ(endpoints[0].port, 4223);
  EXPECT_EQ(endpoints[1].port, 4222);
}

TEST(SourceProbe, NeverConnectsToPrivateAddressesOrNamesByDefault) {
  RecordingProber prober;
  prober.names["kafka"] = {"127.0.0.1"};
  const auto observed = probeSource(kafka("10.0.0.5:9092,192.168.0.2:9092,kafka:9092"), prober, {});
  EXPECT_TRUE(prober.attempts.empty());
  EXPECT_EQ(observed.state, SourceState::kSkipped);
  EXPECT_NE(observed.message.find("kafka"), std::string::npos);
}

// The prober here is a recording fake: no test connects to a non-loopback address.
TEST(SourceProbe, NamesAndPrivateAddressesAreProbedWhenAllowed) {
  RecordingProber prober;
  prober.names["kafka"] = {"10.96.0.12"};
  prober.open = {"10.96.0.12:9092"};
  ProbePolicy policy;
  policy.allowNonLoopback = true;
  auto observed = probeSource(kafka("kafka:9092"), prober, policy);
  EXPECT_EQ(prober.attempts, std::vector<std::string>{"10.96.0.12:9092"});
  EXPECT_EQ(observed.state, SourceState::kReachable);
  prober.attempts.clear();
  observed = probeSource(kafka("192.168.0.2:9092"), prober, policy);
  EXPECT_EQ(prober.attempts, std::vector<std::string>{"192.168.0.2:9092"});
  EXPECT_EQ(observed.state, SourceState::kUnreachable);
}

TEST(SourceProbe, LoopbackIsProbedAndTheFirstOpenServerWins) {
  RecordingProber prober;
  prober.open = {"127.0.0.1:9093"};
  auto observed = probeSource(kafka("127.0.0.1:9092,127.0.0.1:9093"), prober, {});
  EXPECT_EQ(observed.state, SourceState::kReachable);
  EXPECT_EQ(prober.attempts.size(), 2u);
  prober.open.clear();
  observed = probeSource(kafka("localhost:9092"), prober, {});
  EXPECT_EQ(observed.state, SourceState::kUnreachable);
  EXPECT_NE(observed.message.find("Connection refused"), std::string::npos);
}

TEST(SystemTcpProber, ConnectsToALoopbackListenerAndReportsARefusal) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const int port = ntohs(addr.sin_port);
  SystemTcpProber prober;
  EXPECT_TRUE(prober.connect("127.0.0.1", port, std::chrono::milliseconds(500)).isOk());
  ::close(fd);
  EXPECT_FALSE(prober.connect("127.0.0.1", port, std::chrono::milliseconds(500)).isOk());
}

}  // namespace
}  // namespace sluice::controller
