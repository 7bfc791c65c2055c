// The scripted browser: cookies, and the sign-up flow page by page.
#include "linksim/sim/browser.hpp"

namespace linksim::sim {

http::response browser::send(const std::string& method, const std::string& url,
                             const http::params& form) {
  http::request r;
  r.method = method;
  r.target = url;
  if (method == "POST") {
    r.headers.set("Content-Type", "application/x-www-form-urlencoded");
    r.body = http::form_encode(form);
  }
  std::string c;
  for (const auto& [k, v] : cookies_) {
    if (!c.empty()) c += "; ";
    c += k;
    c += '=';
    c += v;
  }
  if (!c.empty()) r.headers.set("Cookie", c);
  auto res = transport_.send(std::move(r));
  if (!res) {
    http::response failed;
    failed.status = 0;
    failed.body = res.error().message();
    return failed;
  }
  for (const auto& f : res->headers.fields) {
    if (f.name != "Set-Cookie") continue;
    const auto eq = f.value.find('=');
    if (eq == std::string::npos) continue;
    const auto semi = f.value.find(';');
    cookies_[f.value.substr(0, eq)] = f.value.substr(eq + 1, semi - eq - 1);
  }
  return *res;
}

std::string browser::cookie(const std::string& name) const {
  const auto it = cookies_.find(name);
  return it == cookies_.end() ? std::string() : it->second;
}

std::string browser::absolute(const std::string& origin, std::string_view location) const {
  return location.starts_with("http") ? std::string(location) : origin + std::string(location);
}

browser::sign_up_result browser::sign_up(const std::string& username, const std::string& password,
                                         std::int64_t account_id, const std::string& entry) {
  sign_up_result out;
  auto step = [&](const std::string& url) {
    const auto start = url.find('/', url.find("://") + 3);
    const auto end = url.find('?', start);
    out.step = start == std::string::npos ? "/" : url.substr(start, end - start);
  };
  auto fail = [&](const http::response& r) {
    out.status = r.status;
    out.error = r.body;
    return out;
  };
  std::string url = threads_ + entry;
  step(url);
  auto r = send("GET", url);
  if (r.status != 302) return fail(r);
  url = std::string(r.headers.get("Location"));
  step(url);
  r = send("GET", url);
  if (r.status != 302) return fail(r);
  std::string next = absolute(idp_, r.headers.get("Location"));
  const std::string request = http::query_param(next, "request");
  if (!logged_in_.contains(username) || next.find("/oauth/login") != std::string::npos) {
    // Log in to this account too: the provider keeps every account of the browser's session.
    next = idp_ + "/oauth/login?request=" + http::percent_encode(request);
    step(next);
    r = send("GET", next);  // the login page sets the CSRF cookie
    if (r.status != 200) return fail(r);
    url = idp_ + "/oauth/login";
    step(url);
    r = send("POST", url,
             {{"request", request},
              {"csrf", cookie("idp_csrf")},
              {"username", username},
              {"password", password}});
    if (r.status != 303) return fail(r);
    logged_in_.insert(username);
    next = absolute(idp_, r.headers.get("Location"));
    if (account_id == 0)
      account_id = http::parse_id(http::query_param(next, "account")).value_or(0);
  } else {
    next = idp_ + "/oauth/consent?request=" + http::percent_encode(request) +
           "&account=" + std::to_string(account_id);
  }
  step(next);
  r = send("GET", next);  // the consent page sets the CSRF cookie
  if (r.status != 200) return fail(r);
  url = idp_ + "/oauth/consent";
  step(url);
  r = send("POST", url,
           {{"request", request},
            {"csrf", cookie("idp_csrf")},
            {"account_id", std::to_string(account_id)},
            {"decision", "allow"}});
  if (r.status != 302) return fail(r);
  url = std::string(r.headers.get("Location"));
  step(url);
  r = send("GET", url);  // the callback: the Link Account page, or signed in already
  if ((r.status == 302 || r.status == 303) && !cookie("threads_session").empty()) {
    out.status = r.status;
    out.session = cookie("threads_session");
    return out;
  }
  if (r.status != 200) return fail(r);
  const std::string marker = "name=\"request\" value=\"";
  const auto at = r.body.find(marker);
  if (at == std::string::npos) return fail(r);
  const auto from = at + marker.size();
  const std::string link = r.body.substr(from, r.body.find('"', from) - from);
  out.link_page = r.body;
  url = threads_ + "/link";
  step(url);
  r = send("POST", url, {{"csrf", cookie("threads_csrf")}, {"request", link}});
  out.status = r.status;
  if (r.status != 303) out.error = r.body;
  out.session = cookie("threads_session");
  return out;
}

}  // namespace linksim::sim
