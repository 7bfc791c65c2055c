// The provider's internal API, as the company's other systems call it.
#include "linksim/idp/internal_api.hpp"

#include "linksim/common/json.hpp"

#include <boost/json/object.hpp>

#include <string>

namespace linksim::idp {

result<bool> read_personalized_ads(http::transport& t, std::string_view idp_url,
                                   std::string_view token, std::int64_t account) {
  // An error_code also converts to bool: say which side of the result it is.
  const auto fail = [](errc e) {
    return result<bool>(boost::system::in_place_error, make_error_code(e));
  };
  http::request req;
  req.method = "GET";
  req.target =
      std::string(idp_url) + "/internal/accounts/" + std::to_string(account) + "/ad-settings";
  req.headers.set("Authorization", "Bearer " + std::string(token));
  auto r = t.send(std::move(req));
  if (!r) return fail(errc::upstream_unavailable);
  if (r->status == 410) return fail(errc::account_deleted);
  if (r->status != 200) return fail(errc::upstream_bad_response);
  auto o = json::parse_object(r->body);
  const auto* v = o ? o->if_contains("personalized_ads") : nullptr;
  if (!v || !v->is_bool()) return fail(errc::upstream_bad_response);
  return v->as_bool();
}

result<int> write_profile(http::transport& t, std::string_view idp_url, std::string_view token,
                          std::int64_t account, const std::optional<std::string>& name,
                          const std::optional<std::string>& biography) {
  boost::json::object body;
  if (name) body["name"] = *name;
  if (biography) body["biography"] = *biography;
  http::request req;
  req.method = "PATCH";
  req.target = std::string(idp_url) + "/internal/accounts/" + std::to_string(account) + "/profile";
  req.headers.set("Authorization", "Bearer " + std::string(token));
  req.headers.set("Content-Type", "application/json");
  req.body = json::serialize(body);
  auto r = t.send(std::move(req));
  if (!r) return make_error_code(errc::upstream_unavailable);
  return r->status;
}

}  // namespace linksim::idp
