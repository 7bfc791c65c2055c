// Scenarios: linkage stories as YAML files (docs/scenarios.md). Parsing checks the whole file
// before anything runs: every key, value, duration and account name, with the file, line and
// column of the first problem.
#pragma once

#include "linksim/common/clock.hpp"
#include "linksim/sim/network.hpp"
#include "linksim/threads_sim/behaviour.hpp"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace linksim::harness {

struct location {
  std::string file;
  int line = 0;  // 1-based
  int column = 0;
  std::string str() const;  // "file:line:column"
};

class scenario_error : public std::runtime_error {
 public:
  scenario_error(location where, const std::string& problem)
      : std::runtime_error(where.str() + ": " + problem), where_(std::move(where)) {}
  const location& where() const { return where_; }

 private:
  location where_;
};

enum class action {
  // On the identity provider (through its admin API)
  create,
  rename,
  set_name,
  set_bio,
  set_picture,
  set_status,  // suspend, restrict, ban, reinstate
  delete_account,
  remove_app,
  follow,
  unfollow,
  // On the dependent service, as its user (pages, or the JSON API with the user's session)
  sign_up,  // also signs in an existing profile
  edit,
  post,
  like,
  follow_on_threads,
  unfollow_on_threads,
  delete_profile,
  request,        // any HTTP request to either service
  feed,           // the user's feed, with its sponsored post
  ask_assistant,  // the support assistant
  // Cross-product (the ad platform)
  ad_settings,   // the account's company-wide ad settings, on the provider
  instagram_ad,  // the provider's own surface asks the ad platform for a sponsored post
  partner,       // a partner asks the ad platform for a report, an audience or a purchase
  // On the world
  advance,
  restart,
  crash,      // the dependent service crashes during the next import, then restarts
  disk_full,  // a system's next commits fail and roll back; it goes on running
  outage,
  fault,
  expect,
};
std::string_view to_string(action a);

// Messages the network carried from an action's start to its answer: its own requests and the
// calls the services made while answering them, not what fell due after (a notice the
// dependent service leaves to its dispatcher). Every given field must match; `path` is a prefix
// of the request's target.
struct expect_carried {
  location where;
  std::string from, to, method, path;
  std::optional<int> count, min, max;
};

// What an action's HTTP answer must be. For the provider's admin actions and the JSON API,
// `error` is the JSON error code; `step` is the page where a sign-up stopped.
struct expect_http {
  std::optional<int> status;
  std::optional<std::string> error;
  std::optional<std::string> step;
  std::vector<std::string> contains;  // pieces the body holds
  std::vector<std::string> lacks;     // pieces the body must not hold
  // "Name: piece": the answer has header Name and its value holds piece (a redirect's Location).
  std::optional<std::string> header;
  // Header names the answer must not carry (a token answer without WWW-Authenticate).
  std::vector<std::string> lacks_header;
  std::vector<expect_carried> carried;
};

// The dependent service's state for one provider account.
struct expect_profile {
  location where;
  std::string account;
  std::optional<int> profiles;  // how many profiles the account has
  std::optional<std::string> username;
  std::optional<std::string> name;
  std::optional<std::string> bio;
  std::optional<bool> mirrors;       // username and picture equal the provider's now
  std::optional<bool> closed;        // the provider account is gone and the profile with it
  std::optional<bool> needs_login;   // the link lost its tokens: the person must log in again
  std::optional<int> public_status;  // GET /api/profiles/<username given here or mirrored>
  std::optional<int> posts;
  std::optional<int> followers;
};

// What a party keeps at rest, read from its storage directly (a read-only copy of its
// database), not through its API: the rows of every table, or of one, that hold the account's
// provider id (as a number or as its decimal text), or, without an account, all of a table's
// rows.
struct expect_stored {
  location where;
  std::string system;  // "idp", "threads" or "ads"
  std::string account;
  std::string table;  // empty: every table
  std::optional<int> count, min, max;
};

// The provider's state of one account.
struct expect_account {
  location where;
  std::string account;
  std::optional<std::string> username;
  std::optional<std::string> name;
  std::optional<std::string> bio;
  std::optional<std::string> status;
  // How many apps hold a standing grant of the account (the dependent service, once linked).
  std::optional<int> apps;
};

// Recorded flows matching every given field; categories match by prefix (a subtree).
struct expect_flows {
  location where;
  std::string channel, from, to, account, category, purpose, note;
  std::optional<int> count, min, max;
  milliseconds since{-1};  // only flows recorded at or after this much simulated time
  // Count the flows the network carried (evidence/wire.hpp) instead of those the services
  // declared; a declared flow's note says what the service did with it ("applied").
  bool observed = false;
};

// `over: [...]` on a step or a fault: the channels of account changes it holds over; empty,
// every channel. A run over another channel leaves it out (a webhook batch's timing, a SET's
// own notes), so one story can be told over each channel with what differs said where it does.
using channels = std::vector<threads_sim::channel>;
inline bool runs_over(const channels& over, threads_sim::channel c) {
  return over.empty() || std::find(over.begin(), over.end(), c) != over.end();
}

struct fault_spec {
  location where;
  sim::fault_rule rule;
  std::string account;  // the rule's subject, resolved when the account exists
  channels over;
};

struct step {
  location where;
  action kind = action::expect;
  std::map<std::string, std::string> args;
  milliseconds duration{0};  // advance, outage
  std::optional<fault_spec> fault;
  expect_http http;
  std::vector<expect_profile> profiles;
  std::vector<expect_account> accounts;
  std::vector<expect_flows> flows;
  std::vector<expect_stored> stored;
  // The claims (ids in scenarios/claims.yaml) whose check this step's expectations are: the
  // audit turns their outcome into the claims' verdicts.
  std::vector<std::string> claims;
  channels over;
};

struct scenario {
  std::string file;
  std::string name;
  std::string description;
  std::string profile = "documented";
  std::uint64_t seed = 1;
  milliseconds reconcile_interval = std::chrono::minutes(5);
  std::size_t webhook_batch = 1;  // changes per webhook request, 1 to 1 000
  milliseconds webhook_batch_window{0};
  // The provider's bound on authorization requests waiting for consent and on codes waiting to
  // be redeemed (idp::config::max_pending_sign_ins), each; unset, the provider's default.
  std::optional<std::size_t> pending_sign_ins;
  // The channels of account changes the story is told over (`changes:`): all three unless it
  // is about one, such as a webhook batch or an SSF push. A run over another skips it.
  std::vector<threads_sim::channel> changes{threads_sim::channel::webhook,
                                            threads_sim::channel::ssf_push,
                                            threads_sim::channel::ssf_poll};
  bool told_over(threads_sim::channel c) const {
    return std::find(changes.begin(), changes.end(), c) != changes.end();
  }
  std::vector<fault_spec> faults;
  std::vector<step> steps;
};

// Bounds on the work a scenario or claims file may ask for, each checked before any of that work
// is done (docs/scenarios.md, "Limits"). The command-line flags named here raise them.
struct limits {
  std::size_t max_file_bytes = 1 << 20;  // --max-file-bytes: the file's size
  // --max-yaml-nodes: the document's nodes, with every alias counted as the nodes it repeats
  std::size_t max_yaml_nodes = 100'000;
  std::size_t max_steps = 10'000;  // --max-steps: steps once every for_each is expanded
  // --max-simulated-days: the sum of the scenario's advance steps
  milliseconds max_simulated_time = std::chrono::days(366);
  // --max-polls: reconciliation polls that time implies (the simulated time over the
  // reconcile interval, times the accounts created), about 2 KiB of evidence each
  std::uint64_t max_polls = 200'000;
};

// Throws scenario_error for anything wrong, or when the file cannot be read.
scenario load_scenario(const std::filesystem::path& file, const limits& bounds = {});
scenario parse_scenario(const std::string& text, const std::string& file_name,
                        const limits& bounds = {});

// "250ms", "30s", "5m", "2h", "1d"; nullopt otherwise.
std::optional<milliseconds> parse_duration(std::string_view s);
std::string format_duration(milliseconds d);

}  // namespace linksim::harness
