// report.sarif: SARIF 2.1.0, a result per finding, for code-scanning tools.
#include "common.hpp"

namespace linksim::harness {
using namespace report_format;

std::string sarif_report(const report_context& c) {
  const auto& r = c.result;
  bj::array rules;
  std::map<std::string, std::size_t> rule_index;
  for (const auto& cl : c.claims.claims) {
    if (!cl.checked()) continue;
    rule_index[cl.id] = rules.size();
    rules.push_back(bj::object{
        {"id", cl.id},
        {"shortDescription", bj::object{{"text", cl.meaning}}},
        {"fullDescription", bj::object{{"text", cl.quote}}},
        {"helpUri", "docs/claims.md#" + cl.id},
        {"properties", bj::object{{"seed", cl.seed}, {"seedUri", c.seeds_path + "/" + cl.seed}}}});
  }
  auto physical = [](const std::string& where) {
    // "file:line:column" -> artifact and region
    std::string file = where;
    int line = 1;
    const auto a = where.rfind(':');
    const auto b = a == std::string::npos ? a : where.rfind(':', a - 1);
    if (b != std::string::npos) {
      file = where.substr(0, b);
      line = std::max(1, std::atoi(where.substr(b + 1, a - b - 1).c_str()));
    }
    return bj::object{{"artifactLocation", bj::object{{"uri", file}}},
                      {"region", bj::object{{"startLine", line}}}};
  };
  bj::array results;
  for (const auto& v : r.verdicts) {
    const auto* cl = c.claims.find(v.claim);
    if (!cl || !cl->checked()) continue;
    const char* kind = v.result == verdict::holds      ? "pass"
                       : v.result == verdict::violated ? "fail"
                                                       : "open";
    // A violation the profile is expected to give (the side of a contradiction it rejects) is a
    // note; an unexpected one an error.
    const char* level = v.result != verdict::violated ? "none" : (v.matches() ? "note" : "error");
    bj::array locations;
    for (const auto& f : v.findings) {
      for (const auto& fl : f.flows)
        locations.push_back(
            bj::object{{"location", bj::object{{"physicalLocation", physical(f.where)},
                                               {"message", bj::object{{"text", flow_text(fl)}}}}},
                       {"properties", bj::object{{"leaf", fl.leaf}, {"scenario", f.scenario}}}});
    }
    bj::object res{
        {"ruleId", v.claim},
        {"ruleIndex", rule_index.at(v.claim)},
        {"kind", kind},
        {"level", level},
        {"message",
         bj::object{{"text", std::string("[") + v.profile + "] " +
                                 std::string(to_string(v.result)) + " (expected " +
                                 std::string(to_string(v.expected)) + "): " + v.reason}}},
        {"locations", bj::array{bj::object{{"physicalLocation", physical(cl->where.str())}}}},
        {"properties", bj::object{{"profile", v.profile}, {"matchesExpected", v.matches()}}}};
    bj::object logs;
    for (const auto& [scenario, log] : v.evidence)
      logs[scenario] = bj::object{{"log", log.file}, {"size", log.size}, {"root", log.root}};
    res["properties"].as_object()["evidence"] = std::move(logs);
    // The evidence travels with violations; a pass or an open result names its logs only.
    if (!locations.empty() && v.result == verdict::violated)
      res["codeFlows"] = bj::array{
          bj::object{{"threadFlows", bj::array{bj::object{{"locations", std::move(locations)}}}}}};
    results.push_back(std::move(res));
  }
  // A kind of flow that no claim in force discloses does not fail the audit, but it is a finding
  // for whoever reads the policy: a warning, located at the sealed log it was first seen in.
  if (!r.undisclosed.empty()) {
    const std::size_t index = rules.size();
    rules.push_back(bj::object{
        {"id", "undisclosed-flow"},
        {"shortDescription",
         bj::object{{"text", "a kind of flow that no claim in force discloses"}}},
        {"fullDescription",
         bj::object{{"text",
                     "Recorded under the documented profile in the scenario library, and "
                     "disclosed by no claim in force on the date."}}},
        {"helpUri", "docs/claims.md#undisclosed-flows"}});
    for (const auto& u : r.undisclosed) {
      std::string categories;
      for (const auto& k : u.categories) categories += (categories.empty() ? "" : ", ") + k;
      results.push_back(bj::object{
          {"ruleId", "undisclosed-flow"},
          {"ruleIndex", index},
          {"kind", "fail"},
          {"level", "warning"},
          {"message",
           bj::object{{"text", "as of " + u.as_of + ": " + u.from + " -> " + u.to + " (" +
                                   u.channel + "), purpose " + u.purpose + ", " + categories +
                                   "; recorded " + std::to_string(u.count) + " times, first in " +
                                   u.scenario + " at leaf " + std::to_string(u.leaf)}}},
          {"locations", bj::array{bj::object{
                            {"physicalLocation",
                             bj::object{{"artifactLocation", bj::object{{"uri", u.evidence}}}}}}}},
          {"properties", undisclosed_json(u)}});
    }
  }
  // What a service declared against what the network carried: a warning, an error under
  // --strict, located at the run's sealed log.
  if (!r.wire.empty()) {
    const std::size_t index = rules.size();
    rules.push_back(bj::object{
        {"id", "declared-observed-mismatch"},
        {"shortDescription",
         bj::object{{"text",
                     "personal data on the wire that the sender did not declare, or a "
                     "declared flow nothing carried"}}},
        {"fullDescription", bj::object{{"text",
                                        "Observed flows are read off the network by the transport; "
                                        "declared flows are the services' own reports."}}},
        {"helpUri", "docs/claims.md#declared-against-observed"}});
    for (const auto& w : r.wire)
      results.push_back(bj::object{
          {"ruleId", "declared-observed-mismatch"},
          {"ruleIndex", index},
          {"kind", "fail"},
          {"level", r.strict ? "error" : "warning"},
          {"message", bj::object{{"text", wire_text(w)}}},
          {"locations", bj::array{bj::object{
                            {"physicalLocation",
                             bj::object{{"artifactLocation", bj::object{{"uri", w.evidence}}}}}}}},
          {"properties", wire_json(w)}});
  }
  bj::object root{
      {"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
      {"version", "2.1.0"},
      {"runs",
       bj::array{bj::object{
           {"tool", bj::object{{"driver", bj::object{{"name", "linksim"},
                                                     {"informationUri", "docs/claims.md"},
                                                     {"rules", std::move(rules)}}}}},
           {"results", std::move(results)},
           {"properties", bj::object{{"evidenceVerifierKey", c.verifier_key},
                                     {"evidenceVerifierKeyFingerprint", c.key_fingerprint}}}}}}};
  return pretty(root);
}

}  // namespace linksim::harness
