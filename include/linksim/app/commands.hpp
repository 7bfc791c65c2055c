// The `linksim` subcommands as functions, so tests can run them without a process.
#pragma once

#include "linksim/common/crypto.hpp"
#include "linksim/common/random.hpp"
#include "linksim/evidence/checkpoint.hpp"
#include "linksim/threads_sim/behaviour.hpp"

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
  // How the provider's account changes reach the dependent service: its webhooks, or its
  // Shared Signals stream, pushed or polled.
  threads_sim::channel changes = threads_sim::channel::webhook;
};

// Runs the services until `stop_requested` returns true (by default: until SIGINT/SIGTERM).
// Prints each service's base URL, the admin token and the demo logins to `out`. Returns the
// process exit status; throws on start-up failures.
int serve(const serve_options& options, std::ostream& out,
          const std::function<void()>& wait_for_stop = {});

struct verify_options {
  std::filesystem::path log;  // the evidence database
  // The verifier key the auditor pins ("name+hash+base64"), given as text, or as a file
  // holding it; or, with key_beside_log, the evidence.pub found beside the log, with a warning
  // that such a key proves only that the log agrees with itself.
  std::string key;
  std::filesystem::path key_file;
  bool key_beside_log = false;
  bool allow_unsigned_tail = false;  // count entries after the newest checkpoint, do not fail
  // A witness file (JSON: {"checkpoints": [notes]}) of checkpoints seen before, kept by the
  // auditor; with update_witness, the log's newest checkpoint is added to it once the log
  // verifies (the file is created if absent).
  std::filesystem::path witness;
  bool update_witness = false;
  // A proof file (linksim evidence prove) to check with the key alone, instead of a log; with
  // `entry`, it must prove that entry.
  std::filesystem::path proof;
  std::optional<std::uint64_t> entry;
};
// Checks the log (or the proof) offline; prints what it found. 0 if it verifies, 1 if not.
int evidence_verify(const verify_options& options, std::ostream& out);

struct prove_options {
  std::filesystem::path log;
  std::optional<std::uint64_t> entry;      // an inclusion proof of this entry
  std::optional<std::uint64_t> from_size;  // or a consistency proof from this tree size
  std::filesystem::path out;               // empty: standard output
};
// Writes a proof from the log: 0, or 1 with a message when there is none to give.
int evidence_prove(const prove_options& options, std::ostream& out, std::ostream& err);

// A data directory's evidence: evidence/ holds the log and its public key, and is what an
// auditor is handed; keys/ holds the signing key, which never leaves.
std::filesystem::path evidence_dir(const std::filesystem::path& data_dir);
std::filesystem::path evidence_db(const std::filesystem::path& data_dir);
std::filesystem::path evidence_key_file(const std::filesystem::path& data_dir);
std::filesystem::path evidence_pub_file(const std::filesystem::path& data_dir);
// The signer of a data directory's evidence log: its key is read from keys/evidence.key, or
// made from `random` and kept there on first use; evidence/evidence.pub is (re)written. A data
// directory of the older layout (evidence.db, evidence.key and evidence.pub at its top) is
// moved into this one first.
evidence::note_signer load_signer(const std::filesystem::path& data_dir, random_source& random);
// The name evidence checkpoints are signed as.
inline constexpr const char* evidence_key_name = "linksim-evidence";

}  // namespace linksim::app
