// Reading request bodies as JSON with errors a client can act on, and writing JSON responses.
#pragma once

#include "linksim/common/error.hpp"
#include "linksim/common/http.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace linksim::json {

// Parses `text` as a JSON object: errc::bad_json otherwise.
result<boost::json::object> parse_object(std::string_view text);

// Whether `text` is one JSON object: parsed into scratch memory, nothing kept.
bool is_object(std::string_view text);

// Optional typed fields: nullopt when absent; errc::bad_field when present with another type.
result<std::optional<std::string>> get_string(const boost::json::object& o, std::string_view key);
result<std::optional<std::int64_t>> get_int(const boost::json::object& o, std::string_view key);

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
