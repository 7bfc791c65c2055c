// What the scenario and catalogue parsers share: loading YAML with the file's name on every
// error, and refusing unknown keys with the list of known ones. Internal to linksim_harness.
#pragma once

#include "linksim/harness/scenario.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <initializer_list>
#include <string>
#include <string_view>

namespace linksim::harness::detail {

class yaml_reader {
 public:
  explicit yaml_reader(std::string file, limits bounds = {})
      : file_(std::move(file)), limits_(bounds) {}

 protected:
  // Parses `text`, one YAML document, after checking it within limits_ and strict: valid
  // UTF-8, at most max_yaml_nodes nodes with aliases expanded, no key twice in a mapping, no
  // tags but YAML's own, no second document, and some content. Any problem is a
  // scenario_error at its line and column.
  YAML::Node load(const std::string& text) const;

  [[noreturn]] void fail(const YAML::Node& n, const std::string& problem) const {
    throw scenario_error(where(n), problem);
  }
  location where(const YAML::Node& n) const {
    const auto m = n.Mark();
    return {file_, m.line + 1, m.column + 1};
  }
  void check_keys(const YAML::Node& map, std::initializer_list<std::string_view> known) const {
    if (!map.IsMap()) fail(map, "expected a mapping here");
    for (const auto& kv : map) {
      const std::string k = kv.first.Scalar();
      if (std::find(known.begin(), known.end(), k) != known.end()) continue;
      std::string list;
      for (auto x : known) {
        if (!list.empty()) list += ", ";
        list += x;
      }
      fail(kv.first, "unknown key '" + k + "' (known: " + list + ")");
    }
  }

  std::string file_;
  limits limits_;
};

}  // namespace linksim::harness::detail
