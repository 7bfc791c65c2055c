// What a profile does on the service: posts, likes and follows, each with its notice to the ad
// platform.
#include "linksim/threads_sim/service.hpp"

#include "domain.hpp"

#include "linksim/threads_sim/repositories.hpp"

namespace linksim::threads_sim {

// --- Content ---

result<post> domain::content::create_post(std::int64_t profile_id, std::string_view text,
                                          const request_context& ctx) {
  if (text.empty() || text.size() > 500) return make_error_code(error::text_invalid);
  post out;
  std::int64_t notice = 0;
  {
    std::lock_guard lock(ctx_.mutex);
    auto work = ctx_.repos.begin();
    auto p = ctx_.load_profile(profile_id);
    if (!p) return p.error();
    const auto now = ctx_.time.now();
    out.id = ctx_.repos.content().add_post(profile_id, text, now);
    out.profile_id = profile_id;
    out.author = p->username;
    out.text = std::string(text);
    out.created_at = now;
    notice = ads_.enqueue_activity_locked(profile_id, p->ig_user_id, "post", text, ctx);
    work->commit();
  }
  ads_.send_notice_now(notice);
  return out;
}

namespace {
// A post is readable while its author's profile exists and is visible; under a profile that
// keeps content after deletion, posts of deleted profiles stay readable too.
bool author_closed(const content_repository::post_row& r) {
  return r.author_deleted || detail::hidden_status(r.author_status);
}
}  // namespace

result<post> domain::content::get_post(std::int64_t post_id) {
  std::lock_guard lock(ctx_.mutex);
  auto r = ctx_.repos.content().find_post(post_id);
  if (!r || author_closed(*r)) return make_error_code(errc::not_found);
  return std::move(r->p);
}

std::vector<post> domain::content::posts_of(std::int64_t profile_id, std::size_t limit) {
  std::lock_guard lock(ctx_.mutex);
  return ctx_.repos.content().posts_of(profile_id, limit);
}

result<post> domain::content::like(std::int64_t profile_id, std::int64_t post_id,
                                   const request_context& ctx) {
  std::int64_t notice = 0;
  {
    std::lock_guard lock(ctx_.mutex);
    auto work = ctx_.repos.begin();
    const auto r = ctx_.repos.content().find_post(post_id);
    if (!r) return make_error_code(errc::not_found);
    if (author_closed(*r) || (r->orphan && ctx_.cfg.rules.delete_content_with_profile))
      return make_error_code(errc::not_found);
    if (!ctx_.repos.content().add_like(profile_id, post_id, ctx_.time.now()))
      return make_error_code(error::already_liked);
    auto me = ctx_.load_profile(profile_id);
    if (me)
      notice = ads_.enqueue_activity_locked(profile_id, me->ig_user_id, "like", r->p.text, ctx);
    work->commit();
  }
  auto liked = get_post(post_id);
  ads_.send_notice_now(notice);
  return liked;
}

result<void> domain::content::follow(std::int64_t profile_id, std::string_view username,
                                     const request_context& ctx) {
  std::int64_t notice = 0;
  {
    std::lock_guard lock(ctx_.mutex);
    auto work = ctx_.repos.begin();
    auto other = ctx_.profile_by_username(username);
    if (!other) return make_error_code(error::profile_not_found);
    if (*other == profile_id) return make_error_code(errc::self_follow);
    auto p = ctx_.load_profile(*other);
    if (!p || p->ig_deleted || detail::hidden_status(p->ig_status))
      return make_error_code(error::profile_not_found);
    ctx_.repos.content().add_follow(profile_id, *other, ctx_.time.now());
    auto me = ctx_.load_profile(profile_id);
    if (me)
      notice = ads_.enqueue_activity_locked(profile_id, me->ig_user_id, "follow", username, ctx);
    work->commit();
  }
  ads_.send_notice_now(notice);
  return {};
}

result<void> domain::content::unfollow(std::int64_t profile_id, std::string_view username) {
  std::lock_guard lock(ctx_.mutex);
  auto other = ctx_.profile_by_username(username);
  if (!other) return make_error_code(error::profile_not_found);
  ctx_.repos.content().remove_follow(profile_id, *other);
  return {};
}

bool domain::content::follows(std::int64_t follower, std::int64_t followee) {
  std::lock_guard lock(ctx_.mutex);
  return ctx_.repos.content().follows(follower, followee);
}

std::vector<std::string> domain::content::followers_of(std::int64_t profile_id) {
  std::lock_guard lock(ctx_.mutex);
  return ctx_.repos.content().follower_names(profile_id);
}

}  // namespace linksim::threads_sim
