// What the dependent service's domain asks of storage: one interface per kind of record. The
// SQLite implementation (src/threads_sim/storage) owns the schema, its migrations and every
// statement; the domain holds no database handle.
// Repository calls run inside a unit of work the domain begins, and never begin one themselves.
#pragma once

#include "linksim/common/clock.hpp"
#include "linksim/common/crypto.hpp"
#include "linksim/store/unit_of_work.hpp"
#include "linksim/threads_sim/service.hpp"

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace linksim::store {
class database;
}

namespace linksim::threads_sim {

class profile_repository {
 public:
  virtual ~profile_repository() = default;
  // With `with_counts`, followers, following and posts are counted too.
  virtual std::optional<profile> find(std::int64_t id, bool with_counts) = 0;
  // The profiles linked to a provider account, oldest first.
  virtual std::vector<profile> of_account(std::int64_t ig_user_id, bool with_counts) = 0;
  virtual std::vector<mirror_versions> versions(std::int64_t ig_user_id) = 0;
  virtual std::optional<std::int64_t> by_username(std::string_view username) = 0;
  // Whether a provider account has a profile whose account is not deleted.
  virtual bool has_open_profile(std::int64_t ig_user_id) = 0;
  // A new profile for the provider account, every mirrored field taken at `ig.version`, with no
  // username yet. Returns its id.
  virtual std::int64_t add(const idp_profile& ig, time_point now, time_point next_sync) = 0;

  // The service's own values, set by the user or at sign-up.
  virtual void set_username(std::int64_t id, std::string_view username) = 0;
  virtual void set_own_picture(std::int64_t id, std::string_view url) = 0;  // no provider hash
  virtual void set_display_name(std::int64_t id, std::string_view name) = 0;
  virtual void set_bio(std::int64_t id, std::string_view bio) = 0;

  // Mirrored values. Gives `username` to the profile at `version`; any other profile holding it
  // gives it up and falls due for polling at `now`, or at `later` when it is linked to the same
  // provider account.
  virtual void take_username(std::int64_t id, std::int64_t ig_user_id, std::string_view username,
                             std::int64_t version, time_point now, time_point later) = 0;
  // A webhook's change of a mirrored field other than the username: its values in the order of
  // the field's keys (mirror::field), and its version.
  virtual void write_field(std::string_view webhook_field, std::int64_t id,
                           const std::array<std::string, 2>& values, std::int64_t version) = 0;
  // Every mirrored field and version of `p` (but its username), and when it was synced.
  virtual void save_snapshot(const profile& p, time_point synced, time_point next_sync) = 0;
  // The provider account is gone: the profile is closed.
  virtual void close(std::int64_t id) = 0;

  // Reconciliation.
  virtual void set_needs_login(std::int64_t id, bool needs) = 0;
  virtual void set_next_sync(std::int64_t id, time_point at) = 0;
  // The provider refused the profile's token: nothing is polled until the next login.
  virtual void require_login(std::int64_t id, time_point next_sync) = 0;
  // Open profiles due for a poll at `now`, the most overdue first.
  virtual std::vector<std::int64_t> due_for_sync(time_point now, std::size_t limit) = 0;
  virtual std::optional<time_point> next_sync_due() = 0;

  // The browser's Global Privacy Control signal seen for the profile. False when it was known.
  virtual bool add_opt_out(std::int64_t id, time_point at) = 0;
  virtual bool opted_out(std::int64_t id) = 0;

  // Deletes the profile and what hangs off it: its sessions, stored tokens and notices to the
  // ad platform other than deletions; with `with_content`, its posts, the likes they got, the
  // likes it gave and its follows both ways.
  virtual void remove(std::int64_t id, bool with_content) = 0;
};

class session_repository {
 public:
  virtual ~session_repository() = default;
  virtual void add(const digest& token_hash, std::int64_t profile_id, time_point expires) = 0;
  // The profile of a session that has not expired at `now`.
  virtual std::optional<std::int64_t> find(const digest& token_hash, time_point now) = 0;
  virtual void remove(const digest& token_hash) = 0;
  virtual void remove_of(std::int64_t profile_id) = 0;
};

// The provider's tokens of each profile.
class link_repository {
 public:
  virtual ~link_repository() = default;
  virtual void store(std::int64_t profile_id, const link_tokens& t) = 0;
  struct linked {
    std::optional<link_tokens> tokens;  // none once forgotten
    std::int64_t ig_user_id = 0;
  };
  // nullopt: no such profile.
  virtual std::optional<linked> of_profile(std::int64_t profile_id) = 0;
  virtual void remove(std::int64_t profile_id) = 0;
};

// A sign-in between its start and the profile it ends in.
class sign_in_repository {
 public:
  virtual ~sign_in_repository() = default;
  struct login_state {
    std::vector<std::uint8_t> browser_hash;
    std::string verifier;
    std::string intent;
  };
  // Drops the expired states first.
  virtual void add_login_state(std::string_view state, const digest& browser_hash,
                               std::string_view verifier, std::string_view intent, time_point now,
                               time_point expires) = 0;
  // Takes the state out whatever the caller then decides: it is single-use.
  virtual std::optional<login_state> take_login_state(std::string_view state, time_point now) = 0;
  struct link_request {
    std::vector<std::uint8_t> browser_hash;
    std::string intent;
    std::string ig_json;
  };
  // Drops the expired requests first.
  virtual void add_link_request(std::string_view id, const digest& browser_hash,
                                std::string_view intent, std::string_view ig_json,
                                const link_tokens& t, time_point now, time_point expires) = 0;
  virtual std::optional<link_request> find_link_request(std::string_view id, time_point now) = 0;
  virtual link_tokens link_request_tokens(std::string_view id) = 0;
  virtual void remove_link_request(std::string_view id) = 0;
};

class content_repository {
 public:
  virtual ~content_repository() = default;
  virtual std::int64_t add_post(std::int64_t profile_id, std::string_view text, time_point at) = 0;
  struct post_row {
    post p;
    bool orphan = false;  // its author's profile is gone
    bool author_deleted = false;
    std::string author_status;
  };
  virtual std::optional<post_row> find_post(std::int64_t id) = 0;
  // Newest first.
  virtual std::vector<post> posts_of(std::int64_t profile_id, std::size_t limit) = 0;
  // False when the profile liked the post already.
  virtual bool add_like(std::int64_t profile_id, std::int64_t post_id, time_point at) = 0;
  virtual void add_follow(std::int64_t follower, std::int64_t followee, time_point at) = 0;
  virtual void remove_follow(std::int64_t follower, std::int64_t followee) = 0;
  virtual bool follows(std::int64_t follower, std::int64_t followee) = 0;
  // The usernames of a profile's followers, in the order they followed.
  virtual std::vector<std::string> follower_names(std::int64_t profile_id) = 0;
  virtual std::vector<std::int64_t> followees(std::int64_t profile_id) = 0;
  // Every open profile of the provider account `follower_ig_user_id` follows `profile_id`.
  // Returns how many follows were added.
  virtual std::int64_t import_follower(std::int64_t profile_id, std::int64_t follower_ig_user_id,
                                       time_point at) = 0;
};

// The outbox of notices to the ad platform.
class notice_repository {
 public:
  virtual ~notice_repository() = default;
  virtual std::int64_t add(std::string_view kind, std::int64_t profile_id, std::int64_t subject,
                           std::string_view body, time_point at) = 0;
  // Every pending notice: (when it falls due in unix milliseconds, id).
  virtual std::vector<std::pair<std::int64_t, std::int64_t>> pending() = 0;
  struct pending_notice {
    std::string kind;
    std::int64_t profile_id = 0;
    std::int64_t subject = 0;
    std::string body;
    std::int64_t attempts = 0;
    std::int64_t due = 0;  // unix milliseconds
  };
  virtual std::optional<pending_notice> find_pending(std::int64_t id) = 0;
  virtual void remove(std::int64_t id) = 0;
  // An attempt that failed: the notice is dead, or due again at `next`.
  virtual void settle(std::int64_t id, bool dead, std::int64_t attempts, std::int64_t next,
                      int last_status, std::string_view last_response) = 0;
  virtual std::vector<ads_notice> list(std::optional<std::string_view> state) = 0;
  // A dead notice pending again, due at `now`. False when the notice is not dead.
  virtual bool revive(std::int64_t id, time_point now) = 0;
  virtual bool exists(std::int64_t id) = 0;
};

// What the provider's callbacks left: the webhook changes applied, and data-deletion requests.
class receipt_repository {
 public:
  virtual ~receipt_repository() = default;
  // False when the change was received before.
  virtual bool first_receipt(std::string_view change_key, time_point at) = 0;
  // Forgets the changes received about a provider account: once its profile is gone, nothing
  // kept may name it (a later copy of an old change finds no profile, and is stale anyway).
  virtual void forget_account(std::int64_t ig_user_id) = 0;
  virtual void add_deletion_request(std::string_view code, std::int64_t profiles_deleted,
                                    time_point at) = 0;
  virtual std::optional<std::int64_t> deletion_request(std::string_view code) = 0;
};

class repositories {
 public:
  virtual ~repositories() = default;
  virtual store::work_scope begin() = 0;
  // The one-profile rule as a constraint, so no code path can get around it; off for a fault
  // profile that breaks the rule. Throws store::error when the stored profiles break it.
  virtual void enforce_one_profile_per_account(bool on, std::string_view behaviour_name) = 0;
  virtual profile_repository& profiles() = 0;
  virtual session_repository& sessions() = 0;
  virtual link_repository& links() = 0;
  virtual sign_in_repository& sign_ins() = 0;
  virtual content_repository& content() = 0;
  virtual notice_repository& notices() = 0;
  virtual receipt_repository& receipts() = 0;
};

// The SQLite repositories over `db`, migrated to the current schema. `db` must outlive them.
std::unique_ptr<repositories> sqlite_repositories(store::database& db);

}  // namespace linksim::threads_sim
