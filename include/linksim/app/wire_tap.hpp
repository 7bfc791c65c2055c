// What `linksim serve` observes of the traffic between its services: each service sends to the
// others through a transport the host gives it, and that transport writes every message into
// the evidence log as observed flows (evidence/wire.hpp), read off the bytes outside the
// services' code. Their own declared flows go on beside.
#pragma once

#include "linksim/common/clock.hpp"
#include "linksim/common/http.hpp"
#include "linksim/evidence/flow.hpp"
#include "linksim/evidence/wire.hpp"

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace linksim::app {

class wire_tap {
 public:
  // `key` keys the hash that replaces secrets in the log.
  wire_tap(evidence::recorder& log, const clock& clock, std::string key);
  ~wire_tap();
  wire_tap(const wire_tap&) = delete;
  wire_tap& operator=(const wire_tap&) = delete;

  // Names the party at `origin` ("http://127.0.0.1:8080"); until named, a message to it is
  // logged with the origin as its receiver.
  void name(const std::string& origin, const std::string& system);
  // The transport `system` sends through: real HTTP, every message logged. Owned by the tap.
  http::transport& transport_for(const std::string& system, milliseconds timeout);

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
};

}  // namespace linksim::app
