// The rules the provider and the dependent service share (see account_rules.hpp).
#include "linksim/common/account_rules.hpp"

#include <algorithm>

namespace linksim {

bool valid_username(std::string_view u) {
  if (u.empty() || u.size() > 30 || u.front() == '.' || u.back() == '.') return false;
  if (u.find("..") != std::string_view::npos) return false;
  return std::all_of(u.begin(), u.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_';
  });
}

const std::vector<std::string>& categories_of_field(std::string_view field) {
  // Read for every webhook sent and received: built once.
  static const std::vector<std::string> id{"user.unique_id"},
      username{"user.unique_id", "user.account.username"}, name{"user.unique_id", "user.name"},
      biography{"user.unique_id", "user.content.public"},
      picture{"user.unique_id", "user.content.self_image"},
      status{"user.unique_id", "user.account"},
      ad_settings{"user.unique_id", "user.account.settings"};
  if (field == "username") return username;
  if (field == "name") return name;
  if (field == "biography") return biography;
  if (field == "profile_picture") return picture;
  if (field == "account_status") return status;
  if (field == "ad_settings") return ad_settings;
  return id;
}

}  // namespace linksim
