// The dependent service's browser pages: sign-up and login through the provider, Link Account,
// profiles, posts, follows and settings, with a CSRF double-submit cookie on every form.
#include "common.hpp"

namespace linksim::threads_sim::web {
namespace {

class page_routes {
 public:
  explicit page_routes(service& s) : s_(s) {}

  // --- Browser state ---

  std::string csrf_token(const request& req) {
    std::string t = req.cookie("threads_csrf");
    return t.empty() ? s_.random().token(16) : t;
  }
  // A page with forms carrying `csrf`; sets the cookie when the browser does not have it yet.
  response with_csrf(const request& req, const std::string& csrf, response r) {
    if (req.cookie("threads_csrf") != csrf)
      r.headers.add("Set-Cookie", "threads_csrf=" + csrf + "; Path=/; HttpOnly; SameSite=Strict");
    return r;
  }
  result<http::params> form_of(const request& req) {
    if (!req.headers.get("Content-Type").starts_with("application/x-www-form-urlencoded"))
      return make_error_code(errc::unsupported_media_type);
    auto f = http::parse_form(req.body);
    if (!f) return f.error();
    const std::string cookie = req.cookie("threads_csrf");
    if (cookie.empty() || !constant_time_equal(cookie, param(*f, "csrf")))
      return make_error_code(errc::csrf_mismatch);
    return f;
  }
  std::optional<profile> viewer(const request& req) {
    auto p = s_.session_profile(req.cookie("threads_session"));
    return p ? std::optional<profile>(*p) : std::nullopt;
  }
  static std::string session_cookie(const std::string& session) {
    return "threads_session=" + session + "; Path=/; HttpOnly; SameSite=Lax";
  }

  // --- Pages ---

  response home(const request& req) {
    const auto me = viewer(req);
    const std::string csrf = csrf_token(req);
    std::vector<post> posts;
    if (me) posts = s_.posts_of(me->id);
    return with_csrf(req, csrf, html(200, pages::home(s_.settings().rules, me, posts, csrf)));
  }

  response begin(intent purpose) {
    auto start = s_.begin_login(purpose);
    response r = redirect(302, start.authorize_url);
    r.headers.add("Set-Cookie", "threads_login=" + start.browser_key +
                                    "; Path=/; HttpOnly; SameSite=Lax; Max-Age=" +
                                    std::to_string(s_.settings().login_ttl.count() / 1000));
    return r;
  }

  response callback(const request& req) {
    auto q = http::parse_form(req.query());
    if (!q) return error_page(q.error());
    auto out = s_.complete_login(req.cookie("threads_login"), *q);
    if (!out) return error_page(out.error());
    if (out->signed_in) {
      response r = redirect(303, out->signed_in->username.empty()
                                     ? std::string("/")
                                     : "/@" + http::percent_encode(out->signed_in->username));
      r.headers.add("Set-Cookie", session_cookie(out->session));
      return r;
    }
    const std::string csrf = csrf_token(req);
    return with_csrf(req, csrf,
                     html(200, pages::confirm(s_.settings().rules, *out->confirm, csrf, "")));
  }

  response link(const request& req) {
    auto f = form_of(req);
    if (!f) return error_page(f.error());
    const std::string key = req.cookie("threads_login");
    auto made = s_.confirm_link(param(*f, "request"), key, param(*f, "handle"));
    if (!made) {
      if (is(made.error(), errc::username_invalid) || is(made.error(), errc::username_taken)) {
        // The chosen handle: ask again on the same page.
        if (auto lr = s_.get_link_request(param(*f, "request"), key))
          return html(
              describe(made.error()).status,
              pages::confirm(s_.settings().rules, *lr, param(*f, "csrf"), made.error().message()));
      }
      return error_page(made.error());
    }
    // Seed 003: after the import, the user may edit the bio or picture, or skip.
    response r = redirect(303, "/settings?welcome=1");
    r.headers.add("Set-Cookie", session_cookie(made->second));
    r.headers.add("Set-Cookie", "threads_login=; Path=/; Max-Age=0");
    return r;
  }

  response logout(const request& req) {
    auto f = form_of(req);
    if (!f) return error_page(f.error());
    s_.end_session(req.cookie("threads_session"));
    response r = redirect(303, "/");
    r.headers.add("Set-Cookie", "threads_session=; Path=/; Max-Age=0");
    return r;
  }

  response settings_page(const request& req) {
    auto me = s_.session_profile(req.cookie("threads_session"));
    if (!me) return error_page(me.error());
    auto q = http::parse_form(req.query());
    const bool welcome = q && http::find_param(*q, "welcome");
    const std::string csrf = csrf_token(req);
    return with_csrf(
        req, csrf,
        html(200, pages::settings(s_.settings().rules, *me, csrf, "",
                                  welcome ? "Your profile is linked. Edit your bio or picture "
                                            "now, or skip and finish later."
                                          : "")));
  }

  response settings_post(const request& req) {
    auto me = s_.session_profile(req.cookie("threads_session"));
    if (!me) return error_page(me.error());
    auto f = form_of(req);
    if (!f) return error_page(f.error());
    profile_edit e;
    if (const auto* v = http::find_param(*f, "username")) e.username = *v;
    if (const auto* v = http::find_param(*f, "name")) e.display_name = *v;
    if (const auto* v = http::find_param(*f, "bio")) e.bio = *v;
    if (const auto* v = http::find_param(*f, "picture_url")) e.picture_url = *v;
    auto done = s_.edit_profile(me->id, e);
    if (!done)
      return html(describe(done.error()).status,
                  pages::settings(s_.settings().rules, *me, param(*f, "csrf"),
                                  done.error().message() + ". " + fix_for(done.error()), ""));
    return html(200, pages::settings(s_.settings().rules, *done, param(*f, "csrf"), "", "Saved."));
  }

  response delete_page(const request& req) {
    auto me = s_.session_profile(req.cookie("threads_session"));
    if (!me) return error_page(me.error());
    const std::string csrf = csrf_token(req);
    return with_csrf(req, csrf, html(200, pages::delete_confirm(*me, csrf)));
  }

  response delete_post(const request& req) {
    auto me = s_.session_profile(req.cookie("threads_session"));
    if (!me) return error_page(me.error());
    auto f = form_of(req);
    if (!f) return error_page(f.error());
    if (param(*f, "confirm") != "yes") return redirect(303, "/settings");
    if (auto d = s_.delete_profile(me->id); !d) return error_page(d.error());
    response r = html(200, pages::message("Profile deleted",
                                          "Your profile, posts, likes and follows are deleted.",
                                          "Your Instagram account can now be linked to a new "
                                          "profile."));
    r.headers.add("Set-Cookie", "threads_session=; Path=/; Max-Age=0");
    return r;
  }

  response new_post(const request& req) {
    auto me = s_.session_profile(req.cookie("threads_session"));
    if (!me) return error_page(me.error());
    auto f = form_of(req);
    if (!f) return error_page(f.error());
    auto p = s_.create_post(me->id, param(*f, "text"),
                            context_of(s_, req, me->id, req.cookie("threads_session")));
    if (!p) return error_page(p.error());
    return redirect(303, "/");
  }

  response like_post(const request& req, std::string_view id_text) {
    auto me = s_.session_profile(req.cookie("threads_session"));
    if (!me) return error_page(me.error());
    auto f = form_of(req);
    if (!f) return error_page(f.error());
    const auto id = http::parse_id(id_text);
    if (!id) return error_page(make_error_code(errc::not_found));
    auto p = s_.like(me->id, *id, context_of(s_, req, me->id, req.cookie("threads_session")));
    if (!p && !is(p.error(), error::already_liked)) return error_page(p.error());
    auto post = s_.get_post(*id);
    return redirect(303, post ? "/@" + http::percent_encode(post->author) : std::string("/"));
  }

  response profile_page(const request& req, const std::string& username) {
    auto p = s_.public_profile(username);
    if (!p) return error_page(p.error());
    const auto me = viewer(req);
    const bool follows = me && s_.follows(me->id, p->id);
    const std::string csrf = csrf_token(req);
    return with_csrf(req, csrf,
                     html(200, pages::public_profile(*p, s_.posts_of(p->id), me, follows, csrf)));
  }

  response follow_post(const request& req, const std::string& username, bool on) {
    auto me = s_.session_profile(req.cookie("threads_session"));
    if (!me) return error_page(me.error());
    auto f = form_of(req);
    if (!f) return error_page(f.error());
    auto done =
        on ? s_.follow(me->id, username, context_of(s_, req, me->id, req.cookie("threads_session")))
           : s_.unfollow(me->id, username);
    if (!done) return error_page(done.error());
    return redirect(303, "/@" + http::percent_encode(username));
  }

  service& s_;
};

}  // namespace

void add_page_routes(http::router& r, service& s) {
  auto self = std::make_shared<page_routes>(s);
  auto on = [&](std::string_view method, std::string_view pattern,
                response (page_routes::*f)(const request&)) {
    r.on(method, pattern,
         [self, f](const request& req, const route_match&) { return ((*self).*f)(req); });
  };
  on("GET", "/", &page_routes::home);
  r.on("GET", "/signup",
       [self](const request&, const route_match&) { return self->begin(intent::signup); });
  r.on("GET", "/login",
       [self](const request&, const route_match&) { return self->begin(intent::login); });
  on("GET", "/callback", &page_routes::callback);
  on("POST", "/link", &page_routes::link);
  on("POST", "/logout", &page_routes::logout);
  on("GET", "/settings", &page_routes::settings_page);
  on("POST", "/settings", &page_routes::settings_post);
  on("GET", "/settings/delete", &page_routes::delete_page);
  on("POST", "/settings/delete", &page_routes::delete_post);
  on("POST", "/posts", &page_routes::new_post);
  r.on("POST", "/posts/{id}/like",
       [self](const request& req, const route_match& m) { return self->like_post(req, m["id"]); });
  r.on("GET", "/@{username}", [self](const request& req, const route_match& m) {
    return self->profile_page(req, std::string(m["username"]));
  });
  r.on("POST", "/@{username}/follow", [self](const request& req, const route_match& m) {
    return self->follow_post(req, std::string(m["username"]), true);
  });
  r.on("POST", "/@{username}/unfollow", [self](const request& req, const route_match& m) {
    return self->follow_post(req, std::string(m["username"]), false);
  });
}

}  // namespace linksim::threads_sim::web
