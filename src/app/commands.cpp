// `linksim serve` and `linksim evidence verify`.
#include "linksim/app/commands.hpp"

#include "demo.hpp"

#include "linksim/app/ads_host.hpp"
#include "linksim/app/idp_host.hpp"
#include "linksim/app/threads_host.hpp"
#include "linksim/app/wire_tap.hpp"
#include "linksim/common/json.hpp"
#include "linksim/common/random.hpp"
#include "linksim/evidence/log.hpp"
#include "linksim/evidence/proof.hpp"
#include "linksim/net/server.hpp"
#include "linksim/sim/world.hpp"
#include "linksim/store/sqlite.hpp"
#include "linksim/threads_sim/service.hpp"

#include <algorithm>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

namespace linksim::app {
namespace {

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// Writes a file only its owner can read: it holds a secret.
void write_secret(const std::filesystem::path& p, const std::string& content) {
  {
    // Created with no permission for others, so that it is never readable by them even briefly.
    const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0) ::close(fd);
    std::ofstream out(p, std::ios::trunc);
    if (!out) throw std::runtime_error("cannot write " + p.string());
    out << content << "\n";
  }
  std::filesystem::permissions(
      p, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

}  // namespace

namespace {

// Moves a data directory's evidence from the older layout, with the signing key beside the log.
void move_older_layout(const std::filesystem::path& data_dir) {
  namespace fs = std::filesystem;
  const auto old_db = data_dir / "evidence.db";
  if (fs::exists(old_db) && !fs::exists(evidence_db(data_dir))) {
    for (const char* suffix : {"", "-wal", "-shm"}) {
      const fs::path from = old_db.string() + suffix;
      if (fs::exists(from)) fs::rename(from, evidence_db(data_dir).string() + suffix);
    }
  }
  if (fs::exists(data_dir / "evidence.key") && !fs::exists(evidence_key_file(data_dir)))
    fs::rename(data_dir / "evidence.key", evidence_key_file(data_dir));
  fs::remove(data_dir / "evidence.pub");
}

}  // namespace

evidence::note_signer load_signer(const std::filesystem::path& data_dir, random_source& random) {
  for (const auto& d : {evidence_dir(data_dir), evidence_key_file(data_dir).parent_path()}) {
    std::filesystem::create_directories(d);
    std::filesystem::permissions(d, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::replace);
  }
  move_older_layout(data_dir);
  const auto key_file = evidence_key_file(data_dir);
  evidence::note_signer signer{evidence_key_name, {}};
  if (std::filesystem::exists(key_file)) {
    auto seed = base64_decode(read_file(key_file));
    if (!seed || seed->size() != 32)
      throw std::runtime_error(key_file.string() + ": not a base64 Ed25519 key of 32 bytes");
    signer.key = ed25519_key::from_seed(std::span<const std::uint8_t, 32>(seed->data(), 32));
  } else {
    signer.key = ed25519_key::generate(random);
    write_secret(key_file, base64_encode(signer.key.seed));
  }
  // Public, but written like the rest: every file in the data folder is its owner's alone.
  write_secret(evidence_pub_file(data_dir), signer.verifier_key());
  return signer;
}

namespace {

std::string admin_token_for(const serve_options& o, random_source& random) {
  if (!o.admin_token.empty()) return o.admin_token;
  const auto file = o.data_dir / "admin-token";
  if (std::filesystem::exists(file)) return read_file(file);
  std::string token = random.token(24);
  write_secret(file, token);
  return token;
}

}  // namespace

std::filesystem::path evidence_dir(const std::filesystem::path& d) {
  return d / "evidence";
}
std::filesystem::path evidence_db(const std::filesystem::path& d) {
  return evidence_dir(d) / "evidence.db";
}
std::filesystem::path evidence_key_file(const std::filesystem::path& d) {
  return d / "keys" / "evidence.key";
}
std::filesystem::path evidence_pub_file(const std::filesystem::path& d) {
  return evidence_dir(d) / "evidence.pub";
}

int serve(const serve_options& o, std::ostream& out, const std::function<void()>& wait_for_stop) {
  const auto rules = threads_sim::find_behaviour(o.profile);
  if (!rules) throw std::runtime_error("unknown behaviour profile: " + o.profile);
  // Caught before anything says the services are ready: a signal sent as soon as the last line
  // below is printed stops them in order, as one sent later does.
  std::optional<net::termination_signals> signals;
  if (!wait_for_stop) signals.emplace();
  // The folder holds secrets (client and webhook secrets, tokens, the evidence signing key):
  // its owner alone may enter it, and each file in it is the owner's alone (docs/security.md).
  std::filesystem::create_directories(o.data_dir);
  std::filesystem::permissions(o.data_dir, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::replace);
  auto random = make_random(o.seed);
  system_clock clock;
  const auto signer = load_signer(o.data_dir, *random);
  evidence::log evidence(
      evidence_db(o.data_dir),
      "linksim/" + signer.verifier_key().substr(std::string(evidence_key_name).size() + 1, 8),
      signer, evidence::durability{.every_append = o.evidence_sync, .sign_writes = true});
  const auto verifier = evidence::note_verifier::parse(signer.verifier_key());
  const std::string admin_token = admin_token_for(o, *random);
  // Every request one service makes of another goes through the tap, and every request a
  // service's server answers is shown to it: it logs what each message carried as observed
  // flows beside what the services declare, once per message.
  wire_tap tap(evidence, clock, random->token(32));

  // The tokens the company's systems use with each other; new at every start, since each side
  // learns them here.
  const std::string threads_at_idp = random->token(16), ads_at_idp = random->token(16),
                    threads_at_ads = random->token(16), idp_at_ads = random->token(16);

  idp_host_options io;
  io.database = o.data_dir / "idp.db";
  io.internal_tokens = {{"threads", threads_at_idp}, {"ads", ads_at_idp}};
  io.bind = o.bind;
  io.port = o.idp_port;
  io.rules = sim::idp_rules_of(*rules);
  io.admin_token = admin_token;
  io.password = o.password;
  io.threads = o.idp_threads;
  io.webhook_batch = o.webhook_batch;
  io.observe = tap.inbound_for("idp");
  idp_host idp(io, clock, *random, evidence, &tap.transport_for("idp", io.client_timeout));
  const std::string base = idp.base_url();
  tap.name(base, "idp");

  std::optional<demo_setup> demo;
  if (o.demo) {
    demo = seed_demo(idp.service(), base);
    idp.set_front(demo_pages(idp.service(), *demo, base));
  }
  idp.start();

  // The company's ad platform, which the dependent service sends activity to.
  ads_host_options ao;
  ao.database = o.data_dir / "ads.db";
  ao.bind = o.bind;
  ao.port = o.ads_port;
  ao.admin_token = admin_token;
  ao.idp_url = base;
  ao.internal_token = ads_at_idp;
  ao.systems = {{"threads", threads_at_ads}, {"idp", idp_at_ads}};
  ao.rules = sim::ads_rules_of(*rules);
  ao.observe = tap.inbound_for("ads");
  ads_host ads(ao, clock, evidence, &tap.transport_for("ads", ao.client_timeout));
  tap.name(ads.base_url(), "ads");
  ads.start();

  // The dependent service: an OAuth client of the provider, subscribed to its webhooks.
  threads_host_options to;
  to.database = o.data_dir / "threads.db";
  to.bind = o.bind;
  to.port = o.threads_port;
  to.admin_token = admin_token;
  to.idp_url = base;
  to.verify_token = random->token(16);
  to.rules = *rules;
  to.reconcile_interval = o.reconcile_interval;
  to.changes = o.changes;
  to.internal_token = threads_at_idp;
  to.ads_url = ads.base_url();
  to.ads_token = threads_at_ads;
  to.observe = tap.inbound_for("threads");
  auto& provider = idp.service();
  threads_host threads(
      to, clock, *random, evidence,
      [&](const std::string& url, const std::optional<client_credentials>& previous) {
        const std::string redirect = url + "/callback";
        if (previous) {
          // Reused while its redirect URI still matches: tokens issued to it keep working.
          auto c = provider.get_client(previous->id);
          if (c && c->secret == previous->secret &&
              std::find(c->redirect_uris.begin(), c->redirect_uris.end(), redirect) !=
                  c->redirect_uris.end())
            return *previous;
        }
        auto c = provider.register_client({.name = "Threads-style service",
                                           .system = "threads",
                                           .redirect_uris = {redirect},
                                           .deauthorize_url = url + "/ig/deauthorize",
                                           .data_deletion_url = url + "/ig/data-deletion",
                                           // It reads no ID token.
                                           .id_token_signed_response_alg = "EdDSA"});
        if (!c) throw std::runtime_error("cannot register the service: " + c.error().message());
        return client_credentials{c->id, c->secret};
      },
      &tap.transport_for("threads", to.client_timeout));
  tap.name(threads.base_url(), "threads");
  threads.start();
  if (o.changes == threads_sim::channel::webhook) {
    const std::vector<std::string> fields(std::begin(webhook_fields), std::end(webhook_fields));
    if (auto sub =
            provider.subscribe(threads.client().id, threads.base_url() + "/webhooks/instagram",
                               to.verify_token, fields);
        !sub)
      throw std::runtime_error("webhook subscription failed: " + sub.error().message());
  }

  out << "linksim: data in " << o.data_dir.string() << "\n";
  out << "idp: " << base << "\n";
  out << "threads: " << threads.base_url() << "  (behaviour profile " << rules->name
      << "; account changes by " << threads_sim::to_string(o.changes) << ")\n";
  out << "ads: " << ads.base_url() << "  (the company's ad platform; see docs/ads.md)\n";
  out << "admin token: " << admin_token << "  (Authorization: Bearer ...; see docs/idp_api.md)\n";
  if (demo) {
    out << "try: open " << threads.base_url() << ", choose Log in with Instagram and log in as";
    for (const auto& u : demo->usernames) out << " " << u;
    out << " (password " << demo->password << ")\n";
    out << "demo: open " << base << "/demo and log in as";
    for (const auto& u : demo->usernames) out << " " << u;
    out << " (password " << demo->password << ")\n";
    out << "demo client: client_id " << demo->client.id << ", client_secret " << demo->client.secret
        << ", redirect_uri " << demo->client.redirect_uris.front() << "\n";
  }
  out << "evidence: " << evidence_db(o.data_dir).string() << ", " << evidence.size()
      << " entries, every write signed\n";
  out << "evidence key: " << signer.verifier_key() << "\n";
  out << "evidence key fingerprint: " << verifier->fingerprint() << "\n";
  out << "verify with: linksim evidence verify --data-dir " << o.data_dir.string() << " --key '"
      << signer.verifier_key() << "'\n";
  out << "Press Ctrl-C to stop." << std::endl;

  if (wait_for_stop)
    wait_for_stop();
  else
    signals->wait();

  // The provider first: stopping answers the long poll the dependent service keeps open, so
  // that service's poller is free to stop at once. What the provider could not deliver stays
  // in its outbox.
  idp.stop();
  threads.stop();
  ads.stop();
  evidence.checkpoint();
  out << "linksim: stopped; evidence log signed at " << evidence.size() << " entries" << std::endl;
  return 0;
}

namespace {

// The checkpoints of a witness file; an absent file holds none.
result<std::vector<std::string>> read_witness(const std::filesystem::path& file) {
  if (!std::filesystem::exists(file)) return std::vector<std::string>{};
  std::ifstream in(file, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  const auto o = json::parse_object(ss.str());
  const auto* list = o ? o->if_contains("checkpoints") : nullptr;
  if (!list || !list->is_array()) return make_error_code(errc::bad_json);
  std::vector<std::string> notes;
  for (const auto& v : list->as_array()) {
    if (!v.is_string()) return make_error_code(errc::bad_json);
    notes.emplace_back(v.as_string());
  }
  return notes;
}

void write_witness(const std::filesystem::path& file, const std::vector<std::string>& notes) {
  boost::json::array list;
  for (const auto& n : notes) list.emplace_back(n);
  const auto tmp = file.string() + ".tmp";
  {
    std::ofstream o(tmp, std::ios::binary | std::ios::trunc);
    if (!o) throw std::runtime_error("cannot write " + tmp);
    o << json::serialize(boost::json::object{{"checkpoints", std::move(list)}}) << "\n";
    if (!o.flush()) throw std::runtime_error("cannot write " + tmp);
  }
  std::filesystem::rename(tmp, file);  // whole or not at all
}

}  // namespace

int evidence_prove(const prove_options& o, std::ostream& out, std::ostream& err) {
  if (o.entry.has_value() == o.from_size.has_value()) {
    err << "linksim evidence prove: give --entry N (inclusion) or --from N (consistency)\n";
    return 1;
  }
  if (!std::filesystem::exists(o.log)) {
    err << "linksim evidence prove: no evidence log at " << o.log.string() << "\n";
    return 1;
  }
  const auto report = [&] {
    try {
      return o.entry ? evidence::prove_inclusion(o.log, *o.entry)
                     : evidence::prove_consistency(o.log, *o.from_size);
    } catch (const store::error&) {
      return result<std::string>(boost::system::in_place_error, make_error_code(errc::not_found));
    }
  }();
  if (!report) {
    err << "linksim evidence prove: " << o.log.string() << " has no checkpoint covering "
        << (o.entry ? "entry " + std::to_string(*o.entry)
                    : "a tree of " + std::to_string(*o.from_size) + " entries")
        << " (or is not a readable evidence log): run linksim evidence verify on it\n";
    return 1;
  }
  if (o.out.empty()) {
    out << *report << "\n";
  } else {
    std::ofstream f(o.out, std::ios::binary | std::ios::trunc);
    f << *report << "\n";
    if (!f.flush()) {
      err << "linksim evidence prove: cannot write " << o.out.string() << "\n";
      return 1;
    }
  }
  return 0;
}

int evidence_verify(const verify_options& o, std::ostream& out) {
  const auto fail = [&](const std::string& why) {
    out << "linksim evidence verify: " << why << "\n";
    return 1;
  };
  const int sources =
      (o.key.empty() ? 0 : 1) + (o.key_file.empty() ? 0 : 1) + (o.key_beside_log ? 1 : 0);
  if (sources == 0)
    return fail(
        "give the verifier key you trust: --key 'name+hash+base64' or --key-file FILE (as "
        "printed by linksim serve or in an audit report), or --key-beside-log to use the "
        "evidence.pub found beside the log");
  if (sources > 1) return fail("give one of --key, --key-file and --key-beside-log");
  std::string key = o.key;
  std::string key_source = "given with --key";
  if (!o.key_file.empty() || o.key_beside_log) {
    const auto file = o.key_beside_log ? o.log.parent_path() / "evidence.pub" : o.key_file;
    if (!std::filesystem::exists(file)) return fail("no key file " + file.string());
    key = read_file(file);
    key_source = "read from " + file.string();
  }
  const auto verifier = evidence::note_verifier::parse(key);
  if (!verifier) return fail("not a verifier key (name+hash+base64): " + key);
  if (!o.proof.empty()) {
    if (!std::filesystem::exists(o.proof)) return fail("no proof file " + o.proof.string());
    const auto r = evidence::check_proof(read_file(o.proof), *verifier);
    out << "proof: " << o.proof.string() << " (" << (r.kind.empty() ? "unreadable" : r.kind)
        << ")\n";
    out << "key: " << key << " (" << key_source << ")\n";
    out << "key fingerprint: " << verifier->fingerprint() << "\n";
    if (r.signed_head)
      out << "checkpoint: " << r.signed_head->origin << ", size " << r.signed_head->size
          << ", root " << to_hex(r.signed_head->root) << "\n";
    auto problems = r.problems;
    if (o.entry && r.kind == "inclusion" && r.index != *o.entry)
      problems.push_back("the proof is for entry " + std::to_string(r.index) + ", not " +
                         std::to_string(*o.entry));
    if (o.entry && r.kind != "inclusion") problems.push_back("--entry needs an inclusion proof");
    if (!problems.empty()) {
      for (const auto& p : problems) out << "FAIL: " << p << "\n";
      return 1;
    }
    if (r.kind == "inclusion")
      out << "OK: entry " << r.index << " is in the log the checkpoint signs:\n" << r.entry << "\n";
    else
      out << "OK: the log's first " << r.from_size
          << " entries are a prefix of the tree the checkpoint signs\n";
    return 0;
  }
  std::vector<std::string> witness;
  if (!o.witness.empty()) {
    auto w = read_witness(o.witness);
    if (!w)
      return fail(o.witness.string() +
                  " is not a witness file: it must be JSON {\"checkpoints\": [\"<signed note>\", "
                  "...]}");
    witness = std::move(*w);
  }
  const auto report = evidence::verify(
      o.log, *verifier, {.allow_unsigned_tail = o.allow_unsigned_tail, .witness = witness});
  out << "evidence log: " << o.log.string() << "\n";
  out << "key: " << key << " (" << key_source << ")\n";
  out << "key fingerprint: " << verifier->fingerprint() << "\n";
  if (o.key_beside_log)
    out << "WARNING: the key was found beside the log, so whoever could change the log could "
           "have changed the key too: this shows only that the log agrees with itself. Compare "
           "the fingerprint with one you got another way.\n";
  out << "entries: " << report.entries << "\n";
  out << "checkpoints: " << report.checkpoints;
  if (report.latest) {
    out << " (latest: size " << report.latest->size << ", root " << to_hex(report.latest->root)
        << ")";
  }
  out << "\n";
  if (!o.witness.empty())
    out << "witness: " << o.witness.string() << ", " << report.witnessed
        << " checkpoints of this log seen before, each a prefix of it\n";
  if (!report.ok()) {
    for (const auto& p : report.problems) out << "FAIL: " << p << "\n";
    return 1;
  }
  if (report.unsigned_tail > 0)
    out << "UNVERIFIED: " << report.unsigned_tail << " entries after the newest checkpoint (from "
        << "index " << report.latest->size
        << ") are not covered by any signature; accepted because of --allow-unsigned-tail\n";
  out << "OK: every entry hashes to its leaf, every checkpoint is signed by " << verifier->name
      << " and extends the one before, and the newest covers "
      << (report.unsigned_tail ? "every entry before the unverified ones" : "every entry") << "\n";
  if (o.update_witness && report.latest) {
    if (std::find(witness.begin(), witness.end(), report.latest_note) == witness.end()) {
      witness.push_back(report.latest_note);
      write_witness(o.witness, witness);
      out << "witness updated: " << o.witness.string() << " now holds " << witness.size()
          << " checkpoints\n";
    }
  }
  return 0;
}

}  // namespace linksim::app
