// HTML for the login, consent and error pages.
#include "pages.hpp"

#include "linksim/common/html.hpp"
#include "linksim/common/http.hpp"

namespace linksim::idp::pages {
namespace {

using html::escape;

std::string frame(std::string_view title, const std::string& body) {
  return "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
         "<title>" +
         escape(title) +
         " · Instagram-style identity provider (linksim)</title>"
         "<style>body{font-family:system-ui,sans-serif;max-width:26rem;margin:3rem auto;"
         "padding:0 1rem;color:#222}h1{font-size:1.4rem}label{display:block;margin:.8rem 0}"
         "input[type=text],input[type=password]{width:100%;padding:.5rem;box-sizing:border-box}"
         "button{padding:.5rem 1rem;margin-right:.5rem}.error{color:#b00020}"
         ".muted{color:#666;font-size:.9rem}ul{padding-left:1.2rem}</style></head><body>\n" +
         body + "\n</body></html>\n";
}

std::string describe_scope(std::string_view s) {
  if (s == "user_profile")
    return "Your public profile: user id, username, name, bio, profile picture and account type";
  if (s == "user_followers") return "Your followers: who follows you and how many";
  return std::string(s);
}

// Opens a form posting to `action` with the pending request's id and the CSRF token in it.
std::string open_form(std::string_view action, const pending_authorization& p,
                      std::string_view csrf) {
  return "<form method=\"post\" action=\"" + std::string(action) +
         "\"><input type=\"hidden\" name=\"request\" value=\"" + escape(p.id) +
         "\"><input type=\"hidden\" name=\"csrf\" value=\"" + escape(csrf) + "\">";
}

}  // namespace

std::string login(const pending_authorization& p, std::string_view csrf, std::string_view error,
                  std::string_view username) {
  std::string b = "<h1>Log in to continue to " + escape(p.client_name) + "</h1>\n";
  if (!error.empty()) b += "<p class=\"error\" role=\"alert\">" + escape(error) + "</p>\n";
  b += open_form("/oauth/login", p, csrf) +
       "<label>Username <input type=\"text\" name=\"username\" autocomplete=\"username\" "
       "required value=\"" +
       escape(username) +
       "\"></label>"
       "<label>Password <input type=\"password\" name=\"password\" "
       "autocomplete=\"current-password\" required></label>"
       "<button type=\"submit\">Log in</button></form>\n"
       "<p class=\"muted\">" +
       escape(p.client_name) + " will not see your password.</p>";
  return frame("Log in", b);
}

std::string consent(const pending_authorization& p, const std::vector<account>& accounts,
                    std::int64_t selected, std::string_view csrf, std::string_view error) {
  std::string b = "<h1>" + escape(p.client_name) + " wants to use your account</h1>\n";
  if (!error.empty()) b += "<p class=\"error\" role=\"alert\">" + escape(error) + "</p>\n";
  b += open_form("/oauth/consent", p, csrf) + "<fieldset><legend>Continue as</legend>";
  for (const auto& a : accounts) {
    const std::string id = std::to_string(a.id);
    b += "<label><input type=\"radio\" name=\"account_id\" value=\"" + id + "\"" +
         (a.id == selected ? " checked" : "") + "> @" + escape(a.username) +
         (a.display_name.empty() ? "" : " (" + escape(a.display_name) + ")") + "</label>";
  }
  b += "</fieldset><p>It will receive:</p><ul>";
  for (const auto& s : p.scopes) b += "<li>" + escape(describe_scope(s)) + "</li>";
  b += "</ul><p class=\"muted\">It will also be told when you change your username, name, bio "
       "or picture, or delete your account.</p>"
       "<button type=\"submit\" name=\"decision\" value=\"allow\">Allow</button>"
       "<button type=\"submit\" name=\"decision\" value=\"deny\">Cancel</button></form>\n"
       "<p><a href=\"/oauth/login?request=" +
       http::percent_encode(p.id) + "\">Log in to another account</a></p>";
  return frame("Allow access", b);
}

std::string error(std::string_view title, std::string_view message) {
  return frame(title, "<h1>" + escape(title) + "</h1>\n<p class=\"error\">" + escape(message) +
                          "</p>\n<p class=\"muted\">You were not sent back to the app, because "
                          "the request could not be trusted.</p>");
}

}  // namespace linksim::idp::pages
