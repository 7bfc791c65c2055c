// The scenario actions (see actions.hpp): for each, its arguments, checks and execution.
#include "actions.hpp"

#include "linksim/common/crypto.hpp"
#include "linksim/common/json.hpp"
#include "linksim/common/text.hpp"
#include "linksim/idp/service.hpp"
#include "linksim/sim/browser.hpp"
#include "linksim/sim/world.hpp"
#include "linksim/store/sqlite.hpp"

#include <boost/json.hpp>

#include <regex.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <optional>
#include <regex>
#include <string>
#include <vector>

namespace linksim::harness::detail {

std::string arg(const step& s, const char* k) {
  const auto it = s.args.find(k);
  return it == s.args.end() ? std::string() : it->second;
}

std::string json_str(const std::string& k, const std::string& v) {
  return boost::json::serialize(boost::json::object{{k, v}});
}

namespace {

namespace bj = boost::json;
using answer = std::optional<http::response>;

// --- Checks ---

// A request's header fields: one per line of its `header` argument (a list in the file).
std::vector<std::string> header_lines(const std::string& text) {
  std::vector<std::string> out;
  for (std::size_t at = 0; at <= text.size();) {
    const auto end = std::min(text.find('\n', at), text.size());
    out.push_back(text.substr(at, end - at));
    at = end + 1;
  }
  return out;
}

// `text` with each {REF} taken out: what a form's syntax is checked on before the values known
// at run time are in.
std::string without_refs(std::string text) {
  for (auto open = text.find('{'); open != std::string::npos; open = text.find('{', open)) {
    const auto close = text.find('}', open);
    if (close == std::string::npos) break;
    text.erase(open, close - open + 1);
  }
  return text;
}

// A request step's `pattern`: a POSIX extended regular expression, as glibc reads one (with
// \s and \w). glibc matches without recursion (std::regex recurses once per character and
// overflows the stack on a long answer), and the work a pattern can demand is bounded before it
// runs: at most 256 bytes, no backreference and no repeated group that repeats inside (the two
// forms whose matching time explodes), and at most keep_search_limit bytes of answer searched.
class keep_pattern {
 public:
  explicit keep_pattern(const std::string& text) {
    if (text.size() > 256) {
      problem_ = "pattern holds at most 256 bytes";
      return;
    }
    if (auto p = shape_problem(text)) {
      problem_ = *p;
      return;
    }
    if (const int rc = regcomp(&re_, text.c_str(), REG_EXTENDED); rc != 0) {
      std::array<char, 256> why{};
      regerror(rc, &re_, why.data(), why.size());
      problem_ = std::string("pattern is not a regular expression: ") + why.data();
      return;
    }
    compiled_ = true;
  }
  keep_pattern(const keep_pattern&) = delete;
  keep_pattern& operator=(const keep_pattern&) = delete;
  ~keep_pattern() {
    if (compiled_) regfree(&re_);
  }

  const std::string& problem() const { return problem_; }
  std::size_t groups() const { return compiled_ ? re_.re_nsub : 0; }

  // The first match's groups 1..n (nullopt for a group that took no part), or nullopt.
  std::optional<std::vector<std::optional<std::string>>> search(const std::string& text,
                                                                std::size_t n) const {
    std::vector<regmatch_t> m(n + 1);
    m[0].rm_so = 0;
    m[0].rm_eo = static_cast<regoff_t>(text.size());
    if (!compiled_ || regexec(&re_, text.c_str(), m.size(), m.data(), REG_STARTEND) != 0)
      return std::nullopt;
    std::vector<std::optional<std::string>> out;
    for (std::size_t i = 1; i <= n; ++i)
      out.push_back(m[i].rm_so < 0 ? std::nullopt
                                   : std::optional<std::string>(text.substr(
                                         static_cast<std::size_t>(m[i].rm_so),
                                         static_cast<std::size_t>(m[i].rm_eo - m[i].rm_so))));
    return out;
  }

 private:
  static std::optional<std::string> shape_problem(const std::string& t) {
    std::vector<bool> repeats;  // per open group: whether something inside it repeats
    bool last_group_repeats = false;
    for (std::size_t i = 0; i < t.size(); ++i) {
      const char c = t[i];
      const bool after_group = last_group_repeats;
      last_group_repeats = false;
      if (c == '\\') {
        if (i + 1 < t.size() && t[i + 1] >= '1' && t[i + 1] <= '9')
          return "pattern has a backreference (\\" + std::string(1, t[i + 1]) +
                 "), whose matching time has no bound";
        ++i;
      } else if (c == '[') {
        // A bracket expression: "]" right after "[" or "[^" belongs to it.
        std::size_t j = i + 1;
        if (j < t.size() && t[j] == '^') ++j;
        if (j < t.size() && t[j] == ']') ++j;
        while (j < t.size() && t[j] != ']') {
          // A class, [:space:], inside it ends with its own ":]".
          if (t.compare(j, 2, "[:") == 0) j = std::min(t.find(":]", j + 2), t.size() - 1) + 1;
          ++j;
        }
        i = j;
      } else if (c == '(') {
        repeats.push_back(false);
      } else if (c == ')') {
        if (repeats.empty()) continue;  // regcomp says what is wrong
        last_group_repeats = repeats.back();
        repeats.pop_back();
        if (last_group_repeats && !repeats.empty()) repeats.back() = true;
      } else if (c == '*' || c == '+' || c == '?' || c == '{') {
        if (after_group)
          return std::string(
              "pattern repeats a group that repeats inside, as (a+)+: its "
              "matching time has no bound");
        if (!repeats.empty()) repeats.back() = true;
        if (c == '{') i = std::min(t.find('}', i), t.size());
      }
    }
    return std::nullopt;
  }

  regex_t re_{};
  bool compiled_ = false;
  std::string problem_;
};

// "access, refresh": the names a request step's `keep` gives, in the order of the groups.
std::vector<std::string> kept_names(const std::string& keep) {
  return split_list(keep, ", ");
}

void check_request(action_checker& p, const argument_nodes& at, step& s) {
  (void)p.system(at["system"]);
  const std::string m = s.args.contains("method") ? s.args["method"] : "GET";
  if (m != "GET" && m != "POST" && m != "PATCH" && m != "PUT" && m != "DELETE" && m != "OPTIONS")
    p.fail(at["method"], "method is GET, POST, PATCH, PUT, DELETE or OPTIONS");
  s.args["method"] = m;
  if (!s.args["path"].starts_with("/")) p.fail(at["path"], "path starts with /");
  if (s.args.contains("header")) {
    for (const auto& h : header_lines(s.args["header"])) {
      const auto colon = h.find(':');
      if (colon == std::string::npos || colon == 0 || h.find_first_of(" \t", 0) < colon ||
          h.find('\r') != std::string::npos)
        p.fail(at["header"], "a header is 'Name: value' on one line");
    }
  }
  if (s.args.contains("sign")) {
    const auto& k = s.args["sign"];
    if (k != "app-secret" && k != "provider-set" && !(k.starts_with("key:") && k.size() > 4))
      p.fail(at["sign"],
             "sign is app-secret (the dependent service's client secret, as the provider signs), "
             "key:TEXT (any other key) or provider-set (the body's claims as a SET the provider "
             "signs)");
    if (k == "provider-set" && !json::parse_object(s.args["body"]))
      p.fail(at["sign"], "sign: provider-set signs the body's claims: a JSON object");
  }
  if (s.args.contains("auth") && s.args["auth"] != "client" && s.args["auth"] != "admin")
    p.fail(at["auth"],
           "auth is client (HTTP Basic with the dependent service's client id and secret) or "
           "admin (the operator's token for the system's admin API)");
  if (s.args.contains("origin") &&
      !std::regex_match(s.args["origin"], std::regex("https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?")))
    p.fail(at["origin"], "origin is a scheme and host, as a browser sends it: http://app.example");
  if (s.args.contains("auth") && s.args["auth"] == "admin")
    for (const char* k : {"header", "sign", "from", "origin"})
      if (s.args.contains(k))
        p.fail(at[k], std::string("auth: admin sends the operator's JSON request alone: ") + k +
                          " goes with another request");
  if (s.args.contains("auth") && s.args.contains("as"))
    p.fail(at["auth"], "a request authenticates once: auth or as");
  if (s.args.contains("browser")) {
    for (const char* k : {"as", "header", "sign", "from", "auth", "origin"})
      if (s.args.contains(k))
        p.fail(at[k], std::string("a request from a browser sends its cookies and form alone: ") +
                          k + " goes with a request without browser");
    if (s.args.contains("body") && !http::parse_form(without_refs(s.args["body"])))
      p.fail(at["body"], "a browser's body is a form: name=value&name=value");
  }
  if (s.args.contains("from") &&
      (s.args["from"].empty() || s.args["from"] == "operator" || s.args["from"] == "auditor"))
    p.fail(at["from"], "from names the sending party, other than the operator or the auditor");
  if (s.args.contains("keep") != s.args.contains("pattern"))
    p.fail(at[s.args.contains("keep") ? "keep" : "pattern"],
           "keep names a value and pattern says where it is in the answer: the two go together");
  std::vector<std::string> names;
  if (s.args.contains("keep")) {
    names = kept_names(s.args["keep"]);
    if (names.empty()) p.fail(at["keep"], "keep names at least one value");
    for (const auto& name : names)
      if (name.empty() || name.size() > 64 ||
          name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") != std::string::npos)
        p.fail(at["keep"],
               "keep names values, each of lowercase letters, digits and _ (at most 64), "
               "separated by commas");
    const keep_pattern re(s.args["pattern"]);
    if (!re.problem().empty()) p.fail(at["pattern"], re.problem());
    if (re.groups() < names.size())
      p.fail(at["pattern"], "pattern needs a group, (...), for each name keep gives: " +
                                std::to_string(names.size()) + " names, " +
                                std::to_string(re.groups()) + " groups");
  }
  // {id:ACCOUNT}, {post:LABEL} and {kept:NAME} in the path, body or header stand for values
  // known at run time.
  for (const char* k : {"path", "body", "header"}) {
    if (!s.args.contains(k)) continue;  // operator[] would add an empty header to the request
    const std::string& t = s.args.at(k);
    for (auto open = t.find('{'); open != std::string::npos; open = t.find('{', open + 1)) {
      const auto close = t.find('}', open);
      if (close == std::string::npos) break;
      const std::string ref = t.substr(open + 1, close - open - 1);
      if (ref.starts_with("id:")) {
        if (!p.created().contains(ref.substr(3)))
          p.fail(at[k], "{" + ref + "}: no account '" + ref.substr(3) + "' yet");
      } else if (ref.starts_with("post:")) {
        if (!p.posts().contains(ref.substr(5)))
          p.fail(at[k], "{" + ref + "}: no earlier post has label '" + ref.substr(5) + "'");
      } else if (ref.starts_with("kept:")) {
        if (!p.kept().contains(ref.substr(5)))
          p.fail(at[k], "{" + ref + "}: no earlier request keeps '" + ref.substr(5) + "'");
      }
    }
  }
  for (auto& name : names) p.kept().insert(std::move(name));
}

// --- Execution ---

// What `pattern` searches: at most this much of an answer, so a large page costs a bounded
// search.
constexpr std::size_t keep_search_limit = std::size_t{64} * 1024;

answer edit(action_context& c, const step& s) {
  bj::object body;
  for (const char* k : {"username", "name", "bio"})
    if (s.args.contains(k)) body[k] = arg(s, k);
  if (s.args.contains("picture")) body["profile_picture_url"] = arg(s, "picture");
  return c.as_user(arg(s, "account"), "PATCH", "/api/me", bj::serialize(body));
}

answer post(action_context& c, const step& s) {
  auto r = c.as_user(arg(s, "account"), "POST", "/api/posts", json_str("text", arg(s, "text")),
                     arg(s, "gpc") == "true");
  if (r.status == 201 && s.args.contains("label"))
    if (auto o = json::parse_object(r.body)) {
      const auto id = json::get_int(*o, "id");
      c.posted(arg(s, "label"), id && *id ? **id : 0);
    }
  return r;
}

answer like(action_context& c, const step& s) {
  const auto id = c.post_id(arg(s, "post"));
  return c.as_user(arg(s, "account"), "POST",
                   "/api/posts/" + std::to_string(id.value_or(0)) + "/like", {},
                   arg(s, "gpc") == "true");
}

// Any request, as any party: a browser's (with a person's session), or an attacker's with
// headers of its choosing and a body signed with the right key or a wrong one.
answer request(action_context& c, const step& s) {
  if (s.args.contains("browser")) {
    // A person's browser, with the cookies its earlier steps left; a POST body is its form.
    const std::string url = origin(arg(s, "system")) + c.with_ids(arg(s, "path"));
    auto form = http::parse_form(c.with_ids(arg(s, "body")));
    return c.browser(arg(s, "browser")).send(arg(s, "method"), url, form ? *form : http::params{});
  }
  if (arg(s, "auth") == "admin")  // as the operator, on the system's admin API
    return c.admin(arg(s, "system"), arg(s, "method"), c.with_ids(arg(s, "path")),
                   c.with_ids(arg(s, "body")));
  http::request r;
  r.method = arg(s, "method");
  r.target = origin(arg(s, "system")) + c.with_ids(arg(s, "path"));
  r.body = c.with_ids(arg(s, "body"));
  if (!r.body.empty()) r.headers.set("Content-Type", "application/json");
  if (s.args.contains("as")) r.headers.set("Authorization", "Bearer " + c.session_of(arg(s, "as")));
  if (s.args.contains("auth"))  // the dependent service as the provider's client (SSF, RFC 6749)
    r.headers.set("Authorization", "Basic " + base64_encode(as_bytes(c.world().client_id() + ":" +
                                                                     c.world().client_secret())));
  if (s.args.contains("origin"))  // a web page's script, as its browser marks the request
    r.headers.set("Origin", arg(s, "origin"));
  if (s.args.contains("sign")) {
    const std::string k = arg(s, "sign");
    if (k == "provider-set") {  // the body's claims, as the transmitter signs a SET
      auto set = c.world().idp().ssf_sign(r.body);
      if (!set)  // an object when read, the values put in it ({kept:NAME}) can break it
        c.fail(s.where, "sign: provider-set", "a JSON object of claims", r.body);
      r.body = std::move(*set);
      r.headers.set("Content-Type", "application/secevent+jwt");
    } else {
      const std::string key = k == "app-secret" ? c.world().client_secret() : k.substr(4);
      r.headers.set("X-Hub-Signature-256", "sha256=" + to_hex(hmac_sha256(key, r.body)));
    }
  }
  if (s.args.contains("header")) {
    for (const auto& h : header_lines(arg(s, "header"))) {
      const auto colon = h.find(':');
      std::string value = h.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      r.headers.set(h.substr(0, colon), c.with_ids(value));
    }
  }
  auto& t = s.args.contains("from") ? c.world().net().scripted_endpoint(arg(s, "from"))
                                    : c.world().browser_transport();
  return answer_of(t.send(std::move(r)));
}

}  // namespace

void keep_from(action_context& c, const step& s, const http::response& r) {
  std::string text;
  for (const auto& f : r.headers.fields) text += f.name + ": " + f.value + "\n";
  text += "\n";
  text += r.body;
  if (text.size() > keep_search_limit) text.resize(keep_search_limit);
  const keep_pattern re(arg(s, "pattern"));  // checked when the file was read
  const auto names = kept_names(arg(s, "keep"));
  const auto found = re.search(text, names.size());
  if (!found)
    c.fail(s.where, "keep " + arg(s, "keep"), "an answer that matches " + arg(s, "pattern"),
           c.answer(r));
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (!(*found)[i])
      c.fail(s.where, "keep " + names[i], "group " + std::to_string(i + 1) + " of the match",
             "a match that leaves the group out");
    c.keep(names[i], *(*found)[i]);
  }
}

namespace {

std::vector<action_def> make_actions() {
  using p = action_checker;
  using c = action_context;
  const std::vector<std::string_view> account{"account"};
  const std::vector<std::string_view> gpc{"gpc"};
  auto sign_in = [&](std::string_view key, std::string_view via, std::string_view doc) {
    return action_def{key,
                      action::sign_up,
                      doc,
                      "account",
                      account,
                      {"browser"},
                      {{"via", via}},
                      false,
                      nullptr,
                      [](c& x, const step& s) -> answer {
                        x.sign_up(s, arg(s, "account"), arg(s, "browser"), arg(s, "via"));
                        return std::nullopt;
                      }};
  };
  std::vector<action_def> all = provider_actions();
  const std::vector<action_def> on_the_service{
      // On the dependent service, as its user.
      sign_in("sign_up", "/signup", "signs up through the provider's pages and Link Account"),
      sign_in("log_in", "/login", "logs in through the provider's pages"),
      {"edit",
       action::edit,
       "edits the profile on the service",
       {},
       account,
       {"username", "name", "bio", "picture"},
       {},
       false,
       nullptr,
       edit},
      {"post",
       action::post,
       "posts on the service; a label names the post for later steps",
       {},
       {"account", "text"},
       {"label", "gpc"},
       {},
       false,
       [](p& x, const argument_nodes&, step& s) {
         if (s.args.contains("label")) x.posts().insert(s.args["label"]);
       },
       post},
      {"like",
       action::like,
       "likes a labelled post",
       {},
       {"account", "post"},
       gpc,
       {},
       false,
       [](p& x, const argument_nodes& at, step& s) {
         if (!x.posts().contains(s.args["post"]))
           x.fail(at["post"], "no earlier post has label '" + s.args["post"] + "'");
       },
       like},
      {"follow_on_threads",
       action::follow_on_threads,
       "follows another profile on the service",
       {},
       {"account", "target"},
       gpc,
       {},
       false,
       nullptr,
       [](c& x, const step& s) -> answer {
         return x.as_user(arg(s, "account"), "POST", "/api/follows",
                          json_str("username", x.current_username(arg(s, "target"))),
                          arg(s, "gpc") == "true");
       }},
      {"feed",
       action::feed,
       "reads the feed, with its sponsored post",
       "account",
       account,
       gpc,
       {},
       false,
       nullptr,
       [](c& x, const step& s) -> answer {
         return x.as_user(arg(s, "account"), "GET", "/api/feed", {}, arg(s, "gpc") == "true");
       }},
      {"ask_assistant",
       action::ask_assistant,
       "asks the support assistant",
       {},
       {"account", "message"},
       {},
       {},
       false,
       nullptr,
       [](c& x, const step& s) -> answer {
         return x.as_user(arg(s, "account"), "POST", "/api/assistant",
                          json_str("message", arg(s, "message")));
       }},
  };
  all.insert(all.end(), on_the_service.begin(), on_the_service.end());
  const auto ads = ad_actions();
  all.insert(all.end(), ads.begin(), ads.end());
  const std::vector<action_def> rest{
      {"unfollow_on_threads",
       action::unfollow_on_threads,
       "stops following a profile",
       {},
       {"account", "target"},
       {},
       {},
       false,
       nullptr,
       [](c& x, const step& s) -> answer {
         return x.as_user(arg(s, "account"), "DELETE",
                          "/api/follows/" + x.current_username(arg(s, "target")));
       }},
      {"delete_profile",
       action::delete_profile,
       "deletes the profile: the only way to unlink",
       "account",
       account,
       {},
       {},
       false,
       nullptr,
       [](c& x, const step& s) -> answer {
         return x.as_user(arg(s, "account"), "DELETE", "/api/me");
       }},
      {"request",
       action::request,
       "any HTTP request to a service, as a browser or another party",
       {},
       {"system", "path"},
       {"method", "as", "auth", "body", "header", "origin", "sign", "from", "browser", "keep",
        "pattern"},
       {},
       false,
       check_request,
       request},
      // On the world.
      {"advance",
       action::advance,
       "lets simulated time pass",
       "by",
       {"by"},
       {},
       {},
       true,
       [](p& x, const argument_nodes& at, step& s) { s.duration = x.duration(at["by"]); },
       [](c& x, const step& s) -> answer {
         x.world().run_for(s.duration);
         return std::nullopt;
       }},
      {"restart",
       action::restart,
       "restarts the dependent service or the provider from its files",
       "system",
       {"system"},
       {},
       {},
       true,
       [](p& x, const argument_nodes& at, step& s) {
         if (s.args["system"] != "threads" && s.args["system"] != "idp")
           x.fail(at["system"],
                  "'restart: threads' or 'restart: idp' (the ad platform keeps running)");
       },
       [](c& x, const step& s) -> answer {
         if (s.args.at("system") == "idp")
           x.world().restart_idp();
         else
           x.world().restart_threads();
         return std::nullopt;
       }},
      {"outage",
       action::outage,
       "makes a system unreachable for a while",
       {},
       {"system", "for"},
       {},
       {},
       true,
       [](p& x, const argument_nodes& at, step& s) {
         (void)x.system(at["system"]);
         s.duration = x.duration(at["for"]);
       },
       [](c& x, const step& s) -> answer {
         auto& w = x.world();
         w.net().add_outage({arg(s, "system"), w.sched().now(), w.sched().now() + s.duration});
         return std::nullopt;
       }},
      {"crash",
       action::crash,
       "the dependent service dies during its next import",
       {},
       {"system", "during"},
       {},
       {},
       true,
       [](p& x, const argument_nodes& at, step& s) {
         if (s.args["system"] != "threads" || s.args["during"] != "import")
           x.fail(at.value,
                  "the crash the simulation knows: 'crash: {system: threads, during: import}'");
       },
       [](c& x, const step&) -> answer {
         x.world().crash_threads_during_next_import();
         return std::nullopt;
       }},
      {"disk_full",
       action::disk_full,
       "the system's next commits fail as on a full disk, each rolled back; it goes on running",
       {},
       {"system"},
       {"commits"},
       {},
       true,
       [](p& x, const argument_nodes& at, step& s) {
         (void)x.system(at["system"]);
         s.args["commits"] =
             std::to_string(s.args.contains("commits") ? x.integer(at["commits"], 1, 100) : 1);
       },
       [](c& x, const step& s) -> answer {
         database_of(x.world(), arg(s, "system")).refuse_commits(std::stoi(arg(s, "commits")));
         return std::nullopt;
       }},
  };
  all.insert(all.end(), rest.begin(), rest.end());
  return all;
}

}  // namespace

std::string origin(const std::string& system) {
  if (system == "ads") return sim::world::ads_origin;
  return system == "idp" ? sim::world::idp_origin : sim::world::threads_origin;
}

store::database& database_of(sim::world& w, const std::string& system) {
  const auto dbs = w.databases();  // idp, threads, ads
  return *(system == "idp" ? dbs[0] : system == "threads" ? dbs[1] : dbs[2]);
}

std::string idp_path(const action_context& c, const std::string& account) {
  return "/admin/accounts/" + std::to_string(c.id_of(account));
}

const std::vector<action_def>& actions() {
  static const std::vector<action_def> all = make_actions();
  return all;
}

const action_def* find_action(std::string_view key) {
  for (const auto& a : actions())
    if (a.key == key) return &a;
  return nullptr;
}

const action_def& definition_of(action kind) {
  for (const auto& a : actions())
    if (a.kind == kind) return a;
  throw std::logic_error("no action of kind " + std::string(to_string(kind)));
}

}  // namespace linksim::harness::detail
