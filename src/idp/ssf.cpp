// Shared Signals (OpenID SSF 1.0) as a transmitter: streams, subjects, verification, the
// Security Event Tokens each change makes, and poll delivery (RFC 8936).
#include "domain.hpp"

#include "linksim/common/account_rules.hpp"
#include "linksim/common/json.hpp"
#include "linksim/idp/repositories.hpp"

#include <boost/json/object.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <limits>

namespace linksim::idp {
namespace {

bool supported(std::string_view type) {
  return std::find(std::begin(ssf::events_supported), std::end(ssf::events_supported), type) !=
         std::end(ssf::events_supported);
}

bool is_http_url(std::string_view url) {
  auto u = boost::urls::parse_absolute_uri(url);
  return u && (u->scheme() == "http" || u->scheme() == "https") && !u->host().empty();
}

// The field whose webhook carries the same change: what a SET tells, as data categories.
std::string_view field_of(std::string_view type) {
  if (type == ssf::identifier_changed) return "username";
  if (type == ssf::account_disabled || type == ssf::account_enabled) return "account_status";
  if (type == ssf::account_purged) return "account_deletion";
  return "";
}

}  // namespace

result<void> domain::shared_signals::check_locked(ssf_stream& s, const ssf_stream_request& r,
                                                  bool replace) {
  if (r.method || replace) s.method = r.method.value_or(std::string(ssf::poll_method));
  // Push delivery (RFC 8935) is not offered: a receiver polls.
  if (s.method != ssf::poll_method) return make_error_code(errc::bad_field);
  if (r.endpoint_url && !r.endpoint_url->empty() && *r.endpoint_url != s.endpoint_url)
    return make_error_code(errc::bad_field);  // the transmitter names a poll endpoint
  if (r.authorization_header && !r.authorization_header->empty())
    return make_error_code(errc::bad_field);  // nothing is pushed
  if (r.events_requested || replace) {
    s.events_requested = r.events_requested.value_or(std::vector<std::string>{});
    for (const auto& e : s.events_requested)
      if (e.empty() || e.size() > 256) return make_error_code(errc::bad_field);
    if (s.events_requested.size() > 32) return make_error_code(errc::bad_field);
  }
  if (r.description || replace) s.description = r.description.value_or("");
  if (s.description.size() > 1000) return make_error_code(errc::bad_field);
  return {};
}

result<ssf_stream> domain::shared_signals::create(const client& c, const ssf_stream_request& r) {
  ssf_stream s;
  s.client_id = c.id;
  std::lock_guard lock(ctx_.mutex);
  if (ctx_.repos.ssf().streams_of(c.id).size() >= 16) return make_error_code(errc::bad_field);
  s.id = ctx_.random.token(16);
  s.endpoint_url = ctx_.cfg.issuer + "/ssf/poll/" + s.id;
  s.created_at = unix_millis(ctx_.time.now());
  if (auto ok = check_locked(s, r, true); !ok) return ok.error();
  auto work = ctx_.repos.begin();
  ctx_.repos.ssf().add_stream(s);
  work->commit();
  return s;
}

std::vector<ssf_stream> domain::shared_signals::streams(const client& c) {
  std::lock_guard lock(ctx_.mutex);
  return ctx_.repos.ssf().streams_of(c.id);
}

result<ssf_stream> domain::shared_signals::owned_locked(const client& c, std::string_view id) {
  auto s = ctx_.repos.ssf().find_stream(id);
  // Another receiver's stream is as unknown as one that never was.
  if (!s || s->client_id != c.id) return make_error_code(errc::not_found);
  return std::move(*s);
}

result<ssf_stream> domain::shared_signals::get(const client& c, std::string_view id) {
  std::lock_guard lock(ctx_.mutex);
  return owned_locked(c, id);
}

result<ssf_stream> domain::shared_signals::update(const client& c, std::string_view id,
                                                  const ssf_stream_request& r, bool replace) {
  std::lock_guard lock(ctx_.mutex);
  auto s = owned_locked(c, id);
  if (!s) return s.error();
  if (auto ok = check_locked(*s, r, replace); !ok) return ok.error();
  auto work = ctx_.repos.begin();
  ctx_.repos.ssf().update_stream(*s);
  work->commit();
  return s;
}

result<void> domain::shared_signals::remove(const client& c, std::string_view id) {
  std::lock_guard lock(ctx_.mutex);
  auto s = owned_locked(c, id);
  if (!s) return s.error();
  auto work = ctx_.repos.begin();
  ctx_.repos.ssf().remove_stream(id);
  work->commit();
  return {};
}

result<ssf_stream> domain::shared_signals::set_status(const client& c, std::string_view id,
                                                      std::string_view status,
                                                      std::string_view reason) {
  if (status != "enabled" && status != "paused" && status != "disabled")
    return make_error_code(errc::bad_field);
  if (reason.size() > 1000) return make_error_code(errc::bad_field);
  std::lock_guard lock(ctx_.mutex);
  auto s = owned_locked(c, id);
  if (!s) return s.error();
  auto work = ctx_.repos.begin();
  // A paused stream keeps what happened meanwhile; enabled again, the receiver gets it.
  if (status == "enabled" && s->status == "paused") ctx_.repos.ssf().release_held(id);
  s->status = std::string(status);
  s->reason = std::string(reason);
  ctx_.repos.ssf().update_stream(*s);
  work->commit();
  return s;
}

result<void> domain::shared_signals::subject(const client& c, std::string_view id,
                                             std::int64_t account_id, bool add) {
  std::lock_guard lock(ctx_.mutex);
  auto s = owned_locked(c, id);
  if (!s) return s.error();
  // A receiver learns nothing of an account that never granted it access: not found either way.
  if (ctx_.repos.grants().live_grants(account_id, c.id).empty())
    return make_error_code(errc::not_found);
  auto work = ctx_.repos.begin();
  ctx_.repos.ssf().set_subject(id, account_id, add);
  work->commit();
  return {};
}

result<void> domain::shared_signals::verify(const client& c, std::string_view id,
                                            std::string_view state) {
  if (state.size() > 256) return make_error_code(errc::bad_field);
  std::lock_guard lock(ctx_.mutex);
  auto s = owned_locked(c, id);
  if (!s) return s.error();
  if (s->status == "disabled") return make_error_code(errc::bad_field);
  boost::json::object event;
  if (!state.empty()) event["state"] = state;
  auto work = ctx_.repos.begin();
  // SSF 1.0 section 8.1.4.2: the subject of a verification event is the stream.
  emit_locked(*s, std::nullopt, ssf::verification, std::move(event),
              {{"format", "opaque"}, {"id", s->id}});
  work->commit();
  return {};
}

void domain::shared_signals::emit_locked(const ssf_stream& s,
                                         std::optional<std::int64_t> account_id,
                                         std::string_view type, boost::json::object event,
                                         boost::json::object sub_id) {
  const bool requested = std::find(s.events_requested.begin(), s.events_requested.end(), type) !=
                         s.events_requested.end();
  // Verification events go to every stream that asks for one (SSF 1.0 section 8.1.4.2).
  if (type != ssf::verification && !requested) return;
  const std::string jti = ctx_.random.token(16);
  const auto now = ctx_.time.now();
  boost::json::object events;
  events[type] = std::move(event);
  const boost::json::object claims{{"iss", ctx_.cfg.issuer},      {"jti", jti},
                                   {"iat", unix_seconds(now)},    {"aud", s.client_id},
                                   {"sub_id", std::move(sub_id)}, {"events", std::move(events)}};
  const std::string set = oidc::sign_jwt(ctx_.oidc_key_locked(), claims, "secevent+jwt");
  ctx_.repos.ssf().add_event(jti, s.id, account_id, type, set,
                             s.status == "paused" ? "held" : "pending", unix_millis(now));
}

void domain::shared_signals::on_change(const account& a, std::string_view field) {
  std::string_view type;
  boost::json::object event;
  if (field == "username") {
    type = ssf::identifier_changed;
    event["new-value"] = a.username;
  } else if (field == "account_status") {
    type = a.status == account_status::active ? ssf::account_enabled : ssf::account_disabled;
  } else if (field == "account_deletion") {
    type = ssf::account_purged;
  } else {
    return;  // no standard event carries a name, a biography or a picture
  }
  const boost::json::object sub_id{
      {"format", "iss_sub"}, {"iss", ctx_.cfg.issuer}, {"sub", std::to_string(a.id)}};
  // Only a standing grant: a deletion is told before its grants end.
  for (const auto& s :
       ctx_.repos.ssf().streams_about(a.id, std::numeric_limits<std::int64_t>::max()))
    emit_locked(s, a.id, type, event, sub_id);
}

void domain::shared_signals::on_app_removed(std::int64_t account_id, std::string_view client_id) {
  // The grant was revoked in this unit of work: a stream of its client still hears of it.
  const auto now = ctx_.time.now();
  const boost::json::object sub_id{
      {"format", "iss_sub"}, {"iss", ctx_.cfg.issuer}, {"sub", std::to_string(account_id)}};
  for (const auto& s : ctx_.repos.ssf().streams_about(account_id, unix_millis(now)))
    if (s.client_id == client_id)
      emit_locked(s, account_id, ssf::session_revoked,
                  {{"event_timestamp", unix_seconds(now)},
                   {"initiating_entity", "user"},
                   {"reason_user", {{"en", "The person removed the app from the account"}}}},
                  sub_id);
}

result<ssf_poll_answer> domain::shared_signals::poll(const client& c, std::string_view id,
                                                     const ssf_poll_request& r) {
  if (r.max_events > 1000 || r.ack.size() > 1000 || r.errors.size() > 1000)
    return make_error_code(errc::bad_field);
  std::lock_guard lock(ctx_.mutex);
  auto s = owned_locked(c, id);
  if (!s) return s.error();
  const auto now = unix_millis(ctx_.time.now());
  auto work = ctx_.repos.begin();
  // RFC 8936 section 2.4: acknowledged SETs are not sent again; an unknown jti is ignored.
  for (const auto& jti : r.ack) ctx_.repos.ssf().settle_event(id, jti, "delivered", "", now);
  for (const auto& [jti, err] : r.errors) ctx_.repos.ssf().settle_event(id, jti, "dead", err, now);
  ssf_poll_answer out;
  const auto waiting = ctx_.repos.ssf().pending_events(id, r.max_events);
  for (const auto& w : waiting) {
    // What the receiver is handed, declared as the webhooks' deliveries are.
    if (w.account_id && !field_of(w.event_type).empty())
      ctx_.record_flow_hashed(c.system, *w.account_id, categories_of_field(field_of(w.event_type)),
                              "essential.service", "ssf.poll", to_hex(sha256(w.set)),
                              std::string(w.event_type));
    out.sets.emplace_back(w.jti, w.set);
  }
  out.more_available =
      ctx_.repos.ssf().count_events(id, "pending") > static_cast<std::int64_t>(waiting.size());
  work->commit();
  return out;
}

std::int64_t domain::shared_signals::waiting(std::string_view stream_id) {
  std::lock_guard lock(ctx_.mutex);
  return ctx_.repos.ssf().count_events(stream_id, "pending") +
         ctx_.repos.ssf().count_events(stream_id, "held");
}

}  // namespace linksim::idp
