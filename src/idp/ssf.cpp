// Shared Signals (OpenID SSF 1.0) as a transmitter: streams, subjects, verification, the
// Security Event Tokens each change makes, and poll delivery (RFC 8936).
#include "domain.hpp"

#include "linksim/common/account_rules.hpp"
#include "linksim/common/json.hpp"
#include "linksim/idp/repositories.hpp"

#include <boost/json/object.hpp>

#include <algorithm>
#include <limits>

namespace linksim::idp {

domain::shared_signals::shared_signals(context& ctx) : ctx_(ctx) {
  // The push SETs still pending at start, in the order they fall due.
  for (const auto& due : ctx_.repos.ssf().pending_pushes()) push_queue_.insert(due);
  any_stream_ = ctx_.repos.ssf().any_stream();
}

result<void> domain::shared_signals::check_locked(ssf_stream& s, const ssf_stream_request& r,
                                                  bool replace) {
  // The delivery method is fixed when the stream is made: SETs already waiting were stored
  // for it (a poll stream's wait for a poll, a push stream's are queued to be sent).
  const std::string method = r.method.value_or(std::string(ssf::poll_method));
  if (!s.method.empty() && (r.method || replace) && method != s.method)
    return make_error_code(errc::bad_field);
  if (s.method.empty()) s.method = method;
  const std::string poll_url = ctx_.cfg.issuer + "/ssf/poll/" + s.id;
  if (s.method == ssf::poll_method) {
    // The transmitter names a poll stream's endpoint; nothing is pushed with a header.
    if (r.endpoint_url && !r.endpoint_url->empty() && *r.endpoint_url != poll_url)
      return make_error_code(errc::bad_field);
    if (r.authorization_header && !r.authorization_header->empty())
      return make_error_code(errc::bad_field);
    s.endpoint_url = poll_url;
    s.authorization_header.clear();
  } else if (s.method == ssf::push_method) {
    // The receiver's endpoint (RFC 8935), and the Authorization header it wants sent with
    // each SET.
    if (r.endpoint_url || replace) s.endpoint_url = r.endpoint_url.value_or("");
    if (r.authorization_header || replace)
      s.authorization_header = r.authorization_header.value_or("");
    if (s.endpoint_url.size() > 2048 || !detail::is_http_url(s.endpoint_url))
      return make_error_code(errc::bad_field);
    if (s.authorization_header.size() > 1024 ||
        s.authorization_header.find_first_of("\r\n") != std::string::npos)
      return make_error_code(errc::bad_field);
  } else {
    return make_error_code(errc::bad_field);
  }
  if (r.events_requested || replace) {
    s.events_requested = r.events_requested.value_or(std::vector<std::string>{});
    for (const auto& e : s.events_requested)
      if (e.empty() || e.size() > 256 || e.find_first_of(" \t\r\n") != std::string::npos)
        return make_error_code(errc::bad_field);
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
  if (ctx_.repos.ssf().streams_of(c.id).size() >= max_ssf_streams)
    return make_error_code(errc::bad_field);
  s.id = ctx_.random.token(16);
  s.created_at = unix_millis(ctx_.time.now());
  if (auto ok = check_locked(s, r, true); !ok) return ok.error();
  auto work = ctx_.repos.begin();
  ctx_.repos.ssf().add_stream(s);
  work->commit();
  any_stream_ = true;
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
  const auto now = unix_millis(ctx_.time.now());
  if (status == "enabled" && s->status == "paused")
    for (auto set : ctx_.repos.ssf().release_held(id, now)) {
      if (s->method == ssf::push_method) push_queue_.emplace(now, set);
      generation_.fetch_add(1, std::memory_order_release);
    }
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
  const bool held = s.status == "paused";
  const auto id = ctx_.repos.ssf().add_event(jti, s.id, account_id, type, set,
                                             held ? "held" : "pending", unix_millis(now));
  // Queued before the commit: an entry the commit does not keep is dropped when met.
  if (!held && s.method == ssf::push_method) push_queue_.emplace(unix_millis(now), id);
  if (!held) generation_.fetch_add(1, std::memory_order_release);
}

void domain::shared_signals::on_change(const account& a, std::string_view field) {
  if (!any_stream_) return;
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
  emit_about_locked(a.id, type, event);
}

void domain::shared_signals::emit_about_locked(std::int64_t account_id, std::string_view type,
                                               const boost::json::object& event) {
  const boost::json::object sub_id{
      {"format", "iss_sub"}, {"iss", ctx_.cfg.issuer}, {"sub", std::to_string(account_id)}};
  // Every stream of a client the account has a standing grant with: a deletion is told before
  // its grants end.
  for (const auto& s :
       ctx_.repos.ssf().streams_about(account_id, std::numeric_limits<std::int64_t>::max()))
    emit_locked(s, account_id, type, event, sub_id);
}

void domain::shared_signals::on_app_removed(std::int64_t account_id, std::string_view client_id) {
  if (!any_stream_) return;
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

void domain::shared_signals::on_credential_change(std::int64_t account_id) {
  if (!any_stream_) return;
  // CAEP 1.0 section 3.3: the password was replaced, by its owner or the operator.
  emit_about_locked(account_id, ssf::credential_change,
                    {{"credential_type", "password"},
                     {"change_type", "update"},
                     {"event_timestamp", unix_seconds(ctx_.time.now())}});
}

void domain::shared_signals::on_ad_setting(std::int64_t account_id, bool personalized_ads) {
  if (!any_stream_) return;
  // The setting's new value is the event type; like CAEP's events, the SET says when it changed.
  emit_about_locked(account_id, personalized_ads ? ssf::ads_opt_in : ssf::ads_opt_out,
                    {{"event_timestamp", unix_seconds(ctx_.time.now())}});
}

result<ssf_poll_answer> domain::shared_signals::poll(const client& c, std::string_view id,
                                                     const ssf_poll_request& r) {
  if (r.max_events > 1000 || r.ack.size() > 1000 || r.errors.size() > 1000)
    return make_error_code(errc::bad_field);
  std::lock_guard lock(ctx_.mutex);
  auto s = owned_locked(c, id);
  if (!s) return s.error();
  if (s->method != ssf::poll_method) return make_error_code(errc::bad_field);
  const auto now = unix_millis(ctx_.time.now());
  auto work = ctx_.repos.begin();
  // RFC 8936 section 2.4: acknowledged SETs are not sent again; an unknown jti is ignored.
  for (const auto& jti : r.ack) ctx_.repos.ssf().settle_event(id, jti, "delivered", "", now);
  for (const auto& [jti, err] : r.errors) ctx_.repos.ssf().settle_event(id, jti, "dead", err, now);
  ssf_poll_answer out;
  const auto waiting = ctx_.repos.ssf().pending_events(id, r.max_events);
  for (const auto& w : waiting) {
    // What the receiver is handed, declared as the webhooks' deliveries are: every SET about an
    // account names it (its sub_id), whatever else its event tells.
    if (w.account_id)
      ctx_.record_flow_hashed(c.system, *w.account_id,
                              categories_of_field(ssf::field_of(w.event_type)), "essential.service",
                              "ssf.poll", to_hex(sha256(w.set)), std::string(w.event_type));
    out.sets.emplace_back(w.jti, w.set);
  }
  out.more_available =
      ctx_.repos.ssf().count_events(id, "pending") > static_cast<std::int64_t>(waiting.size());
  // Handed out counts as delivered under a fault profile: a lost answer loses its SETs.
  if (!ctx_.cfg.rules.redeliver_sets)
    for (const auto& w : waiting) ctx_.repos.ssf().settle_event(id, w.jti, "delivered", "", now);
  work->commit();
  return out;
}

result<std::string> domain::shared_signals::sign(std::string_view claims) {
  auto o = json::parse_object(claims);
  if (!o) return make_error_code(errc::bad_json);
  std::lock_guard lock(ctx_.mutex);
  return oidc::sign_jwt(ctx_.oidc_key_locked(), *o, "secevent+jwt");
}

std::int64_t domain::shared_signals::newest_waiting() {
  std::lock_guard lock(ctx_.mutex);
  return any_stream_ ? ctx_.repos.ssf().newest_waiting(ssf::poll_method) : 0;
}

std::optional<std::int64_t> domain::shared_signals::next_due_locked() const {
  if (push_queue_.empty()) return std::nullopt;
  return push_queue_.begin()->first;
}

std::size_t domain::shared_signals::dispatch_due() {
  using push_set = ssf_repository::push_set;
  std::vector<push_set> due;
  {
    std::lock_guard lock(ctx_.mutex);
    const auto now = unix_millis(ctx_.time.now());
    for (auto it = push_queue_.begin();
         it != push_queue_.end() && it->first <= now && due.size() < ctx_.cfg.dispatch_batch;) {
      auto p = ctx_.repos.ssf().due_push(it->second, it->first);
      it = push_queue_.erase(it);  // taken, or no longer pending at that time
      if (p) due.push_back(std::move(*p));
    }
  }
  if (due.empty()) return 0;
  // RFC 8935 section 2: one SET per request, sent without holding the lock.
  struct outcome {
    std::string state, note;
    int status = 0;
    std::int64_t attempts = 0;
    time_point next;
  };
  std::vector<outcome> outcomes;
  for (const auto& p : due) {
    http::request req;
    req.method = "POST";
    req.target = p.endpoint_url;
    req.headers.set("Content-Type", "application/secevent+jwt");
    req.headers.set("Accept", "application/json");
    if (!p.authorization_header.empty()) req.headers.set("Authorization", p.authorization_header);
    req.body = p.set;
    auto res = ctx_.transport.send(std::move(req));
    std::lock_guard lock(ctx_.mutex);
    outcome o;
    o.attempts = p.attempts + 1;
    const auto at = ctx_.time.now();
    o.next = at;
    if (res) {
      o.status = res->status;
      o.note = res->body.substr(0, 200);
      if (p.account_id)
        ctx_.record_flow_hashed(ctx_.repos.clients().find(p.client_id).value_or(client{}).system,
                                *p.account_id, categories_of_field(ssf::field_of(p.event_type)),
                                "essential.service", "ssf.push", to_hex(sha256(p.set)),
                                p.event_type);
    } else {
      o.note = res.error().message();
    }
    if (o.status >= 200 && o.status < 300) {
      o.state = "delivered";
    } else if (o.status == 400) {
      o.state = "dead";  // the receiver read it and refused it (RFC 8935 section 2.4): no retry
    } else {
      o.next = at + ctx_.retry_delay(o.attempts);
      const bool out_of_tries =
          static_cast<std::size_t>(o.attempts) >= ctx_.cfg.retry_schedule.size() ||
          o.next > from_unix_millis(p.created_at) + ctx_.cfg.retry_window;
      // Sent once, under a fault profile: a failed push is not tried again.
      o.state = out_of_tries || !ctx_.cfg.rules.redeliver_sets ? "dead" : "pending";
    }
    outcomes.push_back(std::move(o));
  }
  std::lock_guard lock(ctx_.mutex);
  auto work = ctx_.repos.begin();
  const auto at = unix_millis(ctx_.time.now());
  for (std::size_t i = 0; i < due.size(); ++i) {
    const auto& o = outcomes[i];
    ctx_.repos.ssf().settle_push(due[i].id, o.state, o.attempts, unix_millis(o.next), o.status,
                                 o.note, at);
    if (o.state == "pending") push_queue_.emplace(unix_millis(o.next), due[i].id);
  }
  work->commit();
  return due.size();
}

}  // namespace linksim::idp
