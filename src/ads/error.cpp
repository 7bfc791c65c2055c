// The ad platform's error category: a sentence for every error code, shown to partners.
#include "linksim/ads/error.hpp"

#include <string>

namespace linksim::ads {
namespace {

const char* message_of(error e) {
  switch (e) {
    case error::partner_unauthorized:
      return "the partner key is missing or unknown";
    case error::outside_contract:
      return "the partner's contract does not allow this use of the data";
    case error::sale_refused:
      return "personal data is never exchanged for payment";
  }
  return "unknown linksim.ads error";
}

// Boost's error_category has a protected non-virtual destructor by design.
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "linksim.ads"; }
  std::string message(int ev) const override { return message_of(static_cast<error>(ev)); }
};

}  // namespace

const boost::system::error_category& error_category() noexcept {
  static const category_impl instance;
  return instance;
}

}  // namespace linksim::ads
