// The ad platform: contracts that cannot allow a sale, its JSON errors, and partner reports
// that stay aggregate unless a fault profile breaks them. Driven through the simulated world,
// so the provider and the dependent service are real.
#include "linksim/ads/routes.hpp"
#include "linksim/ads/service.hpp"
#include "linksim/common/json.hpp"
#include "linksim/sim/world.hpp"
#include "linksim/store/sqlite.hpp"
#include "linksim/threads_sim/behaviour.hpp"

#include <gtest/gtest.h>

namespace linksim::ads {
namespace {

struct fixture {
  explicit fixture(const std::string& profile)
      : w({.seed = 7, .profile = profile, .in_memory = true}) {}
  http::response call(const std::string& from, std::string method, const std::string& path,
                      const std::string& token, std::string body = {}) {
    http::request r;
    r.method = std::move(method);
    r.target = std::string(sim::world::ads_origin) + path;
    if (!token.empty()) r.headers.set("Authorization", "Bearer " + token);
    if (!body.empty()) {
      r.headers.set("Content-Type", "application/json");
      r.body = std::move(body);
    }
    auto res = w.net().endpoint(from).send(std::move(r));
    EXPECT_TRUE(res) << res.error().message();
    return res ? *res : http::response{};
  }
  // A sponsored post for `account`, personalized or not, shown on Threads.
  void show(std::int64_t account, bool personalize) {
    const auto r = call("threads", "GET",
                        "/v1/sponsored?surface=threads&subject=" + std::to_string(account) +
                            "&personalize=" + (personalize ? "1" : "0"),
                        sim::world::threads_ads_token);
    ASSERT_EQ(r.status, 200) << r.body;
  }
  sim::world w;
};

TEST(AdPlatform, NoContractCanAllowASaleUnlessTheFaultProfileSaysSo) {
  store::database db(":memory:");
  sim::world w({.in_memory = true});
  config c;
  c.partners = {{"broker", "advertiser", "k", {"third_party_sharing.sale"}}};
  c.rules = sim::ads_rules_of(*threads_sim::find_behaviour("documented"));
  EXPECT_THROW(service(db, w.sched().time(), w.evidence(), w.net().endpoint("x"), c),
               std::invalid_argument);
  c.rules = sim::ads_rules_of(*threads_sim::find_behaviour("fault.sale_flow"));
  EXPECT_NO_THROW(service(db, w.sched().time(), w.evidence(), w.net().endpoint("x"), c));
  c.partners = {{"odd", "reseller", "k", {}}};
  EXPECT_THROW(service(db, w.sched().time(), w.evidence(), w.net().endpoint("x"), c),
               std::invalid_argument);
}

TEST(AdPlatform, EveryPlatformErrorHasAStatusAndACode) {
  for (auto e :
       {ads::error::partner_unauthorized, ads::error::outside_contract, ads::error::sale_refused}) {
    const auto info = describe(make_error_code(e));
    EXPECT_GE(info.status, 400);
    EXPECT_NE(info.code, "internal_error");
    EXPECT_NE(info.code, "invalid_request");
  }
}

// linksim's own errors answer as on the provider and the dependent service, and one that no
// table describes is the platform's fault, a 500, never the client's.
TEST(AdPlatform, SharedErrorsAnswerAsOnTheOtherServices) {
  EXPECT_EQ(describe(make_error_code(errc::unsupported_media_type)).status, 415);
  EXPECT_EQ(describe(make_error_code(errc::upstream_unavailable)).status, 503);
  EXPECT_EQ(describe(make_error_code(errc::bad_form)).status, 400);
  EXPECT_EQ(describe(make_error_code(errc::account_deleted)).status, 410);
  const auto undescribed = describe(make_error_code(errc::delivery_not_replayable));
  EXPECT_EQ(undescribed.status, 500);
  EXPECT_EQ(undescribed.code, "internal_error");
}

TEST(AdPlatform, BadRequestsGetJsonErrors) {
  fixture f("documented");
  auto code_of = [](const http::response& r) {
    auto o = json::parse_object(r.body);
    return o ? std::string(o->at("error").at("code").as_string()) : std::string("(not JSON)");
  };
  auto r = f.call("threads", "POST", "/v1/activity", "");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(code_of(r), "unauthorized");
  r = f.call("threads", "POST", "/v1/activity", sim::world::threads_ads_token, "{not json");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(code_of(r), "invalid_request");
  r = f.call("threads", "POST", "/v1/activity", sim::world::threads_ads_token,
             R"({"subject":"5","kind":"post","purposes":[]})");
  EXPECT_EQ(r.status, 400);
  // A field the endpoint does not read is refused and named.
  for (const auto& [path, body] :
       {std::pair{"/v1/activity", R"({"subject":"5","kind":"post","surplus":1})"},
        {"/v1/opt-outs", R"({"subject":"5","source":"user","surplus":1})"},
        {"/v1/deletions", R"({"subject":"5","surplus":1})"},
        {"/v1/ai/transcripts", R"({"subject":"5","transcript":"t","surplus":1})"}}) {
    r = f.call("threads", "POST", path, sim::world::threads_ads_token, body);
    EXPECT_EQ(r.status, 400) << path;
    EXPECT_NE(r.body.find("unknown field 'surplus'"), std::string::npos) << path << " " << r.body;
  }
  r = f.call("partner:x", "POST", "/v1/partners/purchases", "partner-acme",
             R"({"campaign":"espresso","price_cents":5,"surplus":1})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("unknown field 'surplus'"), std::string::npos) << r.body;
  r = f.call("threads", "GET", "/v1/activity", sim::world::threads_ads_token);
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.headers.get("Allow"), "POST");
  r = f.call("partner:x", "GET", "/v1/partners/reports?campaign=espresso", "wrong");
  EXPECT_EQ(r.status, 401);
  r = f.call("partner:x", "GET", "/v1/partners/reports", "partner-measure");
  EXPECT_EQ(r.status, 400);
  r = f.call("partner:x", "GET", "/v1/partners/reports?campaign=nope", "partner-measure");
  EXPECT_EQ(r.status, 404);
  r = f.call("partner:x", "POST", "/v1/partners/purchases", "partner-acme",
             R"({"campaign":"espresso","price_cents":-1})");
  EXPECT_EQ(r.status, 400);
  r = f.call("x", "GET", "/nowhere", "");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(code_of(r), "not_found");
}

// Counts appear once enough distinct people saw a campaign; account ids never, except under
// the fault profile that puts them there.
TEST(AdPlatform, ReportsAreAggregateAndSuppressedBelowTheMinimumGroup) {
  for (const char* profile : {"documented", "fault.partner_user_ids"}) {
    SCOPED_TRACE(profile);
    fixture f(profile);
    std::vector<std::int64_t> ids;
    for (const char* u : {"ann", "bob", "cat", "dee"}) ids.push_back(f.w.create_account(u));
    // Not personalized, the three campaigns take turns: after one round of four impressions
    // trail-shoes has two viewers, after three rounds all four.
    for (auto id : ids) f.show(id, false);
    auto report = [&] {
      auto r = f.call("partner:measure-co", "GET", "/v1/partners/reports?campaign=trail-shoes",
                      "partner-measure");
      EXPECT_EQ(r.status, 200) << r.body;
      return json::parse_object(r.body).value();
    };
    auto o = report();
    EXPECT_TRUE(o.at("suppressed").as_bool()) << json::serialize(o);
    EXPECT_TRUE(o.at("reach").is_null());
    for (int round = 0; round < 2; ++round)
      for (auto id : ids) f.show(id, false);
    o = report();
    EXPECT_FALSE(o.at("suppressed").as_bool()) << json::serialize(o);
    EXPECT_EQ(o.at("reach").to_number<std::int64_t>(), 4);
    EXPECT_EQ(o.contains("viewers"), std::string(profile) == "fault.partner_user_ids");
    // An advertiser asking about another's campaign is refused, and the refusal recorded.
    const auto r = f.call("partner:bean-co", "GET", "/v1/partners/reports?campaign=trail-shoes",
                          "partner-bean");
    EXPECT_EQ(r.status, 403);
    bool recorded = false;
    for (const auto& fl : f.w.evidence().flows())
      recorded = recorded || (fl.from == "partner:bean-co" && fl.channel == "partner.request");
    EXPECT_TRUE(recorded);
  }
}

// Erasure: activity goes, impressions stay without the account id (the reach is unchanged).
TEST(AdPlatform, ErasureKeepsCountsWithoutTheAccount) {
  fixture f("documented");
  const auto id = f.w.create_account("dee");
  ASSERT_EQ(
      f.call(
           "threads", "POST", "/v1/activity", sim::world::threads_ads_token,
           R"({"subject":")" + std::to_string(id) +
               R"(","kind":"post","text":"coffee","device":"d1","purposes":["personalize.content"]})")
          .status,
      202);
  f.show(id, false);
  EXPECT_EQ(f.w.ads().held_about(id).activity, 1);
  EXPECT_EQ(f.w.ads().held_about(id).impressions, 1);
  const auto r = f.call("threads", "POST", "/v1/deletions", sim::world::threads_ads_token,
                        R"({"subject":")" + std::to_string(id) + R"("})");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(f.w.ads().held_about(id).activity, 0);
  EXPECT_EQ(f.w.ads().held_about(id).impressions, 0);  // no longer under the account's id
}

}  // namespace
}  // namespace linksim::ads
