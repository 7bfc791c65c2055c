// What a profile does on the service: posts, likes and follows, each with its notice to the ad
// platform.
#include "linksim/threads_sim/service.hpp"

#include "internal.hpp"

#include "linksim/common/account_rules.hpp"
#include "linksim/common/crypto.hpp"
#include "linksim/common/json.hpp"
#include "linksim/store/sqlite.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <algorithm>

namespace linksim::threads_sim {

// --- Content ---

result<post> service::create_post(std::int64_t profile_id, std::string_view text,
                                  const request_context& ctx) {
  if (text.empty() || text.size() > 500) return make_error_code(error::text_invalid);
  post out;
  std::int64_t notice = 0;
  {
    std::lock_guard lock(mutex_);
    store::transaction tx(db_);
    auto p = load_profile(profile_id);
    if (!p) return p.error();
    const auto now = clock_.now();
    db_.cached("INSERT INTO posts (profile_id, text, created_at) VALUES (?, ?, ?)")
        .bind_all(profile_id, text, unix_millis(now))
        .run();
    out.id = db_.last_insert_rowid();
    out.profile_id = profile_id;
    out.author = p->username;
    out.text = std::string(text);
    out.created_at = now;
    notice = enqueue_activity_locked(profile_id, p->ig_user_id, "post", text,
                                     {"user.content.public"}, ctx);
    tx.commit();
  }
  send_notice_now(notice);
  return out;
}

namespace {
// A post is readable while its author's profile exists and is visible; under a profile that
// keeps content after deletion, posts of deleted profiles stay readable too.
constexpr std::string_view post_select =
    "SELECT po.id, po.profile_id, coalesce(pr.username, ''), po.text, po.created_at, "
    "(SELECT count(*) FROM likes WHERE post_id = po.id), pr.id IS NULL, "
    "coalesce(pr.ig_deleted, 0), coalesce(pr.ig_status, 'active') "
    "FROM posts po LEFT JOIN profiles pr ON pr.id = po.profile_id ";

struct post_row {
  post p;
  bool orphan;
  bool author_closed;
};

post_row read_post(store::statement& q) {
  post_row r;
  r.p.id = q.get_int(0);
  r.p.profile_id = q.get_int(1);
  r.p.author = q.get_text(2);
  r.p.text = q.get_text(3);
  r.p.created_at = from_unix_millis(q.get_int(4));
  r.p.likes = q.get_int(5);
  r.orphan = q.get_int(6) != 0;
  r.author_closed = q.get_int(7) != 0 || detail::hidden_status(q.get_text(8));
  return r;
}
}  // namespace

result<post> service::get_post(std::int64_t post_id) {
  std::lock_guard lock(mutex_);
  static const std::string sql = std::string(post_select) + "WHERE po.id = ?";
  auto& q = db_.cached(sql);
  q.bind(1, post_id);
  if (!q.step()) return make_error_code(errc::not_found);
  auto r = read_post(q);
  q.reset();
  if (r.author_closed) return make_error_code(errc::not_found);
  return r.p;
}

std::vector<post> service::posts_of(std::int64_t profile_id, std::size_t limit) {
  std::lock_guard lock(mutex_);
  static const std::string sql =
      std::string(post_select) + "WHERE po.profile_id = ? ORDER BY po.id DESC LIMIT ?";
  auto& q = db_.cached(sql);
  q.bind_all(profile_id, static_cast<std::int64_t>(limit));
  std::vector<post> out;
  while (q.step()) out.push_back(read_post(q).p);
  return out;
}

result<post> service::like(std::int64_t profile_id, std::int64_t post_id,
                           const request_context& ctx) {
  std::int64_t notice = 0;
  {
    std::lock_guard lock(mutex_);
    store::transaction tx(db_);
    static const std::string sql = std::string(post_select) + "WHERE po.id = ?";
    auto& q = db_.cached(sql);
    q.bind(1, post_id);
    if (!q.step()) return make_error_code(errc::not_found);
    auto r = read_post(q);
    q.reset();
    if (r.author_closed || (r.orphan && cfg_.rules.delete_content_with_profile))
      return make_error_code(errc::not_found);
    db_.cached("INSERT OR IGNORE INTO likes (profile_id, post_id, created_at) VALUES (?, ?, ?)")
        .bind_all(profile_id, post_id, unix_millis(clock_.now()))
        .run();
    if (db_.changes() == 0) return make_error_code(error::already_liked);
    auto me = load_profile(profile_id);
    if (me)
      notice = enqueue_activity_locked(profile_id, me->ig_user_id, "like", r.p.text,
                                       {"user.behavior"}, ctx);
    tx.commit();
  }
  auto liked = get_post(post_id);
  send_notice_now(notice);
  return liked;
}

result<void> service::follow(std::int64_t profile_id, std::string_view username,
                             const request_context& ctx) {
  std::int64_t notice = 0;
  {
    std::lock_guard lock(mutex_);
    store::transaction tx(db_);
    auto other = profile_by_username(username);
    if (!other) return make_error_code(error::profile_not_found);
    if (*other == profile_id) return make_error_code(errc::self_follow);
    auto p = load_profile(*other);
    if (!p || p->ig_deleted || detail::hidden_status(p->ig_status))
      return make_error_code(error::profile_not_found);
    db_.cached("INSERT OR IGNORE INTO follows (follower, followee, created_at) VALUES (?, ?, ?)")
        .bind_all(profile_id, *other, unix_millis(clock_.now()))
        .run();
    auto me = load_profile(profile_id);
    if (me)
      notice = enqueue_activity_locked(profile_id, me->ig_user_id, "follow", username,
                                       {"user.behavior"}, ctx);
    tx.commit();
  }
  send_notice_now(notice);
  return {};
}

result<void> service::unfollow(std::int64_t profile_id, std::string_view username) {
  std::lock_guard lock(mutex_);
  auto other = profile_by_username(username);
  if (!other) return make_error_code(error::profile_not_found);
  db_.cached("DELETE FROM follows WHERE follower = ? AND followee = ?")
      .bind_all(profile_id, *other)
      .run();
  return {};
}

bool service::follows(std::int64_t follower, std::int64_t followee) {
  std::lock_guard lock(mutex_);
  auto& q = db_.cached("SELECT 1 FROM follows WHERE follower = ? AND followee = ?");
  q.bind_all(follower, followee);
  const bool found = q.step();
  q.reset();
  return found;
}

std::vector<std::string> service::followers_of(std::int64_t profile_id) {
  std::lock_guard lock(mutex_);
  auto& q = db_.cached(
      "SELECT coalesce(p.username, '') FROM follows f JOIN profiles p ON p.id = f.follower "
      "WHERE f.followee = ? ORDER BY f.created_at, p.id");
  q.bind(1, profile_id);
  std::vector<std::string> out;
  while (q.step()) out.push_back(q.get_text(0));
  return out;
}

}  // namespace linksim::threads_sim
