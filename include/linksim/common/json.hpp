// Reading request bodies as JSON with errors a client can act on, and writing JSON responses.
#pragma once

#include "linksim/common/error.hpp"
#include "linksim/common/http.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace linksim::json {

// Memory for JSON that lives only as long as one call: a buffer on the stack first, then blocks
// from the heap, all given back at once when the scratch goes. A value built or parsed on it
// (`boost::json::object o(s.storage())`) makes no heap allocation per key and string while it
// fits, where the default storage makes one each. Values on it must not outlive it.
class scratch {
 public:
  scratch() = default;
  scratch(const scratch&) = delete;
  scratch& operator=(const scratch&) = delete;
  boost::json::storage_ptr storage() { return &memory_; }

 private:
  unsigned char buffer_[4096];
  boost::json::monotonic_resource memory_{buffer_, sizeof buffer_};
};

// Whether every number in `v` is finite. Boost.JSON reads a number beyond the range of a double
// (1e400) as infinity and writes it back as `Infinity`, which is not JSON: such input is refused.
bool finite_numbers(const boost::json::value& v);

// Parses `text` as a JSON object: errc::bad_json otherwise (a number out of a double's range
// included). The object lives in `sp`'s memory.
result<boost::json::object> parse_object(std::string_view text, boost::json::storage_ptr sp = {});

// Whether `text` is one JSON object: parsed into scratch memory, nothing kept.
bool is_object(std::string_view text);

// Optional typed fields: nullopt when absent; errc::bad_field when present with another type.
result<std::optional<std::string>> get_string(const boost::json::object& o, std::string_view key);
result<std::optional<std::int64_t>> get_int(const boost::json::object& o, std::string_view key);

// Every JSON body of every service carries only the fields its endpoint reads: the message
// naming the first key of `o` not in `known` ("unknown field 'x' (known: a, b)"), or nullopt.
std::optional<std::string> unknown_field(const boost::json::object& o,
                                         std::span<const std::string_view> known);
inline std::optional<std::string> unknown_field(const boost::json::object& o,
                                                std::initializer_list<std::string_view> known) {
  return unknown_field(o, std::span<const std::string_view>(known.begin(), known.size()));
}

std::string serialize(const boost::json::value& v);

// Appends `s` as a JSON string (quotes and escapes), byte for byte as serialize() writes it: for
// hot paths that write a fixed shape of object straight into text instead of building a
// boost::json::object first.
void append_quoted(std::string& out, std::string_view s);

// A response with a JSON body and `Content-Type: application/json`.
http::response response(int status, const boost::json::value& body);

// What a service answers when its own storage fails under a request: 503 with Retry-After: 1 and
// the error code `storage_unavailable`, so that the caller retries rather than gives up.
http::response storage_unavailable();

}  // namespace linksim::json
