// HTML for the start page, the confirmation page, profiles and settings.
#include "pages.hpp"

#include "linksim/common/html.hpp"
#include "linksim/common/http.hpp"

namespace linksim::threads_sim::pages {
namespace {

using html::escape;

std::string frame(std::string_view title, const std::string& body) {
  return "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
         "<title>" +
         escape(title) +
         " · Threads-style service (linksim)</title>"
         "<style>body{font-family:system-ui,sans-serif;max-width:34rem;margin:2rem auto;"
         "padding:0 1rem;color:#111}h1{font-size:1.4rem}label{display:block;margin:.8rem 0}"
         "input[type=text],textarea{width:100%;padding:.5rem;box-sizing:border-box}"
         "button,.button{padding:.5rem 1rem;margin:.3rem .5rem .3rem 0;display:inline-block}"
         ".primary{background:#0095f6;color:#fff;border:0;border-radius:.4rem;"
         "text-decoration:none}.error{color:#b00020}.muted{color:#666;font-size:.9rem}"
         ".post{border-top:1px solid #ddd;padding:.6rem 0}img.avatar{width:64px;height:64px;"
         "border-radius:50%;object-fit:cover}nav a{margin-right:1rem}</style></head><body>\n"
         "<nav><a href=\"/\">Home</a></nav>\n" +
         body + "\n</body></html>\n";
}

std::string open_form(std::string_view action, std::string_view csrf) {
  return "<form method=\"post\" action=\"" + escape(action) +
         "\"><input type=\"hidden\" name=\"csrf\" value=\"" + escape(csrf) + "\">";
}

std::string handle(const profile& p) {
  return p.username.empty() ? std::string("(name syncing)") : "@" + p.username;
}

std::string avatar(std::string_view url) {
  if (url.empty()) return {};
  return "<img class=\"avatar\" alt=\"profile picture\" src=\"" + escape(url) + "\">";
}

std::string post_list(const std::vector<post>& posts, std::string_view csrf, bool can_like) {
  std::string b;
  for (const auto& p : posts) {
    b += "<div class=\"post\" id=\"post-" + std::to_string(p.id) + "\"><p>" + escape(p.text) +
         "</p><p class=\"muted\">@" + escape(p.author) + " · " + std::to_string(p.likes) +
         (p.likes == 1 ? " like" : " likes");
    if (can_like)
      b += open_form("/posts/" + std::to_string(p.id) + "/like", csrf) +
           "<button type=\"submit\">Like</button></form>";
    b += "</p></div>";
  }
  if (posts.empty()) b += "<p class=\"muted\">No posts yet.</p>";
  return b;
}

}  // namespace

std::string home(const behaviour& rules, const std::optional<profile>& me,
                 const std::vector<post>& posts, std::string_view csrf) {
  if (!me) {
    std::string b =
        "<h1>Threads-style service</h1>\n"
        "<p>This service has no passwords of its own: you sign up and log in with your "
        "Instagram-style account.</p>\n"
        "<p><a class=\"button primary\" href=\"/login\">Log in with Instagram</a></p>\n"
        "<p><a href=\"/signup\">Sign up with Instagram</a> (creates a new profile)</p>\n"
        "<p class=\"muted\">Behaviour profile: " +
        escape(rules.name) + ". " + escape(rules.description) + "</p>";
    return frame("Welcome", b);
  }
  std::string b = "<h1>Signed in as <a href=\"/@" + escape(me->username) + "\">" +
                  escape(handle(*me)) + "</a></h1>\n" + open_form("/posts", csrf) +
                  "<label>New post <textarea name=\"text\" maxlength=\"500\" required>"
                  "</textarea></label><button type=\"submit\" class=\"primary\">Post</button>"
                  "</form>\n<p><a href=\"/settings\">Settings</a></p>" +
                  open_form("/logout", csrf) + "<button type=\"submit\">Log out</button></form>" +
                  "<h2>Your posts</h2>" + post_list(posts, csrf, false);
  return frame("Home", b);
}

std::string confirm(const behaviour& rules, const link_request& lr, std::string_view csrf,
                    std::string_view error) {
  const auto& ig = lr.ig;
  std::string b = "<h1>Link your Instagram account</h1>\n";
  if (!error.empty()) b += "<p class=\"error\" role=\"alert\">" + escape(error) + "</p>\n";
  // A log-in that found no profile lands here too: say why it asks to link.
  if (lr.purpose == intent::login)
    b +=
        "<p>No profile here is linked to this Instagram account yet. Linking it creates one.</p>\n";
  b += "<p>" + avatar(ig.picture_url) + " <strong>@" + escape(ig.username) + "</strong> " +
       escape(ig.name) + "</p>\n";
  if (rules.list_shared_data)
    b += "<p>Instagram will share with this service:</p><ul>"
         "<li>Your public profile information: username @" +
         escape(ig.username) +
         ", name, bio and profile picture</li>"
         "<li>Your followers: " +
         std::to_string(lr.followers_with_profiles) +
         " of your Instagram followers already have a profile here and will follow you</li></ul>\n";
  b += "<p class=\"muted\">";
  if (rules.username == field_rule::mirror)
    b += "Your username here will always be your Instagram username. ";
  if (rules.picture == field_rule::mirror) b += "Your picture follows your Instagram picture. ";
  if (rules.bio == field_rule::copy_once)
    b += "Your bio and name are copied once; after that you edit them here. ";
  b += "Nothing you do here is posted to Instagram. The only way to unlink is to delete this "
       "profile.</p>\n" +
       open_form("/link", csrf) + "<input type=\"hidden\" name=\"request\" value=\"" +
       escape(lr.id) + "\">";
  if (rules.username == field_rule::independent)
    b += "<label>Choose your handle <input type=\"text\" name=\"handle\" value=\"" +
         escape(ig.username) + "\" required></label>";
  b += "<button type=\"submit\" class=\"primary\">Link Account</button></form>\n"
       "<p><a href=\"/\">Cancel</a></p>";
  return frame("Link Account", b);
}

std::string public_profile(const profile& p, const std::vector<post>& posts,
                           const std::optional<profile>& viewer, bool viewer_follows,
                           std::string_view csrf) {
  std::string b = "<h1>" + avatar(p.picture_url) + " " + escape(handle(p)) + "</h1>\n<p><strong>" +
                  escape(p.display_name) + "</strong></p>\n<p>" + escape(p.bio) +
                  "</p>\n<p class=\"muted\"><span id=\"followers\">" + std::to_string(p.followers) +
                  "</span> followers · " + std::to_string(p.following) + " following · " +
                  std::to_string(p.posts) + " posts</p>\n";
  if (viewer && viewer->id != p.id) {
    const std::string action = "/@" + p.username + (viewer_follows ? "/unfollow" : "/follow");
    b += open_form(action, csrf) + "<button type=\"submit\">" +
         (viewer_follows ? "Unfollow" : "Follow") + "</button></form>";
  }
  b += post_list(posts, csrf, viewer.has_value());
  return frame(handle(p), b);
}

std::string settings(const behaviour& rules, const profile& p, std::string_view csrf,
                     std::string_view error, std::string_view notice) {
  std::string b = "<h1>Settings for " + escape(handle(p)) + "</h1>\n";
  if (!notice.empty()) b += "<p role=\"status\">" + escape(notice) + "</p>\n";
  if (!error.empty()) b += "<p class=\"error\" role=\"alert\">" + escape(error) + "</p>\n";
  const bool username_locked = rules.username == field_rule::mirror && !rules.username_editable;
  b += open_form("/settings", csrf) +
       "<label>Username <input type=\"text\" name=\"username\" value=\"" + escape(p.username) +
       "\"" + (username_locked ? " readonly" : "") + "></label>";
  if (username_locked)
    b += "<p class=\"muted\">Your username is your Instagram username. Change it on Instagram; "
         "it changes here within minutes.</p>";
  b += "<label>Name <input type=\"text\" name=\"name\" maxlength=\"64\" value=\"" +
       escape(p.display_name) + "\"></label><label>Bio <textarea name=\"bio\" maxlength=\"150\">" +
       escape(p.bio) + "</textarea></label>";
  if (rules.picture == field_rule::mirror)
    b += "<p class=\"muted\">Your picture is your Instagram picture.</p>";
  else
    b += "<label>Picture URL <input type=\"text\" name=\"picture_url\" value=\"" +
         escape(p.picture_url) + "\"></label>";
  b += "<button type=\"submit\" class=\"primary\">Save</button></form>\n"
       "<p class=\"muted\">Changes here never reach Instagram.</p>\n"
       "<h2>Delete profile</h2><p>Deleting this profile is the only way to unlink it from "
       "Instagram.</p><p><a href=\"/settings/delete\">Delete profile…</a></p>";
  return frame("Settings", b);
}

std::string delete_confirm(const profile& p, std::string_view csrf) {
  std::string b = "<h1>Delete " + escape(handle(p)) +
                  "?</h1>\n<p>Your posts, likes, followers and the accounts you follow here are "
                  "deleted with the profile. Your Instagram account is not affected, and it can "
                  "be linked to a new profile afterwards.</p>" +
                  open_form("/settings/delete", csrf) +
                  "<button type=\"submit\" name=\"confirm\" value=\"yes\">Delete profile"
                  "</button></form><p><a href=\"/settings\">Cancel</a></p>";
  return frame("Delete profile", b);
}

std::string message(std::string_view title, std::string_view text, std::string_view fix) {
  std::string b = "<h1>" + escape(title) + "</h1>\n<p role=\"alert\">" + escape(text) + "</p>\n";
  if (!fix.empty()) b += "<p>" + escape(fix) + "</p>\n";
  b += "<p><a href=\"/\">Back to the start</a></p>";
  return frame(title, b);
}

}  // namespace linksim::threads_sim::pages
