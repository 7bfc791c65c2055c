// The in-process network and its seeded faults.
#include "linksim/sim/network.hpp"

#include "linksim/common/jose.hpp"
#include "linksim/common/json.hpp"
#include "linksim/common/ssf.hpp"

#include <boost/json/array.hpp>

#include <algorithm>

namespace linksim::sim {

std::optional<fault_kind> parse_fault_kind(std::string_view s) {
  for (auto k : {fault_kind::drop, fault_kind::duplicate, fault_kind::delay, fault_kind::error_5xx,
                 fault_kind::timeout, fault_kind::corrupt})
    if (to_string(k) == s) return k;
  return std::nullopt;
}

std::string_view to_string(fault_kind k) {
  switch (k) {
    case fault_kind::drop:
      return "drop";
    case fault_kind::duplicate:
      return "duplicate";
    case fault_kind::delay:
      return "delay";
    case fault_kind::error_5xx:
      return "error_5xx";
    case fault_kind::timeout:
      return "timeout";
    case fault_kind::corrupt:
      return "corrupt";
  }
  return "?";
}

class network::sender final : public http::transport {
 public:
  sender(network& n, std::string system, bool scripted)
      : n_(n), system_(std::move(system)), scripted_(scripted) {}
  result<http::response> send(http::request req) override {
    return n_.send(system_, scripted_, std::move(req));
  }

 private:
  network& n_;
  std::string system_;
  bool scripted_;
};

network::network(scheduler& s, random_source& random) : sched_(s), random_(random) {}
network::~network() = default;

void network::attach(const std::string& system, const std::string& origin, http::handler h) {
  for (auto& known : hosts_) {
    if (known.system == system) {
      known.origin = origin;
      known.handler = std::move(h);
      return;
    }
  }
  hosts_.push_back({system, origin, std::move(h)});
}

void network::detach(const std::string& system) {
  for (auto& known : hosts_)
    if (known.system == system) known.handler = nullptr;
}

http::transport& network::endpoint(const std::string& system) {
  auto& s = senders_[system];
  if (!s) s = std::make_unique<sender>(*this, system, false);
  return *s;
}

http::transport& network::scripted_endpoint(const std::string& system) {
  auto& s = scripted_senders_[system];
  if (!s) s = std::make_unique<sender>(*this, system, true);
  return *s;
}

const network::host* network::route(const std::string& target) const {
  for (const auto& h : hosts_) {
    if (target.starts_with(h.origin) &&
        (target.size() == h.origin.size() || target[h.origin.size()] == '/' ||
         target[h.origin.size()] == '?'))
      return &h;
  }
  return nullptr;
}

namespace {
// The account and field of each change a message carries: a webhook body's entries (a batched
// one carries several: a filter matches when one of them does), or a SET's events.
struct carried_change {
  std::string subject;
  std::string field;
};

void read_set(std::string_view jwt, std::vector<carried_change>& out) {
  auto set = jose::read_unverified(jwt);  // sorted, never trusted: the receiver checks it
  if (!set) return;
  std::string subject;
  if (const auto* sub_id = set->claims.if_contains("sub_id"); sub_id && sub_id->is_object())
    if (const auto* sub = sub_id->as_object().if_contains("sub"); sub && sub->is_string())
      subject = std::string(sub->as_string());
  if (const auto* events = set->claims.if_contains("events"); events && events->is_object())
    for (const auto& e : events->as_object())
      out.push_back({subject, std::string(ssf::field_of(e.key()))});
}

std::vector<carried_change> read_changes(const std::string& body) {
  std::vector<carried_change> out;
  if (!body.empty() && body.front() != '{') {
    read_set(body, out);
    return out;
  }
  auto o = json::parse_object(body);
  if (!o) return out;
  const auto* entries = o->if_contains("entry");
  if (!entries || !entries->is_array()) return out;
  for (const auto& entry : entries->as_array()) {
    const auto* e = entry.if_object();
    if (!e) continue;
    std::string subject;
    if (const auto* id = e->if_contains("id"); id && id->is_string())
      subject = std::string(id->as_string());
    const auto* changes = e->if_contains("changes");
    if (!changes || !changes->is_array()) continue;
    for (const auto& change : changes->as_array()) {
      const auto* c = change.if_object();
      const auto* f = c ? c->if_contains("field") : nullptr;
      out.push_back({subject, f && f->is_string() ? std::string(f->as_string()) : std::string()});
    }
  }
  return out;
}

// The changes of the SETs a poll answer carries ({"sets": {jti: SET}}).
std::vector<carried_change> read_poll_answer(const std::string& body) {
  std::vector<carried_change> out;
  auto o = json::parse_object(body);
  const auto* sets = o ? o->if_contains("sets") : nullptr;
  if (!sets || !sets->is_object()) return out;
  for (const auto& s : sets->as_object())
    if (s.value().is_string()) read_set(s.value().as_string(), out);
  return out;
}

bool names(const message_filter& f, const std::vector<carried_change>& changes) {
  return std::any_of(changes.begin(), changes.end(), [&](const carried_change& c) {
    return (f.field.empty() || f.field == c.field) && (f.subject.empty() || f.subject == c.subject);
  });
}
}  // namespace

bool network::matches(const message_filter& f, const std::string& from, const host& to,
                      const http::request& req, std::string_view path) const {
  if (!f.from.empty() && f.from != from) return false;
  if (!f.to.empty() && f.to != to.system) return false;
  if (!f.path_prefix.empty() && !path.starts_with(f.path_prefix)) return false;
  if (!f.field.empty() || !f.subject.empty()) return names(f, read_changes(req.body));
  return true;
}

bool network::strikes(armed_fault& f) {
  ++f.seen;
  if (f.rule.nth && *f.rule.nth != f.seen) return false;
  if (f.rule.probability >= 1.0) return true;
  const double u = static_cast<double>(random_.uniform(1'000'000)) / 1'000'000.0;
  return u < f.rule.probability;
}

http::response network::injected_503() {
  http::response r;
  r.status = 503;
  r.headers.set("Content-Type", "application/json");
  r.body = R"({"error":{"code":"upstream_unavailable","message":"injected fault"}})";
  return r;
}

std::optional<network::struck> network::poll_answer_fault(const std::string& receiver,
                                                          const host& transmitter,
                                                          const http::request& req,
                                                          const http::response& answer) {
  if (answer.status != 200) return std::nullopt;
  std::optional<std::vector<carried_change>> changes;  // read once, when a filter needs them
  for (auto& f : faults_) {
    const auto& m = f.rule.match;
    if (m.field.empty() && m.subject.empty()) continue;  // only filters that name a change
    if ((!m.from.empty() && m.from != transmitter.system) || (!m.to.empty() && m.to != receiver))
      continue;
    if (!m.path_prefix.empty() && !req.path().starts_with(m.path_prefix)) continue;
    if (!changes) changes = read_poll_answer(answer.body);
    if (!names(m, *changes)) continue;
    if (!strikes(f)) continue;
    const auto lost = [&] {
      return struck{"dropped", result<http::response>(make_error_code(errc::upstream_unavailable)),
                    answer};
    };
    switch (f.rule.kind) {
      case fault_kind::error_5xx:
        ++stats_.failed_5xx;
        return struck{"error_5xx", result<http::response>(injected_503()), answer};
      case fault_kind::duplicate:
        ++stats_.duplicated;
        lose_next_ack_.insert(receiver);
        return std::nullopt;
      case fault_kind::drop:
        ++stats_.dropped;
        return lost();
      case fault_kind::delay:
        ++stats_.delayed;
        return lost();
      case fault_kind::timeout:
        ++stats_.timed_out;
        return lost();
      case fault_kind::corrupt:
        return struck{"corrupted", result<http::response>(corrupted(f.rule, answer)), answer};
    }
  }
  return std::nullopt;
}

http::response network::corrupted(const fault_rule& rule, http::response answer) {
  ++stats_.corrupted;
  // A connection closed mid-answer leaves the first half of the body; a rule's body or status
  // stands for a peer that answers what it likes (a status alone keeps the body whole).
  if (rule.body)
    answer.body = *rule.body;
  else if (!rule.status)
    answer.body = answer.body.substr(0, answer.body.size() / 2);
  if (rule.status) answer.status = *rule.status;
  for (const auto& h : rule.headers) answer.headers.set(h.name, h.value);
  return answer;
}

http::response network::deliver(const host& to, http::request req) {
  ++stats_.delivered;
  req.remote = "sim";
  // Nothing waits in simulated time: a long poll is answered as the transmitter answers one
  // whose hold ends (the simulation models waiting by when the receiver polls).
  return http::settle(to.handler(req));
}

result<http::response> network::send(const std::string& from, bool scripted, http::request req) {
  ++stats_.sent;
  const host* to = route(req.target);
  const auto now = sched_.now();
  const auto seq = next_seq_++;
  // Tells the observer what became of the message, then passes the outcome on.
  auto seen = [&](const char* fate, const http::request& r,
                  const std::optional<http::response>& answer) {
    if (observer_)
      observer_(message{seq, now, from, to ? to->system : std::string(r.target), r, fate, answer,
                        scripted});
  };
  bool down = !to || !to->handler;
  for (const auto& o : outages_)
    if (to && o.system == to->system && now >= o.from && now < o.until) down = true;
  if (down) {
    ++stats_.unreachable;
    seen("unreachable", req, std::nullopt);
    return make_error_code(errc::upstream_unavailable);
  }
  // Handlers see origin-form targets, as a server would; a fragment never leaves the client.
  if (const auto hash = req.target.find('#'); hash != std::string::npos) req.target.erase(hash);
  req.target.erase(0, to->origin.size());
  if (req.target.empty() || req.target.front() == '?') req.target.insert(req.target.begin(), '/');
  const std::string path(req.path());

  for (auto& f : faults_) {
    if (!matches(f.rule.match, from, *to, req, path)) continue;
    if (!strikes(f)) continue;
    switch (f.rule.kind) {
      case fault_kind::drop:
        ++stats_.dropped;
        seen("dropped", req, std::nullopt);
        return make_error_code(errc::upstream_unavailable);
      case fault_kind::error_5xx: {
        ++stats_.failed_5xx;
        const http::response r = injected_503();
        seen("error_5xx", req, r);
        return r;
      }
      case fault_kind::timeout: {
        ++stats_.timed_out;
        auto lost = deliver(*to, req);
        seen("timeout", req, lost);
        return make_error_code(errc::upstream_unavailable);
      }
      case fault_kind::corrupt: {
        // The observer is shown what the handler sent, as for every fault on the way.
        auto answer = deliver(*to, req);
        seen("corrupted", req, answer);
        return corrupted(f.rule, std::move(answer));
      }
      case fault_kind::duplicate: {
        ++stats_.duplicated;
        auto first = deliver(*to, req);
        seen("delivered", req, first);
        auto second = deliver(*to, req);
        seen("duplicated", req, second);
        return first;
      }
      case fault_kind::delay: {
        ++stats_.delayed;
        auto late = f.rule.delay;
        if (f.rule.jitter.count() > 0) {
          const auto span = static_cast<std::uint64_t>(2 * f.rule.jitter.count() + 1);
          late += milliseconds{static_cast<std::int64_t>(random_.uniform(span)) -
                               f.rule.jitter.count()};
        }
        seen("delayed", req, std::nullopt);
        // The request is still on its way when the sender gives up.
        const std::string system = to->system;
        sched_.after(std::max(late, milliseconds{1}),
                     [this, from, scripted, system, req = std::move(req)] {
                       for (const auto& h : hosts_) {
                         if (h.system != system || !h.handler) continue;
                         const auto late_seq = next_seq_++;
                         auto answer = deliver(h, req);
                         if (observer_)
                           observer_(message{late_seq, sched_.now(), from, system, req,
                                             "arrived_late", answer, scripted});
                       }
                     });
        return make_error_code(errc::upstream_unavailable);
      }
    }
  }
  if (path.starts_with("/ssf/poll/")) {
    if (lose_next_ack_.erase(from) != 0) {
      // The acknowledgements a duplicate fault lost: the transmitter sends those SETs again.
      if (auto body = json::parse_object(req.body)) {
        body->erase("ack");
        req.body = json::serialize(*body);
      }
    }
    auto answer = deliver(*to, req);
    if (auto fault = poll_answer_fault(from, *to, req, answer)) {
      seen(fault->fate, req, fault->shown);
      return fault->outcome;
    }
    seen("delivered", req, answer);
    return answer;
  }
  if (!observer_) return deliver(*to, std::move(req));  // the population benchmark's path
  auto answer = deliver(*to, req);
  seen("delivered", req, answer);
  return answer;
}

}  // namespace linksim::sim
