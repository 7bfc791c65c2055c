// Tests of the random sources: seeded streams repeat, the CSPRNG does not.
#include "linksim/common/random.hpp"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

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

// The CSPRNG output is handed out from a per-thread block: after a fork, parent and child must
// not both hand out what was left in it.
TEST(SystemRandom, AForkedChildDoesNotRepeatItsParentsTokens) {
  system_random r;
  (void)r.token(16);  // the block now holds unused bytes
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const std::string t = r.token(16);
    const auto n = write(fds[1], t.data(), t.size());
    _exit(n == static_cast<ssize_t>(t.size()) ? 0 : 1);
  }
  close(fds[1]);
  const std::string mine = r.token(16);
  std::string theirs(mine.size() + 8, '\0');
  const auto n = read(fds[0], theirs.data(), theirs.size());
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  theirs.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  EXPECT_EQ(theirs.size(), mine.size());
  EXPECT_NE(theirs, mine);
}

}  // namespace
}  // namespace linksim
