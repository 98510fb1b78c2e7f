// nats_bench: on one JetStream stream, in one run, how fast each consumer drains N messages with
// explicit acks: a minimal nats.c fetch-and-ack loop (the ceiling a pull consumer can reach) and
// sluice-worker with the discard sink. Each runs as its own process on its own durable consumer;
// the clock runs from the consumer's first delivery to its ack floor reaching N, read from the
// server's consumer info by this parent for both, so both are measured the same way. Prints a table.
//
//   nats_bench [--worker PATH] <nats-url> [messages=200000] [bytes=100] [rounds=3]
// --worker runs another sluice-worker binary (e.g. a sanitizer build's); default: this build's.
// (nats_bench --raw <url> <stream> <consumer> <count> is the raw loop's own process.)
#include <nats/nats.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

void check(natsStatus s, const char* what) {
  if (s == NATS_OK) return;
  std::fprintf(stderr, "%s: %s\n", what, natsStatus_GetText(s));
  std::exit(1);
}

long rssKiB(pid_t pid, const char* field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field, 0) == 0) return std::atol(line.c_str() + std::string(field).size());
  }
  return 0;
}

void publish(jsCtx* js, const std::string& subject, long count, int bytes) {
  const std::string payload(static_cast<size_t>(bytes), 'x');
  for (long i = 0; i < count; ++i) {
    check(js_PublishAsync(js, subject.c_str(), payload.data(), bytes, nullptr), "publish");
  }
  jsPubOptions o;
  jsPubOptions_Init(&o);
  o.MaxWait = 60000;
  check(js_PublishAsyncComplete(js, &o), "publish complete");
}

// The raw loop: one durable pull consumer, fetch up to kRawBatch at a time (sluice-worker's largest
// fetch), ack each, until done.
constexpr int kRawBatch = 1000;

[[noreturn]] void rawLoop(const std::string& url, const std::string& stream, const std::string& consumer,
                          long count) {
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  check(natsConnection_ConnectTo(&nc, url.c_str()), "connect");
  check(natsConnection_JetStream(&js, nc, nullptr), "jetstream");
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = stream.c_str();
  so.Consumer = consumer.c_str();
  natsSubscription* sub = nullptr;
  check(js_PullSubscribe(&sub, js, nullptr, consumer.c_str(), nullptr, &so, nullptr), "pull subscribe");
  long done = 0;
  while (done < count) {
    natsMsgList list{nullptr, 0};
    jsFetchRequest req;
    jsFetchRequest_Init(&req);
    req.Batch = kRawBatch;
    req.Expires = 1000LL * 1000 * 1000;
    const natsStatus s = natsSubscription_FetchRequest(&list, sub, &req);
    for (int i = 0; i < list.Count; ++i) natsMsg_Ack(list.Msgs[i], nullptr);
    done += list.Count;
    natsMsgList_Destroy(&list);
    if (s != NATS_OK && s != NATS_TIMEOUT) check(s, "fetch");
  }
  natsConnection_Flush(nc);
  natsSubscription_Destroy(sub);
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
  std::_Exit(0);
}

void addConsumer(jsCtx* js, const std::string& stream, const std::string& name, long maxAckPending) {
  jsConsumerConfig cc;
  jsConsumerConfig_Init(&cc);
  cc.Durable = name.c_str();
  cc.AckPolicy = js_AckExplicit;
  cc.AckWait = 30LL * 1000 * 1000 * 1000;
  cc.MaxAckPending = maxAckPending;
  cc.MaxDeliver = -1;
  jsConsumerInfo* ci = nullptr;
  check(js_AddConsumer(&ci, js, stream.c_str(), &cc, nullptr, nullptr), "add consumer");
  jsConsumerInfo_Destroy(ci);
}

struct Result {
  double seconds = 0;
  long peakRssKiB = 0;
  long redelivered = 0;
  bool died = false;    // the child ended abnormally before finishing (reaped here)
  bool reaped = false;  // the child exited on its own (reaped here)
};

// Polls the consumer until its ack floor reaches `count`, sampling the child's RSS meanwhile.
Result watch(jsCtx* js, const std::string& stream, const std::string& consumer, long count, pid_t child) {
  Result r;
  Clock::time_point first{};
  const auto deadline = Clock::now() + std::chrono::minutes(5);
  bool exited = false;  // the raw loop exits on its own once it has acked everything
  while (Clock::now() < deadline) {
    int status = 0;
    if (!exited && waitpid(child, &status, WNOHANG) == child) {
      exited = true;
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        std::fprintf(stderr, "%s: its process ended before finishing (%s %d)\n", consumer.c_str(),
                     WIFSIGNALED(status) ? "signal" : "exit status",
                     WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
        r.died = true;
        return r;
      }
    }
    if (!exited) r.peakRssKiB = std::max(r.peakRssKiB, rssKiB(child, "VmRSS:"));
    jsConsumerInfo* ci = nullptr;
    if (js_GetConsumerInfo(&ci, js, stream.c_str(), consumer.c_str(), nullptr, nullptr) == NATS_OK) {
      const auto now = Clock::now();
      if (first == Clock::time_point{} && ci->Delivered.Consumer > 0) first = now;
      const bool finished = static_cast<long>(ci->AckFloor.Stream) >= count && ci->NumAckPending == 0;
      r.redelivered = ci->NumRedelivered;
      jsConsumerInfo_Destroy(ci);
      if (finished) {
        r.reaped = exited;
        r.seconds = std::chrono::duration<double>(now - first).count();
        return r;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::fprintf(stderr, "%s did not finish within 5 minutes\n", consumer.c_str());
  return r;
}

std::string workerBinary = SLUICE_WORKER_BINARY;

pid_t spawnWorker(const std::string& url, const std::string& stream, const std::string& consumer,
                  const std::string& dir) {
  const std::string config = dir + "/" + consumer + ".yaml";
  std::ofstream(config) << "apiVersion: sluice.dev/v1alpha1\nkind: ConsumerPipeline\n"
                        << "metadata: {name: bench, namespace: bench}\nspec:\n"
                        << "  source:\n    nats: {servers: [\"" << url << "\"], stream: " << stream
                        << ", consumer: " << consumer << ", ackWaitSeconds: 30}\n"
                        << "  batch: {maxMessages: 500, maxWaitMs: 20}\n"
                        << "  processing: {ordering: none, concurrency: 4}\n"
                        << "  backpressure: {maxInFlightMessages: 10000, maxInFlightBytes: 67108864}\n"
                        << "  sink: {discard: {}}\n";
  std::fflush(stdout);
  const pid_t pid = fork();
  if (pid == 0) {
    const std::string log = dir + "/" + consumer + ".log";
    freopen(log.c_str(), "w", stdout);
    freopen(log.c_str(), "a", stderr);
    execl(workerBinary.c_str(), workerBinary.c_str(), "--config", config.c_str(), "--metrics-address",
          "127.0.0.1:0", "--health-address", "127.0.0.1:0", static_cast<char*>(nullptr));
    std::_Exit(127);
  }
  return pid;
}

void stop(pid_t pid, int sig) {
  kill(pid, sig);
  waitpid(pid, nullptr, 0);
}

}  // namespace

pid_t spawnRaw(const std::string& url, const std::string& stream, const std::string& consumer, long count) {
  std::fflush(stdout);
  const pid_t pid = fork();
  if (pid == 0) {
    const std::string n = std::to_string(count);
    execl("/proc/self/exe", "nats_bench", "--raw", url.c_str(), stream.c_str(), consumer.c_str(), n.c_str(),
          static_cast<char*>(nullptr));
    std::_Exit(127);
  }
  return pid;
}

int main(int argc, char** argv) {
  if (argc == 6 && std::string(argv[1]) == "--raw") rawLoop(argv[2], argv[3], argv[4], std::atol(argv[5]));
  if (argc >= 3 && std::string(argv[1]) == "--worker") {
    workerBinary = argv[2];
    argv[2] = argv[0];
    argv += 2;
    argc -= 2;
  }
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s [--worker PATH] <nats-url> [messages=200000] [bytes=100] [rounds=3]\n",
                 argv[0]);
    return 2;
  }
  const std::string url = argv[1];
  const long count = argc > 2 ? std::atol(argv[2]) : 200000;
  const int bytes = argc > 3 ? std::atoi(argv[3]) : 100;
  const int rounds = argc > 4 ? std::atoi(argv[4]) : 3;
  const std::string stream = "BENCH_" + std::to_string(getpid());
  const std::string dir = "/tmp/" + stream;
  std::system(("mkdir -p " + dir).c_str());

  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  check(natsConnection_ConnectTo(&nc, url.c_str()), "connect");
  check(natsConnection_JetStream(&js, nc, nullptr), "jetstream");
  jsStreamConfig sc;
  jsStreamConfig_Init(&sc);
  sc.Name = stream.c_str();
  const std::string subject = stream + ".data";
  const char* subjects[] = {subject.c_str()};
  sc.Subjects = subjects;
  sc.SubjectsLen = 1;
  sc.Storage = js_MemoryStorage;
  jsStreamInfo* si = nullptr;
  check(js_AddStream(&si, js, &sc, nullptr, nullptr), "add stream");
  jsStreamInfo_Destroy(si);
  const auto p0 = Clock::now();
  publish(js, subject, count, bytes);
  std::printf("stream %s: %ld messages of %d bytes (memory storage), published in %.1f s\n", stream.c_str(),
              count, bytes, std::chrono::duration<double>(Clock::now() - p0).count());

  std::vector<double> raw, worker;
  std::vector<long> rawRss, workerRss;
  for (int round = 0; round < rounds; ++round) {
    const std::string rawName = "raw" + std::to_string(round);
    addConsumer(js, stream, rawName, 10000);
    const pid_t rawPid = spawnRaw(url, stream, rawName, count);
    const Result r = watch(js, stream, rawName, count, rawPid);
    if (!r.died && !r.reaped) stop(rawPid, SIGKILL);
    raw.push_back(r.seconds);
    rawRss.push_back(r.peakRssKiB);

    const std::string workerName = "sluice" + std::to_string(round);
    const pid_t workerPid = spawnWorker(url, stream, workerName, dir);
    const Result w = watch(js, stream, workerName, count, workerPid);
    if (w.died) {
      std::fprintf(stderr, "sluice-worker died in round %d: see %s/%s.log\n", round + 1, dir.c_str(),
                   workerName.c_str());
      js_DeleteStream(js, stream.c_str(), nullptr, nullptr);
      return 1;
    }
    if (!w.reaped) stop(workerPid, SIGTERM);
    worker.push_back(w.seconds);
    workerRss.push_back(w.peakRssKiB);
    std::printf(
        "round %d: raw loop %.2f s (%.0f msg/s, %ld MiB), sluice-worker %.2f s (%.0f msg/s, %ld MiB, %ld "
        "redelivered)\n",
        round + 1, r.seconds, count / r.seconds, r.peakRssKiB / 1024, w.seconds, count / w.seconds,
        w.peakRssKiB / 1024, w.redelivered);
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  const double rawRate = count / median(raw);
  const double workerRate = count / median(worker);
  std::printf("\n| consumer | msgs/s (median of %d) | peak RSS MiB | vs raw |\n|---|---:|---:|---:|\n",
              rounds);
  std::printf("| raw nats.c fetch(1000)+ack loop | %.0f | %ld | 1.00x |\n", rawRate,
              *std::max_element(rawRss.begin(), rawRss.end()) / 1024);
  std::printf("| sluice-worker, discard sink | %.0f | %ld | %.2fx |\n", workerRate,
              *std::max_element(workerRss.begin(), workerRss.end()) / 1024, workerRate / rawRate);
  js_DeleteStream(js, stream.c_str(), nullptr, nullptr);
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
  return 0;
}
