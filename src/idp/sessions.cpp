// The provider's own sign-in: passwords checked with scrypt, and browser sessions that may hold
// several accounts.
#include "domain.hpp"

#include "linksim/idp/repositories.hpp"

#include <tuple>

namespace linksim::idp {

result<account> domain::authorization::authenticate_user(std::string_view username,
                                                         std::string_view password) {
  std::string hash;
  std::int64_t id = 0;
  std::string status;
  {
    std::lock_guard lock(ctx_.mutex);
    if (auto c = ctx_.repos.accounts().credentials_of(username)) {
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
  if (status != "active" && ctx_.cfg.rules.refuse_inactive_accounts)
    return make_error_code(errc::account_inactive);
  return accounts_.get(id);
}

std::string domain::authorization::open_session(std::int64_t account_id,
                                                std::string_view existing) {
  std::lock_guard lock(ctx_.mutex);
  const auto now = unix_millis(ctx_.time.now());
  std::string token(existing);
  bool valid = false;
  if (!token.empty()) valid = ctx_.repos.sessions().valid(sha256(token), now);
  if (valid) ctx_.session_cache.erase(sha256(token));  // it gains an account
  auto work = ctx_.repos.begin();
  if (!valid) {
    token = ctx_.random.token(32);
    ctx_.repos.sessions().add(sha256(token), now + ctx_.cfg.session_ttl.count());
  }
  ctx_.repos.sessions().add_account(sha256(token), account_id, now);
  work->commit();
  return token;
}

std::vector<account> domain::authorization::session_accounts(std::string_view session) {
  if (session.empty()) return {};
  const digest key = sha256(session);
  std::lock_guard lock(ctx_.mutex);
  const auto now = unix_millis(ctx_.time.now());
  if (auto it = ctx_.session_cache.find(key); it != ctx_.session_cache.end()) {
    if (it->second.expires_at > now) return it->second.accounts;
    ctx_.session_cache.erase(it);
    return {};
  }
  context::cached_session c;
  std::tie(c.accounts, c.expires_at) = ctx_.repos.sessions().accounts(key, now);
  if (c.accounts.empty()) return {};  // unknown or expired sessions are not remembered
  if (ctx_.session_cache.size() >= 4096) ctx_.session_cache.clear();  // bounded: refilled on demand
  return ctx_.session_cache.emplace(key, std::move(c)).first->second.accounts;
}

}  // namespace linksim::idp
