// The mirror: its rule table (see mirror.hpp), and the two paths that apply a change of the
// provider's account to its profiles: a signed webhook (receive_webhook, in version order, once
// per change) and a /me snapshot (apply_snapshot, at sign-in and on each reconciliation poll).
#include "mirror.hpp"

#include "domain.hpp"

#include "linksim/common/account_rules.hpp"
#include "linksim/common/crypto.hpp"
#include "linksim/common/http.hpp"
#include "linksim/common/json.hpp"
#include "linksim/threads_sim/repositories.hpp"

#include <boost/json/object.hpp>

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
     {"username", ""},
     [](const profile& p, const idp_profile& ig) { return ig.username != p.username; },
     [](profile& p, const idp_profile& ig) { p.username = ig.username; }},
    {"profile_picture",
     "profile_picture",
     mirrors_picture,
     "picture not mirrored",
     &mirror_versions::picture,
     &profile::picture_version,
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
     {"name", ""},
     nullptr,
     nullptr},
    {"biography",
     "biography",
     mirrors_bio,
     "copied once at sign-up",
     &mirror_versions::bio,
     &profile::bio_version,
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

namespace linksim::threads_sim {

namespace bj = boost::json;

void domain::mirror_updates::set_username(std::int64_t profile_id, std::int64_t ig_user_id,
                                          const std::string& username, std::int64_t version) {
  // The provider's usernames are unique, so a profile here holding the same name has a stale
  // mirror: the other half of a swap whose change has not arrived yet. It gives the name up and
  // is polled at once; its own change or that poll gives it its new name.
  // A holder linked to the same provider account (only where one account may have two
  // profiles, a fault profile) has no other name to take: it waits a whole interval, so the two
  // trade the name at the polling pace instead of taking it from each other forever at once.
  const auto now = ctx_.time.now();
  ctx_.repos.profiles().take_username(profile_id, ig_user_id, kept_username(username), version, now,
                                      now + ctx_.cfg.reconcile_interval);
}

std::string domain::mirror_updates::kept_username(const std::string& username) const {
  return username.substr(0, ctx_.cfg.rules.username_length);
}

void domain::mirror_updates::set_username(profile& p, const std::string& username,
                                          std::int64_t version) {
  set_username(p.id, p.ig_user_id, username, version);
  p.username = kept_username(username);
  p.username_version = version;
}

std::vector<std::string> domain::mirror_updates::apply_snapshot(profile& p, const idp_profile& ig) {
  const auto& r = ctx_.cfg.rules;
  std::vector<std::string> applied;
  auto newer = [&](std::int64_t have) { return !r.order_by_version || ig.version > have; };
  // A profile that gave its name up (set_username) takes the provider's current one whatever the
  // versions say: the change that took its name may have been older than its own, and a
  // snapshot is what the provider holds now.
  const bool gave_name_up = p.username.empty() && r.order_by_version;
  // The username is written at once (set_username); the other fields are decided on `p` and
  // written back with the sync times in one statement.
  for (const auto& f : mirror::fields()) {
    if (!f.differs || !f.mirrored(r)) continue;  // a group's other fields come with its first
    const bool username = mirror::is_username(f);
    if (!newer(p.*f.version) && !(username && gave_name_up)) continue;
    if (f.differs(p, ig)) {
      if (username)
        set_username(p, ig.username, ig.version);
      else
        f.take(p, ig);
      applied.emplace_back(f.group);
    }
    p.*f.version = ig.version;
  }
  const auto now = ctx_.time.now();
  ctx_.repos.profiles().save_snapshot(p, now, now + ctx_.cfg.reconcile_interval);
  p.last_synced_at = now;
  return applied;
}

namespace {
// One change of an envelope, pointing into the parsed envelope, which must outlive it.
struct change {
  std::int64_t account = 0;
  std::string_view field;
  const bj::object* value = nullptr;
  std::int64_t version = 0;
};

result<std::vector<change>> changes_of(const bj::object& envelope) {
  const auto* entries = envelope.if_contains("entry");
  if (!entries || !entries->is_array()) return make_error_code(errc::bad_json);
  std::vector<change> out;
  for (const auto& e : entries->as_array()) {
    if (!e.is_object()) return make_error_code(errc::bad_json);
    const auto* id = e.as_object().if_contains("id");
    const auto* changes = e.as_object().if_contains("changes");
    if (!id || !id->is_string() || !changes || !changes->is_array())
      return make_error_code(errc::bad_json);
    // The whole id is a positive number: "17x", "0" and "-5" name no account.
    const auto parsed = http::parse_id(id->as_string());
    if (!parsed) return make_error_code(errc::bad_json);
    const std::int64_t account = *parsed;
    for (const auto& c : changes->as_array()) {
      const auto* co = c.if_object();
      const auto* field = co ? co->if_contains("field") : nullptr;
      const auto* value = co ? co->if_contains("value") : nullptr;
      if (!field || !field->is_string() || !value || !value->is_object())
        return make_error_code(errc::bad_json);
      const auto* version = value->as_object().if_contains("version");
      if (!version || !version->is_int64()) return make_error_code(errc::bad_json);
      out.push_back({account, field->as_string(), &value->as_object(), version->as_int64()});
    }
  }
  return out;
}

std::string value_text(const bj::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}
}  // namespace

void domain::mirror_updates::write_change(const mirror::field& f, const mirror_versions& p,
                                          const std::array<std::string, 2>& values,
                                          std::int64_t version) {
  if (mirror::is_username(f))
    set_username(p.id, p.ig_user_id, values[0], version);
  else
    ctx_.repos.profiles().write_field(f.webhook_field, p.id, values, version);
}

result<webhook_outcome> domain::mirror_updates::receive_webhook(std::string_view raw_body,
                                                                std::string_view signature_header) {
  // The signature covers the exact bytes received: check it before reading anything.
  if (ctx_.cfg.rules.verify_webhook_signatures) {
    const std::string expected = "sha256=" + to_hex(hmac_sha256(ctx_.cfg.client_secret, raw_body));
    if (!constant_time_equal(signature_header, expected))
      return make_error_code(error::signature_invalid);
  }
  json::scratch memory;  // the envelope is read here and dropped with the request
  auto envelope = json::parse_object(raw_body, memory.storage());
  if (!envelope) return envelope.error();
  auto changes = changes_of(*envelope);
  if (!changes) return changes.error();

  webhook_outcome out;
  const auto& r = ctx_.cfg.rules;
  std::lock_guard lock(ctx_.mutex);
  auto work = ctx_.repos.begin();
  const auto now = ctx_.time.now();
  // Every change is recorded with the digest of the body it came in (a batch is hashed once).
  const std::string body_digest = to_hex(sha256(raw_body));
  for (const auto& c : *changes) {
    std::string key = std::to_string(c.account);
    key += '/';
    key += c.field;
    key += '/';
    key += std::to_string(c.version);
    std::string outcome;
    if (!ctx_.repos.receipts().first_receipt(key, now)) {
      ++out.duplicates;
      outcome = "duplicate";
    } else {
      const auto profiles = ctx_.repos.profiles().versions(c.account);
      if (profiles.empty()) outcome = "no profile";
      for (const auto& p : profiles) {
        auto newer = [&](std::int64_t have) { return !r.order_by_version || c.version > have; };
        const std::string tag = "profile " + std::to_string(p.id) + ": ";
        auto stale = [&] {
          ++out.stale;
          outcome += tag + "stale; ";
        };
        auto applied = [&] {
          ++out.applied;
          outcome += tag + "applied; ";
        };
        auto ignored = [&](std::string_view why) {
          ++out.ignored;
          outcome += tag + "ignored (" + std::string(why) + "); ";
        };
        if (c.field == "account_deletion" && !r.close_on_account_deletion) {
          ignored("the profile stays open");
        } else if (c.field == "account_deletion") {
          // Final whatever its version: the profile is closed and its sign-ins end.
          ctx_.repos.profiles().close(p.id);
          ctx_.repos.sessions().remove_of(p.id);
          ctx_.repos.links().remove(p.id);
          applied();
        } else if (const auto* f = mirror::find(c.field); !f) {
          ignored("unknown field");
        } else if (!f->mirrored(r)) {
          ignored(f->not_mirrored);
        } else if (!newer(p.*f->held)) {
          stale();
        } else {
          write_change(*f, p, {value_text(*c.value, f->keys[0]), value_text(*c.value, f->keys[1])},
                       c.version);
          applied();
        }
      }
      if (profiles.empty()) ++out.ignored;
    }
    ctx_.record_hashed(ctx_.cfg.idp_system, ctx_.cfg.system_name, c.account,
                       categories_of_field(c.field), "webhook.receive", body_digest,
                       std::string(c.field) + " v" + std::to_string(c.version) + ": " + outcome);
  }
  work->commit();
  return out;
}

}  // namespace linksim::threads_sim
