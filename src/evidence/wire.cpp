// Observed flows: the endpoint table, the field map and the detectors that classify what a
// message carried.
#include "linksim/evidence/wire.hpp"

#include "linksim/common/account_rules.hpp"
#include "linksim/common/crypto.hpp"
#include "linksim/common/jose.hpp"
#include "linksim/common/json.hpp"
#include "linksim/common/ssf.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <set>

namespace linksim::evidence {
namespace bj = boost::json;

namespace {

constexpr std::string_view credentials = "user.authorization.credentials";
constexpr std::string_view password = "user.authorization.password";
constexpr std::string_view service_key = "system.authentication";
constexpr std::string_view unique_id = "user.unique_id";

// What a receiving party's endpoint is for: the channel an observed flow is named by, the use
// its API documents (when the payload does not say), and what a bearer token sent to it is.
struct endpoint {
  std::string_view to;       // the receiving party
  std::string_view method;   // empty: any
  std::string_view pattern;  // "{x}" matches one segment; a trailing "*" any rest
  std::string_view channel;
  std::string_view purpose;
  std::string_view bearer;  // the category of an Authorization: Bearer token sent to it
  bool id_is_account;       // an `id` field in it is a provider account's id
};

constexpr std::string_view essential = "essential.service";
constexpr std::string_view authentication = "essential.service.authentication";

// Documented by each service's API reference (docs/idp_api.md, docs/threads_api.md,
// docs/ads.md). The first matching row wins.
constexpr std::array endpoints{
    // The provider.
    endpoint{"idp", "POST", "/oauth/token", "oauth.token", authentication, credentials, false},
    endpoint{"idp", "POST", "/oauth/access_token", "oauth.token", authentication, credentials,
             false},
    endpoint{"idp", "GET", "/access_token", "oauth.token", authentication, credentials, false},
    endpoint{"idp", "GET", "/refresh_access_token", "oauth.token", authentication, credentials,
             false},
    endpoint{"idp", "POST", "/oauth/revoke", "oauth.revoke", authentication, credentials, false},
    endpoint{"idp", "POST", "/oauth/introspect", "oauth.introspect", authentication, credentials,
             false},
    endpoint{"idp", "", "/oauth/userinfo", "oidc.userinfo", essential, credentials, false},
    endpoint{"idp", "", "/oauth/*", "oauth.authorize", authentication, credentials, false},
    endpoint{"idp", "GET", "/me", "graph.me", essential, credentials, true},
    endpoint{"idp", "GET", "/pictures/{sha}", "graph.picture", essential, credentials, false},
    endpoint{"idp", "GET", "/internal/accounts/{id}/ad-settings", "settings.read",
             "marketing.advertising", service_key, true},
    endpoint{"idp", "PATCH", "/internal/accounts/{id}/profile", "profile.sync", essential,
             service_key, true},
    endpoint{"idp", "", "/admin/*", "admin", "", service_key, true},
    endpoint{"idp", "", "/.well-known/*", "metadata", "", "", false},
    // Shared Signals: a poll's answer carries SETs; the rest manages the receiver's stream.
    endpoint{"idp", "POST", "/ssf/poll/{id}", "ssf", essential, service_key, false},
    endpoint{"idp", "", "/ssf/*", "ssf.manage", "", service_key, false},
    // The dependent service.
    endpoint{"threads", "", "/webhooks/instagram", "webhook", essential, "", true},
    // A push carries the token the receiver gave the transmitter for its stream (RFC 8935 §2).
    endpoint{"threads", "POST", "/ssf/events", "ssf", essential, service_key, false},
    endpoint{"threads", "POST", "/ig/deauthorize", "callback.receive.deauthorize", essential, "",
             true},
    endpoint{"threads", "POST", "/ig/data-deletion", "callback.receive.data_deletion", essential,
             "", true},
    endpoint{"threads", "GET", "/callback", "oauth.callback", authentication, "", false},
    endpoint{"threads", "", "/api/*", "threads.api", essential, credentials, false},
    endpoint{"threads", "", "/admin/*", "admin", "", service_key, false},
    endpoint{"threads", "", "/*", "threads.page", essential, credentials, false},
    // The company's ad platform.
    endpoint{"ads", "POST", "/v1/activity", "ads.activity", "", service_key, false},
    endpoint{"ads", "POST", "/v1/opt-outs", "ads.opt_out", "essential.service", service_key, false},
    endpoint{"ads", "POST", "/v1/deletions", "ads.deletion", "essential.service", service_key,
             false},
    endpoint{"ads", "POST", "/v1/ai/transcripts", "ai.training", "train_ai_system", service_key,
             false},
    endpoint{"ads", "GET", "/v1/sponsored", "ads.sponsored", "marketing.advertising", service_key,
             false},
    endpoint{"ads", "GET", "/v1/partners/reports", "partner.report", "analytics.reporting",
             service_key, false},
    endpoint{"ads", "GET", "/v1/partners/audiences", "partner.audience",
             "marketing.advertising.third_party", service_key, false},
    endpoint{"ads", "POST", "/v1/partners/purchases", "partner.sale", "third_party_sharing.sale",
             service_key, false},
    endpoint{"ads", "", "/admin/*", "admin", "", service_key, true},
};

bool path_matches(std::string_view pattern, std::string_view path) {
  while (!pattern.empty()) {
    if (pattern == "*") return true;
    if (pattern.front() == '{') {
      const auto close = pattern.find('}');
      const auto slash = path.find('/');
      if (slash == 0 || path.empty()) return false;
      pattern.remove_prefix(close + 1);
      path.remove_prefix(slash == std::string_view::npos ? path.size() : slash);
      continue;
    }
    if (path.empty() || pattern.front() != path.front()) return false;
    pattern.remove_prefix(1);
    path.remove_prefix(1);
  }
  return path.empty();
}

const endpoint* endpoint_of(std::string_view to, std::string_view method, std::string_view path) {
  for (const auto& e : endpoints)
    if (e.to == to && (e.method.empty() || e.method == method) && path_matches(e.pattern, path))
      return &e;
  return nullptr;
}

// The field map every endpoint shares: a field's name (its last key) to its category, and
// whether its value is a secret.
struct field_class {
  std::string_view name;
  std::string_view category;
  bool secret = false;
  std::string_view channel = {};  // only on this endpoint's channel; empty: on any
  bool only_true = false;         // only when its value is `true`
};
constexpr std::array fields{
    field_class{"user_id", unique_id},
    // OpenID Connect's claims (userinfo; an ID token is carried hashed, as a token).
    field_class{"sub", unique_id},
    field_class{"preferred_username", "user.account.username"},
    field_class{"ig_user_id", unique_id},
    field_class{"subject", unique_id},
    field_class{"account_id", unique_id},
    field_class{"username", "user.account.username"},
    field_class{"account_status", "user.account"},
    field_class{"account_type", "user.account"},
    field_class{"new_username", "user.account.username"},
    field_class{"name", "user.name"},
    field_class{"display_name", "user.name"},
    field_class{"profile_picture_url", "user.content.self_image"},
    field_class{"picture", "user.content.self_image"},
    field_class{"picture_url", "user.content.self_image"},
    field_class{"biography", "user.content.public"},
    field_class{"bio", "user.content.public"},
    field_class{"text", "user.content.public"},
    field_class{"caption", "user.content.public"},
    field_class{"posts", "user.content.public"},
    field_class{"message", "user.content.private", false, "threads.api"},
    // A sponsored post chosen from what the platform learnt of the person's activity.
    field_class{"personalized", "user.behavior", false, "ads.sponsored", true},
    // A sponsored post's copy is the advertiser's, not anyone's content.
    field_class{"text", "", false, "ads.sponsored"},
    // An opt-out's source: the person's own signal (Global Privacy Control) or setting.
    field_class{"source", "user.account.settings", false, "ads.opt_out"},
    // A partner's report: counts of what people did, and their ids when not aggregated.
    field_class{"impressions", "user.behavior", false, "partner.report"},
    field_class{"reach", "user.behavior", false, "partner.report"},
    field_class{"viewers", unique_id, false, "partner.report"},
    field_class{"accounts", unique_id, false, "partner.audience"},
    // A Security Event Token's claims (RFC 8417): its envelope names no one but its subject.
    field_class{"new-value", "user.account.username", false, "ssf"},
    field_class{"jti", "", false, "ssf"},
    field_class{"iss", "", false, "ssf"},
    field_class{"aud", "", false, "ssf"},
    field_class{"id", "", false, "ssf"},  // an opaque subject: the stream itself
    // A key set's public keys, and a stream's id: no one's secret.
    field_class{"x", "", false, "metadata"},
    field_class{"stream_id", "", false, "ssf.manage"},
    field_class{"transcript", "user.content.private"},
    field_class{"device", "user.device.device_id"},
    field_class{"device_id", "user.device.device_id"},
    field_class{"kind", "user.behavior"},
    field_class{"activity", "user.behavior"},
    field_class{"followers", "user.social.followers"},
    field_class{"follows", "user.social.followers"},
    field_class{"following", "user.social.followers"},
    field_class{"followers_count", "user.social.followers"},
    field_class{"follows_count", "user.social.followers"},
    field_class{"email", "user.contact.email"},
    field_class{"ads_personalized", "user.account.settings"},
    field_class{"personalized_ads", "user.account.settings"},
    field_class{"opted_out", "user.account.settings"},
    field_class{"password", password, true},
    field_class{"access_token", credentials, true},
    field_class{"refresh_token", credentials, true},
    field_class{"id_token", credentials, true},
    field_class{"code", credentials, true},
    field_class{"code_verifier", credentials, true},
    field_class{"token", credentials, true},
    field_class{"session", credentials, true},
    // Meta's signed envelope of a callback: it carries the account's id (kept hashed: it is
    // signed).
    field_class{"signed_request", unique_id, true},
    field_class{"client_secret", service_key, true},
    field_class{"api_key", service_key, true},
    field_class{"verify_token", service_key, true},
    field_class{"hub.verify_token", service_key, true},
};

const field_class* field_of(std::string_view name, const endpoint* at) {
  // The endpoint's own entry first, then the shared one.
  if (at)
    for (const auto& f : fields)
      if (f.name == name && f.channel == at->channel) return &f;
  for (const auto& f : fields)
    if (f.name == name && f.channel.empty()) return &f;
  return nullptr;
}

bool is_email(std::string_view v) {
  const auto at = v.find('@');
  return at != std::string_view::npos && at > 0 && v.find('.', at) != std::string_view::npos &&
         v.find(' ') == std::string_view::npos && v.size() < 255;
}

// A bearer secret by its shape: 24 or more characters of a token alphabet, letters and digits
// mixed. Hex of 64 digits (a content hash, a digest) is not one.
bool looks_like_token(std::string_view v) {
  if (v.size() < 24 || v.size() > 4096) return false;
  bool letter = false, digit = false, hex = v.size() == 64;
  for (const char c : v) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalpha(u)) letter = true;
    if (std::isdigit(u)) digit = true;
    if (!std::isxdigit(u)) hex = false;
    if (!std::isalnum(u) && c != '-' && c != '_' && c != '.' && c != '~' && c != '+' && c != '/' &&
        c != '=')
      return false;
  }
  return letter && digit && !hex;
}

bool is_account_id(const bj::value& v) {
  if (v.is_int64()) return v.as_int64() > 0;
  if (!v.is_string()) return false;
  const auto& s = v.get_string();
  return !s.empty() && s.size() < 20 && s != "0" &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Whether a value holds anything: an empty string, zero, false, null or a structure of only
// those carries nothing about anyone.
bool has_value(const bj::value& v) {
  if (v.is_object())
    return std::any_of(v.get_object().begin(), v.get_object().end(),
                       [](const auto& kv) { return has_value(kv.value()); });
  if (v.is_array()) return std::any_of(v.get_array().begin(), v.get_array().end(), has_value);
  if (v.is_string()) return !v.get_string().empty();
  if (v.is_int64()) return v.get_int64() != 0;
  if (v.is_bool()) return v.get_bool();
  return !v.is_null();
}

std::string id_text(const bj::value& v) {
  return v.is_int64() ? std::to_string(v.as_int64()) : std::string(v.get_string());
}

// What one side of a message carried.
struct reading {
  std::set<std::string> categories;
  std::vector<std::string> purposes;  // as the payload states them
  std::string subject;
  bj::object shown;  // the content as logged: secrets keyed-hashed
};

class reader {
 public:
  reader(const wire_classifier& keys, const endpoint* at, reading& out)
      : keys_(keys), at_(at), out_(out) {}

  // A JSON value under `name`, redacted in place. `as` classifies it as another field would
  // be (a webhook change's value, by the change's `field`).
  void value(std::string_view name, bj::value& v, std::string_view as = {}) {
    const std::string_view key = as.empty() ? name : as;
    if (v.is_object()) {
      auto& o = v.as_object();
      // A webhook change: {"field": "username", "value": ...}.
      std::string field;
      if (const auto* f = o.if_contains("field"); f && f->is_string()) field = f->as_string();
      for (auto& [k, inner] : o) {
        // An error answer says what went wrong, not anything about a person.
        if (k == "error" || k == "error_description") continue;
        // A poll's answer (RFC 8936): {"sets": {jti: SET}}.
        if (k == "sets" && at_ && at_->channel == "ssf" && inner.is_object()) {
          for (auto& [jti, one] : inner.as_object())
            if (one.is_string()) one = set(one.as_string());
          continue;
        }
        value(k, inner, k == "value" ? std::string_view(field) : "");
      }
      if (const auto* f = field_of(key, at_); f && !f->category.empty() && has_value(v))
        out_.categories.insert(std::string(f->category));
      return;
    }
    if (v.is_array()) {
      for (auto& inner : v.as_array()) value(key, inner);
      return;
    }
    if (key == "purpose" || key == "purposes") {
      if (v.is_string()) out_.purposes.emplace_back(v.as_string());
      return;
    }
    if (key == "id" && at_ && at_->id_is_account && is_account_id(v)) {
      out_.categories.insert(std::string(unique_id));
      if (out_.subject.empty()) out_.subject = id_text(v);
      return;
    }
    if (key == "id_token" && v.is_string()) {
      v = id_token(v.get_string());
      return;
    }
    if (const auto* f = field_of(key, at_)) {
      // An empty value carries nothing: a profile without a name shares no name.
      // An id of zero names no account.
      if (v.is_null() || (v.is_string() && v.get_string().empty()) ||
          (v.is_bool() && !v.as_bool()) || (v.is_int64() && v.as_int64() == 0) ||
          (f->category == unique_id && v.is_string() && v.get_string() == "0"))
        return;
      if (f->only_true && !v.is_bool()) return;
      if (f->category.empty()) return;  // not about a person on this endpoint
      out_.categories.insert(std::string(f->category));
      if (f->category == unique_id && out_.subject.empty() && is_account_id(v))
        out_.subject = id_text(v);
      if (f->secret && v.is_string()) v = keys_.keyed(v.get_string());
      return;
    }
    if (!v.is_string()) return;
    const std::string_view s = v.get_string();
    if (is_email(s)) out_.categories.insert("user.contact.email");
    if (looks_like_token(s)) {
      out_.categories.insert(std::string(credentials));
      v = keys_.keyed(s);
    }
  }

  // Form or query parameters, into `into`.
  void params(const http::params& p, bj::object& into) {
    for (const auto& [k, val] : p) {
      bj::value v = bj::string(val);
      value(k, v);
      into[k] = std::move(v);
    }
  }

  // A Security Event Token, read (never trusted: the receiver checks its signature) into its
  // claims. Each event type says what changed, as the webhook field carrying the same change.
  // An OpenID Connect ID token: a credential, kept keyed-hashed, whose claims (signed, not
  // secret) say who the account is: classified as the fields they are, and shown.
  bj::value id_token(std::string_view jwt) {
    out_.categories.insert(std::string(credentials));
    auto read = jose::read_unverified(jwt);
    if (!read) return bj::value(keys_.keyed(jwt));
    bj::value claims(std::move(read->claims));
    value("", claims);
    return bj::object{{"jwt", keys_.keyed(jwt)}, {"claims", std::move(claims)}};
  }

  bj::value set(std::string_view jwt) {
    auto read = jose::read_unverified(jwt);
    if (!read) {
      if (looks_like_token(jwt)) out_.categories.insert(std::string(credentials));
      return bj::value(keys_.keyed(jwt));
    }
    bj::value claims(std::move(read->claims));
    value("", claims);
    if (const auto* events = claims.as_object().if_contains("events");
        events && events->is_object())
      for (const auto& e : events->as_object())
        for (const auto& c : categories_of_field(ssf::field_of(e.key()))) out_.categories.insert(c);
    return claims;
  }

  void body(std::string_view content_type, const std::string& body, bj::object& into) {
    if (body.empty()) return;
    if (content_type.starts_with("application/secevent+jwt")) {
      into["set"] = set(body);
      return;
    }
    if (content_type.starts_with("application/json") || body.front() == '{' ||
        body.front() == '[') {
      boost::system::error_code ec;
      bj::value v = bj::parse(body, ec);
      if (!ec && json::finite_numbers(v)) {
        value("", v);
        into["body"] = std::move(v);
        return;
      }
    }
    if (content_type.starts_with("application/x-www-form-urlencoded")) {
      if (auto p = http::parse_form(body)) {
        bj::object form;
        params(*p, form);
        into["form"] = std::move(form);
        return;
      }
    }
    // A page or anything else: kept by size only. Its text is scanned for tokens alone.
    into["body_bytes"] = body.size();
  }

  void header_credentials(const http::headers& h, bj::object& into) {
    const auto auth = h.get("Authorization");
    if (!auth.empty()) {
      const bool basic = auth.starts_with("Basic ");
      out_.categories.insert(
          basic ? std::string(service_key)
                : std::string(at_ && !at_->bearer.empty() ? at_->bearer : credentials));
      into["authorization"] = keys_.keyed(auth);
    }
    if (const auto cookie = h.get("Cookie"); !cookie.empty()) {
      out_.categories.insert(std::string(credentials));
      into["cookie"] = keys_.keyed(cookie);
    }
    if (const auto set = h.get("Set-Cookie"); !set.empty()) {
      out_.categories.insert(std::string(credentials));
      into["set_cookie"] = keys_.keyed(set.substr(0, set.find(';')));
    }
    if (h.get("Sec-GPC") == "1") {
      out_.categories.insert("user.account.settings");
      into["sec_gpc"] = "1";
    }
    if (const auto location = h.get("Location"); !location.empty()) {
      const auto q = location.find('?');
      bj::object loc;
      if (q != std::string_view::npos)
        if (auto p = http::parse_form(location.substr(q + 1))) params(*p, loc);
      into["location"] = bj::object{{"path", location.substr(0, q)}, {"query", std::move(loc)}};
    }
  }

 private:
  const wire_classifier& keys_;
  const endpoint* at_;
  reading& out_;
};

flow make_flow(const wire_message& m, std::string from, std::string to, const endpoint* e,
               reading& r, std::string_view bytes, std::string_view what) {
  flow f;
  f.time = m.time;
  f.from = std::move(from);
  f.to = std::move(to);
  f.subject = r.subject;
  f.categories.assign(r.categories.begin(), r.categories.end());
  f.purpose = e ? std::string(e->purpose) : std::string();
  f.channel = e ? std::string(e->channel) : std::string("http");
  f.payload_digest = to_hex(sha256(bytes));
  r.shown["message"] = what;
  f.note = json::serialize(r.shown);
  constexpr std::size_t longest_note = 4096;
  if (f.note.size() > longest_note) f.note = f.note.substr(0, longest_note) + "…(cut)";
  f.observed = true;
  return f;
}

// One flow per purpose the payload states (an activity event for personalisation and for
// advertising is two uses), or one with the endpoint's.
void emit(std::vector<flow>& out, flow f, const std::vector<std::string>& purposes) {
  if (purposes.empty()) {
    out.push_back(std::move(f));
    return;
  }
  for (const auto& p : purposes) {
    f.purpose = p;
    out.push_back(f);
  }
}

}  // namespace

std::vector<std::string> observable_categories() {
  std::set<std::string> all{std::string(credentials), std::string(password),
                            std::string(service_key), std::string(unique_id),
                            "user.contact.email",     "user.account.settings"};
  for (const auto& f : fields)
    if (!f.category.empty()) all.insert(std::string(f.category));
  for (const auto& e : endpoints)
    if (!e.bearer.empty()) all.insert(std::string(e.bearer));
  return {all.begin(), all.end()};
}

std::string party_name(std::string_view system) {
  return system == "browser" ? std::string("user") : std::string(system);
}

wire_classifier::wire_classifier(std::string key) : key_(std::move(key)) {}

std::string wire_classifier::keyed(std::string_view secret) const {
  return "hmac:" + to_hex(hmac_sha256(key_, secret)).substr(0, 16);
}

std::vector<flow> wire_classifier::flows_of(const wire_message& m) const {
  std::vector<flow> out;
  if (!m.request) return out;
  const auto& req = *m.request;
  std::string_view target = req.target;
  // An absolute target's path starts after its authority; a "://" in an origin-form target's
  // query (an unencoded redirect_uri) is not a scheme.
  if (const auto scheme = target.find("://"); !target.starts_with('/') &&
                                              scheme != std::string_view::npos &&
                                              scheme < target.find_first_of("/?")) {
    const auto slash = target.find('/', scheme + 3);
    target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
  }
  const auto q = target.find('?');
  const std::string_view path = target.substr(0, q);
  const std::string to = party_name(m.to), from = party_name(m.from);
  const endpoint* e = endpoint_of(to, req.method, path);
  const std::string what = req.method + " " + std::string(path);
  if (m.reached) {
    reading r;
    reader read(*this, e, r);
    if (q != std::string_view::npos) {
      bj::object query;
      if (auto p = http::parse_form(target.substr(q + 1))) read.params(*p, query);
      r.shown["query"] = std::move(query);
    }
    read.header_credentials(req.headers, r.shown);
    read.body(req.headers.get("Content-Type"), req.body, r.shown);
    emit(out,
         make_flow(m, from, to, e, r, std::string(target) + "\n" + req.body, what + " (request)"),
         r.purposes);
  }
  if (m.answered && m.response) {
    const auto& res = *m.response;
    reading r;
    reader read(*this, e, r);
    read.header_credentials(res.headers, r.shown);
    read.body(res.headers.get("Content-Type"), res.body, r.shown);
    r.shown["status"] = res.status;
    if (!r.categories.empty())
      emit(out,
           make_flow(m, to, from, e, r, res.body,
                     what + " (answer " + std::to_string(res.status) + ")"),
           r.purposes);
  }
  return out;
}

}  // namespace linksim::evidence
