// Tests of the JSON helpers: parsing objects (also into scratch memory), and the quoting that hot
// paths use instead of building an object.
#include "linksim/common/json.hpp"

#include <boost/json/serialize.hpp>

#include <gtest/gtest.h>

namespace linksim::json {
namespace {

TEST(ParseObject, TakesObjectsOnly) {
  auto o = parse_object(R"({"a":1,"b":"x"})");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->at("a").as_int64(), 1);
  for (const char* bad : {"[1]", "\"s\"", "1", "{\"a\":", "", "{} {}"}) {
    auto r = parse_object(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error(), make_error_code(errc::bad_json)) << bad;
  }
  EXPECT_TRUE(is_object(R"({"a":[1,2]})"));
  EXPECT_FALSE(is_object("[]"));
}

// An object in scratch memory reads and writes as one in the default storage, also when it
// outgrows the scratch's buffer on the stack.
// Boost.JSON reads 1e400 as infinity and would write it back as `Infinity`, which is not JSON
// (found by fuzz_bodies): a body with a number out of a double's range is refused.
TEST(ParseObject, RefusesNumbersBeyondADouble) {
  for (const char* text : {R"({"c":0.5e322})", R"({"a":[1,2,{"b":-1e400}]})"}) {
    EXPECT_FALSE(parse_object(text)) << text;
    EXPECT_FALSE(is_object(text)) << text;
  }
  const auto ok = parse_object(R"({"a":[1.5,{"b":1e300}],"c":-2})");
  ASSERT_TRUE(ok);
  EXPECT_TRUE(parse_object(serialize(*ok)));
}

TEST(Scratch, HoldsWhatTheDefaultStorageHolds) {
  std::string text = "{";
  for (int i = 0; i < 300; ++i) {
    if (i) text += ',';
    text += "\"key_number_" + std::to_string(i) + "\":\"a value long enough to need memory " +
            std::to_string(i) + "\"";
  }
  text += '}';
  ASSERT_GT(text.size(), 4096u * 4);
  scratch memory;
  auto in_scratch = parse_object(text, memory.storage());
  auto in_heap = parse_object(text);
  ASSERT_TRUE(in_scratch);
  ASSERT_TRUE(in_heap);
  EXPECT_EQ(*in_scratch, *in_heap);
  EXPECT_EQ(serialize(*in_scratch), text);
  EXPECT_EQ(in_scratch->at("key_number_299").as_string(), "a value long enough to need memory 299");

  boost::json::object built(memory.storage());
  built["name"] = "alice";
  built["version"] = 3;
  EXPECT_EQ(serialize(built), R"({"name":"alice","version":3})");
}

// append_quoted writes what Boost.JSON's serializer writes for the same string.
TEST(AppendQuoted, WritesWhatTheSerializerWrites) {
  const std::string samples[] = {"",
                                 "plain",
                                 "profile_picture",
                                 "with \"quotes\"",
                                 "back\\slash",
                                 std::string("nul\0byte", 8),
                                 "tab\tand\nnewline\x01\x1f",
                                 "caf\xc3\xa9 \xe2\x82\xac",
                                 "\x7f delete stays"};
  auto check = [](const std::string& s) {
    std::string out = "x";
    append_quoted(out, s);
    EXPECT_EQ(out, "x" + boost::json::serialize(boost::json::string_view(s.data(), s.size()))) << s;
  };
  for (const auto& s : samples) check(s);
  // Each character that needs an escape, and its neighbours that do not, at every position of
  // strings one to twenty bytes long (the scan reads eight bytes at a time).
  for (const char c :
       {'"', '\\', '\0', '\x1f', ' ', '!', '#', '[', ']', '\x7f', '\x80', '\xa2', '\xdc'})
    for (std::size_t n = 1; n <= 20; ++n)
      for (std::size_t at = 0; at < n; ++at) {
        std::string s(n, 'a');
        s[at] = c;
        check(s);
      }
}

}  // namespace
}  // namespace linksim::json
