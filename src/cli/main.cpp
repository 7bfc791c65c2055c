// The `linksim` command: parses arguments and calls the subcommands in linksim_app.
#include "linksim/app/audit.hpp"
#include "linksim/app/commands.hpp"
#include "linksim/app/run.hpp"
#include "linksim/threads_sim/behaviour.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <iostream>
#include <thread>

#include <unistd.h>

namespace {

// --changes: how the provider's account changes reach the dependent service.
CLI::Option* add_changes_option(CLI::App* cmd, std::string& into, const std::string& help) {
  return cmd->add_option("--changes", into, help)
      ->check(CLI::IsMember({"webhook", "ssf-push", "ssf-poll"}));
}

// The flags that raise the limits on scenario files (harness::limits, docs/scenarios.md).
struct limit_flags {
  linksim::harness::limits limits;
  std::uint64_t days = 366;

  void add_to(CLI::App* cmd) {
    cmd->add_option("--max-file-bytes", limits.max_file_bytes, "Largest scenario file read")
        ->capture_default_str()
        ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 30));
    cmd->add_option("--max-yaml-nodes", limits.max_yaml_nodes,
                    "Most YAML nodes in a file, aliases expanded")
        ->capture_default_str()
        ->check(CLI::Range(std::size_t{1}, std::size_t{100'000'000}));
    cmd->add_option("--max-steps", limits.max_steps, "Most steps once for_each is expanded")
        ->capture_default_str()
        ->check(CLI::Range(std::size_t{1}, std::size_t{10'000'000}));
    cmd->add_option("--max-simulated-days", days, "Most simulated time a scenario advances")
        ->capture_default_str()
        ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{36'500}));
    cmd->add_option("--max-polls", limits.max_polls,
                    "Most reconciliation polls the simulated time implies")
        ->capture_default_str()
        ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1'000'000'000}));
  }
  linksim::harness::limits get() const {
    auto l = limits;
    l.max_simulated_time = std::chrono::days(static_cast<std::int64_t>(days));
    return l;
  }
};

int run_command(int argc, char** argv) {
  CLI::App app{"linksim: an account-identity linkage simulator and test harness"};
  app.set_version_flag("--version", "linksim 0.1.0");
  app.require_subcommand(1);

  linksim::app::serve_options serve;
  auto* serve_cmd = app.add_subcommand(
      "serve", "Run the identity provider, the dependent service and the ad platform on loopback");
  std::string data_dir = serve.data_dir.string();
  serve_cmd->add_option("--data-dir", data_dir, "Where the SQLite files live")
      ->capture_default_str();
  serve_cmd->add_option("--bind", serve.bind, "Address to listen on")->capture_default_str();
  serve_cmd->add_option("--idp-port", serve.idp_port, "IdP port; 0 picks a free one")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  serve_cmd
      ->add_option("--threads-port", serve.threads_port,
                   "Dependent service port; 0 picks a free one")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  serve_cmd->add_option("--ads-port", serve.ads_port, "Ad platform port; 0 picks a free one")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  std::vector<std::string> profiles;
  for (const auto& b : linksim::threads_sim::behaviours()) profiles.push_back(b.name);
  serve_cmd->add_option("--profile", serve.profile, "The dependent service's behaviour profile")
      ->capture_default_str()
      ->check(CLI::IsMember(profiles));
  double reconcile_seconds = 300;
  serve_cmd
      ->add_option("--reconcile-interval", reconcile_seconds,
                   "Seconds between polls of the provider for each profile")
      ->capture_default_str()
      ->check(CLI::Range(1.0, 86400.0));
  serve_cmd
      ->add_option("--idp-threads", serve.idp_threads,
                   "Request threads of the identity provider (handled in parallel)")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  serve_cmd
      ->add_option("--webhook-batch", serve.webhook_batch,
                   "Changes per webhook request: 1, or up to 1000 as Meta may batch them")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  std::string serve_changes = "webhook";
  add_changes_option(serve_cmd, serve_changes,
                     "How account changes reach the dependent service: the provider's webhooks, "
                     "or its Shared Signals stream pushed or polled")
      ->capture_default_str();
  bool no_demo = false;
  serve_cmd->add_flag("--no-demo", no_demo, "Do not create demo accounts and the demo client");
  serve_cmd->add_flag("--evidence-sync", serve.evidence_sync,
                      "Write each evidence entry to disk before answering (default: within 10 ms)");
  std::uint64_t seed = 0;
  auto* seed_opt =
      serve_cmd->add_option("--seed", seed, "Reproducible ids and tokens (testing only)");
  serve_cmd->add_option("--admin-token", serve.admin_token,
                        "Admin API token (default: kept in <data dir>/admin-token)");

  auto* evidence_cmd = app.add_subcommand("evidence", "Work with an evidence log");
  evidence_cmd->require_subcommand(1);
  auto* verify_cmd = evidence_cmd->add_subcommand("verify", "Check an evidence log offline");
  linksim::app::verify_options verify;
  std::string verify_dir = "linksim-data", verify_log;
  verify_cmd->add_option("--data-dir", verify_dir, "Data directory holding evidence/evidence.db")
      ->capture_default_str();
  verify_cmd->add_option("--log", verify_log, "An evidence database (overrides --data-dir)");
  auto* key_opt = verify_cmd->add_option(
      "--key", verify.key,
      "The verifier key you trust, name+hash+base64 (as linksim serve prints)");
  auto* key_file_opt =
      verify_cmd->add_option("--key-file", verify.key_file, "A file holding the verifier key");
  auto* beside_opt = verify_cmd->add_flag("--key-beside-log", verify.key_beside_log,
                                          "Use the evidence.pub beside the log (warns: it proves "
                                          "only that the log agrees with itself)");
  key_opt->excludes(key_file_opt)->excludes(beside_opt);
  key_file_opt->excludes(beside_opt);
  verify_cmd->add_flag("--allow-unsigned-tail", verify.allow_unsigned_tail,
                       "Accept entries after the newest checkpoint as unverified, and count them");
  auto* witness_opt = verify_cmd->add_option(
      "--witness", verify.witness,
      "JSON file of checkpoints seen before ({\"checkpoints\": [...]}): refuse a rollback or fork");
  verify_cmd
      ->add_flag("--update-witness", verify.update_witness,
                 "Add the log's newest checkpoint to the witness file once the log verifies")
      ->needs(witness_opt);
  std::string verify_proof;
  auto* proof_opt = verify_cmd->add_option(
      "--proof", verify_proof, "Check a proof file (linksim evidence prove) instead of a log");
  std::uint64_t verify_entry = 0;
  auto* verify_entry_opt =
      verify_cmd->add_option("--entry", verify_entry, "With --proof: the entry it must prove")
          ->needs(proof_opt);
  proof_opt->excludes(witness_opt);

  auto* prove_cmd = evidence_cmd->add_subcommand(
      "prove", "Write a proof that checks with the key alone, without the log");
  linksim::app::prove_options prove;
  std::string prove_log, prove_out;
  prove_cmd->add_option("--log", prove_log, "The evidence database")->required();
  std::uint64_t prove_entry = 0, prove_from = 0;
  auto* prove_entry_opt = prove_cmd->add_option(
      "--entry", prove_entry, "Prove this entry is in the tree of the newest checkpoint");
  auto* prove_from_opt = prove_cmd->add_option(
      "--from", prove_from,
      "Prove the tree of this many entries is a prefix of the newest checkpoint's");
  prove_entry_opt->excludes(prove_from_opt);
  prove_cmd->add_option("--out", prove_out, "Write the proof here (default: standard output)");

  auto* run_cmd =
      app.add_subcommand("run", "Run scenario files or folders in the deterministic simulation");
  std::vector<std::string> run_paths;
  run_cmd->add_option("paths", run_paths, "Scenario files (*.yaml) or folders of them")->required();
  std::uint64_t run_seed = 0;
  auto* run_seed_opt =
      run_cmd->add_option("--seed", run_seed, "Seed for every scenario (overrides theirs)");
  std::string run_profile;
  auto* run_profile_opt =
      run_cmd
          ->add_option("--profile", run_profile,
                       "Behaviour profile for every scenario (overrides theirs)")
          ->check(CLI::IsMember(profiles));
  std::string run_changes = "webhook";
  add_changes_option(run_cmd, run_changes,
                     "How account changes reach the dependent service: the provider's webhooks, "
                     "or its Shared Signals stream pushed or polled (a scenario told over others "
                     "only is skipped)")
      ->capture_default_str();
  bool real_http = false;
  bool trace = false;
  run_cmd->add_flag("--trace", trace, "Print every flow of a failing scenario");
  run_cmd->add_flag("--real-http", real_http,
                    "Carry every message over loopback HTTP sockets (the clock stays virtual)");
  limit_flags run_limits;
  run_limits.add_to(run_cmd);

  auto* fuzz_cmd = app.add_subcommand(
      "fuzz", "Run random linkage histories and check the invariants after each");
  linksim::app::fuzz_options fuzz;
  fuzz_cmd->add_option("--seeds", fuzz.fuzz.seeds, "How many seeds to try")
      ->capture_default_str()
      ->check(CLI::Range(1, 10'000'000));
  fuzz_cmd->add_option("--first-seed", fuzz.fuzz.first_seed, "The first seed")
      ->capture_default_str();
  fuzz_cmd->add_option("--profile", fuzz.fuzz.profile, "The dependent service's behaviour profile")
      ->capture_default_str()
      ->check(CLI::IsMember(profiles));
  fuzz_cmd->add_option("--accounts", fuzz.fuzz.accounts, "Provider accounts per history")
      ->capture_default_str()
      ->check(CLI::Range(1, 50));
  fuzz_cmd->add_option("--operations", fuzz.fuzz.operations, "Random operations per history")
      ->capture_default_str()
      ->check(CLI::Range(0, 10'000));
  fuzz.fuzz.jobs = std::max(1u, std::thread::hardware_concurrency());
  fuzz_cmd->add_option("--jobs", fuzz.fuzz.jobs, "Seeds run at once (default: one per core)")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  std::string fuzz_save;
  fuzz_cmd->add_option("--save", fuzz_save,
                       "Folder to write the shortened failing history to (default: print it)");

  auto* audit_cmd = app.add_subcommand(
      "audit", "Check every claim of the public documents against the simulated behaviour");
  linksim::app::audit_options audit;
  std::string audit_catalogue = audit.catalogue.string(), audit_out = audit.out.string(),
              audit_seeds;
  std::vector<std::string> audit_scenarios;
  audit_cmd->add_option("--claims", audit_catalogue, "The claims catalogue")->capture_default_str();
  audit_cmd->add_option("--scenarios", audit_scenarios,
                        "Scenario files or folders (default: the catalogue's folder)");
  audit_cmd->add_option("--seeds", audit_seeds,
                        "Folder of the quoted documents (default: seeds/ beside the catalogue)");
  auto* audit_profile_opt =
      audit_cmd->add_option("--profile", audit.profiles, "Behaviour profile (repeatable)")
          ->check(CLI::IsMember(profiles));
  auto* audit_all_opt = audit_cmd->add_flag("--all-profiles", audit.all_profiles,
                                            "Every behaviour profile: the full matrix");
  audit_profile_opt->excludes(audit_all_opt);
  audit_cmd->add_option("--as-of", audit.as_of,
                        "Judge only the claims in force on this date (YYYY-MM-DD) and list the "
                        "flows no claim in force discloses");
  audit_cmd->add_option("--since", audit.since,
                        "With --as-of: list the claims that changed between this date and it");
  audit_cmd->add_flag("--strict", audit.strict,
                      "Fail on undisclosed flows and on flows observed but not declared (or "
                      "declared but not observed), besides unexpected verdicts");
  std::string audit_changes = "webhook";
  add_changes_option(audit_cmd, audit_changes,
                     "How account changes reach the dependent service in every run (scenarios "
                     "told over other channels only are not run)")
      ->capture_default_str();
  audit_cmd->add_option("--out", audit_out, "Folder for the reports and the evidence logs")
      ->capture_default_str();
  audit.jobs = std::max(1u, std::thread::hardware_concurrency());
  audit_cmd->add_option("--jobs", audit.jobs, "Scenario runs at once (default: one per core)")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  limit_flags audit_limits;
  audit_limits.add_to(audit_cmd);

  auto* explain_cmd = app.add_subcommand(
      "explain", "Draw a scenario's HTTP exchanges (Mermaid) and narrate the linkage");
  linksim::app::explain_options explain;
  std::string explain_path;
  explain_cmd->add_option("scenario", explain_path, "A scenario file")->required();
  std::uint64_t explain_seed = 0;
  auto* explain_seed_opt = explain_cmd->add_option("--seed", explain_seed, "Seed (overrides)");
  std::string explain_profile;
  auto* explain_profile_opt =
      explain_cmd->add_option("--profile", explain_profile, "Behaviour profile (overrides)")
          ->check(CLI::IsMember(profiles));
  explain_cmd->add_flag("--mermaid", explain.mermaid_only, "Print only the diagram source");
  explain_cmd->add_flag("--with-checks", explain.include_checks,
                        "Also draw the reads the scenario's expectations make");
  std::string explain_changes;
  auto* explain_changes_opt = add_changes_option(
      explain_cmd, explain_changes,
      "How account changes reach the dependent service: webhooks, or Shared Signals pushed or "
      "polled (default: the first the scenario is told over)");
  limit_flags explain_limits;
  explain_limits.add_to(explain_cmd);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "linksim: " << e.what() << "\n\n" << app.help() << std::flush;
    return 2;
  }

  try {
    if (*serve_cmd) {
      serve.data_dir = data_dir;
      serve.demo = !no_demo;
      serve.changes = *linksim::threads_sim::channel_from(serve_changes);
      serve.reconcile_interval =
          std::chrono::milliseconds(static_cast<std::int64_t>(reconcile_seconds * 1000));
      if (*seed_opt) serve.seed = seed;
      return linksim::app::serve(serve, std::cout);
    }
    if (*run_cmd) {
      linksim::app::run_options ro;
      for (const auto& p : run_paths) ro.paths.emplace_back(p);
      if (*run_seed_opt) ro.seed = run_seed;
      if (*run_profile_opt) ro.profile = run_profile;
      ro.changes = *linksim::threads_sim::channel_from(run_changes);
      ro.real_http = real_http;
      ro.trace = trace;
      ro.limits = run_limits.get();
      return linksim::app::run(ro, std::cout, std::cerr);
    }
    if (*fuzz_cmd) {
      fuzz.save = fuzz_save;
      fuzz.terminal = isatty(STDERR_FILENO) != 0;
      return linksim::app::fuzz(fuzz, std::cout, std::cerr);
    }
    if (*audit_cmd) {
      audit.catalogue = audit_catalogue;
      audit.changes = *linksim::threads_sim::channel_from(audit_changes);
      audit.out = audit_out;
      audit.seeds = audit_seeds;
      for (const auto& p : audit_scenarios) audit.scenarios.emplace_back(p);
      audit.limits = audit_limits.get();
      return linksim::app::audit(audit, std::cout, std::cerr);
    }
    if (*explain_cmd) {
      explain.scenario = explain_path;
      if (*explain_seed_opt) explain.seed = explain_seed;
      if (*explain_profile_opt) explain.profile = explain_profile;
      explain.limits = explain_limits.get();
      if (*explain_changes_opt)
        explain.changes = *linksim::threads_sim::channel_from(explain_changes);
      return linksim::app::explain(explain, std::cout, std::cerr);
    }
    if (*verify_cmd) {
      verify.log = verify_log.empty() ? linksim::app::evidence_db(verify_dir)
                                      : std::filesystem::path(verify_log);
      verify.proof = verify_proof;
      if (*verify_entry_opt) verify.entry = verify_entry;
      return linksim::app::evidence_verify(verify, std::cout);
    }
    if (*prove_cmd) {
      prove.log = prove_log;
      prove.out = prove_out;
      if (*prove_entry_opt) prove.entry = prove_entry;
      if (*prove_from_opt) prove.from_size = prove_from;
      return linksim::app::evidence_prove(prove, std::cout, std::cerr);
    }
  } catch (const std::exception& e) {
    std::cerr << "linksim: " << e.what() << "\n";
    return 1;
  }
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  // What the subcommands throw is caught in run_command; this catches what setting up the
  // command line might, so that no exception ends the process without a message.
  try {
    return run_command(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "linksim: " << e.what() << "\n";
  } catch (...) {
    std::cerr << "linksim: an unexpected error\n";
  }
  return 1;
}
