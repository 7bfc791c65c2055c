// The recording transport of `linksim serve`.
#include "linksim/app/wire_tap.hpp"

#include "linksim/common/crypto.hpp"
#include "linksim/net/server.hpp"

namespace linksim::app {

class wire_tap::tapped final : public http::transport {
 public:
  tapped(const wire_tap& tap, std::string system, milliseconds timeout)
      : tap_(tap), system_(std::move(system)), client_(timeout) {}

  result<http::response> send(http::request req) override {
    const time_point at = tap_.clock_.now();
    // The copy on the wire carries the mark; the logged request is the one the service made.
    http::request marked = req;
    const std::string mark = tap_.issue_mark();
    marked.headers.set(mark_header, mark);
    auto res = client_.send(std::move(marked));
    tap_.retire_mark(mark);
    evidence::wire_message m;
    m.time = at;
    m.from = system_;
    m.to = tap_.party_of(req.target);
    m.request = &req;
    m.response = res ? &*res : nullptr;
    // A transport error leaves it open whether the request arrived: nothing is claimed.
    m.reached = res.has_value();
    m.answered = res.has_value();
    tap_.observe(m);
    return res;
  }

 private:
  const wire_tap& tap_;
  std::string system_;
  net::client client_;
};

wire_tap::wire_tap(evidence::recorder& log, const clock& clock, const std::string& key)
    : log_(log),
      clock_(clock),
      classifier_(key),
      mark_key_(to_hex(sha256("linksim wire mark\n" + key))) {}

std::string wire_tap::issue_mark() const {
  std::lock_guard lock(mutex_);
  std::string mark = to_hex(hmac_sha256(mark_key_, std::to_string(++marks_))).substr(0, 32);
  in_flight_.insert(mark);
  return mark;
}

void wire_tap::retire_mark(const std::string& mark) const {
  std::lock_guard lock(mutex_);
  in_flight_.erase(mark);
}

http::observer wire_tap::inbound_for(const std::string& system) {
  return [this, system](const http::request& req, const http::response& res) {
    const std::string_view mark = req.headers.get(mark_header);
    {
      std::lock_guard lock(mutex_);
      if (!mark.empty() && in_flight_.contains(std::string(mark)))
        return;  // a tapped transport's request: logged by the sender's side
    }
    evidence::wire_message m;
    m.time = clock_.now();
    m.from = "user";
    m.to = system;
    m.request = &req;
    m.response = &res;
    m.reached = true;
    m.answered = true;
    observe(m);
  };
}

wire_tap::~wire_tap() = default;

void wire_tap::name(const std::string& origin, const std::string& system) {
  std::lock_guard lock(mutex_);
  parties_[origin] = system;
}

http::transport& wire_tap::transport_for(const std::string& system, milliseconds timeout) {
  std::lock_guard lock(mutex_);
  transports_.push_back(std::make_unique<tapped>(*this, system, timeout));
  return *transports_.back();
}

std::string wire_tap::party_of(std::string_view url) const {
  const auto scheme = url.find("://");
  const auto slash = scheme == std::string_view::npos ? url.find('/') : url.find('/', scheme + 3);
  const std::string origin(url.substr(0, slash));
  std::lock_guard lock(mutex_);
  const auto it = parties_.find(origin);
  return it == parties_.end() ? origin : it->second;
}

void wire_tap::observe(const evidence::wire_message& m) const {
  for (const auto& f : classifier_.flows_of(m)) log_.record(f);
}

}  // namespace linksim::app
