// Operator benchmark: create N ConsumerPipelines against the real local API server (scripts/dev-env
// up kube) with a sluice-operator subprocess watching one namespace; print p50/p99/max time from
// create to the worker Deployment being present (seen through a watch), then the operator's RSS and
// CPU at rest. Also when each pipeline's status first shows its generation reconciled (the
// operator's whole first reconcile: RBAC, status, Event). A program that prints figures, not a test.
//
//   operator_bench [--pipelines 500] [--rest-seconds 30] [--clients 8] [--bootstrap host:port]
//                  [--env /tmp/sluice-dev/env] [--operator path/to/sluice-operator] [--min-replicas 0]
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>
#include <utility>
#include <vector>

#include "common/random.h"
#include "kube/config.h"
#include "kube/cpprest_transport.h"
#include "kube/system_trust.h"
#include "kube/watch.h"
#include "tests/support/env_values.h"
#include "tests/support/subprocess.h"

namespace {

using namespace sluice;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

struct Args {
  int pipelines = 500;
  int restSeconds = 30;
  int clients = 8;
  std::string env = "/tmp/sluice-dev/env";
  // A host name: by default the operator neither TCP-probes nor lag-probes it, so the figures are
  // the operator's own path. "--bootstrap 127.0.0.1:1" includes the probes against a refusing port.
  std::string bootstrap = "kafka.bench.invalid:9092";
  std::string operatorBinary = std::string(SLUICE_BINARY_DIR) + "/operator/sluice-operator";
  // 0: the Deployments start without pods (scale from zero on lag). 1: each gets a pod at once
  // (Pending: no kubelet runs here), so the controller manager writes a Pod per pipeline too.
  int minReplicas = 0;
};

Args parseArgs(int argc, char** argv) {
  Args args;
  if (const char* state = std::getenv("SLUICE_STATE")) args.env = std::string(state) + "/env";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--pipelines") args.pipelines = std::atoi(argv[i + 1]);
    if (flag == "--rest-seconds") args.restSeconds = std::atoi(argv[i + 1]);
    if (flag == "--clients") args.clients = std::atoi(argv[i + 1]);
    if (flag == "--env") args.env = argv[i + 1];
    if (flag == "--bootstrap") args.bootstrap = argv[i + 1];
    if (flag == "--operator") args.operatorBinary = argv[i + 1];
    if (flag == "--min-replicas") args.minReplicas = std::atoi(argv[i + 1]);
  }
  return args;
}

// The operator under test, its log truncated per run; SIGKILLed by the Subprocess destructor if
// the bench leaves early.
std::unique_ptr<sluice::testing::Subprocess> spawnOperator(const std::string& binary,
                                                           const std::string& kubeconfig,
                                                           const std::string& ns, const std::string& log,
                                                           bool debug) {
  std::vector<std::string> argv{binary,       "--kubeconfig",      kubeconfig,    "--namespaces",
                                ns,           "--metrics-address", "127.0.0.1:0", "--health-address",
                                "127.0.0.1:0"};
  if (debug) argv.insert(argv.end(), {"--log-level", "debug"});  // each pipeline event and reconcile
  auto op =
      std::make_unique<sluice::testing::Subprocess>(argv, log, sluice::testing::Subprocess::Log::kTruncate);
  if (!op->start()) return nullptr;
  return op;
}

long rssKiB(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

double cpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream fields(text.substr(text.rfind(')') + 2));
  std::vector<std::string> f;
  for (std::string s; fields >> s;) f.push_back(s);
  if (f.size() < 13) return -1;
  return (std::atof(f[11].c_str()) + std::atof(f[12].c_str())) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

json pipeline(const std::string& ns, const std::string& name, const std::string& bootstrap, int minReplicas) {
  return {{"apiVersion", "sluice.dev/v1alpha1"},
          {"kind", "ConsumerPipeline"},
          {"metadata", {{"name", name}, {"namespace", ns}}},
          {"spec",
           {{"source", {{"kafka", {{"bootstrapServers", bootstrap}, {"topics", json::array({"orders"})}}}}},
            {"sink", {{"discard", json::object()}}},
            {"scaling", {{"minReplicas", minReplicas}, {"maxReplicas", 2}, {"lagPerReplica", 1000}}}}}};
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t index =
      std::min(values.size() - 1, static_cast<size_t>(p * static_cast<double>(values.size() - 1) + 0.5));
  return values[index];
}

}  // namespace

int main(int argc, char** argv) {
  // Like kubectl with a kubeconfig CA, the bench's clients do not parse the system CA bundle for
  // each new connection (system_trust.h); the operator it starts inherits the diversion.
  sluice::kube::divertSystemCaBundle();
  const Args args = parseArgs(argc, argv);
  const auto env = sluice::testing::readEnvFile(args.env).value_or(std::map<std::string, std::string>());
  if (!env.count("KUBECONFIG")) {
    std::cerr << "no KUBECONFIG in " << args.env << ": run scripts/dev-env up kube\n";
    return 2;
  }
  auto config = kube::loadKubeconfig(env.at("KUBECONFIG"));
  if (!config) return std::cerr << config.status().toString() << "\n", 2;
  auto transport = kube::makeCpprestTransport(*config);
  if (!transport) return std::cerr << transport.status().toString() << "\n", 2;
  kube::Client client(**transport);
  const std::string ns = "bench-op-" + std::to_string(::getpid());
  if (auto st = client.create(kube::resources::kNamespaces, "",
                              {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}}});
      !st) {
    return std::cerr << st.status().toString() << "\n", 2;
  }

  // Our own watch on the Deployments: the time each one first appears.
  std::mutex mu;
  struct Create {
    Clock::time_point sent;
    Clock::time_point answered;
  };
  std::map<std::string, Create> created;
  std::map<std::string, Clock::time_point> present;
  kube::ObjectCache cache;
  common::StdRandom random;
  kube::Watcher watcher(
      client, {kube::resources::kDeployments, ns, "app.kubernetes.io/managed-by=sluice-operator"}, cache,
      [&](const json& object, bool deleted) {
        if (deleted) return;
        std::lock_guard<std::mutex> lock(mu);
        present.emplace(object["metadata"].value("name", ""), Clock::now());
      },
      random);
  // And on the pipelines: when each status first shows its generation reconciled.
  std::map<std::string, Clock::time_point> reconciled;
  kube::ObjectCache pipelineCache;
  kube::Watcher pipelineWatcher(
      client, {kube::resources::kConsumerPipelines, ns, ""}, pipelineCache,
      [&](const json& object, bool deleted) {
        if (deleted) return;
        const auto generation = object.value("/metadata/generation"_json_pointer, -1);
        if (object.value("/status/observedGeneration"_json_pointer, -2) != generation) return;
        std::lock_guard<std::mutex> lock(mu);
        reconciled.emplace(object["metadata"].value("name", "") + "-worker", Clock::now());
      },
      random);
  kube::Cancellation cancel;
  std::thread watchThread([&] { watcher.run(cancel); });
  std::thread pipelineWatchThread([&] { pipelineWatcher.run(cancel); });
  while (!watcher.synced() || !pipelineWatcher.synced())
    std::this_thread::sleep_for(std::chrono::milliseconds(10));

  const std::string log = "/tmp/sluice-operator-bench.log";
  const char* traceEnv = std::getenv("SLUICE_BENCH_TRACE");
  const std::string tracePath = traceEnv == nullptr ? "" : traceEnv;
  const auto op = spawnOperator(args.operatorBinary, env.at("KUBECONFIG"), ns, log, !tracePath.empty());
  if (!op) {
    std::cerr << "cannot start " << args.operatorBinary << "\n";
    cancel.cancel();
    watchThread.join();
    pipelineWatchThread.join();
    (void)client.remove(kube::resources::kNamespaces, "", ns);
    return 2;
  }
  const pid_t pid = op->pid();
  std::this_thread::sleep_for(std::chrono::seconds(2));  // let it list and watch
  const long rssIdle = rssKiB(pid);

  const auto started = Clock::now();
  const auto startedWall = std::chrono::system_clock::now();
  std::atomic<int> next{0};
  int failures = 0;  // guarded by mu
  std::string firstFailure;
  std::vector<std::thread> creators;
  for (int c = 0; c < args.clients; ++c) {
    creators.emplace_back([&] {
      for (int i = next++; i < args.pipelines; i = next++) {
        const std::string name = "p" + std::to_string(i);
        const auto t0 = Clock::now();
        auto made = client.create(kube::resources::kConsumerPipelines, ns,
                                  pipeline(ns, name, args.bootstrap, args.minReplicas));
        std::lock_guard<std::mutex> lock(mu);
        if (!made) {
          if (failures++ == 0) firstFailure = made.status().toString();
          continue;
        }
        created[name + "-worker"] = {t0, Clock::now()};
      }
    });
  }
  for (auto& t : creators) t.join();
  if (failures == args.pipelines) {
    std::cerr << "every create failed (is the CRD installed? kubectl apply -f crds/): " << firstFailure
              << "\n";
    op->signal(SIGTERM);
    op->wait();
    cancel.cancel();
    watchThread.join();
    pipelineWatchThread.join();
    (void)client.remove(kube::resources::kNamespaces, "", ns);
    return 2;
  }
  const double createSeconds = std::chrono::duration<double>(Clock::now() - started).count();
  const auto deadline = Clock::now() + std::chrono::seconds(120);
  // Until the watch threads have seen every created pipeline in `seen` (or the deadline).
  auto waitForAll = [&](const std::map<std::string, Clock::time_point>& seen) {
    while (Clock::now() < deadline) {
      {
        std::lock_guard<std::mutex> lock(mu);
        if (seen.size() >= created.size()) return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  };
  waitForAll(present);
  const double allSeconds = std::chrono::duration<double>(Clock::now() - started).count();
  waitForAll(reconciled);
  const double allReconciledSeconds = std::chrono::duration<double>(Clock::now() - started).count();
  std::vector<double> latencies;
  std::vector<double> statusLatencies;
  {
    std::lock_guard<std::mutex> lock(mu);
    for (const auto& [name, create] : created) {
      const auto it = present.find(name);
      if (it != present.end())
        latencies.push_back(std::chrono::duration<double, std::milli>(it->second - create.sent).count());
      const auto st = reconciled.find(name);
      if (st != reconciled.end()) {
        statusLatencies.push_back(
            std::chrono::duration<double, std::milli>(st->second - create.sent).count());
      }
    }
  }
  const long rssBusy = rssKiB(pid);
  // SLUICE_BENCH_TRACE=<file>: each pipeline's times in ms after the first create (its create
  // request sent, answered, its Deployment seen; -1: never), in creation order, to see where in the
  // burst the slow ones are. The first line gives the first create's wall-clock time (ms since the
  // epoch), to line the operator's debug log up with it (the bench runs the operator at debug level
  // when tracing: it logs each pipeline event and reconcile).
  if (!tracePath.empty()) {
    auto ms = [&](Clock::time_point t) {
      return std::chrono::duration<double, std::milli>(t - started).count();
    };
    std::vector<std::pair<double, std::string>> order;
    std::lock_guard<std::mutex> lock(mu);
    for (const auto& [name, create] : created) order.emplace_back(ms(create.sent), name);
    std::sort(order.begin(), order.end());
    std::ofstream out(tracePath);
    out << "# first create at "
        << std::chrono::duration_cast<std::chrono::milliseconds>(startedWall.time_since_epoch()).count()
        << " ms since the epoch; columns: name sent answered deployment (ms after it)\n";
    for (const auto& [t0, name] : order) {
      const auto it = present.find(name);
      out << name << ' ' << t0 << ' ' << ms(created.at(name).answered) << ' '
          << (it == present.end() ? -1.0 : ms(it->second)) << '\n';
    }
  }

  // At rest: nothing changes; the operator only requeues its periodic status refresh.
  std::this_thread::sleep_for(std::chrono::seconds(5));
  const double cpu0 = cpuSeconds(pid);
  std::this_thread::sleep_for(std::chrono::seconds(args.restSeconds));
  const double cpu1 = cpuSeconds(pid);
  const long rssRest = rssKiB(pid);

  std::printf("pipelines created      %d (%d create failures) in %.2f s with %d clients (%.0f/s)\n",
              args.pipelines, failures, createSeconds, args.clients,
              (args.pipelines - failures) / createSeconds);
  std::printf("deployments present    %zu in %.2f s after the first create\n", latencies.size(), allSeconds);
  std::printf("create -> Deployment   p50 %.0f ms   p99 %.0f ms   max %.0f ms\n", percentile(latencies, 0.5),
              percentile(latencies, 0.99), percentile(latencies, 1.0));
  std::printf("statuses reconciled    %zu in %.2f s after the first create\n", statusLatencies.size(),
              allReconciledSeconds);
  std::printf("create -> status       p50 %.0f ms   p99 %.0f ms   max %.0f ms\n",
              percentile(statusLatencies, 0.5), percentile(statusLatencies, 0.99),
              percentile(statusLatencies, 1.0));
  std::printf("operator RSS           idle %.1f MiB   after burst %.1f MiB   at rest %.1f MiB\n",
              rssIdle / 1024.0, rssBusy / 1024.0, rssRest / 1024.0);
  std::printf("operator CPU at rest   %.2f%% of one core over %d s (%d pipelines)\n",
              100.0 * (cpu1 - cpu0) / args.restSeconds, args.restSeconds, args.pipelines);

  op->signal(SIGTERM);
  op->wait();
  cancel.cancel();
  watchThread.join();
  pipelineWatchThread.join();
  (void)client.remove(kube::resources::kNamespaces, "", ns);
  return 0;
}
