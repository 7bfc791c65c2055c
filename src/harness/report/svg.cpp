// A sequence diagram of flows as inline SVG, for the HTML report.
#include "common.hpp"

namespace linksim::harness {
using namespace report_format;

std::string flows_svg(const std::vector<cited_flow>& flows) {
  std::vector<std::string> systems;
  for (const auto& f : flows)
    for (const auto& s : {f.from, f.to})
      if (std::find(systems.begin(), systems.end(), s) == systems.end()) systems.push_back(s);
  const int col = 190, row = 34, top = 40;
  const int width = std::max(1, static_cast<int>(systems.size())) * col + 40;
  const int height = top + static_cast<int>(flows.size()) * row + 20;
  auto x_of = [&](const std::string& s) {
    const auto i = std::find(systems.begin(), systems.end(), s) - systems.begin();
    return 20 + col / 2 + static_cast<int>(i) * col;
  };
  std::ostringstream out;
  out << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
      << "\" font-family=\"sans-serif\" font-size=\"11\" role=\"img\">"
      << "<defs><marker id=\"a\" markerWidth=\"8\" markerHeight=\"8\" refX=\"7\" refY=\"4\" "
         "orient=\"auto\"><path d=\"M0,0 L8,4 L0,8 z\"/></marker></defs>";
  for (const auto& s : systems) {
    const int x = x_of(s);
    out << "<rect x=\"" << x - 60 << "\" y=\"4\" width=\"120\" height=\"22\" rx=\"4\" "
        << "fill=\"#eef\" stroke=\"#446\"/><text x=\"" << x << "\" y=\"19\" "
        << "text-anchor=\"middle\">" << html::escape(s) << "</text><line x1=\"" << x
        << "\" y1=\"26\" x2=\"" << x << "\" y2=\"" << height - 6
        << "\" stroke=\"#99a\" stroke-dasharray=\"4\"/>";
  }
  for (std::size_t i = 0; i < flows.size(); ++i) {
    const auto& f = flows[i];
    const int y = top + static_cast<int>(i) * row + 14;
    int x1 = x_of(f.from), x2 = x_of(f.to);
    if (x1 == x2) x2 = x1 + 40;
    std::string cats;
    for (const auto& c : f.categories) cats += (cats.empty() ? "" : ", ") + c;
    out << "<line x1=\"" << x1 << "\" y1=\"" << y << "\" x2=\"" << x2 << "\" y2=\"" << y
        << "\" stroke=\"#224\" marker-end=\"url(#a)\"/><text x=\"" << (x1 + x2) / 2 << "\" y=\""
        << y - 4 << "\" text-anchor=\"middle\">" << i + 1 << ". #" << f.leaf << " " << f.at << " "
        << html::escape(f.channel) << " [" << html::escape(f.subject) << "]</text><text x=\""
        << (x1 + x2) / 2 << "\" y=\"" << y + 11 << "\" text-anchor=\"middle\" fill=\"#555\">"
        << html::escape(cats) << "</text>";
  }
  out << "</svg>";
  return out.str();
}

}  // namespace linksim::harness
