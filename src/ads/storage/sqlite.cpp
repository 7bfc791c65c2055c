// The ad platform's SQLite repositories: its schema, migrations and every statement it runs.
#include "linksim/store/sqlite.hpp"
#include "linksim/ads/repositories.hpp"
#include "linksim/ads/service.hpp"

namespace linksim::ads {
namespace {

constexpr store::migration migrations[] = {
    {1, R"sql(
-- What the company's products sent, one row per purpose it was sent for.
CREATE TABLE activity (
  id INTEGER PRIMARY KEY,
  subject INTEGER NOT NULL,
  from_system TEXT NOT NULL,
  kind TEXT NOT NULL,
  text TEXT NOT NULL,
  device TEXT NOT NULL,
  purpose TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX activity_subject ON activity (subject, purpose);
-- Opt-outs of advertising use of one product's data (a GPC signal seen there).
CREATE TABLE opt_outs (
  subject INTEGER NOT NULL,
  from_system TEXT NOT NULL,
  source TEXT NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (subject, from_system)
) WITHOUT ROWID;
-- Sponsored posts shown. `viewer` is the account id, or 'erased-<n>' once the account's profile
-- is deleted: the counts stay, the identity goes.
CREATE TABLE impressions (
  id INTEGER PRIMARY KEY,
  campaign TEXT NOT NULL,
  viewer TEXT NOT NULL,
  surface TEXT NOT NULL,
  personalized INTEGER NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX impressions_campaign ON impressions (campaign);
CREATE INDEX impressions_viewer ON impressions (viewer);
-- Conversations with the support assistant, kept to improve the company's AI.
CREATE TABLE training_examples (
  id INTEGER PRIMARY KEY,
  subject INTEGER NOT NULL,
  from_system TEXT NOT NULL,
  transcript TEXT NOT NULL,
  at INTEGER NOT NULL
);
)sql"},
};

class sqlite_activity final : public activity_repository {
 public:
  explicit sqlite_activity(store::database& db) : db_(db) {}

  void add(const activity& a, time_point at) override {
    auto& q = db_.cached(
        "INSERT INTO activity (subject, from_system, kind, text, device, purpose, at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)");
    for (const auto& p : a.purposes) {
      q.bind_all(a.subject, a.from_system, a.kind, a.text, a.device, p, unix_millis(at));
      q.run();
      q.reset();
    }
  }

  void add_opt_out(std::int64_t subject, std::string_view from_system, std::string_view source,
                   time_point at) override {
    db_.cached(
           "INSERT OR IGNORE INTO opt_outs (subject, from_system, source, at) VALUES (?, ?, ?, ?)")
        .bind_all(subject, from_system, source, unix_millis(at))
        .run();
  }

  bool opted_out(std::int64_t subject) override {
    auto& o = db_.cached("SELECT 1 FROM opt_outs WHERE subject = ? LIMIT 1");
    o.bind_all(subject);
    const bool found = o.step();
    o.reset();
    return found;
  }

  void add_transcript(std::int64_t subject, std::string_view from_system,
                      std::string_view transcript, time_point at) override {
    db_.cached(
           "INSERT INTO training_examples (subject, from_system, transcript, at) VALUES (?, ?, ?, "
           "?)")
        .bind_all(subject, from_system, transcript, unix_millis(at))
        .run();
  }

  void for_each_advertising(
      std::int64_t subject,
      const std::function<void(std::string_view, std::string_view)>& each) override {
    auto& q = db_.cached(
        "SELECT text, from_system FROM activity WHERE subject = ? AND purpose LIKE "
        "'marketing.advertising%' ORDER BY id");
    q.bind_all(subject);
    while (q.step()) each(q.get_text(0), q.get_text(1));
    q.reset();
  }

  std::int64_t count(std::int64_t subject) override {
    auto a = db_.prepare("SELECT count(*) FROM activity WHERE subject = ?");
    a.bind_all(subject);
    a.step();
    return a.get_int(0);
  }

  std::int64_t erase(std::int64_t subject) override {
    db_.cached("DELETE FROM activity WHERE subject = ?").bind_all(subject).run();
    const std::int64_t erased = db_.changes();
    db_.cached("DELETE FROM training_examples WHERE subject = ?").bind_all(subject).run();
    db_.cached("DELETE FROM opt_outs WHERE subject = ?").bind_all(subject).run();
    return erased;
  }

 private:
  store::database& db_;
};

class sqlite_impressions final : public impression_repository {
 public:
  explicit sqlite_impressions(store::database& db) : db_(db) {}

  std::int64_t total() override {
    // The largest id, read from the end of the B-tree instead of a full scan.
    auto& c = db_.cached("SELECT coalesce(max(id), 0) FROM impressions");
    c.step();
    const std::int64_t n = c.get_int(0);
    c.reset();
    return n;
  }

  void add(std::string_view campaign, std::int64_t viewer, std::string_view surface,
           bool personalized, time_point at) override {
    db_.cached(
           "INSERT INTO impressions (campaign, viewer, surface, personalized, at) "
           "VALUES (?, ?, ?, ?, ?)")
        .bind_all(campaign, std::to_string(viewer), surface, personalized ? 1 : 0, unix_millis(at))
        .run();
  }

  counts count_campaign(std::string_view campaign) override {
    auto& q =
        db_.cached("SELECT count(*), count(DISTINCT viewer) FROM impressions WHERE campaign = ?");
    q.bind_all(campaign);
    q.step();
    counts out{q.get_int(0), q.get_int(1)};
    q.reset();
    return out;
  }

  std::vector<std::int64_t> viewers(std::string_view campaign) override {
    std::vector<std::int64_t> ids;
    auto& v = db_.cached(
        "SELECT DISTINCT viewer FROM impressions WHERE campaign = ? AND viewer NOT LIKE "
        "'erased-%' ORDER BY viewer");
    v.bind_all(campaign);
    while (v.step()) ids.push_back(std::stoll(v.get_text(0)));
    v.reset();
    return ids;
  }

  std::int64_t count_viewer(std::int64_t viewer) override {
    auto i = db_.prepare("SELECT count(*) FROM impressions WHERE viewer = ?");
    i.bind_all(std::to_string(viewer));
    i.step();
    return i.get_int(0);
  }

  void pseudonymize(std::int64_t viewer) override {
    auto n = db_.prepare(
        "SELECT count(DISTINCT viewer) + 1 FROM impressions WHERE viewer LIKE 'erased-%'");
    n.step();
    db_.cached("UPDATE impressions SET viewer = ? WHERE viewer = ?")
        .bind_all("erased-" + std::to_string(n.get_int(0)), std::to_string(viewer))
        .run();
  }

 private:
  store::database& db_;
};

class sqlite_store final : public repositories {
 public:
  explicit sqlite_store(store::database& db) : db_(db), activity_(db), impressions_(db) {
    store::migrate(db_, migrations);
  }
  store::work_scope begin() override { return store::begin_work(db_); }
  activity_repository& activity() override { return activity_; }
  impression_repository& impressions() override { return impressions_; }

 private:
  store::database& db_;
  sqlite_activity activity_;
  sqlite_impressions impressions_;
};

}  // namespace

std::unique_ptr<repositories> sqlite_repositories(store::database& db) {
  return std::make_unique<sqlite_store>(db);
}

}  // namespace linksim::ads
