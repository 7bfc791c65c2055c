// The ad platform's domain over an in-memory repository: no SQLite, no world. What the domain
// asks of storage, and in which units of work, is all the repository interfaces let it do.
#include "linksim/ads/repositories.hpp"
#include "linksim/ads/service.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

namespace linksim::ads {
namespace {

struct memory_store final : repositories, activity_repository, impression_repository {
  struct row {
    std::int64_t subject;
    std::string from, text, purpose;
  };
  std::vector<row> rows;
  std::map<std::int64_t, std::string> opt_outs;
  std::vector<std::int64_t> transcripts;
  std::vector<std::pair<std::string, std::string>> shown;  // campaign, viewer
  int begun = 0, committed = 0;

  struct work final : store::unit_of_work {
    explicit work(memory_store& s) : s_(s) { ++s_.begun; }
    void commit() override { ++s_.committed; }
    memory_store& s_;
  };
  store::work_scope begin() override { return std::make_unique<work>(*this); }
  activity_repository& activity() override { return *this; }
  impression_repository& impressions() override { return *this; }

  void add(const ads::activity& a, time_point) override {
    for (const auto& p : a.purposes) rows.push_back({a.subject, a.from_system, a.text, p});
  }
  void add_opt_out(std::int64_t s, std::string_view from, std::string_view, time_point) override {
    opt_outs.emplace(s, from);
  }
  bool opted_out(std::int64_t s) override { return opt_outs.count(s) > 0; }
  void add_transcript(std::int64_t s, std::string_view, std::string_view, time_point) override {
    transcripts.push_back(s);
  }
  void for_each_advertising(
      std::int64_t s,
      const std::function<void(std::string_view, std::string_view)>& each) override {
    for (const auto& r : rows)
      if (r.subject == s && r.purpose.starts_with("marketing.advertising")) each(r.text, r.from);
  }
  std::int64_t count(std::int64_t s) override {
    return std::count_if(rows.begin(), rows.end(), [&](const row& r) { return r.subject == s; });
  }
  std::int64_t erase(std::int64_t s) override {
    const auto n = count(s);
    std::erase_if(rows, [&](const row& r) { return r.subject == s; });
    std::erase_if(transcripts, [&](std::int64_t t) { return t == s; });
    opt_outs.erase(s);
    return n;
  }
  std::int64_t total() override { return static_cast<std::int64_t>(shown.size()); }
  void add(std::string_view campaign, std::int64_t viewer, std::string_view, bool,
           time_point) override {
    shown.emplace_back(campaign, std::to_string(viewer));
  }
  counts count_campaign(std::string_view campaign) override {
    counts c;
    std::vector<std::string> seen;
    for (const auto& [k, v] : shown)
      if (k == campaign) {
        ++c.impressions;
        if (std::find(seen.begin(), seen.end(), v) == seen.end()) seen.push_back(v);
      }
    c.reach = static_cast<std::int64_t>(seen.size());
    return c;
  }
  std::vector<std::int64_t> viewers(std::string_view campaign) override {
    std::vector<std::int64_t> ids;
    for (const auto& [k, v] : shown)
      if (k == campaign && !v.starts_with("erased-") &&
          std::find(ids.begin(), ids.end(), std::stoll(v)) == ids.end())
        ids.push_back(std::stoll(v));
    return ids;
  }
  std::int64_t count_viewer(std::int64_t viewer) override {
    const auto id = std::to_string(viewer);
    return std::count_if(shown.begin(), shown.end(), [&](const auto& s) { return s.second == id; });
  }
  void pseudonymize(std::int64_t viewer) override {
    const auto id = std::to_string(viewer);
    for (auto& s : shown)
      if (s.second == id) s.second = "erased-" + id;
  }
};

struct no_network final : http::transport {
  result<http::response> send(http::request) override {
    return make_error_code(errc::upstream_unavailable);
  }
};

struct recording final : evidence::recorder {
  std::vector<evidence::flow> flows;
  void record(const evidence::flow& f) override { flows.push_back(f); }
};

struct AdDomain : ::testing::Test {
  AdDomain() {
    cfg.campaigns = default_campaigns();
    cfg.partners = default_partners();
  }
  service make() { return service(repos, clock, log, net, cfg); }
  memory_store repos;
  manual_clock clock{time_point{}};
  recording log;
  no_network net;
  config cfg;
};

TEST_F(AdDomain, ActivityArrivesOneRowPerPurposeInOneUnitOfWork) {
  auto s = make();
  ASSERT_TRUE(s.ingest({42,
                        "threads",
                        "post",
                        "a hike",
                        "dev-1",
                        {std::string(purpose_targeted), std::string(purpose_personalize)}}));
  EXPECT_EQ(repos.rows.size(), 2U);
  EXPECT_EQ(repos.begun, 1);
  EXPECT_EQ(repos.committed, 1);
  EXPECT_FALSE(s.ingest({42, "threads", "", "", "", {std::string(purpose_targeted)}}));
  EXPECT_EQ(repos.begun, 1) << "a refused activity begins no unit of work";
}

TEST_F(AdDomain, WithoutTheProviderASponsoredPostIsNotPersonalizedAndTheCampaignsTakeTurns) {
  auto s = make();
  ASSERT_TRUE(
      s.ingest({42, "threads", "post", "a mountain trail", "d", {std::string(purpose_targeted)}}));
  std::vector<std::string> picked;
  for (int i = 0; i < 3; ++i) {
    auto p = s.sponsored_for(42, "threads", "threads", true);
    ASSERT_TRUE(p);
    EXPECT_FALSE(p->personalized) << "the provider's ad settings could not be read";
    picked.push_back(p->campaign);
  }
  EXPECT_EQ(picked, (std::vector<std::string>{"trail-shoes", "espresso", "city-bikes"}));
  ASSERT_FALSE(log.flows.empty());
  EXPECT_EQ(log.flows.back().purpose, purpose_contextual);
  EXPECT_TRUE(log.flows.back().categories.empty());
}

TEST_F(AdDomain, ErasureTakesTheActivityAndKeepsThePseudonymousCountsInOneUnitOfWork) {
  auto s = make();
  ASSERT_TRUE(s.ingest({42, "threads", "post", "x", "d", {std::string(purpose_targeted)}}));
  ASSERT_TRUE(s.train(42, "threads", "hello"));
  s.opt_out(42, "threads", "gpc");
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(s.sponsored_for(42, "threads", "threads", false));
  const int begun = repos.begun;
  EXPECT_EQ(s.erase(42), 1);
  EXPECT_EQ(repos.begun, begun + 1);
  EXPECT_EQ(repos.committed, repos.begun);
  const auto held = s.held_about(42);
  EXPECT_EQ(held.activity, 0);
  EXPECT_EQ(held.impressions, 0);
  EXPECT_FALSE(held.opted_out);
  EXPECT_TRUE(repos.transcripts.empty());
  EXPECT_EQ(repos.total(), 3) << "impressions stay, under a pseudonym";
  EXPECT_TRUE(repos.viewers("trail-shoes").empty());
}

TEST_F(AdDomain, AKeptRuleLeavesTheActivityWhereItIs) {
  cfg.rules.erase_ads_on_deletion = false;
  auto s = make();
  ASSERT_TRUE(s.ingest({42, "threads", "post", "x", "d", {std::string(purpose_targeted)}}));
  EXPECT_EQ(s.erase(42), 0);
  EXPECT_EQ(s.held_about(42).activity, 1);
}

TEST_F(AdDomain, ReportsCountFromTheRepositoryAndSuppressSmallGroups) {
  auto s = make();
  // Three viewers see each campaign once: trail-shoes, espresso, city-bikes in turn.
  for (std::int64_t v : {1, 2, 3, 4, 5, 6, 7, 8, 9})
    ASSERT_TRUE(s.sponsored_for(v, "threads", "threads", false));
  auto r = s.report("partner-acme", "trail-shoes");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->impressions, 3);
  EXPECT_EQ(r->reach, 3);
  EXPECT_FALSE(r->suppressed);
  EXPECT_TRUE(r->viewers.empty());
  cfg.min_group_size = 4;
  auto strict = make();
  r = strict.report("partner-acme", "trail-shoes");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->suppressed);
  EXPECT_EQ(r->impressions, 0);
  EXPECT_FALSE(s.report("partner-acme", "espresso")) << "bean-co's campaign";
}

}  // namespace
}  // namespace linksim::ads
