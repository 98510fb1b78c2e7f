#include "kube/client.h"

#include <gtest/gtest.h>

#include "tests/kube/fake_transport.h"

namespace sluice::kube {
namespace {

using common::ErrorCode;
using testing::FakeTransport;
using testing::queryValue;

TEST(StatusFromResponse, MapsHttpCodesAndKeepsTheServerMessage) {
  struct Case {
    int http;
    std::string reason;
    ErrorCode code;
  };
  const std::vector<Case> cases = {{404, "NotFound", ErrorCode::kNotFound},
                                   {409, "Conflict", ErrorCode::kConflict},
                                   {409, "AlreadyExists", ErrorCode::kAlreadyExists},
                                   {410, "Expired", ErrorCode::kGone},
                                   {429, "TooManyRequests", ErrorCode::kTooManyRequests},
                                   {500, "InternalError", ErrorCode::kUnavailable},
                                   {503, "ServiceUnavailable", ErrorCode::kUnavailable},
                                   {403, "Forbidden", ErrorCode::kPermissionDenied},
                                   {422, "Invalid", ErrorCode::kInvalidArgument}};
  for (const auto& c : cases) {
    const std::string body =
        R"({"kind":"Status","apiVersion":"v1","status":"Failure","message":"the message","reason":")" +
        c.reason + R"(","code":)" + std::to_string(c.http) + "}";
    const auto st = statusFromResponse({c.http, body}, "get x");
    EXPECT_EQ(st.code(), c.code) << c.http << " " << c.reason;
    EXPECT_EQ(st.message(), "get x: the message");
  }
  EXPECT_TRUE(statusFromResponse({201, "{}"}, "x").isOk());
  EXPECT_EQ(statusFromResponse({502, ""}, "x").message(), "x: HTTP 502");
}

TEST(Client, ListFollowsContinueTokensAndRestoresKind) {
  FakeTransport transport;
  transport.addResponse(
      200, R"({"metadata":{"continue":"tok1","resourceVersion":"10"},"items":[{"metadata":{"name":"a"}}]})");
  transport.addResponse(200, R"({"metadata":{"resourceVersion":"11"},"items":[{"metadata":{"name":"b"}}]})");
  Client client(transport, {"sluice-operator", std::chrono::seconds(5), 1});
  auto list = client.list(resources::kDeployments, "shop", {"app=x", ""});
  ASSERT_TRUE(list.isOk()) << list.status().toString();
  ASSERT_EQ(list->items.size(), 2u);
  EXPECT_EQ(list->items[1]["kind"], "Deployment");
  EXPECT_EQ(list->items[1]["apiVersion"], "apps/v1");
  EXPECT_EQ(list->resourceVersion, "11");
  ASSERT_EQ(transport.requests.size(), 2u);
  EXPECT_EQ(transport.requests[0].path, "/apis/apps/v1/namespaces/shop/deployments");
  EXPECT_EQ(queryValue(transport.requests[0], "limit"), "1");
  EXPECT_EQ(queryValue(transport.requests[0], "labelSelector"), "app=x");
  EXPECT_EQ(queryValue(transport.requests[1], "continue"), "tok1");
}

TEST(Client, ListRestartsOnceWhenTheContinueTokenExpired) {
  FakeTransport transport;
  transport.addResponse(200, R"({"metadata":{"continue":"tok1"},"items":[{"metadata":{"name":"a"}}]})");
  transport.addResponse(
      410, R"({"kind":"Status","reason":"Expired","message":"continue token expired","code":410})");
  transport.addResponse(
      200,
      R"({"metadata":{"resourceVersion":"20"},"items":[{"metadata":{"name":"a"}},{"metadata":{"name":"b"}}]})");
  Client client(transport);
  auto list = client.list(resources::kConfigMaps, "");
  ASSERT_TRUE(list.isOk()) << list.status().toString();
  EXPECT_EQ(list->items.size(), 2u);
  EXPECT_EQ(transport.requests[2].path, "/api/v1/configmaps");
}

TEST(Client, ApplyIsAServerSideApplyPatchWithTheFieldManager) {
  FakeTransport transport;
  transport.addResponse(200, R"({"metadata":{"name":"orders","namespace":"shop"}})");
  Client client(transport);
  const nlohmann::json object = {
      {"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "orders"}, {"namespace", "shop"}}}};
  ASSERT_TRUE(client.apply(resources::kConfigMaps, object).isOk());
  const auto& request = transport.requests.at(0);
  EXPECT_EQ(request.method, "PATCH");
  EXPECT_EQ(request.path, "/api/v1/namespaces/shop/configmaps/orders");
  EXPECT_EQ(request.contentType, "application/apply-patch+yaml");
  EXPECT_EQ(queryValue(request, "fieldManager"), "sluice-operator");
  EXPECT_EQ(queryValue(request, "force"), "true");
  // No second, strict decode of the body on the server (it finds only duplicate keys).
  EXPECT_EQ(queryValue(request, "fieldValidation"), "Ignore");
  EXPECT_EQ(nlohmann::json::parse(request.body), object);
}

TEST(Client, PatchStatusIsAMergePatchOnTheStatusSubresource) {
  FakeTransport transport;
  transport.addResponse(200, "{}");
  Client client(transport);
  ASSERT_TRUE(
      client.patchStatus(resources::kConsumerPipelines, "shop", "orders", {{"status", {{"replicas", 2}}}})
          .isOk());
  const auto& request = transport.requests.at(0);
  EXPECT_EQ(request.method, "PATCH");
  EXPECT_EQ(request.path, "/apis/sluice.dev/v1alpha1/namespaces/shop/consumerpipelines/orders/status");
  EXPECT_EQ(request.contentType, "application/merge-patch+json");
}

TEST(Client, GetReturnsNotFoundWithTheServerMessage) {
  FakeTransport transport;
  transport.addResponse(
      404,
      R"({"kind":"Status","reason":"NotFound","message":"secrets \"kafka-user\" not found","code":404})");
  Client client(transport);
  auto got = client.get(resources::kSecrets, "shop", "kafka-user");
  ASSERT_FALSE(got.isOk());
  EXPECT_EQ(got.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(got.status().message().find("kafka-user"), std::string::npos);
}

TEST(Client, DeleteUsesBackgroundPropagation) {
  FakeTransport transport;
  transport.addResponse(200, "{}");
  Client client(transport);
  ASSERT_TRUE(client.remove(resources::kConsumerPipelines, "shop", "orders").isOk());
  EXPECT_EQ(transport.requests.at(0).method, "DELETE");
  EXPECT_EQ(nlohmann::json::parse(transport.requests.at(0).body)["propagationPolicy"], "Background");
}

TEST(Paths, CoreNamedAndClusterScoped) {
  EXPECT_EQ(objectPath(resources::kServiceAccounts, "shop", "w"),
            "/api/v1/namespaces/shop/serviceaccounts/w");
  EXPECT_EQ(collectionPath(resources::kConsumerPipelines, ""), "/apis/sluice.dev/v1alpha1/consumerpipelines");
  EXPECT_EQ(objectPath(resources::kNamespaces, "ignored", "shop"), "/api/v1/namespaces/shop");
  EXPECT_EQ(splitKey("shop/orders"), (std::pair<std::string, std::string>{"shop", "orders"}));
}

}  // namespace
}  // namespace sluice::kube
