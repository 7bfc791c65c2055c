// The `linksim` subcommands as functions, so tests can run them without a process.
#pragma once

#include "linksim/common/crypto.hpp"
#include "linksim/common/random.hpp"
#include "linksim/evidence/checkpoint.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>

namespace linksim::app {

struct serve_options {
  std::filesystem::path data_dir = "linksim-data";
  std::string bind = "127.0.0.1";
  std::uint16_t idp_port = 0;
  std::uint16_t threads_port = 0;
  std::uint16_t ads_port = 0;
  std::string profile = "documented";  // the dependent service's behaviour profile
  std::chrono::milliseconds reconcile_interval = std::chrono::minutes(5);
  bool demo = true;
  std::optional<std::uint64_t> seed;  // reproducible tokens and ids; never for real use
  std::string admin_token;            // default: kept in <data dir>/admin-token
  password_cost password;
  bool evidence_sync = false;     // write each evidence entry before answering (slower)
  std::size_t idp_threads = 2;    // the provider's request threads
  std::size_t webhook_batch = 1;  // changes per webhook request (Meta batches up to 1 000)
};

// Runs the services until `stop_requested` returns true (by default: until SIGINT/SIGTERM).
// Prints each service's base URL, the admin token and the demo logins to `out`. Returns the
// process exit status; throws on start-up failures.
int serve(const serve_options& options, std::ostream& out,
          const std::function<void()>& wait_for_stop = {});

struct verify_options {
  std::filesystem::path log;  // the evidence database
  std::string key;  // a verifier key "name+hash+base64"; empty: read <log dir>/evidence.pub
};
// Checks the log offline; prints what it found. 0 if it verifies, 1 if not.
int evidence_verify(const verify_options& options, std::ostream& out);

// The evidence log's files in a data directory, and its signer (created on first use).
std::filesystem::path evidence_db(const std::filesystem::path& data_dir);
std::filesystem::path evidence_key_file(const std::filesystem::path& data_dir);
std::filesystem::path evidence_pub_file(const std::filesystem::path& data_dir);
// The signer of the evidence logs in `dir`: its key is read from evidence.key there, or made
// from `random` and kept there on first use; evidence.pub is (re)written beside it.
evidence::note_signer load_signer(const std::filesystem::path& dir, random_source& random);

}  // namespace linksim::app
