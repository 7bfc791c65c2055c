// What the identity provider and the services that mirror its accounts agree on: the syntax of a
// username, the fields its webhooks carry, and the data categories each field is.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace linksim {

// Instagram's rules: 1-30 of [A-Za-z0-9._], no leading/trailing period, no "..".
bool valid_username(std::string_view u);

// The fields of an account a webhook may carry.
inline constexpr std::string_view webhook_fields[] = {
    "username", "name", "biography", "profile_picture", "account_status", "account_deletion"};

// The fideslang-style data categories a webhook field carries ("ad_settings": those a Security
// Event Token about the ad setting carries).
const std::vector<std::string>& categories_of_field(std::string_view field);

}  // namespace linksim
