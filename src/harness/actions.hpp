// The scenario actions, one registry: each action's key, one-line description, arguments, the
// checks its values get when the file is read, and what it does when the step runs. The parser
// (scenario.cpp) and the runner (runner.cpp) give each action what it may ask of them through the
// two interfaces below; neither knows an action by name.
#pragma once

#include "linksim/common/clock.hpp"
#include "linksim/common/http.hpp"
#include "linksim/harness/scenario.hpp"

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace boost::json {
class object;
}
namespace linksim::sim {
class browser;
class world;
}  // namespace linksim::sim
namespace linksim::store {
class database;
}

namespace linksim::harness::detail {

// What an action's checks may ask of the parser while the file is read.
class action_checker {
 public:
  virtual ~action_checker() = default;
  [[noreturn]] virtual void fail(const YAML::Node& at, const std::string& problem) const = 0;
  virtual milliseconds duration(const YAML::Node& n) const = 0;
  virtual bool boolean(const YAML::Node& n) const = 0;
  virtual std::int64_t integer(const YAML::Node& n, std::int64_t lo, std::int64_t hi) const = 0;
  virtual std::string system(const YAML::Node& n) const = 0;
  virtual std::set<std::string>& created() = 0;  // accounts created by earlier steps
  virtual std::set<std::string>& posts() = 0;    // labels of earlier posts
  virtual std::set<std::string>& kept() = 0;     // names of values earlier requests kept
};

// A message the network carried during the current step, in the order its fate was known (a
// message's nested calls before it).
struct carried_message {
  std::string from, to, method, target, fate;
};

// What an action may ask of the runner while the step runs.
class action_context {
 public:
  virtual ~action_context() = default;
  virtual sim::world& world() = 0;
  // Requests; a transport failure answers status 0 with its message.
  virtual http::response send(http::transport& t, const std::string& method, const std::string& url,
                              const std::string& body = {}, const std::string& bearer = {},
                              bool gpc = false) = 0;
  // On a service's admin API, as the operator.
  virtual http::response admin(const std::string& system, const std::string& method,
                               const std::string& path, const std::string& body = {}) = 0;
  // On the dependent service's JSON API, with the account's session.
  virtual http::response as_user(const std::string& account, const std::string& method,
                                 const std::string& path, const std::string& body = {},
                                 bool gpc = false) = 0;
  virtual std::string session_of(const std::string& account) = 0;
  virtual std::int64_t id_of(const std::string& account) const = 0;
  // A created account's provider id; arms the scenario's faults about it.
  virtual void created(const std::string& account, std::int64_t id) = 0;
  virtual void posted(const std::string& label, std::int64_t id) = 0;
  virtual std::optional<std::int64_t> post_id(const std::string& label) const = 0;
  // A value a request step kept from its answer (`keep:`), for {kept:NAME} in later steps.
  virtual void keep(const std::string& name, std::string value) = 0;
  // {id:ACCOUNT}, {post:LABEL}, {kept:NAME}, {client_id} and {stream_id} in `text` replaced
  // with the values known now.
  virtual std::string with_ids(const std::string& text) const = 0;
  virtual std::string current_username(const std::string& account) = 0;
  // Logs a read of `system`'s state about `account` (an evidence::is_state_read entry): the
  // answer's digest, and in `values` what the check compares. The step's finding cites it.
  virtual void state_read(const std::string& system, const std::string& account,
                          const std::string& values, const std::string& answer) = 0;
  // The browser a scenario names (`browser:`), made at its first mention; it keeps its cookies.
  virtual sim::browser& browser(const std::string& name) = 0;
  // The whole sign-up through the browser, with its own checks of the step's expectation.
  virtual void sign_up(const step& st, const std::string& account, const std::string& browser,
                       const std::string& entry) = 0;
  // A failed expectation of the step, and how an answer shows in one.
  [[noreturn]] virtual void fail(const location& where, std::string what, std::string expected,
                                 std::string actual) = 0;
  virtual std::string answer(const http::response& r) const = 0;
  // What the network has carried since the step began.
  virtual const std::vector<carried_message>& carried() const = 0;
};

// The YAML node of an argument: the mapping's value, or the scalar that filled the short form.
struct argument_nodes {
  const YAML::Node& value;
  YAML::Node operator[](std::string_view key) const {
    return value.IsMap() ? value[std::string(key)] : value;
  }
};

struct action_def {
  std::string_view key;
  action kind;
  std::string_view doc;        // one line: what the action does
  std::string_view short_arg;  // the argument a scalar value fills ("suspend: alice")
  std::vector<std::string_view> required;
  std::vector<std::string_view> optional;
  // Arguments the key itself sets: the status "suspend" sets, the page "log_in" starts on.
  std::vector<std::pair<std::string_view, std::string_view>> implied;
  // True for actions on the world, which answer nothing a step could expect or a claim check.
  bool on_the_world = false;
  // Checks of the values beyond their presence (nullptr: none); may normalise them in `s.args`.
  void (*check)(action_checker& p, const argument_nodes& at, step& s) = nullptr;
  // Runs the step: the HTTP answer the step's expectation is checked against, or nullopt when
  // there is none or the action checked it itself.
  std::optional<http::response> (*perform)(action_context& c, const step& s) = nullptr;
};

// What the actions, the expectations and the runner share.

// A request step's `keep: NAME` with `pattern: REGEX`: the first group of the pattern's first
// match in the answer (its header fields as "Name: value" lines, then its body) is kept as
// NAME; no match fails the step.
void keep_from(action_context& c, const step& s, const http::response& r);
std::string origin(const std::string& system);  // of idp, threads or ads in the simulation
// The database the world opened for idp, threads or ads (a name the parser has checked).
store::database& database_of(sim::world& w, const std::string& system);
std::string idp_path(const action_context& c, const std::string& account);  // on the admin API
std::string body_excerpt(const std::string& body);  // up to 300 bytes on one line
// A transport's result as an answer: a transport error is status 0 with the error as its body.
http::response answer_of(result<http::response> res);
std::string json_error_code(const std::string& body);  // error.code of a JSON error, or empty
std::string str_field(const boost::json::object& o, std::string_view k);
std::int64_t int_field(const boost::json::object& o, std::string_view k);

// The step's expectations (expectations.cpp): its HTTP answer (`stopped_at`: the page where a
// sign-up stopped), then the state it expects, with simulated times counted from `start`.
void check_http(action_context& c, const step& st, const http::response& r,
                const std::string& stopped_at);
void check_state(action_context& c, const step& st, time_point start);

// The value of argument `k` of the step, or empty.
std::string arg(const step& s, const char* k);
// {"k": "v"} as JSON text.
std::string json_str(const std::string& k, const std::string& v);

// The actions on the provider and on the company's ad settings and platform
// (actions_provider.cpp).
std::vector<action_def> provider_actions();
std::vector<action_def> ad_actions();

// Every action, in the order the docs list them.
const std::vector<action_def>& actions();
const action_def* find_action(std::string_view key);
// The first action of `kind` (several keys may share a kind: suspend, ban... set_status).
const action_def& definition_of(action kind);

}  // namespace linksim::harness::detail
