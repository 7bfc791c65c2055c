// Webhooks: the subscription handshake, the transactional outbox, and at-least-once delivery
// with Meta's signature, Standard Webhooks headers, backoff, 410 handling and dead letters.
#include "domain.hpp"

#include "linksim/common/json.hpp"
#include "linksim/idp/repositories.hpp"

#include <boost/json/object.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <cmath>
#include <map>

namespace linksim::idp {

// What one request carries: a callback, or the webhooks of one client and endpoint.
struct domain::outbox::request_batch {
  std::vector<queued_delivery> parts;
  std::string system;  // the client's, for the evidence
  http::request request;
  bool webhook() const { return parts.front().kind == "webhook"; }
};

bool detail::is_http_url(std::string_view url) {
  auto u = boost::urls::parse_absolute_uri(url);
  return u && (u->scheme() == "http" || u->scheme() == "https") && !u->host().empty();
}

std::string_view to_string(delivery_state s) {
  switch (s) {
    case delivery_state::pending:
      return "pending";
    case delivery_state::delivered:
      return "delivered";
    case delivery_state::dead:
      return "dead";
    case delivery_state::disabled:
      return "disabled";
  }
  return "pending";
}

std::optional<delivery_state> parse_delivery_state(std::string_view s) {
  for (auto v : {delivery_state::pending, delivery_state::delivered, delivery_state::dead,
                 delivery_state::disabled}) {
    if (to_string(v) == s) return v;
  }
  return std::nullopt;
}

result<subscription> domain::outbox::subscribe(std::string_view client_id, std::string callback_url,
                                               std::string verify_token,
                                               std::vector<std::string> fields) {
  auto c = clients_.get(client_id);
  if (!c) return make_error_code(errc::not_found);
  if (c->is_public()) return make_error_code(error::public_client_no_webhooks);
  if (!detail::is_http_url(callback_url)) return make_error_code(errc::callback_url_invalid);
  if (fields.empty()) fields.assign(std::begin(webhook_fields), std::end(webhook_fields));
  for (const auto& f : fields) {
    if (std::find(std::begin(webhook_fields), std::end(webhook_fields), f) ==
        std::end(webhook_fields)) {
      return make_error_code(errc::bad_field);
    }
  }
  // Meta's verification: the callback must echo hub.challenge for our verify token.
  const std::string challenge = std::to_string(ctx_.random.uniform(1'000'000'000));
  http::request req;
  req.target = callback_url + (callback_url.find('?') == std::string::npos ? "?" : "&") +
               http::form_encode({{"hub.mode", "subscribe"},
                                  {"hub.challenge", challenge},
                                  {"hub.verify_token", verify_token}});
  auto res = ctx_.transport.send(req);
  if (!res || res->status != 200 || res->body != challenge)
    return make_error_code(error::subscription_handshake_failed);

  subscription s{c->id, std::move(callback_url), std::move(verify_token), std::move(fields), true};
  std::lock_guard lock(ctx_.mutex);
  auto work = ctx_.repos.begin();
  ctx_.repos.clients().subscribe(s);
  // Subscribing again after a 410 also says the receiver is back, perhaps at a new address.
  release_held_webhooks(s.client_id, std::string_view(s.callback_url));
  work->commit();
  return s;
}

void domain::outbox::release_held_webhooks(std::string_view client_id,
                                           std::optional<std::string_view> new_url) {
  const auto now = unix_millis(ctx_.time.now());
  ctx_.repos.clients().set_active(client_id, true);
  // Due together: the queue orders them by id, which is the order of their changes.
  for (auto id : ctx_.repos.outbox().release_held(client_id, now, new_url)) queue_.emplace(now, id);
}

result<subscription> domain::outbox::get_subscription(std::string_view client_id) {
  std::lock_guard lock(ctx_.mutex);
  auto s = ctx_.repos.clients().subscription_of(client_id);
  if (!s) return make_error_code(errc::not_found);
  return std::move(*s);
}

void domain::outbox::enqueue_change(const account& a, std::string_view field,
                                    std::string_view value_json) {
  const auto now = unix_millis(ctx_.time.now());
  // A number that is never reused, even if this transaction rolls back (a gap is harmless: a
  // change that was not committed was never sent).
  const std::int64_t event_id = ++last_event_id_;
  std::int64_t due = now;
  if (const auto w = ctx_.cfg.webhook_batch_window.count(); ctx_.cfg.webhook_batch > 1 && w > 0)
    due = (now + w - 1) / w * w;
  // Every client that subscribed to the field and that this account has authorized, read
  // first, then one row inserted a client, so that each new delivery's id joins the queue.
  // A subscription disabled by a 410 still gets its deliveries, held as `disabled` until the
  // subscription is enabled again and then sent in order: a receiver that comes back must not
  // miss the changes made while it was away.
  for (const auto& [client_id, url, active] : ctx_.repos.clients().subscribers(a.id, field)) {
    const auto id = ctx_.repos.outbox().add_webhook(event_id, client_id, a.id, field, url, !active,
                                                    due, now, value_json);
    if (active) queue_.emplace(due, id);
  }
  // The same change as Security Event Tokens, for the receivers that asked for its event type.
  signals_.on_change(a, field);
}

void domain::outbox::enqueue_callback(std::int64_t account_id, std::string_view client_id,
                                      std::string_view kind, std::string_view url) {
  const auto now = unix_millis(ctx_.time.now());
  queue_.emplace(now, ctx_.repos.outbox().add_callback(account_id, client_id, kind, url, now));
}

void domain::outbox::enqueue_app_removed(std::int64_t account_id, const client& c) {
  if (!c.deauthorize_url.empty())
    enqueue_callback(account_id, c.id, "deauthorize", c.deauthorize_url);
  signals_.on_app_removed(account_id, c.id);
}

void domain::outbox::enqueue_credential_change(std::int64_t account_id) {
  signals_.on_credential_change(account_id);
}

void domain::outbox::enqueue_ad_setting(std::int64_t account_id, bool personalized_ads) {
  signals_.on_ad_setting(account_id, personalized_ads);
}

std::string domain::outbox::signed_request(const client& c, std::int64_t account_id,
                                           bool with_expiry) {
  const auto now = unix_seconds(ctx_.time.now());
  boost::json::object payload;
  payload["algorithm"] = "HMAC-SHA256";
  payload["issued_at"] = now;
  payload["user_id"] = std::to_string(account_id);
  if (with_expiry) payload["expires"] = now + 3600;
  const std::string encoded = base64url_encode(json::serialize(payload));
  // Meta signs the still-encoded payload segment.
  return base64url_encode(hmac_sha256(c.secret, encoded)) + "." + encoded;
}

std::vector<queued_delivery> domain::outbox::due_deliveries() {
  // The due deliveries in the order they fell due (time, then id), each read by its id and kept
  // only if its row is still pending at that time.
  const std::size_t limit =
      std::max(ctx_.cfg.dispatch_batch, std::min(ctx_.cfg.webhook_batch, max_webhook_batch));
  const std::int64_t now = unix_millis(ctx_.time.now());
  std::vector<queued_delivery> due;
  for (auto it = queue_.begin(); it != queue_.end() && it->first <= now && due.size() < limit;) {
    const auto [at, id] = *it;
    auto o = ctx_.repos.outbox().due(id, at);
    if (!o) {
      it = queue_.erase(it);  // no longer pending at that time
      continue;
    }
    due.push_back(std::move(*o));
    ++it;
  }
  return due;
}

std::vector<domain::outbox::request_batch> domain::outbox::group_deliveries(
    std::vector<queued_delivery> due) {
  // Webhooks of one client and endpoint share a request, up to webhook_batch of them, in the
  // order they fell due; a callback travels alone.
  std::vector<request_batch> out;
  std::map<std::pair<std::string, std::string>, std::size_t> open;  // (client, url) -> batch
  const std::size_t per_request =
      std::clamp<std::size_t>(ctx_.cfg.webhook_batch, 1, max_webhook_batch);
  for (auto& o : due) {
    if (o.kind == "webhook") {
      auto key = std::make_pair(o.client_id, o.url);
      auto it = open.find(key);
      if (it != open.end() && out[it->second].parts.size() < per_request) {
        out[it->second].parts.push_back(std::move(o));
        continue;
      }
      open[std::move(key)] = out.size();
    }
    out.emplace_back().parts.push_back(std::move(o));
  }

  for (auto& b : out) {
    const queued_delivery& first = b.parts.front();
    // A delivery's client exists: the foreign key says so.
    const client& c = *clients_.find_locked(first.client_id).value();
    b.system = c.system;
    b.request.method = "POST";
    b.request.target = first.url;
    if (!b.webhook()) {
      b.request.headers.set("Content-Type", "application/x-www-form-urlencoded");
      b.request.body = http::form_encode(
          {{"signed_request", signed_request(c, first.account_id, first.kind == "data_deletion")}});
      continue;
    }
    // Meta's envelope, written as text: {"object":"user","entry":[{"id","time","changes":[{
    // "field","value"}]}, ...]}, ids as strings. The stored value is the JSON object the
    // change was serialized as; one that does not parse travels as a string.
    std::string& body = b.request.body;
    body = R"({"object":"user","entry":[)";
    for (std::size_t i = 0; i < b.parts.size(); ++i) {
      const queued_delivery& o = b.parts[i];
      if (i) body += ',';
      body += R"({"id":")";
      body += std::to_string(o.account_id);
      body += R"(","time":)";
      body += std::to_string(o.created_at / 1000);
      body += R"(,"changes":[{"field":)";
      json::append_quoted(body, o.field);
      body += R"(,"value":)";
      if (json::is_object(o.value))
        body += o.value;
      else
        json::append_quoted(body, o.value);
      body += "}]}";
    }
    body += "]}";

    auto& h = b.request.headers;
    h.set("Content-Type", "application/json");
    h.set("X-Hub-Signature-256", "sha256=" + to_hex(hmac_sha256(c.secret, b.request.body)));
    // Standard Webhooks: the id stays the same on every retry of the same content; the
    // timestamp is this attempt's. A batch is named by the events it carries.
    std::string id = "evt_" + std::to_string(first.event_id);
    if (b.parts.size() > 1) {
      std::string events;
      for (const auto& o : b.parts) events += std::to_string(o.event_id) + ",";
      id = "evtb_" + to_hex(sha256(events)).substr(0, 32);
    }
    const std::string ts = std::to_string(unix_seconds(ctx_.time.now()));
    const auto key = base64_decode(std::string_view(c.webhook_secret).substr(6));
    std::string signed_content = id;
    signed_content += '.';
    signed_content += ts;
    signed_content += '.';
    signed_content += b.request.body;
    h.set("webhook-id", id);
    h.set("webhook-timestamp", ts);
    h.set("webhook-signature", "v1," + base64_encode(hmac_sha256(*key, as_bytes(signed_content))));
  }
  return out;
}

milliseconds domain::context::retry_delay(std::int64_t attempts) {
  const auto& s = cfg.retry_schedule;
  const auto base = s.at(static_cast<std::size_t>(std::min<std::int64_t>(attempts, s.size() - 1)));
  // Jitter spreads retries so that receivers recovering from an outage are not stampeded.
  const double u = static_cast<double>(random.uniform(1'000'001)) / 1'000'000.0;
  const double factor = 1.0 + cfg.retry_jitter * (2.0 * u - 1.0);
  return milliseconds{static_cast<std::int64_t>(std::llround(base.count() * factor))};
}

// What one request's answer means for the deliveries it carried: stored with the rest of its
// dispatch round, in one transaction.
struct domain::outbox::settlement {
  struct row {
    std::int64_t id = 0;
    std::string state;
    std::int64_t attempts = 0;
    std::int64_t was_due = 0;  // the next_attempt_at it was taken at
  };
  std::vector<row> rows;
  std::string disable_client;  // the client whose endpoint answered 410, if it did
  time_point next;
  time_point at;
  int status = 0;
  std::string answer;
};

domain::outbox::settlement domain::outbox::settle(const request_batch& b,
                                                  const result<http::response>& res) {
  settlement out;
  out.at = ctx_.time.now();
  const queued_delivery& first = b.parts.front();

  milliseconds retry_after{0};
  if (res) {
    out.status = res->status;
    out.answer = res->body.substr(0, 200);
    // The receiver got the data whatever it answered: a flow for each account in the request,
    // each with the digest of the request's body.
    const std::string body_digest = to_hex(sha256(b.request.body));
    for (const auto& o : b.parts)
      ctx_.record_flow_hashed(b.system, o.account_id, categories_of_field(o.field),
                              "essential.service",
                              o.kind == "webhook" ? "webhook" : "callback." + o.kind, body_digest,
                              o.field + " status=" + std::to_string(out.status));
    // Seconds or an HTTP-date; a day at most, so that a receiver cannot park a delivery past
    // its retry window with one answer.
    if (const auto seconds =
            http::retry_after_seconds(res->headers.get("Retry-After"), unix_seconds(out.at)))
      retry_after = std::chrono::seconds(std::min<std::int64_t>(*seconds, 86400));
  } else {
    out.answer = res.error().message();
  }

  enum class outcome { delivered, disabled, retry } what = outcome::retry;
  out.next = out.at;
  if (out.status >= 200 && out.status < 300) {
    what = outcome::delivered;
  } else if (out.status == 410) {
    // The receiver says the endpoint is gone: stop sending it anything.
    what = outcome::disabled;
    if (b.webhook()) out.disable_client = first.client_id;
  } else {
    // One delay for the whole request, so that its changes are retried together.
    std::int64_t most = 0;
    for (const auto& o : b.parts) most = std::max(most, o.attempts + 1);
    out.next = out.at + std::max(ctx_.retry_delay(most), retry_after);
  }
  for (const auto& o : b.parts) {
    settlement::row r{.id = o.id, .attempts = o.attempts + 1, .was_due = o.due_at};
    r.state = what == outcome::delivered  ? "delivered"
              : what == outcome::disabled ? "disabled"
                                          : "pending";
    if (what == outcome::retry &&
        (static_cast<std::size_t>(r.attempts) >= ctx_.cfg.retry_schedule.size() ||
         out.next > o.window_start + ctx_.cfg.retry_window))
      r.state = "dead";
    out.rows.push_back(std::move(r));
  }
  return out;
}

void domain::outbox::store_settlements(const std::vector<settlement>& round) {
  if (round.empty()) return;
  auto work = ctx_.repos.begin();
  for (const auto& s : round) {
    if (!s.disable_client.empty()) {
      ctx_.repos.clients().set_active(s.disable_client, false);
      ctx_.repos.outbox().hold_webhooks(s.disable_client);
    }
    for (const auto& r : s.rows)
      ctx_.repos.outbox().settle(r.id, r.state, r.attempts, unix_millis(s.next), s.status, s.answer,
                                 unix_millis(s.at));
  }
  // A row still pending takes its new place in the queue before the commit (an entry the
  // commit does not keep is dropped when met), and leaves its old one only once it is stored.
  for (const auto& s : round)
    for (const auto& r : s.rows)
      if (r.state == "pending") queue_.emplace(unix_millis(s.next), r.id);
  work->commit();
  for (const auto& s : round)
    for (const auto& r : s.rows)
      if (r.state != "pending" || r.was_due != unix_millis(s.next)) queue_.erase({r.was_due, r.id});
}

std::size_t domain::outbox::dispatch_due() {
  // One dispatch at a time (the dispatcher thread, or the admin API's dispatch call), so that
  // no delivery is sent twice at once. Only a dispatch moves a delivery out of `pending`, so the
  // batch stays valid while it is sent, except after a 410 (below).
  std::lock_guard dispatching(dispatch_mutex_);
  std::vector<request_batch> batches;
  {
    std::lock_guard lock(ctx_.mutex);
    batches = group_deliveries(due_deliveries());
  }
  // Send without holding the lock: a slow receiver must not stall the provider. What each
  // answer means is settled at once (its flows recorded, its retry drawn), and the round's
  // outcomes are stored together: one transaction a round instead of one a request. A crash
  // before that leaves the round's deliveries pending, to be sent again: at least once.
  std::size_t sent = 0;
  std::vector<std::string> gone;  // clients whose endpoint answered 410 during this round
  std::vector<settlement> round;
  round.reserve(batches.size());
  for (auto& b : batches) {
    const std::string& client_id = b.parts.front().client_id;
    if (b.webhook() && std::find(gone.begin(), gone.end(), client_id) != gone.end())
      continue;  // disabled with its client's other webhooks
    // The request goes to the transport whole; only its body, which settle() hashes for the
    // evidence, is kept.
    http::request req = std::move(b.request);
    b.request.body = req.body;
    auto res = ctx_.transport.send(std::move(req));
    ++sent;
    if (b.webhook() && res && res->status == 410) gone.push_back(client_id);
    std::lock_guard lock(ctx_.mutex);
    round.push_back(settle(b, res));
  }
  {
    std::lock_guard lock(ctx_.mutex);
    store_settlements(round);
  }
  // The SETs due to push streams go out with the same round.
  return sent + signals_.dispatch_due();
}

std::optional<time_point> domain::outbox::next_due() {
  // The queue's first entry. After a rolled-back change or a 410 it can be one whose row is no
  // longer pending: the dispatch at that time then sends nothing and drops it.
  std::lock_guard lock(ctx_.mutex);
  std::optional<std::int64_t> next = signals_.next_due_locked();
  if (!queue_.empty() && (!next || queue_.begin()->first < *next)) next = queue_.begin()->first;
  if (!next) return std::nullopt;
  return from_unix_millis(*next);
}

}  // namespace linksim::idp
