// What the ad platform's domain asks of storage: one interface per kind of record. The SQLite
// implementation (src/ads/storage) owns the schema and its migrations; a test may give the
// service its own implementation instead.
// Repository calls run inside a unit of work the domain begins, and never begin one themselves.
#pragma once

#include "linksim/common/clock.hpp"
#include "linksim/store/unit_of_work.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace linksim::store {
class database;
}

namespace linksim::ads {

struct activity;

// What the company's products sent, the opt-outs they passed on, and the assistant's
// transcripts kept for training: everything the platform holds keyed by the account.
class activity_repository {
 public:
  virtual ~activity_repository() = default;
  // One row for each of the activity's purposes.
  virtual void add(const activity& a, time_point at) = 0;
  // Ignored when the account already opted out of `from_system`'s data.
  virtual void add_opt_out(std::int64_t subject, std::string_view from_system,
                           std::string_view source, time_point at) = 0;
  virtual bool opted_out(std::int64_t subject) = 0;
  virtual void add_transcript(std::int64_t subject, std::string_view from_system,
                              std::string_view transcript, time_point at) = 0;
  // Calls `each(text, from_system)` for the account's activity sent for an advertising purpose,
  // oldest first.
  virtual void for_each_advertising(
      std::int64_t subject,
      const std::function<void(std::string_view text, std::string_view from_system)>& each) = 0;
  virtual std::int64_t count(std::int64_t subject) = 0;
  // Removes the account's activity, transcripts and opt-outs; returns the activity rows removed.
  virtual std::int64_t erase(std::int64_t subject) = 0;
};

// Sponsored posts shown. A viewer is an account id until the account is erased, then one
// pseudonym for all of its impressions: the counts stay, the identity goes.
class impression_repository {
 public:
  virtual ~impression_repository() = default;
  // How many impressions were ever stored (none is ever removed).
  virtual std::int64_t total() = 0;
  virtual void add(std::string_view campaign, std::int64_t viewer, std::string_view surface,
                   bool personalized, time_point at) = 0;
  struct counts {
    std::int64_t impressions = 0;
    std::int64_t reach = 0;  // distinct viewers, pseudonyms included
  };
  virtual counts count_campaign(std::string_view campaign) = 0;
  // The account ids that saw a campaign, erased ones left out, in ascending order of their text.
  virtual std::vector<std::int64_t> viewers(std::string_view campaign) = 0;
  virtual std::int64_t count_viewer(std::int64_t viewer) = 0;
  // Replaces the account's id with a fresh pseudonym on every impression it has.
  virtual void pseudonymize(std::int64_t viewer) = 0;
};

class repositories {
 public:
  virtual ~repositories() = default;
  virtual store::work_scope begin() = 0;
  virtual activity_repository& activity() = 0;
  virtual impression_repository& impressions() = 0;
};

// The SQLite repositories over `db`, migrated to the current schema. `db` must outlive them.
std::unique_ptr<repositories> sqlite_repositories(store::database& db);

}  // namespace linksim::ads
