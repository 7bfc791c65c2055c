// `linksim serve` and `linksim evidence verify`.
#include "linksim/app/commands.hpp"

#include "demo.hpp"

#include "linksim/app/ads_host.hpp"
#include "linksim/app/idp_host.hpp"
#include "linksim/app/threads_host.hpp"
#include "linksim/common/random.hpp"
#include "linksim/evidence/log.hpp"
#include "linksim/net/server.hpp"
#include "linksim/sim/world.hpp"
#include "linksim/threads_sim/service.hpp"

#include <algorithm>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <sstream>

namespace linksim::app {
namespace {

constexpr const char* evidence_key_name = "linksim-evidence";

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

evidence::note_signer load_signer(const std::filesystem::path& dir, random_source& random) {
  const auto key_file = evidence_key_file(dir);
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
  write_secret(evidence_pub_file(dir), signer.verifier_key());
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

std::filesystem::path evidence_db(const std::filesystem::path& d) {
  return d / "evidence.db";
}
std::filesystem::path evidence_key_file(const std::filesystem::path& d) {
  return d / "evidence.key";
}
std::filesystem::path evidence_pub_file(const std::filesystem::path& d) {
  return d / "evidence.pub";
}

int serve(const serve_options& o, std::ostream& out, const std::function<void()>& wait_for_stop) {
  const auto rules = threads_sim::find_behaviour(o.profile);
  if (!rules) throw std::runtime_error("unknown behaviour profile: " + o.profile);
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
      signer, evidence::durability{.every_append = o.evidence_sync});
  const std::string admin_token = admin_token_for(o, *random);

  // The tokens the company's systems use with each other; new at every start, since each side
  // learns them here.
  const std::string threads_at_idp = random->token(16), ads_at_idp = random->token(16),
                    threads_at_ads = random->token(16), idp_at_ads = random->token(16);

  idp_host_options io;
  io.database = o.data_dir / "idp.db";
  io.internal_tokens = {{"threads", threads_at_idp}, {"ads", ads_at_idp}};
  io.bind = o.bind;
  io.port = o.idp_port;
  io.admin_token = admin_token;
  io.password = o.password;
  io.threads = o.idp_threads;
  io.webhook_batch = o.webhook_batch;
  idp_host idp(io, clock, *random, evidence);
  const std::string base = idp.base_url();

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
  ads_host ads(ao, clock, evidence);
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
  to.internal_token = threads_at_idp;
  to.ads_url = ads.base_url();
  to.ads_token = threads_at_ads;
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
                                           .data_deletion_url = url + "/ig/data-deletion"});
        if (!c) throw std::runtime_error("cannot register the service: " + c.error().message());
        return client_credentials{c->id, c->secret};
      });
  threads.start();
  const std::vector<std::string> fields(std::begin(webhook_fields), std::end(webhook_fields));
  if (auto sub = provider.subscribe(threads.client().id, threads.base_url() + "/webhooks/instagram",
                                    to.verify_token, fields);
      !sub)
    throw std::runtime_error("webhook subscription failed: " + sub.error().message());

  out << "linksim: data in " << o.data_dir.string() << "\n";
  out << "idp: " << base << "\n";
  out << "threads: " << threads.base_url() << "  (behaviour profile " << rules->name << ")\n";
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
  out << "evidence: " << evidence_db(o.data_dir).string()
      << " (verify with: linksim evidence verify --data-dir " << o.data_dir.string() << ")\n";
  out << "Press Ctrl-C to stop." << std::endl;

  if (wait_for_stop)
    wait_for_stop();
  else
    net::wait_for_termination_signal();

  threads.stop();
  ads.stop();
  idp.stop();
  evidence.checkpoint();
  out << "linksim: stopped; evidence log signed at " << evidence.size() << " entries" << std::endl;
  return 0;
}

int evidence_verify(const verify_options& o, std::ostream& out) {
  std::string key = o.key;
  if (key.empty()) {
    const auto pub = evidence_pub_file(o.log.parent_path());
    if (!std::filesystem::exists(pub)) {
      out << "linksim evidence verify: no --key given and no " << pub.string() << "\n";
      return 1;
    }
    key = read_file(pub);
  }
  const auto verifier = evidence::note_verifier::parse(key);
  if (!verifier) {
    out << "linksim evidence verify: not a verifier key (name+hash+base64): " << key << "\n";
    return 1;
  }
  const auto report = evidence::verify(o.log, *verifier);
  out << "evidence log: " << o.log.string() << "\n";
  out << "key: " << key << "\n";
  out << "entries: " << report.entries << "\n";
  out << "checkpoints: " << report.checkpoints;
  if (report.latest) {
    out << " (latest: size " << report.latest->size << ", root " << to_hex(report.latest->root)
        << ")";
  }
  out << "\n";
  if (report.ok()) {
    if (report.latest && report.latest->size < report.entries) {
      out << "note: " << report.entries - report.latest->size
          << " newest entries are not covered by a checkpoint yet\n";
    }
    out << "OK: every entry hashes to its leaf, every checkpoint is signed by " << verifier->name
        << " and each is consistent with the one before\n";
    return 0;
  }
  for (const auto& p : report.problems) out << "FAIL: " << p << "\n";
  return 1;
}

}  // namespace linksim::app
