// The expectations of a scenario step, checked against the services' admin APIs, their
// storage and the evidence: the HTTP answer, profiles, accounts, what is stored and flows.
#include "actions.hpp"

#include "linksim/common/json.hpp"
#include "linksim/evidence/flow.hpp"
#include "linksim/sim/world.hpp"
#include "linksim/store/sqlite.hpp"

#include <boost/json.hpp>

#include <algorithm>

namespace linksim::harness::detail {

namespace bj = boost::json;

http::response answer_of(result<http::response> res) {
  if (res) return std::move(*res);
  http::response failed;
  failed.status = 0;
  failed.body = res.error().message();
  return failed;
}

std::string body_excerpt(const std::string& body) {
  std::string s = body.substr(0, 300);
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return body.size() > 300 ? s + "..." : s;
}

std::string json_error_code(const std::string& body) {
  auto o = json::parse_object(body);
  if (!o) return {};
  const auto* e = o->if_contains("error");
  // OAuth's errors are {"error":"invalid_client"} (RFC 6749 section 5.2); the APIs' nest a code;
  // a refused SET's are {"err":"invalid_key"} (RFC 8935 section 2.3).
  if (e && e->is_string()) return std::string(e->as_string());
  if (const auto* err = o->if_contains("err"); !e && err && err->is_string())
    return std::string(err->as_string());
  if (!e || !e->is_object()) return {};
  const auto* c = e->as_object().if_contains("code");
  return c && c->is_string() ? std::string(c->as_string()) : std::string();
}

std::string str_field(const bj::object& o, std::string_view k) {
  const auto* v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

std::int64_t int_field(const bj::object& o, std::string_view k) {
  const auto* v = o.if_contains(k);
  return v && v->is_int64() ? v->as_int64() : 0;
}

namespace {

// A count against an expectation's `count`, `min` and `max`; `detail` says what was counted.
void check_count(action_context& c, const location& where, const std::string& what, int n,
                 std::optional<int> count, std::optional<int> min, std::optional<int> max,
                 const std::string& detail = {}) {
  const std::string actual = std::to_string(n) + (detail.empty() ? "" : " (" + detail + ")");
  if (count && n != *count) c.fail(where, what, "count " + std::to_string(*count), actual);
  if (min && n < *min) c.fail(where, what, "at least " + std::to_string(*min), actual);
  if (max && n > *max) c.fail(where, what, "at most " + std::to_string(*max), actual);
}

bool target_starts_with(std::string_view target, std::string_view prefix) {
  return target.starts_with(prefix) &&
         (target.size() == prefix.size() || prefix.ends_with('/') ||
          std::string_view("/?").find(target[prefix.size()]) != std::string_view::npos);
}

// Counted over what the network carried from the step's start to the action's answer.
void check_carried(action_context& c, const expect_carried& e) {
  int n = 0;
  std::string seen;
  for (const auto& m : c.carried()) {
    if (seen.size() < 400)
      seen += (seen.empty() ? "" : ", ") + m.from + "->" + m.to + " " + m.method + " " +
              m.target.substr(0, m.target.find('?')) + " (" + m.fate + ")";
    if ((e.from.empty() || m.from == e.from) && (e.to.empty() || m.to == e.to) &&
        (e.method.empty() || m.method == e.method) &&
        (e.path.empty() || target_starts_with(m.target, c.with_ids(e.path))))
      ++n;
  }
  std::string what = "messages carried before the answer";
  for (const auto& [k, v] :
       {std::pair{"from", &e.from}, {"to", &e.to}, {"method", &e.method}, {"path", &e.path}})
    if (!v->empty()) what += std::string(" ") + k + "=" + *v;
  check_count(c, e.where, what, n, e.count, e.min, e.max,
              "carried: " + (seen.empty() ? std::string("nothing") : seen));
}

}  // namespace

void check_http(action_context& c, const step& st, const http::response& r,
                const std::string& stopped_at) {
  const auto& e = st.http;
  const bool expected_anything = e.status || e.error || e.step || !e.contains.empty() ||
                                 !e.lacks.empty() || e.header || !e.lacks_header.empty() ||
                                 !e.carried.empty();
  if (!expected_anything) {
    // Without an expectation an action must succeed.
    const bool ok = st.kind == action::sign_up ? (r.status == 303 || r.status == 302)
                                               : (r.status >= 200 && r.status < 300);
    if (!ok)
      c.fail(st.where, "answer", st.kind == action::sign_up ? "303 (linked or signed in)" : "2xx",
             c.answer(r) + (stopped_at.empty() ? "" : " at " + stopped_at));
    return;
  }
  if (e.status && r.status != *e.status)
    c.fail(st.where, "status", std::to_string(*e.status),
           c.answer(r) + (stopped_at.empty() ? "" : " at " + stopped_at));
  if (e.error) {
    const std::string code = json_error_code(r.body);
    if (code != *e.error)
      c.fail(st.where, "error code", *e.error, code.empty() ? c.answer(r) : code);
  }
  if (e.step && stopped_at != *e.step)
    c.fail(st.where, "sign-up stopped at", *e.step, stopped_at.empty() ? "(none)" : stopped_at);
  // The text expected may name values known at run time ({id:ACCOUNT}, {kept:NAME}, ...).
  for (const auto& piece : e.contains) {
    const std::string text = c.with_ids(piece);
    if (r.body.find(text) == std::string::npos)
      c.fail(st.where, "body contains", text, body_excerpt(r.body));
  }
  for (const auto& piece : e.lacks) {
    const std::string text = c.with_ids(piece);
    if (const auto at = r.body.find(text); at != std::string::npos)
      c.fail(st.where, "body lacks", text, body_excerpt(r.body.substr(at > 40 ? at - 40 : 0)));
  }
  if (e.header) {
    const std::string header = c.with_ids(*e.header);
    const auto colon = header.find(':');
    const std::string name = header.substr(0, colon);
    std::string piece = header.substr(colon + 1);
    piece.erase(0, piece.find_first_not_of(' '));
    const std::string_view value = r.headers.get(name);
    if (value.find(piece) == std::string_view::npos)
      c.fail(st.where, "header " + name + " holds", piece,
             value.empty() ? "(no " + name + " header)" : std::string(value));
  }
  for (const auto& name : e.lacks_header)
    if (r.headers.has(name))
      c.fail(st.where, "no " + name + " header", "(none)",
             name + ": " + std::string(r.headers.get(name)));
  for (const auto& x : e.carried) check_carried(c, x);
}

namespace {

// "key=value" for each of `keys` in `o`, as a state read's note.
std::string values_of(const bj::object& o, std::initializer_list<const char*> keys) {
  std::string out;
  for (const char* k : keys) {
    if (!out.empty()) out += ", ";
    const auto* v = o.if_contains(k);
    out += std::string(k) + "=" + (v ? json::serialize(*v) : std::string("absent"));
  }
  return out;
}

std::optional<bj::object> idp_account(action_context& c, const std::string& account) {
  auto r = c.admin("idp", "GET", idp_path(c, account));
  auto o = json::parse_object(r.body);
  c.state_read(
      "idp", account,
      "provider account " + account + ": HTTP " + std::to_string(r.status) +
          (r.status == 200 && o ? "; " + values_of(*o, {"username", "profile_picture_sha256"})
                                : ""),
      r.body);
  if (r.status != 200) return std::nullopt;
  return o ? *o : bj::object{};
}

void check_profile(action_context& c, const expect_profile& e) {
  const std::string who = "profile of " + e.account;
  auto r =
      c.admin("threads", "GET", "/admin/profiles?ig_user_id=" + std::to_string(c.id_of(e.account)));
  auto o = json::parse_object(r.body);
  const auto* data = o ? o->if_contains("data") : nullptr;
  {
    // The read is evidence before anything is compared: a failed check cites it too.
    std::string read = who + ": HTTP " + std::to_string(r.status);
    if (data && data->is_array()) {
      read += "; " + std::to_string(data->as_array().size()) + " profiles";
      if (!data->as_array().empty() && data->as_array().back().is_object())
        read += "; newest: " + values_of(data->as_array().back().as_object(),
                                         {"username", "name", "bio", "ig_deleted", "needs_login",
                                          "posts_count", "followers_count"});
    }
    c.state_read("threads", e.account, read, r.body);
  }
  if (r.status != 200) c.fail(e.where, who, "the admin API to answer", c.answer(r));
  if (!data || !data->is_array()) c.fail(e.where, who, "a list of profiles", c.answer(r));
  const auto& list = data->as_array();
  if (e.profiles && static_cast<int>(list.size()) != *e.profiles)
    c.fail(e.where, who + ": number of profiles", std::to_string(*e.profiles),
           std::to_string(list.size()));
  const bool wants_fields = e.username || e.name || e.bio || e.mirrors || e.closed || e.posts ||
                            e.followers || e.needs_login;
  if (wants_fields && list.empty()) c.fail(e.where, who, "a profile", "none");
  const bj::object empty;
  const auto& p = list.empty() ? empty : list.back().as_object();  // the newest
  auto field = [&](const char* what, const std::optional<std::string>& want, const char* key) {
    if (want && str_field(p, key) != *want)
      c.fail(e.where, who + ": " + what, *want, str_field(p, key));
  };
  field("username", e.username, "username");
  field("name", e.name, "name");
  field("bio", e.bio, "bio");
  auto flag = [&](const char* what, const std::optional<bool>& want, const char* key) {
    const auto* d = p.if_contains(key);
    const bool is = d && d->is_bool() && d->as_bool();
    if (want && is != *want)
      c.fail(e.where, who + ": " + what, *want ? "true" : "false", is ? "true" : "false");
  };
  flag("closed", e.closed, "ig_deleted");
  flag("needs_login", e.needs_login, "needs_login");
  if (e.posts && int_field(p, "posts_count") != *e.posts)
    c.fail(e.where, who + ": posts", std::to_string(*e.posts),
           std::to_string(int_field(p, "posts_count")));
  if (e.followers && int_field(p, "followers_count") != *e.followers)
    c.fail(e.where, who + ": followers", std::to_string(*e.followers),
           std::to_string(int_field(p, "followers_count")));
  if (e.mirrors) {
    const auto ig = idp_account(c, e.account);
    if (!ig) c.fail(e.where, who + ": mirrors", "a provider account to compare with", "none");
    const bool same =
        str_field(p, "username") == str_field(*ig, "username") &&
        str_field(p, "profile_picture_sha256") == str_field(*ig, "profile_picture_sha256");
    if (same != *e.mirrors)
      c.fail(e.where, who + ": mirrors the provider",
             *e.mirrors ? "username and picture equal" : "a difference",
             "threads " + str_field(p, "username") + " / " +
                 str_field(p, "profile_picture_sha256").substr(0, 12) + ", provider " +
                 str_field(*ig, "username") + " / " +
                 str_field(*ig, "profile_picture_sha256").substr(0, 12));
  }
  if (e.public_status) {
    std::string name = e.username.value_or(str_field(p, "username"));
    if (name.empty()) name = c.current_username(e.account);
    auto pub =
        c.send(c.world().browser_transport(), "GET", origin("threads") + "/api/profiles/" + name);
    if (pub.status != *e.public_status)
      c.fail(e.where, who + ": GET /api/profiles/" + name, std::to_string(*e.public_status),
             c.answer(pub));
  }
}

void check_account(action_context& c, const expect_account& e) {
  const std::string who = "provider account " + e.account;
  auto r = c.admin("idp", "GET", idp_path(c, e.account));
  {
    const auto read = json::parse_object(r.body);
    c.state_read("idp", e.account,
                 who + ": HTTP " + std::to_string(r.status) +
                     (r.status == 200 && read
                          ? "; " + values_of(*read, {"username", "name", "biography", "status"})
                          : ""),
                 r.body);
  }
  if (r.status != 200) {
    if (e.status && (*e.status == "deleted" || *e.status == "missing") &&
        (r.status == 404 || r.status == 410))
      return;
    c.fail(e.where, who, "the admin API to answer", c.answer(r));
  }
  const auto parsed = json::parse_object(r.body);
  const bj::object o = parsed ? *parsed : bj::object{};
  auto field = [&](const char* what, const std::optional<std::string>& want, const char* key) {
    if (want && str_field(o, key) != *want)
      c.fail(e.where, who + ": " + what, *want, str_field(o, key));
  };
  field("username", e.username, "username");
  field("name", e.name, "name");
  field("bio", e.bio, "biography");
  field("status", e.status, "status");
  if (e.apps) {
    auto a = c.admin("idp", "GET", idp_path(c, e.account) + "/apps");
    const auto read = json::parse_object(a.body);
    const auto* data = read ? read->if_contains("data") : nullptr;
    const std::size_t n = data && data->is_array() ? data->as_array().size() : 0;
    c.state_read("idp", e.account,
                 who + " apps: HTTP " + std::to_string(a.status) + "; apps=" + std::to_string(n),
                 a.body);
    if (a.status != 200 || !data || !data->is_array())
      c.fail(e.where, who + ": apps", "the admin API to answer", c.answer(a));
    if (n != static_cast<std::size_t>(*e.apps))
      c.fail(e.where, who + ": apps with a standing grant", std::to_string(*e.apps),
             std::to_string(n));
  }
}

std::string sql_name(std::string_view name) {
  std::string out = "\"";
  for (const char ch : name) out += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return out + "\"";
}

// The rows of each table (or of `only`) that hold `id` in any column, as a number or within
// text (a JSON payload kept in a column), or all of its rows without an id.
std::vector<std::pair<std::string, std::int64_t>> rows_holding(store::database& db,
                                                               std::optional<std::int64_t> id,
                                                               const std::string& only) {
  // Read once: gcc 12 warns of an optional read in the loop as maybe uninitialized.
  const bool by_id = id.has_value();
  const std::int64_t wanted = id.value_or(0);
  std::vector<std::string> tables;
  auto t = db.prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
      "ORDER BY name");
  while (t.step()) tables.push_back(t.get_text(0));
  std::vector<std::pair<std::string, std::int64_t>> out;
  for (const auto& table : tables) {
    if (!only.empty() && table != only) continue;
    std::string where;
    if (by_id) {
      auto cols = db.prepare("SELECT name FROM pragma_table_info(?1)");
      cols.bind(1, table);
      while (cols.step()) {
        const auto col = sql_name(cols.get_text(0));
        where += (where.empty() ? "" : " OR ") + col + " = ?1 OR instr(CAST(" + col +
                 " AS TEXT), ?2) > 0";
      }
    }
    auto q = db.prepare("SELECT count(*) FROM " + sql_name(table) +
                        (where.empty() ? std::string() : " WHERE " + where));
    if (by_id) q.bind(1, wanted).bind(2, std::to_string(wanted));
    q.step();
    out.emplace_back(table, q.get_int(0));
  }
  return out;
}

void check_stored(action_context& c, const expect_stored& e) {
  store::database& live = database_of(c.world(), e.system);
  const auto id = e.account.empty() ? std::nullopt : std::optional(c.id_of(e.account));
  const auto copy = live.snapshot();
  const auto rows = rows_holding(*copy, id, e.table);
  std::int64_t n = 0;
  std::string values;
  for (const auto& [table, k] : rows) {
    n += k;
    if (k > 0 || !e.table.empty())
      values += (values.empty() ? "" : ", ") + table + " " + std::to_string(k);
  }
  std::string what = "stored at " + e.system;
  if (!e.account.empty()) what += " about " + e.account;
  if (!e.table.empty()) what += " in " + e.table;
  if (!e.table.empty() && rows.empty())
    c.fail(e.where, what, "a table " + e.table, "no such table");
  c.state_read(e.system, e.account,
               what + " (a read-only copy of its database): " +
                   (values.empty() ? std::string("no row") : values),
               values);
  check_count(c, e.where, what, n, e.count, e.min, e.max, values);
}

// `change.receive` names the dependent service's receipt of an account change over whichever
// channel the run uses: a webhook's change, or a Security Event Token.
constexpr std::string_view change_receipt = "change.receive";
bool is_change_receipt(std::string_view channel) {
  return channel == "webhook.receive" || channel == "ssf.receive";
}

void check_flows(action_context& c, const expect_flows& e, time_point start) {
  const std::string subject =
      e.account.empty() ? std::string() : std::to_string(c.id_of(e.account));
  int n = 0;
  const time_point since = start + e.since;
  const auto& log = c.world().evidence();
  for (std::size_t i = 0; i < log.size(); ++i) {
    const auto f = log.at(i);
    if (evidence::is_state_read(f)) continue;  // the checks' own reads
    if (f.observed != e.observed) continue;
    if (e.since.count() >= 0 && f.time < since) continue;
    if (!e.channel.empty() && f.channel != e.channel &&
        !(e.channel == change_receipt && is_change_receipt(f.channel)))
      continue;
    if (!e.from.empty() && f.from != e.from) continue;
    if (!e.to.empty() && f.to != e.to) continue;
    if (!subject.empty() && f.subject != subject) continue;
    if (!e.purpose.empty() && !evidence::covers(e.purpose, f.purpose)) continue;
    if (!e.note.empty() && f.note.find(e.note) == std::string::npos) continue;
    if (!e.category.empty() &&
        std::none_of(f.categories.begin(), f.categories.end(),
                     [&](const std::string& x) { return evidence::covers(e.category, x); }))
      continue;
    ++n;
  }
  std::string what = e.observed ? "observed flows" : "flows";
  for (const auto& [k, v] : {std::pair{"channel", e.channel},
                             {"from", e.from},
                             {"to", e.to},
                             {"account", e.account},
                             {"category", e.category},
                             {"purpose", e.purpose},
                             {"note", e.note}})
    if (!v.empty()) what += std::string(" ") + k + "=" + v;
  check_count(c, e.where, what, n, e.count, e.min, e.max);
}

}  // namespace

void check_state(action_context& c, const step& st, time_point start) {
  for (const auto& e : st.profiles) check_profile(c, e);
  for (const auto& e : st.accounts) check_account(c, e);
  for (const auto& e : st.stored) check_stored(c, e);
  for (const auto& e : st.flows) check_flows(c, e, start);
}

}  // namespace linksim::harness::detail
