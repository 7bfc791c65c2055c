// The simulation's network: carries a service's outbound requests to another service's handler
// in process, on the scheduler's thread, through the same handler code that serves real HTTP.
// Seeded faults can drop, duplicate, delay, fail, time out or corrupt any message of a link, of a
// kind, or one message alone ("the 2nd username webhook for alice"); outages make a system
// unreachable for a time window.
#pragma once

#include "linksim/common/http.hpp"
#include "linksim/common/random.hpp"
#include "linksim/sim/scheduler.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace linksim::sim {

enum class fault_kind {
  drop,       // never arrives; the sender sees a transport error
  duplicate,  // arrives twice; the sender sees the first answer
  delay,      // the sender gives up (transport error) and it arrives later: a reorder
  error_5xx,  // never reaches the handler; the sender gets 503
  timeout,    // reaches the handler, but the answer is lost: the sender sees a transport error
  corrupt,    // reaches the handler; its answer arrives with another body (a connection closed
              // mid-answer, or a broken peer): the rule's, or the first half of its own
};
std::optional<fault_kind> parse_fault_kind(std::string_view s);
std::string_view to_string(fault_kind k);

// Which messages a fault applies to. Empty fields match anything.
struct message_filter {
  std::string from;         // sending system, e.g. "idp"
  std::string to;           // receiving system, e.g. "threads"
  std::string path_prefix;  // e.g. "/webhooks/instagram"
  // For account changes: the change's webhook field (e.g. "username") and the provider account
  // it is about. They read a webhook's entries, a pushed SET, and the SETs of a poll answer: a
  // fault from idp to threads that names them applies to the answer carrying such a SET (RFC
  // 8936), which is lost (drop, delay, timeout: the SET stays unacknowledged and comes again),
  // refused (error_5xx), or delivered with the next poll's acknowledgements lost (duplicate:
  // the SET comes again).
  std::string field;
  std::string subject;
};

struct fault_rule {
  fault_kind kind = fault_kind::drop;
  message_filter match;
  double probability = 1.0;                 // drawn from the network's own seeded stream
  std::optional<std::uint64_t> nth;         // only the nth matching message (1-based)
  milliseconds delay{0};                    // for `delay`: how late it arrives
  milliseconds jitter{0};                   // ± uniformly
  std::optional<std::string> body;          // for `corrupt`: the answer's body instead of its own
  std::optional<int> status;                // for `corrupt`: the answer's status instead of its own
  std::vector<http::header_field> headers;  // for `corrupt`: fields set on the answer
};

struct outage {
  std::string system;
  time_point from;
  time_point until;
};

// One message on the network as the simulation saw it, for diagrams and walkthroughs
// (`linksim explain`). Bodies are kept as sent: whoever shows them redacts secrets.
struct message {
  std::uint64_t seq = 0;  // order of sending (a message's nested calls complete before it)
  time_point at;
  std::string from;       // sending system ("browser", "operator", "idp", "threads")
  std::string to;         // receiving system, or the host name when nothing is attached
  http::request request;  // origin-form target
  // What became of it: "delivered", "dropped", "duplicated", "delayed" (the sender gave up),
  // "arrived_late" (a delayed message reaching its handler), "error_5xx", "timeout",
  // "corrupted" (the sender got another body than `response`, the handler's), "unreachable".
  std::string fate;
  std::optional<http::response> response;  // the answer the handler gave, if it ran
  // Sent by the harness in a party's name (network::scripted_endpoint), not by the party.
  bool scripted = false;
};

struct network_stats {
  std::uint64_t sent = 0;
  std::uint64_t delivered = 0;  // reached a handler (duplicates count twice)
  std::uint64_t dropped = 0;
  std::uint64_t duplicated = 0;
  std::uint64_t delayed = 0;
  std::uint64_t failed_5xx = 0;
  std::uint64_t timed_out = 0;
  std::uint64_t corrupted = 0;
  std::uint64_t unreachable = 0;  // outage or unknown host
};

class network {
 public:
  // `random` draws the faults: a stream of its own, so that adding a fault does not change the
  // services' tokens.
  network(scheduler& s, random_source& random);
  ~network();
  network(const network&) = delete;
  network& operator=(const network&) = delete;

  // Requests to `origin` ("http://idp.sim") reach `h`, served as `system`. `h` may be replaced
  // (a restarted service) by attaching again.
  void attach(const std::string& system, const std::string& origin, http::handler h);
  // Requests to `system` fail as if nothing listened (a crashed service) until attached again.
  void detach(const std::string& system);
  // The transport a system sends through: its messages carry it as their sender.
  http::transport& endpoint(const std::string& system);
  // The transport a scenario sends through in `system`'s name: its messages carry `system` as
  // their sender, as a forged or replayed message would, and are marked `scripted`, so that an
  // audit can tell what a party sent from what was sent as it.
  http::transport& scripted_endpoint(const std::string& system);

  void add_fault(fault_rule r) { faults_.push_back({std::move(r), 0}); }
  void add_outage(outage o) { outages_.push_back(std::move(o)); }
  const network_stats& stats() const { return stats_; }
  // Called for every message after its fate is known. One observer; empty to stop.
  void observe(std::function<void(const message&)> observer) { observer_ = std::move(observer); }

 private:
  class sender;
  struct host {
    std::string system;
    std::string origin;
    http::handler handler;
  };
  struct armed_fault {
    fault_rule rule;
    std::uint64_t seen = 0;
  };
  result<http::response> send(const std::string& from, bool scripted, http::request req);
  const host* route(const std::string& target) const;
  bool matches(const message_filter& f, const std::string& from, const host& to,
               const http::request& req, std::string_view path) const;
  http::response deliver(const host& to, http::request req);
  // A message the fault's filter matched: counted, then struck if it is the rule's nth and the
  // seeded draw says so.
  bool strikes(armed_fault& f);
  static http::response injected_503();
  http::response corrupted(const fault_rule& rule, http::response answer);
  // What a fault on a poll answer made of it: the fate the observer is told, the answer it is
  // shown (the transmitter's) and the receiver's outcome.
  struct struck {
    const char* fate;
    result<http::response> outcome;
    std::optional<http::response> shown;
  };
  // A poll answer's fate under the faults that name a SET it carries (see message_filter);
  // nullopt when none applies.
  std::optional<struck> poll_answer_fault(const std::string& receiver, const host& transmitter,
                                          const http::request& req, const http::response& answer);

  scheduler& sched_;
  random_source& random_;
  std::vector<host> hosts_;
  std::vector<armed_fault> faults_;
  std::vector<outage> outages_;
  std::map<std::string, std::unique_ptr<sender>> senders_;
  std::map<std::string, std::unique_ptr<sender>> scripted_senders_;
  network_stats stats_;
  std::function<void(const message&)> observer_;
  std::uint64_t next_seq_ = 0;
  std::set<std::string> lose_next_ack_;  // senders whose next poll's acknowledgements are lost
};

}  // namespace linksim::sim
