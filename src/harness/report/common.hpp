// What the audit's report formats share: pretty JSON, escaping, and the text and JSON of a
// claim's status, a flow, a finding and a verdict.
#pragma once

#include "linksim/common/html.hpp"
#include "linksim/harness/report.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace linksim::harness::report_format {

namespace bj = boost::json;

// Boost.JSON 1.81 writes compact JSON; reports are read by people too.
inline void pretty(std::ostream& out, const bj::value& v, int indent) {
  const std::string pad(static_cast<std::size_t>(indent + 2), ' ');
  const std::string close(static_cast<std::size_t>(indent), ' ');
  if (v.is_object()) {
    const auto& o = v.as_object();
    if (o.empty()) {
      out << "{}";
      return;
    }
    out << "{\n";
    bool first = true;
    for (const auto& kv : o) {
      out << (first ? "" : ",\n") << pad << bj::serialize(bj::value(kv.key())) << ": ";
      pretty(out, kv.value(), indent + 2);
      first = false;
    }
    out << "\n" << close << "}";
  } else if (v.is_array()) {
    const auto& a = v.as_array();
    if (a.empty()) {
      out << "[]";
      return;
    }
    out << "[\n";
    for (std::size_t i = 0; i < a.size(); ++i) {
      out << (i ? ",\n" : "") << pad;
      pretty(out, a[i], indent + 2);
    }
    out << "\n" << close << "]";
  } else {
    out << bj::serialize(v);
  }
}

inline std::string pretty(const bj::value& v) {
  std::ostringstream out;
  pretty(out, v, 0);
  out << "\n";
  return out.str();
}

inline std::string xml_escape(std::string_view s) {
  return html::escape(s);
}

inline std::string status_of(const claim& c) {
  if (!c.out_of_scope.empty()) return "out_of_scope";
  if (!c.not_modelled.empty()) return "not_modelled";
  return "checked";
}

inline std::string flow_text(const cited_flow& f) {
  std::string cats;
  for (const auto& c : f.categories) cats += (cats.empty() ? "" : ",") + c;
  // Appended in steps: GCC 12 warns falsely (-Wrestrict) on `"#" + std::to_string(...)`.
  std::string out = "#";
  out += std::to_string(f.leaf);
  out += " " + f.at + " " + f.from + " -> " + f.to + " " + f.channel + " [" + f.subject + "] " +
         cats + " for " + f.purpose;
  if (!f.note.empty()) out += " (" + f.note + ")";
  return out;
}

inline bj::array strings(const std::vector<std::string>& v) {
  bj::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

// One undisclosed kind of flow, as the JSON report lists it and SARIF's result carries it.
inline bj::object undisclosed_json(const undisclosed_flow& u) {
  return bj::object{{"as_of", u.as_of},     {"from", u.from},
                    {"to", u.to},           {"channel", u.channel},
                    {"purpose", u.purpose}, {"categories", strings(u.categories)},
                    {"count", u.count},     {"first_scenario", u.scenario},
                    {"first_leaf", u.leaf}, {"log", u.evidence}};
}

inline bj::object wire_json(const wire_mismatch& w) {
  return bj::object{{"kind", w.kind},         {"profile", w.profile}, {"scenario", w.scenario},
                    {"from", w.from},         {"to", w.to},           {"channel", w.channel},
                    {"category", w.category}, {"count", w.count},     {"first_leaf", w.leaf},
                    {"log", w.evidence}};
}

// One line for a mismatch between what a service declared and what the network carried.
inline std::string wire_text(const wire_mismatch& w) {
  return w.kind + ": " + w.from + " -> " + w.to + " (" + w.channel + ") " + w.category +
         (w.kind == "undeclared" ? " on the wire, declared by no flow of the sender"
                                 : " declared, carried by no message") +
         "; " + std::to_string(w.count) + " time(s) under " + w.profile + " in " + w.scenario +
         ", first at leaf " + std::to_string(w.leaf);
}

inline bj::object finding_json(const finding& f) {
  bj::object o{{"scenario", f.scenario},
               {"kind", f.kind},
               {"where", f.where},
               {"what", f.what},
               {"result", to_string(f.result)}};
  if (!f.expected.empty()) o["expected"] = f.expected;
  if (!f.actual.empty()) o["actual"] = f.actual;
  if (!f.at.empty()) o["at"] = f.at;
  bj::array leaves;
  for (const auto l : f.leaves) leaves.emplace_back(l);
  o["leaves"] = std::move(leaves);
  bj::array flows;
  for (const auto& fl : f.flows) {
    bj::object x{{"leaf", fl.leaf},       {"at", fl.at},
                 {"from", fl.from},       {"to", fl.to},
                 {"subject", fl.subject}, {"channel", fl.channel},
                 {"purpose", fl.purpose}, {"categories", strings(fl.categories)}};
    if (!fl.note.empty()) x["note"] = fl.note;
    flows.push_back(std::move(x));
  }
  o["flows"] = std::move(flows);
  return o;
}

inline std::string symbol(verdict v) {
  switch (v) {
    case verdict::holds:
      return "✓";
    case verdict::violated:
      return "✗";
    case verdict::indeterminate:
      return "?";
  }
  return "?";
}

inline std::string percent_text(double p) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.0f%%", p);
  return buf;
}

// Markdown table cells: a pipe would end the cell, a newline the row.
inline std::string cell(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '|')
      out += "\\|";
    else if (c == '\n')
      out += ' ';
    else
      out += c;
  }
  return out;
}

inline std::size_t count_status(const catalogue& c, const std::string& status) {
  return static_cast<std::size_t>(std::count_if(
      c.claims.begin(), c.claims.end(), [&](const claim& x) { return status_of(x) == status; }));
}

}  // namespace linksim::harness::report_format
