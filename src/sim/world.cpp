// Both services on virtual time.
#include "linksim/sim/world.hpp"

#include "linksim/ads/routes.hpp"
#include "linksim/ads/service.hpp"
#include "linksim/evidence/merkle.hpp"
#include "linksim/idp/routes.hpp"
#include "linksim/idp/service.hpp"
#include "linksim/sim/browser.hpp"
#include "linksim/store/sqlite.hpp"
#include "linksim/threads_sim/routes.hpp"
#include "linksim/threads_sim/service.hpp"

#include <algorithm>
#include <cstdint>
#include <stdexcept>

namespace linksim::sim {

ads::platform_rules ads_rules_of(const threads_sim::behaviour& b) {
  return {.honour_ad_settings = b.honour_ad_settings,
          .aggregate_reports = b.aggregate_reports,
          .refuse_sale = b.refuse_sale,
          .erase_ads_on_deletion = b.erase_ads_on_deletion,
          .keep_partner_contracts = b.keep_partner_contracts,
          .suppress_small_groups = b.suppress_small_groups,
          .count_distinct_viewers = b.count_distinct_viewers,
          .use_activity_across_products = b.use_activity_across_products,
          .count_every_impression = b.count_every_impression,
          .personalize_ads = b.personalize_ads};
}
idp::provider_rules idp_rules_of(const threads_sim::behaviour& b) {
  return {.refuse_inactive_accounts = b.refuse_inactive_accounts,
          .offer_account_choice = b.offer_account_choice,
          .redeliver_sets = b.redeliver_sets};
}

namespace {
constexpr char category_separator = '\x1f';  // not part of any dotted key
}  // namespace

namespace {
// A digest written as 64 lower-case hex digits, decoded into `out`; anything else (upper case
// included, which would not read back as written) is kept as text.
bool lower_hex_digest(std::string_view text, digest& out) {
  if (text.size() != 2 * out.size()) return false;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int hi = nibble(text[2 * i]), lo = nibble(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return true;
}
}  // namespace

std::uint32_t memory_log::intern(slot field, std::string_view s) {
  remembered& last = last_[field];
  if (last.set && last.text == s) return last.id;
  std::uint32_t n = 0;
  if (auto it = index_.find(s); it != index_.end()) {
    n = it->second;
  } else {
    n = static_cast<std::uint32_t>(strings_.size());
    index_.emplace(strings_.emplace_back(s), n);
  }
  last = {strings_[n], n, true};
  return n;
}

memory_log::text_ref memory_log::keep(std::string_view s) {
  if (s.size() > UINT32_MAX) throw std::length_error("memory_log: a note of 4 GiB or more");
  // A note too long for a block's remaining room starts a new block, of its own size if larger.
  if (notes_.empty() || notes_.back().capacity() - notes_.back().size() < s.size()) {
    if (notes_.size() >= UINT32_MAX) throw std::length_error("memory_log: too many notes");
    notes_.emplace_back().reserve(std::max(note_block, s.size()));
  }
  std::string& block = notes_.back();
  const text_ref r{static_cast<std::uint32_t>(notes_.size() - 1),
                   static_cast<std::uint32_t>(block.size()), static_cast<std::uint32_t>(s.size())};
  block.append(s);  // within capacity: what earlier refs point at stays where it is
  return r;
}

std::optional<std::uint64_t> memory_log::decimal_subject(std::string_view s) {
  // Up to 18 digits, below 2^63; no leading zero, so that the number reads back as written.
  if (s.empty() || s.size() > 18 || (s.size() > 1 && s.front() == '0')) return std::nullopt;
  std::uint64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return n;
}

void memory_log::record(const evidence::flow& f) {
  const std::string canonical = evidence::canonical_entry(f);
  frontier_.push_back({1, evidence::leaf_hash(as_bytes(canonical))});
  while (frontier_.size() >= 2 &&
         frontier_.back().leaves == frontier_[frontier_.size() - 2].leaves) {
    subtree right = frontier_.back();
    frontier_.pop_back();
    subtree& left = frontier_.back();
    left.hash = evidence::node_hash(left.hash, right.hash);
    left.leaves *= 2;
  }
  std::string categories;
  for (const auto& c : f.categories) {
    categories += c;
    categories += category_separator;  // after each, so that {""} and {} differ
  }
  const auto number = decimal_subject(f.subject);
  entry e{.time = f.time,
          .subject = number ? *number : interned_subject | intern(subject_slot, f.subject),
          .from = intern(from_slot, f.from),
          .to = intern(to_slot, f.to),
          .categories = intern(categories_slot, categories),
          .purpose = intern(purpose_slot, f.purpose),
          .channel = intern(channel_slot, f.channel),
          .digest_text = 0,
          .note = keep(f.note),
          .observed = f.observed};
  if (lower_hex_digest(f.payload_digest, e.digest_bytes))
    e.hex_digest = true;
  else
    e.digest_text = intern(digest_slot, f.payload_digest);
  if (size_ % chunk_size == 0) chunks_.emplace_back().reserve(chunk_size);
  chunks_.back().push_back(e);
  ++size_;
}

evidence::flow memory_log::at(std::size_t i) const {
  if (i >= size_) throw std::out_of_range("memory_log: no flow " + std::to_string(i));
  const entry& e = entry_at(i);
  evidence::flow f;
  f.time = e.time;
  f.from = strings_[e.from];
  f.to = strings_[e.to];
  f.subject = e.subject & interned_subject ? strings_[e.subject & ~interned_subject]
                                           : std::to_string(e.subject);
  const std::string_view cats = strings_[e.categories];
  for (std::size_t p = 0; p < cats.size();) {
    const auto end = cats.find(category_separator, p);  // each key is followed by one
    if (end == std::string_view::npos) break;
    f.categories.emplace_back(cats.substr(p, end - p));
    p = end + 1;
  }
  f.purpose = strings_[e.purpose];
  f.channel = strings_[e.channel];
  f.payload_digest = e.hex_digest ? to_hex(e.digest_bytes) : strings_[e.digest_text];
  f.note = text(e.note);
  f.observed = e.observed;
  return f;
}

std::vector<evidence::flow> memory_log::flows() const {
  std::vector<evidence::flow> out;
  out.reserve(size_);
  for (std::size_t i = 0; i < size_; ++i) out.push_back(at(i));
  return out;
}

digest memory_log::root() const {
  if (frontier_.empty()) return evidence::empty_root();
  digest r = frontier_.back().hash;
  for (auto it = std::next(frontier_.rbegin()); it != frontier_.rend(); ++it)
    r = evidence::node_hash(it->hash, r);
  return r;
}

world::world(world_options o)
    : opts_(std::move(o)),
      random_(opts_.seed),
      // The faults draw from a stream of their own (another seed derived from the same one).
      fault_random_(opts_.seed ^ 0x5eed'fa17'5eed'fa17ULL),
      net_(sched_, fault_random_) {
  if (!threads_sim::find_behaviour(opts_.profile))
    throw std::invalid_argument("unknown behaviour profile: " + opts_.profile);
  open_idp();
  // The company's ad platform, on the same behaviour profile.
  open_database(ads_db_, "ads.db");
  ads::config acfg;
  acfg.idp_url = idp_origin;
  acfg.internal_token = idp_ads_token;
  acfg.systems = {{"threads", threads_ads_token}, {"idp", idp_at_ads_token}};
  acfg.campaigns = ads::default_campaigns();
  acfg.partners = ads::default_partners();
  acfg.rules = ads_rules_of(*threads_sim::find_behaviour(opts_.profile));
  ads_ = std::make_unique<ads::service>(*ads_db_, sched_.time(), log_, net_.endpoint("ads"), acfg);
  attach("ads", ads_origin, ads::make_handler(*ads_, {admin_token, service_sink()}));
  auto c =
      idp_->register_client({.name = "Threads-style service",
                             .system = "threads",
                             .redirect_uris = {std::string(threads_origin) + "/callback"},
                             .deauthorize_url = std::string(threads_origin) + "/ig/deauthorize",
                             .data_deletion_url = std::string(threads_origin) + "/ig/data-deletion",
                             // It reads no ID token; an RS256 client would make the provider an RSA
                             // key whenever a run reads the key set.
                             .id_token_signed_response_alg = "EdDSA"})
          .value();
  client_id_ = c.id;
  client_secret_ = c.secret;
  open_threads();
  if (opts_.changes == threads_sim::channel::webhook) {
    std::vector<std::string> fields(std::begin(webhook_fields), std::end(webhook_fields));
    auto sub = idp_->subscribe(client_id_, std::string(threads_origin) + "/webhooks/instagram",
                               webhook_verify_token, fields);
    if (!sub) throw std::runtime_error("simulated subscription failed: " + sub.error().message());
  }
}

world::~world() = default;

http::log_sink world::service_sink() {
  return [this](std::string_view line) {
    if (service_log_.size() < kept_service_lines)
      service_log_.push_back({sched_.now(), std::string(line)});
    else
      ++service_lines_dropped_;
  };
}

void world::open_database(std::unique_ptr<store::database>& db, const char* file) {
  // An in-memory database outlives its service's restart; a file is closed before it is opened
  // again (it is held exclusively).
  if (opts_.in_memory && db) return;
  db.reset();
  db = std::make_unique<store::database>(
      opts_.in_memory ? std::filesystem::path(":memory:") : opts_.dir / file,
      store::options{.scratch = true, .exclusive = true});
}

void world::open_idp() {
  idp_.reset();
  open_database(idp_db_, "idp.db");
  idp::config cfg;
  cfg.issuer = idp_origin;
  cfg.password = {2, 1, 1};  // the least scrypt allows: the simulation's passwords protect nothing
  cfg.webhook_batch = opts_.webhook_batch;
  cfg.webhook_batch_window = opts_.webhook_batch_window;
  if (opts_.max_pending_sign_ins) cfg.max_pending_sign_ins = *opts_.max_pending_sign_ins;
  cfg.rules = idp_rules_of(*threads_sim::find_behaviour(opts_.profile));
  idp_ = std::make_unique<idp::service>(*idp_db_, sched_.time(), random_, log_,
                                        net_.endpoint("idp"), cfg);
  attach("idp", idp_origin,
         idp::make_handler(*idp_, {admin_token,
                                   {{"threads", threads_idp_token}, {"ads", idp_ads_token}},
                                   service_sink()}));
  dispatcher_wake_.reset();
}

void world::restart_idp() {
  net_.detach("idp");
  open_idp();
  pump();
}

void world::open_threads() {
  threads_.reset();
  open_database(threads_db_, "threads.db");
  threads_sim::config cfg;
  cfg.base_url = threads_origin;
  cfg.idp_url = idp_origin;
  cfg.client_id = client_id_;
  cfg.client_secret = client_secret_;
  cfg.webhook_verify_token = webhook_verify_token;
  cfg.reconcile_interval = opts_.reconcile_interval;
  cfg.rules = *threads_sim::find_behaviour(opts_.profile);
  cfg.changes = opts_.changes;
  cfg.ads_url = ads_origin;
  cfg.ads_token = threads_ads_token;
  cfg.internal_token = threads_idp_token;
  threads_ = std::make_unique<threads_sim::service>(*threads_db_, sched_.time(), random_, log_,
                                                    net_.endpoint("threads"), cfg);
  auto handler = threads_sim::make_handler(*threads_, {admin_token, service_sink()});
  attach("threads", threads_origin, [this, handler](const http::request& req) {
    auto r = handler(req);
    if (crash_armed_ && req.method == "POST" && req.path() == "/link") {
      // The import failed at the seam: the process is gone, the connection with it.
      crash_armed_ = false;
      sched_.at(sched_.now(), [this] { restart_threads(); });
      r = http::response{502, {}, "the connection was reset: the service crashed"};
    }
    return r;
  });
  reconciler_wake_.reset();
  notifier_wake_.reset();
  signals_wake_.reset();
  if (opts_.changes != threads_sim::channel::webhook) {
    // On every start, as a deployed receiver would: its stream is found again, not made twice.
    // A restart while the provider is down sets it up later (the first SET or poll does).
    auto c = threads_->connect_signals();
    if (!c && !threads_started_)
      throw std::runtime_error("the simulated SSF stream could not be set up: " +
                               c.error().message());
  }
  threads_started_ = true;
  pump();
}

void world::attach(const std::string& system, const char* origin, http::handler h) {
  net_.attach(system, origin, opts_.expose ? opts_.expose(system, std::move(h)) : std::move(h));
}

void world::restart_threads() {
  net_.detach("threads");
  open_threads();
}

void world::crash_threads_during_next_import() {
  // The service's test seam; the restart that follows makes a new service without it.
  threads_->fail_next_import();
  crash_armed_ = true;
}

std::int64_t world::create_account(const std::string& username) {
  auto a = idp_->create_account({.username = username, .password = "pw-" + username});
  if (!a)
    throw std::invalid_argument("cannot create account " + username + ": " + a.error().message());
  return a->id;
}

template <class Round>
void world::wake(std::optional<time_point>& slot, time_point when, std::string_view what,
                 Round round) {
  if (slot && *slot <= when) return;
  slot = when;
  sched_.at(when, [this, &slot, when, what, round] {
    if (slot != when) return;  // superseded by an earlier wake-up
    slot.reset();
    // Each round takes a batch of what is due, and the rounds are bounded (world_options).
    std::size_t rounds = 0;
    while (round() > 0)
      if (++rounds > opts_.max_rounds_per_instant)
        throw std::runtime_error("the simulation does not settle: " + std::string(what) +
                                 " still has work due after " + std::to_string(rounds) +
                                 " rounds at one instant");
    pump();
  });
}

void world::pump() {
  if (auto d = idp_->next_delivery_due())
    wake(dispatcher_wake_, *d, "the provider's dispatcher",
         [this] { return idp_->dispatch_due(); });
  if (auto r = threads_->next_reconcile_due())
    wake(reconciler_wake_, *r, "the dependent service's reconciler",
         [this] { return threads_->reconcile_due(); });
  if (auto n = threads_->next_notice_due())
    wake(notifier_wake_, *n, "the dependent service's notices",
         [this] { return threads_->dispatch_notices(); });
  if (opts_.changes == threads_sim::channel::ssf_poll) {
    auto poll = [this] {
      (void)threads_->poll_signals();  // a failure makes it due again later
      return std::size_t{0};
    };
    if (const auto newest = idp_->ssf_newest_waiting(); newest > signalled_) {
      signalled_ = newest;
      wake(signals_wake_, sched_.now(), "the Shared Signals poll", poll);
    }
    if (auto t = threads_->next_signals_poll())
      wake(signals_wake_, *t, "the Shared Signals poll", poll);
  }
}

void world::run_for(milliseconds d) {
  pump();
  const auto until = sched_.now() + d;
  // Every task may create work for the other service: look again after each one.
  while (auto next = sched_.next()) {
    if (*next > until) break;
    sched_.run_until(*next);
    pump();
  }
  sched_.run_until(until);
}

world::sign_up_result world::sign_up(const std::string& username, const std::string& created_as) {
  browser b(net_.endpoint("browser"), idp_origin, threads_origin);
  const auto r = b.sign_up(username, "pw-" + (created_as.empty() ? username : created_as), 0);
  pump();
  return {r.status, r.session, r.error};
}

}  // namespace linksim::sim
