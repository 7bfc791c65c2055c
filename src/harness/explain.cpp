// Drawing and narrating a scenario from the messages the simulated network carried.
#include "linksim/harness/explain.hpp"

#include "linksim/common/jose.hpp"
#include "linksim/common/json.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <array>
#include <map>
#include <sstream>

namespace linksim::harness {
namespace bj = boost::json;

namespace {

constexpr std::array secret_keys{"code",
                                 "state",
                                 "code_challenge",
                                 "code_verifier",
                                 "access_token",
                                 "refresh_token",
                                 "client_secret",
                                 "password",
                                 "token",
                                 "signed_request",
                                 "fb_exchange_token",
                                 "hub.verify_token",
                                 "hub.challenge",
                                 "session",
                                 "request"};

struct participant {
  const char* system;
  const char* alias;
  const char* title;
};
constexpr std::array participants{
    participant{"browser", "B", "Browser"},
    participant{"threads", "T", "Threads-style service"},
    participant{"idp", "I", "Identity provider"},
    participant{"ads", "A", "Ad platform"},
    participant{"partner", "P", "Partner"},
    participant{"operator", "O", "Scenario (admin API)"},
};

// Partners are systems named "partner:ID": one participant for them all.
std::string kind_of(const std::string& system) {
  return system.starts_with("partner:") ? "partner" : system;
}

const char* alias_of(const std::string& system) {
  for (const auto& p : participants)
    if (kind_of(system) == p.system) return p.alias;
  return "X";
}
const char* title_of(const std::string& system) {
  for (const auto& p : participants)
    if (kind_of(system) == p.system) return p.title;
  return "Unknown host";
}

// Mermaid reads ';' and '#' specially, and a bare "end" closes a block.
std::string label(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == ';') {
      out += ',';
    } else if (c == '#') {
      out += "%23";
    } else if (c == '\n' || c == '\r') {
      out += ' ';
    } else {
      out += c;
    }
  }
  std::string words;
  std::size_t start = 0;
  while (start <= out.size()) {
    auto space = out.find(' ', start);
    if (space == std::string::npos) space = out.size();
    const std::string w = out.substr(start, space - start);
    words += (start ? " " : "") + (w == "end" ? std::string("(end)") : w);
    start = space + 1;
  }
  return words;
}

std::string path_only(std::string_view target) {
  const auto q = target.find('?');
  return std::string(target.substr(0, q));
}

// The event types of the SETs a message carries (a pushed SET, or a poll's answer), short names.
std::string events_of(const std::string& text) {
  std::string out;
  auto add = [&](std::string_view jwt) {
    auto set = jose::read_unverified(jwt);
    if (!set) return;
    const auto* events = set->claims.if_contains("events");
    if (!events || !events->is_object()) return;
    for (const auto& e : events->as_object()) {
      const std::string_view type = e.key();
      out += (out.empty() ? "`" : ", `") + std::string(type.substr(type.rfind('/') + 1)) + "`";
    }
  };
  if (auto o = json::parse_object(text)) {
    if (const auto* sets = o->if_contains("sets"); sets && sets->is_object())
      for (const auto& s : sets->as_object())
        if (s.value().is_string()) add(s.value().as_string());
  } else {
    add(text);
  }
  return out;
}

std::string field_of_webhook(const std::string& body) {
  auto o = json::parse_object(body);
  if (!o) return {};
  const auto* entry = o->if_contains("entry");
  if (!entry || !entry->is_array() || entry->as_array().empty()) return {};
  const auto& e = entry->as_array().front();
  if (!e.is_object()) return {};
  const auto* changes = e.as_object().if_contains("changes");
  if (!changes || !changes->is_array() || changes->as_array().empty()) return {};
  const auto& ch = changes->as_array().front();
  if (!ch.is_object()) return {};
  const auto* field = ch.as_object().if_contains("field");
  return field && field->is_string() ? std::string(field->as_string()) : std::string();
}

// What a message is for, in the linkage story.
std::string why(const sim::message& m) {
  const std::string path = path_only(m.request.target);
  const std::string& meth = m.request.method;
  if (m.to == "threads") {
    if (path == "/signup")
      return "the person starts sign-up. The service has no passwords of its own: it answers "
             "with a redirect to the identity provider carrying a fresh `state` and a PKCE "
             "challenge";
    if (path == "/login")
      return "the person signs in to an existing profile, again only through the provider";
    if (path == "/callback")
      return "the provider sends the browser back with a single-use code; the service checks "
             "`state` and `iss`, then exchanges the code server-side";
    if (path == "/link")
      return "the person presses Link Account: only now is the profile created, in one "
             "transaction (username, name, bio, picture, follows of followers who have a profile)";
    if (path == "/webhooks/instagram" && meth == "POST") {
      const auto field = field_of_webhook(m.request.body);
      return "a change notification from the provider" +
             (field.empty() ? std::string() : " (field `" + field + "`)") +
             ", signed with `X-Hub-Signature-256`; the service verifies the signature over the "
             "raw bytes before parsing and applies the change once";
    }
    if (path == "/webhooks/instagram") return "the subscription handshake (`hub.challenge`)";
    if (path == "/ssf/events") {
      const auto events = events_of(m.request.body);
      return "a Security Event Token pushed by the provider" +
             (events.empty() ? std::string() : " (" + events + ")") +
             " with the Authorization header its stream was given; the service checks the "
             "signature against the provider's key set, then `iss`, `aud` and `iat`, applies it "
             "once by `jti`, and reads `/me` again: a SET carries no version";
    }
    if (path.starts_with("/api/me") && meth == "PATCH")
      return "the person edits their profile on the service (mirrored fields are refused)";
    if (path.starts_with("/api/me") && meth == "DELETE")
      return "the person deletes the profile: the only way to unlink";
    if (path.starts_with("/api/posts")) return "the person posts or likes on the service";
    if (path.starts_with("/api/follows")) return "the person follows or unfollows on the service";
    if (path.starts_with("/api/profiles") || path.starts_with("/@"))
      return "a public read of a profile";
    if (path.starts_with("/admin")) return "the scenario reads the service's state to check it";
    if (path.starts_with("/ig/"))
      return "a deauthorize or data-deletion callback from the provider";
    return "a request to the service";
  }
  if (m.to == "idp") {
    if (path == "/oauth/authorize")
      return "the provider's authorization endpoint: it shows its login page, or goes straight "
             "to consent when the browser is already logged in";
    if (path == "/oauth/login")
      return meth == "POST" ? "the person types the provider username and password (to the "
                              "provider, never to the service)"
                            : "the provider's login page";
    if (path == "/oauth/consent")
      return meth == "POST" ? "the person allows the service to read their profile; the "
                              "provider redirects back with a code"
                            : "the provider's consent page";
    if (path == "/oauth/access_token" || path == "/oauth/token")
      return "the service exchanges the code (with its client secret and the PKCE verifier) "
             "for an access token, server to server";
    if (path == "/access_token" || path == "/refresh_access_token")
      return "the service trades for a long-lived token or refreshes it";
    if (path == "/me")
      return m.from == "threads" ? "the service reads the profile fields it mirrors (at import, "
                                   "at login, or when reconciling by polling)"
                                 : "a profile read";
    if (path.starts_with("/admin") && meth == "PATCH")
      return "the scenario changes the account on the provider (as its owner would)";
    if (path.starts_with("/admin") && meth == "POST")
      return "the scenario creates an account or a follow on the provider";
    if (path.starts_with("/admin") && meth == "PUT")
      return "the scenario uploads a new profile picture on the provider";
    if (path.starts_with("/admin") && meth == "DELETE")
      return "the scenario deletes the account (or a follow) on the provider";
    if (path.starts_with("/admin")) return "the scenario reads the provider's state to check it";
    if (path.starts_with("/ssf/poll/")) {
      const auto events = m.response ? events_of(m.response->body) : std::string();
      return "the service polls its Shared Signals stream (RFC 8936), acknowledging the SETs it "
             "applied" +
             (events.empty() ? std::string(": nothing is waiting")
                             : "; the answer carries " + events);
    }
    if (path.starts_with("/ssf/"))
      return "the service finds or makes its Shared Signals stream, with its client credentials";
    if (path == "/.well-known/ssf-configuration")
      return "the service reads the transmitter's configuration (SSF 1.0)";
    if (path == "/.well-known/jwks.json")
      return "the service reads the key set SETs are signed with";
    if (path.starts_with("/pictures"))
      return "the service downloads the profile picture it mirrors";
    return "a request to the provider";
  }
  return "a request to a host nothing listens on";
}

std::string fate_text(const std::string& fate) {
  if (fate == "dropped") return "lost on the way (injected fault): the sender sees a failure";
  if (fate == "unreachable") return "the receiver is unreachable (outage or crash)";
  if (fate == "error_5xx") return "the network answers 503 (injected fault): the handler never ran";
  if (fate == "timeout") return "it reached the handler, but the answer was lost (injected fault)";
  if (fate == "delayed") return "delayed (injected fault): the sender gave up; it arrives later";
  if (fate == "arrived_late") return "a delayed message arriving late, out of order";
  if (fate == "duplicated") return "delivered a second time (injected fault)";
  if (fate == "corrupted") return "answered with another body than the handler's (injected fault)";
  return {};
}

bool is_check(const sim::message& m) {
  return (m.from == "operator" && m.request.method == "GET") ||
         (m.to == "threads" && path_only(m.request.target).starts_with("/admin"));
}

}  // namespace

std::string redact_target(std::string_view target) {
  const auto q = target.find('?');
  if (q == std::string_view::npos) return std::string(target);
  std::string out(target.substr(0, q + 1));
  std::string_view rest = target.substr(q + 1);
  bool first = true;
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    const auto eq = pair.find('=');
    const std::string_view key = pair.substr(0, eq);
    bool secret = false;
    for (const char* s : secret_keys) secret = secret || key == s;
    out += first ? "" : "&";
    first = false;
    out += secret && eq != std::string_view::npos ? std::string(key) + "=…" : std::string(pair);
  }
  return out;
}

explanation explain(const scenario& s, const explain_options& o) {
  explanation out;
  run_options ro;
  ro.seed = o.seed;
  ro.profile = o.profile;
  ro.changes = o.changes;
  ro.keep_messages = true;
  ro.audit = true;  // keep the flows for the walkthrough
  out.run = run_scenario(s, ro);
  const auto& r = out.run;

  std::vector<const sim::message*> shown;
  for (const auto& m : r.messages)
    if ((o.include_checks || !is_check(m)) && m.at >= r.start) shown.push_back(&m);
  // A duplicate shares its original's number: the observer's order decides between them.
  std::stable_sort(shown.begin(), shown.end(),
                   [](const sim::message* a, const sim::message* b) { return a->seq < b->seq; });

  std::ostringstream d, w;
  d << "sequenceDiagram\n  autonumber\n";
  for (const auto& p : participants) {
    bool used = false;
    for (const auto* m : shown)
      used = used || kind_of(m->from) == p.system || kind_of(m->to) == p.system;
    if (used) d << "  participant " << p.alias << " as " << p.title << "\n";
  }
  w << "# " << s.name << "\n\n";
  if (!s.description.empty()) w << s.description << "\n\n";
  w << "Profile `" << r.profile << "`, seed " << r.seed << ". Each number is an arrow of the "
    << "diagram; tokens, codes, state and secrets are shown as `…`.\n\n";

  // Replies come after the calls a handler made while answering: a message's own calls start
  // after it and complete before it. `done` is the order of completion (the observer's order).
  std::map<const sim::message*, std::size_t> done;
  for (std::size_t i = 0; i < r.messages.size(); ++i) done[&r.messages[i]] = i;
  int n = 0;
  auto reply = [&](const sim::message* m) {
    if (!m->response) return;
    std::string text = std::to_string(m->response->status);
    const std::string loc(m->response->headers.get("Location"));
    if (!loc.empty()) text += " → " + redact_target(loc);
    // A timed-out answer was given but never arrived.
    const bool lost = m->fate == "timeout";
    d << "  " << alias_of(m->to) << (lost ? "--x" : "-->>") << alias_of(m->from) << ": "
      << label(text) << (lost ? " (lost)" : "") << "\n";
    ++n;
    w << n << ". " << title_of(m->to) << " answers " << text
      << (lost ? ", but the answer is lost on the way back" : "") << ".\n";
  };
  std::vector<const sim::message*> open;
  time_point last = r.start;
  const bool several = shown.size() > 1;
  for (const auto* m : shown) {
    while (!open.empty() && done[open.back()] < done[m]) {
      reply(open.back());
      open.pop_back();
    }
    if (m->at > last) {
      const auto gap = std::chrono::duration_cast<milliseconds>(m->at - last);
      const auto since = std::chrono::duration_cast<milliseconds>(m->at - r.start);
      d << "  Note over B,I: " << format_duration(gap) << " pass (now +" << format_duration(since)
        << ")\n";
      w << "\n*" << format_duration(gap) << " of simulated time pass (now +"
        << format_duration(since) << ").*\n\n";
      last = m->at;
    }
    const std::string a = alias_of(m->from), b = alias_of(m->to);
    const std::string target = redact_target(m->request.target);
    const bool faulted = m->fate != "delivered";
    const bool lost = !m->response;
    if (faulted) d << "  rect rgb(255, 228, 228)\n";
    d << "  " << a << (lost ? "-x" : "->>") << b << ": " << label(m->request.method + " " + target)
      << (faulted ? " (" + m->fate + ")" : std::string()) << "\n";
    if (faulted) d << "  end\n";
    ++n;
    w << n << ". **" << title_of(m->from) << " → " << title_of(m->to) << "**: `"
      << m->request.method << " " << target << "`: " << why(*m) << ".";
    if (faulted) w << " *" << fate_text(m->fate) << ".*";
    w << "\n";
    open.push_back(m);
  }
  while (!open.empty()) {
    reply(open.back());
    open.pop_back();
  }
  if (!several) w << "\n(The scenario sent no messages to draw.)\n";
  w << "\n";
  if (r.passed) {
    w << "The scenario passed: every expectation held. Evidence root `" << r.root << "` ("
      << r.entries << " flows).\n";
  } else if (r.failure) {
    w << "The scenario failed at " << r.failure->where.str() << ": " << r.failure->what
      << ": expected " << r.failure->expected << ", got " << r.failure->actual << ".\n";
  } else {
    w << "The scenario could not run: " << r.error << "\n";
  }
  out.mermaid = d.str();
  out.walkthrough = w.str();
  return out;
}

}  // namespace linksim::harness
