// The provider's account changes as OpenID Shared Signals (SSF 1.0): the service finds or makes
// its stream, checks each Security Event Token against the transmitter's key set, applies it once
// (by jti), and, since a SET carries no version, reads the profile again from /me where the order
// of changes matters. SETs come pushed (RFC 8935) or polled (RFC 8936).
#include "domain.hpp"

#include "linksim/common/account_rules.hpp"
#include "linksim/common/crypto.hpp"
#include "linksim/common/http.hpp"
#include "linksim/common/jose.hpp"
#include "linksim/common/json.hpp"
#include "linksim/common/ssf.hpp"
#include "linksim/threads_sim/repositories.hpp"

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>

#include <utility>

namespace linksim::threads_sim {
namespace bj = boost::json;

namespace {

constexpr std::size_t poll_batch = 64;
constexpr std::size_t max_poll_rounds = 64;  // a poll call's bound, whatever the transmitter says
constexpr auto clock_skew = 5min;            // an iat this far ahead is refused
constexpr auto key_set_refresh = 1min;  // an unknown kid fetches the key set at most this often

std::string_view short_name(std::string_view type) {
  const auto slash = type.rfind('/');
  return slash == std::string_view::npos ? type : type.substr(slash + 1);
}

// RFC 8935 section 2.3 / RFC 8936 section 2.4.4: the error code a refused SET is reported with.
std::string_view set_error_code(const boost::system::error_code& ec) {
  if (is(ec, error::set_key_invalid)) return "invalid_key";
  if (is(ec, error::set_issuer_invalid)) return "invalid_issuer";
  if (is(ec, error::set_audience_invalid)) return "invalid_audience";
  return "invalid_request";
}

const bj::object* object_at(const bj::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v ? v->if_object() : nullptr;
}

std::string string_at(const bj::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

}  // namespace

std::string domain::signals::push_authorization() const {
  // Derived from the client secret, so a restart sends the same one without storing it.
  return "Bearer " + to_hex(hmac_sha256(ctx_.cfg.client_secret, "ssf-push " + ctx_.cfg.base_url));
}

result<http::response> domain::signals::call(std::string method, std::string target,
                                             std::string body) {
  http::request r;
  r.method = std::move(method);
  r.target = std::move(target);
  // RFC 6749 section 2.3.1: the client id and secret, form-encoded, as HTTP Basic.
  r.headers.set("Authorization",
                "Basic " + base64_encode(as_bytes(http::percent_encode(ctx_.cfg.client_id) + ":" +
                                                  http::percent_encode(ctx_.cfg.client_secret))));
  if (!body.empty()) {
    r.headers.set("Content-Type", "application/json");
    r.body = std::move(body);
  }
  return ctx_.transport.send(std::move(r));
}

result<bj::object> domain::signals::fetch_json(const std::string& url) {
  http::request r;
  r.target = url;
  auto res = ctx_.transport.send(std::move(r));
  if (!res || res->status >= 500) return make_error_code(errc::upstream_unavailable);
  if (res->status != 200) return make_error_code(errc::upstream_bad_response);
  auto o = json::parse_object(res->body);
  if (!o) return make_error_code(errc::upstream_bad_response);
  return std::move(*o);
}

result<void> domain::signals::connect() {
  const auto& cfg = ctx_.cfg;
  auto conf = fetch_json(cfg.idp_url + "/.well-known/ssf-configuration");
  if (!conf) return conf.error();
  // SSF 1.0 section 7.2: the issuer in the configuration is the one the SETs carry.
  const std::string jwks_uri = string_at(*conf, "jwks_uri");
  const std::string streams_url = string_at(*conf, "configuration_endpoint");
  if (string_at(*conf, "issuer") != cfg.idp_url || jwks_uri.empty() || streams_url.empty())
    return make_error_code(errc::upstream_bad_response);
  auto keys = fetch_json(jwks_uri);
  if (!keys) return keys.error();

  const bool push = cfg.changes == channel::ssf_push;
  const std::string method(push ? ssf::push_method : ssf::poll_method);
  const std::string endpoint = cfg.base_url + "/ssf/events";
  auto listed = call("GET", streams_url);
  if (!listed || listed->status >= 500) return make_error_code(errc::upstream_unavailable);
  if (listed->status != 200) return make_error_code(errc::upstream_bad_response);
  boost::system::error_code ec;
  const auto all = boost::json::parse(listed->body, ec);
  if (ec || !all.is_array() || !json::finite_numbers(all))
    return make_error_code(errc::upstream_bad_response);
  std::string stream;
  for (const auto& v : all.as_array()) {
    const auto* s = v.if_object();
    const auto* d = s ? object_at(*s, "delivery") : nullptr;
    if (!d || string_at(*d, "method") != method) continue;
    if (push && string_at(*d, "endpoint_url") != endpoint) continue;
    stream = string_at(*s, "stream_id");
    break;
  }
  if (stream.empty()) {
    bj::object delivery{{"method", method}};
    if (push) {
      delivery["endpoint_url"] = endpoint;
      delivery["authorization_header"] = push_authorization();
    }
    bj::array events;
    for (auto e : {ssf::identifier_changed, ssf::account_purged, ssf::account_disabled,
                   ssf::account_enabled, ssf::session_revoked})
      events.emplace_back(e);
    auto made =
        call("POST", streams_url,
             json::serialize(bj::object{{"delivery", std::move(delivery)},
                                        {"events_requested", std::move(events)},
                                        {"description", "the dependent service's stream"}}));
    if (!made || made->status >= 500) return make_error_code(errc::upstream_unavailable);
    auto o = made->status == 201 ? json::parse_object(made->body) : json::parse_object("");
    if (!o || string_at(*o, "stream_id").empty())
      return make_error_code(errc::upstream_bad_response);
    stream = string_at(*o, "stream_id");
  }
  std::lock_guard lock(mutex_);
  stream_id_ = std::move(stream);
  jwks_uri_ = jwks_uri;
  jwks_ = std::move(*keys);
  jwks_read_at_ = ctx_.time.now();
  next_poll_ = ctx_.time.now();
  return {};
}

result<bj::object> domain::signals::check(std::string_view set) {
  auto read = jose::read_unverified(set);
  if (!read) return make_error_code(error::set_invalid);
  bj::object keys;
  std::string uri;
  bool may_refresh = false;
  const auto read_keys = [&] {
    std::lock_guard lock(mutex_);
    keys = jwks_;
    uri = jwks_uri_;
    may_refresh = !jwks_read_at_ || ctx_.time.now() >= *jwks_read_at_ + key_set_refresh;
  };
  read_keys();
  if (uri.empty()) {
    // Not set up yet (the provider could not be reached at start): until it is, a SET waits.
    if (!connect()) return make_error_code(errc::upstream_unavailable);
    read_keys();
  }
  auto verified = jose::verify(set, keys);
  if (!verified && is(verified.error(), errc::not_found)) {
    // A kid the cached set does not hold: the transmitter may have rotated. The set is read
    // again at most once a minute, so a stream of unknown kids cannot make every SET cost a
    // fetch; until then, and while the set cannot be read, the SET is left for later (a push
    // is answered 503 and retried, a polled one is not acknowledged), never refused for good.
    // A read that fails counts too: a key set that cannot be read is not asked for again with
    // every SET.
    if (!may_refresh) return make_error_code(errc::upstream_unavailable);
    {
      std::lock_guard lock(mutex_);
      jwks_read_at_ = ctx_.time.now();
    }
    auto fresh = fetch_json(uri);
    if (!fresh) return make_error_code(errc::upstream_unavailable);
    verified = jose::verify(set, *fresh);
    std::lock_guard lock(mutex_);
    jwks_ = std::move(*fresh);
  }
  // Only a key set read within the minute that lacks the kid, or a signature that does not
  // hold, refuses the SET.
  if (!verified) return make_error_code(error::set_key_invalid);
  const auto& header = verified->header;
  auto& claims = verified->claims;
  // RFC 8417 section 2.3: typed, so an ID token or another JWT is never taken for a SET.
  if (string_at(header, "typ") != "secevent+jwt") return make_error_code(error::set_invalid);
  if (string_at(claims, "iss") != ctx_.cfg.idp_url)
    return make_error_code(error::set_issuer_invalid);
  const auto* aud = claims.if_contains("aud");
  bool ours = aud && aud->is_string() && aud->as_string() == ctx_.cfg.client_id;
  if (aud && aud->is_array())
    for (const auto& a : aud->as_array())
      ours = ours || (a.is_string() && a.as_string() == ctx_.cfg.client_id);
  if (!ours) return make_error_code(error::set_audience_invalid);
  const auto* iat = claims.if_contains("iat");
  if (!iat || !iat->is_int64() || iat->as_int64() > unix_seconds(ctx_.time.now() + clock_skew))
    return make_error_code(error::set_invalid);
  const std::string jti = string_at(claims, "jti");
  const auto* events = object_at(claims, "events");
  if (jti.empty() || jti.size() > 256 || !events || events->empty() || !object_at(claims, "sub_id"))
    return make_error_code(error::set_invalid);
  return std::move(claims);
}

result<signal_outcome> domain::signals::apply(std::string_view set) {
  auto claims = check(set);
  if (!claims) return claims.error();
  const std::string jti = string_at(*claims, "jti");
  const auto& events = *object_at(*claims, "events");
  const auto& sub_id = *object_at(*claims, "sub_id");
  // RFC 9493 iss_sub: the provider's account id. A verification event's subject is the stream.
  std::int64_t account = 0;
  if (string_at(sub_id, "format") == "iss_sub") {
    const auto sub = http::parse_id(string_at(sub_id, "sub"));  // whole, and positive
    if (string_at(sub_id, "iss") != ctx_.cfg.idp_url || !sub)
      return make_error_code(error::set_invalid);
    account = *sub;
  } else if (events.size() != 1 || !events.contains(ssf::verification)) {
    return make_error_code(error::set_invalid);
  }

  const auto& r = ctx_.cfg.rules;
  signal_outcome out;
  std::vector<std::int64_t> reread;
  {
    std::lock_guard lock(ctx_.mutex);
    auto work = ctx_.repos.begin();
    const bool first = ctx_.repos.receipts().first_receipt(std::to_string(account) + "/set/" + jti,
                                                           ctx_.time.now());
    for (const auto& [key, event] : events) {
      const std::string_view type = key;
      out.event = type;
      std::string outcome;
      const auto profiles = ctx_.profiles_locked(account, counts::without);
      if (!first) {
        outcome = "duplicate";
      } else if (type == ssf::verification) {
        outcome = "verified";
      } else if (profiles.empty()) {
        outcome = "no profile";
      } else if (type == ssf::account_purged) {
        if (!r.close_on_account_deletion) {
          outcome = "ignored (the profile stays open)";
        } else {
          for (const auto& p : profiles) {
            ctx_.repos.profiles().close(p.id);
            ctx_.repos.sessions().remove_of(p.id);
            ctx_.repos.links().remove(p.id);
          }
          outcome = "applied";
        }
      } else if (type == ssf::session_revoked) {
        for (const auto& p : profiles) {
          ctx_.repos.links().remove(p.id);
          ctx_.repos.profiles().set_needs_login(p.id, true);
        }
        outcome = "stored tokens forgotten";
      } else if (type == ssf::identifier_changed &&
                 !(r.username == field_rule::mirror && r.apply_username_changes)) {
        outcome = "ignored (username not mirrored)";
      } else if (type == ssf::identifier_changed && !r.order_by_version) {
        // The SET's new value taken as it comes: an older change arriving late wins.
        const auto* o = event.if_object();
        const std::string name = o ? string_at(*o, "new-value") : std::string();
        if (name.empty()) return make_error_code(error::set_invalid);
        for (auto p : profiles) mirror_.set_username(p, name, p.username_version);
        outcome = "applied new-value";
      } else if (type == ssf::identifier_changed || type == ssf::account_disabled ||
                 type == ssf::account_enabled) {
        // No version in a SET: /me says what holds now, with its version.
        for (const auto& p : profiles) reread.push_back(p.id);
        outcome = "re-read";
      } else if (type == ssf::ads_opt_out || type == ssf::ads_opt_in) {
        // Advertising use asks the provider for the setting each time it decides: a SET that
        // comes late, or not at all, must not decide it.
        outcome = "ignored (the setting is asked at each use)";
      } else {
        outcome = "ignored (unknown event)";
      }
      if (out.outcome.empty()) out.outcome = outcome;
      const auto field = ssf::field_of(type);
      ctx_.record_hashed(
          ctx_.cfg.idp_system, ctx_.cfg.system_name, account,
          field.empty() ? std::vector<std::string>{"user.unique_id"} : categories_of_field(field),
          "ssf.receive", to_hex(sha256(set)), std::string(short_name(type)) + ": " + outcome);
    }
    // Once the account is purged nothing kept here may name it, its SETs' receipts included
    // (a copy of the purge coming again finds no profile and does nothing).
    if (events.contains(ssf::account_purged) && r.close_on_account_deletion)
      ctx_.repos.receipts().forget_account(account);
    work->commit();
  }
  // After the commit: a re-read that cannot reach the provider leaves the profile due for a
  // reconciliation poll soon, so the change is not lost with it.
  for (const auto id : reread) (void)reconcile_.poll(id);
  return out;
}

result<signal_outcome> domain::signals::receive_pushed(std::string_view set,
                                                       std::string_view authorization) {
  if (ctx_.cfg.rules.authenticate_pushes &&
      (ctx_.cfg.changes != channel::ssf_push ||
       !constant_time_equal(authorization, push_authorization())))
    return make_error_code(error::push_unauthorized);
  return apply(set);
}

result<std::size_t> domain::signals::poll(bool wait) {
  std::string stream;
  {
    std::lock_guard lock(mutex_);
    stream = stream_id_;
  }
  if (stream.empty()) {
    std::lock_guard one_at_a_time(poll_mutex_);
    if (auto c = connect(); !c) {
      std::lock_guard lock(mutex_);
      next_poll_ = ctx_.time.now() + ctx_.cfg.reconcile_retry;
      return c.error();
    }
    std::lock_guard lock(mutex_);
    stream = stream_id_;
  }
  const std::string url = ctx_.cfg.idp_url + "/ssf/poll/" + stream;
  auto failed = [&](errc e) -> result<std::size_t> {
    std::lock_guard lock(mutex_);
    next_poll_ = ctx_.time.now() + ctx_.cfg.reconcile_retry;
    return make_error_code(e);
  };
  auto fetch = [&](bj::object body) -> std::optional<bj::object> {
    body["maxEvents"] = poll_batch;
    auto res = call("POST", url, json::serialize(body));
    if (!res || res->status >= 500) return std::nullopt;
    auto o = res->status == 200 ? json::parse_object(res->body) : json::parse_object("");
    if (!o || !object_at(*o, "sets")) return bj::object{};
    return std::move(*o);
  };
  // A long poll waits at the provider without the lock below, so a poll asked for meanwhile
  // (POST /admin/ssf/poll) is not held up behind it. It carries no acknowledgement; a SET that
  // both polls receive is applied once (its jti is a receipt).
  std::optional<bj::object> first;
  if (wait) {
    first = fetch({{"returnImmediately", false}});
    if (!first) return failed(errc::upstream_unavailable);
    if (first->empty()) return failed(errc::upstream_bad_response);
  }
  std::lock_guard one_at_a_time(poll_mutex_);
  std::size_t received = 0;
  bj::array ack;
  bj::object errors;
  bool left = false;  // a SET the last round left for later
  for (std::size_t round = 0; round < max_poll_rounds; ++round) {
    std::optional<bj::object> o;
    if (first) {
      o = std::exchange(first, std::nullopt);
    } else {
      bj::object body{{"returnImmediately", true}};
      if (!ack.empty()) body["ack"] = std::move(ack);
      if (!errors.empty()) body["setErrs"] = std::move(errors);
      o = fetch(std::move(body));
      if (!o) return failed(errc::upstream_unavailable);
      if (o->empty()) return failed(errc::upstream_bad_response);
    }
    ack = {};
    errors = {};
    left = false;
    const auto* sets = object_at(*o, "sets");
    for (const auto& [jti, set] : *sets) {
      ++received;
      auto applied = set.is_string() ? apply(set.as_string())
                                     : result<signal_outcome>(make_error_code(error::set_invalid));
      if (applied) {
        ack.emplace_back(jti);
      } else if (is(applied.error(), errc::upstream_unavailable)) {
        left = true;  // neither acknowledged nor refused: it comes again with a later poll
      } else {
        errors[jti] = bj::object{{"err", set_error_code(applied.error())},
                                 {"description", applied.error().message()}};
      }
    }
    const auto* more = o->if_contains("moreAvailable");
    const bool more_available = more && more->is_bool() && more->as_bool();
    // A last round only to acknowledge what this one brought. A round with nothing to
    // acknowledge or refuse ends the poll too: asking again at once would bring the same SETs
    // (say, while the key set cannot be read).
    if ((sets->empty() && !more_available) || (ack.empty() && errors.empty())) break;
  }
  std::lock_guard lock(mutex_);
  // SETs left for later are asked for again after the retry delay, not at once.
  next_poll_ = ctx_.time.now() + (left   ? ctx_.cfg.reconcile_retry
                                  : wait ? milliseconds{0}
                                         : ctx_.cfg.signals_poll_interval);
  return received;
}

std::optional<time_point> domain::signals::next_poll() {
  if (ctx_.cfg.changes != channel::ssf_poll) return std::nullopt;
  std::lock_guard lock(mutex_);
  return next_poll_;
}

}  // namespace linksim::threads_sim
