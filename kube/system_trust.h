#pragma once
// The operator's process-wide TLS trust. cpprest loads the system CA bundle (OpenSSL's default
// verify paths: ~140 certificates, 15-25 ms of CPU) into every new connection's TLS context before
// the transport's callback replaces it with the kubeconfig CA. New connections come in bursts: a
// burst of new pipelines opens one per reconcile worker, and cpprest drops pooled connections idle
// for 30 s. Measured on the 500-pipeline benchmark (2 cores): p99 create -> Deployment 1.05-1.40 s
// with the bundle loaded per connection, 0.71-0.80 s without.
//
// divertSystemCaBundle() remembers where the system bundle is and points OpenSSL's default
// (SSL_CERT_FILE) at an empty file, so those contexts start empty; everything in the operator that
// does want the system CAs names the bundle explicitly: the API server client when the kubeconfig
// has no CA, the Kafka and NATS lag probes when the pipeline names no CA.
#include <string>

namespace sluice::kube {

// Call once at start-up, before any other thread exists (it sets environment variables). Leaves
// everything as it is when the bundle is not a readable file. A child process inherits both
// variables: SSL_CERT_FILE=/dev/null and SLUICE_SYSTEM_CA_BUNDLE=<the bundle>, which its own call
// reads back (the operator benchmark diverts its clients' bundle and starts the operator).
void divertSystemCaBundle();

// The system CA bundle's path after divertSystemCaBundle(); empty before it, or when nothing was
// diverted (OpenSSL's defaults are then in effect and need not be named).
const std::string& systemCaBundle();

}  // namespace sluice::kube
