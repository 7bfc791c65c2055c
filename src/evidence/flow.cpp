// The canonical form of a flow entry.
#include "linksim/evidence/flow.hpp"

#include "linksim/common/json.hpp"

#include <boost/json/array.hpp>

namespace linksim::evidence {

std::string canonical_entry(const flow& f) {
  // Written straight into text, in a fixed key order with no spaces: one entry per flow is on
  // the hot path of every request. The bytes are what serialize() gives for the same object
  // (tests/evidence compares them).
  std::string out;
  out.reserve(160 + f.from.size() + f.to.size() + f.subject.size() + f.purpose.size() +
              f.channel.size() + f.payload_digest.size() + f.note.size());
  out += "{\"time\":";
  out += std::to_string(unix_millis(f.time));
  const auto field = [&out](std::string_view key, std::string_view value) {
    out += ",\"";
    out += key;
    out += "\":";
    json::append_quoted(out, value);
  };
  field("from", f.from);
  field("to", f.to);
  field("subject", f.subject);
  out += ",\"categories\":[";
  for (std::size_t i = 0; i < f.categories.size(); ++i) {
    if (i) out += ',';
    json::append_quoted(out, f.categories[i]);
  }
  out += ']';
  field("purpose", f.purpose);
  field("channel", f.channel);
  field("digest", f.payload_digest);
  field("note", f.note);
  if (f.observed) out += ",\"observed\":true";
  out += '}';
  return out;
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
  if (const auto* v = o->if_contains("observed")) {
    if (!v->is_bool()) return make_error_code(errc::bad_json);
    f.observed = v->as_bool();
  }
  return f;
}

bool covers(std::string_view rule, std::string_view key) {
  return rule.empty() || key == rule ||
         (key.size() > rule.size() && key.starts_with(rule) && key[rule.size()] == '.');
}

}  // namespace linksim::evidence
