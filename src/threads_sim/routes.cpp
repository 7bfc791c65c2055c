// The dependent service's HTTP routes: each parses its input, calls the service and formats the
// answer, as an HTML page for browsers or JSON for the API.
#include "linksim/threads_sim/routes.hpp"

#include "pages.hpp"

#include "linksim/common/crypto.hpp"
#include "linksim/common/html.hpp"
#include "linksim/common/json.hpp"
#include "linksim/store/sqlite.hpp"
#include "linksim/threads_sim/service.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <charconv>

namespace linksim::threads_sim {
namespace bj = boost::json;
using http::request;
using http::response;

error_info describe(const boost::system::error_code& ec) {
  if (ec.category() != error_category()) return {500, "internal_error"};
  switch (static_cast<errc>(ec.value())) {
    case errc::bad_json:
    case errc::bad_form:
    case errc::missing_field:
    case errc::bad_field:
      return {400, "invalid_request"};
    case errc::text_invalid:
      return {400, "text_invalid"};
    case errc::username_invalid:
      return {400, "username_invalid"};
    case errc::self_follow:
      return {400, "self_follow"};
    case errc::login_state_invalid:
      return {400, "login_state_invalid"};
    case errc::issuer_mismatch:
      return {400, "issuer_mismatch"};
    case errc::link_request_unknown:
      return {400, "link_request_unknown"};
    case errc::not_signed_in:
      return {401, "not_signed_in"};
    case errc::signature_invalid:
    case errc::signed_request_invalid:
      return {401, "signature_invalid"};
    case errc::admin_unauthorized:
      return {401, "unauthorized"};
    case errc::reauthorization_required:
      return {401, "reauthorization_required"};
    case errc::username_read_only:
      return {403, "username_read_only"};
    case errc::picture_read_only:
      return {403, "picture_read_only"};
    case errc::verify_token_mismatch:
      return {403, "verify_token_mismatch"};
    case errc::csrf_mismatch:
      return {403, "csrf_mismatch"};
    case errc::access_denied:
      return {403, "access_denied"};
    case errc::account_inactive:
      return {403, "account_inactive"};
    case errc::profile_unavailable:
      return {403, "profile_unavailable"};
    case errc::not_found:
    case errc::profile_not_found:
      return {404, "not_found"};
    case errc::method_not_allowed:
      return {405, "method_not_allowed"};
    case errc::already_linked:
      return {409, "already_linked"};
    case errc::username_taken:
      return {409, "username_taken"};
    case errc::already_liked:
      return {409, "already_liked"};
    case errc::delivery_not_replayable:
      return {409, "notice_not_replayable"};
    case errc::profile_deleted_upstream:
      return {410, "profile_deleted_upstream"};
    case errc::unsupported_media_type:
      return {415, "unsupported_media_type"};
    case errc::upstream_bad_response:
      return {502, "upstream_bad_response"};
    case errc::upstream_unavailable:
      return {503, "upstream_unavailable"};
    default:
      return {400, "invalid_request"};
  }
}

namespace {

constexpr std::string_view already_linked_fix =
    "To link it to a new profile, log in to the existing profile and delete it: Settings > "
    "Delete profile. After deletion, you can link the Instagram account to a new profile.";

std::string fix_for(const boost::system::error_code& ec) {
  if (is(ec, errc::already_linked)) return std::string(already_linked_fix);
  if (is(ec, errc::username_read_only))
    return "Change your username on Instagram; it changes here within minutes.";
  if (is(ec, errc::picture_read_only)) return "Change your picture on Instagram.";
  if (is(ec, errc::login_state_invalid) || is(ec, errc::link_request_unknown))
    return "Start again with \"Log in with Instagram\".";
  if (is(ec, errc::account_inactive))
    return "Instagram accounts that are restricted, suspended or banned cannot sign up.";
  return {};
}

response json_error(const boost::system::error_code& ec) {
  const auto info = describe(ec);
  bj::object err{{"code", info.code}, {"message", ec.message()}};
  if (auto fix = fix_for(ec); !fix.empty()) err["fix"] = fix;
  return json::response(info.status, bj::object{{"error", std::move(err)}});
}

response html(int status, std::string body) {
  // Profile pictures come from the provider, on another origin.
  return html::page(status, std::move(body), {.img_src = "http: https:"});
}

response error_page(const boost::system::error_code& ec) {
  const auto info = describe(ec);
  std::string title = "Something went wrong";
  if (is(ec, errc::already_linked)) title = "Already linked";
  if (is(ec, errc::access_denied)) title = "Not linked";
  if (is(ec, errc::profile_deleted_upstream)) title = "Profile unavailable";
  if (is(ec, errc::profile_unavailable)) title = "Profile unavailable";
  if (is(ec, errc::profile_not_found) || is(ec, errc::not_found)) title = "Not found";
  return html(info.status, pages::message(title, ec.message(), fix_for(ec)));
}

using http::redirect;

std::string param(const http::params& p, std::string_view name) {
  const auto* v = http::find_param(p, name);
  return v ? *v : std::string();
}

bj::object public_json(const profile& p) {
  return {{"id", p.id},
          {"ig_user_id", std::to_string(p.ig_user_id)},
          {"username", p.username},
          {"name", p.display_name},
          {"bio", p.bio},
          {"profile_picture_url", p.picture_url},
          {"profile_picture_sha256", p.picture_sha256},
          {"followers_count", p.followers},
          {"following_count", p.following},
          {"posts_count", p.posts}};
}

bj::object admin_json(const profile& p) {
  auto o = public_json(p);
  o["ig_status"] = p.ig_status;
  o["ig_deleted"] = p.ig_deleted;
  o["needs_login"] = p.needs_login;
  o["username_version"] = p.username_version;
  o["picture_version"] = p.picture_version;
  o["status_version"] = p.status_version;
  o["created_at"] = unix_millis(p.created_at);
  o["last_synced_at"] = unix_millis(p.last_synced_at);
  return o;
}

bj::object post_json(const post& p) {
  return {{"id", p.id},         {"profile_id", p.profile_id},
          {"author", p.author}, {"text", p.text},
          {"likes", p.likes},   {"created_at", unix_millis(p.created_at)}};
}

class router {
 public:
  router(service& s, route_options o) : s_(s), o_(std::move(o)) {}

  response operator()(const request& req) {
    try {
      return route(req);
    } catch (const store::error& e) {
      if (o_.log) o_.log(std::string("threads: storage: ") + e.what());
      // Its own disk, not the provider: the same answer as the provider's and the ad platform's.
      return json::storage_unavailable();
    }
  }

 private:
  response route(const request& req) {
    const auto path = req.path();
    const auto& m = req.method;
    const auto seg = http::path_segments(path);
    if (path == "/") return m == "GET" ? home(req) : not_allowed("GET");
    if (path == "/healthz") return json::response(200, bj::object{{"status", "ok"}});
    if (path == "/login" || path == "/signup")
      return m == "GET" ? begin(path == "/signup" ? intent::signup : intent::login)
                        : not_allowed("GET");
    if (path == "/callback") return m == "GET" ? callback(req) : not_allowed("GET");
    if (path == "/link") return m == "POST" ? link(req) : not_allowed("POST");
    if (path == "/logout") return m == "POST" ? logout(req) : not_allowed("POST");
    if (path == "/settings") {
      if (m == "GET") return settings_page(req);
      if (m == "POST") return settings_post(req);
      return not_allowed("GET, POST");
    }
    if (path == "/settings/delete") {
      if (m == "GET") return delete_page(req);
      if (m == "POST") return delete_post(req);
      return not_allowed("GET, POST");
    }
    if (path == "/posts") return m == "POST" ? new_post(req) : not_allowed("POST");
    if (seg.size() == 3 && seg[0] == "posts" && seg[2] == "like")
      return m == "POST" ? like_post(req, seg[1]) : not_allowed("POST");
    if (!seg.empty() && seg[0].starts_with("@")) {
      const std::string username(seg[0].substr(1));
      if (seg.size() == 1) return m == "GET" ? profile_page(req, username) : not_allowed("GET");
      if (seg.size() == 2 && (seg[1] == "follow" || seg[1] == "unfollow"))
        return m == "POST" ? follow_post(req, username, seg[1] == "follow") : not_allowed("POST");
    }
    if (path == "/webhooks/instagram") {
      if (m == "GET") return handshake(req);
      if (m == "POST") return webhook(req);
      return not_allowed("GET, POST");
    }
    if (path == "/ig/deauthorize") return m == "POST" ? deauthorize(req) : not_allowed("POST");
    if (path == "/ig/data-deletion") return m == "POST" ? data_deletion(req) : not_allowed("POST");
    if (path == "/ig/deletion-status")
      return m == "GET" ? deletion_status(req) : not_allowed("GET");
    if (!seg.empty() && seg[0] == "api") return api(req, seg);
    if (!seg.empty() && seg[0] == "admin") return admin(req, seg);
    return error_page(make_error_code(errc::not_found));
  }

  response not_allowed(std::string allow) {
    response r = json_error(make_error_code(errc::method_not_allowed));
    r.headers.set("Allow", std::move(allow));
    return r;
  }

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

  // What the request says beyond its body (see request_context). A GPC signal counts on any
  // signed-in request and is noted before the request is served.
  request_context context_of(const request& req, std::int64_t profile_id,
                             std::string_view session) {
    if (req.headers.get("Sec-GPC") == "1") s_.note_gpc(profile_id);
    return {to_hex(sha256(session)).substr(0, 16)};
  }

  response new_post(const request& req) {
    auto me = s_.session_profile(req.cookie("threads_session"));
    if (!me) return error_page(me.error());
    auto f = form_of(req);
    if (!f) return error_page(f.error());
    auto p = s_.create_post(me->id, param(*f, "text"),
                            context_of(req, me->id, req.cookie("threads_session")));
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
    auto p = s_.like(me->id, *id, context_of(req, me->id, req.cookie("threads_session")));
    if (!p && !is(p.error(), errc::already_liked)) return error_page(p.error());
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
        on ? s_.follow(me->id, username, context_of(req, me->id, req.cookie("threads_session")))
           : s_.unfollow(me->id, username);
    if (!done) return error_page(done.error());
    return redirect(303, "/@" + http::percent_encode(username));
  }

  // --- Webhooks and Meta's callbacks ---

  response handshake(const request& req) {
    auto q = http::parse_form(req.query());
    if (!q) return json_error(q.error());
    auto c = s_.handshake(*q);
    if (!c) return json_error(c.error());
    response r;
    r.headers.set("Content-Type", "text/plain");
    r.body = *c;
    return r;
  }

  response webhook(const request& req) {
    auto out = s_.receive_webhook(req.body, req.headers.get("X-Hub-Signature-256"));
    if (!out) return json_error(out.error());
    json::scratch memory;
    return json::response(200, bj::object{{{"applied", out->applied},
                                           {"duplicates", out->duplicates},
                                           {"stale", out->stale},
                                           {"ignored", out->ignored}},
                                          memory.storage()});
  }

  result<std::string> signed_request_of(const request& req) {
    auto f = http::parse_form(req.body);
    if (!f) return f.error();
    const auto* v = http::find_param(*f, "signed_request");
    if (!v) return make_error_code(errc::missing_field);
    return *v;
  }

  response deauthorize(const request& req) {
    auto sr = signed_request_of(req);
    if (!sr) return json_error(sr.error());
    if (auto d = s_.deauthorize(*sr); !d) return json_error(d.error());
    return json::response(200, bj::object{{"status", "ok"}});
  }

  response data_deletion(const request& req) {
    auto sr = signed_request_of(req);
    if (!sr) return json_error(sr.error());
    auto code = s_.data_deletion(*sr);
    if (!code) return json_error(code.error());
    // Meta's documented answer: where to check the status, and the confirmation code.
    return json::response(
        200, bj::object{{"url", s_.settings().base_url + "/ig/deletion-status?code=" + *code},
                        {"confirmation_code", *code}});
  }

  response deletion_status(const request& req) {
    auto q = http::parse_form(req.query());
    if (!q) return json_error(q.error());
    auto n = s_.deletion_status(param(*q, "code"));
    if (!n) return json_error(n.error());
    return json::response(200, bj::object{{"status", "complete"}, {"profiles_deleted", *n}});
  }

  // --- JSON API: Authorization: Bearer <session> ---

  response api(const request& req, const std::vector<std::string_view>& seg) {
    const auto& m = req.method;
    if (seg.size() >= 3 && seg[1] == "profiles") {
      auto p = s_.public_profile(seg[2]);
      if (!p) return json_error(p.error());
      if (seg.size() == 3)
        return m == "GET" ? json::response(200, public_json(*p)) : not_allowed("GET");
      if (seg.size() == 4 && seg[3] == "posts") {
        if (m != "GET") return not_allowed("GET");
        bj::array a;
        for (const auto& x : s_.posts_of(p->id)) a.push_back(post_json(x));
        return json::response(200, bj::object{{"data", std::move(a)}});
      }
      if (seg.size() == 4 && seg[3] == "followers") {
        if (m != "GET") return not_allowed("GET");
        bj::array a;
        for (const auto& u : s_.followers_of(p->id)) a.emplace_back(u);
        return json::response(200, bj::object{{"data", std::move(a)}});
      }
    }
    if (seg.size() == 3 && seg[1] == "posts" && m == "GET") {
      const auto id = http::parse_id(seg[2]);
      auto p = id ? s_.get_post(*id) : result<post>(make_error_code(errc::not_found));
      if (!p) return json_error(p.error());
      return json::response(200, post_json(*p));
    }
    // Everything else acts as a signed-in profile.
    const auto auth = req.headers.get("Authorization");
    const std::string_view session = auth.starts_with("Bearer ") ? auth.substr(7) : "";
    auto me = s_.session_profile(session);
    if (!me) return json_error(me.error());
    // The browser's opt-out signal counts on any signed-in request; the device identifier is
    // the session's (one per browser).
    const request_context ctx = context_of(req, me->id, session);
    if (seg.size() == 2 && seg[1] == "feed") {
      if (m != "GET") return not_allowed("GET");
      auto f = s_.feed(me->id);
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
    if (seg.size() == 2 && seg[1] == "assistant") {
      if (m != "POST") return not_allowed("POST");
      auto o = json::parse_object(req.body);
      if (!o) return json_error(o.error());
      auto msg = json::get_string(*o, "message");
      if (!msg) return json_error(msg.error());
      auto answer = s_.ask_assistant(me->id, msg->value_or(""));
      if (!answer) return json_error(answer.error());
      return json::response(200,
                            bj::object{{"answer", *answer},
                                       {"notice",
                                        "Conversations with the assistant are kept to improve AI "
                                        "at the company."}});
    }
    result<bj::object> body = make_error_code(errc::not_found);
    if (seg.size() == 2 && seg[1] == "me") {
      if (m == "GET") return json::response(200, public_json(*me));
      if (m == "DELETE") {
        if (auto d = s_.delete_profile(me->id); !d) return json_error(d.error());
        return json::response(200, bj::object{{"deleted", true}});
      }
      if (m != "PATCH") return not_allowed("GET, PATCH, DELETE");
      auto o = json::parse_object(req.body);
      if (!o) return json_error(o.error());
      profile_edit e;
      for (const auto& [key, field] : {std::pair{"username", &e.username},
                                       {"name", &e.display_name},
                                       {"bio", &e.bio},
                                       {"profile_picture_url", &e.picture_url}}) {
        auto v = json::get_string(*o, key);
        if (!v) return json_error(v.error());
        *field = *v;
      }
      auto done = s_.edit_profile(me->id, e);
      if (!done) return json_error(done.error());
      return json::response(200, public_json(*done));
    }
    if (seg.size() == 2 && seg[1] == "posts") {
      if (m != "POST") return not_allowed("POST");
      auto o = json::parse_object(req.body);
      if (!o) return json_error(o.error());
      auto text = json::get_string(*o, "text");
      if (!text) return json_error(text.error());
      auto p = s_.create_post(me->id, text->value_or(""), ctx);
      if (!p) return json_error(p.error());
      return json::response(201, post_json(*p));
    }
    if (seg.size() == 4 && seg[1] == "posts" && seg[3] == "like") {
      if (m != "POST") return not_allowed("POST");
      const auto id = http::parse_id(seg[2]);
      auto p = id ? s_.like(me->id, *id, ctx) : result<post>(make_error_code(errc::not_found));
      if (!p) return json_error(p.error());
      return json::response(200, post_json(*p));
    }
    if (seg.size() == 2 && seg[1] == "follows" && m == "POST") {
      auto o = json::parse_object(req.body);
      if (!o) return json_error(o.error());
      auto u = json::get_string(*o, "username");
      if (!u) return json_error(u.error());
      if (!*u) return json_error(make_error_code(errc::missing_field));
      if (auto d = s_.follow(me->id, **u, ctx); !d) return json_error(d.error());
      return json::response(200, bj::object{{"following", **u}});
    }
    if (seg.size() == 3 && seg[1] == "follows" && m == "DELETE") {
      if (auto d = s_.unfollow(me->id, seg[2]); !d) return json_error(d.error());
      return json::response(200, bj::object{{"unfollowed", std::string(seg[2])}});
    }
    return json_error(make_error_code(errc::not_found));
  }

  // --- Admin API: inspection for scenarios and tests ---

  response admin(const request& req, const std::vector<std::string_view>& seg) {
    const auto auth = req.headers.get("Authorization");
    if (o_.admin_token.empty() || !auth.starts_with("Bearer ") ||
        !constant_time_equal(auth.substr(7), o_.admin_token)) {
      response r = json_error(make_error_code(errc::admin_unauthorized));
      r.headers.set("WWW-Authenticate", "Bearer realm=\"linksim-admin\"");
      return r;
    }
    const auto& m = req.method;
    if (seg.size() == 2 && seg[1] == "profiles") {
      if (m != "GET") return not_allowed("GET");
      auto q = http::parse_form(req.query());
      if (!q) return json_error(q.error());
      const auto ig = http::parse_id(param(*q, "ig_user_id"));
      if (!ig) return json_error(make_error_code(errc::missing_field));
      bj::array a;
      for (const auto& p : s_.profiles_of_account(*ig)) a.push_back(admin_json(p));
      return json::response(200, bj::object{{"data", std::move(a)}});
    }
    if (seg.size() >= 3 && seg[1] == "profiles") {
      const auto id = http::parse_id(seg[2]);
      if (!id) return json_error(make_error_code(errc::profile_not_found));
      if (seg.size() == 3) {
        if (m != "GET") return not_allowed("GET");
        auto p = s_.get_profile(*id);
        if (!p) return json_error(p.error());
        return json::response(200, admin_json(*p));
      }
      if (seg.size() == 4 && seg[3] == "reconcile") {
        if (m != "POST") return not_allowed("POST");
        auto p = s_.reconcile(*id);
        if (!p) return json_error(p.error());
        return json::response(200, admin_json(*p));
      }
    }
    if (seg.size() == 2 && seg[1] == "reconcile") {
      if (m != "POST") return not_allowed("POST");
      return json::response(200, bj::object{{"polled", s_.reconcile_due()}});
    }
    if (seg.size() == 2 && seg[1] == "ads-notices") return ads_notices(req);
    if (seg.size() == 4 && seg[1] == "ads-notices" && seg[3] == "replay") {
      if (m != "POST") return not_allowed("POST");
      const auto id = http::parse_id(seg[2]);
      if (!id) return json_error(make_error_code(errc::not_found));
      if (auto r = s_.replay_ads_notice(*id); !r) return json_error(r.error());
      return json::response(200, bj::object{{"replayed", std::to_string(*id)}});
    }
    return json_error(make_error_code(errc::not_found));
  }

  // The outbox of notices to the ad platform: ?state=pending|dead, or all.
  response ads_notices(const request& req) {
    if (req.method != "GET") return not_allowed("GET");
    auto q = http::parse_form(req.query());
    if (!q) return json_error(q.error());
    std::optional<std::string_view> state;
    if (const auto* s = http::find_param(*q, "state")) {
      if (*s != "pending" && *s != "dead") return json_error(make_error_code(errc::bad_field));
      state = *s;
    }
    bj::array a;
    for (const auto& n : s_.ads_notices(state)) {
      a.push_back(bj::object{{"id", std::to_string(n.id)},
                             {"kind", n.kind},
                             {"profile_id", std::to_string(n.profile_id)},
                             {"ig_user_id", std::to_string(n.subject)},
                             {"state", n.state},
                             {"attempts", n.attempts},
                             {"next_attempt_at", unix_seconds(n.next_attempt_at)},
                             {"last_status", n.last_status},
                             {"last_response", n.last_response}});
    }
    return json::response(200, bj::object{{"notices", std::move(a)}});
  }

  service& s_;
  route_options o_;
};

}  // namespace

http::handler make_handler(service& s, route_options options) {
  return router(s, std::move(options));
}

}  // namespace linksim::threads_sim
