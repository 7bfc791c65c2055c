// The mirror's rule table (see mirror.hpp).
#include "mirror.hpp"

namespace linksim::threads_sim::mirror {
namespace {

bool mirrors_username(const behaviour& b) {
  return b.username == field_rule::mirror && b.apply_username_changes;
}
bool mirrors_picture(const behaviour& b) {
  return b.picture == field_rule::mirror;
}
bool mirrors_bio(const behaviour& b) {
  return b.bio == field_rule::mirror;
}
bool always(const behaviour&) {
  return true;
}

const field table[] = {
    {"username",
     "username",
     mirrors_username,
     "username not mirrored",
     &mirror_versions::username,
     &profile::username_version,
     "",
     {"username", ""},
     [](const profile& p, const idp_profile& ig) { return ig.username != p.username; },
     [](profile& p, const idp_profile& ig) { p.username = ig.username; }},
    {"profile_picture",
     "profile_picture",
     mirrors_picture,
     "picture not mirrored",
     &mirror_versions::picture,
     &profile::picture_version,
     "UPDATE profiles SET picture_url = ?, picture_sha256 = ?, picture_version = ? WHERE id = ?",
     {"profile_picture_url", "profile_picture_sha256"},
     [](const profile& p, const idp_profile& ig) {
       return ig.picture_url != p.picture_url || ig.picture_sha256 != p.picture_sha256;
     },
     [](profile& p, const idp_profile& ig) {
       p.picture_url = ig.picture_url;
       p.picture_sha256 = ig.picture_sha256;
     }},
    {"name",
     "biography",
     mirrors_bio,
     "copied once at sign-up",
     &mirror_versions::bio,
     &profile::bio_version,
     "UPDATE profiles SET display_name = ?, bio_version = ? WHERE id = ?",
     {"name", ""},
     nullptr,
     nullptr},
    {"biography",
     "biography",
     mirrors_bio,
     "copied once at sign-up",
     &mirror_versions::bio,
     &profile::bio_version,
     "UPDATE profiles SET bio = ?, bio_version = ? WHERE id = ?",
     {"biography", ""},
     [](const profile& p, const idp_profile& ig) {
       return ig.name != p.display_name || ig.biography != p.bio;
     },
     [](profile& p, const idp_profile& ig) {
       p.display_name = ig.name;
       p.bio = ig.biography;
     }},
    {"account_status",
     "account_status",
     always,
     "",
     &mirror_versions::status,
     &profile::status_version,
     "UPDATE profiles SET ig_status = ?, status_version = ? WHERE id = ?",
     {"status", ""},
     [](const profile& p, const idp_profile& ig) { return ig.status != p.ig_status; },
     [](profile& p, const idp_profile& ig) { p.ig_status = ig.status; }},
};

}  // namespace

std::span<const field> fields() {
  return table;
}

const field* find(std::string_view webhook_field) {
  for (const auto& f : table)
    if (f.webhook_field == webhook_field) return &f;
  return nullptr;
}

}  // namespace linksim::threads_sim::mirror
