// The provider's own sign-in: passwords checked with scrypt, and browser sessions that may hold
// several accounts.
#include "internal.hpp"

#include "linksim/store/sqlite.hpp"

#include <algorithm>

namespace linksim::idp {

result<account> service::authenticate_user(std::string_view username, std::string_view password) {
  std::string hash;
  std::int64_t id = 0;
  std::string status;
  {
    std::lock_guard lock(mutex_);
    auto& q = db_.cached(
        "SELECT id, password_hash, status FROM accounts WHERE username = ? COLLATE NOCASE "
        "AND status != 'deleted'");
    q.bind(1, username);
    if (q.step()) {
      id = q.get_int(0);
      hash = q.get_text(1);
      status = q.get_text(2);
    }
  }
  // Verify outside the lock; an unknown user costs a hash too, so timing tells nothing.
  static const std::string dummy =
      "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$"
      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
  const bool ok = verify_password(password, hash.empty() ? dummy : hash);
  if (!ok || id == 0) return make_error_code(error::login_failed);
  if (status != "active") return make_error_code(errc::account_inactive);
  return get_account(id);
}

std::string service::open_session(std::int64_t account_id, std::string_view existing) {
  std::lock_guard lock(mutex_);
  const auto now = unix_millis(clock_.now());
  std::string token(existing);
  bool valid = false;
  if (!token.empty()) {
    auto& q = db_.cached("SELECT 1 FROM sessions WHERE hash = ? AND expires_at > ?");
    q.bind_all(detail::hash_bytes(sha256(token)), now);
    valid = q.step();
  }
  if (valid) session_cache_.erase(sha256(token));  // it gains an account
  store::transaction tx(db_);
  if (!valid) {
    token = random_.token(32);
    db_.cached("INSERT INTO sessions (hash, expires_at) VALUES (?, ?)")
        .bind_all(detail::hash_bytes(sha256(token)), now + cfg_.session_ttl.count())
        .run();
  }
  db_.cached(
         "INSERT OR IGNORE INTO session_accounts (session, account_id, added_at) "
         "VALUES (?, ?, ?)")
      .bind_all(detail::hash_bytes(sha256(token)), account_id, now)
      .run();
  tx.commit();
  return token;
}

std::vector<account> service::session_accounts(std::string_view session) {
  if (session.empty()) return {};
  const digest key = sha256(session);
  std::lock_guard lock(mutex_);
  const auto now = unix_millis(clock_.now());
  if (auto it = session_cache_.find(key); it != session_cache_.end()) {
    if (it->second.expires_at > now) return it->second.accounts;
    session_cache_.erase(it);
    return {};
  }
  // One query, and no follower counts (the pages do not show them).
  auto& q = db_.cached(
      "SELECT a.id, a.username, a.display_name, a.status, s.expires_at FROM session_accounts sa "
      "JOIN sessions s ON s.hash = sa.session JOIN accounts a ON a.id = sa.account_id "
      "WHERE s.hash = ? AND s.expires_at > ? AND a.status != 'deleted' "
      "ORDER BY sa.added_at, sa.account_id");
  q.bind_all(detail::hash_bytes(key), now);
  cached_session c;
  while (q.step()) {
    account a;
    a.id = q.get_int(0);
    a.username = q.get_text(1);
    a.display_name = q.get_text(2);
    a.status = parse_status(q.get_text(3)).value_or(account_status::active);
    c.expires_at = q.get_int(4);
    c.accounts.push_back(std::move(a));
  }
  if (c.accounts.empty()) return {};  // unknown or expired sessions are not remembered
  if (session_cache_.size() >= 4096) session_cache_.clear();  // bounded: refilled on demand
  return session_cache_.emplace(key, std::move(c)).first->second.accounts;
}

}  // namespace linksim::idp
