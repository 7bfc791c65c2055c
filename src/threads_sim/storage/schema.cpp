// The dependent service's database: profiles, links, sessions, posts, follows, applied webhook
// changes and the outbox of notices to the ad platform, as migrations keyed by PRAGMA
// user_version.
#include "schema.hpp"

namespace linksim::threads_sim::schema {
namespace {

constexpr store::migration migrations_[] = {
    {1, R"sql(
CREATE TABLE profiles (
  id INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: kept content must not change owner
  ig_user_id INTEGER NOT NULL,
  username TEXT COLLATE NOCASE UNIQUE,   -- NULL while a swap waits for its other half
  display_name TEXT NOT NULL DEFAULT '',
  bio TEXT NOT NULL DEFAULT '',
  picture_url TEXT NOT NULL DEFAULT '',
  picture_sha256 TEXT NOT NULL DEFAULT '',
  ig_status TEXT NOT NULL DEFAULT 'active',
  ig_deleted INTEGER NOT NULL DEFAULT 0,
  needs_login INTEGER NOT NULL DEFAULT 0,
  username_version INTEGER NOT NULL DEFAULT 0,
  picture_version INTEGER NOT NULL DEFAULT 0,
  status_version INTEGER NOT NULL DEFAULT 0,
  bio_version INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  last_synced_at INTEGER NOT NULL,
  next_sync_at INTEGER NOT NULL
);
CREATE INDEX profiles_ig ON profiles(ig_user_id);
CREATE INDEX profiles_next_sync ON profiles(next_sync_at) WHERE ig_deleted = 0 AND needs_login = 0;
CREATE TABLE links (
  profile_id INTEGER PRIMARY KEY,
  access_token TEXT NOT NULL,
  refresh_token TEXT NOT NULL,
  access_expires_at INTEGER NOT NULL
);
CREATE TABLE sessions (
  token_hash BLOB PRIMARY KEY,
  profile_id INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_profile ON sessions(profile_id);
CREATE TABLE login_states (
  state TEXT PRIMARY KEY,
  browser_hash BLOB NOT NULL,
  verifier TEXT NOT NULL,
  intent TEXT NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE link_requests (
  id TEXT PRIMARY KEY,
  browser_hash BLOB NOT NULL,
  intent TEXT NOT NULL,
  ig_json TEXT NOT NULL,
  access_token TEXT NOT NULL,
  refresh_token TEXT NOT NULL,
  access_expires_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE posts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  profile_id INTEGER NOT NULL,
  text TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX posts_profile ON posts(profile_id, id);
CREATE TABLE likes (
  profile_id INTEGER NOT NULL,
  post_id INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (profile_id, post_id)
) WITHOUT ROWID;
CREATE INDEX likes_post ON likes(post_id);
CREATE TABLE follows (
  follower INTEGER NOT NULL,
  followee INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (follower, followee)
) WITHOUT ROWID;
CREATE INDEX follows_followee ON follows(followee);
-- Webhook changes already applied, recorded in the transaction of their effect.
-- Meta's data-deletion callback: what each confirmation code stands for.
CREATE TABLE deletion_requests (
  code TEXT PRIMARY KEY,
  profiles_deleted INTEGER NOT NULL,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE applied_changes (
  change_key TEXT PRIMARY KEY,
  received_at INTEGER NOT NULL
) WITHOUT ROWID;
)sql"},
    {2, R"sql(
-- Profiles whose browser sent Sec-GPC: 1: no advertising use of their activity from then on.
CREATE TABLE ad_opt_outs (
  profile_id INTEGER PRIMARY KEY REFERENCES profiles (id) ON DELETE CASCADE,
  source TEXT NOT NULL,
  at INTEGER NOT NULL
);
)sql"},
    {3, R"sql(
-- The transactional outbox of notices to the ad platform: written in the transaction of the
-- change they tell of, sent at once after it commits, retried on the schedule below until
-- delivered (then deleted: a delivered notice's content is the ad platform's to keep, not ours)
-- or dead, which an operator sees in GET /admin/ads-notices and can replay.
CREATE TABLE ads_notices (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('activity', 'deletion', 'opt_out')),
  profile_id INTEGER NOT NULL,  -- not a reference: a deletion notice outlives its profile
  subject INTEGER NOT NULL,     -- the provider account id
  body TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'dead')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  last_status INTEGER NOT NULL DEFAULT 0,
  last_response TEXT NOT NULL DEFAULT ''
);
CREATE INDEX ads_notices_profile ON ads_notices (profile_id);
)sql"},
    {4, R"sql(
-- The client registration a running service was given by the provider (linksim serve registers
-- once and keeps it here); "IF NOT EXISTS": hosts created the table before it was a migration.
CREATE TABLE IF NOT EXISTS host_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
)sql"},
};

}  // namespace

std::span<const store::migration> migrations() {
  return migrations_;
}

}  // namespace linksim::threads_sim::schema
