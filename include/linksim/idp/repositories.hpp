// What the identity provider's domain asks of storage: one interface per kind of record. The
// SQLite implementation (src/idp/storage) owns the schema, its migrations and every statement;
// the domain holds no database handle.
// Repository calls run inside a unit of work the domain begins, and never begin one themselves.
// Times are unix milliseconds where a row stores them so, and compared as the row holds them.
#pragma once

#include "linksim/common/clock.hpp"
#include "linksim/common/crypto.hpp"
#include "linksim/idp/service.hpp"
#include "linksim/store/unit_of_work.hpp"

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

namespace linksim::idp {

// The columns of an account a profile change writes, each with the account's new version.
enum class account_column { username, display_name, bio, type, status };

class account_repository {
 public:
  virtual ~account_repository() = default;
  // The account as stored: picture_url is left empty (it follows the issuer).
  virtual std::optional<account> find(std::int64_t id) = 0;
  virtual bool exists(std::int64_t id) = 0;
  // The account that is not deleted and holds `username`, compared case-insensitively.
  virtual std::optional<std::int64_t> by_username(std::string_view username) = 0;
  // Whether no account but `except_id` that is not deleted holds `username`.
  virtual bool username_free(std::string_view username, std::int64_t except_id) = 0;
  virtual void add(std::int64_t id, const new_account& n, std::string_view password_hash,
                   time_point at) = 0;
  virtual void write(std::int64_t id, account_column column, std::string_view value,
                     std::int64_t version) = 0;
  virtual void set_picture(std::int64_t id, std::string_view sha256_hex, std::int64_t version) = 0;
  virtual void set_password_hash(std::int64_t id, std::string_view password_hash) = 0;
  // Marks the account deleted at `version`; the accounts on the other side of its follows stop
  // counting it.
  virtual void mark_deleted(std::int64_t id, std::int64_t version) = 0;
  struct credentials {
    std::int64_t id = 0;
    std::string password_hash;
    std::string status;
  };
  // Of the account that is not deleted and holds `username`.
  virtual std::optional<credentials> credentials_of(std::string_view username) = 0;
  // The account's status alone, as stored.
  virtual std::optional<std::string> status_of(std::int64_t id) = 0;

  // Pictures by the hex SHA-256 of their bytes; storing one twice keeps the first.
  virtual void add_picture(std::string_view sha256_hex, const picture& p) = 0;
  virtual std::optional<picture> find_picture(std::string_view sha256_hex) = 0;

  // False when `follower` followed `followee` already; otherwise both are counted.
  virtual bool add_follow(std::int64_t follower, std::int64_t followee, time_point at) = 0;
  // False when there was no such follow; otherwise each side stops counting the other, unless
  // the other is deleted (it stopped counting then).
  virtual bool remove_follow(std::int64_t follower, std::int64_t followee) = 0;
  // The followers that are not deleted, by id.
  virtual std::vector<std::int64_t> followers_of(std::int64_t id) = 0;

  virtual std::optional<ad_settings> find_ad_settings(std::int64_t id) = 0;
  virtual void set_ad_settings(std::int64_t id, bool personalized_ads, time_point at) = 0;
};

class client_repository {
 public:
  virtual ~client_repository() = default;
  virtual void add(const client& c) = 0;
  virtual std::optional<client> find(std::string_view id) = 0;
  // Whether any client lists `origin` among its allowed origins.
  virtual bool origin_registered(std::string_view origin) = 0;
  // Whether any client has its ID tokens signed with `alg`.
  virtual bool id_token_alg_registered(std::string_view alg) = 0;

  // Stores (or replaces) the client's subscription, active.
  virtual void subscribe(const subscription& s) = 0;
  virtual std::optional<subscription> subscription_of(std::string_view client_id) = 0;
  virtual void set_active(std::string_view client_id, bool active) = 0;
  struct subscriber {
    std::string client_id;
    std::string url;
    bool active = false;
  };
  // The clients subscribed to `field` that hold a grant of the account that is not revoked.
  virtual std::vector<subscriber> subscribers(std::int64_t account_id, std::string_view field) = 0;
  // The clients with a data-deletion URL that hold a grant of the account not revoked: id, URL.
  virtual std::vector<std::pair<std::string, std::string>> deletion_callbacks(
      std::int64_t account_id) = 0;
};

// Login sessions (by the hash of their token) and the accounts logged in with each.
class session_repository {
 public:
  virtual ~session_repository() = default;
  virtual bool valid(const digest& hash, std::int64_t now_ms) = 0;
  virtual void add(const digest& hash, std::int64_t expires_ms) = 0;
  virtual void add_account(const digest& hash, std::int64_t account_id, std::int64_t at_ms) = 0;
  // The accounts that are not deleted of a session that has not expired, in the order they
  // joined it (id, username, display name and status only), with the session's expiry.
  virtual std::pair<std::vector<account>, std::int64_t> accounts(const digest& hash,
                                                                 std::int64_t now_ms) = 0;
  virtual void remove_account(std::int64_t account_id) = 0;
  // When the session last logged in to the account (unix milliseconds), if it did: a login
  // again (prompt=login, max_age) moves it.
  virtual std::optional<std::int64_t> logged_in_at(const digest& hash, std::int64_t account_id) = 0;
};

// Grants, the codes redeemed for them and the tokens they issued (by the hash of each).
class grant_repository {
 public:
  virtual ~grant_repository() = default;
  struct token_row {
    std::string kind, lifetime;
    std::int64_t issued_at = 0, expires_at = 0;
    std::optional<std::int64_t> used_at, revoked_at;
    std::int64_t grant_id = 0;
    std::string client_id;
    std::int64_t account_id = 0;
    std::string scope;
    std::optional<std::int64_t> grant_revoked_at;
    std::string client_system, client_secret;
  };
  virtual std::optional<token_row> find_token(const digest& hash) = 0;
  // The profile API's hot path: an access token with its grant, client and account in one read.
  struct access_row {
    std::string kind;
    std::int64_t expires_at = 0;
    bool revoked = false;  // the token or its grant
    token_grant grant;     // the account's picture_url left empty
  };
  virtual std::optional<access_row> find_access(const digest& hash) = 0;
  virtual void add_token(const digest& hash, std::int64_t grant_id, std::string_view kind,
                         std::string_view lifetime, std::int64_t issued_at,
                         std::int64_t expires_at) = 0;
  virtual void mark_used(const digest& hash, std::int64_t at) = 0;
  virtual void revoke_token(const digest& hash, std::int64_t at) = 0;

  virtual std::int64_t add_grant(std::string_view client_id, std::int64_t account_id,
                                 std::string_view scope, std::int64_t at) = 0;
  // The grant's account and scope.
  virtual std::pair<std::int64_t, std::string> grant_subject(std::int64_t grant_id) = 0;
  virtual void revoke_grant(std::int64_t grant_id, std::int64_t at) = 0;
  virtual void revoke_grants_of(std::int64_t account_id, std::int64_t at) = 0;
  // The grants of the account to the client that are not revoked.
  virtual std::vector<std::int64_t> live_grants(std::int64_t account_id,
                                                std::string_view client_id) = 0;

  // Every client holding a grant of the account that is not revoked, with the grant's scope.
  virtual std::vector<std::pair<std::string, std::string>> apps_of(std::int64_t account_id) = 0;

  // A code redeemed: its grant and that grant's client.
  virtual std::optional<std::pair<std::int64_t, std::string>> redeemed_code(const digest& hash) = 0;
  virtual void add_redeemed_code(const digest& hash, std::int64_t grant_id,
                                 std::string_view redirect_uri, std::string_view code_challenge,
                                 std::int64_t expires_at, std::int64_t used_at) = 0;
};

// One queued delivery, as read for sending.
struct queued_delivery {
  std::int64_t id = 0;
  std::int64_t account_id = 0;
  std::int64_t event_id = 0;  // 0 for a callback
  std::string kind;
  std::string field;
  std::string client_id;
  std::string url;
  std::int64_t attempts = 0;  // before this one
  std::int64_t due_at = 0;    // its next_attempt_at when taken (unix milliseconds)
  time_point window_start;    // when the retry window opened
  std::string value;          // the change (a JSON object), for a webhook
  std::int64_t created_at = 0;
};

// The transactional outbox: webhook and callback deliveries.
class outbox_repository {
 public:
  virtual ~outbox_repository() = default;
  // The number of the last change stored.
  virtual std::int64_t last_event_id() = 0;
  // Every pending delivery: (when it falls due, id).
  virtual std::vector<std::pair<std::int64_t, std::int64_t>> pending() = 0;
  // A webhook delivery of one change; `held` for a subscription disabled by a 410.
  virtual std::int64_t add_webhook(std::int64_t event_id, std::string_view client_id,
                                   std::int64_t account_id, std::string_view field,
                                   std::string_view url, bool held, std::int64_t due,
                                   std::int64_t now, std::string_view value_json) = 0;
  virtual std::int64_t add_callback(std::int64_t account_id, std::string_view client_id,
                                    std::string_view kind, std::string_view url,
                                    std::int64_t now) = 0;
  // The client's held webhooks pending again, due at `now`, sent to `new_url` when given.
  // Returns their ids in the order of their changes.
  virtual std::vector<std::int64_t> release_held(std::string_view client_id, std::int64_t now,
                                                 std::optional<std::string_view> new_url) = 0;
  // The delivery, when it is still pending and due at `due`.
  virtual std::optional<queued_delivery> due(std::int64_t id, std::int64_t due) = 0;
  // The client's pending webhooks held after its endpoint answered 410.
  virtual void hold_webhooks(std::string_view client_id) = 0;
  virtual void settle(std::int64_t id, std::string_view state, std::int64_t attempts,
                      std::int64_t next, int last_status, std::string_view last_response,
                      std::int64_t at) = 0;
  // Newest first; by state and by id when given.
  virtual std::vector<delivery> list(std::optional<delivery_state> state,
                                     std::optional<std::int64_t> id, std::size_t limit) = 0;
  struct summary {
    std::string state, client_id, kind;
  };
  virtual std::optional<summary> find(std::int64_t id) = 0;
  // Pending again from the start, due at `now`.
  virtual void replay(std::int64_t id, std::int64_t now) = 0;
};

// Shared Signals (OpenID SSF 1.0): the streams receivers (clients) configured, the accounts
// each leaves out, and the Security Event Tokens waiting for them.
class ssf_repository {
 public:
  virtual ~ssf_repository() = default;
  virtual void add_stream(const ssf_stream& s) = 0;
  virtual void update_stream(const ssf_stream& s) = 0;
  virtual std::optional<ssf_stream> find_stream(std::string_view id) = 0;
  virtual std::vector<ssf_stream> streams_of(std::string_view client_id) = 0;
  virtual bool any_stream() = 0;
  virtual void remove_stream(std::string_view id) = 0;  // with its subjects and SETs
  // The streams not disabled whose subjects include the account: of a client holding a grant
  // of it (standing, or revoked at `revoked_since` or later), unless the stream removed it.
  virtual std::vector<ssf_stream> streams_about(std::int64_t account_id,
                                                std::int64_t revoked_since) = 0;
  virtual void set_subject(std::string_view stream_id, std::int64_t account_id, bool included) = 0;
  // A SET for the stream: `pending`, or `held` while the stream is paused.
  virtual std::int64_t add_event(std::string_view jti, std::string_view stream_id,
                                 std::optional<std::int64_t> account_id,
                                 std::string_view event_type, std::string_view set,
                                 std::string_view state, std::int64_t now) = 0;
  struct waiting_set {
    std::string jti;
    std::string set;
    std::string event_type;
    std::optional<std::int64_t> account_id;
  };
  // The stream's pending SETs, oldest first, at most `limit`.
  virtual std::vector<waiting_set> pending_events(std::string_view stream_id,
                                                  std::size_t limit) = 0;
  virtual std::int64_t count_events(std::string_view stream_id, std::string_view state) = 0;
  // The id of the newest SET waiting on any stream of the delivery method; 0 when none waits.
  virtual std::int64_t newest_waiting(std::string_view method) = 0;
  // A pending SET acknowledged (`delivered`) or refused by the receiver (`dead`, with its
  // error); whether it was pending in that stream.
  virtual bool settle_event(std::string_view stream_id, std::string_view jti,
                            std::string_view state, std::string_view note, std::int64_t at) = 0;
  // Held SETs pending again, due at `now`: their ids.
  virtual std::vector<std::int64_t> release_held(std::string_view stream_id, std::int64_t now) = 0;

  // Push delivery (RFC 8935).
  struct push_set {
    std::int64_t id = 0;
    std::string jti, stream_id, client_id, endpoint_url, authorization_header, set, event_type;
    std::optional<std::int64_t> account_id;
    std::int64_t attempts = 0, next_attempt_at = 0, created_at = 0;
  };
  // Every pending SET of an enabled push stream: (when it falls due, id).
  virtual std::vector<std::pair<std::int64_t, std::int64_t>> pending_pushes() = 0;
  // The SET, when it is still pending in an enabled push stream and due at `due`.
  virtual std::optional<push_set> due_push(std::int64_t id, std::int64_t due) = 0;
  virtual void settle_push(std::int64_t id, std::string_view state, std::int64_t attempts,
                           std::int64_t next, int status, std::string_view note,
                           std::int64_t at) = 0;
};

class repositories {
 public:
  virtual ~repositories() = default;
  virtual store::work_scope begin() = 0;
  virtual account_repository& accounts() = 0;
  virtual client_repository& clients() = 0;
  virtual session_repository& sessions() = 0;
  virtual grant_repository& grants() = 0;
  virtual outbox_repository& outbox() = 0;
  virtual ssf_repository& ssf() = 0;
};

// The SQLite repositories over `db`, migrated to the current schema. `db` must outlive them.
std::unique_ptr<repositories> sqlite_repositories(store::database& db);

}  // namespace linksim::idp
