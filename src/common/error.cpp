// The linksim error category: a sentence for every error code, shown to people and clients.
#include "linksim/common/error.hpp"

#include <string>

namespace linksim {
namespace {

const char* message_of(errc e) {
  switch (e) {
    case errc::bad_json:
      return "the body is not valid JSON";
    case errc::bad_form:
      return "the body is not a valid application/x-www-form-urlencoded form";
    case errc::missing_field:
      return "a required field is missing";
    case errc::bad_field:
      return "a field has a value of the wrong type or form";
    case errc::not_found:
      return "no such resource";
    case errc::method_not_allowed:
      return "this method is not allowed on this resource";
    case errc::unsupported_media_type:
      return "unsupported content type";
    case errc::admin_unauthorized:
      return "the admin API needs 'Authorization: Bearer <admin token>'";
    case errc::access_denied:
      return "the user denied the request";
    case errc::csrf_mismatch:
      return "the form's CSRF token does not match; reload the page";
    case errc::username_invalid:
      return "usernames are 1 to 30 letters, digits, periods and underscores, neither starting nor "
             "ending with a period, with no two periods in a row";
    case errc::username_taken:
      return "this username is taken";
    case errc::account_inactive:
      return "this account is restricted, suspended or banned";
    case errc::account_deleted:
      return "this account has been deleted";
    case errc::self_follow:
      return "an account cannot follow itself";
    case errc::callback_url_invalid:
      return "the callback URL must be an absolute http(s) URL";
    case errc::delivery_not_replayable:
      return "only dead or disabled deliveries can be replayed";
    case errc::upstream_unavailable:
      return "a service this request depends on is unavailable";
    case errc::upstream_bad_response:
      return "a service this request depends on answered badly";
  }
  return "unknown linksim error";
}

// Boost's error_category has a protected non-virtual destructor by design.
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "linksim"; }
  std::string message(int ev) const override { return message_of(static_cast<errc>(ev)); }
};

}  // namespace

const boost::system::error_category& error_category() noexcept {
  static const category_impl instance;
  return instance;
}

}  // namespace linksim
