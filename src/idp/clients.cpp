// Clients: registration with their redirect URIs and callbacks, lookup and authentication.
#include "internal.hpp"
#include "schema.hpp"

#include "linksim/common/json.hpp"
#include "linksim/store/sqlite.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>

namespace linksim::idp {

result<client> service::register_client(const client_registration& r) {
  if (r.redirect_uris.empty()) return make_error_code(errc::missing_field);
  for (const auto& uri : r.redirect_uris) {
    auto u = boost::urls::parse_absolute_uri(uri);
    if (!u || (u->scheme() != "http" && u->scheme() != "https") || u->has_fragment())
      return make_error_code(errc::callback_url_invalid);
  }
  for (const auto* url : {&r.deauthorize_url, &r.data_deletion_url}) {
    if (!url->empty() && !boost::urls::parse_absolute_uri(*url))
      return make_error_code(errc::callback_url_invalid);
  }
  client c;
  // Numeric ids like Meta's app ids.
  c.id = std::to_string(1000000000000000 + random_.uniform(9000000000000000));
  c.secret = to_hex(std::span<const std::uint8_t>(sha256(random_.token(32))).subspan(0, 16));
  std::vector<std::uint8_t> key(32);
  random_.fill(key);
  c.webhook_secret = "whsec_" + base64_encode(key);
  c.name = r.name.empty() ? "App " + c.id : r.name;
  c.system = r.system.empty() ? "client-" + c.id : r.system;
  c.redirect_uris = r.redirect_uris;
  c.deauthorize_url = r.deauthorize_url;
  c.data_deletion_url = r.data_deletion_url;
  boost::json::array uris;
  for (const auto& u : c.redirect_uris) uris.emplace_back(u);
  std::lock_guard lock(mutex_);
  db_.prepare(
         "INSERT INTO clients (id, secret, name, system, redirect_uris, webhook_secret, "
         "deauthorize_url, data_deletion_url) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
      .bind_all(c.id, c.secret, c.name, c.system, json::serialize(uris), c.webhook_secret,
                c.deauthorize_url, c.data_deletion_url)
      .run();
  return c;
}

result<client> service::get_client(std::string_view id) {
  std::lock_guard lock(mutex_);
  auto c = client_locked(id);
  if (!c) return c.error();
  return **c;
}

result<const client*> service::client_locked(std::string_view id) {
  // Clients never change once registered, so each is read from the database once.
  if (auto it = clients_.find(id); it != clients_.end()) return &it->second;
  auto& q = db_.cached(
      "SELECT id, secret, name, system, redirect_uris, webhook_secret, deauthorize_url, "
      "data_deletion_url FROM clients WHERE id = ?");
  q.bind(1, id);
  if (!q.step()) return make_error_code(error::unknown_client);
  client c{q.get_text(0), q.get_text(1), q.get_text(2), q.get_text(3), {},
           q.get_text(5), q.get_text(6), q.get_text(7)};
  auto uris = json::parse_object(R"({"u":)" + q.get_text(4) + "}");
  q.reset();
  if (uris) {
    for (const auto& u : uris->at("u").as_array()) c.redirect_uris.emplace_back(u.as_string());
  }
  // Elements of an unordered_map keep their address: the pointer stays valid.
  return &clients_.emplace(c.id, std::move(c)).first->second;
}

result<client> service::authenticate_client(std::string_view id, std::string_view secret) {
  auto c = get_client(id);
  if (!c || !constant_time_equal(c->secret, secret)) return make_error_code(error::invalid_client);
  return c;
}

}  // namespace linksim::idp
