// The ad platform's domain, one class per concern. Each works through the repository
// interfaces and the shared context; `ads::service` owns them and is their only caller.
#pragma once

#include "linksim/ads/repositories.hpp"
#include "linksim/ads/service.hpp"

#include <mutex>

namespace linksim::ads::domain {

// What every part shares: the lock that serialises storage, the configuration, and the way a
// flow reaches the evidence log.
struct context {
  repositories& repos;
  const linksim::clock& time;
  evidence::recorder& recorder;
  http::transport& transport;
  const config& cfg;
  std::mutex mutex;  // guards the repositories

  void record(std::string_view to, std::int64_t subject, std::vector<std::string> categories,
              std::string_view purpose, std::string_view channel, std::string_view payload,
              std::string note, std::string_view from = {}) const;
};

// Activity, opt-outs and assistant transcripts the company's products send.
class intake {
 public:
  explicit intake(context& ctx) : ctx_(ctx) {}
  result<void> ingest(const activity& a);
  void opt_out(std::int64_t subject, std::string_view from_system, std::string_view source);
  result<void> train(std::int64_t subject, std::string_view from_system,
                     std::string_view transcript);

 private:
  context& ctx_;
};

// Erasure on deletion (seed 002): the activity goes, impressions stay under a pseudonym.
class erasure {
 public:
  explicit erasure(context& ctx) : ctx_(ctx) {}
  std::int64_t erase(std::int64_t subject);
  service::holdings held_about(std::int64_t subject);

 private:
  context& ctx_;
};

// Choosing a sponsored post: targeted from the account's activity where its settings allow it,
// otherwise the campaigns take turns.
class campaigns {
 public:
  campaigns(context& ctx, erasure& erasure) : ctx_(ctx), erasure_(erasure) {}
  result<sponsored> sponsored_for(std::int64_t subject, std::string_view surface,
                                  std::string_view to_system, bool may_personalize);

 private:
  context& ctx_;
  erasure& erasure_;
};

// Partners and their contracts: aggregate reports, refused audiences and sales.
class partners {
 public:
  explicit partners(context& ctx) : ctx_(ctx) {}
  result<campaign_counts> report(std::string_view partner_key, std::string_view campaign);
  result<std::vector<std::int64_t>> audience(std::string_view partner_key,
                                             std::string_view campaign);
  result<purchase> buy(std::string_view partner_key, std::string_view campaign,
                       std::int64_t price_cents);

 private:
  const partner* partner_of(std::string_view key) const;
  bool allows(const partner& p, std::string_view purpose) const;
  void refuse(const partner& p, std::string_view purpose, std::string_view what,
              const boost::system::error_code& why);
  std::vector<std::int64_t> viewers(std::string_view campaign);

  context& ctx_;
};

}  // namespace linksim::ads::domain
