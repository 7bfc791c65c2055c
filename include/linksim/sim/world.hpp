// Both services in one process on virtual time: the identity provider and the dependent
// service, each on its own SQLite file, talking through the simulated network, with their
// webhook dispatcher and reconciler woken by the scheduler exactly when work falls due. The
// evidence is kept in memory as an RFC 6962 tree, so a run ends with one root hash: the same
// seed gives the same root, byte for byte.
#pragma once

#include "linksim/common/crypto.hpp"
#include "linksim/evidence/flow.hpp"
#include "linksim/sim/network.hpp"
#include "linksim/sim/scheduler.hpp"
#include "linksim/threads_sim/behaviour.hpp"

#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace linksim::idp {
class service;
struct provider_rules;
}  // namespace linksim::idp
namespace linksim::threads_sim {
class service;
struct behaviour;
}  // namespace linksim::threads_sim
namespace linksim::ads {
class service;
struct platform_rules;
}  // namespace linksim::ads
namespace linksim::store {
class database;
}

namespace linksim::sim {

// The rules of a behaviour profile that the ad platform keeps: the profile is the company's, and
// the platform follows the dependent service's.
ads::platform_rules ads_rules_of(const threads_sim::behaviour& b);
// And the rules of the provider's login it keeps.
idp::provider_rules idp_rules_of(const threads_sim::behaviour& b);

// The evidence of a simulated run: every flow and its leaf hash, in memory. A run of a large
// population records millions of flows, so each is kept compactly: the strings that repeat
// (systems, channels, categories, purposes, notes, subjects) once each, referred to by number,
// and the payload digest in binary. About 80 bytes a flow instead of about 500; `at` and
// `flows` give them back as they were recorded.
//
// The tree is kept as its frontier: the roots of the perfect subtrees that the binary form of
// the size splits it into (RFC 9162 §2.1.1 splits at the largest power of two), at most 64
// hashes. Recording a flow merges equal-sized subtrees, as a binary counter carries; `root`
// folds the frontier from the right. Memory for the tree stays constant at any run length.
class memory_log final : public evidence::recorder {
 public:
  void record(const evidence::flow& f) override;
  std::size_t size() const { return size_; }
  digest root() const;
  evidence::flow at(std::size_t i) const;
  std::vector<evidence::flow> flows() const;  // a copy of all of them, in order

 private:
  // `slot` names the field: each remembers the last string it interned, since consecutive flows
  // mostly repeat their systems, purpose, channel and categories (and often their subject).
  enum slot {
    from_slot,
    to_slot,
    subject_slot,
    categories_slot,
    purpose_slot,
    channel_slot,
    digest_slot,
    slots
  };
  std::uint32_t intern(slot field, std::string_view s);
  struct remembered {
    std::string_view text;  // points into strings_
    std::uint32_t id = 0;
    bool set = false;
  };
  remembered last_[slots];
  struct text_ref {
    std::uint32_t block, offset, size;
  };
  text_ref keep(std::string_view s);
  std::string_view text(text_ref r) const { return {notes_[r.block].data() + r.offset, r.size}; }
  // A subject written in canonical decimal (an account or profile id: one per flow, mostly each
  // its own, so rarely the one before) is kept as its number, without a lookup in the table of
  // strings, which would hold one entry per account; any other is interned, its number marked by
  // the top bit.
  static constexpr std::uint64_t interned_subject = std::uint64_t{1} << 63;
  static std::optional<std::uint64_t> decimal_subject(std::string_view s);
  struct entry {
    time_point time;
    std::uint64_t subject;
    std::uint32_t from, to, categories, purpose, channel;
    std::uint32_t digest_text;  // the digest as recorded, when it is not 64 hex digits
    text_ref note;
    digest digest_bytes{};  // the digest, when it is 64 hex digits
    bool hex_digest = false;
    bool observed = false;
  };
  // In chunks of a fixed size, so that a growing log never copies what it holds.
  static constexpr std::size_t chunk_size = 8192;
  const entry& entry_at(std::size_t i) const { return chunks_[i / chunk_size][i % chunk_size]; }
  std::vector<std::vector<entry>> chunks_;
  std::size_t size_ = 0;
  struct subtree {
    std::uint64_t leaves;  // a power of two
    digest hash;
  };
  std::vector<subtree> frontier_;    // sizes strictly decreasing
  std::deque<std::string> strings_;  // a deque: its elements never move, the index points in
  std::unordered_map<std::string_view, std::uint32_t> index_;
  // Notes name a version, a profile, an outcome: mostly each its own, so they are not interned
  // (a table of millions of strings seen once) but packed one after another in blocks that are
  // never reallocated.
  static constexpr std::size_t note_block = 1 << 20;
  std::vector<std::string> notes_;
};

struct world_options {
  std::uint64_t seed = 1;
  std::string profile = "documented";
  milliseconds reconcile_interval = std::chrono::minutes(5);
  std::filesystem::path dir;  // where idp.db and threads.db live (must exist)
  // Databases in memory instead (`dir` unused): faster for large populations. A restart of the
  // dependent service then keeps its connection, which holds everything committed.
  bool in_memory = false;
  // Changes per webhook request (idp::config::webhook_batch): 1, or up to 1 000 as Meta may.
  std::size_t webhook_batch = 1;
  milliseconds webhook_batch_window{0};  // idp::config::webhook_batch_window
  // idp::config::max_pending_sign_ins; unset, the provider's default.
  std::optional<std::size_t> max_pending_sign_ins;
  // How account changes reach the dependent service: the provider's webhooks, or its Shared
  // Signals stream, pushed or polled. A polled stream is polled as RFC 8936's long polling
  // would: at once when a SET is waiting (the held request's answer), and on the service's
  // interval.
  threads_sim::channel changes = threads_sim::channel::webhook;
  // How the services are reached. Unset: in process. Set, each service's handler is passed to
  // it and what it returns is attached to the network instead: `linksim run --real-http` serves
  // the handler on a loopback socket and returns a handler that forwards to that socket.
  std::function<http::handler(const std::string& system, http::handler)> expose;
  // Rounds of one kind of work (a batch of deliveries, of polls, of notices) at one simulated
  // instant before the run stops with std::runtime_error: a service that keeps work due at one
  // instant forever would otherwise hold the clock still. 4 194 304 rounds are at least that
  // many deliveries, more than any population the simulation is run with.
  std::size_t max_rounds_per_instant = std::size_t{1} << 22;
};

class world {
 public:
  // Throws std::invalid_argument for an unknown profile.
  explicit world(world_options o);
  ~world();

  scheduler& sched() { return sched_; }
  network& net() { return net_; }
  memory_log& evidence() { return log_; }
  // The provider's, the dependent service's and the ad platform's databases: benchmarks read
  // their work counters (store::database::work_done).
  std::vector<store::database*> databases() {
    return {idp_db_.get(), threads_db_.get(), ads_db_.get()};
  }
  idp::service& idp() { return *idp_; }
  threads_sim::service& threads() { return *threads_; }
  ads::service& ads() { return *ads_; }
  const world_options& options() const { return opts_; }
  // The services' origins on the network (names, not sockets: see world_options::expose).
  static constexpr const char* idp_origin = "http://idp.sim";
  static constexpr const char* threads_origin = "http://threads.sim";
  static constexpr const char* ads_origin = "http://ads.sim";
  // Tokens of the company's internal APIs, as the simulation sets them.
  static constexpr const char* admin_token = "sim-admin";
  static constexpr const char* idp_ads_token = "sim-internal-ads";  // the ad platform, at idp
  static constexpr const char* threads_idp_token = "sim-internal-threads";  // threads, at idp
  static constexpr const char* threads_ads_token = "sim-threads-at-ads";    // threads, at ads
  static constexpr const char* idp_at_ads_token = "sim-idp-at-ads";  // the provider's surface
  // The token the dependent service expects in the provider's webhook subscription handshake.
  static constexpr const char* webhook_verify_token = "sim-verify";
  // The transport browsers use.
  http::transport& browser_transport() { return net_.endpoint("browser"); }
  // A test seam: the dependent service's client secret at the provider, which signs its
  // webhooks and signed_requests, so that tests and fuzz targets can sign what they send.
  const std::string& client_secret() const { return client_secret_; }
  const std::string& client_id() const { return client_id_; }

  // A provider account whose password is "pw-<username>". Throws on a refused username.
  std::int64_t create_account(const std::string& username);

  // A person signing up in a fresh browser: the service's /signup, the provider's login and
  // consent pages, the Link Account page. `created_as` is the username the account was created
  // with (its password). Returns the HTTP status of the last step (303 when linked) and the
  // session; `error` holds the page or body of a failure.
  struct sign_up_result {
    int status = 0;
    std::string session;
    std::string error;
  };
  sign_up_result sign_up(const std::string& username, const std::string& created_as = {});

  // Runs the simulation for `d` of virtual time: deliveries, retries, polls, delayed messages.
  void run_for(milliseconds d);
  // The dependent service crashes and restarts on its database: in-flight work is lost,
  // everything committed stays.
  void restart_threads();
  // The provider crashes and restarts on its database: what it keeps in memory (sign-ins
  // between authorize and consent, codes not yet redeemed, its signing keys) is gone, what it
  // committed (accounts, grants, redeemed codes, the outbox of webhooks and SETs) stays.
  void restart_idp();
  // The dependent service crashes in the middle of the next account import: after the profile,
  // its follows and tokens are written, before the transaction commits. The browser sees the
  // connection fail (502), and the service restarts on its database.
  void crash_threads_during_next_import();

  // What the services reported on their side (a storage failure behind a 503), in order, with
  // the simulated time: the first `kept_service_lines`, and how many came after those.
  struct service_line {
    time_point at;
    std::string text;
  };
  static constexpr std::size_t kept_service_lines = 1000;
  const std::vector<service_line>& service_log() const { return service_log_; }
  std::size_t service_lines_dropped() const { return service_lines_dropped_; }

 private:
  // The system's database in opts_.dir (or in memory), opened anew at each start.
  void open_database(std::unique_ptr<store::database>& db, const char* file);
  void open_idp();
  http::log_sink service_sink();
  void open_threads();
  void pump();
  void attach(const std::string& system, const char* origin, http::handler h);
  // Runs `round` at `when` until it does nothing more (the provider's webhook dispatch, the
  // dependent service's polls, its notices to the ad platform), unless `slot` holds a wake-up
  // at or before `when` already; one that a sooner wake-up supersedes does nothing. Past
  // world_options::max_rounds_per_instant rounds that did work, it throws, naming `what`.
  template <class Round>
  void wake(std::optional<time_point>& slot, time_point when, std::string_view what, Round round);

  world_options opts_;
  scheduler sched_;
  seeded_random random_;
  seeded_random fault_random_;
  network net_;
  memory_log log_;
  std::unique_ptr<store::database> idp_db_;
  std::unique_ptr<store::database> threads_db_;
  std::unique_ptr<store::database> ads_db_;
  std::unique_ptr<ads::service> ads_;
  std::unique_ptr<idp::service> idp_;
  std::unique_ptr<threads_sim::service> threads_;
  std::string client_id_;
  std::string client_secret_;
  std::optional<time_point> dispatcher_wake_;
  std::optional<time_point> reconciler_wake_;
  std::optional<time_point> notifier_wake_;
  std::optional<time_point> signals_wake_;
  std::int64_t signalled_ = 0;  // the newest polled SET the service was woken for
  bool threads_started_ = false;
  bool crash_armed_ = false;
  std::vector<service_line> service_log_;
  std::size_t service_lines_dropped_ = 0;
};

}  // namespace linksim::sim
