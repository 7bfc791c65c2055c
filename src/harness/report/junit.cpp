// junit.xml: a test case per claim and profile, for CI systems.
#include "common.hpp"

namespace linksim::harness {
using namespace report_format;

std::string junit_report(const report_context& c) {
  const auto& r = c.result;
  std::ostringstream out;
  std::size_t tests = 0, failures = 0, skipped = 0;
  std::ostringstream suites;
  for (const auto& profile : r.profiles) {
    std::size_t t = 0, f = 0, s = 0;
    std::ostringstream cases;
    for (const auto& cl : c.claims.claims) {
      ++t;
      cases << "    <testcase classname=\"linksim.audit." << xml_escape(profile) << "\" name=\""
            << xml_escape(cl.id) << "\" time=\"0\">\n";
      const auto* v = r.find(cl.id, profile);
      if (!cl.checked() || !v) {
        ++s;
        cases << "      <skipped message=\""
              << xml_escape(!cl.out_of_scope.empty() ? "out of scope: " + cl.out_of_scope
                                                     : "not modelled: " + cl.not_modelled)
              << "\"/>\n";
      } else if (!v->matches()) {
        ++f;
        cases << "      <failure message=\""
              << xml_escape("expected " + std::string(to_string(v->expected)) + ", got " +
                            std::string(to_string(v->result)))
              << "\">" << xml_escape(cl.quote + "\n" + v->reason) << "</failure>\n";
      } else {
        cases << "      <system-out>"
              << xml_escape(std::string(to_string(v->result)) + " (as expected): " + v->reason)
              << "</system-out>\n";
      }
      cases << "    </testcase>\n";
    }
    tests += t;
    failures += f;
    skipped += s;
    suites << "  <testsuite name=\"linksim audit: " << xml_escape(profile) << "\" tests=\"" << t
           << "\" failures=\"" << f << "\" errors=\"0\" skipped=\"" << s << "\" time=\"0\">\n"
           << "    <properties>\n"
           << "      <property name=\"evidence.verifier_key\" value=\""
           << xml_escape(c.verifier_key) << "\"/>\n"
           << "      <property name=\"evidence.verifier_key_fingerprint\" value=\""
           << xml_escape(c.key_fingerprint) << "\"/>\n"
           << "    </properties>\n"
           << cases.str() << "  </testsuite>\n";
  }
  // Undisclosed flows and declared/observed mismatches: a test case each, failed under
  // --strict and passed with the finding as output otherwise.
  if (!r.undisclosed.empty() || !r.wire.empty() || !r.vacuous.empty()) {
    std::size_t t = 0, f = 0;
    std::ostringstream cases;
    const auto add = [&](const std::string& name, const std::string& text, bool fails) {
      ++t;
      cases << "    <testcase classname=\"linksim.audit.flows\" name=\"" << xml_escape(name)
            << "\" time=\"0\">\n";
      if (fails) {
        ++f;
        cases << "      <failure message=\"" << xml_escape(text) << "\"/>\n";
      } else {
        cases << "      <system-out>" << xml_escape(text) << "</system-out>\n";
      }
      cases << "    </testcase>\n";
    };
    for (const auto& u : r.undisclosed) {
      std::string categories;
      for (const auto& k : u.categories) categories += (categories.empty() ? "" : ", ") + k;
      add("undisclosed as of " + u.as_of + ": " + u.from + " -> " + u.to + " " + u.channel,
          u.purpose + ", " + categories + "; " + std::to_string(u.count) + " time(s), first in " +
              u.scenario,
          r.strict);
    }
    for (const auto& w : r.wire)
      add(w.kind + ": " + w.from + " -> " + w.to + " " + w.channel + " " + w.category + " (" +
              w.profile + ", " + w.scenario + ")",
          wire_text(w), r.strict);
    for (const auto& v : r.vacuous)
      add("vacuous rule of " + v.claim + " at " + v.where, v.what + ": " + v.why, true);
    tests += t;
    failures += f;
    suites << "  <testsuite name=\"linksim audit: flows\" tests=\"" << t << "\" failures=\"" << f
           << "\" errors=\"0\" skipped=\"0\" time=\"0\">\n"
           << cases.str() << "  </testsuite>\n";
  }
  char time[32];
  std::snprintf(time, sizeof time, "%.3f", r.wall_ms / 1000.0);
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      << "<testsuites name=\"linksim audit\" tests=\"" << tests << "\" failures=\"" << failures
      << "\" errors=\"0\" skipped=\"" << skipped << "\" time=\"" << time << "\">\n"
      << suites.str() << "</testsuites>\n";
  return out.str();
}

}  // namespace linksim::harness
