// The dependent service's JSON API: public profiles and posts, and what a signed-in profile does
// (Authorization: Bearer <session>): its feed, the assistant, its own profile, posts, likes and
// follows.
#include "common.hpp"

namespace linksim::threads_sim::web {
namespace {

class api_routes {
 public:
  explicit api_routes(service& s) : s_(s) {}

  response profile(std::string_view username) {
    auto p = s_.public_profile(username);
    if (!p) return json_error(p.error());
    return json::response(200, public_json(*p));
  }

  response profile_posts(std::string_view username) {
    auto p = s_.public_profile(username);
    if (!p) return json_error(p.error());
    bj::array a;
    for (const auto& x : s_.posts_of(p->id)) a.push_back(post_json(x));
    return json::response(200, bj::object{{"data", std::move(a)}});
  }

  response profile_followers(std::string_view username) {
    auto p = s_.public_profile(username);
    if (!p) return json_error(p.error());
    bj::array a;
    for (const auto& u : s_.followers_of(p->id)) a.emplace_back(u);
    return json::response(200, bj::object{{"data", std::move(a)}});
  }

  response get_post(std::string_view id_text) {
    const auto id = http::parse_id(id_text);
    auto p = id ? s_.get_post(*id) : result<post>(make_error_code(errc::not_found));
    if (!p) return json_error(p.error());
    return json::response(200, post_json(*p));
  }

  // The signed-in profile of the request and the request's context.
  struct caller {
    threads_sim::profile me;
    request_context ctx;
  };
  result<caller> signed_in(const request& req) {
    const auto auth = req.headers.get("Authorization");
    const std::string_view session = auth.starts_with("Bearer ") ? auth.substr(7) : "";
    auto me = s_.session_profile(session);
    if (!me) return me.error();
    // The browser's opt-out signal counts on any signed-in request; the device identifier is
    // the session's (one per browser).
    request_context ctx = context_of(s_, req, me->id, session);
    return caller{*me, std::move(ctx)};
  }

  // Without a linked profile's session the feed is refused (seed 003: no use of the service
  // without the link), unless the behaviour serves it anyway (fault.open_feed).
  response feed_of(const request& req) {
    auto c = signed_in(req);
    if (c) return feed(*c);
    if (s_.settings().rules.require_link || !is(c.error(), error::not_signed_in))
      return json_error(c.error());
    return json::response(200, bj::object{{"data", bj::array{}}});
  }

  response feed(const caller& c) {
    auto f = s_.feed(c.me.id);
    if (!f) return json_error(f.error());
    bj::array a;
    for (const auto& x : f->posts) a.push_back(post_json(x));
    bj::object o{{"data", std::move(a)}};
    if (f->sponsored)
      o["sponsored"] = bj::object{{"campaign", f->sponsored->campaign},
                                  {"advertiser", f->sponsored->advertiser},
                                  {"text", f->sponsored->text},
                                  {"label", "Sponsored"},
                                  {"personalized", f->sponsored->personalized}};
    return json::response(200, o);
  }

  response assistant(const request& req, const caller& c) {
    auto o = json::parse_object(req.body);
    if (!o) return json_error(o.error());
    if (auto unknown = json::unknown_field(*o, {"message"}))
      return json_error(make_error_code(errc::bad_field), *unknown);
    auto msg = json::get_string(*o, "message");
    if (!msg) return json_error(msg.error());
    auto answer = s_.ask_assistant(c.me.id, msg->value_or(""));
    if (!answer) return json_error(answer.error());
    return json::response(
        200,
        bj::object{
            {"answer", *answer},
            {"notice", "Conversations with the assistant are kept to improve AI at the company."}});
  }

  response delete_me(const caller& c) {
    if (auto d = s_.delete_profile(c.me.id); !d) return json_error(d.error());
    return json::response(200, bj::object{{"deleted", true}});
  }

  response edit_me(const request& req, const caller& c) {
    auto o = json::parse_object(req.body);
    if (!o) return json_error(o.error());
    if (auto unknown = json::unknown_field(*o, {"username", "name", "bio", "profile_picture_url"}))
      return json_error(make_error_code(errc::bad_field), *unknown);
    profile_edit e;
    for (const auto& [key, field] : {std::pair{"username", &e.username},
                                     {"name", &e.display_name},
                                     {"bio", &e.bio},
                                     {"profile_picture_url", &e.picture_url}}) {
      auto v = json::get_string(*o, key);
      if (!v) return json_error(v.error());
      *field = *v;
    }
    auto done = s_.edit_profile(c.me.id, e);
    if (!done) return json_error(done.error());
    return json::response(200, public_json(*done));
  }

  response new_post(const request& req, const caller& c) {
    auto o = json::parse_object(req.body);
    if (!o) return json_error(o.error());
    if (auto unknown = json::unknown_field(*o, {"text"}))
      return json_error(make_error_code(errc::bad_field), *unknown);
    auto text = json::get_string(*o, "text");
    if (!text) return json_error(text.error());
    auto p = s_.create_post(c.me.id, text->value_or(""), c.ctx);
    if (!p) return json_error(p.error());
    return json::response(201, post_json(*p));
  }

  response like(std::string_view id_text, const caller& c) {
    const auto id = http::parse_id(id_text);
    auto p = id ? s_.like(c.me.id, *id, c.ctx) : result<post>(make_error_code(errc::not_found));
    if (!p) return json_error(p.error());
    return json::response(200, post_json(*p));
  }

  response follow(const request& req, const caller& c) {
    auto o = json::parse_object(req.body);
    if (!o) return json_error(o.error());
    if (auto unknown = json::unknown_field(*o, {"username"}))
      return json_error(make_error_code(errc::bad_field), *unknown);
    auto u = json::get_string(*o, "username");
    if (!u) return json_error(u.error());
    if (!*u) return json_error(make_error_code(errc::missing_field));
    if (auto d = s_.follow(c.me.id, **u, c.ctx); !d) return json_error(d.error());
    return json::response(200, bj::object{{"following", **u}});
  }

  response unfollow(std::string_view username, const caller& c) {
    if (auto d = s_.unfollow(c.me.id, username); !d) return json_error(d.error());
    return json::response(200, bj::object{{"unfollowed", std::string(username)}});
  }

 private:
  service& s_;
};

}  // namespace

void add_api_routes(http::router& r, service& s) {
  auto self = std::make_shared<api_routes>(s);
  using api = api_routes;
  auto open = [&](std::string_view method, std::string_view pattern, auto f) {
    r.on(method, pattern,
         [self, f](const request& req, const route_match& m) { return f(*self, req, m); });
  };
  // Everything else acts as a signed-in profile.
  auto signed_in = [&](std::string_view method, std::string_view pattern, auto f) {
    r.on(method, pattern, [self, f](const request& req, const route_match& m) {
      auto c = self->signed_in(req);
      if (!c) return json_error(c.error());
      return f(*self, req, m, *c);
    });
  };
  open("GET", "/api/profiles/{username}",
       [](api& a, auto&, auto& m) { return a.profile(m["username"]); });
  open("GET", "/api/profiles/{username}/posts",
       [](api& a, auto&, auto& m) { return a.profile_posts(m["username"]); });
  open("GET", "/api/profiles/{username}/followers",
       [](api& a, auto&, auto& m) { return a.profile_followers(m["username"]); });
  open("GET", "/api/posts/{id}", [](api& a, auto&, auto& m) { return a.get_post(m["id"]); });
  open("GET", "/api/feed", [](api& a, auto& req, auto&) { return a.feed_of(req); });
  signed_in("POST", "/api/assistant",
            [](api& a, auto& req, auto&, auto& c) { return a.assistant(req, c); });
  signed_in("GET", "/api/me",
            [](api&, auto&, auto&, auto& c) { return json::response(200, public_json(c.me)); });
  signed_in("PATCH", "/api/me",
            [](api& a, auto& req, auto&, auto& c) { return a.edit_me(req, c); });
  signed_in("DELETE", "/api/me", [](api& a, auto&, auto&, auto& c) { return a.delete_me(c); });
  signed_in("POST", "/api/posts",
            [](api& a, auto& req, auto&, auto& c) { return a.new_post(req, c); });
  signed_in("POST", "/api/posts/{id}/like",
            [](api& a, auto&, auto& m, auto& c) { return a.like(m["id"], c); });
  signed_in("POST", "/api/follows",
            [](api& a, auto& req, auto&, auto& c) { return a.follow(req, c); });
  signed_in("DELETE", "/api/follows/{username}",
            [](api& a, auto&, auto& m, auto& c) { return a.unfollow(m["username"], c); });
}

}  // namespace linksim::threads_sim::web
