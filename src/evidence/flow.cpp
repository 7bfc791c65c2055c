// The canonical form of a flow entry.
#include "linksim/evidence/flow.hpp"

#include "linksim/common/json.hpp"

#include <boost/json/array.hpp>
#include <boost/json/monotonic_resource.hpp>

namespace linksim::evidence {

std::string canonical_entry(const flow& f) {
  // Built on the stack: one entry per flow is on the hot path of every profile read.
  unsigned char buffer[2048];
  boost::json::monotonic_resource memory(buffer, sizeof buffer);
  boost::json::array cats(&memory);
  for (const auto& c : f.categories) cats.emplace_back(c);
  // Boost.JSON keeps insertion order, which fixes the byte form.
  boost::json::object o(&memory);
  o["time"] = unix_millis(f.time);
  o["from"] = f.from;
  o["to"] = f.to;
  o["subject"] = f.subject;
  o["categories"] = std::move(cats);
  o["purpose"] = f.purpose;
  o["channel"] = f.channel;
  o["digest"] = f.payload_digest;
  o["note"] = f.note;
  return json::serialize(o);
}

result<flow> parse_entry(std::string_view entry) {
  auto o = json::parse_object(entry);
  if (!o) return o.error();
  flow f;
  const auto* time = o->if_contains("time");
  const auto* cats = o->if_contains("categories");
  if (!time || !time->is_int64() || !cats || !cats->is_array())
    return make_error_code(errc::bad_json);
  f.time = from_unix_millis(time->as_int64());
  for (const auto& c : cats->as_array()) {
    if (!c.is_string()) return make_error_code(errc::bad_json);
    f.categories.emplace_back(c.as_string());
  }
  const std::pair<const char*, std::string*> fields[] = {
      {"from", &f.from},       {"to", &f.to},           {"subject", &f.subject},
      {"purpose", &f.purpose}, {"channel", &f.channel}, {"digest", &f.payload_digest},
      {"note", &f.note}};
  for (auto [key, out] : fields) {
    const auto* v = o->if_contains(key);
    if (!v || !v->is_string()) return make_error_code(errc::bad_json);
    *out = v->as_string();
  }
  return f;
}

bool covers(std::string_view rule, std::string_view key) {
  return rule.empty() || key == rule ||
         (key.size() > rule.size() && key.starts_with(rule) && key[rule.size()] == '.');
}

}  // namespace linksim::evidence
