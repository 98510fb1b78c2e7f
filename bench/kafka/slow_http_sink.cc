// bench-slow-http-sink: an HTTP endpoint on 127.0.0.1:<port> that takes <delay-ms> per request
// (like a real ingest API) and counts the messages it receives (JSON arrays). GET /count answers
// "<requests> <messages>".
//   bench-slow-http-sink <port> <delay-ms>
#include <cpprest/http_listener.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <thread>

namespace http = web::http;

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: bench-slow-http-sink <port> <delay-ms>\n");
    return 2;
  }
  const auto delay = std::chrono::milliseconds(std::atoi(argv[2]));
  std::atomic<long> requests{0};
  std::atomic<long> messages{0};
  http::experimental::listener::http_listener listener(std::string("http://127.0.0.1:") + argv[1] + "/");
  listener.support(http::methods::POST, [&](http::http_request request) {
    const std::string body = request.extract_utf8string(true).get();
    long n = 0;
    // Each message object has exactly one "offset" member (values are escaped strings).
    for (size_t at = body.find("\"offset\":"); at != std::string::npos; at = body.find("\"offset\":", at + 1))
      ++n;
    std::this_thread::sleep_for(delay);
    ++requests;
    messages += n;
    request.reply(http::status_codes::OK).wait();
  });
  listener.support(http::methods::GET, [&](http::http_request request) {
    request
        .reply(http::status_codes::OK,
               std::to_string(requests.load()) + " " + std::to_string(messages.load()))
        .wait();
  });
  listener.open().wait();
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  int sig = 0;
  sigwait(&set, &sig);
  listener.close().wait();
  return 0;
}
