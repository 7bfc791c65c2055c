// Slow clients against one server: many connections trickle a request head a byte at a time
// (and reconnect when closed), while one normal client asks GET /healthz again and again and
// times each answer. Bounded: it stops after --tries normal requests or --seconds, whichever
// comes first. Prints one JSON object.
//
//   slow_clients --port P [--connections 2000] [--trickle-ms 2000] [--tries 300]
//                [--seconds 60] [--source 127.0.0.2] [--pid SERVER_PID]
//
// --source is the slow clients' loopback address (the normal client is 127.0.0.1): the same
// address tests the cap per peer, another one the cap in all. --pid reads the server's
// resident memory before and after.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

struct options {
  std::uint16_t port = 0;
  std::size_t connections = 2000;
  long trickle_ms = 2000;
  std::size_t tries = 300;
  long seconds = 60;
  std::string source = "127.0.0.2";
  long pid = 0;
};

bool parse_number(std::string_view v, auto& out) {
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  return ec == std::errc{} && end == v.data() + v.size();
}

int usage(const std::string& problem) {
  std::cerr << "slow_clients: " << problem
            << "\nusage: slow_clients --port P [--connections N] [--trickle-ms MS] [--tries N]"
               " [--seconds S] [--source ADDRESS] [--pid PID]\n";
  return 2;
}

// A non-blocking TCP connection from `source` to 127.0.0.1:port, or -1.
int open_connection(const std::string& source, std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  sockaddr_in from{};
  from.sin_family = AF_INET;
  ::inet_pton(AF_INET, source.c_str(), &from.sin_addr);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0 ||
      (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0 && errno != EINPROGRESS)) {
    ::close(fd);
    return -1;
  }
  return fd;
}

long resident_kib(long pid) {
  if (pid <= 0) return -1;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("VmRSS:")) return std::stol(line.substr(6));
  }
  return -1;
}

// One normal request on a new connection: its status (0 when none came) and time taken, with
// at most `limit` spent waiting.
std::pair<int, double> normal_request(std::uint16_t port, std::chrono::milliseconds limit) {
  const auto start = clock_type::now();
  const int fd = open_connection("127.0.0.1", port);
  if (fd < 0) return {0, 0};
  const std::string request = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  std::size_t sent = 0;
  std::string answer;
  for (;;) {
    const auto left = limit - (clock_type::now() - start);
    if (left <= std::chrono::milliseconds{0}) break;
    pollfd p{fd, static_cast<short>(sent < request.size() ? POLLOUT : POLLIN), 0};
    if (::poll(&p, 1,
               static_cast<int>(
                   std::chrono::duration_cast<std::chrono::milliseconds>(left).count() + 1)) <= 0) {
      break;
    }
    if (sent < request.size()) {
      const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) break;
      sent += static_cast<std::size_t>(n);
      continue;
    }
    char buf[1024];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    answer.append(buf, static_cast<std::size_t>(n));
    if (answer.find("\r\n") != std::string::npos) break;
  }
  ::close(fd);
  const double ms = std::chrono::duration<double, std::milli>(clock_type::now() - start).count();
  int status = 0;
  if (answer.starts_with("HTTP/1.1 ") && answer.size() >= 12) {
    parse_number(std::string_view(answer).substr(9, 3), status);
  }
  return {status, ms};
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (i + 1 >= argc) return usage("missing value for " + std::string(arg));
    const std::string_view v = argv[++i];
    bool ok = true;
    if (arg == "--port")
      ok = parse_number(v, o.port) && o.port != 0;
    else if (arg == "--connections")
      ok = parse_number(v, o.connections) && o.connections <= 20000;
    else if (arg == "--trickle-ms")
      ok = parse_number(v, o.trickle_ms) && o.trickle_ms >= 10;
    else if (arg == "--tries")
      ok = parse_number(v, o.tries) && o.tries >= 1 && o.tries <= 100000;
    else if (arg == "--seconds")
      ok = parse_number(v, o.seconds) && o.seconds >= 1 && o.seconds <= 3600;
    else if (arg == "--source") {
      in_addr a{};
      o.source = std::string(v);
      ok = ::inet_pton(AF_INET, o.source.c_str(), &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
    } else if (arg == "--pid")
      ok = parse_number(v, o.pid) && o.pid > 0;
    else
      return usage("unknown option " + std::string(arg));
    if (!ok) return usage("bad value for " + std::string(arg) + ": " + std::string(v));
  }
  if (o.port == 0) return usage("--port is required");
  rlimit files{};
  ::getrlimit(RLIMIT_NOFILE, &files);
  if (files.rlim_cur < o.connections + 64) {
    files.rlim_cur = std::min<rlim_t>(files.rlim_max, o.connections + 64);
    ::setrlimit(RLIMIT_NOFILE, &files);
  }

  const long rss_before = resident_kib(o.pid);
  const std::string head = "GET /slow HTTP/1.1\r\nHost: x\r\nX-Padding: ";
  struct slow {
    int fd = -1;
    std::size_t sent = 0;
    clock_type::time_point next;
  };
  std::vector<slow> slows(o.connections);
  const auto trickle = std::chrono::milliseconds(o.trickle_ms);
  const auto start = clock_type::now();
  // Spread the first bytes over one interval, as independent clients would be.
  for (std::size_t i = 0; i < slows.size(); ++i) {
    slows[i].next = start + trickle * static_cast<long>(i) / static_cast<long>(slows.size());
  }
  std::size_t reconnects = 0, open_failures = 0;
  auto tend_slow_clients = [&] {
    const auto now = clock_type::now();
    for (auto& s : slows) {
      if (now < s.next) continue;
      s.next = now + trickle;
      if (s.fd >= 0) {
        // Closed by the server? Then reconnect, as an attacker would.
        char buf[256];
        const ssize_t r = ::recv(s.fd, buf, sizeof buf, MSG_DONTWAIT);
        const bool closed = r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK) || r > 0;
        const char byte = head[s.sent % head.size()];
        if (closed || ::send(s.fd, &byte, 1, MSG_NOSIGNAL) != 1) {
          ::close(s.fd);
          s.fd = -1;
          ++reconnects;
        } else {
          ++s.sent;
          continue;
        }
      }
      s.fd = open_connection(o.source, o.port);
      s.sent = 0;
      if (s.fd < 0) ++open_failures;
    }
  };

  // Let the slow clients take their places first: one whole trickle interval.
  while (clock_type::now() - start < trickle) {
    tend_slow_clients();
    ::usleep(5000);
  }
  std::vector<double> latencies;
  std::size_t within_1s_ok = 0, refused_503 = 0, no_answer = 0;
  const auto deadline = start + std::chrono::seconds(o.seconds);
  while (latencies.size() < o.tries && clock_type::now() < deadline) {
    tend_slow_clients();
    const auto [status, ms] = normal_request(o.port, std::chrono::milliseconds(2000));
    latencies.push_back(ms);
    if (status == 200 && ms <= 1000) ++within_1s_ok;
    if (status == 503) ++refused_503;
    if (status == 0) ++no_answer;
    ::usleep(20000);
  }
  std::size_t open_now = 0;
  for (auto& s : slows) open_now += s.fd >= 0;
  const long rss_after = resident_kib(o.pid);
  for (auto& s : slows) {
    if (s.fd >= 0) ::close(s.fd);
  }
  std::sort(latencies.begin(), latencies.end());
  auto pct = [&](double p) {
    if (latencies.empty()) return 0.0;
    return latencies[std::min(latencies.size() - 1,
                              static_cast<std::size_t>(p * static_cast<double>(latencies.size())))];
  };
  const double share = latencies.empty() ? 0.0
                                         : 100.0 * static_cast<double>(within_1s_ok) /
                                               static_cast<double>(latencies.size());
  std::cout << "{\"slow_connections\":" << o.connections << ",\"slow_source\":\"" << o.source
            << "\",\"trickle_ms\":" << o.trickle_ms << ",\"tries\":" << latencies.size()
            << ",\"answered_200_within_1s_percent\":" << share << ",\"got_503\":" << refused_503
            << ",\"no_answer\":" << no_answer << ",\"latency_ms_p50\":" << pct(0.50)
            << ",\"latency_ms_p99\":" << pct(0.99)
            << ",\"latency_ms_max\":" << (latencies.empty() ? 0.0 : latencies.back())
            << ",\"slow_reconnects\":" << reconnects << ",\"slow_open_failures\":" << open_failures
            << ",\"slow_open_at_end\":" << open_now << ",\"server_rss_kib_before\":" << rss_before
            << ",\"server_rss_kib_after\":" << rss_after << "}" << std::endl;
  return 0;
}
