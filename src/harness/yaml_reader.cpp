// Loading a scenario or catalogue file: a bounded, strict pass over its YAML events first, so that
// no hostile file (an alias bomb, a huge file, a duplicated key) reaches the node tree.
#include "yaml_reader.hpp"

#include "linksim/common/text.hpp"

#include <yaml-cpp/eventhandler.h>

#include <cstdint>
#include <map>
#include <set>
#include <sstream>
#include <vector>

namespace linksim::harness::detail {
namespace {

// The 1-based line and column of byte `at`.
std::pair<int, int> line_and_column(std::string_view s, std::size_t at) {
  int line = 1, column = 1;
  for (std::size_t i = 0; i < at; ++i) {
    if (s[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return {line, column};
}

bool is_core_tag(const std::string& tag) {
  // "?" is a plain scalar's non-specific tag, "!" a quoted one's; "!!str" and the like arrive
  // expanded to YAML's own namespace.
  static const std::set<std::string, std::less<>> core = {"",
                                                          "?",
                                                          "!",
                                                          "tag:yaml.org,2002:str",
                                                          "tag:yaml.org,2002:int",
                                                          "tag:yaml.org,2002:float",
                                                          "tag:yaml.org,2002:bool",
                                                          "tag:yaml.org,2002:null",
                                                          "tag:yaml.org,2002:map",
                                                          "tag:yaml.org,2002:seq"};
  return core.contains(tag);
}

// Walks the events of the file's documents, counting nodes as the node tree would hold them
// once aliases are expanded, and refusing what linksim's files must not contain.
class strict_scan final : public YAML::EventHandler {
 public:
  strict_scan(const std::string& file, std::size_t max_nodes)
      : file_(file), max_nodes_(max_nodes) {}

  int documents = 0;
  bool has_content = false;

  void OnDocumentStart(const YAML::Mark& mark) override {
    if (++documents > 1)
      fail(mark, "a second YAML document: a file holds one (remove the '---' and what follows)");
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    node(mark, "", anchor, 1, nullptr);
    finish(anchor, 1);
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    const auto it = sizes_.find(anchor);
    node(mark, "", 0, it == sizes_.end() ? 1 : it->second, nullptr);
  }
  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    node(mark, tag, anchor, 1, &value);
    finish(anchor, 1);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    node(mark, tag, anchor, 1, nullptr);
    open_.push_back({false, anchor, nodes_ - 1, {}, true});
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    node(mark, tag, anchor, 1, nullptr);
    open_.push_back({true, anchor, nodes_ - 1, {}, true});
  }
  void OnMapEnd() override { close(); }

 private:
  struct collection {
    bool is_map;
    YAML::anchor_t anchor;
    std::uint64_t first_node;  // the node count when it began
    std::set<std::string> keys;
    bool next_is_key;
  };

  [[noreturn]] void fail(const YAML::Mark& m, const std::string& problem) const {
    throw scenario_error({file_, m.line + 1, m.column + 1}, problem);
  }

  // One node in the tree: `weight` nodes once expanded (an alias repeats its anchor's).
  void node(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t, std::uint64_t weight,
            const std::string* scalar) {
    if (!is_core_tag(tag))
      fail(mark, "unknown tag '" + tag + "': linksim's files use no tags but YAML's own");
    has_content = true;
    nodes_ += weight;
    if (nodes_ > max_nodes_) {
      std::ostringstream msg;
      msg << "the document holds more than " << max_nodes_
          << " nodes once its aliases are expanded (raise the limit with --max-yaml-nodes)";
      fail(mark, msg.str());
    }
    if (open_.empty() || !open_.back().is_map) return;
    auto& map = open_.back();
    const bool is_key = map.next_is_key;
    map.next_is_key = !map.next_is_key;
    if (is_key && scalar && !map.keys.insert(*scalar).second)
      fail(mark, "key '" + *scalar + "' appears twice in this mapping");
  }
  void finish(YAML::anchor_t anchor, std::uint64_t size) {
    if (anchor) sizes_[anchor] = size;
  }
  void close() {
    const collection c = std::move(open_.back());
    open_.pop_back();
    finish(c.anchor, nodes_ - c.first_node);
  }

  const std::string& file_;
  std::uint64_t max_nodes_;
  std::uint64_t nodes_ = 0;
  std::vector<collection> open_;
  std::map<YAML::anchor_t, std::uint64_t> sizes_;  // nodes each anchor stands for
};

}  // namespace

YAML::Node yaml_reader::load(const std::string& text) const {
  if (text.size() > limits_.max_file_bytes) {
    throw scenario_error({file_, 1, 1}, "the file has " + std::to_string(text.size()) +
                                            " bytes, more than the limit of " +
                                            std::to_string(limits_.max_file_bytes) +
                                            " (raise it with --max-file-bytes)");
  }
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = utf8_sequence(text, i);
    if (n == 0 || text[i] == '\0') {
      const auto [line, column] = line_and_column(text, i);
      throw scenario_error({file_, line, column},
                           "not valid UTF-8 text (byte " + std::to_string(i) + ")");
    }
    i += n;
  }
  try {
    std::istringstream in(text);
    YAML::Parser events(in);
    strict_scan scan(file_, limits_.max_yaml_nodes);
    while (events.HandleNextDocument(scan)) {
    }
    if (!scan.has_content) {
      const bool blank = text.find_first_not_of(" \t\r\n") == std::string::npos;
      throw scenario_error({file_, 1, 1},
                           blank ? "the file is empty" : "the file has no content, only comments");
    }
    return YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    throw scenario_error({file_, e.mark.line + 1, e.mark.column + 1}, e.msg);
  }
}

}  // namespace linksim::harness::detail
