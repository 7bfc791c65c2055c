// The mirror's rules, one row per field the provider's webhooks carry: whether the service's
// behaviour mirrors it, which version it was last set at, how a webhook's change is written and
// how a /me snapshot is compared and taken. The webhook path (receive_webhook) and the snapshot
// path (apply_snapshot, at sign-in and on every reconciliation poll) both read this table, so a
// field follows one rule whichever way its change arrives.
#pragma once

#include "linksim/threads_sim/behaviour.hpp"
#include "linksim/threads_sim/service.hpp"

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

namespace linksim::threads_sim::mirror {

struct field {
  std::string_view webhook_field;  // as the provider's webhook names it
  // What a snapshot reports applied; the fields of one group (name and biography) share it.
  std::string_view group;
  bool (*mirrored)(const behaviour& b);
  std::string_view not_mirrored;        // the webhook's recorded outcome when it is not mirrored
  std::int64_t mirror_versions::*held;  // the version a webhook's change is checked against
  std::int64_t profile::*version;       // the same, as a loaded profile holds it
  // The webhook path: the keys of the change's values, in the order the repository writes them
  // (profile_repository::write_field). The username is written by service::set_username, which
  // also frees the name from a stale holder.
  std::array<std::string_view, 2> keys;
  // The snapshot path, for the first field of each group: whether the snapshot differs from the
  // profile, and taking it. nullptr for the other fields of a group.
  bool (*differs)(const profile& p, const idp_profile& ig);
  void (*take)(profile& p, const idp_profile& ig);
};

std::span<const field> fields();
inline bool is_username(const field& f) {
  return f.webhook_field == "username";
}
// The row of a webhook field; nullptr for a field the mirror does not know.
const field* find(std::string_view webhook_field);

}  // namespace linksim::threads_sim::mirror
