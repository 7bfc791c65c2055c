// The words scenario files and their reports share: where a problem is, the name of each kind of
// action, and durations as scenarios write them.
#include "linksim/harness/scenario.hpp"

#include <charconv>

namespace linksim::harness {

std::string location::str() const {
  if (line == 0) return file;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

std::string_view to_string(action a) {
  switch (a) {
    case action::create:
      return "create";
    case action::rename:
      return "rename";
    case action::set_name:
      return "set_name";
    case action::set_bio:
      return "set_bio";
    case action::set_picture:
      return "set_picture";
    case action::set_status:
      return "set_status";
    case action::delete_account:
      return "delete_account";
    case action::remove_app:
      return "remove_app";
    case action::follow:
      return "follow";
    case action::unfollow:
      return "unfollow";
    case action::sign_up:
      return "sign_up";
    case action::edit:
      return "edit";
    case action::post:
      return "post";
    case action::like:
      return "like";
    case action::follow_on_threads:
      return "follow_on_threads";
    case action::unfollow_on_threads:
      return "unfollow_on_threads";
    case action::delete_profile:
      return "delete_profile";
    case action::request:
      return "request";
    case action::feed:
      return "feed";
    case action::ask_assistant:
      return "ask_assistant";
    case action::ad_settings:
      return "ad_settings";
    case action::instagram_ad:
      return "instagram_ad";
    case action::partner:
      return "partner";
    case action::advance:
      return "advance";
    case action::restart:
      return "restart";
    case action::crash:
      return "crash";
    case action::disk_full:
      return "disk_full";
    case action::outage:
      return "outage";
    case action::fault:
      return "fault";
    case action::expect:
      return "expect";
  }
  return "?";
}

std::optional<milliseconds> parse_duration(std::string_view s) {
  std::int64_t n = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || end == s.data() || n < 0) return std::nullopt;
  const std::string_view unit(end, static_cast<std::size_t>(s.data() + s.size() - end));
  using namespace std::chrono;
  if (unit == "ms") return milliseconds{n};
  if (unit == "s") return duration_cast<milliseconds>(seconds{n});
  if (unit == "m") return duration_cast<milliseconds>(minutes{n});
  if (unit == "h") return duration_cast<milliseconds>(hours{n});
  if (unit == "d") return duration_cast<milliseconds>(hours{24 * n});
  return std::nullopt;
}

std::string format_duration(milliseconds d) {
  const auto ms = d.count();
  if (ms % 86'400'000 == 0 && ms != 0) return std::to_string(ms / 86'400'000) + "d";
  if (ms % 3'600'000 == 0 && ms != 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms % 60'000 == 0 && ms != 0) return std::to_string(ms / 60'000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

}  // namespace linksim::harness
