// A data flow, the unit of evidence: which system sent which data about whom to which system,
// for what purpose, through which channel, when. Services report flows to a recorder they are
// given; the evidence log is the recorder that keeps them.
#pragma once

#include "linksim/common/clock.hpp"
#include "linksim/common/error.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace linksim::evidence {

struct flow {
  time_point time;
  std::string from;                     // sending system, e.g. "idp"
  std::string to;                       // receiving system, e.g. "threads"
  std::string subject;                  // the account the data is about (the IdP's user id)
  std::vector<std::string> categories;  // fideslang-style keys: "user.account.username"
  std::string purpose;                  // fideslang-style data use: "essential.service"
  std::string channel;                  // "oauth.token", "graph.me", "webhook", ...
  std::string payload_digest;           // hex SHA-256 of the bytes that carried the data
  std::string note;                     // free text: an HTTP status, a field name
  // Read off the wire by the transport (evidence/wire.hpp), not reported by a service: a
  // service's own report is a *declared* flow.
  bool observed = false;

  bool operator==(const flow&) const = default;
};

// What a check read of a service's state, logged beside the flows so that the values a verdict
// compared are evidence too: from "auditor" to the system read, on this channel, with the
// digest of the answer and the values compared in the note. Not a flow of personal data between
// parties: flow rules, counts and the undisclosed-flow analysis leave it out.
inline constexpr std::string_view state_read_from = "auditor";
inline constexpr std::string_view state_read_channel = "audit.state_read";
inline bool is_state_read(const flow& f) {
  return f.from == state_read_from && f.channel == state_read_channel;
}

// The canonical bytes of a flow: JSON with fixed key order and no spaces. These bytes are the
// Merkle leaf, so the same flow always hashes the same. An observed flow ends with
// `"observed":true`; a declared one has no such key.
std::string canonical_entry(const flow& f);
// Parses canonical bytes back; errc::bad_json when they are not a flow.
result<flow> parse_entry(std::string_view entry);

// Fides-style matching of dotted keys: a key covers itself and its subtree ("user.account"
// covers "user.account.username", not "user.accountant"); the empty key covers everything.
bool covers(std::string_view rule, std::string_view key);

class recorder {
 public:
  virtual ~recorder() = default;
  // Records a flow. Thread-safe. Throws store::error when the log cannot be written.
  virtual void record(const flow& f) = 0;
};

// Keeps nothing: for tools and tests that do not look at evidence.
class null_recorder final : public recorder {
 public:
  void record(const flow&) override {}
};

}  // namespace linksim::evidence
