// kube::divertSystemCaBundle() sets SSL_CERT_FILE for the whole process, so it is tested in a
// binary of its own (system_trust_test), in one test whose steps depend on each other.
#include "kube/system_trust.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "operator/controller/probe_credentials.h"

namespace sluice::controller {
namespace {

// A self-signed certificate, for a bundle file with one CA in it.
std::string selfSignedPem() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("test-ca"), -1,
                             -1, 0);
  X509_set_issuer_name(cert, name);
  X509_sign(cert, key, EVP_sha256());
  BIO* out = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(out, cert);
  char* data = nullptr;
  const long size = BIO_get_mem_data(out, &data);
  std::string pem(data, static_cast<size_t>(size));
  BIO_free(out);
  X509_free(cert);
  EVP_PKEY_free(key);
  return pem;
}

// How many certificates a new context's default verify paths load (what cpprest does per connection).
int certificatesLoadedByDefault() {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_default_verify_paths(ctx);
  const int n = sk_X509_OBJECT_num(X509_STORE_get0_objects(SSL_CTX_get_cert_store(ctx)));
  SSL_CTX_free(ctx);
  return n;
}

TEST(SystemTrust, DivertsTheDefaultBundleAndTheProbesNameIt) {
  // Nothing to divert: an unreadable bundle leaves OpenSSL's defaults alone.
  ASSERT_EQ(::unsetenv("SLUICE_SYSTEM_CA_BUNDLE"), 0);
  ASSERT_EQ(::setenv("SSL_CERT_FILE", "/nonexistent/ca.pem", 1), 0);
  kube::divertSystemCaBundle();
  EXPECT_EQ(kube::systemCaBundle(), "");
  EXPECT_STREQ(std::getenv("SSL_CERT_FILE"), "/nonexistent/ca.pem");

  char path[] = "/tmp/sluice-system-trust-XXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  std::ofstream(path) << selfSignedPem();
  ASSERT_EQ(::setenv("SSL_CERT_FILE", path, 1), 0);
  ASSERT_EQ(certificatesLoadedByDefault(), 1);

  kube::divertSystemCaBundle();
  EXPECT_EQ(kube::systemCaBundle(), path);
  EXPECT_STREQ(std::getenv("SSL_CERT_FILE"), "/dev/null");
  EXPECT_EQ(certificatesLoadedByDefault(), 0);  // a new connection no longer parses the bundle

  // A child process inherits the diversion and finds the bundle again.
  EXPECT_STREQ(std::getenv("SLUICE_SYSTEM_CA_BUNDLE"), path);
  kube::divertSystemCaBundle();
  EXPECT_EQ(kube::systemCaBundle(), path);
  EXPECT_STREQ(std::getenv("SSL_CERT_FILE"), "/dev/null");

  // The lag probes name the bundle when the pipeline names no CA, and only then.
  spec::KafkaSourceSpec kafka;
  kafka.tls = spec::TlsSpec{};
  kafka.tls->enabled = true;
  auto props = kafkaProbeSecurity(kafka, {});
  ASSERT_TRUE(props.isOk()) << props.status().toString();
  EXPECT_EQ(props->at("ssl.ca.location"), path);
  kafka.tls->secretRef = spec::SecretRef{"kafka-ca"};
  props = kafkaProbeSecurity(kafka, {{"kafka-ca", {{"ca.crt", "CA PEM"}}}});
  ASSERT_TRUE(props.isOk()) << props.status().toString();
  EXPECT_EQ(props->count("ssl.ca.location"), 0u);
  EXPECT_EQ(props->at("ssl.ca.pem"), "CA PEM");

  spec::NatsSourceSpec nats;
  nats.tls = spec::TlsSpec{};
  nats.tls->enabled = true;
  clients::NatsClientSettings settings;
  ASSERT_TRUE(natsProbeSecurity(nats, {}, settings).isOk());
  ASSERT_TRUE(settings.tls.has_value());
  EXPECT_EQ(settings.tls->caFile, path);
  nats.tls->secretRef = spec::SecretRef{"nats-ca"};
  settings = {};
  ASSERT_TRUE(natsProbeSecurity(nats, {{"nats-ca", {{"ca.crt", "CA PEM"}}}}, settings).isOk());
  ASSERT_TRUE(settings.tls.has_value());
  EXPECT_EQ(settings.tls->caPem, "CA PEM");
  EXPECT_EQ(settings.tls->caFile, "");
  std::remove(path);
}

}  // namespace
}  // namespace sluice::controller
