// The provider's database: accounts, pictures, follows, clients, grants and tokens, the webhook
// outbox and its deliveries, as migrations keyed by PRAGMA user_version.
#include "schema.hpp"

namespace linksim::idp::schema {
namespace {

constexpr store::migration migrations_[] = {
    {1, R"sql(
CREATE TABLE accounts (
  id INTEGER PRIMARY KEY,
  username TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  display_name TEXT NOT NULL DEFAULT '',
  bio TEXT NOT NULL DEFAULT '',
  picture_sha256 TEXT NOT NULL DEFAULT '',
  type TEXT NOT NULL CHECK (type IN ('personal', 'business')),
  status TEXT NOT NULL
    CHECK (status IN ('active', 'restricted', 'suspended', 'banned', 'deleted')),
  version INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
-- A deleted account frees its username.
CREATE UNIQUE INDEX accounts_username ON accounts (username COLLATE NOCASE)
  WHERE status != 'deleted';
CREATE TABLE pictures (
  sha256 TEXT PRIMARY KEY,
  content_type TEXT NOT NULL,
  bytes BLOB NOT NULL
);
CREATE TABLE follows (
  follower INTEGER NOT NULL REFERENCES accounts (id),
  followee INTEGER NOT NULL REFERENCES accounts (id),
  created_at INTEGER NOT NULL,
  PRIMARY KEY (follower, followee)
) WITHOUT ROWID;
CREATE INDEX follows_followee ON follows (followee);
CREATE TABLE clients (
  id TEXT PRIMARY KEY,
  secret TEXT NOT NULL,
  name TEXT NOT NULL,
  system TEXT NOT NULL,
  redirect_uris TEXT NOT NULL,
  webhook_secret TEXT NOT NULL,
  deauthorize_url TEXT NOT NULL DEFAULT '',
  data_deletion_url TEXT NOT NULL DEFAULT ''
);
CREATE TABLE subscriptions (
  client_id TEXT PRIMARY KEY REFERENCES clients (id),
  callback_url TEXT NOT NULL,
  verify_token TEXT NOT NULL,
  fields TEXT NOT NULL,
  active INTEGER NOT NULL
);
CREATE TABLE auth_requests (
  id TEXT PRIMARY KEY,
  client_id TEXT NOT NULL REFERENCES clients (id),
  redirect_uri TEXT NOT NULL,
  scope TEXT NOT NULL,
  state TEXT NOT NULL,
  code_challenge TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE TABLE sessions (
  hash BLOB PRIMARY KEY,
  expires_at INTEGER NOT NULL
);
CREATE TABLE session_accounts (
  session BLOB NOT NULL REFERENCES sessions (hash) ON DELETE CASCADE,
  account_id INTEGER NOT NULL REFERENCES accounts (id),
  added_at INTEGER NOT NULL,
  PRIMARY KEY (session, account_id)
) WITHOUT ROWID;
CREATE TABLE grants (
  id INTEGER PRIMARY KEY,
  client_id TEXT NOT NULL REFERENCES clients (id),
  account_id INTEGER NOT NULL REFERENCES accounts (id),
  scope TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
);
CREATE INDEX grants_account ON grants (account_id, client_id);
CREATE TABLE codes (
  hash BLOB PRIMARY KEY,
  grant_id INTEGER NOT NULL REFERENCES grants (id),
  redirect_uri TEXT NOT NULL,
  code_challenge TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER
);
CREATE TABLE tokens (
  hash BLOB PRIMARY KEY,
  grant_id INTEGER NOT NULL REFERENCES grants (id),
  kind TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
  lifetime TEXT NOT NULL CHECK (lifetime IN ('short', 'long', 'refresh')),
  issued_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER,
  revoked_at INTEGER
);
CREATE INDEX tokens_grant ON tokens (grant_id);
-- The transactional outbox: a change and its deliveries commit together.
CREATE TABLE events (
  id INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL,
  field TEXT NOT NULL,
  value TEXT NOT NULL,
  version INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE deliveries (
  id INTEGER PRIMARY KEY,
  event_id INTEGER REFERENCES events (id),
  client_id TEXT NOT NULL REFERENCES clients (id),
  kind TEXT NOT NULL CHECK (kind IN ('webhook', 'deauthorize', 'data_deletion')),
  account_id INTEGER NOT NULL,
  field TEXT NOT NULL,
  url TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead', 'disabled')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  window_start INTEGER NOT NULL,
  last_status INTEGER NOT NULL DEFAULT 0,
  last_response TEXT NOT NULL DEFAULT '',
  delivered_at INTEGER
);
CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at);
)sql"},
    {2, R"sql(
CREATE INDEX auth_requests_expiry ON auth_requests (expires_at);
)sql"},
    {3, R"sql(
-- Tables keyed by a random value are clustered on that key (one B-tree, not a rowid table plus
-- an index): every commit of the sign-in path writes a page per B-tree it touches. Expired
-- authorization requests are swept once a minute, which needs no index.
DROP INDEX auth_requests_expiry;
CREATE TABLE auth_requests_new (
  id TEXT PRIMARY KEY,
  client_id TEXT NOT NULL REFERENCES clients (id),
  redirect_uri TEXT NOT NULL,
  scope TEXT NOT NULL,
  state TEXT NOT NULL,
  code_challenge TEXT NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO auth_requests_new SELECT * FROM auth_requests;
DROP TABLE auth_requests;
ALTER TABLE auth_requests_new RENAME TO auth_requests;
CREATE TABLE codes_new (
  hash BLOB PRIMARY KEY,
  grant_id INTEGER NOT NULL REFERENCES grants (id),
  redirect_uri TEXT NOT NULL,
  code_challenge TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER
) WITHOUT ROWID;
INSERT INTO codes_new SELECT * FROM codes;
DROP TABLE codes;
ALTER TABLE codes_new RENAME TO codes;
CREATE TABLE tokens_new (
  hash BLOB PRIMARY KEY,
  grant_id INTEGER NOT NULL REFERENCES grants (id),
  kind TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
  lifetime TEXT NOT NULL CHECK (lifetime IN ('short', 'long', 'refresh')),
  issued_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER,
  revoked_at INTEGER
) WITHOUT ROWID;
INSERT INTO tokens_new SELECT * FROM tokens;
DROP TABLE tokens;
ALTER TABLE tokens_new RENAME TO tokens;
CREATE INDEX tokens_grant ON tokens (grant_id);
)sql"},
    {4, R"sql(
-- The account's company-wide ad settings (seed 001: "Meta's privacy and advertising settings").
-- No row: the defaults (personalised ads on).
CREATE TABLE ad_settings (
  account_id INTEGER PRIMARY KEY REFERENCES accounts (id),
  personalized_ads INTEGER NOT NULL CHECK (personalized_ads IN (0, 1)),
  updated_at INTEGER NOT NULL
);
)sql"},
    {4, R"sql(
-- Authorization requests waiting for consent are kept in memory (see service.hpp).
DROP TABLE auth_requests;
)sql"},
    {5, R"sql(
-- Tokens are revoked through their grant, which every token check reads: no per-grant index.
DROP INDEX tokens_grant;
)sql"},
    {6, R"sql(
-- Issued authorization codes wait for their redemption in memory (see service.hpp); a row here
-- is a code that was redeemed, kept so that its reuse revokes what it bought. Codes issued
-- but never redeemed before this version are dropped, as a restart drops them now.
DELETE FROM codes WHERE used_at IS NULL;
)sql"},
    {7, R"sql(
-- Deliveries are looked up by due time only while pending: the index leaves the others out, so
-- a delivery that is done costs one index deletion instead of a deletion and an insertion, and
-- the index stays the size of the queue rather than of the history.
DROP INDEX deliveries_due;
CREATE INDEX deliveries_pending ON deliveries (next_attempt_at) WHERE state = 'pending';
)sql"},
    {8, R"sql(
-- Version 4 was given to two migrations, the second (ad_settings) written after the first had
-- shipped: a database created in between is at version 4 without the table. Made here for it.
CREATE TABLE IF NOT EXISTS ad_settings (
  account_id INTEGER PRIMARY KEY REFERENCES accounts (id),
  personalized_ads INTEGER NOT NULL CHECK (personalized_ads IN (0, 1)),
  updated_at INTEGER NOT NULL
);
)sql"},
    {9, R"sql(
-- A CHECK on a list of three or more values (x IN ('a', 'b', 'c')) builds a temporary B-tree of
-- the list every time a statement checks it; SQLite codes lists of one or two as comparisons.
-- Each delivery's insert and change of state, and each token's insert, paid about 3 us for it:
-- the same rules as comparisons, in rebuilt tables. (The accounts' status list stays: an update
-- that leaves the status alone does not check it, and rebuilding the table that every other
-- one references is not worth one check per new account.)
CREATE TABLE deliveries_new (
  id INTEGER PRIMARY KEY,
  event_id INTEGER REFERENCES events (id),
  client_id TEXT NOT NULL REFERENCES clients (id),
  kind TEXT NOT NULL
    CHECK (kind = 'webhook' OR kind = 'deauthorize' OR kind = 'data_deletion'),
  account_id INTEGER NOT NULL,
  field TEXT NOT NULL,
  url TEXT NOT NULL,
  state TEXT NOT NULL
    CHECK (state = 'pending' OR state = 'delivered' OR state = 'dead' OR state = 'disabled'),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  window_start INTEGER NOT NULL,
  last_status INTEGER NOT NULL DEFAULT 0,
  last_response TEXT NOT NULL DEFAULT '',
  delivered_at INTEGER
);
INSERT INTO deliveries_new SELECT * FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE deliveries_new RENAME TO deliveries;
CREATE INDEX deliveries_pending ON deliveries (next_attempt_at) WHERE state = 'pending';
CREATE TABLE tokens_new (
  hash BLOB PRIMARY KEY,
  grant_id INTEGER NOT NULL REFERENCES grants (id),
  kind TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
  lifetime TEXT NOT NULL CHECK (lifetime = 'short' OR lifetime = 'long' OR lifetime = 'refresh'),
  issued_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER,
  revoked_at INTEGER
) WITHOUT ROWID;
INSERT INTO tokens_new SELECT * FROM tokens;
DROP TABLE tokens;
ALTER TABLE tokens_new RENAME TO tokens;
)sql"},
    {10, R"sql(
-- The outbox is one row a delivery: the change it carries (its JSON value and its time) moves
-- into the delivery, so a change costs one insert and writes one table's last page instead of
-- two. The events table keeps the changes made before this version, whose numbers the new ones
-- continue (the service's constructor); nothing writes to it any more.
CREATE TABLE deliveries_new (
  id INTEGER PRIMARY KEY,
  event_id INTEGER,  -- the change's number, shared by its deliveries; NULL for a callback
  client_id TEXT NOT NULL REFERENCES clients (id),
  kind TEXT NOT NULL
    CHECK (kind = 'webhook' OR kind = 'deauthorize' OR kind = 'data_deletion'),
  account_id INTEGER NOT NULL,
  field TEXT NOT NULL,
  url TEXT NOT NULL,
  state TEXT NOT NULL
    CHECK (state = 'pending' OR state = 'delivered' OR state = 'dead' OR state = 'disabled'),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  window_start INTEGER NOT NULL,
  last_status INTEGER NOT NULL DEFAULT 0,
  last_response TEXT NOT NULL DEFAULT '',
  delivered_at INTEGER,
  value TEXT,        -- the change as a JSON object, for a webhook
  created_at INTEGER -- when the change was made (unix milliseconds), for a webhook
);
INSERT INTO deliveries_new
  SELECT d.id, d.event_id, d.client_id, d.kind, d.account_id, d.field, d.url, d.state,
         d.attempts, d.next_attempt_at, d.window_start, d.last_status, d.last_response,
         d.delivered_at, e.value, e.created_at
  FROM deliveries d LEFT JOIN events e ON e.id = d.event_id;
DROP TABLE deliveries;
ALTER TABLE deliveries_new RENAME TO deliveries;
CREATE INDEX deliveries_pending ON deliveries (next_attempt_at) WHERE state = 'pending';
)sql"},
    {11, R"sql(
-- Each account keeps its follower and following counts, which every read of an account returns:
-- two columns kept by follow, unfollow and deletion instead of two counting subqueries on every
-- read. Each counts the accounts on the other side that are not deleted.
ALTER TABLE accounts ADD COLUMN followers_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN follows_count INTEGER NOT NULL DEFAULT 0;
UPDATE accounts SET
  followers_count = (SELECT count(*) FROM follows f JOIN accounts x ON x.id = f.follower
                     WHERE f.followee = accounts.id AND x.status != 'deleted'),
  follows_count = (SELECT count(*) FROM follows f JOIN accounts x ON x.id = f.followee
                   WHERE f.follower = accounts.id AND x.status != 'deleted');
)sql"},
    {12, R"sql(
-- Pictures are found by their hash only: clustered on it (one B-tree, not a rowid table and an
-- index on the hash), a new picture writes one page instead of two. What does not fit in about a
-- quarter of a page goes to overflow pages, as a rowid table's rows longer than a page do.
CREATE TABLE pictures_new (
  sha256 TEXT PRIMARY KEY,
  content_type TEXT NOT NULL,
  bytes BLOB NOT NULL
) WITHOUT ROWID;
INSERT INTO pictures_new SELECT sha256, content_type, bytes FROM pictures;
DROP TABLE pictures;
ALTER TABLE pictures_new RENAME TO pictures;
)sql"},
    {13, R"sql(
-- Whether an account's grant to a client still stands is answered by the index alone: each
-- change asks it for every subscribed client, and the grant's row was read only for revoked_at.
DROP INDEX grants_account;
CREATE INDEX grants_account ON grants (account_id, client_id, revoked_at);
)sql"},
    {14, R"sql(
-- The pending deliveries are queued in memory by due time, read from this table at start: the
-- partial index that ordered them cost every change and every settlement an index write.
DROP INDEX deliveries_pending;
)sql"},
    {15, R"sql(
-- Public clients (RFC 7591 token_endpoint_auth_method "none", no secret) and the browser origins
-- a client may call the token endpoint from (CORS).
ALTER TABLE clients ADD COLUMN auth_method TEXT NOT NULL DEFAULT 'client_secret_basic';
ALTER TABLE clients ADD COLUMN allowed_origins TEXT NOT NULL DEFAULT '[]';
)sql"},
    {16, R"sql(
-- Shared Signals (OpenID SSF 1.0): receivers' streams, the accounts a stream left out, and the
-- Security Event Tokens (RFC 8417) made for each stream in the transaction of their change.
CREATE TABLE ssf_streams (
  id TEXT PRIMARY KEY,
  client_id TEXT NOT NULL REFERENCES clients (id),
  method TEXT NOT NULL,
  endpoint_url TEXT NOT NULL,
  authorization_header TEXT NOT NULL DEFAULT '',
  events_requested TEXT NOT NULL,  -- event type URIs, space-separated
  status TEXT NOT NULL CHECK (status IN ('enabled', 'paused', 'disabled')),
  reason TEXT NOT NULL DEFAULT '',
  description TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX ssf_streams_client ON ssf_streams (client_id);
CREATE TABLE ssf_subjects (
  stream_id TEXT NOT NULL REFERENCES ssf_streams (id) ON DELETE CASCADE,
  account_id INTEGER NOT NULL,
  included INTEGER NOT NULL,
  PRIMARY KEY (stream_id, account_id)
) WITHOUT ROWID;
CREATE TABLE ssf_events (
  id INTEGER PRIMARY KEY,
  jti TEXT NOT NULL UNIQUE,
  stream_id TEXT NOT NULL REFERENCES ssf_streams (id) ON DELETE CASCADE,
  account_id INTEGER,
  event_type TEXT NOT NULL,
  set_jwt TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'held', 'delivered', 'dead')),
  note TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  settled_at INTEGER
);
CREATE INDEX ssf_events_waiting ON ssf_events (stream_id, state, id);
)sql"},
    {17, R"sql(
-- Push delivery (RFC 8935): each SET of a push stream is retried like a webhook.
ALTER TABLE ssf_events ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE ssf_events ADD COLUMN next_attempt_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE ssf_events ADD COLUMN last_status INTEGER NOT NULL DEFAULT 0;
)sql"},
    {18, R"sql(
-- When each account of a session last logged in (auth_time, max_age), beside when it first
-- joined the session, and in which place (the order of the accounts a browser holds, the same
-- when two join in one millisecond).
ALTER TABLE session_accounts ADD COLUMN logged_in_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE session_accounts ADD COLUMN place INTEGER NOT NULL DEFAULT 0;
UPDATE session_accounts SET logged_in_at = added_at;
)sql"},
    {19, R"sql(
-- How each client's ID tokens are signed (OpenID Connect Registration's
-- id_token_signed_response_alg). Clients registered before had EdDSA, the only one then.
ALTER TABLE clients ADD COLUMN id_token_alg TEXT NOT NULL DEFAULT 'EdDSA';
)sql"},
};

}  // namespace

std::span<const store::migration> migrations() {
  return migrations_;
}

}  // namespace linksim::idp::schema
