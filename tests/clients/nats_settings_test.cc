#include "clients/nats_settings.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <utility>
#include <vector>

namespace sluice::clients {
namespace {

NatsClientSettings base() {
  NatsClientSettings s;
  s.servers = {"nats://127.0.0.1:4222"};
  return s;
}

TEST(NatsClientSettings, CredentialChangesChangeThePoolKey) {
  NatsClientSettings a;
  NatsClientSettings b;
  b.tls = NatsTls{};
  b.tls->caPem = "CA PEM";
  EXPECT_NE(a.key(), b.key());  // a rotated Secret gets a fresh connection, not the old one
}

// Two users share a connection only when everything that reaches the server is the same.
TEST(NatsClientSettings, KeyChangesWithEveryCredentialAndTlsItem) {
  const std::string plain = base().key();
  EXPECT_EQ(base().key(), plain);
  const std::vector<std::pair<const char*, void (*)(NatsClientSettings&)>> edits = {
      {"servers", [](NatsClientSettings& s) { s.servers.push_back("nats://127.0.0.1:4223"); }},
      {"name", [](NatsClientSettings& s) { s.name = "probe"; }},
      {"credsFile", [](NatsClientSettings& s) { s.auth.credsFile = "/c"; }},
      {"nkeySeedFile", [](NatsClientSettings& s) { s.auth.nkeySeedFile = "/n"; }},
      {"token", [](NatsClientSettings& s) { s.auth.token = "t"; }},
      {"username", [](NatsClientSettings& s) { s.auth.username = "u"; }},
      {"password", [](NatsClientSettings& s) { s.auth.password = "p"; }},
      {"tls", [](NatsClientSettings& s) { s.tls = NatsTls{}; }},
      {"insecureSkipVerify",
       [](NatsClientSettings& s) {
         s.tls = NatsTls{};
         s.tls->insecureSkipVerify = true;
       }},
      {"caPem",
       [](NatsClientSettings& s) {
         s.tls = NatsTls{};
         s.tls->caPem = "CA";
       }},
      {"caFile",
       [](NatsClientSettings& s) {
         s.tls = NatsTls{};
         s.tls->caFile = "/ca";
       }},
      {"certPem",
       [](NatsClientSettings& s) {
         s.tls = NatsTls{};
         s.tls->certPem = "C";
       }},
      {"keyPem",
       [](NatsClientSettings& s) {
         s.tls = NatsTls{};
         s.tls->keyPem = "K";
       }},
      {"certFile",
       [](NatsClientSettings& s) {
         s.tls = NatsTls{};
         s.tls->certFile = "/c";
       }},
      {"keyFile",
       [](NatsClientSettings& s) {
         s.tls = NatsTls{};
         s.tls->keyFile = "/k";
       }},
  };
  std::set<std::string> keys = {plain};
  for (const auto& [name, edit] : edits) {
    NatsClientSettings s = base();
    edit(s);
    EXPECT_TRUE(keys.insert(s.key()).second)
        << name << " leaves the key as it is, or as another edit makes it";
  }
}

}  // namespace
}  // namespace sluice::clients
