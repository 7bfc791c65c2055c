// Observed flows: what a message between two parties carried, read from its bytes by the
// transport that carried it, not reported by the service that sent it. A message's request is a
// flow from its sender to its receiver; its answer, when it carries personal data, a flow back.
// Each is classified into data categories from its content (a field → category map for each
// endpoint, plus detectors for identifiers, e-mail addresses, tokens and secrets), and kept
// with its secrets replaced by a keyed hash, so that what it carried can be checked later
// without the log giving a secret away. docs/evidence.md lists the map.
#pragma once

#include "linksim/common/clock.hpp"
#include "linksim/common/http.hpp"
#include "linksim/evidence/flow.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace linksim::evidence {

// One message as the transport saw it.
struct wire_message {
  time_point time;
  std::string from;  // the sending party: "browser" (a person), "idp", "threads", "partner:x", ...
  std::string to;    // the receiving party
  const http::request* request = nullptr;  // origin-form or absolute target
  // The answer, when the handler ran; `answered` says whether it reached the sender.
  const http::response* response = nullptr;
  bool reached = true;   // the request reached the receiver's handler
  bool answered = true;  // the answer reached the sender
};

// Every data category an observed flow can carry: a rule on any other can never match.
std::vector<std::string> observable_categories();

// The name an observed flow gives a party: a browser is the person using it ("user").
std::string party_name(std::string_view system);

class wire_classifier {
 public:
  // `key` keys the hash that replaces secrets: without it, a reader of the log cannot test a
  // guess of a secret against the hash.
  explicit wire_classifier(std::string key);

  // The observed flows of one message: its request when it reached the receiver, and its
  // answer when that reached the sender and carried any category. Each has `observed` set.
  std::vector<flow> flows_of(const wire_message& m) const;

  // "hmac:" and the first 16 hex digits of HMAC-SHA-256(key, secret).
  std::string keyed(std::string_view secret) const;

 private:
  std::string key_;
};

}  // namespace linksim::evidence
