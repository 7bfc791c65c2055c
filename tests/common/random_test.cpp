// Tests of the random sources: seeded streams repeat, the CSPRNG does not.
#include "linksim/common/random.hpp"

#include <gtest/gtest.h>

#include <set>

namespace linksim {
namespace {

TEST(SeededRandom, SameSeedGivesSameStream) {
  seeded_random a(42), b(42), c(43);
  const std::string ta = a.token(), tb = b.token(), tc = c.token();
  EXPECT_EQ(ta, tb);
  EXPECT_NE(ta, tc);
  EXPECT_EQ(ta.size(), 43u);  // 32 bytes, unpadded base64url
  EXPECT_EQ(a.next_u64(), b.next_u64());
}

TEST(SeededRandom, StreamDoesNotDependOnReadSizes) {
  seeded_random a(7), b(7);
  std::uint8_t whole[40], parts[40];
  a.fill(whole);
  b.fill(std::span(parts, 3));
  b.fill(std::span(parts + 3, 37));
  EXPECT_TRUE(std::equal(std::begin(whole), std::end(whole), std::begin(parts)));
}

TEST(SeededRandom, UniformStaysInRange) {
  seeded_random r(9);
  std::set<std::uint64_t> seen;
  for (int i = 0; i < 1000; ++i) {
    const auto v = r.uniform(6);
    ASSERT_LT(v, 6u);
    seen.insert(v);
  }
  EXPECT_EQ(seen.size(), 6u);
}

TEST(SystemRandom, TokensDiffer) {
  system_random r;
  EXPECT_NE(r.token(), r.token());
}

}  // namespace
}  // namespace linksim
