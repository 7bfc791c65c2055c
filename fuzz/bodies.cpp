// JSON and form bodies: the readers every handler starts with.
#include "common.hpp"

#include "linksim/common/http.hpp"
#include "linksim/common/json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace linksim;
  const std::string_view text = fuzz::as_text(data, size);
  if (auto o = json::parse_object(text)) {
    for (const char* key : {"username", "name", "biography", "callback_url"})
      (void)json::get_string(*o, key);
    // What was read is written back as valid JSON that reads the same.
    const std::string again = json::serialize(*o);
    if (!json::parse_object(again)) abort();
  }
  if (auto form = http::parse_form(text)) {
    bool repeated = false;
    (void)http::find_param(*form, "client_id", &repeated);
    if (!http::parse_form(http::form_encode(*form))) abort();
  }
  (void)http::parse_http_date(text);
  (void)http::retry_after_seconds(text, 0);
  return 0;
}
