// The provider's own sign-in: passwords checked with scrypt, and browser sessions that may hold
// several accounts.
#include "internal.hpp"

#include "linksim/idp/repositories.hpp"

#include <algorithm>
#include <tuple>

namespace linksim::idp {

result<account> service::authenticate_user(std::string_view username, std::string_view password) {
  std::string hash;
  std::int64_t id = 0;
  std::string status;
  {
    std::lock_guard lock(mutex_);
    if (auto c = repos_.accounts().credentials_of(username)) {
      id = c->id;
      hash = std::move(c->password_hash);
      status = std::move(c->status);
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
  if (!token.empty()) valid = repos_.sessions().valid(sha256(token), now);
  if (valid) session_cache_.erase(sha256(token));  // it gains an account
  auto work = repos_.begin();
  if (!valid) {
    token = random_.token(32);
    repos_.sessions().add(sha256(token), now + cfg_.session_ttl.count());
  }
  repos_.sessions().add_account(sha256(token), account_id, now);
  work->commit();
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
  cached_session c;
  std::tie(c.accounts, c.expires_at) = repos_.sessions().accounts(key, now);
  if (c.accounts.empty()) return {};  // unknown or expired sessions are not remembered
  if (session_cache_.size() >= 4096) session_cache_.clear();  // bounded: refilled on demand
  return session_cache_.emplace(key, std::move(c)).first->second.accounts;
}

}  // namespace linksim::idp
