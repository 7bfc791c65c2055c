// Meta's signed_request callbacks: deauthorization (the stored tokens are forgotten) and data
// deletion (every profile of the account is deleted, with a status page for its code).
#include "domain.hpp"

#include "linksim/common/crypto.hpp"
#include "linksim/common/http.hpp"
#include "linksim/common/json.hpp"
#include "linksim/threads_sim/repositories.hpp"

#include <boost/json/object.hpp>

namespace linksim::threads_sim {

// --- Meta's signed_request callbacks ---

result<std::int64_t> domain::callbacks::verify_signed_request(std::string_view signed_request) {
  const auto dot = signed_request.find('.');
  if (dot == std::string_view::npos) return make_error_code(errc::bad_field);
  const auto sig = base64url_decode(signed_request.substr(0, dot));
  const auto encoded = signed_request.substr(dot + 1);
  const digest expected = hmac_sha256(ctx_.cfg.client_secret, encoded);
  if (!sig || !constant_time_equal(as_chars(*sig), as_chars(expected)))
    return make_error_code(error::signed_request_invalid);
  const auto payload = base64url_decode(encoded);
  if (!payload) return make_error_code(errc::bad_field);
  auto o = json::parse_object(as_chars(*payload));
  if (!o) return make_error_code(errc::bad_field);
  const auto* user = o->if_contains("user_id");
  if (!user || !user->is_string()) return make_error_code(errc::bad_field);
  // The whole id is a positive number: "17x", "0" and "-5" name no account.
  const auto id = http::parse_id(user->as_string());
  if (!id) return make_error_code(errc::bad_field);
  return *id;
}

result<void> domain::callbacks::deauthorize(std::string_view signed_request) {
  auto account = verify_signed_request(signed_request);
  if (!account) return account.error();
  std::lock_guard lock(ctx_.mutex);
  auto work = ctx_.repos.begin();
  for (const auto& p : ctx_.profiles_locked(*account, counts::without)) {
    ctx_.repos.links().remove(p.id);
    ctx_.repos.profiles().set_needs_login(p.id, true);
  }
  ctx_.record(ctx_.cfg.idp_system, ctx_.cfg.system_name, *account, {"user.unique_id"},
              "callback.receive.deauthorize", signed_request, "stored tokens forgotten");
  work->commit();
  return {};
}

result<std::string> domain::callbacks::data_deletion(std::string_view signed_request) {
  auto account = verify_signed_request(signed_request);
  if (!account) return account.error();
  std::vector<std::int64_t> notices;
  std::string code;
  {
    std::lock_guard lock(ctx_.mutex);
    auto work = ctx_.repos.begin();
    auto profiles = ctx_.profiles_locked(*account, counts::without);
    if (!ctx_.cfg.rules.close_on_account_deletion) profiles.clear();  // answered, not done
    // Each profile goes, and the ad platform is told to erase what it was told about it, as
    // when the person deletes the profile.
    for (const auto& p : profiles) {
      profiles_.remove_locked(p.id);
      notices.push_back(ads_.enqueue_notice_locked(
          "deletion", p.id, *account,
          json::serialize(boost::json::object{{"subject", std::to_string(*account)}})));
    }
    ctx_.repos.receipts().forget_account(*account);
    code = ctx_.random.token(12);
    ctx_.repos.receipts().add_deletion_request(code, static_cast<std::int64_t>(profiles.size()),
                                               ctx_.time.now());
    ctx_.record(ctx_.cfg.idp_system, ctx_.cfg.system_name, *account, {"user.unique_id"},
                "callback.receive.data_deletion", signed_request,
                "profiles deleted: " + std::to_string(profiles.size()));
    work->commit();
  }
  for (const auto id : notices) ads_.send_notice_now(id);
  return code;
}

result<std::int64_t> domain::callbacks::deletion_status(std::string_view code) {
  std::lock_guard lock(ctx_.mutex);
  const auto n = ctx_.repos.receipts().deletion_request(code);
  if (!n) return make_error_code(errc::not_found);
  return *n;
}

}  // namespace linksim::threads_sim
