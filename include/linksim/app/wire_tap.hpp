// What `linksim serve` observes of the traffic between its parties, outside the services' code:
// each service sends to the others through a transport the host gives it, and each service's
// server tells the tap of every request it answers. Every message becomes observed flows in the
// evidence log (evidence/wire.hpp), read off the bytes; the services' own declared flows go on
// beside. A request one service sends another is logged once, by the sender's transport: it
// carries a one-time mark the tap issued, which the receiving server's observer recognises. Any
// other request a server answers (a browser's, a relying party's, an outsider's) is logged as
// coming from the party `user`.
#pragma once

#include "linksim/common/clock.hpp"
#include "linksim/common/http.hpp"
#include "linksim/evidence/flow.hpp"
#include "linksim/evidence/wire.hpp"

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace linksim::app {

class wire_tap {
 public:
  // `key` keys the hash that replaces secrets in the log.
  wire_tap(evidence::recorder& log, const clock& clock, const std::string& key);
  ~wire_tap();
  wire_tap(const wire_tap&) = delete;
  wire_tap& operator=(const wire_tap&) = delete;

  // Names the party at `origin` ("http://127.0.0.1:8080"); until named, a message to it is
  // logged with the origin as its receiver.
  void name(const std::string& origin, const std::string& system);
  // The transport `system` sends through: real HTTP, every message logged. Owned by the tap.
  http::transport& transport_for(const std::string& system, milliseconds timeout);

  // The observer for `system`'s server (its host's `observe` option).
  http::observer inbound_for(const std::string& system);

  // The party an absolute URL's origin belongs to, or the origin itself.
  std::string party_of(std::string_view url) const;
  void observe(const evidence::wire_message& m) const;

 private:
  class tapped;
  evidence::recorder& log_;
  const clock& clock_;
  evidence::wire_classifier classifier_;
  mutable std::mutex mutex_;
  std::map<std::string, std::string> parties_;  // origin -> system
  std::vector<std::unique_ptr<tapped>> transports_;
  // The marks of the requests the tapped transports have in flight, and what makes the next.
  std::string issue_mark() const;
  void retire_mark(const std::string& mark) const;
  static constexpr const char* mark_header = "X-Linksim-Wire";
  std::string mark_key_;
  mutable std::set<std::string> in_flight_;
  mutable std::uint64_t marks_ = 0;
};

}  // namespace linksim::app
